// local_http_server.cpp - see local_http_server.h.
#include "local_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace e2e {

namespace {

bool send_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

int bind_loopback(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;  // the kernel picks a free port
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        throw std::runtime_error("bind(127.0.0.1:0) failed");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    return fd;
}

}  // namespace

int unused_port() {
    int port = 0;
    const int fd = bind_loopback(port);
    ::close(fd);
    return port;
}

LocalHttpServer::LocalHttpServer() {
    listener_ = bind_loopback(port_);
    if (::listen(listener_, 16) != 0) {
        ::close(listener_);
        throw std::runtime_error("listen() failed");
    }
    thread_ = std::thread([this] { loop(); });
}

LocalHttpServer::~LocalHttpServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
}

void LocalHttpServer::serve(const std::string& path, const std::string& content) {
    std::lock_guard<std::mutex> lock(mutex_);
    routes_[path].content = content;
}

void LocalHttpServer::set_mode(const std::string& path, Mode mode, size_t drop_after, int times, size_t bytes_per_second) {
    std::lock_guard<std::mutex> lock(mutex_);
    Route& route = routes_[path];
    route.mode = mode;
    route.drop_after = drop_after;
    route.times = times;
    route.bytes_per_second = bytes_per_second;
}

std::string LocalHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> LocalHttpServer::requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
}

void LocalHttpServer::loop() {
    while (!stop_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        timeval timeout{5, 0};  // a client that sends nothing does not hold the server for long
        ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        try {
            handle(client);
        } catch (const std::exception&) {
            // A request the server cannot parse (e.g. a malformed Range): the connection just closes.
        }
        ::close(client);
    }
}

void LocalHttpServer::handle(int client) {
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) return;
        request.append(buffer, static_cast<size_t>(n));
    }
    const size_t line_end = request.find("\r\n");
    const std::string first = request.substr(0, line_end);
    const size_t space1 = first.find(' '), space2 = first.find(' ', space1 + 1);
    const std::string method = first.substr(0, space1);
    const std::string path = space1 == std::string::npos ? "" : first.substr(space1 + 1, space2 - space1 - 1);

    std::string range;
    size_t at = line_end + 2;
    while (at < request.size()) {
        const size_t end = request.find("\r\n", at);
        if (end == std::string::npos || end == at) break;
        const std::string header = request.substr(at, end - at);
        const size_t colon = header.find(':');
        if (colon != std::string::npos && lower(header.substr(0, colon)) == "range") {
            range = header.substr(colon + 1);
            range.erase(0, range.find_first_not_of(' '));
        }
        at = end + 2;
    }

    Route route;
    bool known = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(method + " " + path + (range.empty() ? "" : " Range: " + range));
        auto it = routes_.find(path);
        if (it != routes_.end()) {
            known = true;
            route = it->second;
            if (it->second.mode != Mode::normal && it->second.times > 0 && --it->second.times == 0) it->second.mode = Mode::normal;
        }
    }
    auto respond = [&](const std::string& status, const std::string& headers, const std::string& body) {
        const std::string head = "HTTP/1.1 " + status + "\r\nServer: tito-test\r\nConnection: close\r\n" + headers +
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        if (send_all(client, head.data(), head.size()) && method != "HEAD") send_all(client, body.data(), body.size());
    };
    if (method != "GET" && method != "HEAD") return respond("405 Method Not Allowed", "", "only GET\n");
    if (!known) return respond("404 Not Found", "Content-Type: text/plain\r\n", "no such file: " + path + "\n");

    const std::string& content = route.content;
    size_t first_byte = 0, last_byte = content.empty() ? 0 : content.size() - 1;
    bool partial = false;
    if (!range.empty() && route.mode != Mode::ignore_range && range.rfind("bytes=", 0) == 0) {
        const std::string spec = range.substr(6);
        const size_t dash = spec.find('-');
        first_byte = std::stoull(spec.substr(0, dash));
        if (dash + 1 < spec.size()) last_byte = std::min<size_t>(std::stoull(spec.substr(dash + 1)), last_byte);
        if (first_byte >= content.size())
            return respond("416 Range Not Satisfiable", "Content-Range: bytes */" + std::to_string(content.size()) + "\r\n", "");
        partial = true;
    }
    std::string body = content.empty() ? "" : content.substr(first_byte, last_byte - first_byte + 1);
    if (route.mode == Mode::wrong_bytes)
        for (size_t i = 0; i < body.size(); i += 997) body[i] = static_cast<char>(body[i] ^ 0x5a);
    std::string headers = "Content-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\n";
    if (partial) headers += "Content-Range: bytes " + std::to_string(first_byte) + "-" + std::to_string(last_byte) + "/" + std::to_string(content.size()) + "\r\n";
    const std::string status = partial ? "206 Partial Content" : "200 OK";

    if (route.mode == Mode::drop) {
        // The full length is promised, a part is sent, then the connection goes away.
        const std::string head = "HTTP/1.1 " + status + "\r\nServer: tito-test\r\nConnection: close\r\n" + headers +
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        if (send_all(client, head.data(), head.size())) send_all(client, body.data(), std::min(route.drop_after, body.size()));
        return;
    }
    if (route.mode == Mode::slow) {
        const std::string head = "HTTP/1.1 " + status + "\r\nServer: tito-test\r\nConnection: close\r\n" + headers +
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        if (!send_all(client, head.data(), head.size())) return;
        const size_t chunk = std::max<size_t>(1024, route.bytes_per_second / 20);  // 20 pieces a second
        for (size_t sent = 0; sent < body.size() && !stop_; sent += chunk) {
            if (!send_all(client, body.data() + sent, std::min(chunk, body.size() - sent))) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return;
    }
    respond(status, headers, body);
}

}  // namespace e2e
