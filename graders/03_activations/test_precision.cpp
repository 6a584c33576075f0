// test_precision.cpp - module 03 grader: relative precision. Stability (test_stability.cpp) is about
// never producing inf or NaN; precision is about keeping the digits of the answer. A float has 24
// bits of mantissa whatever its magnitude, so tanh(1e-8) = 1e-8 is as representable as tanh(1) and
// a correct formula must return it. The usual ways of losing it:
//     1 - 2 / (e^2x + 1)       e^2x rounds to 1 for |x| < 3e-8: tanh(1e-8) comes out as 0
//     2 sigmoid(2x) - 1        the same cancellation: 1 +- tiny, minus 1
//     x - (m + log(sum))       log-sum-exp rounded to the float m first: the log(sum) part is lost
//                              when |m| is large (m = 1e8 has a spacing of 8 between floats)
// Expected values come from activation_reference.h (double precision) or are given as literals.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "activation_reference.h"
#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
namespace ref = activation_reference;

namespace {

// Tiny inputs of both signs, down to the smallest normal floats, and a few small ones.
tt::Tensor tiny_inputs() { return nested({1e-8f, -1e-8f, 3e-6f, -2.5e-4f, 1e-3f, -1e-30f, 1e-37f, 2e-20f}); }

}  // namespace

TEST_CASE("tanh of tiny inputs keeps its relative precision", "[points=2]") {
    // tanh(x) = x - x^3/3 + ...: for |x| < 1e-4 the answer is x to float precision, never 0.
    const tt::Tensor x = tiny_inputs();
    const tt::Tensor out = tt::tanh(x);
    INFO("tanh must not be computed through e^(2x) - 1 or 1 - 2 / (e^(2x) + 1): both cancel to 0 near 0");
    CHECK_THAT(out, tensor_near(reference_unary(x, [](float v) { return ref::tanh(v); }), 0.0, 1e-5));
}

TEST_CASE("sigmoid gelu and leaky_relu of tiny inputs keep their relative precision", "[points=1]") {
    const tt::Tensor x = tiny_inputs();
    INFO("x = " << describe_tensor(x));
    // sigmoid(x) = 1/2 + x/4 - ...: every one of these is 0.5 in float (its spacing there is 6e-8).
    CHECK_THAT(tt::sigmoid(x), tensor_near(reference_unary(x, [](float v) { return ref::sigmoid(v); }), 0.0, 1e-6));
    // gelu(x) = x/2 + x^2/sqrt(2 pi) + ...: x/2 to float precision, in both forms.
    CHECK_THAT(tt::gelu(x), tensor_near(reference_unary(x, [](float v) { return ref::gelu_exact(v); }), 0.0, 1e-5));
    CHECK_THAT(tt::gelu(x, tt::GeluApproximation::tanh),
               tensor_near(reference_unary(x, [](float v) { return ref::gelu_tanh(v); }), 0.0, 1e-5));
    CHECK_THAT(tt::leaky_relu(x, 0.1f), tensor_near(reference_unary(x, [](float v) { return ref::leaky_relu(v, 0.1); }), 0.0, 1e-6));
    INFO("sigmoid of very negative inputs down to -87 (1.6e-38, the smallest normal floats)");
    const tt::Tensor negative = nested({-40, -87, -50.5f});
    CHECK_THAT(tt::sigmoid(negative), tensor_near(reference_unary(negative, [](float v) { return ref::sigmoid(v); }), 0.0, 1e-5));
}

TEST_CASE("softmax and log_softmax of logits near 1e8 keep the differences between them", "[points=2]") {
    // Around 1e8 floats are 8 apart, so max + log(sum) rounds back to max and x - (max + log(sum))
    // gives 0 where the answer is -log 2. (x - max) - log(sum) is exact: x - max is a difference
    // of nearby floats, and log(sum) never meets the large number.
    const tt::Tensor x = nested({{1e8f, 1e8f}, {1e8f, 1e8f + 8}, {-1e8f, -1e8f - 16}, {0, -8}});
    const tt::Tensor expected_log = ref::log_softmax(x, 1);  // [-0.693, -0.693], [-8.000335, -0.000335], ...
    CHECK_THAT(tt::log_softmax(x, 1), tensor_near(expected_log, 1e-6, 1e-5));
    CHECK_THAT(tt::softmax(x, 1), tensor_near(ref::softmax(x, 1), 1e-6, 1e-5));
    INFO("the same logits along dim 0 of the transpose (the general loop)");
    const tt::Tensor columns = column_major(nested({{1e8f, 1e8f, -1e8f, 0}, {1e8f, 1e8f + 8, -1e8f - 16, -8}}));
    CHECK_THAT(tt::log_softmax(columns, 0), tensor_near(ref::log_softmax(columns, 0), 1e-6, 1e-5));
    CHECK_THAT(tt::softmax(columns, 0), tensor_near(ref::softmax(columns, 0), 1e-6, 1e-5));
    INFO("and along the middle dim of a 3-d tensor");
    const tt::Tensor cube = nested({{{1e8f, -5}, {1e8f + 8, -5}}, {{3, -1e8f - 16}, {3, -1e8f}}});  // (2, 2, 2)
    CHECK_THAT(tt::log_softmax(cube, 1), tensor_near(ref::log_softmax(cube, 1), 1e-6, 1e-5));
    CHECK_THAT(tt::softmax(cube, 1), tensor_near(ref::softmax(cube, 1), 1e-6, 1e-5));
}

TEST_CASE("softmax keeps the relative precision of tiny probabilities", "[points=1]") {
    // e^(x - max) of a logit 80 below the max is 1.8e-35: representable, and it must not be
    // flushed to 0 or rounded through 1 - (the others).
    const tt::Tensor x = nested({{0, -80, -30}, {-20, 60, 0}});
    CHECK_THAT(tt::softmax(x, 1), tensor_near(ref::softmax(x, 1), 0.0, 1e-5));
    CHECK_THAT(tt::softmax(column_major(x), 1), tensor_near(ref::softmax(x, 1), 0.0, 1e-5));
    CHECK_THAT(tt::softmax(x, 0), tensor_near(ref::softmax(x, 0), 0.0, 1e-5));
}
