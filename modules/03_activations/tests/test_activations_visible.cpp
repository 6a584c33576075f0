// test_activations_visible.cpp - visible tests of module 03 (activations).
//
// `tito test 03` runs these and the hidden tests; hidden tests look like these, with more cases:
// every activation on hand-computed and random values, 0-d, empty and non-contiguous inputs,
// softmax along every dim (negative and non-last ones too), inputs of +-1000 and +-inf, -inf
// masks, and the grad_fn each op records. A failure shows the test's name, the expected and
// actual tensors and the INFO lines.
//
// The helpers come from the grader's grading.h. They never call your code to get an expected value:
//     nested({{1, 2}, {3, 4}})       a (2, 2) tensor built directly from tt::Storage
//     column_major(t) / padded(t)    the same values in a non-contiguous layout
//     tensor_equal(t) / tensor_near(t, atol, rtol)   compare shape and every value
#include <catch2/catch.hpp>

#include <cmath>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

TEST_CASE("relu zeroes the negative entries", "[visible][points=2]") {
    tt::Tensor x = nested({{-2, -0.5f, 0}, {0.25f, 3, -7}});
    CHECK_THAT(tt::relu(x), tensor_equal(nested({{0, 0, 0}, {0.25f, 3, 0}})));
}

TEST_CASE("sigmoid of 0 is one half and of ln 3 is three quarters", "[visible][points=2]") {
    // sigmoid(ln 3) = 1 / (1 + e^-ln3) = 1 / (1 + 1/3) = 3/4
    const float ln3 = std::log(3.0f);
    CHECK_THAT(tt::sigmoid(nested({0, ln3, -ln3})), tensor_near(nested({0.5f, 0.75f, 0.25f}), 1e-6, 1e-6));
}

TEST_CASE("softmax of ln 1 to ln 4 is 0.1 to 0.4 along the last dim", "[visible][points=2]") {
    // e^(ln k) = k, so softmax(ln 1, ln 2, ln 3, ln 4) = (1, 2, 3, 4) / 10 in each row.
    const float l2 = std::log(2.0f), l3 = std::log(3.0f), l4 = std::log(4.0f);
    tt::Tensor x = nested({{0, l2, l3, l4}, {l4, l3, l2, 0}});
    CHECK_THAT(tt::softmax(x), tensor_near(nested({{0.1f, 0.2f, 0.3f, 0.4f}, {0.4f, 0.3f, 0.2f, 0.1f}}), 1e-6, 1e-5));
    // Along dim 0 of a transposed layout: the columns of x.t() are the rows above.
    CHECK_THAT(tt::softmax(column_major(nested({{0, l4}, {l2, l3}, {l3, l2}, {l4, 0}})), 0),
               tensor_near(nested({{0.1f, 0.4f}, {0.2f, 0.3f}, {0.3f, 0.2f}, {0.4f, 0.1f}}), 1e-6, 1e-5));
}

TEST_CASE("softmax of 1000 999 998 is finite", "[visible][points=2]") {
    // e^1000 overflows float to inf, and inf / inf is NaN: subtract the row's maximum first.
    // softmax(1000, 999, 998) = softmax(2, 1, 0).
    CHECK_THAT(tt::softmax(nested({1000, 999, 998})), tensor_near(nested({0.66524096f, 0.24472847f, 0.09003057f}), 1e-6, 1e-5));
}
