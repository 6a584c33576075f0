// test_setup_visible.cpp - visible tests of module 01 (setup).
//
// These are some of the tests `tito test 01` runs; the hidden ones check the same functions more
// thoroughly. Run them all with:   tito test 01
#include <catch2/catch.hpp>

#include <climits>

#include "tinytorch/setup.h"

TEST_CASE("my_identity returns an identity with no problems", "[visible][points=2]") {
    const tt::StudentIdentity me = tt::my_identity();
    CAPTURE(me.name, me.handle, me.email);
    // identity_problems() explains, one sentence each, what still needs fixing.
    const std::vector<std::string> problems = tt::identity_problems(me);
    for (const std::string& problem : problems) INFO(problem);  // shown when the check fails
    CHECK(problems.empty());
}

TEST_CASE("system_check reports the pointer width in bits", "[visible][points=1]") {
    const tt::SystemReport report = tt::system_check();
    // The truth, computed here: bytes of a pointer times bits per byte (64 on x86-64).
    const int expected = static_cast<int>(sizeof(void*) * CHAR_BIT);
    CHECK(report.pointer_bits == expected);
}
