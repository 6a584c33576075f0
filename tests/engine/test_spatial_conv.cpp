// test_spatial_conv.cpp - module 09: im2col, col2im, conv2d and its backward, and the Conv2d layer
// (engine/src/09_spatial/conv.cpp).
//
// Expected values come from hand computation, from the direct six-loop convolution of
// graders/09_spatial/spatial_reference.h (never from im2col), or from PyTorch 1.13 (numbers
// written below, with the Python that produced them).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../../graders/09_spatial/spatial_reference.h"
#include "engine_testing.h"
#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/kernels.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;
namespace ref = spatial_reference;

namespace {

// Counts what goes through the dispatch point: calls and multiply-adds (M * N * K per call).
int64_t g_gemm_calls = 0, g_gemm_multiply_adds = 0;
void counting_gemm(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
    ++g_gemm_calls;
    g_gemm_multiply_adds += M * N * K;
    tt::kernels::gemm_naive(M, N, K, A, B, C);
}

// Installs counting_gemm for its scope.
struct CountGemm {
    CountGemm() {
        g_gemm_calls = g_gemm_multiply_adds = 0;
        tt::kernels::set_gemm_override(counting_gemm);
    }
    ~CountGemm() { tt::kernels::set_gemm_override(nullptr); }
};

// The columns im2col writes for `image` (C, H, W), read back as an (R, P) tensor. The buffer starts
// full of 7s, so a position im2col forgets to write shows up.
tt::Tensor run_im2col(const tt::Tensor& image, int64_t k, int64_t s, int64_t p) {
    const tt::Conv2dGeometry g{image.shape()[0], image.shape()[1], image.shape()[2], k, s, p};
    const int64_t rows = g.channels * k * k, cols = g.out_height() * g.out_width();
    std::vector<float> columns(static_cast<size_t>(rows * cols), 7.0f);
    const std::vector<float> pixels = values_of(image);
    tt::im2col(pixels.data(), g, columns.data());
    return raw(columns, {rows, cols});
}

struct ConvCase {
    tt::Shape x, w;
    int64_t stride, padding;
    bool bias;
};

// Geometries that catch the usual mistakes: stride that does not divide evenly, padding, 1x1
// kernels, a kernel as large as the padded image, non-square images, batches and channels > 1.
const std::vector<ConvCase>& conv_cases() {
    static const std::vector<ConvCase> cases = {
        {{1, 1, 5, 5}, {1, 1, 3, 3}, 1, 0, true},  {{2, 3, 6, 5}, {4, 3, 3, 3}, 1, 1, true},
        {{2, 2, 7, 6}, {3, 2, 3, 3}, 2, 1, true},  {{1, 3, 8, 8}, {2, 3, 5, 5}, 1, 2, false},
        {{3, 2, 9, 7}, {2, 2, 2, 2}, 3, 0, true},  {{2, 4, 4, 6}, {5, 4, 1, 1}, 1, 0, true},
        {{1, 2, 5, 4}, {3, 2, 5, 5}, 1, 1, true},  {{2, 1, 6, 6}, {2, 1, 3, 3}, 2, 2, true},
        {{1, 2, 3, 3}, {2, 2, 3, 3}, 1, 0, false}, {{2, 3, 10, 3}, {2, 3, 3, 3}, 2, 1, true},
    };
    return cases;
}

std::string describe(const ConvCase& c) {
    return "x " + shape_text(c.x) + ", w " + shape_text(c.w) + ", stride " + std::to_string(c.stride) + ", padding " +
           std::to_string(c.padding) + (c.bias ? ", bias" : ", no bias");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// im2col / col2im
// ---------------------------------------------------------------------------------------------

TEST_CASE("spatial: im2col of a 3x3 image with a 2x2 kernel, by hand", "[09][spatial][im2col]") {
    const tt::Tensor image = nested({{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}});  // (1, 3, 3)
    CHECK_THAT(run_im2col(image, 2, 1, 0), tensor_equal(nested({{1, 2, 4, 5}, {2, 3, 5, 6}, {4, 5, 7, 8}, {5, 6, 8, 9}})));
    // stride 2, padding 1: out 2x2, windows start at (-1, -1), (-1, 1), (1, -1), (1, 1)
    CHECK_THAT(run_im2col(image, 2, 2, 1), tensor_equal(nested({{0, 0, 0, 5}, {0, 0, 4, 6}, {0, 2, 0, 8}, {1, 3, 7, 9}})));
}

TEST_CASE("spatial: im2col writes zeros for the padding", "[09][spatial][im2col]") {
    const tt::Tensor image = nested({{{1, 2}, {3, 4}}});  // (1, 2, 2), k 2, s 1, p 1: out 3x3
    CHECK_THAT(run_im2col(image, 2, 1, 1), tensor_equal(nested({{0, 0, 0, 0, 1, 2, 0, 3, 4},
                                                                  {0, 0, 0, 1, 2, 0, 3, 4, 0},
                                                                  {0, 1, 2, 0, 3, 4, 0, 0, 0},
                                                                  {1, 2, 0, 3, 4, 0, 0, 0, 0}})));
}

TEST_CASE("spatial: im2col matches its definition for many geometries", "[09][spatial][im2col]") {
    struct Case {
        tt::Shape image;
        int64_t k, s, p;
    };
    for (const Case& c : std::vector<Case>{{{2, 5, 4}, 3, 1, 1}, {{3, 7, 6}, 3, 2, 0}, {{1, 6, 9}, 2, 3, 1}, {{2, 4, 4}, 1, 1, 0},
                                           {{1, 3, 3}, 5, 1, 2}, {{2, 8, 5}, 4, 3, 2}, {{1, 1, 1}, 1, 1, 0}}) {
        INFO("image " << shape_text(c.image) << ", k " << c.k << ", s " << c.s << ", p " << c.p);
        const tt::Tensor image = random_values(c.image, 3);
        CHECK_THAT(run_im2col(image, c.k, c.s, c.p), tensor_equal(ref::im2col(image, c.k, c.s, c.p)));
    }
}

TEST_CASE("spatial: col2im is the adjoint of im2col and adds where windows overlap", "[09][spatial][im2col]") {
    struct Case {
        tt::Shape image;
        int64_t k, s, p;
    };
    for (const Case& c : std::vector<Case>{{{2, 5, 4}, 3, 1, 1}, {{3, 7, 6}, 3, 2, 0}, {{1, 6, 9}, 2, 3, 1}, {{2, 8, 5}, 4, 3, 2}}) {
        INFO("image " << shape_text(c.image) << ", k " << c.k << ", s " << c.s << ", p " << c.p);
        const tt::Conv2dGeometry g{c.image[0], c.image[1], c.image[2], c.k, c.s, c.p};
        const int64_t rows = g.channels * c.k * c.k, cols = g.out_height() * g.out_width();
        // <im2col(a), b> == <a, col2im(b)> for any image a and columns b: that is what "adjoint" means.
        const std::vector<float> a = values_of(random_values(c.image, 5));
        const std::vector<float> b = values_of(random_values({rows, cols}, 6));
        std::vector<float> columns(b.size()), image(a.size(), 0.0f);
        tt::im2col(a.data(), g, columns.data());
        tt::col2im(b.data(), g, image.data());
        double left = 0, right = 0;
        for (size_t i = 0; i < b.size(); ++i) left += static_cast<double>(columns[i]) * b[i];
        for (size_t i = 0; i < a.size(); ++i) right += static_cast<double>(a[i]) * image[i];
        CHECK(left == Approx(right).epsilon(1e-5));
    }
    // By hand: 3x3 image, k 2, s 1: the centre pixel is in all four windows, a corner in one.
    const tt::Conv2dGeometry g{1, 3, 3, 2, 1, 0};
    std::vector<float> image(9, 100.0f);  // added to, not overwritten
    const std::vector<float> ones(16, 1.0f);
    tt::col2im(ones.data(), g, image.data());
    CHECK_THAT(raw(image, {3, 3}), tensor_equal(nested({{101, 102, 101}, {102, 104, 102}, {101, 102, 101}})));
}

// ---------------------------------------------------------------------------------------------
// conv2d forward
// ---------------------------------------------------------------------------------------------

TEST_CASE("spatial: conv2d forward by hand (cross-correlation, not a flipped kernel)", "[09][spatial][conv]") {
    const tt::Tensor x = nested({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});  // (1, 1, 3, 3)
    const tt::Tensor w = nested({{{{1, 2}, {0, -1}}}});                  // (1, 1, 2, 2)
    const tt::Tensor b = nested({0.5f});
    // y[y, x] = x[y, x] + 2 x[y, x+1] - x[y+1, x+1] + 0.5
    CHECK_THAT(tt::conv2d(x, w, b), tensor_equal(nested({{{{0.5f, 2.5f}, {6.5f, 8.5f}}}})));
    // stride 2, padding 1: windows start at (-1, -1), (-1, 1), (1, -1), (1, 1)
    CHECK_THAT(tt::conv2d(x, w, b, 2, 1), tensor_equal(nested({{{{-0.5f, -2.5f}, {1.5f, 8.5f}}}})));
    CHECK_THAT(tt::conv2d(x, w), tensor_equal(nested({{{{0, 2}, {6, 8}}}})));  // no bias
}

TEST_CASE("spatial: conv2d output sizes follow (H + 2p - k) / s + 1", "[09][spatial][conv]") {
    struct Case {
        int64_t H, W, k, s, p, out_h, out_w;
    };
    for (const Case& c : std::vector<Case>{{28, 28, 5, 1, 2, 28, 28}, {32, 32, 3, 1, 1, 32, 32}, {14, 14, 5, 1, 0, 10, 10},
                                           {7, 6, 3, 2, 1, 4, 3}, {8, 5, 2, 3, 0, 3, 2}, {5, 5, 5, 1, 0, 1, 1},
                                           {1, 1, 3, 1, 1, 1, 1}, {9, 4, 4, 2, 1, 4, 2}}) {
        INFO("H " << c.H << ", W " << c.W << ", k " << c.k << ", s " << c.s << ", p " << c.p);
        const tt::Tensor out = tt::conv2d(random_values({2, 1, c.H, c.W}, 1), random_values({3, 1, c.k, c.k}, 2), tt::Tensor(), c.s, c.p);
        CHECK(out.shape() == tt::Shape{2, 3, c.out_h, c.out_w});
        CHECK(tt::Conv2dGeometry{1, c.H, c.W, c.k, c.s, c.p}.out_height() == c.out_h);
    }
}

TEST_CASE("spatial: conv2d matches the direct convolution", "[09][spatial][conv]") {
    uint64_t seed = 100;
    for (const ConvCase& c : conv_cases()) {
        INFO(describe(c));
        const tt::Tensor x = random_values(c.x, ++seed), w = random_values(c.w, ++seed);
        const tt::Tensor b = c.bias ? random_values({c.w[0]}, ++seed) : tt::Tensor();
        CHECK_THAT(tt::conv2d(x, w, b, c.stride, c.padding), tensor_near(ref::conv2d(x, w, b, c.stride, c.padding), 1e-5, 1e-5));
    }
}

TEST_CASE("spatial: conv2d reads non-contiguous inputs and weights through their strides", "[09][spatial][conv]") {
    const tt::Tensor x = random_values({2, 3, 6, 5}, 1), w = random_values({4, 3, 3, 3}, 2), b = random_values({4}, 3);
    const tt::Tensor expected = ref::conv2d(x, w, b, 1, 1);
    CHECK_THAT(tt::conv2d(padded(x), padded(w), padded(b), 1, 1), tensor_near(expected, 1e-5, 1e-5));
    // (N, H, W, C) memory seen as (N, C, H, W) through permute: channels-last
    const tt::Tensor nhwc = raw_copy(x.permute({0, 2, 3, 1}));
    CHECK_THAT(tt::conv2d(nhwc.permute({0, 3, 1, 2}), w, b, 1, 1), tensor_near(expected, 1e-5, 1e-5));
}

TEST_CASE("spatial: conv2d against PyTorch (stride 2, padding 1, two channels, batch 2)", "[09][spatial][conv][pytorch]") {
    // wave(shape, a, b, scale)[i] = scale * sin(a * i + b); PyTorch 1.13:
    //   x = wave((2,2,5,4), .37, .1); w = wave((3,2,3,3), .53, .2, .5); b = wave((3,), .71, .3)
    //   y = F.conv2d(x, w, b, stride=2, padding=1); y.backward(wave(y.shape, .29, .4))
    tt::Tensor x = leaf(ref::wave({2, 2, 5, 4}, 0.37, 0.1)), w = leaf(ref::wave({3, 2, 3, 3}, 0.53, 0.2, 0.5));
    tt::Tensor b = leaf(ref::wave({3}, 0.71, 0.3));
    const tt::Tensor y = tt::conv2d(x, w, b, 2, 1);
    const tt::Tensor expected_y = raw(
        {0.581081867f, 1.04569149f, 0.697620392f, 0.261411428f, 0.388345361f, 0.92616868f, 0.619455576f, 0.129327476f, 0.306524217f,
         0.792335987f, 0.805232406f, 0.251825809f, 1.15506518f, 1.66421175f, 1.66023958f, 1.13126755f, 0.978711843f, 1.54036283f,
         0.418598443f, -0.0974433422f, -0.0783121288f, 0.320347697f, 0.655007482f, 0.231621504f, 0.669598579f, 1.15521765f,
         1.39502788f, 1.06512439f, 0.441979885f, 0.826867044f, 1.21792769f, 0.769171357f, 0.273599684f, 0.530371904f, 1.43373752f,
         1.09245336f},
        {2, 3, 3, 2});
    CHECK_THAT(y, tensor_near(expected_y, 1e-5, 1e-5));
    y.backward(ref::wave({2, 3, 3, 2}, 0.29, 0.4));
    const tt::Tensor expected_dx = raw(
        {-0.318363965f, -0.421939373f, -0.217554659f, 0.00803483371f, 0.200355649f, 0.374218613f, 0.251255304f, 0.33610487f,
         -0.0985769182f, 0.00805724412f, 0.0286332536f, 0.095240429f, 0.281172156f, 0.495698839f, 0.28760761f, 0.367987901f,
         0.153452143f, 0.435418606f, 0.265455961f, 0.151295304f, -0.484780461f, -0.811153293f, -0.3990843f, -0.442860693f,
         -0.193619803f, -0.384460598f, -0.221169382f, -0.0571489781f, -0.280059695f, -0.420663595f, -0.137646705f, -0.100250125f,
         -0.230248615f, -0.391526222f, -0.2200993f, -0.03784905f, 0.0162615143f, 0.107414499f, 0.168811634f, 0.275149763f,
         -0.422213316f, -0.780760884f, -0.44160068f, -0.13725242f, -0.0837331042f, -0.109405287f, -0.00136008498f, 0.024883911f,
         -0.424108952f, -0.679677784f, -0.371198922f, -0.0679298937f, 0.0811265185f, 0.176506862f, 0.15683803f, 0.223999023f,
         -0.287289232f, -0.356289357f, -0.179387391f, 0.0236107856f, -0.435682356f, -0.805453002f, -0.506818235f, -0.646124125f,
         0.014786683f, -0.0753537714f, -0.0515371263f, -0.043652676f, -0.535628617f, -0.936879337f, -0.519707441f, -0.621219575f,
         -0.113556974f, -0.281154424f, -0.166093379f, -0.0590452515f, -0.460384279f, -0.761876225f, -0.36261341f, -0.393129885f},
        {2, 2, 5, 4});
    const tt::Tensor expected_dw = raw(
        {0.304221749f, 0.475118756f, 0.579127491f, 0.353782773f, 0.461148262f, 0.850298226f, 0.125275403f, 0.12968345f,
         0.290351003f, 0.307166576f, 0.546758175f, 0.41506353f, 0.705385029f, 1.24693143f, 1.1970278f, 0.297322541f,
         0.477983475f, 0.477800727f, 0.18114987f, 0.401561648f, 0.251541644f, 0.50162822f, 0.971437454f, 0.637349367f,
         0.337621033f, 0.63763541f, 0.555928946f, -0.12437319f, -0.129198834f, -0.304831237f, -0.234379604f, -0.240893885f,
         -0.657979608f, 0.0550956801f, 0.183811679f, -0.0527590178f, -0.36523211f, -0.610362649f, -0.66384542f, -0.522728503f,
         -0.788323343f, -1.06495416f, -0.238984436f, -0.344435751f, -0.477585018f, -0.26527831f, -0.503244698f, -0.312397867f,
         -0.62644726f, -1.16579998f, -0.975423694f, -0.31587854f, -0.539890349f, -0.460031837f},
        {3, 2, 3, 3});
    CHECK_THAT(x.grad(), tensor_near(expected_dx, 1e-5, 1e-5));
    CHECK_THAT(w.grad(), tensor_near(expected_dw, 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(raw({5.09954643f, 6.5937438f, -7.32028627f}, {3}), 1e-5, 1e-5));
}

TEST_CASE("spatial: conv2d runs every product through kernels::gemm, one image at a time", "[09][spatial][conv]") {
    // (N 3, C 2, 6x5) with 4 filters 3x3, padding 1: R = 18, P = 30
    tt::Tensor x = leaf(random_values({3, 2, 6, 5}, 1)), w = leaf(random_values({4, 2, 3, 3}, 2));
    tt::Tensor y;
    {
        CountGemm count;
        y = tt::conv2d(x, w, tt::Tensor(), 1, 1);
        CHECK(g_gemm_calls == 3);
        CHECK(g_gemm_multiply_adds == 3 * 4 * 18 * 30);
    }
    {
        CountGemm count;
        y.backward(random_values(y.shape(), 3));
        CHECK(g_gemm_multiply_adds == 2 * 3 * 4 * 18 * 30);  // d weight and d columns, per image
    }
    tt::Tensor first_layer = leaf(random_values({4, 2, 3, 3}, 4));  // the input needs no gradient
    const tt::Tensor y2 = tt::conv2d(random_values({3, 2, 6, 5}, 5), first_layer, tt::Tensor(), 1, 1);
    CountGemm count;
    y2.backward(random_values(y2.shape(), 6));
    CHECK(g_gemm_multiply_adds == 3 * 4 * 18 * 30);  // d columns is skipped: no one needs dx
}

TEST_CASE("spatial: conv2d errors name the op and the shapes", "[09][spatial][conv][errors]") {
    const tt::Tensor x = random_values({2, 3, 8, 8}, 1), w = random_values({4, 3, 3, 3}, 2);
    CHECK_THAT(error_message([&] { tt::conv2d(random_values({3, 8, 8}, 1), w); }), Contains("conv2d") && Contains("(3, 8, 8)"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, random_values({4, 3, 9}, 1)); }), Contains("conv2d") && Contains("(4, 3, 9)"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, random_values({4, 2, 3, 3}, 1)); }),
               Contains("conv2d") && Contains("(2, 3, 8, 8)") && Contains("(4, 2, 3, 3)"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, random_values({4, 3, 3, 2}, 1)); }), Contains("conv2d") && Contains("square"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, w, random_values({3}, 1)); }), Contains("conv2d") && Contains("bias"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, w, tt::Tensor(), 0); }), Contains("conv2d") && Contains("stride"));
    CHECK_THAT(error_message([&] { tt::conv2d(x, w, tt::Tensor(), 1, -1); }), Contains("conv2d") && Contains("padding"));
    CHECK_THAT(error_message([&] { tt::conv2d(random_values({1, 3, 2, 2}, 1), w); }), Contains("conv2d") && Contains("kernel"));
    CHECK_NOTHROW(tt::conv2d(random_values({1, 3, 2, 2}, 1), w, tt::Tensor(), 1, 1));  // padded to 4x4: fits
}

