// download.cpp - see download.h.
#include "download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "checksum.h"

namespace tito {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// One HTTP request's state, shared with libcurl's callbacks.
struct Transfer {
    CURL* curl = nullptr;
    int fd = -1;
    uint64_t offset = 0;       // bytes already in the .part file when the request started
    uint64_t written = 0;      // bytes this request added
    uint64_t expected = 0;     // the whole file's size, 0 when unknown
    long refused_status = 0;   // a response that is not the file (e.g. 200 to a Range request, 416)
    bool too_big = false;      // the server sent more than the expected size
    int write_errno = 0;
    const DownloadRequest* request = nullptr;
    std::string file;
    Clock::time_point start, last_report;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    // Resuming, only a 206 Partial Content continues the .part file; anything else (a server that
    // ignores Range and sends the whole file, a 416 error page) must not be appended to it.
    if ((t->offset > 0 && status != 206) || (t->offset == 0 && status != 200 && status != 206)) {
        t->refused_status = status;
        return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    if (t->expected > 0 && t->offset + t->written + n > t->expected) {
        t->too_big = true;
        return 0;
    }
    const char* at = data;
    size_t left = n;
    while (left > 0) {
        const ssize_t w = ::write(t->fd, at, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            t->write_errno = w < 0 ? errno : ENOSPC;
            return 0;
        }
        at += w;
        left -= static_cast<size_t>(w);
    }
    t->written += n;
    return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (!t->request->progress) return 0;
    const auto now = Clock::now();
    if (now - t->last_report < std::chrono::milliseconds(100)) return 0;
    t->last_report = now;
    DownloadProgress p;
    p.file = t->file;
    p.bytes = t->offset + t->written;
    p.total = t->expected;
    const double elapsed = seconds_since(t->start);
    p.rate = elapsed > 0 ? static_cast<double>(t->written) / elapsed : 0;
    t->request->progress(p);
    return 0;
}

// Errors worth another try at the same URL: the connection broke, timed out or was refused, or the
// server had a passing problem.
bool transient(CURLcode rc, long status) {
    switch (rc) {
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_GOT_NOTHING:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        case CURLE_HTTP_RETURNED_ERROR:
            return status >= 500 || status == 408 || status == 429;
        default:
            return false;
    }
}

uint64_t file_size(int fd) {
    struct stat st{};
    return ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

void fsync_folder(const fs::path& folder) {
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

void init_curl() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlHandle {
    CURL* handle = curl_easy_init();
    ~CurlHandle() {
        if (handle) curl_easy_cleanup(handle);
    }
};

}  // namespace

std::string human_bytes(uint64_t bytes) {
    char text[32];
    if (bytes < 1000) {
        std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
    } else if (bytes < 1000 * 1000) {
        std::snprintf(text, sizeof text, "%.1f kB", static_cast<double>(bytes) / 1e3);
    } else if (bytes < 1000ull * 1000 * 1000) {
        std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
    } else {
        std::snprintf(text, sizeof text, "%.2f GB", static_cast<double>(bytes) / 1e9);
    }
    return text;
}

DownloadResult download_file(const DownloadRequest& request) {
    init_curl();
    if (request.urls.empty()) throw DownloadError("no URL to download " + request.destination.filename().string() + " from", "the data-set catalog lists none");
    const fs::path folder = request.destination.parent_path().empty() ? fs::path(".") : request.destination.parent_path();
    fs::create_directories(folder);
    const fs::path part = request.destination.string() + ".part";
    const fs::path rejected = request.destination.string() + ".rejected";
    const std::string file = request.destination.filename().string();

    int fd = -1;
    auto open_part = [&](int extra_flags) {
        if (fd >= 0) ::close(fd);
        fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | extra_flags, 0644);
        if (fd < 0) {
            const int err = errno;
            throw UserError("cannot create " + part.string() + ": " + std::strerror(err), os_error_hint(err, folder.string()));
        }
    };
    struct Closer {
        int& fd;
        ~Closer() {
            if (fd >= 0) ::close(fd);
        }
    } closer{fd};
    open_part(0);

    DownloadResult result;
    result.resumed_from = file_size(fd);
    const auto started = Clock::now();
    std::string last_error;
    std::string last_hint = "check the network connection (a proxy is set with https_proxy), or try again later";

    auto restart = [&] {
        if (::ftruncate(fd, 0) != 0) {
            const int err = errno;
            throw UserError("cannot truncate " + part.string() + ": " + std::strerror(err), os_error_hint(err, folder.string()));
        }
    };

    for (size_t u = 0; u < request.urls.size(); ++u) {
        const std::string& url = request.urls[u];
        int failures = 0;
        bool restarted_after_mismatch = false;
        uint64_t resumed_at_start = file_size(fd);
        while (true) {
            uint64_t offset = file_size(fd);
            if (request.expected_size > 0 && offset > request.expected_size) {
                restart();  // longer than the file can be: not a prefix of it
                offset = 0;
            }
            bool complete = request.expected_size > 0 && offset == request.expected_size;
            CURLcode rc = CURLE_OK;
            long status = 0;
            Transfer t;
            if (!complete) {
                if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
                    const int err = errno;
                    throw UserError("cannot seek in " + part.string() + ": " + std::strerror(err), os_error_hint(err, folder.string()));
                }
                CurlHandle curl;
                if (!curl.handle) throw DownloadError("libcurl could not start", "this looks like a bug in tito; report it");
                char error_text[CURL_ERROR_SIZE] = "";
                t.curl = curl.handle;
                t.fd = fd;
                t.offset = offset;
                t.expected = request.expected_size;
                t.request = &request;
                t.file = file;
                t.start = t.last_report = Clock::now();
                curl_easy_setopt(curl.handle, CURLOPT_URL, url.c_str());
                curl_easy_setopt(curl.handle, CURLOPT_PROTOCOLS_STR, "http,https");
                curl_easy_setopt(curl.handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
                curl_easy_setopt(curl.handle, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(curl.handle, CURLOPT_MAXREDIRS, 5L);
                curl_easy_setopt(curl.handle, CURLOPT_FAILONERROR, 1L);
                curl_easy_setopt(curl.handle, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(curl.handle, CURLOPT_CONNECTTIMEOUT, 20L);
                curl_easy_setopt(curl.handle, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled connection:
                curl_easy_setopt(curl.handle, CURLOPT_LOW_SPEED_TIME, 30L);  // nothing for 30 s
                curl_easy_setopt(curl.handle, CURLOPT_USERAGENT, "tito/" TITO_VERSION);
                curl_easy_setopt(curl.handle, CURLOPT_ERRORBUFFER, error_text);
                curl_easy_setopt(curl.handle, CURLOPT_WRITEFUNCTION, on_write);
                curl_easy_setopt(curl.handle, CURLOPT_WRITEDATA, &t);
                curl_easy_setopt(curl.handle, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(curl.handle, CURLOPT_XFERINFODATA, &t);
                curl_easy_setopt(curl.handle, CURLOPT_NOPROGRESS, 0L);
                if (offset > 0) curl_easy_setopt(curl.handle, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(offset));
                ++result.attempts;
                rc = curl_easy_perform(curl.handle);
                curl_easy_getinfo(curl.handle, CURLINFO_RESPONSE_CODE, &status);
                if (t.write_errno != 0)
                    throw UserError("cannot write " + part.string() + ": " + std::strerror(t.write_errno), os_error_hint(t.write_errno, folder.string()));
                const std::string reason = error_text[0] ? error_text : curl_easy_strerror(rc);

                if (rc == CURLE_RANGE_ERROR || (rc == CURLE_WRITE_ERROR && offset > 0 && t.refused_status != 0 && t.refused_status != 416)) {
                    // The server cannot resume: start again from the first byte.
                    if (request.note) request.note(file + ": the server cannot resume a download; starting again from the beginning");
                    restart();
                    continue;
                }
                if (rc == CURLE_WRITE_ERROR && t.refused_status == 416) {
                    // "Range not satisfiable": the .part file may already be the whole file.
                    if (request.expected_size == 0 && offset > 0) {
                        complete = true;
                    } else {
                        restart();
                        continue;
                    }
                } else if (rc == CURLE_WRITE_ERROR && t.too_big) {
                    last_error = "the server sent more than the expected " + std::to_string(request.expected_size) + " bytes";
                    restart();
                    break;  // the next URL
                } else if (rc != CURLE_OK) {
                    if (rc == CURLE_HTTP_RETURNED_ERROR) {
                        last_error = "the server answered HTTP " + std::to_string(status) + " (" + url + ")";
                        last_hint = status == 404 ? "the file is not at that address: check the mirror URL, or try again later"
                                                  : "try again later, or use another mirror";
                    } else {
                        last_error = reason + " (" + url + ")";
                        if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT)
                            last_hint = "check the network connection and the address (a proxy is set with https_proxy)";
                    }
                    if (transient(rc, status) && failures < request.retries) {
                        ++failures;
                        const double delay = request.retry_delay * static_cast<double>(1 << (failures - 1));
                        if (request.note) {
                            const uint64_t have = file_size(fd);
                            request.note(file + ": " + reason + (have > 0 ? " after " + human_bytes(have) : "") + "; retrying in " +
                                         std::to_string(static_cast<int>(delay + 0.5)) + " s (" + std::to_string(failures) + " of " +
                                         std::to_string(request.retries) + ")");
                        }
                        std::this_thread::sleep_for(std::chrono::duration<double>(delay));
                        continue;
                    }
                    break;  // the next URL
                } else if (request.expected_size > 0 && file_size(fd) < request.expected_size) {
                    // The server closed the connection politely but early (no length given).
                    last_error = "the connection ended after " + std::to_string(file_size(fd)) + " of " + std::to_string(request.expected_size) + " bytes (" + url + ")";
                    if (failures < request.retries) {
                        ++failures;
                        std::this_thread::sleep_for(std::chrono::duration<double>(request.retry_delay * static_cast<double>(1 << (failures - 1))));
                        continue;
                    }
                    break;
                }
            }

            // The whole file is in the .part file: check it before it takes its real name.
            if (::fsync(fd) != 0) {
                const int err = errno;
                throw UserError("cannot flush " + part.string() + ": " + std::strerror(err), os_error_hint(err, folder.string()));
            }
            const uint64_t size = file_size(fd);
            if (!request.algorithm.empty()) {
                if (request.progress) {
                    DownloadProgress p;
                    p.file = file;
                    p.bytes = p.total = size;
                    p.checking = true;
                    request.progress(p);
                }
                const std::string digest = file_digest(part, request.algorithm);
                if (digest != request.checksum) {
                    std::error_code ec;
                    fs::rename(part, rejected, ec);
                    if (ec) fs::remove(part, ec);
                    open_part(O_TRUNC);  // a fresh .part file for whatever comes next
                    last_error = file + " from " + url + " is not the expected file: " + request.algorithm + " " + digest + ", expected " +
                                 request.checksum + " (" + std::to_string(size) + " bytes; moved aside to " + rejected.string() + ")";
                    last_hint = "the mirror may hold a different or damaged copy: try again, or another --mirror";
                    if (!restarted_after_mismatch && resumed_at_start > 0) {
                        // Maybe only the part kept from an earlier run was bad: once more from scratch.
                        restarted_after_mismatch = true;
                        resumed_at_start = 0;
                        if (request.note) request.note(file + ": checksum mismatch after resuming; downloading it again from the start");
                        continue;
                    }
                    break;  // the next URL
                }
            }
            fs::rename(part, request.destination);
            fsync_folder(folder);
            result.url = url;
            result.bytes = size;
            result.seconds = seconds_since(started);
            return result;
        }
        if (u + 1 < request.urls.size() && request.note) request.note(file + ": " + last_error + "; trying the next address");
    }
    throw DownloadError("cannot download " + file + ": " + last_error, last_hint);
}

}  // namespace tito
