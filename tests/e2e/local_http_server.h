// local_http_server.h - a small HTTP/1.1 file server on 127.0.0.1 for the download tests: it
// serves byte strings by path, honours Range requests (206, 416), and can misbehave on purpose -
// drop the connection part-way, serve wrong bytes, ignore Range, trickle slowly. Nothing leaves the
// machine: it listens on the loopback address only, on a port the kernel picks.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace e2e {

class LocalHttpServer {
public:
    enum class Mode {
        normal,        // 200, or 206 for a Range request
        drop,          // sends the headers and `drop_after` bytes of the body, then closes
        wrong_bytes,   // the right length, but some bytes changed
        ignore_range,  // always the whole file with 200, as some servers do
        slow,          // at about `bytes_per_second`
    };

    LocalHttpServer();  // listening when constructed; throws std::runtime_error if it cannot
    ~LocalHttpServer();
    LocalHttpServer(const LocalHttpServer&) = delete;
    LocalHttpServer& operator=(const LocalHttpServer&) = delete;

    // Serves `content` at `path` ("/mnist/train-images-idx3-ubyte.gz"); other paths answer 404.
    void serve(const std::string& path, const std::string& content);
    // How `path` misbehaves: for the next `times` requests (-1: always), then normally again.
    void set_mode(const std::string& path, Mode mode, size_t drop_after = 0, int times = -1, size_t bytes_per_second = 1 << 20);

    std::string url() const;  // "http://127.0.0.1:PORT"
    int port() const { return port_; }
    // One line per request so far: "GET /path" plus " Range: bytes=N-" when it had one.
    std::vector<std::string> requests() const;

private:
    struct Route {
        std::string content;
        Mode mode = Mode::normal;
        size_t drop_after = 0;
        int times = -1;
        size_t bytes_per_second = 1 << 20;
    };
    void loop();
    void handle(int client);

    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::map<std::string, Route> routes_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens (bound by the kernel's choice, then closed): a
// download from it is refused at once.
int unused_port();

}  // namespace e2e
