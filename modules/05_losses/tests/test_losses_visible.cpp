// test_losses_visible.cpp - visible tests of module 05 (losses).
//
// `tito test 05` runs these and the hidden tests; hidden tests look like these, with more cases:
// every reduction, label smoothing, one example given as (C,), non-contiguous inputs, logits of
// +-1000, probabilities of exactly 0 and 1, invalid targets and probabilities (the error must name
// the op, the bad value and the shapes), and gradient checks of every loss.
//
// The helpers come from the grader's grading.h. They never call your code to get an expected value:
//     nested({{1, 2}, {3, 4}})       a (2, 2) tensor built directly from tt::Storage
//     raw_scalar(2.5f)               a 0-d tensor: what a mean or sum reduction returns
//     tensor_equal(t) / tensor_near(t, atol, rtol)   compare shape and every value
//     error_message([&] { ... })     the message of the tt::Error the code throws
#include <catch2/catch.hpp>

#include <cmath>

#include "grading.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("mse_loss of 1 2 3 4 against 1 0 5 4 is 2", "[visible][points=2]") {
    // squared differences [[0, 4], [4, 0]]: mean 2, sum 8
    tt::Tensor input = nested({{1, 2}, {3, 4}});
    tt::Tensor target = nested({{1, 0}, {5, 4}});
    CHECK_THAT(tt::mse_loss(input, target), tensor_near(raw_scalar(2.0f), 1e-6, 1e-6));
    CHECK_THAT(tt::mse_loss(input, target, tt::Reduction::sum), tensor_near(raw_scalar(8.0f), 1e-6, 1e-6));
}

TEST_CASE("cross_entropy is minus the log probability of the target class", "[visible][points=2]") {
    // softmax(ln 1, ln 2, ln 3, ln 4) = (0.1, 0.2, 0.3, 0.4); targets hold class indices as floats.
    tt::Tensor logits = nested({{0, std::log(2.0f), std::log(3.0f), std::log(4.0f)}, {0, 0, 0, 0}});
    tt::Tensor targets = nested({3, 1});
    CHECK_THAT(tt::cross_entropy(logits, targets, tt::Reduction::none), tensor_near(nested({-std::log(0.4f), std::log(4.0f)}), 1e-6, 1e-5));
}

TEST_CASE("cross_entropy of logits of 1000 is finite", "[visible][points=2]") {
    // log-sum-exp: -log p_k = log(sum_j e^(x_j - max)) - (x_k - max) = 0 and 1000 here
    tt::Tensor logits = nested({{1000, 0}, {1000, 0}});
    CHECK_THAT(tt::cross_entropy(logits, nested({0, 1}), tt::Reduction::none), tensor_near(nested({0, 1000}), 1e-5, 1e-6));
}

TEST_CASE("binary_cross_entropy at probabilities 0 and 1 is clamped to 100", "[visible][points=2]") {
    tt::Tensor p = nested({0, 1, 0.5f});
    tt::Tensor y = nested({1, 0, 1});
    CHECK_THAT(tt::binary_cross_entropy(p, y, tt::Reduction::none), tensor_near(nested({100, 100, std::log(2.0f)}), 1e-5, 1e-5));
}

TEST_CASE("cross_entropy rejects a target that is not a class index", "[visible][points=1]") {
    tt::Tensor logits = nested({{1, 2, 3}, {4, 5, 6}});
    CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({0, 3})); }), Contains("cross_entropy") && Contains("3"));
}
