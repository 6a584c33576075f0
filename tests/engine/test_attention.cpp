// test_attention.cpp - module 13: scaled_dot_product_attention, AttentionBackward and
// MultiHeadAttention (engine/src/13_attention/attention.cpp).
//
// Expected values come from hand computation, from the plain-loop attention of
// graders/13_attention/attention_reference.h (never from the engine), or from PyTorch 1.13
// (numbers written below, with the Python that produced them).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../../graders/13_attention/attention_reference.h"
#include "engine_testing.h"
#include "grading.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;
namespace ref = attention_reference;

namespace {

using ref::sdpa;

struct Case {
    const char* name;
    tt::Shape q, k, v;
    bool causal;
    bool mask;
};

// 3-D and 4-D, Tq == Tk and Tq < Tk, dv != d, with and without masks.
const std::vector<Case>& cases() {
    static const std::vector<Case> all = {
        {"4-D plain", {2, 2, 3, 4}, {2, 2, 3, 4}, {2, 2, 3, 4}, false, false},
        {"4-D causal", {1, 2, 4, 3}, {1, 2, 4, 3}, {1, 2, 4, 3}, true, false},
        {"4-D padding", {2, 1, 3, 2}, {2, 1, 4, 2}, {2, 1, 4, 3}, false, true},
        {"4-D causal + padding", {2, 2, 3, 2}, {2, 2, 3, 2}, {2, 2, 3, 2}, true, true},
        {"4-D causal Tq < Tk", {1, 2, 2, 3}, {1, 2, 5, 3}, {1, 2, 5, 2}, true, false},
        {"3-D plain, dv != d", {2, 3, 2}, {2, 4, 2}, {2, 4, 5}, false, false},
        {"3-D causal", {2, 4, 3}, {2, 4, 3}, {2, 4, 3}, true, false},
        {"3-D causal Tq < Tk + padding", {2, 2, 2}, {2, 4, 2}, {2, 4, 2}, true, true},
    };
    return all;
}

// Per batch: the last key is padding in batch 0, the first in batch 1 (B = 2), or none (B = 1).
tt::Tensor padding_mask(int64_t B, int64_t Tk) {
    std::vector<float> m(static_cast<size_t>(B * Tk), 1.0f);
    m[static_cast<size_t>(Tk - 1)] = 0.0f;
    if (B > 1) m[static_cast<size_t>(Tk)] = 0.0f;
    return raw(m, {B, Tk});
}

}  // namespace

TEST_CASE("attention: one query, two keys, by hand", "[attention]") {
    // scores = [1, 0] / sqrt(2); P = softmax = [e^0.70711, 1] / (e^0.70711 + 1) = [0.669761, 0.330239]
    // out = 0.669761 * [1, 2] + 0.330239 * [3, 4] = [1.660478, 2.660478]
    const tt::Tensor q = nested({{{1, 0}}});            // (1, 1, 2)
    const tt::Tensor k = nested({{{1, 0}, {0, 1}}});    // (1, 2, 2)
    const tt::Tensor v = nested({{{1, 2}, {3, 4}}});    // (1, 2, 2)
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, k, v, false, tt::Tensor(), &weights);
    CHECK_THAT(out, tensor_near(nested({{{1.660478f, 2.660478f}}}), 1e-5));
    CHECK_THAT(weights, tensor_near(nested({{{0.669761f, 0.330239f}}}), 1e-5));
}

