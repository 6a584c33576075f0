// helper_common.h - small pieces shared by the sandbox test helpers (tt_helper_*).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace helper {

// write() straight to the fd: a helper may _exit() or be killed, and stdio buffers would be lost.
inline void write_all(int fd, const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

inline void say(const std::string& text) { write_all(1, text); }

inline int result_fd() {
    const char* fd = std::getenv("TITO_RESULT_FD");
    return fd ? std::atoi(fd) : -1;
}

inline std::string token() {
    const char* t = std::getenv("TITO_RESULT_TOKEN");
    return t ? t : "";
}

[[noreturn]] inline void sleep_forever() {
    for (;;) pause();
}

}  // namespace helper
