// test_conv_backward.cpp - module 09 grader: Conv2dBackward (conv.cpp).
//     d weight += sum over images of g_n @ columns_n^T       d bias += g summed over (N, H', W')
//     d input: each column of weight^T @ g_n added back onto its window (col2im)
// Expected values: by hand, from the chain rule written out element by element in
// spatial_reference.h, from finite differences (grading.h's gradient_check), or from PyTorch 1.13.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "grading.h"
#include "spatial_reference.h"
#include "tinytorch/autograd.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
namespace ref = spatial_reference;

namespace {

using Inputs = std::vector<tt::Tensor>;

tt::Tensor twice(const tt::Tensor& t) { return reference_unary(t, [](float v) { return 2 * v; }); }

}  // namespace

TEST_CASE("conv2d backward by hand gives the weight bias and input gradients", "[points=2]") {
    tt::Tensor x = leaf(nested({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}}));
    tt::Tensor w = leaf(nested({{{{1, 2}, {0, -1}}}}));
    tt::Tensor b = leaf(nested({0.5f}));
    tt::conv2d(x, w, b).sum().backward();
    CHECK_THAT(b.grad(), tensor_equal(nested({4})));                       // four output positions
    CHECK_THAT(w.grad(), tensor_equal(nested({{{{12, 16}, {24, 28}}}})));  // tap (i, j) saw the 2x2 block at (i, j)
    // pixel (a, b) gets w[i, j] from every window that covered it
    CHECK_THAT(x.grad(), tensor_equal(nested({{{{1, 3, 2}, {1, 2, 1}, {0, -1, -1}}}})));
}

TEST_CASE("conv2d bias gradient sums over every position and every image", "[points=2]") {
    tt::Tensor x = leaf(random_values({3, 2, 4, 5}, 1)), w = leaf(random_values({2, 2, 3, 3}, 2)), b = leaf(nested({0.1f, -0.2f}));
    const tt::Tensor y = tt::conv2d(x, w, b, 1, 1);  // (3, 2, 4, 5)
    const tt::Tensor g = random_values(y.shape(), 3);
    y.backward(g);
    const std::vector<float> gv = values_of(g);
    double sums[2] = {0, 0};
    for (size_t i = 0; i < gv.size(); ++i) sums[(i / 20) % 2] += gv[i];  // 20 positions per (n, f) plane
    CHECK_THAT(b.grad(), tensor_near(raw({static_cast<float>(sums[0]), static_cast<float>(sums[1])}, {2}), 1e-5, 1e-5));
}

TEST_CASE("conv2d weight gradient sums the contributions of every image of the batch", "[points=2]") {
    tt::Tensor x = leaf(random_values({3, 2, 5, 4}, 4)), w = leaf(random_values({3, 2, 3, 3}, 5));
    const tt::Tensor y = tt::conv2d(x, w, tt::Tensor(), 1, 0);
    const tt::Tensor g = random_values(y.shape(), 6);
    y.backward(g);
    CHECK_THAT(w.grad(), tensor_near(ref::conv2d_grads(x, w, g, 1, 0).dw, 1e-5, 1e-5));
}

