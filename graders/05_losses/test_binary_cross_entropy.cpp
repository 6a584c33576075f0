// test_binary_cross_entropy.cpp - module 05 grader: binary_cross_entropy (from probabilities, each
// log clamped at -100) and binary_cross_entropy_with_logits (stable for any logit). Hand-computed
// values, soft targets, reductions, probabilities of exactly 0 and 1, logits of +-1000,
// validation, and gradient checks. Expected values come from loss_reference.h.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "grading.h"
#include "loss_reference.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = loss_reference;

namespace {

const char* reduction_name(tt::Reduction r) {
    return r == tt::Reduction::mean ? "mean" : r == tt::Reduction::sum ? "sum" : "none";
}

// Probabilities in [0.1, 0.9] and soft targets in [0, 1].
tt::Tensor probabilities(const tt::Shape& shape, uint64_t seed) { return random_values(shape, seed, 0.1f, 0.9f); }
tt::Tensor soft_targets(const tt::Shape& shape, uint64_t seed) { return random_values(shape, seed, 0.0f, 1.0f); }

}  // namespace

TEST_CASE("binary_cross_entropy on hand-computed values", "[points=2]") {
    // -(y log p + (1 - y) log(1 - p)): [ln 2, -ln 0.9, -ln 0.8]
    const tt::Tensor p = nested({0.5f, 0.9f, 0.2f});
    const tt::Tensor y = nested({1, 1, 0});
    CHECK_THAT(tt::binary_cross_entropy(p, y, tt::Reduction::none), tensor_near(nested({0.6931472f, 0.1053605f, 0.2231436f}), 1e-6, 1e-5));
    CHECK_THAT(tt::binary_cross_entropy(p, y), tensor_near(raw_scalar(0.3405504f), 1e-6, 1e-5));
    CHECK_THAT(tt::binary_cross_entropy(p, y, tt::Reduction::sum), tensor_near(raw_scalar(1.0216513f), 1e-6, 1e-5));
    // A soft target y = 0.5 at p = 0.25: -(0.5 ln 0.25 + 0.5 ln 0.75)
    CHECK_THAT(tt::binary_cross_entropy(nested({0.25f}), nested({0.5f})), tensor_near(raw_scalar(0.8369882f), 1e-6, 1e-5));
}

TEST_CASE("binary_cross_entropy averages over every element of any shape", "[points=2]") {
    const tt::Tensor p = probabilities({2, 3, 4}, 521), y = soft_targets({2, 3, 4}, 522);
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << reduction_name(r) << " of (2, 3, 4) inputs");
        CHECK_THAT(tt::binary_cross_entropy(p, y, r), tensor_near(ref::bce(p, y, r), 1e-5, 1e-5));
    }
    const tt::Tensor cp = column_major(probabilities({4, 3}, 523)), py = padded(soft_targets({4, 3}, 524));
    INFO("non-contiguous: " << describe_tensor(cp) << " and " << describe_tensor(py));
    CHECK_THAT(tt::binary_cross_entropy(cp, py, tt::Reduction::none), tensor_near(ref::bce(cp, py, tt::Reduction::none), 1e-5, 1e-5));
    CHECK_THAT(tt::binary_cross_entropy(cp, py), tensor_near(ref::bce(cp, py, tt::Reduction::mean), 1e-5, 1e-5));
}

TEST_CASE("binary_cross_entropy clamps each log at -100 so probabilities of 0 and 1 stay finite", "[points=3]") {
    // p = 0, y = 1: -log 0 = inf, clamped to 100. p = 0, y = 0: 0 * log 0 must not become NaN.
    const tt::Tensor p = nested({0, 1, 0, 1});
    const tt::Tensor y = nested({1, 0, 0, 1});
    const tt::Tensor out = tt::binary_cross_entropy(p, y, tt::Reduction::none);
    CHECK(ref::all_finite(out));
    CHECK_THAT(out, tensor_near(nested({100, 100, 0, 0}), 1e-5, 1e-6));
    CHECK_THAT(tt::binary_cross_entropy(p, y), tensor_near(raw_scalar(50.0f), 1e-5, 1e-6));
    // A soft target at a certain prediction: -(0.3 * -100 + 0.7 * log 1) = 30
    CHECK_THAT(tt::binary_cross_entropy(nested({0}), nested({0.3f}), tt::Reduction::sum), tensor_near(raw_scalar(30.0f), 1e-4, 1e-6));
}