// ---------------------------------------------------------------------------------------------
// conv2d backward
// ---------------------------------------------------------------------------------------------

TEST_CASE("spatial: conv2d backward by hand", "[09][spatial][conv][backward]") {
    tt::Tensor x = leaf(nested({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}}));
    tt::Tensor w = leaf(nested({{{{1, 2}, {0, -1}}}}));
    tt::Tensor b = leaf(nested({0.5f}));
    tt::conv2d(x, w, b).sum().backward();
    CHECK_THAT(b.grad(), tensor_equal(nested({4})));                                    // four outputs
    CHECK_THAT(w.grad(), tensor_equal(nested({{{{12, 16}, {24, 28}}}})));               // sums of the 2x2 sub-blocks
    CHECK_THAT(x.grad(), tensor_equal(nested({{{{1, 3, 2}, {1, 2, 1}, {0, -1, -1}}}})));  // every window's weights, added
}

TEST_CASE("spatial: conv2d gradients match the chain rule for many geometries", "[09][spatial][conv][backward]") {
    uint64_t seed = 200;
    for (const ConvCase& c : conv_cases()) {
        INFO(describe(c));
        tt::Tensor x = leaf(random_values(c.x, ++seed)), w = leaf(random_values(c.w, ++seed));
        tt::Tensor b = c.bias ? leaf(random_values({c.w[0]}, ++seed)) : tt::Tensor();
        const tt::Tensor y = tt::conv2d(x, w, b, c.stride, c.padding);
        const tt::Tensor g = random_values(y.shape(), ++seed);
        y.backward(g);
        const ref::ConvGrads expected = ref::conv2d_grads(x, w, g, c.stride, c.padding);
        CHECK_THAT(x.grad(), tensor_near(expected.dx, 1e-5, 1e-5));
        CHECK_THAT(w.grad(), tensor_near(expected.dw, 1e-5, 1e-5));
        if (c.bias) CHECK_THAT(b.grad(), tensor_near(expected.db, 1e-5, 1e-5));
    }
}

