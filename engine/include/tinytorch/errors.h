// errors.h - the two kinds of failure in TinyTorch.
//
// 1. A *user mistake* (wrong shapes, a bad dimension, an index out of range) throws tt::Error with
//    a message that names the operation, the shapes involved and how to fix it:
//        matmul: (2, 3) @ (4, 5): inner dimensions 3 and 4 differ
//    Use TT_CHECK(condition, "op", message parts...) for these.
// 2. A *broken invariant* inside the engine (a bug in our code, not the caller's) uses TT_ASSERT,
//    which is always on, also in release builds.
//
// Nothing in the library calls exit(): errors are exceptions so the caller (a test, a trainer,
// the grader) decides what happens next.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tt {

// A user mistake: bad shapes, bad arguments, bad files.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown by every unfinished TODO in a student template. The grader reports it as
// "not implemented: <what>" so a student sees which function is still missing.
class NotImplemented : public Error {
public:
    explicit NotImplemented(const std::string& what)
        : Error("not implemented: " + what + " (replace the TODO with your code)"), what_(what) {}
    const std::string& function() const { return what_; }

private:
    std::string what_;
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}
[[noreturn]] void assert_fail(const char* condition, const char* file, int line, const std::string& message);
}  // namespace detail

}  // namespace tt

// TT_CHECK(cond, "matmul", ": inner dimensions ", k1, " and ", k2, " differ");
// throws tt::Error("matmul: inner dimensions 3 and 4 differ") when cond is false.
#define TT_CHECK(cond, ...)                                            \
    do {                                                               \
        if (!(cond)) throw ::tt::Error(::tt::detail::concat(__VA_ARGS__)); \
    } while (0)

// Always-on internal assertion: a failure is a bug in TinyTorch itself.
#define TT_ASSERT(cond, ...)                                                                   \
    do {                                                                                       \
        if (!(cond))                                                                           \
            ::tt::detail::assert_fail(#cond, __FILE__, __LINE__, ::tt::detail::concat("" __VA_OPT__(, ) __VA_ARGS__)); \
    } while (0)