TEST_CASE("binary_cross_entropy rejects probabilities outside 0 to 1 and mismatched shapes", "[points=2]") {
    CHECK_THAT(error_message([] { tt::binary_cross_entropy(nested({0.5f, 1.5f}), nested({1, 0})); }),
               Contains("binary_cross_entropy") && Contains("1.5"));
    CHECK_THAT(error_message([] { tt::binary_cross_entropy(nested({-0.25f, 0.5f}), nested({1, 0})); }),
               Contains("binary_cross_entropy") && Contains("-0.25"));
    CHECK_THAT(error_message([] { tt::binary_cross_entropy(nested({{0.5f}, {0.5f}}), nested({1, 0})); }),
               Contains("binary_cross_entropy") && Contains("(2, 1)") && Contains("(2)"));
    CHECK_THAT(error_message([] { tt::binary_cross_entropy_with_logits(iota({3}), iota({1, 3})); }),
               Contains("binary_cross_entropy_with_logits") && Contains("(3)") && Contains("(1, 3)"));
    INFO("the boundary values 0 and 1 themselves are valid");
    CHECK_THAT(tt::binary_cross_entropy(nested({0, 1}), nested({0, 1})), tensor_near(raw_scalar(0.0f), 1e-6, 1e-6));
}

TEST_CASE("binary_cross_entropy rejects NaN and infinite probabilities as PyTorch does", "[points=2]") {
    // PyTorch: "all elements of input should be between 0 and 1". A NaN probability means a bug
    // upstream (a NaN logit, 0 / 0); returning a NaN loss would hide where it came from, and a
    // check written as !(p < 0 || p > 1) lets NaN through, since every comparison with NaN is false.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    CHECK_THAT(error_message([&] { tt::binary_cross_entropy(nested({0.5f, nan, 0.25f}), nested({1, 0, 1})); }),
               Contains("binary_cross_entropy") && Contains("nan"));
    CHECK_THAT(error_message([&] { tt::binary_cross_entropy(nested({{0.5f, 0.5f}, {0.5f, nan}}), nested({{1, 0}, {1, 0}}), tt::Reduction::none); }),
               Contains("binary_cross_entropy"));
    CHECK_THAT(error_message([&] { tt::binary_cross_entropy(raw_scalar(nan), raw_scalar(1.0f), tt::Reduction::sum); }),
               Contains("binary_cross_entropy"));
    CHECK_THAT(error_message([&] { tt::binary_cross_entropy(nested({inf, 0.5f}), nested({1, 0})); }),
               Contains("binary_cross_entropy") && Contains("inf"));
    CHECK_THAT(error_message([&] { tt::binary_cross_entropy(nested({0.5f, -inf}), nested({1, 0})); }),
               Contains("binary_cross_entropy") && Contains("-inf"));
    INFO("a NaN in a non-contiguous input is found too");
    CHECK_THAT(error_message([&] { tt::binary_cross_entropy(column_major(nested({{0.5f, 0.5f}, {nan, 0.5f}})), nested({{1, 0}, {1, 0}})); }),
               Contains("binary_cross_entropy"));
}

TEST_CASE("binary_cross_entropy_with_logits on hand-computed values", "[points=2]") {
    // sigmoid(ln 3) = 0.75: [ln 2, -ln 0.75, -ln 0.75]; x = 2, y = 0: 2 + log(1 + e^-2)
    const float ln3 = std::log(3.0f);
    const tt::Tensor x = nested({0, ln3, -ln3, 2});
    const tt::Tensor y = nested({1, 1, 0, 0});
    CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y, tt::Reduction::none),
               tensor_near(nested({0.6931472f, 0.2876821f, 0.2876821f, 2.1269280f}), 1e-6, 1e-5));
    CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y), tensor_near(raw_scalar((0.6931472f + 2 * 0.2876821f + 2.1269280f) / 4), 1e-6, 1e-5));
    CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y, tt::Reduction::sum),
               tensor_near(raw_scalar(0.6931472f + 2 * 0.2876821f + 2.1269280f), 1e-6, 1e-5));
}

