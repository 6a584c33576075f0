// test_attention_backward.cpp - module 13 grader: AttentionBackward (attention.cpp).
//     dv = P^T @ g    dP = g @ v^T    dS = P * (dP - rowsum(dP * P))    dq = dS @ k / sqrt(d)
//     dk = dS^T @ q / sqrt(d)
// Expected values: by hand, from finite differences (grading.h's gradient_check, which only runs
// the forward), or from PyTorch 1.13 (numbers written below).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "attention_reference.h"
#include "grading.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = attention_reference;
using ref::sdpa;

namespace {

using Inputs = std::vector<tt::Tensor>;

// Checks the gradients of q, k and v of sdpa(q, k, v, causal, mask) by finite differences.
GradientCheckResult check(const tt::Shape& q, const tt::Shape& k, const tt::Shape& v, bool causal,
                          const tt::Tensor& mask = tt::Tensor(), uint64_t seed = 1, std::vector<size_t> wrt = {}) {
    GradientCheckOptions options;
    options.wrt = std::move(wrt);
    const auto f = [&](const Inputs& in) { return sdpa(in[0], in[1], in[2], causal, mask); };
    return gradient_check(f, {random_values(q, seed, -1.5f, 1.5f), random_values(k, seed + 1, -1.5f, 1.5f), random_values(v, seed + 2)},
                          options);
}

}  // namespace

TEST_CASE("attention backward by hand: one query; two keys", "[points=2]") {
    // q = [0, 0], k = [[1, 0], [0, 1]], v = [[1, 2], [3, 4]]: scores 0, P = [0.5, 0.5], out = [2, 3].
    // loss = out . [1, 0]: dv = P^T g = [[0.5, 0], [0.5, 0]]; dP = g v^T = [1, 3]; rowsum(dP * P) = 2;
    // dS = P * (dP - 2) = [-0.5, 0.5]; dq = dS @ k / sqrt(2) = [-0.5, 0.5] / sqrt(2);
    // dk = dS^T q / sqrt(2) = 0 (q = 0).
    tt::Tensor q = leaf(nested({{{0, 0}}})), k = leaf(nested({{{1, 0}, {0, 1}}})), v = leaf(nested({{{1, 2}, {3, 4}}}));
    const tt::Tensor out = sdpa(q, k, v);
    CHECK_THAT(out, tensor_near(nested({{{2, 3}}}), 1e-6));
    out.backward(nested({{{1, 0}}}));
    CHECK_THAT(v.grad(), tensor_near(nested({{{0.5f, 0}, {0.5f, 0}}}), 1e-6));
    CHECK_THAT(q.grad(), tensor_near(nested({{{-0.3535534f, 0.3535534f}}}), 1e-6));
    CHECK_THAT(k.grad(), tensor_near(nested({{{0, 0}, {0, 0}}}), 1e-6));
}

TEST_CASE("attention backward: dv = P^T @ g (not P @ g) with Tq != Tk", "[points=2]") {
    CHECK(check({1, 2, 2}, {1, 4, 2}, {1, 4, 3}, false, tt::Tensor(), 10, {2}));
    CHECK(check({2, 3, 2}, {2, 3, 2}, {2, 3, 2}, true, tt::Tensor(), 11, {2}));
}

TEST_CASE("attention backward: dk = dS^T @ q / sqrt(d)", "[points=2]") {
    CHECK(check({1, 3, 2}, {1, 3, 2}, {1, 3, 2}, false, tt::Tensor(), 20, {1}));
    CHECK(check({2, 2, 3}, {2, 4, 3}, {2, 4, 2}, false, tt::Tensor(), 21, {1}));
}

TEST_CASE("attention backward: dq = dS @ k / sqrt(d)", "[points=2]") {
    CHECK(check({1, 3, 2}, {1, 3, 2}, {1, 3, 2}, false, tt::Tensor(), 30, {0}));
    CHECK(check({2, 2, 4}, {2, 3, 4}, {2, 3, 2}, false, tt::Tensor(), 31, {0}));
}