TEST_CASE("conv2d input gradient adds the contributions of overlapping windows", "[points=2]") {
    // k 3, stride 1: an inner pixel lies in nine windows
    tt::Tensor x = leaf(random_values({2, 2, 5, 5}, 7)), w = leaf(random_values({2, 2, 3, 3}, 8));
    const tt::Tensor y = tt::conv2d(x, w, tt::Tensor(), 1, 0);
    const tt::Tensor g = random_values(y.shape(), 9);
    y.backward(g);
    CHECK_THAT(x.grad(), tensor_near(ref::conv2d_grads(x, w, g, 1, 0).dx, 1e-5, 1e-5));
    // all-ones gradient, ones kernel: each pixel's gradient counts the windows that contain it
    tt::Tensor ones_x = leaf(raw(std::vector<float>(16, 1.0f), {1, 1, 4, 4}));
    const tt::Tensor ones_w = raw(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
    tt::conv2d(ones_x, ones_w).sum().backward();
    CHECK_THAT(ones_x.grad(), tensor_equal(nested({{{{1, 2, 2, 1}, {2, 4, 4, 2}, {2, 4, 4, 2}, {1, 2, 2, 1}}}})));
}

TEST_CASE("conv2d backward with stride and padding matches the chain rule", "[points=3]") {
    struct Case {
        tt::Shape x, w;
        int64_t s, p;
    };
    uint64_t seed = 20;
    for (const Case& c : std::vector<Case>{{{2, 2, 7, 6}, {3, 2, 3, 3}, 2, 1}, {{1, 3, 8, 8}, {2, 3, 5, 5}, 1, 2},
                                           {{2, 2, 9, 7}, {2, 2, 2, 2}, 3, 0}, {{2, 1, 6, 6}, {2, 1, 3, 3}, 2, 2},
                                           {{1, 2, 10, 3}, {2, 2, 3, 3}, 2, 1}, {{2, 3, 4, 5}, {4, 3, 1, 1}, 1, 1}}) {
        INFO("x " << shape_text(c.x) << ", w " << shape_text(c.w) << ", stride " << c.s << ", padding " << c.p);
        tt::Tensor x = leaf(random_values(c.x, ++seed)), w = leaf(random_values(c.w, ++seed)), b = leaf(random_values({c.w[0]}, ++seed));
        const tt::Tensor y = tt::conv2d(x, w, b, c.s, c.p);
        const tt::Tensor g = random_values(y.shape(), ++seed);
        y.backward(g);
        const ref::ConvGrads expected = ref::conv2d_grads(x, w, g, c.s, c.p);
        CHECK_THAT(x.grad(), tensor_near(expected.dx, 1e-5, 1e-5));
        CHECK_THAT(w.grad(), tensor_near(expected.dw, 1e-5, 1e-5));
        CHECK_THAT(b.grad(), tensor_near(expected.db, 1e-5, 1e-5));
    }
}

TEST_CASE("conv2d gradients agree with finite differences", "[points=2]") {
    struct Case {
        tt::Shape x, w;
        int64_t s, p;
    };
    for (const Case& c : std::vector<Case>{{{2, 2, 5, 4}, {3, 2, 3, 3}, 2, 1}, {{1, 3, 4, 6}, {2, 3, 2, 2}, 1, 0},
                                           {{2, 1, 5, 5}, {2, 1, 3, 3}, 3, 2}}) {
        INFO("x " << shape_text(c.x) << ", w " << shape_text(c.w) << ", stride " << c.s << ", padding " << c.p);
        const int64_t s = c.s, p = c.p;
        CHECK(gradient_check([s, p](const Inputs& in) { return tt::conv2d(in[0], in[1], in[2], s, p); },
                             {random_values(c.x, 31), random_values(c.w, 32), random_values({c.w[0]}, 33)}));
    }
}

TEST_CASE("conv2d backward gives gradients only to inputs that require them", "[points=1]") {
    // The first layer of a network: the images need no gradient, the weight does; no bias at all.
    const tt::Tensor x = random_values({2, 2, 5, 4}, 40);
    tt::Tensor w = leaf(random_values({3, 2, 3, 3}, 41));
    const tt::Tensor y = tt::conv2d(x, w, tt::Tensor(), 2, 1);
    const tt::Tensor g = random_values(y.shape(), 42);
    y.backward(g);
    CHECK_FALSE(x.grad().defined());
    CHECK_THAT(w.grad(), tensor_near(ref::conv2d_grads(x, w, g, 2, 1).dw, 1e-5, 1e-5));
    // only the input requires grad (a frozen filter, e.g. an edge detector)
    tt::Tensor x2 = leaf(random_values({2, 2, 5, 4}, 43));
    const tt::Tensor frozen = random_values({3, 2, 3, 3}, 44);
    tt::conv2d(x2, frozen, tt::Tensor(), 2, 1).backward(g);
    CHECK_FALSE(frozen.grad().defined());
    CHECK_THAT(x2.grad(), tensor_near(ref::conv2d_grads(x2, frozen, g, 2, 1).dx, 1e-5, 1e-5));
}

TEST_CASE("conv2d gradients add to existing gradients", "[points=1]") {
    tt::Tensor x = leaf(random_values({2, 2, 4, 4}, 50)), w = leaf(random_values({3, 2, 3, 3}, 51)), b = leaf(random_values({3}, 52));
    const tt::Tensor g = random_values({2, 3, 4, 4}, 53);
    const ref::ConvGrads once = ref::conv2d_grads(x, w, g, 1, 1);
    tt::conv2d(x, w, b, 1, 1).backward(g);
    tt::conv2d(x, w, b, 1, 1).backward(g);
    CHECK_THAT(x.grad(), tensor_near(twice(once.dx), 1e-5, 1e-5));
    CHECK_THAT(w.grad(), tensor_near(twice(once.dw), 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(twice(once.db), 1e-5, 1e-5));
    // the same input through two convolutions: both contributions arrive
    tt::Tensor shared = leaf(random_values({1, 2, 4, 4}, 54));
    const tt::Tensor w2 = random_values({3, 2, 3, 3}, 55);
    const tt::Tensor g1 = random_values({1, 3, 4, 4}, 56);
    (tt::conv2d(shared, w2, tt::Tensor(), 1, 1) + tt::conv2d(shared, w2, tt::Tensor(), 1, 1)).backward(g1);
    CHECK_THAT(shared.grad(), tensor_near(twice(ref::conv2d_grads(shared, w2, g1, 1, 1).dx), 1e-5, 1e-5));
}

TEST_CASE("conv2d gradients match PyTorch on a strided padded multi-channel batch", "[points=2]") {
    // PyTorch 1.13, wave(shape, a, b, scale)[i] = scale * sin(a * i + b):
    //   x = wave((2,3,4,5), .43, .3); w = wave((2,3,3,3), .67, .1, .4); b = wave((2,), .9, .2)
    //   y = F.conv2d(x, w, b, stride=2, padding=1); y.backward(wave(y.shape, .31, .6))
    tt::Tensor x = leaf(ref::wave({2, 3, 4, 5}, 0.43, 0.3)), w = leaf(ref::wave({2, 3, 3, 3}, 0.67, 0.1, 0.4));
    tt::Tensor b = leaf(ref::wave({2}, 0.9, 0.2));
    tt::conv2d(x, w, b, 2, 1).backward(ref::wave({2, 2, 2, 3}, 0.31, 0.6));
    CHECK_THAT(x.grad(), tensor_near(raw({0.306862444f, 0.454043239f, 0.242522433f, 0.313834995f, 0.155062065f, -0.143631101f, -0.208400771f,
                         -0.161396042f, -0.22431767f, -0.163774654f, 0.0528191701f, -0.0401191451f, -0.0544590987f, -0.220121607f,
                         -0.156545639f, -0.322114736f, -0.468623698f, -0.219897509f, -0.282273918f, -0.0967168584f, 0.377433509f,
                         0.582948446f, 0.324593067f, 0.458907813f, 0.240808278f, -0.150888562f, -0.207846761f, -0.155709207f,
                         -0.206285834f, -0.145685643f, 0.134066522f, 0.0955754295f, 0.0145438416f, -0.10907881f, -0.106365353f,
                         -0.335134566f, -0.519935429f, -0.25383687f, -0.367413282f, -0.148340181f, 0.42393899f, 0.674684227f,
                         0.385967314f, 0.574720144f, 0.311200291f, -0.148525193f, -0.194040209f, -0.140094146f, -0.175100923f,
                         -0.118307509f, 0.206765637f, 0.225176051f, 0.0826194435f, 0.00891900249f, -0.0494031236f, -0.326785833f,
                         -0.538095415f, -0.271591276f, -0.429125965f, -0.190505177f, -0.167856604f, -0.167706326f, -0.0670527667f,
                         0.0152888065f, 0.040143393f, 0.164372876f, 0.220827714f, 0.153191969f, 0.19719173f, 0.127406806f,
                         0.143512577f, 0.359599978f, 0.233200282f, 0.488091856f, 0.300656348f, 0.114051573f, 0.0984709859f,
                         -0.0178383775f, -0.121709511f, -0.148027703f, -0.253584772f, -0.315628201f, -0.149370939f, -0.122766934f,
                         -0.0309171472f, 0.147872418f, 0.188994646f, 0.125718623f, 0.152311549f, 0.091579698f, 0.0904840678f,
                         0.27856499f, 0.20325917f, 0.44877553f, 0.296656966f, 0.163555279f, 0.206441268f, 0.0451706238f,
                         0.00292987446f, -0.0775202736f, -0.323144078f, -0.443425298f, -0.222165033f, -0.252994955f, -0.100006379f,
                         0.121943459f, 0.145111114f, 0.0902293175f, 0.0977197513f, 0.0499133728f, 0.0316862091f, 0.179768384f,
                         0.160358027f, 0.380844772f, 0.273742467f, 0.202630505f, 0.30124861f, 0.105299458f, 0.127382442f,
                         -0.00207008584f}, {2, 3, 4, 5}), 1e-5, 1e-5));
    CHECK_THAT(w.grad(), tensor_near(raw({0.421995133f, 0.627244294f, 0.685535491f, -1.24890411f, -1.51174486f, -1.53776157f, 1.64754927f, 1.67944348f,
                         1.45049024f, -0.942945123f, -1.08625126f, -1.03342998f, 1.69354546f, 1.77368069f, 1.5779314f, -0.81363219f,
                         -0.619950116f, -0.331754297f, 0.857996404f, 0.847276688f, 0.717283785f, -1.04998243f, -0.895920873f,
                         -0.604185879f, -0.54309243f, -0.837898135f, -1.00015366f, -1.01157224f, -1.0539217f, -0.920862496f,
                         1.45078373f, 1.38601887f, 1.11581933f, -0.0974620655f, 0.170704588f, 0.422712892f, 0.694434106f, 0.631032646f,
                         0.424248934f, -0.373362958f, -0.125191376f, 0.149559423f, -1.16013229f, -1.41411519f, -1.46909666f,
                         0.0689195991f, 0.197332576f, 0.344970077f, -0.943965793f, -1.216079f, -1.31883764f, 1.67227221f, 1.74887204f,
                         1.57149792f}, {2, 3, 3, 3}), 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(raw({0.276241392f, 2.7475419f}, {2}), 1e-5, 1e-5));
}
