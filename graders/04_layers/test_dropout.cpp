// test_dropout.cpp - module 04 grader: Dropout. Identity in eval mode; in training, about a
// fraction p of the elements zeroed (10k elements, tolerance 0.03: about 6 standard deviations) and
// the rest scaled by 1 / (1 - p); p = 0 and p = 1; seeded masks; non-contiguous inputs; the
// gradient masked like the output; invalid p.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>
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

// Values in [0.5, 2) with alternating signs: never 0, so an output of 0 means "dropped".
tt::Tensor nonzero(const tt::Shape& shape, uint64_t seed) {
    std::vector<float> v = values_of(random_values(shape, seed, 0.5f, 2.0f));
    for (size_t i = 0; i < v.size(); i += 2) v[i] = -v[i];
    return raw(v, shape);
}

struct MaskReport {
    int64_t dropped = 0, kept = 0, wrong = 0;  // wrong: neither 0 nor x / (1 - p)
    std::string first_wrong;
};

// Classifies every output element as dropped (0), kept (x / (1 - p), relative 1e-5) or wrong.
MaskReport classify(const tt::Tensor& x, const tt::Tensor& y, float p) {
    MaskReport r;
    const std::vector<float> xv = values_of(x), yv = values_of(y);
    const double scale = 1.0 / (1.0 - static_cast<double>(p));
    for (size_t i = 0; i < xv.size() && i < yv.size(); ++i) {
        if (yv[i] == 0.0f) {
            ++r.dropped;
        } else if (std::fabs(yv[i] - xv[i] * scale) <= 1e-5 * std::fabs(xv[i] * scale)) {
            ++r.kept;
        } else {
            if (r.wrong++ == 0)
                r.first_wrong = "element " + std::to_string(i) + ": x = " + std::to_string(xv[i]) + ", output " +
                                std::to_string(yv[i]) + ", expected 0 or " + std::to_string(xv[i] * scale);
        }
    }
    return r;
}

}  // namespace

TEST_CASE("Dropout in eval mode returns the input values unchanged", "[points=2]") {
    for (float p : {0.1f, 0.5f, 0.9f}) {
        INFO("p = " << p);
        tt::Dropout dropout(p);
        dropout.eval();
        const tt::Tensor x = padded(nonzero({4, 5}, 421));
        const tt::Tensor y = dropout(x);
        CHECK_THAT(y, tensor_equal(raw_copy(x)));
    }
    INFO("a Dropout inside a Sequential switched to eval");
    tt::Sequential model{std::make_shared<tt::Dropout>(0.9f), std::make_shared<tt::Identity>()};
    model.eval();
    const tt::Tensor x = nonzero({50}, 422);
    CHECK_THAT(model(x), tensor_equal(x));
}

TEST_CASE("Dropout in training zeroes about a fraction p of the elements", "[points=2]") {
    const tt::Tensor x = nonzero({100, 100}, 423);
    for (float p : {0.3f, 0.5f, 0.8f}) {
        tt::Generator gen(424);
        tt::Dropout dropout(p, &gen);
        REQUIRE(dropout.is_training());
        const tt::Tensor y = dropout(x);
        REQUIRE(y.shape() == x.shape());
        const MaskReport r = classify(x, y, p);
        const double fraction = static_cast<double>(r.dropped) / 10000.0;
        INFO("p = " << p << ": " << r.dropped << " of 10000 dropped (fraction " << fraction << "), " << r.wrong
                    << " neither 0 nor x / (1 - p); " << r.first_wrong);
        CHECK(r.wrong == 0);
        CHECK(std::fabs(fraction - p) <= 0.03);
    }
}

TEST_CASE("Dropout scales the kept elements by 1 over 1 minus p so the mean is unchanged", "[points=2]") {
    const tt::Tensor ones = raw(std::vector<float>(10000, 1.0f), {10000});
    for (float p : {0.25f, 0.6f}) {
        tt::Generator gen(425);
        tt::Dropout dropout(p, &gen);
        const tt::Tensor y = dropout(ones);
        const std::vector<float> v = values_of(y);
        double total = 0;
        int64_t kept = 0, wrong = 0;
        for (float value : v) {
            total += value;
            if (value != 0.0f) {
                ++kept;
                if (std::fabs(value - 1.0 / (1.0 - p)) > 1e-5) ++wrong;
            }
        }
        INFO("p = " << p << ": mean " << total / 10000 << " (expected about 1), " << kept << " kept, " << wrong
                    << " kept values differ from 1 / (1 - p) = " << 1.0 / (1.0 - p));
        CHECK(wrong == 0);
        CHECK(kept > 0);
        CHECK(total / 10000 == Approx(1.0).margin(0.06));
    }
}