TEST_CASE("attention backward includes the 1 / sqrt(d) scale for a wide head", "[points=2]") {
    // d = 16: a backward without the scale is 4 times too large.
    CHECK(check({1, 3, 16}, {1, 3, 16}, {1, 3, 2}, false, tt::Tensor(), 40, {0, 1}));
}

TEST_CASE("attention backward with a causal mask", "[points=3]") {
    CHECK(check({1, 4, 3}, {1, 4, 3}, {1, 4, 3}, true, tt::Tensor(), 50));
    CHECK(check({2, 2, 5, 2}, {2, 2, 5, 2}, {2, 2, 5, 3}, true, tt::Tensor(), 51));
}

TEST_CASE("attention backward with a causal mask and fewer queries than keys", "[points=2]") {
    CHECK(check({1, 2, 2, 3}, {1, 2, 5, 3}, {1, 2, 5, 2}, true, tt::Tensor(), 60));
    CHECK(check({2, 1, 3}, {2, 4, 3}, {2, 4, 3}, true, tt::Tensor(), 61));
}

TEST_CASE("attention backward with a key padding mask", "[points=3]") {
    CHECK(check({2, 3, 2}, {2, 4, 2}, {2, 4, 3}, false, nested({{1, 0, 1, 1}, {1, 1, 1, 0}}), 70));
    CHECK(check({2, 2, 3, 2}, {2, 2, 3, 2}, {2, 2, 3, 2}, true, nested({{1, 1, 0}, {0, 1, 1}}), 71));
}

TEST_CASE("attention backward through a fully masked row is 0; not NaN", "[points=2]") {
    const tt::Tensor mask = nested({{1, 1, 1}, {0, 0, 0}});
    CHECK(check({2, 2, 2}, {2, 3, 2}, {2, 3, 2}, false, mask, 80));
    tt::Tensor q = leaf(random_values({2, 2, 2}, 1)), k = leaf(random_values({2, 3, 2}, 2)), v = leaf(random_values({2, 3, 2}, 3));
    sdpa(q, k, v, false, mask).sum().backward();
    CHECK(all_finite(q.grad()));
    CHECK(all_finite(k.grad()));
    CHECK(all_finite(v.grad()));
    CHECK_THAT(q.grad().slice(0, 1, 2), tensor_equal(raw(std::vector<float>(4, 0.0f), {1, 2, 2})));
}

TEST_CASE("attention backward on 4-D inputs with several heads", "[points=2]") {
    CHECK(check({2, 3, 3, 2}, {2, 3, 3, 2}, {2, 3, 3, 2}, false, tt::Tensor(), 90));
}

TEST_CASE("attention backward reaches non-contiguous q; k and v", "[points=2]") {
    // The transposed (B, T, H, d) -> (B, H, T, d) views of multi-head attention, causal.
    const auto f = [](const Inputs& in) { return sdpa(in[0].transpose(1, 2), in[1].transpose(1, 2), in[2].transpose(1, 2), true); };
    CHECK(gradient_check(f, {random_values({2, 3, 2, 2}, 1, -1.5f, 1.5f), random_values({2, 3, 2, 2}, 2, -1.5f, 1.5f),
                             random_values({2, 3, 2, 2}, 3)}));
}

