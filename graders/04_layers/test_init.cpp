// test_init.cpp - module 04 grader: the initialisers. Bounds, sample mean and variance (on 16k to
// 32k draws, with tolerances of 5 or more standard errors, so any correct sampler passes),
// fan_in/fan_out of Linear and convolution weights, seeded reproducibility, and writing into
// parameters and views.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "grading.h"
#include "layer_helpers.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace layer_helpers;
using Catch::Matchers::Contains;

namespace {

tt::Tensor zeros_of(const tt::Shape& shape) { return raw(std::vector<float>(static_cast<size_t>(count_of(shape)), 0.0f), shape); }

// U(-bound, bound): every value inside, both ends nearly reached, mean 0, variance bound^2 / 3.
void check_uniform(const tt::Tensor& w, double bound) {
    const Stats s = stats_of(w);
    INFO("expected U(-" << bound << ", " << bound << "): variance " << bound * bound / 3 << "; got " << s);
    CHECK(s.max_abs <= bound * (1 + 1e-6));
    CHECK(s.max >= 0.97 * bound);
    CHECK(s.min <= -0.97 * bound);
    CHECK(std::fabs(s.mean) <= 0.03 * bound);
    CHECK(s.variance == Approx(bound * bound / 3).epsilon(0.05));
}

// N(0, std^2): mean 0, variance std^2, and tails longer than any uniform of that variance has
// (a uniform never exceeds sqrt(3) std; 32k normal draws exceed 3 std about 90 times).
void check_normal(const tt::Tensor& w, double standard_deviation) {
    const Stats s = stats_of(w);
    INFO("expected N(0, " << standard_deviation << "^2); got " << s);
    CHECK(std::fabs(s.mean) <= 0.03 * standard_deviation);
    CHECK(std::sqrt(s.variance) == Approx(standard_deviation).epsilon(0.03));
    CHECK(s.max_abs >= 3.0 * standard_deviation);
    CHECK(s.max_abs <= 6.5 * standard_deviation);
}

struct Initialiser {
    const char* name;
    std::function<void(tt::Tensor&, tt::Generator*)> run;
};

std::vector<Initialiser> initialisers() {
    return {
        {"kaiming_uniform_", [](tt::Tensor& t, tt::Generator* g) { tt::init::kaiming_uniform_(t, g); }},
        {"xavier_uniform_", [](tt::Tensor& t, tt::Generator* g) { tt::init::xavier_uniform_(t, g); }},
        {"xavier_normal_", [](tt::Tensor& t, tt::Generator* g) { tt::init::xavier_normal_(t, g); }},
        {"uniform_(-2, 3)", [](tt::Tensor& t, tt::Generator* g) { tt::init::uniform_(t, -2.0f, 3.0f, g); }},
    };
}

}  // namespace

TEST_CASE("kaiming_uniform_ with the default a draws from U of plus or minus 1 over sqrt of fan_in", "[points=2]") {
    // A Linear(256 -> 64) weight is (64, 256): fan_in = 256, so the bound is 1/16.
    tt::Generator gen(401);
    tt::Tensor w = zeros_of({64, 256});
    tt::init::kaiming_uniform_(w, &gen);
    check_uniform(w, 1.0 / 16.0);
}

TEST_CASE("kaiming_uniform_ scales its bound by the gain sqrt(2 / (1 + a^2))", "[points=2]") {
    // bound = gain * sqrt(3 / fan_in): a = 0 (ReLU) gives sqrt(6 / fan_in), a = 1 gives sqrt(3 / fan_in).
    tt::Generator gen(402);
    tt::Tensor relu_weight = zeros_of({64, 256});
    tt::init::kaiming_uniform_(relu_weight, &gen, 0.0f);
    INFO("a = 0");
    check_uniform(relu_weight, std::sqrt(6.0 / 256));
    tt::Tensor linear_weight = zeros_of({256, 64});  // fan_in = 64 this time
    tt::init::kaiming_uniform_(linear_weight, &gen, 1.0f);
    INFO("a = 1, fan_in 64");
    check_uniform(linear_weight, std::sqrt(3.0 / 64));
}

TEST_CASE("xavier_uniform_ bound uses fan_in plus fan_out and the gain", "[points=2]") {
    // (64, 192): fan_in 192 + fan_out 64 = 256, bound = gain * sqrt(6 / 256).
    tt::Generator gen(403);
    tt::Tensor w = zeros_of({64, 192});
    tt::init::xavier_uniform_(w, &gen);
    INFO("gain 1");
    check_uniform(w, std::sqrt(6.0 / 256));
    tt::Tensor w2 = zeros_of({64, 192});
    tt::init::xavier_uniform_(w2, &gen, 2.0f);
    INFO("gain 2");
    check_uniform(w2, 2.0 * std::sqrt(6.0 / 256));
}

TEST_CASE("xavier_normal_ draws normal values with std gain times sqrt(2 / (fan_in + fan_out))", "[points=2]") {
    tt::Generator gen(404);
    tt::Tensor w = zeros_of({256, 128});  // fan_in 128, fan_out 256
    tt::init::xavier_normal_(w, &gen);
    INFO("gain 1");
    check_normal(w, std::sqrt(2.0 / 384));
    tt::Tensor w2 = zeros_of({128, 256});
    tt::init::xavier_normal_(w2, &gen, 0.5f);
    INFO("gain 0.5");
    check_normal(w2, 0.5 * std::sqrt(2.0 / 384));
}