TEST_CASE("Dropout with p 0 keeps everything and with p 1 drops everything without NaN", "[points=2]") {
    const tt::Tensor x = nonzero({3, 7}, 426);
    tt::Dropout keep_all(0.0f);
    CHECK_THAT(keep_all(x), tensor_equal(x));
    tt::Dropout drop_all(1.0f);
    const tt::Tensor y = drop_all(x);
    CHECK_THAT(y, tensor_equal(raw(std::vector<float>(21, 0.0f), {3, 7})));
}

TEST_CASE("Dropout draws a new mask on every call from its generator", "[points=1]") {
    const tt::Tensor x = nonzero({20, 20}, 427);
    tt::Generator a(5), b(5);
    tt::Dropout first(0.5f, &a), second(0.5f, &b);
    const tt::Tensor y1 = first(x);
    CHECK_THAT(second(x), tensor_equal(raw_copy(y1)));
    const tt::Tensor y2 = first(x);
    INFO("two calls of the same Dropout must use different masks");
    CHECK(values_of(y2) != values_of(y1));
    INFO("without a generator Dropout draws from the default one: re-seeding it repeats the mask");
    tt::Dropout plain(0.5f);
    tt::manual_seed(11);
    const tt::Tensor d1 = plain(x);
    tt::manual_seed(11);
    const tt::Tensor d2 = plain(x);
    CHECK_THAT(d2, tensor_equal(raw_copy(d1)));
    CHECK(classify(x, d1, 0.5f).dropped > 0);
}

TEST_CASE("Dropout reads non-contiguous inputs and keeps each element in place", "[points=1]") {
    tt::Generator gen(428);
    tt::Dropout dropout(0.4f, &gen);
    for (const tt::Tensor& x : {padded(nonzero({10, 10}, 429)), column_major(nonzero({10, 10}, 430))}) {
        INFO("x = " << describe_tensor(x));
        const tt::Tensor y = dropout(x);
        REQUIRE(y.shape() == x.shape());
        const MaskReport r = classify(x, y, 0.4f);
        INFO(r.first_wrong);
        CHECK(r.wrong == 0);
        CHECK(r.dropped > 15);
        CHECK(r.kept > 35);
    }
}

TEST_CASE("the gradient through Dropout is masked and scaled like the output", "[points=2]") {
    tt::Generator gen(431);
    tt::Dropout dropout(0.5f, &gen);
    tt::Tensor x = nonzero({6, 8}, 432).requires_grad_();
    const tt::Tensor y = dropout(x);
    const tt::Tensor w = random_values({6, 8}, 433);
    tt::sum(tt::mul(y, w)).backward();
    REQUIRE(x.grad().defined());
    // d sum(y * w) / dx = w * (y / x): 0 where dropped, w / (1 - p) where kept.
    const std::vector<float> xv = values_of(x), yv = values_of(y), wv = values_of(w);
    std::vector<float> expected(xv.size());
    for (size_t i = 0; i < xv.size(); ++i) expected[i] = yv[i] == 0.0f ? 0.0f : wv[i] * 2.0f;
    CHECK_THAT(x.grad(), tensor_near(raw(expected, {6, 8}), 1e-6, 1e-5));
}

TEST_CASE("Dropout rejects p outside 0 to 1 naming the layer and the value", "[points=1]") {
    CHECK_THAT(error_message([] { tt::Dropout d(-0.1f); }), Contains("Dropout") && Contains("-0.1"));
    CHECK_THAT(error_message([] { tt::Dropout d(1.5f); }), Contains("Dropout") && Contains("1.5"));
    CHECK_THAT(error_message([] { tt::Dropout d(std::numeric_limits<float>::quiet_NaN()); }), Contains("Dropout"));
    tt::Dropout fine(1.0f);
    CHECK(fine.p == 1.0f);
}