TEST_CASE("attention backward reads a non-contiguous incoming gradient through its strides", "[points=1]") {
    // A node's backward receives g in any layout: here a padded (non-contiguous) copy, passed to
    // the node directly, must give the same gradients as the contiguous one.
    const tt::Tensor g = random_values({2, 2, 3, 2}, 4);
    std::vector<std::vector<float>> grads;
    for (const tt::Tensor& incoming : {g, padded(g)}) {
        tt::Tensor q = leaf(random_values({2, 2, 3, 2}, 1)), k = leaf(random_values({2, 2, 3, 2}, 2));
        tt::Tensor v = leaf(random_values({2, 2, 3, 2}, 3));
        const tt::Tensor out = sdpa(q, k, v, true);
        {
            tt::NoGradGuard no_grad;
            out.grad_fn()->apply(incoming);
        }
        REQUIRE(q.grad().defined());
        REQUIRE(k.grad().defined());
        REQUIRE(v.grad().defined());
        std::vector<float> all = values_of(q.grad());
        for (const tt::Tensor& t : {k.grad(), v.grad()})
            for (float x : values_of(t)) all.push_back(x);
        grads.push_back(all);
    }
    REQUIRE(grads[0].size() == grads[1].size());
    for (size_t i = 0; i < grads[0].size(); ++i) CHECK(grads[1][i] == Approx(grads[0][i]).margin(1e-6));
    // Through the graph: a transposed output.
    const auto f = [](const Inputs& in) { return sdpa(in[0], in[1], in[2], true).transpose(1, 2); };
    CHECK(gradient_check(f, {random_values({2, 2, 3, 2}, 7, -1.5f, 1.5f), random_values({2, 2, 3, 2}, 8, -1.5f, 1.5f),
                             random_values({2, 2, 3, 2}, 9)}));
}

TEST_CASE("attention backward accumulates: self-attention sdpa(x; x; x) sums three contributions", "[points=2]") {
    const auto f = [](const Inputs& in) { return sdpa(in[0], in[0], in[0], true); };
    CHECK(gradient_check(f, {random_values({2, 3, 2}, 5, -1.5f, 1.5f)}));
    // A second backward adds to the .grad of the first.
    tt::Tensor q = leaf(random_values({1, 2, 2}, 1));
    const tt::Tensor k = random_values({1, 2, 2}, 2), v = random_values({1, 2, 2}, 3);
    sdpa(q, k, v).sum().backward();
    const std::vector<float> once = values_of(q.grad());
    sdpa(q, k, v).sum().backward();
    const std::vector<float> twice = values_of(q.grad());
    for (size_t i = 0; i < once.size(); ++i) CHECK(twice[i] == Approx(2 * once[i]).margin(1e-6));
}

TEST_CASE("attention backward gives gradients only to the inputs that require grad", "[points=1]") {
    tt::Tensor q = leaf(random_values({1, 3, 2}, 1));
    const tt::Tensor k = random_values({1, 3, 2}, 2), v = random_values({1, 3, 2}, 3);
    sdpa(q, k, v, true).sum().backward();
    CHECK(q.grad().defined());
    CHECK_FALSE(k.grad().defined());
    CHECK_FALSE(v.grad().defined());
    CHECK(check({1, 3, 2}, {1, 3, 2}, {1, 3, 2}, true, tt::Tensor(), 100, {2}));
}

TEST_CASE("attention backward stays finite for huge scores", "[points=1]") {
    tt::Tensor q = leaf(nested({{{1000, 1000}, {-1000, 0}}})), k = leaf(nested({{{1000, 1000}, {999, 1000}}}));
    tt::Tensor v = leaf(nested({{{1, 0}, {0, 1}}}));
    sdpa(q, k, v).sum().backward();
    CHECK(all_finite(q.grad()));
    CHECK(all_finite(k.grad()));
    CHECK(all_finite(v.grad()));
}

TEST_CASE("attention backward computes its products through kernels::gemm", "[points=1]") {
    // dv, dP, dq and dk: each Tq * Tk * d multiply-adds per (batch, head) pair (here d = dv).
    tt::Tensor q = leaf(random_values({2, 2, 4, 3}, 1)), k = leaf(random_values({2, 2, 4, 3}, 2)), v = leaf(random_values({2, 2, 4, 3}, 3));
    const tt::Tensor out = sdpa(q, k, v);
    ref::CountGemm count;
    out.sum().backward();
    CHECK(ref::gemm_multiply_adds >= 4 * 4 * 4 * 4 * 3);
}

