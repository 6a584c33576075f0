// test_setup.cpp - hidden grader of module 01 (setup): my_identity() and system_check().
//
// Every expected fact is computed here, in the grader, from the same compiler macros and standard
// library calls the student's code should use; identity rules are re-checked independently of the
// [given] identity_problems().
#include <catch2/catch.hpp>

#include <bit>
#include <climits>
#include <limits>
#include <string>
#include <thread>

#include "tinytorch/setup.h"

namespace {

// The compiler as a student's system_check() should name it, and its version numbers.
std::string expected_compiler_family() {
#if defined(__clang__)
    return "Clang";
#elif defined(__GNUC__)
    return "GCC";
#else
    return "";
#endif
}

std::string expected_compiler_version() {
#if defined(__clang__)
    return std::to_string(__clang_major__) + "." + std::to_string(__clang_minor__);
#elif defined(__GNUC__)
    return std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__);
#else
    return "";
#endif
}

bool is_handle_character(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

}  // namespace

TEST_CASE("my_identity has a non-empty name", "[points=1]") {
    const tt::StudentIdentity me = tt::my_identity();
    CAPTURE(me.name);
    CHECK(me.name.find_first_not_of(" \t\r\n") != std::string::npos);
}

TEST_CASE("my_identity handle has 2 to 32 characters from a-z 0-9 _ -", "[points=2]") {
    const tt::StudentIdentity me = tt::my_identity();
    CAPTURE(me.handle);
    CHECK(me.handle.size() >= 2);
    CHECK(me.handle.size() <= 32);
    for (char c : me.handle) {
        CAPTURE(c);
        CHECK(is_handle_character(c));
    }
}

TEST_CASE("my_identity email has one at sign a user part and a dotted domain", "[points=2]") {
    const tt::StudentIdentity me = tt::my_identity();
    const std::string& email = me.email;
    CAPTURE(email);
    const size_t at = email.find('@');
    REQUIRE(at != std::string::npos);
    CHECK(email.find('@', at + 1) == std::string::npos);
    CHECK(at > 0);
    const std::string domain = email.substr(at + 1);
    CAPTURE(domain);
    const size_t dot = domain.find('.');
    CHECK(dot != std::string::npos);
    CHECK(dot != 0);
    CHECK(domain.back() != '.');
    CHECK(email.find_first_of(" \t\r\n") == std::string::npos);
}

TEST_CASE("my_identity returns the same identity on every call", "[points=1]") {
    const tt::StudentIdentity first = tt::my_identity();
    const tt::StudentIdentity second = tt::my_identity();
    CHECK(first.name == second.name);
    CHECK(first.handle == second.handle);
    CHECK(first.email == second.email);
}

TEST_CASE("system_check names the compiler family and version", "[points=2]") {
    const tt::SystemReport report = tt::system_check();
    const std::string family = expected_compiler_family();
    const std::string version = expected_compiler_version();
    INFO("expected something like \"" << family << " " << version << ".x\", from __clang__ / __GNUC__ / __VERSION__");
    CAPTURE(report.compiler);
    CHECK(report.compiler.rfind(family + " ", 0) == 0);
    CHECK(report.compiler.find(version) != std::string::npos);
}

TEST_CASE("system_check reports the C++ standard from __cplusplus", "[points=1]") {
    const tt::SystemReport report = tt::system_check();
    INFO("C++20 code is compiled with __cplusplus == 202002");
    CHECK(report.cpp_standard == static_cast<long>(__cplusplus));
}

TEST_CASE("system_check reports the byte order", "[points=1]") {
    const tt::SystemReport report = tt::system_check();
    const bool little = std::endian::native == std::endian::little;
    CAPTURE(little);
    CHECK(report.little_endian == little);
}

TEST_CASE("system_check reports whether float is IEEE-754 binary32", "[points=1]") {
    const tt::SystemReport report = tt::system_check();
    const bool ieee = std::numeric_limits<float>::is_iec559 && sizeof(float) == 4;
    CAPTURE(ieee);
    CHECK(report.ieee754_float == ieee);
}

TEST_CASE("system_check reports the hardware threads of this machine", "[points=2]") {
    const tt::SystemReport report = tt::system_check();
    const unsigned threads = std::thread::hardware_concurrency();
    INFO("std::thread::hardware_concurrency() is " << threads << " on the machine running the tests");
    CHECK(report.hardware_threads == threads);
}
