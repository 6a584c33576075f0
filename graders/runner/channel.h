// channel.h - how a program that tito runs (a grader, a milestone) reports back to tito.
//
// tito passes a pipe's descriptor in TITO_RESULT_FD and a random token in TITO_RESULT_TOKEN; every
// report is one JSON line carrying the token, so nothing a student's code prints on stdout can be
// mistaken for a result. take_channel() reads and then removes both variables, and marks the
// descriptor close-on-exec, before any student code runs in main().
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace tito_channel {

struct Channel {
    int fd = -1;
    std::string token;
};

inline std::optional<Channel> take_channel() {
    const char* fd_text = std::getenv("TITO_RESULT_FD");
    const char* token = std::getenv("TITO_RESULT_TOKEN");
    if (!fd_text || !token) return std::nullopt;
    Channel channel{std::atoi(fd_text), token};
    unsetenv("TITO_RESULT_FD");
    unsetenv("TITO_RESULT_TOKEN");
    fcntl(channel.fd, F_SETFD, FD_CLOEXEC);  // a process the program starts does not inherit it
    return channel;
}

// Strings in a message may hold anything the student's code produced (invalid UTF-8, NUL): such
// bytes become U+FFFD here instead of making dump() throw, so a report always reaches tito.
inline void report(const Channel& channel, nlohmann::json message) {
    message["token"] = channel.token;
    const std::string line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const char* data = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = write(channel.fd, data, left);
        if (n <= 0) return;
        data += n;
        left -= static_cast<size_t>(n);
    }
}

}  // namespace tito_channel
