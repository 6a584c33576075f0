// test_pooling.cpp - module 09 grader: max_pool2d, avg_pool2d, their backward, and the pooling
// layers (pooling.cpp).
//     (N, C, H, W) -> (N, C, H', W'),  H' = (H + 2p - k) / s + 1,  stride 0 (the default) means s = k
//     max: padding is -infinity, ties keep the first maximum, a NaN is the maximum (PyTorch)
//     avg: padding is 0 and counts in the divisor k*k (PyTorch's count_include_pad = true)
// Expected values: by hand, from the window-by-window loops of spatial_reference.h, or from
// PyTorch 1.13 (numbers written below).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "spatial_reference.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = spatial_reference;

namespace {

const float kNan = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

struct PoolCase {
    tt::Shape x;
    int64_t k, s, p;
};

// Windows side by side, overlapping (s < k), with gaps (s > k), padded, non-square, several
// images and channels.
const std::vector<PoolCase>& pool_cases() {
    static const std::vector<PoolCase> cases = {
        {{2, 3, 6, 6}, 2, 2, 0}, {{2, 2, 7, 5}, 3, 2, 1}, {{1, 2, 6, 9}, 3, 1, 1}, {{2, 1, 9, 7}, 2, 3, 0},
        {{1, 1, 5, 5}, 5, 1, 2}, {{3, 2, 4, 6}, 1, 1, 0},  {{1, 3, 6, 4}, 4, 2, 2}, {{2, 2, 5, 8}, 2, 1, 1},
    };
    return cases;
}

std::string describe(const PoolCase& c) {
    return "x " + shape_text(c.x) + ", k " + std::to_string(c.k) + ", s " + std::to_string(c.s) + ", p " + std::to_string(c.p);
}

// The 4x4 image of the lesson's example.
tt::Tensor four_by_four() { return nested({{{{1, 3, 2, 0}, {4, 2, 1, 1}, {0, 8, 9, 5}, {6, 7, 3, 4}}}}); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// max_pool2d forward
// ---------------------------------------------------------------------------------------------

TEST_CASE("max_pool2d by hand with the default stride equal to the kernel size", "[points=2]") {
    CHECK_THAT(tt::max_pool2d(four_by_four(), 2), tensor_equal(nested({{{{4, 2}, {8, 9}}}})));
    // a non-square image: 2x3 with k 2, s 1 -> 1x2
    CHECK_THAT(tt::max_pool2d(nested({{{{1, 5, 2}, {7, 3, 4}}}}), 2, 1), tensor_equal(nested({{{{7, 5}}}})));
    // a 3x5 image with k 2 and the default stride: the last row and column fit no window
    CHECK_THAT(tt::max_pool2d(iota({1, 1, 3, 5}), 2), tensor_equal(nested({{{{6, 8}}}})));
    CHECK_THAT(tt::max_pool2d(four_by_four(), 2, 1), tensor_equal(nested({{{{4, 3, 2}, {8, 9, 9}, {8, 9, 9}}}})));
    CHECK_THAT(tt::max_pool2d(four_by_four(), 3, 1), tensor_equal(nested({{{{9, 9}, {9, 9}}}})));
}

TEST_CASE("max_pool2d treats padding as minus infinity and never as zero", "[points=2]") {
    // All values negative: a zero from the padding would win every border window.
    const tt::Tensor negative = nested({{{{-1, -2}, {-3, -4}}}});
    CHECK_THAT(tt::max_pool2d(negative, 2, 1, 1), tensor_equal(nested({{{{-1, -1, -2}, {-1, -1, -2}, {-3, -3, -4}}}})));
    CHECK_THAT(tt::max_pool2d(reference_unary(iota({1, 2, 3, 3}), [](float v) { return -1 - v; }), 2, 2, 1),
               tensor_equal(nested({{{{-1, -2}, {-4, -5}}, {{-10, -11}, {-13, -14}}}})));
}

TEST_CASE("max_pool2d output size is (H + 2p - k) / s + 1 in each direction", "[points=1]") {
    struct Case {
        int64_t H, W, k, s, p, out_h, out_w;
    };
    for (const Case& c : std::vector<Case>{{28, 28, 2, 2, 0, 14, 14}, {7, 7, 2, 2, 0, 3, 3}, {5, 8, 3, 2, 1, 3, 4},
                                           {6, 9, 3, 3, 0, 2, 3}, {4, 4, 3, 1, 1, 4, 4}, {9, 5, 4, 2, 2, 5, 3},
                                           {3, 3, 3, 1, 0, 1, 1}, {10, 3, 2, 4, 1, 3, 1}}) {
        INFO("H " << c.H << ", W " << c.W << ", k " << c.k << ", stride " << c.s << ", padding " << c.p);
        CHECK(tt::max_pool2d(random_values({2, 3, c.H, c.W}, 1), c.k, c.s, c.p).shape() == tt::Shape{2, 3, c.out_h, c.out_w});
        CHECK(tt::avg_pool2d(random_values({2, 3, c.H, c.W}, 1), c.k, c.s, c.p).shape() == tt::Shape{2, 3, c.out_h, c.out_w});
    }
}

TEST_CASE("max_pool2d matches window-by-window loops on batches of several channels", "[points=2]") {
    uint64_t seed = 10;
    for (const PoolCase& c : pool_cases()) {
        INFO(describe(c));
        const tt::Tensor x = random_values(c.x, ++seed);
        CHECK_THAT(tt::max_pool2d(x, c.k, c.s, c.p), tensor_equal(ref::max_pool2d(x, c.k, c.s, c.p).out));
    }
    const tt::Tensor x = random_values({2, 3, 6, 5}, 3);
    const tt::Tensor expected = ref::max_pool2d(x, 2, 2, 1).out;
    CHECK_THAT(tt::max_pool2d(padded(x), 2, 2, 1), tensor_equal(expected));
    const tt::Tensor channels_last = raw_copy(x.permute({0, 2, 3, 1}));
    CHECK_THAT(tt::max_pool2d(channels_last.permute({0, 3, 1, 2}), 2, 2, 1), tensor_equal(expected));
}

TEST_CASE("max_pool2d lets a NaN win its window and handles infinities", "[points=1]") {
    const tt::Tensor x = nested({{{{1, kNan, 3, 4}, {2, 0, 1, 1}}}});
    CHECK_THAT(tt::max_pool2d(x, 2), tensor_equal(nested({{{{kNan, 4}}}})));
    const tt::Tensor late_nan = nested({{{{9, 1}, {2, kNan}}}});  // the NaN comes after the 9
    CHECK_THAT(tt::max_pool2d(late_nan, 2), tensor_equal(nested({{{{kNan}}}})));
    const tt::Tensor infinities = raw({-kInf, -kInf, -kInf, kInf}, {1, 1, 2, 2});
    CHECK_THAT(tt::max_pool2d(infinities, 1), tensor_equal(infinities));
    CHECK_THAT(tt::max_pool2d(infinities, 2), tensor_equal(raw({kInf}, {1, 1, 1, 1})));
}

// ---------------------------------------------------------------------------------------------
// max_pool2d backward
// ---------------------------------------------------------------------------------------------

TEST_CASE("max_pool2d backward sends each gradient to its window's maximum only", "[points=1]") {
    tt::Tensor x = leaf(four_by_four());
    tt::max_pool2d(x, 2).backward(nested({{{{10, 20}, {30, 40}}}}));
    CHECK_THAT(x.grad(), tensor_equal(nested({{{{0, 0, 20, 0}, {10, 0, 0, 0}, {0, 30, 40, 0}, {0, 0, 0, 0}}}})));
}

TEST_CASE("max_pool2d backward gives a tie to the first maximum of the window", "[points=2]") {
    tt::Tensor ties = leaf(nested({{{{5, 5}, {5, 1}}, {{1, 5}, {5, 2}}}}));  // two channels, ties in each
    tt::max_pool2d(ties, 2).backward(nested({{{{3}}, {{4}}}}));
    CHECK_THAT(ties.grad(), tensor_equal(nested({{{{3, 0}, {0, 0}}, {{0, 4}, {0, 0}}}})));
    tt::Tensor flat = leaf(raw(std::vector<float>(6, 1.0f), {1, 1, 2, 3}));  // all equal: every window picks its first pixel
    tt::max_pool2d(flat, 2, 1).sum().backward();
    CHECK_THAT(flat.grad(), tensor_equal(nested({{{{1, 1, 0}, {0, 0, 0}}}})));
}

TEST_CASE("max_pool2d backward adds up the gradients of a pixel that wins several windows", "[points=2]") {
    tt::Tensor x = leaf(nested({{{{0, 0, 0}, {0, 9, 0}, {0, 0, 0}}}}));  // the 9 wins all four 2x2 windows
    tt::max_pool2d(x, 2, 1).backward(nested({{{{1, 2}, {3, 4}}}}));
    CHECK_THAT(x.grad(), tensor_equal(nested({{{{0, 0, 0}, {0, 10, 0}, {0, 0, 0}}}})));
    // With padding: a corner pixel wins the windows that hang over the border
    tt::Tensor negative = leaf(nested({{{{-1, -2}, {-3, -4}}}}));
    tt::max_pool2d(negative, 2, 1, 1).sum().backward();
    CHECK_THAT(negative.grad(), tensor_equal(nested({{{{4, 2}, {2, 1}}}})));
}

TEST_CASE("max_pool2d backward matches the reference and finite differences", "[points=2]") {
    uint64_t seed = 20;
    for (const PoolCase& c : pool_cases()) {
        INFO(describe(c));
        tt::Tensor x = leaf(ref::distinct_values(c.x, ++seed));  // unique maxima: the winners are unambiguous
        const tt::Tensor y = tt::max_pool2d(x, c.k, c.s, c.p);
        const tt::Tensor g = random_values(y.shape(), ++seed);
        y.backward(g);
        CHECK_THAT(x.grad(), tensor_near(ref::max_pool2d_grad(x, g, c.k, c.s, c.p), 1e-6, 1e-6));
        CHECK(gradient_check([c](const auto& in) { return tt::max_pool2d(in[0], c.k, c.s, c.p); },
                             {ref::distinct_values(c.x, seed)}));
    }
    // a non-contiguous input and a non-contiguous incoming gradient
    const tt::Tensor values = ref::distinct_values({2, 2, 4, 6}, 5);
    tt::Tensor x = leaf(padded(values));
    const tt::Tensor y = tt::max_pool2d(x, 3, 2, 1);
    const tt::Tensor g = random_values(y.shape(), 6);
    y.backward(padded(g));
    CHECK_THAT(x.grad(), tensor_near(ref::max_pool2d_grad(values, g, 3, 2, 1), 1e-6, 1e-6));
}

TEST_CASE("MaxPool2dBackward keeps the flat index y times W plus x of each winner within its plane", "[points=1]") {
    const tt::Tensor x = leaf(nested({{{{1, 3, 2, 0}, {4, 2, 1, 1}, {0, 8, 9, 5}, {6, 7, 3, 4}}},
                                      {{{9, 0, 0, 0}, {0, 0, 0, 7}, {0, 0, 0, 0}, {0, 6, 5, 0}}}}));
    const tt::Tensor y = tt::max_pool2d(x, 2);
    auto* node = dynamic_cast<tt::MaxPool2dBackward*>(y.grad_fn().get());
    REQUIRE(node != nullptr);
    CHECK(node->input_shape == tt::Shape{2, 1, 4, 4});
    CHECK_THAT(node->argmax, tensor_equal(nested({{{{4, 2}, {9, 10}}}, {{{0, 7}, {13, 14}}}})));
}

TEST_CASE("max_pool2d matches PyTorch forward and backward", "[points=2]") {
    // PyTorch 1.13, wave(shape, a, b)[i] = sin(a * i + b):
    //   x = wave((2,2,3,4), .53, .1); y = F.max_pool2d(x, 2, 1, 1); y.backward(wave(y.shape, .29, .4))
    tt::Tensor x = leaf(ref::wave({2, 2, 3, 4}, 0.53, 0.1));
    const tt::Tensor y = tt::max_pool2d(x, 2, 1, 1);
    CHECK_THAT(y, tensor_near(raw({0.099833414f, 0.589144766f, 0.916803122f, 0.99290365f, 0.99290365f, 0.796565473f,
                           0.796565473f, 0.916803122f, 0.99290365f, 0.99290365f, 0.796565473f, 0.796565473f,
                           0.381660998f, -0.137965873f, -0.345888257f, -0.931460798f, -0.931460798f, -0.772764504f,
                           -0.345888257f, -0.345888257f, 0.175894827f, 0.649414837f, 0.944744647f, 0.980849862f,
                           0.980849862f, 0.747823715f, 0.747823715f, 0.944744647f, 0.980849862f, 0.980849862f,
                           0.747823715f, 0.747823715f, 0.30960536f, -0.213564351f, -0.272865802f, -0.956634998f,
                           -0.956634998f, -0.721779943f, -0.272865802f, -0.272865802f, 0.250918865f, 0.705854952f,
                           0.967114449f, 0.967114449f, 0.963011384f, 0.694671631f, 0.705854952f, 0.967114449f,
                           0.967114449f, 0.963011384f, 0.694671631f, 0.694671631f, 0.235723779f, -0.198234081f,
                           -0.198234081f, -0.976167381f, -0.951954424f, -0.666538656f, -0.198234081f, -0.198234081f,
                           0.324463099f, 0.758132219f, 0.983780563f, 0.983780563f, 0.939493418f, 0.637422621f,
                           0.758132219f, 0.983780563f, 0.983780563f, 0.939493418f, 0.637422621f, 0.637422621f,
                           0.160452008f, -0.122433268f, -0.122433268f, -0.989942729f, -0.925646722f, -0.607366383f,
                           -0.122433268f, -0.122433268f}, {2, 2, 4, 5}), 1e-6, 1e-6));
    y.backward(ref::wave({2, 2, 4, 5}, 0.29, 0.4));
    CHECK_THAT(x.grad(), tensor_near(raw({0.389418334f, 0.636537194f, 1.48353815f, 2.49547005f, 1.21232903f, -0.673110962f,
                           -0.856477976f, 0, -1.94610655f, 0, -0.815264225f, -1.9485321f, -0.0830894038f,
                           0.205343515f, 1.40676188f, 2.95162487f, 2.32943964f, -0.252460271f, -0.518607974f, 0,
                           -1.89028597f, 0, -0.990978479f, -2.40819049f, -0.536572933f, 0.649294734f, 2.29021025f,
                           1.44965482f, 1.99103916f, 0.225993961f, 0, 0, -0.598827839f, -0.802835882f, -0.939797342f,
                           -2.37846422f, -0.867202163f, -0.0517198443f, 1.15489399f, 1.11016607f, 2.19307113f,
                           0.652704358f, 0, 0, -0.158184201f, -0.433931023f, -0.673439264f, -1.28555465f}, {2, 2, 3, 4}), 1e-5, 1e-5));
    //   x = wave((1,2,7,6), .71, .3); y = F.max_pool2d(x, 3, 2); y.backward(wave(y.shape, .19, .2))
    tt::Tensor x2 = leaf(ref::wave({1, 2, 7, 6}, 0.71, 0.3));
    const tt::Tensor y2 = tt::max_pool2d(x2, 3, 2);
    CHECK_THAT(y2, tensor_near(raw({0.988889754f, 0.988889754f, 0.9403404f, 0.97125417f, 0.991097093f, 0.97125417f,
                           0.996794343f, 0.999642968f, 0.996794343f, 0.982583761f, 0.957173169f, 0.952496946f}, {1, 2, 3, 2}), 1e-6, 1e-6));
    y2.backward(ref::wave({1, 2, 3, 2}, 0.19, 0.2));
    CHECK_THAT(x2.grad(), tensor_near(raw({0, 0, 0.57885772f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.548023939f, 0, 0, 0,
                           0, 0, 0, 0, 0, 1.60889912f, 0, 0, 0, 0, 0, 0, 0, 0, 0.819191575f, 0, 0, 0, 0, 0, 0, 0, 0,
                           0.999167919f, 0, 0, 0, 0, 0, 0, 0, 0, 1.96237421f, 0, 0, 0, 0, 0, 0, 0, 0, 0.943019927f, 0,
                           0, 0, 0, 0, 0, 0, 0, 0.863209367f, 0, 0, 0, 0, 0, 0, 0, 0.752330601f, 0, 0}, {1, 2, 7, 6}), 1e-5, 1e-5));
}

// ---------------------------------------------------------------------------------------------
// avg_pool2d
// ---------------------------------------------------------------------------------------------

TEST_CASE("avg_pool2d by hand with the default stride equal to the kernel size", "[points=1]") {
    CHECK_THAT(tt::avg_pool2d(four_by_four(), 2), tensor_equal(nested({{{{2.5f, 1}, {5.25f, 5.25f}}}})));
    CHECK_THAT(tt::avg_pool2d(four_by_four(), 2, 1),
               tensor_equal(nested({{{{2.5f, 2, 1}, {3.5f, 5, 4}, {5.25f, 6.75f, 5.25f}}}})));
    CHECK_THAT(tt::avg_pool2d(iota({1, 1, 3, 5}), 2), tensor_equal(nested({{{{3, 5}}}})));
}

TEST_CASE("avg_pool2d counts the padding as zeros in the divisor k times k", "[points=2]") {
    // A 2x2 image of ones, k 2, s 1, p 1: a corner window holds 1 real pixel of 4, an edge window 2.
    const tt::Tensor ones = raw(std::vector<float>(4, 1.0f), {1, 1, 2, 2});
    CHECK_THAT(tt::avg_pool2d(ones, 2, 1, 1), tensor_equal(nested({{{{0.25f, 0.5f, 0.25f}, {0.5f, 1, 0.5f}, {0.25f, 0.5f, 0.25f}}}})));
    CHECK_THAT(tt::avg_pool2d(four_by_four(), 3, 2, 1), tensor_near(nested({{{{10.0f / 9, 1}, {3, 40.0f / 9}}}}), 1e-6, 1e-6));  // sums 10, 9, 27, 40
}

TEST_CASE("avg_pool2d matches window-by-window loops on batches of several channels", "[points=1]") {
    uint64_t seed = 40;
    for (const PoolCase& c : pool_cases()) {
        INFO(describe(c));
        const tt::Tensor x = random_values(c.x, ++seed);
        CHECK_THAT(tt::avg_pool2d(x, c.k, c.s, c.p), tensor_near(ref::avg_pool2d(x, c.k, c.s, c.p), 1e-6, 1e-5));
    }
    const tt::Tensor x = random_values({2, 3, 5, 6}, 4);
    CHECK_THAT(tt::avg_pool2d(padded(x), 3, 2, 1), tensor_near(ref::avg_pool2d(x, 3, 2, 1), 1e-6, 1e-5));
}

TEST_CASE("avg_pool2d backward spreads each gradient over its window divided by k times k", "[points=2]") {
    tt::Tensor x = leaf(four_by_four());
    tt::avg_pool2d(x, 2).backward(nested({{{{4, 8}, {12, 16}}}}));
    CHECK_THAT(x.grad(), tensor_equal(nested({{{{1, 1, 2, 2}, {1, 1, 2, 2}, {3, 3, 4, 4}, {3, 3, 4, 4}}}})));
    // Padding: every pixel of a 2x2 image lies in four windows, each giving 1/4 of its gradient
    tt::Tensor ones = leaf(raw(std::vector<float>(4, 1.0f), {1, 1, 2, 2}));
    tt::avg_pool2d(ones, 2, 1, 1).sum().backward();
    CHECK_THAT(ones.grad(), tensor_equal(raw(std::vector<float>(4, 1.0f), {1, 1, 2, 2})));
    // Overlapping windows add: the centre of a 3x3 image is in all four 2x2 windows
    tt::Tensor nine = leaf(iota({1, 1, 3, 3}));
    tt::avg_pool2d(nine, 2, 1).sum().backward();
    CHECK_THAT(nine.grad(), tensor_equal(nested({{{{0.25f, 0.5f, 0.25f}, {0.5f, 1, 0.5f}, {0.25f, 0.5f, 0.25f}}}})));
}

TEST_CASE("avg_pool2d backward matches the reference and finite differences", "[points=1]") {
    uint64_t seed = 60;
    for (const PoolCase& c : pool_cases()) {
        INFO(describe(c));
        tt::Tensor x = leaf(random_values(c.x, ++seed));
        const tt::Tensor y = tt::avg_pool2d(x, c.k, c.s, c.p);
        const tt::Tensor g = random_values(y.shape(), ++seed);
        y.backward(padded(g));
        CHECK_THAT(x.grad(), tensor_near(ref::avg_pool2d_grad(x, g, c.k, c.s, c.p), 1e-6, 1e-5));
        CHECK(gradient_check([c](const auto& in) { return tt::avg_pool2d(in[0], c.k, c.s, c.p); }, {random_values(c.x, seed)}));
    }
}

TEST_CASE("avg_pool2d matches PyTorch forward and backward", "[points=1]") {
    // PyTorch 1.13: x = wave((2,1,5,6), .47, .2); y = F.avg_pool2d(x, 3, 2, 1); y.backward(wave(y.shape, .37, .9))
    tt::Tensor x = leaf(ref::wave({2, 1, 5, 6}, 0.47, 0.2));
    const tt::Tensor y = tt::avg_pool2d(x, 3, 2, 1);
    CHECK_THAT(y, tensor_near(raw({0.0666163638f, 0.0552220866f, -0.0338057019f, 0.0400876068f, -0.132278621f, -0.275042892f,
                           -0.0533461981f, -0.099010177f, -0.0572415181f, -0.016250167f, -0.0800835714f,
                           -0.0942629874f, -0.18814671f, -0.248724997f, -0.047267355f, -0.0460318998f,
                           -0.00225167815f, 0.0786161125f}, {2, 1, 3, 3}), 1e-6, 1e-5));
    y.backward(ref::wave({2, 1, 3, 3}, 0.37, 0.9));
    CHECK_THAT(x.grad(), tensor_near(raw({0.0870363265f, 0.193158641f, 0.106122315f, 0.216967463f, 0.110845156f, 0.110845156f,
                           0.187601954f, 0.370399266f, 0.182797313f, 0.336049229f, 0.153251931f, 0.153251931f,
                           0.10056562f, 0.17724061f, 0.0766749978f, 0.11908178f, 0.0424067788f, 0.0424067788f,
                           0.102964617f, 0.141706139f, 0.0387415215f, 0.00801647455f, -0.0307250507f, -0.0307250507f,
                           0.00239899731f, -0.0355344787f, -0.0379334763f, -0.111065306f, -0.0731318295f,
                           -0.0731318295f, -0.0984321386f, -0.208842248f, -0.110410117f, -0.217854708f, -0.107444599f,
                           -0.107444599f, -0.188369095f, -0.359035999f, -0.170666903f, -0.300532609f, -0.129865721f,
                           -0.129865721f, -0.0899369642f, -0.150193751f, -0.0602567792f, -0.0826779008f,
                           -0.0224211253f, -0.0224211253f, -0.071487844f, -0.0749222562f, -0.00343441218f,
                           0.0616494417f, 0.0650838464f, 0.0650838464f, 0.0184491221f, 0.0752714872f, 0.056822367f,
                           0.144327343f, 0.0875049755f, 0.0875049755f}, {2, 1, 5, 6}), 1e-6, 1e-5));
}

// ---------------------------------------------------------------------------------------------
// Errors and layers
// ---------------------------------------------------------------------------------------------

TEST_CASE("pooling refuses wrong shapes and settings with a tt::Error that names the op", "[points=1]") {
    const tt::Tensor x = random_values({2, 3, 8, 8}, 1);
    for (const std::string op : {"max_pool2d", "avg_pool2d"}) {
        INFO(op);
        auto pool = [&](const tt::Tensor& in, int64_t k, int64_t s, int64_t p) {
            return op == "max_pool2d" ? tt::max_pool2d(in, k, s, p) : tt::avg_pool2d(in, k, s, p);
        };
        CHECK_THAT(error_message([&] { pool(random_values({3, 8, 8}, 1), 2, 0, 0); }), Contains(op) && Contains("(3, 8, 8)"));
        CHECK_THAT(error_message([&] { pool(x, 0, 0, 0); }), Contains(op) && Contains("kernel_size"));
        CHECK_THAT(error_message([&] { pool(x, 2, -1, 0); }), Contains(op) && Contains("stride"));
        CHECK_THAT(error_message([&] { pool(x, 2, 2, 2); }), Contains(op) && Contains("padding"));
        CHECK_THAT(error_message([&] { pool(x, 2, 2, -1); }), Contains(op) && Contains("padding"));
        CHECK_THAT(error_message([&] { pool(random_values({1, 1, 2, 5}, 1), 3, 1, 0); }), Contains(op) && Contains("(1, 1, 2, 5)"));
        CHECK(pool(random_values({1, 1, 2, 5}, 1), 3, 1, 1).shape() == tt::Shape{1, 1, 2, 5});  // padded: fits
    }
}

TEST_CASE("MaxPool2d and AvgPool2d layers pool with their settings and have no parameters", "[points=2]") {
    const tt::Tensor x = random_values({2, 3, 7, 6}, 2);
    tt::MaxPool2d max_pool(2);
    CHECK(max_pool.stride == 2);
    CHECK(max_pool.parameters().empty());
    CHECK_THAT(max_pool(x), tensor_equal(ref::max_pool2d(x, 2, 2, 0).out));
    tt::MaxPool2d overlapping(3, 2, 1);
    CHECK_THAT(overlapping(x), tensor_equal(ref::max_pool2d(x, 3, 2, 1).out));
    CHECK(overlapping.to_string() == "MaxPool2d(kernel_size=3, stride=2, padding=1)");
    CHECK(max_pool.extra_repr() == "kernel_size=2, stride=2, padding=0");
    tt::AvgPool2d avg_pool(3, 1, 1);
    CHECK(avg_pool.parameters().empty());
    CHECK_THAT(avg_pool(x), tensor_near(ref::avg_pool2d(x, 3, 1, 1), 1e-6, 1e-5));
    CHECK(avg_pool.to_string() == "AvgPool2d(kernel_size=3, stride=1, padding=1)");
    CHECK(tt::AvgPool2d(2).extra_repr() == "kernel_size=2, stride=2, padding=0");
    tt::Sequential model{std::make_shared<tt::MaxPool2d>(2), std::make_shared<tt::AvgPool2d>(2, 1), std::make_shared<tt::Flatten>()};
    const tt::Tensor values = ref::distinct_values({2, 2, 6, 8}, 9);
    tt::Tensor input = leaf(values);
    const tt::Tensor y = model(input);
    REQUIRE(y.shape() == tt::Shape{2, 2 * 2 * 3});
    const tt::Tensor g = random_values({2, 12}, 10);
    y.backward(g);
    const tt::Tensor pooled = ref::max_pool2d(values, 2, 2, 0).out;
    const tt::Tensor g_pooled = ref::avg_pool2d_grad(pooled, raw(values_of(g), {2, 2, 2, 3}), 2, 1, 0);
    CHECK_THAT(input.grad(), tensor_near(ref::max_pool2d_grad(values, g_pooled, 2, 2, 0), 1e-6, 1e-5));
}