TEST_CASE("spatial: conv2d passes gradcheck (stride, padding, non-square, batch)", "[09][spatial][conv][backward]") {
    const std::vector<ConvCase> cases = {{{2, 2, 5, 4}, {3, 2, 3, 3}, 2, 1, true},
                                         {{1, 3, 4, 6}, {2, 3, 2, 2}, 1, 0, true},
                                         {{2, 1, 5, 5}, {2, 1, 3, 3}, 3, 2, true},
                                         {{3, 2, 3, 3}, {2, 2, 1, 1}, 1, 0, true}};
    for (const ConvCase& c : cases) {
        const int64_t s = c.stride, p = c.padding;
        check_gradients("conv2d " + describe(c), [s, p](const Inputs& in) { return tt::conv2d(in[0], in[1], in[2], s, p); },
                        {leaf(random_values(c.x, 1)), leaf(random_values(c.w, 2)), leaf(random_values({c.w[0]}, 3))});
    }
    // Only some inputs require grad: the others get nothing and cost nothing.
    tt::Tensor x = random_values({2, 2, 5, 4}, 4), w = leaf(random_values({3, 2, 3, 3}, 5));
    tt::conv2d(x, w, tt::Tensor(), 2, 1).sum().backward();
    CHECK_FALSE(x.grad().defined());
    CHECK(w.grad().shape() == tt::Shape{3, 2, 3, 3});
}

