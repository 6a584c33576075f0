// identity.cpp - checks the identity a student returns from my_identity() (module 01) [given].
//
// The handle is shown on leaderboards and used in file names of submissions, so it is limited to
// characters that are safe everywhere; the email is only checked for an obviously broken shape.
#include <string>
#include <vector>

#include "tinytorch/setup.h"

namespace tt {

namespace {

bool is_handle_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool has_whitespace(const std::string& text) {
    for (char c : text)
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return true;
    return false;
}

bool only_whitespace(const std::string& text) {
    for (char c : text)
        if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')) return false;
    return true;
}

}  // namespace

std::vector<std::string> identity_problems(const StudentIdentity& identity) {
    std::vector<std::string> problems;

    if (only_whitespace(identity.name))
        problems.push_back("name is empty: put your full name in my_identity(), e.g. \"Ada Lovelace\"");

    const std::string& handle = identity.handle;
    if (handle.empty()) {
        problems.push_back("handle is empty: choose a short handle for leaderboards, e.g. \"ada\"");
    } else {
        if (handle.size() < 2 || handle.size() > 32)
            problems.push_back("handle \"" + handle + "\" is " + std::to_string(handle.size()) +
                               (handle.size() == 1 ? " character" : " characters") + " long: use between 2 and 32");
        for (char c : handle) {
            if (!is_handle_character(c)) {
                problems.push_back("handle \"" + handle + "\" contains '" + std::string(1, c) +
                                   "': use only lowercase letters a-z, digits 0-9, '_' and '-'");
                break;
            }
        }
    }

    const std::string& email = identity.email;
    if (email.empty()) {
        problems.push_back("email is empty: put the address your course knows you by, e.g. \"ada@example.com\"");
    } else {
        const size_t at = email.find('@');
        if (has_whitespace(email)) {
            problems.push_back("email \"" + email + "\" contains a space: remove it");
        }
        if (at == std::string::npos) {
            problems.push_back("email \"" + email + "\" has no '@': write it as name@domain, e.g. \"ada@example.com\"");
        } else if (email.find('@', at + 1) != std::string::npos) {
            problems.push_back("email \"" + email + "\" has more than one '@': keep exactly one");
        } else {
            if (at == 0)
                problems.push_back("email \"" + email + "\" has nothing before the '@': add your user name");
            const std::string domain = email.substr(at + 1);
            const size_t dot = domain.find('.');
            if (dot == std::string::npos || dot == 0 || dot + 1 == domain.size())
                problems.push_back("email \"" + email + "\" needs a domain with a dot after the '@', e.g. \"example.com\"");
        }
    }
    return problems;
}

}  // namespace tt