TEST_CASE("binary_cross_entropy_with_logits equals binary_cross_entropy of the sigmoid", "[points=2]") {
    const tt::Tensor x = random_values({3, 5}, 525, -4.0f, 4.0f), y = soft_targets({3, 5}, 526);
    std::vector<float> p = values_of(x);
    for (float& v : p) v = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v))));
    const tt::Tensor sig = raw(p, {3, 5});
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << reduction_name(r));
        CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y, r), tensor_near(ref::bce(sig, y, r), 1e-5, 1e-4));
        CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y, r), tensor_near(ref::bce_with_logits(x, y, r), 1e-5, 1e-5));
    }
    const tt::Tensor cx = column_major(x), py = padded(y);
    INFO("non-contiguous logits and targets");
    CHECK_THAT(tt::binary_cross_entropy_with_logits(cx, py, tt::Reduction::none),
               tensor_near(ref::bce_with_logits(cx, py, tt::Reduction::none), 1e-5, 1e-5));
}

TEST_CASE("binary_cross_entropy_with_logits of logits near plus and minus 1000 is finite and exact", "[points=3]") {
    // sigmoid(1000) rounds to 1 and sigmoid(-1000) to 0: through probabilities the loss would be
    // clamped at 100 (or NaN). From the logits it is exactly max(x, 0) - x y + log(1 + e^-|x|).
    const tt::Tensor x = nested({1000, -1000, 1000, -1000, 200, -200});
    const tt::Tensor y = nested({1, 0, 0, 1, 0, 0.5f});
    const tt::Tensor out = tt::binary_cross_entropy_with_logits(x, y, tt::Reduction::none);
    CHECK(ref::all_finite(out));
    CHECK_THAT(out, tensor_near(nested({0, 0, 1000, 1000, 200, 100}), 1e-5, 1e-6));
    CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y, tt::Reduction::sum), tensor_near(raw_scalar(2300.0f), 1e-3, 1e-6));
}

TEST_CASE("gradient_check of binary_cross_entropy with respect to the probabilities", "[points=2]") {
    const tt::Tensor p = probabilities({3, 4}, 527), y = soft_targets({3, 4}, 528);
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << reduction_name(r));
        GradientCheckOptions options;
        options.wrt = {0};
        CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return tt::binary_cross_entropy(in[0], in[1], r); }, {p, y}, options));
    }
}

TEST_CASE("gradient_check of binary_cross_entropy_with_logits with respect to the logits", "[points=2]") {
    const tt::Tensor x = random_values({3, 4}, 529, -3.0f, 3.0f), y = soft_targets({3, 4}, 530);
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << reduction_name(r));
        GradientCheckOptions options;
        options.wrt = {0};
        CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return tt::binary_cross_entropy_with_logits(in[0], in[1], r); },
                             {x, y}, options));
    }
    tt::Tensor logits = nested({1000, -1000, 0}).requires_grad_();
    const tt::Tensor out = tt::binary_cross_entropy_with_logits(logits, nested({0, 0, 1}), tt::Reduction::sum);
    REQUIRE(out.grad_fn() != nullptr);
    CHECK(std::string(out.grad_fn()->name()) == "BCEWithLogitsBackward");
    out.backward();
    INFO("d/dx = sigmoid(x) - y: 1, 0 and -0.5");
    CHECK_THAT(logits.grad(), tensor_near(nested({1, 0, -0.5f}), 1e-6, 1e-5));
}

TEST_CASE("binary_cross_entropy of a tiny probability keeps its precision through log1p", "[points=1]") {
    // 1 - 1e-9 rounds to exactly 1 in float, so log(1 - p) gives 0; log1p(-p) gives -1e-9.
    const tt::Tensor out = tt::binary_cross_entropy(nested({1e-9f, 1e-7f}), nested({0, 0}), tt::Reduction::none);
    CHECK_THAT(out, tensor_near(nested({1e-9f, 1e-7f}), 0.0, 1e-3));
}

TEST_CASE("binary_cross_entropy_with_logits keeps its precision for confident correct logits", "[points=1]") {
    // x = -30, y = 0: log(1 + e^-30) = 9.36e-14, but 1 + e^-30 rounds to 1 in float.
    const tt::Tensor out = tt::binary_cross_entropy_with_logits(nested({-30, 20}), nested({0, 1}), tt::Reduction::none);
    CHECK_THAT(out, tensor_near(nested({9.357623e-14f, 2.0611537e-09f}), 0.0, 1e-3));
}
