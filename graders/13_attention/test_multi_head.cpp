// test_multi_head.cpp - module 13 grader: MultiHeadAttention (attention.cpp).
//     x (B, T, D) -> qkv Linear(D, 3D) -> q, k, v (B, H, T, d) -> attention -> (B, T, D) -> proj
// Expected values: from the plain-loop multi-head attention of attention_reference.h (its own
// Linear, head split and join), from finite differences, or from PyTorch 1.13's
// nn.MultiheadAttention (numbers written below).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "attention_reference.h"
#include "grading.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = attention_reference;

namespace {

using Inputs = std::vector<tt::Tensor>;

// Gives the layer's four parameters seeded values (in place, through storage) and returns the
// layer's output from the reference.
tt::Tensor reference_of(tt::MultiHeadAttention& mha, const tt::Tensor& x, const tt::Tensor& mask = tt::Tensor(),
                        tt::Tensor* weights = nullptr) {
    return ref::multi_head_attention(x, mha.options.num_heads, mha.options.causal, mha.qkv->weight, mha.qkv->bias,
                                     mha.proj->weight, mha.proj->bias, mask, weights);
}

// Distinct, seeded values in every parameter: the default initialisation is already random, but
// this makes every test independent of it.
void fill_parameters(tt::MultiHeadAttention& mha, uint64_t seed) {
    for (const auto& [name, p] : mha.named_parameters()) ref::set_values(p, values_of(random_values(p.shape(), seed++, -0.6f, 0.6f)));
}

}  // namespace

TEST_CASE("MultiHeadAttention has children qkv = Linear(D; 3D) and proj = Linear(D; D)", "[points=2]") {
    tt::MultiHeadAttention mha(8, 2);
    const auto params = mha.named_parameters();
    REQUIRE(params.size() == 4);
    CHECK(params[0].first == "qkv.weight");
    CHECK(params[0].second.shape() == tt::Shape{24, 8});
    CHECK(params[1].first == "qkv.bias");
    CHECK(params[1].second.shape() == tt::Shape{24});
    CHECK(params[2].first == "proj.weight");
    CHECK(params[2].second.shape() == tt::Shape{8, 8});
    CHECK(params[3].first == "proj.bias");
    CHECK(params[3].second.shape() == tt::Shape{8});
    REQUIRE(mha.qkv);
    REQUIRE(mha.proj);
    CHECK(mha.qkv->weight.is_same(params[0].second));
    CHECK(mha.proj->weight.is_same(params[2].second));
    CHECK(mha.options.embed_dim == 8);
    CHECK(mha.options.num_heads == 2);
    CHECK(mha.options.causal);
}

TEST_CASE("MultiHeadAttention options: bias off; causal off; the description", "[points=2]") {
    tt::MultiHeadAttention mha(tt::MultiHeadAttentionOptions{6, 3, false, false});
    CHECK(mha.parameters().size() == 2);
    CHECK_FALSE(mha.qkv->bias.defined());
    CHECK_FALSE(mha.proj->bias.defined());
    CHECK(mha.name() == "MultiHeadAttention");
    CHECK(mha.extra_repr() == "embed_dim=6, num_heads=3, causal=false");
    CHECK(tt::MultiHeadAttention(128, 4).extra_repr() == "embed_dim=128, num_heads=4, causal=true");
}

TEST_CASE("MultiHeadAttention initialises qkv then proj from the generator; as Linear does", "[points=2]") {
    tt::Generator a(42), b(42);
    tt::MultiHeadAttention mha(8, 2, true, &a);
    tt::Linear qkv(8, 24, true, &b);
    tt::Linear proj(8, 8, true, &b);
    CHECK_THAT(mha.qkv->weight, tensor_equal(raw_copy(qkv.weight)));
    CHECK_THAT(mha.qkv->bias, tensor_equal(raw_copy(qkv.bias)));
    CHECK_THAT(mha.proj->weight, tensor_equal(raw_copy(proj.weight)));
    CHECK_THAT(mha.proj->bias, tensor_equal(raw_copy(proj.bias)));
}

TEST_CASE("MultiHeadAttention forward matches the reference (causal; several heads)", "[points=3]") {
    tt::MultiHeadAttention mha(6, 3, true);
    fill_parameters(mha, 1);
    const tt::Tensor x = random_values({2, 4, 6}, 10);
    CHECK_THAT(mha(x), tensor_near(reference_of(mha, x), 1e-5, 1e-4));
}