TEST_CASE("fans of a convolution weight multiply by the kernel size and 1-d tensors are refused", "[points=2]") {
    // A Conv2d weight (out 16, in 4, 3, 3): fan_in = 4 * 9 = 36, fan_out = 16 * 9 = 144.
    tt::Generator gen(405);
    tt::Tensor conv = zeros_of({16, 4, 3, 3});
    tt::init::kaiming_uniform_(conv, &gen, 0.0f);
    const Stats k = stats_of(conv);
    const double kaiming_bound = std::sqrt(6.0 / 36);
    INFO("kaiming_uniform_(a = 0) of (16, 4, 3, 3): expected bound " << kaiming_bound << ", got " << k);
    CHECK(k.max_abs <= kaiming_bound * (1 + 1e-6));
    CHECK(k.max_abs >= 0.9 * kaiming_bound);
    tt::init::xavier_uniform_(conv, &gen);
    const Stats x = stats_of(conv);
    const double xavier_bound = std::sqrt(6.0 / 180);
    INFO("xavier_uniform_ of (16, 4, 3, 3): expected bound " << xavier_bound << ", got " << x);
    CHECK(x.max_abs <= xavier_bound * (1 + 1e-6));
    CHECK(x.max_abs >= 0.9 * xavier_bound);
    tt::Tensor bias = zeros_of({5});
    CHECK_THAT(error_message([&] { tt::init::kaiming_uniform_(bias, &gen); }), Contains("kaiming_uniform_") && Contains("(5)"));
    CHECK_THAT(error_message([&] { tt::init::xavier_normal_(bias, &gen); }), Contains("xavier_normal_") && Contains("(5)"));
}

TEST_CASE("uniform_ fills values in low to high and zeros_ fills zeros", "[points=2]") {
    tt::Generator gen(406);
    tt::Tensor t = zeros_of({128, 128});
    tt::init::uniform_(t, -3.0f, 5.0f, &gen);
    const Stats s = stats_of(t);
    INFO("uniform_(t, -3, 5): expected mean 1, variance 64/12 = 5.33; got " << s);
    CHECK(s.min >= -3.0);
    CHECK(s.max < 5.0);
    CHECK(s.min <= -2.95);
    CHECK(s.max >= 4.95);
    CHECK(s.mean == Approx(1.0).margin(0.08));
    CHECK(s.variance == Approx(64.0 / 12).epsilon(0.05));
    tt::init::zeros_(t);
    CHECK_THAT(t, tensor_equal(zeros_of({128, 128})));
}

TEST_CASE("initialisers with the same seed give the same values and different seeds differ", "[points=2]") {
    for (const Initialiser& init : initialisers()) {
        INFO(init.name);
        tt::Generator a(42), b(42), c(43);
        tt::Tensor x = zeros_of({20, 30}), y = zeros_of({20, 30}), z = zeros_of({20, 30});
        init.run(x, &a);
        init.run(y, &b);
        init.run(z, &c);
        CHECK_THAT(y, tensor_equal(raw_copy(x)));
        CHECK(values_of(x) != values_of(z));
        CHECK(stats_of(x).max_abs > 0);
        // The generator passed in is the one used: a second call continues its sequence.
        tt::Tensor again = zeros_of({20, 30});
        init.run(again, &a);
        CHECK(values_of(again) != values_of(x));
    }
}

TEST_CASE("initialisers without a generator draw from the default generator", "[points=1]") {
    for (const Initialiser& init : initialisers()) {
        INFO(init.name << " with gen = nullptr");
        tt::Tensor x = zeros_of({10, 12}), y = zeros_of({10, 12}), z = zeros_of({10, 12});
        tt::manual_seed(77);
        init.run(x, nullptr);
        tt::manual_seed(77);
        init.run(y, nullptr);
        init.run(z, nullptr);
        CHECK_THAT(y, tensor_equal(raw_copy(x)));
        CHECK(values_of(z) != values_of(y));
    }
}

TEST_CASE("initialisers write into a parameter that requires grad without recording a graph", "[points=1]") {
    for (const Initialiser& init : initialisers()) {
        INFO(init.name << " on a leaf with requires_grad");
        tt::Tensor p = zeros_of({6, 4});
        p.requires_grad_();
        tt::Generator gen(408);
        init.run(p, &gen);
        CHECK(stats_of(p).max_abs > 0);
        CHECK(p.requires_grad());
        CHECK(p.is_leaf());
        tt::init::zeros_(p);
        CHECK_THAT(p, tensor_equal(zeros_of({6, 4})));
        CHECK(p.is_leaf());
    }
}

TEST_CASE("initialisers write through a non-contiguous view and leave the other memory alone", "[points=1]") {
    for (const Initialiser& init : initialisers()) {
        INFO(init.name << " on a padded (8, 6) layout whose gaps hold 1e6");
        tt::Tensor t = padded(zeros_of({8, 6}));
        const std::vector<float> before = t.storage()->data;
        tt::Generator gen(409);
        init.run(t, &gen);
        const Stats s = stats_of(t);
        CHECK(s.max_abs > 0);
        CHECK(s.max_abs < 10);  // no junk read into the view
        // Every storage cell outside the view still holds what it held.
        std::vector<bool> in_view(before.size(), false);
        for (int64_t i = 0; i < 8; ++i)
            for (int64_t j = 0; j < 6; ++j) in_view[static_cast<size_t>(storage_index(t, {i, j}))] = true;
        int64_t changed_outside = 0;
        for (size_t i = 0; i < before.size(); ++i)
            if (!in_view[i] && t.storage()->data[i] != before[i]) ++changed_outside;
        CHECK(changed_outside == 0);
    }
    tt::Tensor t = padded(nested({{1, 2}, {3, 4}}));
    tt::init::zeros_(t);
    CHECK_THAT(t, tensor_equal(nested({{0, 0}, {0, 0}})));
    CHECK(t.storage()->data[0] == 1e6f);
}
