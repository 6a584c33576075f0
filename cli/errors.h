// errors.h - the one kind of error tito shows a person: a problem they can fix.
//
// Anything the user can act on (unknown module, corrupt progress file, missing compiler, student
// code that does not compile) is thrown as UserError and printed by main() as one line:
//     error: unknown module '42' (hint: `tito module list` shows the 20 modules)
// never as a stack trace. Exit status 2.
#pragma once

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

// Exit statuses shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;     // tests failed, problems found, milestone not reached
inline constexpr int kExitUserError = 2;  // bad input; the message says how to fix it

}  // namespace tito