TEST_CASE("MultiHeadAttention forward without the causal mask", "[points=2]") {
    tt::MultiHeadAttention mha(8, 2, false);
    fill_parameters(mha, 5);
    const tt::Tensor x = random_values({2, 3, 8}, 11);
    CHECK_THAT(mha(x), tensor_near(reference_of(mha, x), 1e-5, 1e-4));
}

TEST_CASE("MultiHeadAttention with one head is plain attention of the projections", "[points=2]") {
    tt::MultiHeadAttention mha(4, 1, true);
    fill_parameters(mha, 9);
    const tt::Tensor x = random_values({1, 5, 4}, 12);
    CHECK_THAT(mha(x), tensor_near(reference_of(mha, x), 1e-5, 1e-4));
}

TEST_CASE("MultiHeadAttention splits q; k; v by columns and heads as GPT-2's c_attn", "[points=2]") {
    // Head h of q must be columns [h*d, (h+1)*d) of the qkv output; [D, 2D) is k and [2D, 3D) v.
    // Put one head's weights on distinct rows and check the result against the reference.
    tt::MultiHeadAttention mha(4, 2, true);
    fill_parameters(mha, 13);
    std::vector<float> w = values_of(mha.qkv->weight);  // (12, 4)
    for (size_t c = 0; c < 4; ++c) w[2 * 4 + c] *= 4.0f;  // q column 2 (head 1) much larger
    ref::set_values(mha.qkv->weight, w);
    const tt::Tensor x = random_values({2, 3, 4}, 14);
    CHECK_THAT(mha(x), tensor_near(reference_of(mha, x), 1e-5, 1e-4));
}

TEST_CASE("MultiHeadAttention keeps positions apart (heads are split by a transpose; not a reshape)", "[points=3]") {
    // The output at position 0 of a causal layer depends on x[:, 0] only.
    tt::MultiHeadAttention mha(4, 2, true);
    fill_parameters(mha, 17);
    std::vector<float> xs = values_of(random_values({1, 3, 4}, 18));
    const std::vector<float> before = values_of(mha(raw(xs, {1, 3, 4})));
    for (size_t i = 4; i < 12; ++i) xs[i] += 0.5f;  // change positions 1 and 2
    const std::vector<float> after = values_of(mha(raw(xs, {1, 3, 4})));
    for (size_t i = 0; i < 4; ++i) CHECK(after[i] == Approx(before[i]).margin(1e-6));
    CHECK_THAT(mha(raw(xs, {1, 3, 4})), tensor_near(reference_of(mha, raw(xs, {1, 3, 4})), 1e-5, 1e-4));
}

TEST_CASE("MultiHeadAttention applies the output projection", "[points=2]") {
    // proj = 2 * identity with bias 1: the output is 2 * (joined heads) + 1, and changes with proj.
    tt::MultiHeadAttention mha(4, 2, false);
    fill_parameters(mha, 21);
    const tt::Tensor x = random_values({1, 2, 4}, 22);
    std::vector<float> eye(16, 0.0f);
    for (size_t i = 0; i < 4; ++i) eye[i * 5] = 2.0f;
    ref::set_values(mha.proj->weight, eye);
    ref::set_values(mha.proj->bias, {1, 1, 1, 1});
    CHECK_THAT(mha(x), tensor_near(reference_of(mha, x), 1e-5, 1e-4));
    ref::set_values(mha.proj->bias, {0, -1, 2, 0.5f});
    CHECK_THAT(mha(x), tensor_near(reference_of(mha, x), 1e-5, 1e-4));
}

TEST_CASE("MultiHeadAttention with a key padding mask", "[points=3]") {
    for (bool causal : {false, true}) {
        INFO("causal " << causal);
        tt::MultiHeadAttention mha(4, 2, causal);
        fill_parameters(mha, 25);
        const tt::Tensor x = random_values({2, 4, 4}, 26);
        const tt::Tensor mask = nested({{1, 1, 0, 1}, {0, 1, 1, 1}});
        CHECK_THAT(mha.forward(x, mask), tensor_near(reference_of(mha, x, mask), 1e-5, 1e-4));
    }
}

TEST_CASE("MultiHeadAttention forward(x) is forward(x; no mask; no cache)", "[points=1]") {
    tt::MultiHeadAttention mha(4, 2);
    fill_parameters(mha, 29);
    const tt::Tensor x = random_values({2, 3, 4}, 30);
    CHECK_THAT(mha.forward(x, tt::Tensor(), nullptr), tensor_near(raw_copy(mha(x)), 1e-6, 0));
}