// PyTorch 1.13 (float64, rounded): the inputs of the forward PyTorch case, loss = (out * wave(out.shape, 0.37, 0.2)).sum()
TEST_CASE("attention gradients match PyTorch: 4-D; causal with Tq < Tk; padding", "[points=3]") {
    const tt::Tensor q = leaf(ref::wave({2, 2, 2, 3}, 0.7, 0.1, 1.5));
    const tt::Tensor k = leaf(ref::wave({2, 2, 4, 3}, 0.45, 0.3, 1.5));
    const tt::Tensor v = leaf(ref::wave({2, 2, 4, 2}, 0.9, 0.5));
    const tt::Tensor out = sdpa(q, k, v, true, nested({{1, 1, 0, 1}, {1, 1, 1, 1}}));
    out.backward(ref::wave(out.shape(), 0.37, 0.2));
    CHECK_THAT(q.grad(), tensor_near(raw({-0.07652683f, -0.01981196f, 0.04084757f, 0.001148982f, 0.06674613f, 0.1190537f,
                                          -0.08998447f, -0.07742248f, -0.04944523f, -0.1378147f, -0.126004f, -0.08910512f,
                                          -0.09387869f, -0.0637918f, -0.02100359f, -0.003985616f, 0.02897499f, 0.05616651f,
                                          -0.1792372f, -0.2010853f, -0.1828961f, -0.2752894f, -0.301062f, -0.2668914f},
                                         {2, 2, 2, 3}),
                                     1e-5, 1e-3));
    CHECK_THAT(k.grad(),
               tensor_near(raw({0.1184445f,   0.1101003f,  0.04997426f, -0.07891928f, -0.09840408f, -0.07160789f, 0, 0, 0,
                                -0.03952521f, -0.01169625f, 0.02163363f, -0.05425653f, 0.00563293f, 0.06287314f, 0.05312624f,
                                -0.01270246f, -0.072557f,  0, 0, 0, 0.001130292f, 0.007069528f, 0.009683855f, 0.02306214f,
                                0.01923592f,  0.006362741f, 0.01355906f, -0.03093801f, -0.06088447f, -0.06610435f, -0.0187793f,
                                0.03737795f,  0.02948315f, 0.0304814f,  0.01714378f, 0.08810447f, 0.04004628f, -0.02684631f,
                                0.08834586f,  0.1147739f,  0.08722195f, -0.1097076f, -0.1373382f, -0.1003765f, -0.06674271f,
                                -0.01748197f, 0.04000082f},
                               {2, 2, 4, 3}),
                           1e-5, 1e-3));
    CHECK_THAT(v.grad(), tensor_near(raw({0.302865f, 0.5302327f, 0.6155445f, 0.8705164f, 0, 0, 0.08781801f, 0.1050679f, 1.030631f,
                                          0.8933605f, 0.6154317f, 0.3339315f, 0, 0, 0.008562098f, 0.004463843f, -0.6387102f,
                                          -0.8821332f, -0.02542232f, -0.1050486f, -0.01488188f, -0.2595785f, -0.02715809f,
                                          -0.035686f, -0.1310711f, -0.08873165f, -0.1259411f, -0.09978619f, -1.091907f,
                                          -0.9950509f, -0.4337653f, -0.28075f},
                                         {2, 2, 4, 2}),
                                     1e-5, 1e-3));
}

TEST_CASE("attention refuses a backward after q was changed in place", "[points=1]") {
    tt::Tensor q = leaf(random_values({1, 2, 2}, 1));
    const tt::Tensor k = leaf(random_values({1, 2, 2}, 2)), v = random_values({1, 2, 2}, 3);
    const tt::Tensor out = sdpa(q, k, v);
    {
        tt::NoGradGuard no_grad;
        q.mul_(2.0f);
    }
    CHECK_THAT(error_message([&] { out.sum().backward(); }), Contains("AttentionBackward"));
}
