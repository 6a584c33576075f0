// tt_helper_reporter [exit CODE] - a well-behaved test program. Writes result lines with the token
// (plus lines that must be ignored: not JSON, wrong token, a last line without its newline) and
// reports what it sees of its environment: open fds, stdin, working directory, TT_HELPER_VALUE.
#include <dirent.h>
#include <limits.h>

#include <string>

#include "helper_common.h"

int main(int argc, char** argv) {
    int exit_code = argc >= 3 && std::string(argv[1]) == "exit" ? std::atoi(argv[2]) : 0;
    helper::say("hello from the reporter\n");
    helper::write_all(2, "a line on stderr\n");

    std::string fds;
    if (DIR* dir = opendir("/proc/self/fd")) {
        while (dirent* e = readdir(dir)) {
            if (e->d_name[0] == '.' || std::atoi(e->d_name) == dirfd(dir)) continue;
            if (!fds.empty()) fds += ',';
            fds += e->d_name;
        }
        closedir(dir);
    }
    char target[PATH_MAX] = {};
    ssize_t n = readlink("/proc/self/fd/0", target, sizeof target - 1);
    std::string stdin_path = n > 0 ? std::string(target, static_cast<size_t>(n)) : "?";
    char cwd[PATH_MAX] = {};
    if (getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
    const char* value = std::getenv("TT_HELPER_VALUE");

    int fd = helper::result_fd();
    std::string t = helper::token();
    helper::write_all(fd, "{\"token\":\"" + t + "\",\"test\":\"first\",\"passed\":true,\"open_fds\":\"" + fds +
                              "\",\"stdin\":\"" + stdin_path + "\",\"cwd\":\"" + cwd + "\",\"value\":\"" +
                              (value ? value : "") + "\"}\n");
    helper::write_all(fd, "this is not json\n");
    helper::write_all(fd, "{\"token\":\"not-the-token\",\"test\":\"forged\",\"passed\":true}\n");
    helper::write_all(fd, "[\"" + t + "\"]\n");
    helper::write_all(fd, "{\"token\":\"" + t + "\",\"test\":\"second\",\"passed\":false}\n");
    helper::write_all(fd, "{\"token\":\"" + t + "\",\"test\":\"cut off\",\"passed\":true}");  // no newline
    return exit_code;
}
