// test_embeddings_visible.cpp - visible tests of module 12 (embeddings).
//
// `tito test 12` runs these and the hidden tests; hidden tests look like these, with more cases:
// lookups of (T,), (B, T), 3-D and 0-d ids against a reference, ids and tables read through their
// strides (transposed, sliced, padded), every kind of bad id (id == V, negative, -0.5, 2.5, 2.9999,
// NaN, infinity) with the message naming the id, its position and V; the backward's scatter-add
// with repeated ids, against a reference and finite differences, from non-contiguous upstream
// gradients, accumulating over several lookups and never reaching the ids; the sinusoidal table
// against PyTorch (even and odd dim, long sequences); each layer's parameters and buffers, its
// initialisation, its gradients (summed over the batch) and its errors; and tokens + positions +
// cross_entropy against PyTorch.
//
// The helpers come from the grader's grading.h. They never call your code to get an expected value:
//     nested({{1, 2}, {3, 4}})       a (2, 2) tensor built directly from tt::Storage
//     tensor_equal(t) / tensor_near(t, atol, rtol)   compare shape and every value
//     leaf(t)                        t with requires_grad, for gradient tests
#include <catch2/catch.hpp>

#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/embedding.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("embedding of (B T) ids by hand", "[visible][points=1]") {
    const tt::Tensor weight = nested({{0, 1}, {10, 11}, {20, 21}});  // (V, D) = (3, 2)
    const tt::Tensor out = tt::embedding(nested({{2, 0}, {1, 2}}), weight);
    CHECK_THAT(out, tensor_equal(nested({{{20, 21}, {0, 1}}, {{10, 11}, {20, 21}}})));  // (B, T, D)
}

TEST_CASE("embedding backward by hand with a repeated id", "[visible][points=1]") {
    tt::Tensor weight = leaf(nested({{0, 1}, {10, 11}, {20, 21}}));
    tt::embedding(nested({1, 2, 1}), weight).backward(nested({{1, 2}, {3, 4}, {5, 6}}));
    CHECK_THAT(weight.grad(), tensor_equal(nested({{0, 0}, {6, 8}, {3, 4}})));
}

TEST_CASE("embedding rejects an id that is not a row of the table", "[visible][points=1]") {
    const tt::Tensor weight = nested({{0, 1}, {10, 11}, {20, 21}});
    CHECK_THAT(error_message([&] { tt::embedding(nested({3}), weight); }), Contains("embedding"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({1.5f}), weight); }), Contains("embedding"));
}

TEST_CASE("sinusoidal_positions of 3 positions and 4 columns by the formula", "[visible][points=1]") {
    // columns 0, 1: sin(t), cos(t); columns 2, 3: sin(t / 100), cos(t / 100)
    CHECK_THAT(tt::sinusoidal_positions(3, 4),
               tensor_near(nested({{0, 1, 0, 1},
                                   {0.84147098f, 0.54030231f, 0.00999983f, 0.99995000f},
                                   {0.90929743f, -0.41614684f, 0.01999867f, 0.99980001f}}),
                           1e-6, 1e-6));
}

TEST_CASE("LearnedPositionalEmbedding adds row t to position t and sums its gradient over the batch",
          "[visible][points=1]") {
    tt::LearnedPositionalEmbedding positions(4, 2);
    {
        tt::NoGradGuard no_grad;
        positions.weight.copy_(nested({{0, 1}, {10, 11}, {20, 21}, {30, 31}}));
    }
    tt::Tensor x = leaf(nested({{{1, 1}, {2, 2}}, {{3, 3}, {4, 4}}}));  // (B, T, D) = (2, 2, 2)
    const tt::Tensor y = positions(x);
    CHECK_THAT(y, tensor_equal(nested({{{1, 2}, {12, 13}}, {{3, 4}, {14, 15}}})));
    y.sum().backward();
    CHECK_THAT(positions.weight.grad(), tensor_equal(nested({{2, 2}, {2, 2}, {0, 0}, {0, 0}})));
}
