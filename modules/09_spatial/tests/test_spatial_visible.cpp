// test_spatial_visible.cpp - visible tests of module 09 (spatial).
//
// `tito test 09` runs these and the hidden tests; hidden tests look like these, with more cases:
// im2col/col2im for strides, padding and non-square images (and col2im adding, not overwriting),
// conv2d against a direct six-loop convolution and against PyTorch, every gradient of conv2d with
// stride, padding and batches (summed over the batch), all products through kernels::gemm, Conv2d's
// initialisation order and bounds, max pooling's ties, NaN and padding, average pooling's divisor,
// batch norm's statistics (per channel, biased for normalising, unbiased for running_var, eps
// inside the square root), running statistics in train and eval mode, BatchNorm2d's buffers, a
// conv-BN-ReLU-pool chain against PyTorch, and the error messages.
//
// The helpers come from the grader's grading.h. They never call your code to get an expected value:
//     nested({{1, 2}, {3, 4}})       a (2, 2) tensor built directly from tt::Storage
//     tensor_equal(t) / tensor_near(t, atol, rtol)   compare shape and every value
//     leaf(t)                        t with requires_grad, for gradient tests
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

TEST_CASE("im2col of a 3x3 image with a 2x2 kernel by hand", "[visible][points=1]") {
    const std::vector<float> image = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // (1, 3, 3)
    const tt::Conv2dGeometry g{1, 3, 3, /*kernel=*/2, /*stride=*/1, /*padding=*/0};
    std::vector<float> columns(4 * 4, -1.0f);  // (C*k*k, H'*W') = (4, 4)
    tt::im2col(image.data(), g, columns.data());
    // row (c*k + i)*k + j = kernel tap (i, j); column y*W' + x = output position (y, x)
    CHECK(columns == std::vector<float>{1, 2, 4, 5,    // tap (0, 0)
                                        2, 3, 5, 6,    // tap (0, 1)
                                        4, 5, 7, 8,    // tap (1, 0)
                                        5, 6, 8, 9});  // tap (1, 1)
}

TEST_CASE("conv2d of one 3x3 image with one 2x2 filter and a bias by hand", "[visible][points=1]") {
    const tt::Tensor x = nested({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});  // (N 1, C 1, 3, 3)
    const tt::Tensor w = nested({{{{1, 2}, {0, -1}}}});                  // (F 1, C 1, 2, 2)
    // out[y, x] = x[y, x] + 2 x[y, x+1] - x[y+1, x+1] + 0.5   (no kernel flip, as PyTorch)
    CHECK_THAT(tt::conv2d(x, w, nested({0.5f})), tensor_equal(nested({{{{0.5f, 2.5f}, {6.5f, 8.5f}}}})));
    // padding 1 adds a border of zeros: (3 + 2 - 2) / 1 + 1 = 4 outputs per side
    CHECK(tt::conv2d(x, w, tt::Tensor(), 1, 1).shape() == tt::Shape{1, 1, 4, 4});
}

TEST_CASE("conv2d backward by hand", "[visible][points=1]") {
    tt::Tensor x = leaf(nested({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}}));
    tt::Tensor w = leaf(nested({{{{1, 2}, {0, -1}}}}));
    tt::Tensor b = leaf(nested({0.5f}));
    tt::conv2d(x, w, b).sum().backward();
    // d w[i, j] = the sum of the pixels tap (i, j) saw; d b = the number of outputs
    CHECK_THAT(w.grad(), tensor_equal(nested({{{{12, 16}, {24, 28}}}})));
    CHECK_THAT(b.grad(), tensor_equal(nested({4})));
    // d x[a, b] = the sum of the weights that touched pixel (a, b), over every window covering it
    CHECK_THAT(x.grad(), tensor_equal(nested({{{{1, 3, 2}, {1, 2, 1}, {0, -1, -1}}}})));
}

TEST_CASE("max and average pooling by hand", "[visible][points=1]") {
    tt::Tensor x = leaf(nested({{{{1, 3, 2, 0}, {4, 2, 1, 1}, {0, 8, 9, 5}, {6, 7, 3, 4}}}}));
    const tt::Tensor y = tt::max_pool2d(x, 2);  // stride defaults to the kernel size
    CHECK_THAT(y, tensor_equal(nested({{{{4, 2}, {8, 9}}}})));
    y.sum().backward();  // each window's gradient goes to its maximum
    CHECK_THAT(x.grad(), tensor_equal(nested({{{{0, 0, 1, 0}, {1, 0, 0, 0}, {0, 1, 1, 0}, {0, 0, 0, 0}}}})));
    CHECK_THAT(tt::avg_pool2d(x, 2), tensor_equal(nested({{{{2.5f, 1}, {5.25f, 5.25f}}}})));
    // padding: max pooling treats it as -infinity, average pooling as zeros counted in the divisor
    const tt::Tensor negative = nested({{{{-1, -2}, {-3, -4}}}});
    CHECK_THAT(tt::max_pool2d(negative, 2, 1, 1), tensor_equal(nested({{{{-1, -1, -2}, {-1, -1, -2}, {-3, -3, -4}}}})));
    CHECK_THAT(tt::avg_pool2d(nested({{{{4, 4}, {4, 4}}}}), 2, 1, 1), tensor_equal(nested({{{{1, 2, 1}, {2, 4, 2}, {1, 2, 1}}}})));
}

TEST_CASE("batch_norm in training and in evaluation by hand", "[visible][points=1]") {
    // channel 0 holds 1, 3 (example 0) and 5, 7 (example 1): mean 4, variance 5 (divided by m = 4)
    // channel 1 is 10 everywhere: variance 0, and eps keeps the division finite
    const tt::Tensor x = nested({{{{1, 3}}, {{10, 10}}}, {{{5, 7}}, {{10, 10}}}});  // (2, 2, 1, 2)
    tt::Tensor running_mean = nested({0, 0}), running_var = nested({1, 1});
    const tt::Tensor y = tt::batch_norm(x, running_mean, running_var, tt::Tensor(), tt::Tensor(), /*training=*/true);
    const float a = 1.0f / std::sqrt(5.0f);
    CHECK_THAT(y, tensor_near(nested({{{{-3 * a, -a}}, {{0, 0}}}, {{{a, 3 * a}}, {{0, 0}}}}), 1e-5, 1e-5));
    // running = 0.9 * running + 0.1 * batch, with the unbiased variance 5 * 4 / 3 = 20 / 3
    CHECK_THAT(running_mean, tensor_near(nested({0.4f, 1.0f}), 1e-6, 1e-6));
    CHECK_THAT(running_var, tensor_near(nested({0.9f + 0.1f * 20 / 3, 0.9f}), 1e-6, 1e-6));
    // evaluation: the running statistics, unchanged by the call
    tt::Tensor eval_mean = nested({1, 10}), eval_var = nested({4, 0.25f});
    const tt::Tensor e = tt::batch_norm(x, eval_mean, eval_var, tt::Tensor(), tt::Tensor(), false, 0.1f, /*eps=*/0.0f);
    CHECK_THAT(e, tensor_near(nested({{{{0, 1}}, {{0, 0}}}, {{{2, 3}}, {{0, 0}}}}), 1e-6, 1e-6));
    CHECK_THAT(eval_mean, tensor_equal(nested({1, 10})));
}