TEST_CASE("MultiHeadAttention reads a non-contiguous input", "[points=1]") {
    tt::MultiHeadAttention mha(4, 2);
    fill_parameters(mha, 33);
    const tt::Tensor x = random_values({2, 3, 4}, 34);
    CHECK_THAT(mha(padded(x)), tensor_near(reference_of(mha, x), 1e-5, 1e-4));
}

TEST_CASE("MultiHeadAttention keep_weights stores the detached weights (B; H; T; T)", "[points=3]") {
    tt::MultiHeadAttention mha(6, 3, true);
    fill_parameters(mha, 37);
    const tt::Tensor x = leaf(random_values({2, 4, 6}, 38));
    CHECK_FALSE(mha.keep_weights);  // off by default
    mha.keep_weights = true;
    const tt::Tensor mask = nested({{1, 1, 1, 0}, {1, 1, 1, 1}});
    const tt::Tensor y = mha.forward(x, mask);
    tt::Tensor expected;
    reference_of(mha, x, mask, &expected);
    REQUIRE(mha.last_weights.defined());
    CHECK(mha.last_weights.shape() == tt::Shape{2, 3, 4, 4});
    CHECK_THAT(mha.last_weights, tensor_near(expected, 1e-6, 1e-4));
    CHECK_FALSE(mha.last_weights.requires_grad());
    CHECK(mha.last_weights.grad_fn() == nullptr);
    CHECK(y.requires_grad());
}

TEST_CASE("MultiHeadAttention gradients reach x and all four parameters", "[points=3]") {
    auto mha = std::make_shared<tt::MultiHeadAttention>(4, 2, true);
    fill_parameters(*mha, 41);
    const auto f = [&](const Inputs& in) {
        mha->qkv->weight = in[1];
        mha->qkv->bias = in[2];
        mha->proj->weight = in[3];
        mha->proj->bias = in[4];
        return mha->forward(in[0]);
    };
    CHECK(gradient_check(f, {random_values({2, 3, 4}, 42), raw_copy(mha->qkv->weight), raw_copy(mha->qkv->bias),
                             raw_copy(mha->proj->weight), raw_copy(mha->proj->bias)}));
}

TEST_CASE("MultiHeadAttention gradients with a padding mask and no causal mask", "[points=2]") {
    auto mha = std::make_shared<tt::MultiHeadAttention>(4, 2, false);
    fill_parameters(*mha, 45);
    const tt::Tensor mask = nested({{1, 0, 1}, {1, 1, 1}});
    const auto f = [&](const Inputs& in) {
        mha->qkv->weight = in[1];
        return mha->forward(in[0], mask);
    };
    CHECK(gradient_check(f, {random_values({2, 3, 4}, 46), raw_copy(mha->qkv->weight)}));
}

TEST_CASE("MultiHeadAttention gradients reach the parameters through backward()", "[points=2]") {
    tt::MultiHeadAttention mha(4, 2);
    fill_parameters(mha, 49);
    mha(random_values({2, 3, 4}, 50)).sum().backward();
    for (const auto& [name, p] : mha.named_parameters()) {
        INFO(name);
        REQUIRE(p.grad().defined());
        CHECK(p.grad().shape() == p.shape());
        CHECK(all_finite(p.grad()));
    }
}

TEST_CASE("MultiHeadAttention errors: embed_dim not divisible; a wrong input; a KV cache", "[points=3]") {
    CHECK_THAT(error_message([] { tt::MultiHeadAttention bad(10, 3); }),
               Contains("MultiHeadAttention") && Contains("10") && Contains("3"));
    CHECK_THAT(error_message([] { tt::MultiHeadAttention bad(8, 0); }), Contains("MultiHeadAttention"));
    tt::MultiHeadAttention mha(8, 2);
    CHECK_THAT(error_message([&] { mha(random_values({2, 3, 6}, 1)); }), Contains("MultiHeadAttention") && Contains("(2, 3, 6)"));
    CHECK_THAT(error_message([&] { mha(random_values({3, 8}, 1)); }), Contains("MultiHeadAttention") && Contains("(3, 8)"));
    CHECK_THAT(error_message([&] { mha.forward(random_values({1, 3, 8}, 1), tt::Tensor(), reinterpret_cast<tt::KVCache*>(&mha)); }),
               Contains("MultiHeadAttention") && Contains("16"));
}

