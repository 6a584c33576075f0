// errors.h - the one kind of error tito shows a person: a problem they can fix.
//
// Anything the user can act on (unknown module, corrupt progress file, missing compiler, student
// code that does not compile) is thrown as UserError and printed by main() as one line:
//     error: unknown module '42' (hint: `tito module list` shows the 20 modules)
// never as a stack trace. Exit status 2.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tito {

class UserError : public std::runtime_error {
public:
    explicit UserError(const std::string& message, std::string hint = "")
        : std::runtime_error(message), hint_(std::move(hint)) {}
    const std::string& hint() const { return hint_; }

private:
    std::string hint_;
};

// The hint for an operating-system error met while writing files (state, module files, the build
// cache, git): what the person can do about it. `where` is the file or folder concerned.
inline std::string os_error_hint(int error_number, const std::string& where = "") {
    const std::string folder = where.empty() ? "the workspace folder" : where;
    switch (error_number) {
        case EACCES:
        case EPERM:
            return "you cannot write to " + folder + ": check its owner and permissions (`ls -ld " +
                   (where.empty() ? "." : where) + "`), or work in a folder of your own";
        case EROFS:
            return "the file system holding " + folder + " is read-only: work in a writable folder";
        case ENOSPC:
        case EDQUOT:
            return "the disk (or your quota) is full: free some space and run the command again";
        case ENAMETOOLONG:
        case ELOOP:
            return "the path is too long or loops through symbolic links: work in a shorter, plain folder";
        default:
            return "check that the workspace folder exists and that you can write to it";
    }
}

// Throws UserError (with the hint above) unless tito may create files in `folder`. For folders
// that other programs write to, such as the compiler's output in the build cache: their own
// "cannot open output file" would read like a mistake in the student's code.
inline void require_writable_folder(const std::string& folder, const std::string& what) {
    if (::access(folder.c_str(), W_OK) == 0) return;
    const int error_number = errno;
    throw UserError("cannot write to " + what + " " + folder + ": " + std::strerror(error_number), os_error_hint(error_number, folder));
}

// Exit statuses shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;     // tests failed, problems found, milestone not reached
inline constexpr int kExitUserError = 2;  // bad input; the message says how to fix it

}  // namespace tito