TEST_CASE("spatial: conv2d gradients accumulate across uses and calls", "[09][spatial][conv][backward]") {
    tt::Tensor x = leaf(random_values({2, 2, 4, 4}, 1)), w = leaf(random_values({3, 2, 3, 3}, 2)), b = leaf(random_values({3}, 3));
    const tt::Tensor g = random_values({2, 3, 4, 4}, 4);
    tt::conv2d(x, w, b, 1, 1).backward(g);
    const ref::ConvGrads once = ref::conv2d_grads(x, w, g, 1, 1);
    tt::conv2d(x, w, b, 1, 1).backward(g);  // a second backward adds the same again
    CHECK_THAT(x.grad(), tensor_near(reference_binary(once.dx, once.dx, [](float a, float c) { return a + c; }), 1e-5, 1e-5));
    CHECK_THAT(w.grad(), tensor_near(reference_binary(once.dw, once.dw, [](float a, float c) { return a + c; }), 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(reference_binary(once.db, once.db, [](float a, float c) { return a + c; }), 1e-5, 1e-5));
}

TEST_CASE("spatial: conv2d under NoGradGuard records nothing", "[09][spatial][conv]") {
    tt::Tensor w = leaf(random_values({2, 1, 3, 3}, 1));
    const tt::Tensor x = random_values({1, 1, 4, 4}, 2);
    {
        tt::NoGradGuard no_grad;
        CHECK_FALSE(tt::conv2d(x, w).requires_grad());
    }
    const tt::Tensor y = tt::conv2d(x, w);
    REQUIRE(y.grad_fn() != nullptr);
    CHECK(std::string(y.grad_fn()->name()) == "Conv2dBackward");
}

// ---------------------------------------------------------------------------------------------
// Conv2d
// ---------------------------------------------------------------------------------------------

TEST_CASE("spatial: Conv2d parameters, initialisation order and bounds", "[09][spatial][conv][layer]") {
    tt::Generator gen(9);
    tt::Conv2d conv({.in_channels = 3, .out_channels = 4, .kernel_size = 5, .padding = 2}, &gen);
    REQUIRE(conv.weight.shape() == tt::Shape{4, 3, 5, 5});
    REQUIRE(conv.bias.shape() == tt::Shape{4});
    const auto named = conv.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "weight");
    CHECK(named[1].first == "bias");
    CHECK(named[0].second.is_same(conv.weight));
    CHECK(conv.weight.requires_grad());
    CHECK(conv.parameter_count() == 4 * 3 * 25 + 4);
    // weight first, then bias, from one generator, both U(-1/sqrt(75), 1/sqrt(75))
    const float bound = 1.0f / std::sqrt(75.0f);
    tt::Generator expected(9);
    std::vector<float> draws(300 + 4);
    for (float& v : draws) v = expected.uniform(-bound, bound);
    CHECK_THAT(conv.weight, tensor_near(raw(std::vector<float>(draws.begin(), draws.begin() + 300), {4, 3, 5, 5}), 1e-6, 0));
    CHECK_THAT(conv.bias, tensor_near(raw(std::vector<float>(draws.begin() + 300, draws.end()), {4}), 1e-6, 0));

    tt::Conv2d no_bias({.in_channels = 2, .out_channels = 3, .kernel_size = 3, .bias = false});
    CHECK_FALSE(no_bias.bias.defined());
    CHECK(no_bias.named_parameters().size() == 1);
}