// PyTorch 1.13: nn.MultiheadAttention(4, 2, batch_first=True) in float64 with in_proj_weight = qkv.weight,
// in_proj_bias = qkv.bias, out_proj = proj and attn_mask = torch.triu(ones(3, 3, dtype=bool), 1):
//     x = wave((2, 3, 4), 0.5, 0.2); qkv.weight = wave((12, 4), 0.31, 0.7, 0.6); qkv.bias = wave((12,), 0.83, 0.1, 0.2)
//     proj.weight = wave((4, 4), 0.57, 0.4, 0.6); proj.bias = wave((4,), 1.1, 0.3, 0.2)
//     y = mha(x, x, x, attn_mask=...)[0]; (y * wave(y.shape, 0.37, 0.2)).sum().backward()
TEST_CASE("MultiHeadAttention matches PyTorch's nn.MultiheadAttention; forward and backward", "[points=3]") {
    tt::MultiHeadAttention mha(4, 2, true);
    ref::set_values(mha.qkv->weight, values_of(ref::wave({12, 4}, 0.31, 0.7, 0.6)));
    ref::set_values(mha.qkv->bias, values_of(ref::wave({12}, 0.83, 0.1, 0.2)));
    ref::set_values(mha.proj->weight, values_of(ref::wave({4, 4}, 0.57, 0.4, 0.6)));
    ref::set_values(mha.proj->bias, values_of(ref::wave({4}, 1.1, 0.3, 0.2)));
    const tt::Tensor x = leaf(ref::wave({2, 3, 4}, 0.5, 0.2));
    const tt::Tensor y = mha(x);
    CHECK_THAT(y, tensor_near(raw({1.295661f, -1.446782f, 1.024213f, 0.3772688f, 0.8780683f, -1.004344f, 0.8655485f, 0.1414849f,
                                   0.54506f, 0.3102883f, -0.5136978f, 0.6232651f, 1.128288f, -1.055374f, 0.6817943f, 0.4318481f,
                                   0.9384835f, -0.9680138f, 0.7578152f, 0.2454734f, 0.697704f, 0.2288293f, -0.5602448f, 0.7653497f},
                                  {2, 3, 4}),
                              1e-5, 1e-4));
    y.backward(ref::wave(y.shape(), 0.37, 0.2));
    CHECK_THAT(x.grad(), tensor_near(raw({-0.07391717f, 0.07013966f, 0.2075099f, 0.3250976f, -0.02742883f, -0.03929027f,
                                          -0.04740606f, -0.0510025f, 0.1279798f, 0.1108959f, 0.08323994f, 0.0476485f,
                                          0.09940078f, 0.02800779f, -0.04605527f, -0.1157277f, 0.2073993f, 0.2479651f,
                                          0.2648916f, 0.2565652f, -0.3462881f, -0.3019455f, -0.2288174f, -0.1338756f},
                                         {2, 3, 4}),
                                     1e-5, 1e-3));
    CHECK_THAT(mha.qkv->weight.grad(),
               tensor_near(raw({-0.02776608f, -0.0501896f, -0.06032495f, -0.05569066f, 0.1385336f, 0.2488352f, 0.2982133f,
                                0.2745784f,   -0.1155323f, -0.2428537f, -0.310716f,   -0.3025043f,  -0.03683385f, 0.06337556f,
                                0.1480684f,   0.196509f,   0.2406115f,  0.3003654f,  0.2865794f,   0.2026287f,   0.1372241f,
                                0.1694731f,   0.1602292f,  0.1117556f,  0.1943406f,  0.2607888f,   0.2633868f,   0.2014986f,
                                0.3891693f,   0.3996606f,  0.3123011f,  0.1484794f,  0.153729f,    0.138183f,    0.08880501f,
                                0.01768445f,  0.2394703f,  0.2361405f,  0.1749953f,  0.07100512f,  0.3963064f,   0.3911565f,
                                0.2902379f,   0.1182589f,  0.2767035f,  0.2856977f,  0.2247433f,   0.1087638f},
                               {12, 4}),
                           1e-5, 1e-3));
    CHECK_THAT(mha.proj->bias.grad(), tensor_near(raw({0.9823828f, 1.290861f, 1.424627f, 1.365576f}, {4}), 1e-5, 1e-4));
}