TEST_CASE("attention: causal mask by hand, rows sum to 1 and the future is exactly 0", "[attention]") {
    // q = k = 0: every visible key gets the same weight. Query i sees keys 0..i: weights 1/(i+1).
    const tt::Tensor zero = raw(std::vector<float>(6, 0.0f), {1, 3, 2});
    const tt::Tensor v = nested({{{1, 10}, {2, 20}, {3, 30}}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(zero, zero, v, true, tt::Tensor(), &weights);
    CHECK_THAT(weights, tensor_equal(nested({{{1, 0, 0}, {0.5f, 0.5f, 0}, {1 / 3.0f, 1 / 3.0f, 1 / 3.0f}}})));
    CHECK_THAT(out, tensor_near(nested({{{1, 10}, {1.5f, 15}, {2, 20}}}), 1e-5));
}

TEST_CASE("attention: causal with fewer queries than keys uses the offset Tk - Tq", "[attention]") {
    // 2 queries, 4 keys: the queries are positions 2 and 3, so query 0 sees keys 0..2, query 1 all 4.
    const tt::Tensor q = raw(std::vector<float>(4, 0.0f), {1, 2, 2});
    const tt::Tensor k = raw(std::vector<float>(8, 0.0f), {1, 4, 2});
    const tt::Tensor v = nested({{{3, 0}, {6, 0}, {9, 0}, {12, 0}}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, k, v, true, tt::Tensor(), &weights);
    CHECK_THAT(weights, tensor_near(nested({{{1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 0}, {0.25f, 0.25f, 0.25f, 0.25f}}}), 1e-6));
    CHECK_THAT(out, tensor_near(nested({{{6, 0}, {7.5f, 0}}}), 1e-5));
}

TEST_CASE("attention: a key padding mask removes keys per batch; a fully masked row is 0", "[attention]") {
    const tt::Tensor q = raw(std::vector<float>(4, 0.0f), {2, 1, 2});
    const tt::Tensor k = raw(std::vector<float>(12, 0.0f), {2, 3, 2});
    const tt::Tensor v = nested({{{1, 1}, {2, 2}, {4, 4}}, {{1, 1}, {2, 2}, {4, 4}}});
    const tt::Tensor mask = nested({{1, 0, 1}, {0, 0, 0}});  // batch 1: nothing to attend to
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, k, v, false, mask, &weights);
    CHECK_THAT(weights, tensor_equal(nested({{{0.5f, 0, 0.5f}}, {{0, 0, 0}}})));
    CHECK_THAT(out, tensor_equal(nested({{{2.5f, 2.5f}}, {{0, 0}}})));
    // And the gradient through a fully masked row is 0, not NaN.
    const auto f = [&](const std::vector<tt::Tensor>& in) { return sdpa(in[0], in[1], in[2], false, mask); };
    CHECK(gradient_check(f, {random_values({2, 1, 2}, 1), random_values({2, 3, 2}, 2), random_values({2, 3, 2}, 3)}));
}

TEST_CASE("attention: huge scores stay finite (the softmax subtracts the row's max)", "[attention]") {
    // Scores of 1000^2 / sqrt(2): exp without the max subtraction is inf, and inf / inf is NaN.
    const tt::Tensor q = nested({{{1000, 1000}, {-1000, 0}}});
    const tt::Tensor k = nested({{{1000, 1000}, {999, 1000}}});
    const tt::Tensor v = nested({{{1, 0}, {0, 1}}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, k, v, false, tt::Tensor(), &weights);
    CHECK(all_finite(out));
    CHECK_THAT(out, tensor_near(ref::attention(q, k, v).out, 1e-5));
    CHECK_THAT(weights, tensor_near(ref::attention(q, k, v).weights, 1e-5));
}

TEST_CASE("attention: forward matches the plain-loop reference on every case", "[attention]") {
    for (const Case& c : cases()) {
        INFO(c.name);
        const tt::Tensor q = random_values(c.q, 11, -2, 2), k = random_values(c.k, 12, -2, 2), v = random_values(c.v, 13);
        const tt::Tensor mask = c.mask ? padding_mask(c.q[0], c.k[c.k.size() - 2]) : tt::Tensor();
        const ref::Result expected = ref::attention(q, k, v, c.causal, mask);
        tt::Tensor weights;
        CHECK_THAT(sdpa(q, k, v, c.causal, mask, &weights), tensor_near(expected.out, 1e-5, 1e-4));
        CHECK_THAT(weights, tensor_near(expected.weights, 1e-6, 1e-4));
        // Non-contiguous inputs give the same numbers.
        CHECK_THAT(sdpa(padded(q), column_major(k), padded(v), c.causal, mask.defined() ? padded(mask) : mask),
                   tensor_near(expected.out, 1e-5, 1e-4));
    }
}

TEST_CASE("attention: gradients of q, k and v match finite differences on every case", "[attention][gradcheck]") {
    for (const Case& c : cases()) {
        INFO(c.name);
        const tt::Tensor mask = c.mask ? padding_mask(c.q[0], c.k[c.k.size() - 2]) : tt::Tensor();
        const auto f = [&](const std::vector<tt::Tensor>& in) { return sdpa(in[0], in[1], in[2], c.causal, mask); };
        CHECK(gradient_check(f, {random_values(c.q, 21, -2, 2), random_values(c.k, 22, -2, 2), random_values(c.v, 23)}));
    }
}

TEST_CASE("attention: gradients through non-contiguous views of q, k and v", "[attention][gradcheck]") {
    // q, k, v as the transposed views multi-head attention makes: (B, T, H, d).transpose(1, 2).
    const auto f = [](const std::vector<tt::Tensor>& in) {
        return sdpa(in[0].transpose(1, 2), in[1].transpose(1, 2), in[2].transpose(1, 2), true);
    };
    CHECK(gradient_check(f, {random_values({2, 3, 2, 2}, 31, -2, 2), random_values({2, 3, 2, 2}, 32, -2, 2),
                             random_values({2, 3, 2, 2}, 33)}));
    // One input requiring grad at a time: the others get nothing and the node skips their work.
    for (size_t which = 0; which < 3; ++which) {
        INFO("only input " << which);
        GradientCheckOptions options;
        options.wrt = {which};
        const auto g = [](const std::vector<tt::Tensor>& in) { return sdpa(in[0], in[1], in[2], true); };
        CHECK(gradient_check(g, {random_values({1, 2, 3, 2}, 41), random_values({1, 2, 3, 2}, 42), random_values({1, 2, 3, 2}, 43)},
                             options));
    }
}

TEST_CASE("attention: backward reads a non-contiguous incoming gradient and handles empty inputs", "[attention][gradcheck]") {
    const auto f = [](const std::vector<tt::Tensor>& in) { return sdpa(in[0], in[1], in[2], true).transpose(1, 2); };
    CHECK(gradient_check(f, {random_values({2, 2, 3, 2}, 7, -2, 2), random_values({2, 2, 3, 2}, 8, -2, 2), random_values({2, 2, 3, 2}, 9)}));
    // The node itself, given a padded (non-contiguous) gradient, reads it through its strides.
    {
        tt::Tensor q = leaf(random_values({1, 2, 3, 2}, 1)), k = leaf(random_values({1, 2, 3, 2}, 2));
        tt::Tensor v = leaf(random_values({1, 2, 3, 2}, 3));
        const tt::Tensor g = random_values({1, 2, 3, 2}, 4);
        const tt::Tensor out = sdpa(q, k, v, true);
        out.backward(g, /*retain_graph=*/true);
        const tt::Tensor dq = raw_copy(q.grad()), dk = raw_copy(k.grad()), dv = raw_copy(v.grad());
        q.zero_grad();
        k.zero_grad();
        v.zero_grad();
        {
            tt::NoGradGuard no_grad;
            out.grad_fn()->apply(padded(g));
        }
        CHECK_THAT(q.grad(), tensor_near(dq, 1e-6, 0));
        CHECK_THAT(k.grad(), tensor_near(dk, 1e-6, 0));
        CHECK_THAT(v.grad(), tensor_near(dv, 1e-6, 0));
    }
    // No keys: dq = 0, dk and dv are empty. No batch: nothing at all.
    tt::Tensor q = leaf(random_values({1, 2, 2}, 1)), k = leaf(tt::zeros({1, 0, 2})), v = leaf(tt::zeros({1, 0, 3}));
    sdpa(q, k, v).sum().backward();
    CHECK_THAT(q.grad(), tensor_equal(raw(std::vector<float>(4, 0.0f), {1, 2, 2})));
    CHECK(k.grad().shape() == tt::Shape{1, 0, 2});
    tt::Tensor empty_q = leaf(tt::zeros({0, 2, 3, 2}));
    sdpa(empty_q, tt::zeros({0, 2, 3, 2}), tt::zeros({0, 2, 3, 2}), true).sum().backward();
    CHECK(empty_q.grad().shape() == tt::Shape{0, 2, 3, 2});
}

TEST_CASE("attention: one fused node, every product through kernels::gemm", "[attention]") {
    const tt::Tensor q = leaf(random_values({2, 3, 4, 2}, 1)), k = leaf(random_values({2, 3, 4, 2}, 2));
    const tt::Tensor v = leaf(random_values({2, 3, 4, 2}, 3));
    ref::CountGemm count;
    const tt::Tensor out = sdpa(q, k, v, true);
    CHECK(ref::gemm_calls == 2 * 6);  // scores and P @ v for each of the B * H = 6 pairs
    REQUIRE(out.grad_fn());
    CHECK(std::string(out.grad_fn()->name()) == "AttentionBackward");
    CHECK(out.grad_fn()->inputs.size() == 3);
    ref::gemm_calls = 0;
    out.sum().backward();
    CHECK(ref::gemm_calls == 4 * 6);  // dv, dP, dq, dk
    CHECK(q.grad().defined());
    CHECK(k.grad().defined());
    CHECK(v.grad().defined());
}

TEST_CASE("attention: errors name the op and the shapes", "[attention][errors]") {
    const tt::Tensor q = random_values({2, 3, 4}, 1), k = random_values({2, 5, 4}, 2), v = random_values({2, 5, 4}, 3);
    CHECK_THAT(error_message([&] { sdpa(q, random_values({2, 5, 3}, 4), v); }),
               Contains("scaled_dot_product_attention") && Contains("(2, 3, 4)") && Contains("(2, 5, 3)"));
    CHECK_THAT(error_message([&] { sdpa(q, k, random_values({2, 4, 4}, 5)); }),
               Contains("scaled_dot_product_attention") && Contains("(2, 4, 4)"));
    CHECK_THAT(error_message([&] { sdpa(q, random_values({3, 5, 4}, 6), random_values({3, 5, 4}, 6)); }),
               Contains("scaled_dot_product_attention") && Contains("(3, 5, 4)"));
    CHECK_THAT(error_message([&] { sdpa(random_values({3, 4}, 7), random_values({3, 4}, 7), random_values({3, 4}, 7)); }),
               Contains("scaled_dot_product_attention") && Contains("(3, 4)"));
    CHECK_THAT(error_message([&] { sdpa(random_values({1, 2, 3, 4}, 7), k, v); }),
               Contains("scaled_dot_product_attention"));
    CHECK_THAT(error_message([&] { sdpa(random_values({1, 2, 3, 4}, 7), random_values({1, 3, 3, 4}, 7), random_values({1, 3, 3, 4}, 7)); }),
               Contains("scaled_dot_product_attention") && Contains("(1, 3, 3, 4)"));
    CHECK_THAT(error_message([&] { sdpa(q, k, v, false, random_values({2, 4}, 8)); }),
               Contains("scaled_dot_product_attention") && Contains("(2, 4)") && Contains("(2, 5)"));
    CHECK_THAT(error_message([&] { sdpa(k, q, q, true); }),
               Contains("scaled_dot_product_attention") && Contains("causal") && Contains("(2, 5, 4)"));
}

TEST_CASE("attention: weights are handed out detached; zero-size inputs work", "[attention]") {
    const tt::Tensor q = leaf(random_values({1, 2, 2}, 1));
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, random_values({1, 3, 2}, 2), random_values({1, 3, 2}, 3), false, tt::Tensor(), &weights);
    CHECK(out.requires_grad());
    CHECK_FALSE(weights.requires_grad());
    CHECK(weights.grad_fn() == nullptr);
    CHECK(weights.shape() == tt::Shape{1, 2, 3});
    // No keys at all: every query sees nothing, output 0.
    const tt::Tensor none = sdpa(random_values({1, 2, 2}, 1), tt::zeros({1, 0, 2}), tt::zeros({1, 0, 3}));
    CHECK_THAT(none, tensor_equal(raw(std::vector<float>(6, 0.0f), {1, 2, 3})));
    CHECK(sdpa(tt::zeros({0, 2, 2}), tt::zeros({0, 2, 2}), tt::zeros({0, 2, 2})).shape() == tt::Shape{0, 2, 2});
}

// ---------------------------------------------------------------------------------------------
// MultiHeadAttention
// ---------------------------------------------------------------------------------------------

TEST_CASE("MultiHeadAttention: children, parameters, description", "[attention][layer]") {
    tt::Generator gen(3);
    tt::MultiHeadAttention mha(8, 2, true, &gen);
    const auto params = mha.named_parameters();
    REQUIRE(params.size() == 4);
    CHECK(params[0].first == "qkv.weight");
    CHECK(params[0].second.shape() == tt::Shape{24, 8});
    CHECK(params[1].first == "qkv.bias");
    CHECK(params[2].first == "proj.weight");
    CHECK(params[2].second.shape() == tt::Shape{8, 8});
    CHECK(params[3].first == "proj.bias");
    CHECK(mha.extra_repr() == "embed_dim=8, num_heads=2, causal=true");
    CHECK(mha.parameter_count() == 24 * 8 + 24 + 64 + 8);
    tt::MultiHeadAttention plain(tt::MultiHeadAttentionOptions{6, 3, false, false}, &gen);
    CHECK(plain.parameters().size() == 2);
    CHECK(plain.extra_repr() == "embed_dim=6, num_heads=3, causal=false");
    CHECK_THAT(error_message([&] { tt::MultiHeadAttention bad(10, 3); }), Contains("MultiHeadAttention") && Contains("10") && Contains("3"));
}

TEST_CASE("MultiHeadAttention: forward matches the reference, with and without a mask", "[attention][layer]") {
    for (bool causal : {true, false}) {
        INFO("causal " << causal);
        tt::Generator gen(7);
        tt::MultiHeadAttention mha(6, 3, causal, &gen);
        const tt::Tensor x = random_values({2, 4, 6}, 5);
        const tt::Tensor expected = ref::multi_head_attention(x, 3, causal, mha.qkv->weight, mha.qkv->bias, mha.proj->weight,
                                                              mha.proj->bias);
        CHECK_THAT(mha(x), tensor_near(expected, 1e-5, 1e-4));
        CHECK_THAT(mha.forward(padded(x), tt::Tensor(), nullptr), tensor_near(expected, 1e-5, 1e-4));
        const tt::Tensor mask = nested({{1, 1, 0, 1}, {1, 1, 1, 1}});
        mha.keep_weights = true;
        tt::Tensor expected_weights;
        const tt::Tensor masked = ref::multi_head_attention(x, 3, causal, mha.qkv->weight, mha.qkv->bias, mha.proj->weight,
                                                            mha.proj->bias, mask, &expected_weights);
        CHECK_THAT(mha.forward(x, mask), tensor_near(masked, 1e-5, 1e-4));
        CHECK_THAT(mha.last_weights, tensor_near(expected_weights, 1e-6, 1e-4));
    }
}

TEST_CASE("MultiHeadAttention: gradients reach x and every parameter", "[attention][layer][gradcheck]") {
    tt::Generator gen(9);
    auto mha = std::make_shared<tt::MultiHeadAttention>(4, 2, true, &gen);
    const auto f = [&](const std::vector<tt::Tensor>& in) {
        mha->qkv->weight = in[1];
        mha->qkv->bias = in[2];
        mha->proj->weight = in[3];
        mha->proj->bias = in[4];
        return mha->forward(in[0]);
    };
    CHECK(gradient_check(f, {random_values({2, 3, 4}, 1), raw_copy(mha->qkv->weight), raw_copy(mha->qkv->bias),
                             raw_copy(mha->proj->weight), raw_copy(mha->proj->bias)}));
}

TEST_CASE("MultiHeadAttention: errors for a wrong input and for a KV cache", "[attention][layer][errors]") {
    tt::MultiHeadAttention mha(8, 2);
    CHECK_THAT(error_message([&] { mha(random_values({2, 3, 6}, 1)); }),
               Contains("MultiHeadAttention") && Contains("(2, 3, 6)"));
    CHECK_THAT(error_message([&] { mha(random_values({3, 8}, 1)); }), Contains("MultiHeadAttention") && Contains("(3, 8)"));
    CHECK_THAT(error_message([&] { mha.forward(random_values({1, 3, 8}, 1), tt::Tensor(), reinterpret_cast<tt::KVCache*>(&mha)); }),
               Contains("MultiHeadAttention") && Contains("module 16"));
}

// ---------------------------------------------------------------------------------------------
// PyTorch 1.13 (float64, then rounded), from this Python:
//     def wave(shape, a, b, scale=1.0):   # the same numbers as attention_reference::wave
//         n = math.prod(shape); return torch.tensor([scale * math.sin(a * i + b) for i in range(n)],
//                                                   dtype=torch.float64).float().reshape(shape)
//     def attn(q, k, v, causal, mask):    # torch 1.13 has no F.scaled_dot_product_attention
//         s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]); Tq, Tk = s.shape[-2:]
//         allow = (arange(Tk)[None, :] <= arange(Tq)[:, None] + Tk - Tq) if causal else ones(Tq, Tk)
//         allow = allow & mask.bool()[:, None, None, :]          # (B, 1, 1, Tk)
//         p = torch.softmax(s.masked_fill(~allow, -inf), -1); return p @ v, p
//     loss = (out * wave(out.shape, 0.37, 0.2)).sum(); loss.backward()
// ---------------------------------------------------------------------------------------------

TEST_CASE("attention: PyTorch values, 4-D causal with Tq < Tk and a padding mask", "[attention][pytorch]") {
    const tt::Tensor q = leaf(ref::wave({2, 2, 2, 3}, 0.7, 0.1, 1.5));
    const tt::Tensor k = leaf(ref::wave({2, 2, 4, 3}, 0.45, 0.3, 1.5));
    const tt::Tensor v = leaf(ref::wave({2, 2, 4, 2}, 0.9, 0.5));
    const tt::Tensor mask = nested({{1, 1, 0, 1}, {1, 1, 1, 1}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, k, v, true, mask, &weights);
    CHECK_THAT(out, tensor_near(raw({0.5976548f, 0.5219877f, 0.5605134f, 0.2504035f, 0.9504985f, 0.6790529f, 0.04799508f,
                                     -0.6344486f, -0.3136423f, 0.1512722f, 0.680562f, -0.0850726f, 0.442076f, 0.8937835f,
                                     0.402445f, -0.01502821f},
                                    {2, 2, 2, 2}),
                                1e-5, 1e-4));
    CHECK_THAT(weights,
               tensor_near(raw({0.555996f, 0.444004f, 0, 0, 0.2382561f, 0.6529988f, 0, 0.1087451f, 0.9645734f, 0.03542659f, 0, 0,
                                0.1086965f, 0.878342f, 0, 0.01296146f, 0.1208978f, 0.2020808f, 0.6770215f, 0, 0.9254379f,
                                0.03155543f, 0.003519234f, 0.03948739f, 0.01255172f, 0.05884841f, 0.9285999f, 0, 0.1509637f,
                                0.08563164f, 0.2110505f, 0.5523541f},
                               {2, 2, 2, 4}),
                           1e-6, 1e-4));
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

TEST_CASE("MultiHeadAttention: PyTorch values with given weights (the same as nn.MultiheadAttention)", "[attention][pytorch]") {
    // x = wave((2, 3, 4), 0.5, 0.2); qkv.weight = wave((12, 4), 0.31, 0.7, 0.6); qkv.bias = wave((12,), 0.83, 0.1, 0.2)
    // proj.weight = wave((4, 4), 0.57, 0.4, 0.6); proj.bias = wave((4,), 1.1, 0.3, 0.2); causal, 2 heads.
    // q, k, v = (x @ Wqkv.T + b).split(4, 2), each .view(2, 3, 2, 2).transpose(1, 2); y = proj(joined heads).
    // nn.MultiheadAttention(4, 2, batch_first=True) with in_proj = qkv, out_proj = proj and a causal
    // attn_mask gives the same y (max difference 2e-16).
    tt::MultiHeadAttention mha(4, 2, true);
    mha.qkv->weight = leaf(ref::wave({12, 4}, 0.31, 0.7, 0.6));
    mha.qkv->bias = leaf(ref::wave({12}, 0.83, 0.1, 0.2));
    mha.proj->weight = leaf(ref::wave({4, 4}, 0.57, 0.4, 0.6));
    mha.proj->bias = leaf(ref::wave({4}, 1.1, 0.3, 0.2));
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