TEST_CASE("spatial: Conv2d forward, printing and errors", "[09][spatial][conv][layer]") {
    tt::Conv2d conv({.in_channels = 2, .out_channels = 3, .kernel_size = 3, .stride = 2, .padding = 1});
    const tt::Tensor x = random_values({2, 2, 7, 6}, 1);
    CHECK_THAT(conv(x), tensor_near(ref::conv2d(x, conv.weight, conv.bias, 2, 1), 1e-5, 1e-5));
    CHECK(conv.to_string() == "Conv2d(2, 3, kernel_size=3, stride=2, padding=1)");
    tt::Conv2d lenet({.in_channels = 1, .out_channels = 6, .kernel_size = 5, .padding = 2});
    CHECK(lenet.extra_repr() == "1, 6, kernel_size=5, stride=1, padding=2");
    tt::Conv2d plain({.in_channels = 16, .out_channels = 32, .kernel_size = 3, .padding = 1, .bias = false});
    CHECK(plain.extra_repr() == "16, 32, kernel_size=3, stride=1, padding=1, bias=false");
    CHECK_THAT(error_message([&] { conv(random_values({2, 3, 7, 6}, 1)); }), Contains("Conv2d") && Contains("(2, 3, 7, 6)"));
    CHECK_THAT(error_message([] { tt::Conv2d({.in_channels = 0, .out_channels = 3}); }), Contains("Conv2d"));
    CHECK_THAT(error_message([] { tt::Conv2d({.in_channels = 1, .out_channels = 3, .stride = 0}); }), Contains("Conv2d") && Contains("stride"));
}

