// test_capstone_support.cpp - engine tests of the [given] parts of capstone.h
// (engine/src/core/capstone_support.cpp): the training Budget and use_fastest_gemm().
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tinytorch/capstone.h"
#include "tinytorch/errors.h"
#include "tinytorch/kernels.h"
#include "tinytorch/random.h"

using tt::capstone::Budget;
using tt::capstone::Progress;

namespace {

// Restores gemm's dispatch to what it was when the test started (the tests share one process).
struct GemmOverrideGuard {
    tt::kernels::GemmFunction saved = tt::kernels::gemm_override();
    ~GemmOverrideGuard() { tt::kernels::set_gemm_override(saved); }
};

// A progress report (the fields a test looks at).
Progress at(int64_t epoch, int64_t step, double loss = 1.0, std::string note = "") {
    Progress p;
    p.epoch = epoch;
    p.step = step;
    p.loss = loss;
    p.note = std::move(note);
    return p;
}

}  // namespace

TEST_CASE("Budget: elapsed, remaining and exhausted follow a steady clock from construction", "[capstone][budget]") {
    const Budget budget(0.25);
    CHECK(budget.seconds() == 0.25);
    const double first = budget.elapsed();
    CHECK(first >= 0.0);
    CHECK(first < 0.1);
    CHECK_FALSE(budget.exhausted());
    CHECK(budget.remaining() > 0.1);
    CHECK(budget.remaining() <= 0.25);

    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    const double later = budget.elapsed();
    CHECK(later >= first + 0.05);                                  // seconds, not milliseconds
    CHECK(budget.remaining() == Approx(0.25 - later).margin(0.02));  // seconds() - elapsed()

    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    CHECK(budget.elapsed() > 0.25);
    CHECK(budget.remaining() == 0.0);  // never below 0
    CHECK(budget.exhausted());
}

TEST_CASE("Budget: a budget that is not positive is an error", "[capstone][budget]") {
    CHECK_THROWS_AS(Budget(0.0), tt::Error);
    CHECK_THROWS_AS(Budget(-5.0), tt::Error);
    CHECK_THROWS_AS(Budget(std::numeric_limits<double>::quiet_NaN()), tt::Error);
}

TEST_CASE("Budget: report passes the first call and every new epoch, and at most ~5 calls per second", "[capstone][budget]") {
    std::vector<Progress> seen;
    const Budget budget(60.0, [&seen](const Progress& p) { seen.push_back(p); });

    // A training loop reporting after every step: 200 calls within a few milliseconds.
    for (int64_t step = 1; step <= 200; ++step) budget.report(at(1, step, 2.0));
    REQUIRE(seen.size() == 1);  // the first passes, the rest come too soon
    CHECK(seen[0].step == 1);
    CHECK(seen[0].loss == 2.0);

    budget.report(at(2, 1, 1.5, "new epoch"));  // a new epoch always passes
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].epoch == 2);
    CHECK(seen[1].note == "new epoch");
    CHECK(seen[1].loss == 1.5);
    budget.report(at(2, 2));  // same epoch, too soon
    CHECK(seen.size() == 2);

    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // more than 1/5 s later
    budget.report(at(2, 3));
    REQUIRE(seen.size() == 3);
    CHECK(seen[2].step == 3);

    // Over ~0.6 s of continuous reports, about 3 pass (one per 0.2 s), never dozens.
    const auto start = std::chrono::steady_clock::now();
    const size_t before = seen.size();
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(600)) {
        budget.report(at(2, 4));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(seen.size() - before >= 2);
    CHECK(seen.size() - before <= 4);
}

TEST_CASE("Budget: report without a callback does nothing", "[capstone][budget]") {
    const Budget budget(1.0);
    CHECK_NOTHROW(budget.report(at(1, 1)));
}

TEST_CASE("use_fastest_gemm: installs a kernel behind kernels::gemm with gemm_naive's results", "[capstone][gemm]") {
    GemmOverrideGuard guard;
    tt::kernels::set_gemm_override(nullptr);
    tt::capstone::use_fastest_gemm();
    REQUIRE(tt::kernels::gemm_override() != nullptr);

    tt::Generator gen(20);
    struct Shape {
        int64_t M, N, K;
    };
    // Row and column vectors, odd sizes that fit no vector width, a long inner dimension, and
    // shapes where a swapped M and N or a wrong leading dimension would show.
    const std::vector<Shape> shapes = {{1, 1, 1},  {1, 37, 5},  {37, 1, 5},  {1, 1, 300}, {3, 5, 7},
                                       {17, 9, 33}, {64, 48, 1}, {5, 129, 65}, {128, 96, 288}};
    for (const Shape& s : shapes) {
        INFO("M " << s.M << ", N " << s.N << ", K " << s.K);
        std::vector<float> A(static_cast<size_t>(s.M * s.K)), B(static_cast<size_t>(s.K * s.N));
        for (float& a : A) a = static_cast<float>(gen.uniform()) * 2.0f - 1.0f;
        for (float& b : B) b = static_cast<float>(gen.uniform()) * 2.0f - 1.0f;
        // C starts as NaN: gemm overwrites its output, it must never read (or add to) it.
        std::vector<float> fast(static_cast<size_t>(s.M * s.N), std::numeric_limits<float>::quiet_NaN());
        std::vector<float> naive(fast.size());
        tt::kernels::gemm(s.M, s.N, s.K, A.data(), B.data(), fast.data());
        tt::kernels::gemm_naive(s.M, s.N, s.K, A.data(), B.data(), naive.data());
        double worst = 0.0;
        for (size_t i = 0; i < fast.size(); ++i) worst = std::isnan(fast[i]) ? 1e30 : std::max(worst, std::fabs(double(fast[i]) - naive[i]));
        CHECK(worst <= 1e-5 * static_cast<double>(s.K) + 1e-6);  // float rounding grows with the sum's length
    }
}

TEST_CASE("use_fastest_gemm: empty products keep gemm's contract", "[capstone][gemm]") {
    GemmOverrideGuard guard;
    tt::capstone::use_fastest_gemm();
    const float a[3] = {1, 2, 3}, b[3] = {4, 5, 6};
    // K = 0: every entry of C is an empty sum, 0 (C starts as garbage).
    std::vector<float> c(6, 7.0f);
    tt::kernels::gemm(2, 3, 0, a, b, c.data());
    CHECK(c == std::vector<float>(6, 0.0f));
    // M = 0 or N = 0: nothing to write, and nothing else touched.
    std::vector<float> untouched(4, 7.0f);
    tt::kernels::gemm(0, 3, 2, a, b, untouched.data());
    tt::kernels::gemm(3, 0, 2, a, b, untouched.data());
    CHECK(untouched == std::vector<float>(4, 7.0f));
}
