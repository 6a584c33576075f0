// test_conv_forward.cpp - module 09 grader: conv2d forward (conv.cpp).
//     input (N, C, H, W), weight (F, C, k, k), bias (F,) -> (N, F, H', W'), H' = (H + 2p - k) / s + 1
// Expected values: by hand, from the direct six-loop convolution in spatial_reference.h (no
// im2col), or from PyTorch 1.13 (numbers written below).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "grading.h"
#include "spatial_reference.h"
#include "tinytorch/autograd.h"
#include "tinytorch/kernels.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = spatial_reference;

namespace {

int64_t g_calls = 0, g_multiply_adds = 0;
void counting_gemm(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
    ++g_calls;
    g_multiply_adds += M * N * K;
    tt::kernels::gemm_naive(M, N, K, A, B, C);
}

}  // namespace

TEST_CASE("conv2d of one 3x3 image with one 2x2 filter by hand", "[points=2]") {
    const tt::Tensor x = nested({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});  // (1, 1, 3, 3)
    const tt::Tensor w = nested({{{{1, 2}, {0, -1}}}});                  // (1, 1, 2, 2)
    // out[y, x] = x[y, x] + 2 x[y, x+1] - x[y+1, x+1]
    CHECK_THAT(tt::conv2d(x, w), tensor_equal(nested({{{{0, 2}, {6, 8}}}})));
    CHECK_THAT(tt::conv2d(x, w, nested({0.5f})), tensor_equal(nested({{{{0.5f, 2.5f}, {6.5f, 8.5f}}}})));
}

TEST_CASE("conv2d slides the kernel without flipping it (cross-correlation as in PyTorch)", "[points=1]") {
    // A single 1 in the middle of a 3x3 image, kernel [[1, 2, 3], [4, 5, 6], [7, 8, 9]], padding 1:
    // output (y, x) reads the kernel at (1 - y + 1, 1 - x + 1): the kernel appears rotated by 180
    // degrees. (A flipped kernel - true convolution - would reproduce it unrotated.)
    const tt::Tensor delta = nested({{{{0, 0, 0}, {0, 1, 0}, {0, 0, 0}}}});
    const tt::Tensor w = nested({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});
    CHECK_THAT(tt::conv2d(delta, w, tt::Tensor(), 1, 1), tensor_equal(nested({{{{9, 8, 7}, {6, 5, 4}, {3, 2, 1}}}})));
}

TEST_CASE("conv2d adds each output channel's own bias at every position", "[points=2]") {
    // Zero weights: the output is the bias, broadcast over (H', W'), one value per output channel.
    const tt::Tensor x = random_values({2, 2, 4, 5}, 1);
    const tt::Tensor w = raw(std::vector<float>(3 * 2 * 3 * 3, 0.0f), {3, 2, 3, 3});
    const tt::Tensor b = nested({1, -2, 3});
    std::vector<float> expected;
    for (int n = 0; n < 2; ++n)
        for (float bias : {1.0f, -2.0f, 3.0f})
            for (int i = 0; i < 2 * 3; ++i) expected.push_back(bias);
    CHECK_THAT(tt::conv2d(x, w, b), tensor_equal(raw(expected, {2, 3, 2, 3})));
    const tt::Tensor w2 = random_values({3, 2, 3, 3}, 2);
    CHECK_THAT(tt::conv2d(x, w2, b, 1, 1), tensor_near(ref::conv2d(x, w2, b, 1, 1), 1e-5, 1e-5));
}

TEST_CASE("conv2d output size is (H + 2p - k) / s + 1 in each direction", "[points=2]") {
    struct Case {
        int64_t H, W, k, s, p, out_h, out_w;
    };
    for (const Case& c : std::vector<Case>{{28, 28, 5, 1, 2, 28, 28}, {14, 14, 5, 1, 0, 10, 10}, {32, 32, 3, 1, 1, 32, 32},
                                           {7, 6, 3, 2, 1, 4, 3}, {8, 5, 2, 3, 0, 3, 2}, {5, 5, 5, 1, 0, 1, 1},
                                           {1, 1, 3, 1, 1, 1, 1}, {9, 4, 4, 2, 1, 4, 2}, {6, 11, 3, 2, 0, 2, 5},
                                           {5, 3, 1, 1, 2, 9, 7}}) {
        INFO("H " << c.H << ", W " << c.W << ", k " << c.k << ", stride " << c.s << ", padding " << c.p);
        const tt::Tensor out = tt::conv2d(random_values({2, 1, c.H, c.W}, 1), random_values({3, 1, c.k, c.k}, 2), tt::Tensor(), c.s, c.p);
        CHECK(out.shape() == tt::Shape{2, 3, c.out_h, c.out_w});
    }
}