TEST_CASE("spatial: a small conv net learns (loss goes down)", "[09][spatial][conv][layer]") {
    // Two 4x4 patterns (a vertical and a horizontal bar) with noise; conv -> relu -> pool -> linear.
    tt::Generator gen(3);
    auto model = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
        std::make_shared<tt::Conv2d>(tt::Conv2dOptions{.in_channels = 1, .out_channels = 4, .kernel_size = 3, .padding = 1}, &gen),
        std::make_shared<tt::ReLU>(), std::make_shared<tt::MaxPool2d>(2), std::make_shared<tt::Flatten>(),
        std::make_shared<tt::Linear>(16, 2, true, &gen)});
    std::vector<float> images, labels;
    tt::Generator noise(4);
    for (int n = 0; n < 16; ++n) {
        const int label = n % 2;
        for (int y = 0; y < 4; ++y)
            for (int x = 0; x < 4; ++x) images.push_back(((label ? y : x) == 1 ? 1.0f : 0.0f) + noise.uniform(-0.2f, 0.2f));
        labels.push_back(static_cast<float>(label));
    }
    const tt::Tensor x = raw(images, {16, 1, 4, 4}), t = raw(labels, {16});
    float first = 0, last = 0;
    for (int step = 0; step < 60; ++step) {
        model->zero_grad();
        const tt::Tensor loss = tt::cross_entropy((*model)(x), t);
        loss.backward();
        if (step == 0) first = loss.item();
        last = loss.item();
        tt::NoGradGuard no_grad;
        for (tt::Tensor p : model->parameters()) p.add_(p.grad(), -0.5f);
    }
    INFO("loss " << first << " -> " << last);
    CHECK(last < 0.2f * first);
}