TEST_CASE("conv2d with stride 2 and padding 1 by hand", "[points=2]") {
    const tt::Tensor x = nested({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});
    const tt::Tensor w = nested({{{{1, 2}, {0, -1}}}});
    // windows start at (-1, -1), (-1, 1), (1, -1), (1, 1); the padding reads 0
    CHECK_THAT(tt::conv2d(x, w, nested({0.5f}), 2, 1), tensor_equal(nested({{{{-0.5f, -2.5f}, {1.5f, 8.5f}}}})));
    // a 4x5 image, 3x3 ones kernel, stride 2, padding 1: sums of the 3x3 neighbourhoods of (0, 0), (0, 2), (0, 4), (2, 0), ...
    const tt::Tensor image = iota({1, 1, 4, 5}, 1.0f);
    const tt::Tensor ones = raw(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
    CHECK_THAT(tt::conv2d(image, ones, tt::Tensor(), 2, 1), tensor_equal(nested({{{{16, 33, 28}, {69, 117, 87}}}})));
}

TEST_CASE("conv2d sums over input channels with the weight laid out as (F C k k)", "[points=2]") {
    // C = 2 input channels, F = 3 filters, 1x1 kernels: out[f] = sum_c w[f, c] * x[c]
    const tt::Tensor x = nested({{{{1, 2}}, {{10, 20}}}});       // (1, 2, 1, 2)
    const tt::Tensor w = nested({{{{1}}, {{0}}}, {{{0}}, {{1}}}, {{{2}}, {{-1}}}});  // (3, 2, 1, 1)
    CHECK_THAT(tt::conv2d(x, w), tensor_equal(nested({{{{1, 2}}, {{10, 20}}, {{-8, -16}}}})));
    // 2 -> 3 channels with 2x2 kernels on a non-square image
    const tt::Tensor x2 = random_values({1, 2, 4, 3}, 3), w2 = random_values({3, 2, 2, 2}, 4);
    CHECK_THAT(tt::conv2d(x2, w2), tensor_near(ref::conv2d(x2, w2, tt::Tensor(), 1, 0), 1e-5, 1e-5));
}

TEST_CASE("conv2d matches the direct convolution on random batches", "[points=3]") {
    struct Case {
        tt::Shape x, w;
        int64_t s, p;
        bool bias;
    };
    uint64_t seed = 30;
    for (const Case& c : std::vector<Case>{{{2, 3, 6, 5}, {4, 3, 3, 3}, 1, 1, true}, {{3, 2, 7, 6}, {3, 2, 3, 3}, 2, 1, true},
                                           {{1, 3, 8, 8}, {2, 3, 5, 5}, 1, 2, false}, {{2, 2, 9, 7}, {2, 2, 2, 2}, 3, 0, true},
                                           {{2, 1, 6, 6}, {2, 1, 3, 3}, 2, 2, true}, {{1, 2, 5, 4}, {3, 2, 5, 5}, 1, 1, true},
                                           {{2, 3, 10, 3}, {2, 3, 3, 3}, 2, 1, false}, {{4, 1, 5, 5}, {1, 1, 4, 4}, 1, 0, true}}) {
        INFO("x " << shape_text(c.x) << ", w " << shape_text(c.w) << ", stride " << c.s << ", padding " << c.p);
        const tt::Tensor x = random_values(c.x, ++seed), w = random_values(c.w, ++seed);
        const tt::Tensor b = c.bias ? random_values({c.w[0]}, ++seed) : tt::Tensor();
        CHECK_THAT(tt::conv2d(x, w, b, c.s, c.p), tensor_near(ref::conv2d(x, w, b, c.s, c.p), 1e-5, 1e-5));
    }
}

TEST_CASE("conv2d gives each image of a batch its own result", "[points=1]") {
    const tt::Tensor x = random_values({3, 2, 5, 5}, 5), w = random_values({2, 2, 3, 3}, 6), b = random_values({2}, 7);
    const tt::Tensor batch = tt::conv2d(x, w, b, 1, 1);
    for (int64_t n = 0; n < 3; ++n) {
        INFO("image " << n);
        const tt::Tensor one = raw_copy(x.slice(0, n, n + 1));
        CHECK_THAT(raw_copy(batch.slice(0, n, n + 1)), tensor_near(ref::conv2d(one, w, b, 1, 1), 1e-5, 1e-5));
    }
}

TEST_CASE("conv2d with a 1x1 kernel and with a kernel as large as the image", "[points=1]") {
    const tt::Tensor x = random_values({2, 4, 3, 5}, 8);
    const tt::Tensor w1 = random_values({3, 4, 1, 1}, 9);
    CHECK_THAT(tt::conv2d(x, w1), tensor_near(ref::conv2d(x, w1, tt::Tensor(), 1, 0), 1e-5, 1e-5));
    const tt::Tensor w5 = random_values({2, 4, 5, 5}, 10);  // padded to 5x7: 1x3 outputs
    CHECK_THAT(tt::conv2d(x, w5, tt::Tensor(), 1, 1), tensor_near(ref::conv2d(x, w5, tt::Tensor(), 1, 1), 1e-5, 1e-5));
}

TEST_CASE("conv2d reads non-contiguous inputs and weights through their strides", "[points=1]") {
    const tt::Tensor x = random_values({2, 3, 5, 4}, 11), w = random_values({2, 3, 3, 3}, 12), b = random_values({2}, 13);
    const tt::Tensor expected = ref::conv2d(x, w, b, 1, 1);
    CHECK_THAT(tt::conv2d(padded(x), padded(w), padded(b), 1, 1), tensor_near(expected, 1e-5, 1e-5));
    const tt::Tensor channels_last = raw_copy(x.permute({0, 2, 3, 1}));  // (N, H, W, C) in memory
    CHECK_THAT(tt::conv2d(channels_last.permute({0, 3, 1, 2}), w, b, 1, 1), tensor_near(expected, 1e-5, 1e-5));
}

TEST_CASE("conv2d matches PyTorch on a strided padded multi-channel batch", "[points=2]") {
    // wave(shape, a, b, scale)[i] = scale * sin(a * i + b). PyTorch 1.13:
    //   x = wave((2,3,4,5), .43, .3); w = wave((2,3,3,3), .67, .1, .4); b = wave((2,), .9, .2)
    //   F.conv2d(x, w, b, stride=2, padding=1)
    const tt::Tensor x = ref::wave({2, 3, 4, 5}, 0.43, 0.3), w = ref::wave({2, 3, 3, 3}, 0.67, 0.1, 0.4);
    const tt::Tensor b = ref::wave({2}, 0.9, 0.2);
    const tt::Tensor expected =
        raw({-0.339877903f, -0.225040123f, 0.414378047f, 0.543515146f, -0.414652288f, -0.607837558f, 0.527831852f, 1.06729329f,
             1.39655983f, 0.638536572f, -0.261718512f, 0.276243865f, -0.222020969f, 0.276112199f, 0.662719011f, 0.0183580071f,
             -0.918573856f, -0.46089673f, 0.838185549f, 1.50371158f, 1.40205741f, 0.217949033f, -0.214440107f, 0.732647777f},
            {2, 2, 2, 3});
    CHECK_THAT(tt::conv2d(x, w, b, 2, 1), tensor_near(expected, 1e-5, 1e-5));
}

TEST_CASE("conv2d runs all of its multiply-adds through kernels::gemm", "[points=2]") {
    // The one dispatch point module 15 makes fast: a conv written as its own six loops would never
    // get faster. N 3, C 2, 6x5 images, 4 filters 3x3, padding 1: R = C*k*k = 18, P = 30 positions,
    // so 3 * 4 * 18 * 30 multiply-adds in all, however the products are grouped.
    const tt::Tensor x = random_values({3, 2, 6, 5}, 14), w = random_values({4, 2, 3, 3}, 15);
    g_calls = g_multiply_adds = 0;
    tt::kernels::set_gemm_override(counting_gemm);
    tt::Tensor y;
    try {
        y = tt::conv2d(x, w, tt::Tensor(), 1, 1);
    } catch (...) {
        tt::kernels::set_gemm_override(nullptr);
        throw;
    }
    tt::kernels::set_gemm_override(nullptr);
    CHECK(g_calls >= 1);
    CHECK(g_multiply_adds == 3 * 4 * 18 * 30);
    CHECK_THAT(y, tensor_near(ref::conv2d(x, w, tt::Tensor(), 1, 1), 1e-5, 1e-5));
}

TEST_CASE("conv2d refuses wrong shapes and settings with a tt::Error that names them", "[points=2]") {
    const tt::Tensor x = random_values({2, 3, 8, 8}, 1), w = random_values({4, 3, 3, 3}, 2);
    CHECK_THAT(error_message([&] { tt::conv2d(random_values({3, 8, 8}, 1), w); }), Contains("conv2d") && Contains("(3, 8, 8)"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, random_values({4, 2, 3, 3}, 1)); }),
               Contains("conv2d") && Contains("(2, 3, 8, 8)") && Contains("(4, 2, 3, 3)"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, random_values({4, 3, 3, 2}, 1)); }), Contains("conv2d") && Contains("(4, 3, 3, 2)"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, w, random_values({3}, 1)); }), Contains("conv2d") && Contains("(3)"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, w, tt::Tensor(), 0); }), Contains("conv2d") && Contains("stride"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, w, tt::Tensor(), 1, -1); }), Contains("conv2d") && Contains("padding"));
    CHECK_THAT(error_message([&] { tt::conv2d(random_values({1, 3, 2, 2}, 1), w); }), Contains("conv2d") && Contains("(1, 3, 2, 2)"));
    CHECK(tt::conv2d(random_values({1, 3, 2, 2}, 1), w, tt::Tensor(), 1, 1).shape() == tt::Shape{1, 4, 2, 2});  // padded: fits
}
