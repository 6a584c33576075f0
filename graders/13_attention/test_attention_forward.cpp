// test_attention_forward.cpp - module 13 grader: scaled_dot_product_attention, forward
// (attention.cpp).
//     out = softmax(q @ k^T / sqrt(d) + mask) @ v, along the keys; masked weights exactly 0
// Expected values: by hand, from the plain-loop attention of attention_reference.h, or from
// PyTorch 1.13 (numbers written below, with the Python that produced them).
#include <catch2/catch.hpp>

#include <cmath>
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

tt::Tensor zeros_of(const tt::Shape& shape) { return raw(std::vector<float>(static_cast<size_t>(count_of(shape)), 0.0f), shape); }

// Checks out and weights against the reference for one configuration.
void check_against_reference(const tt::Tensor& q, const tt::Tensor& k, const tt::Tensor& v, bool causal,
                             const tt::Tensor& mask = tt::Tensor()) {
    const ref::Result expected = ref::attention(q, k, v, causal, mask);
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, k, v, causal, mask, &weights);
    CHECK_THAT(out, tensor_near(expected.out, 1e-5, 1e-4));
    CHECK_THAT(weights, tensor_near(expected.weights, 1e-6, 1e-4));
}

}  // namespace

TEST_CASE("attention by hand: one query; two keys; the weights and the output", "[points=2]") {
    // scores = [1, 0] / sqrt(2); weights = [e^0.70711, 1] / (e^0.70711 + 1) = [0.669761, 0.330239]
    const tt::Tensor q = nested({{{1, 0}}});
    const tt::Tensor k = nested({{{1, 0}, {0, 1}}});
    const tt::Tensor v = nested({{{1, 2}, {3, 4}}});
    tt::Tensor weights;
    CHECK_THAT(sdpa(q, k, v, false, tt::Tensor(), &weights), tensor_near(nested({{{1.660478f, 2.660478f}}}), 1e-5));
    CHECK_THAT(weights, tensor_near(nested({{{0.669761f, 0.330239f}}}), 1e-5));
}

TEST_CASE("attention scales the scores by 1 / sqrt(d); d the width of q and k", "[points=3]") {
    // d = 4, Tq = 1, Tk = 2: scores [4, 0] / sqrt(4) = [2, 0]; weights [e^2, 1] / (e^2 + 1) = [0.880797, 0.119203]
    // (no scaling gives [0.982014, 0.017986]; 1/d gives [0.731059, 0.268941]; 1/sqrt(Tk) [0.944071, 0.055929])
    const tt::Tensor q = nested({{{1, 1, 1, 1}}});
    const tt::Tensor k = nested({{{1, 1, 1, 1}, {0, 0, 0, 0}}});
    const tt::Tensor v = nested({{{1, 0}, {0, 1}}});
    tt::Tensor weights;
    CHECK_THAT(sdpa(q, k, v, false, tt::Tensor(), &weights), tensor_near(nested({{{0.880797f, 0.119203f}}}), 1e-5));
    CHECK_THAT(weights, tensor_near(nested({{{0.880797f, 0.119203f}}}), 1e-5));
    // d = 9 with 3 queries and 5 keys: neither Tq nor Tk equals d.
    check_against_reference(random_values({1, 3, 9}, 1, -1.5f, 1.5f), random_values({1, 5, 9}, 2, -1.5f, 1.5f),
                            random_values({1, 5, 2}, 3), false);
}

TEST_CASE("attention weights sum to 1 along the keys; not along the queries", "[points=2]") {
    const tt::Tensor q = random_values({2, 3, 4}, 4, -2, 2), k = random_values({2, 5, 4}, 5, -2, 2);
    tt::Tensor weights;
    sdpa(q, k, random_values({2, 5, 3}, 6), false, tt::Tensor(), &weights);
    REQUIRE(weights.shape() == tt::Shape{2, 3, 5});
    const std::vector<float> w = values_of(weights);
    for (int64_t row = 0; row < 6; ++row) {
        double total = 0;
        for (int64_t j = 0; j < 5; ++j) total += w[static_cast<size_t>(row * 5 + j)];
        CHECK(total == Approx(1.0).margin(1e-5));
    }
    check_against_reference(q, k, random_values({2, 5, 3}, 6), false);
}

TEST_CASE("causal mask by hand: query i sees keys 0..i; the future weighs exactly 0", "[points=3]") {
    // q = k = 0: every visible key weighs the same, 1 / (i + 1).
    const tt::Tensor zero = zeros_of({1, 4, 2});
    const tt::Tensor v = nested({{{1, 10}, {2, 20}, {3, 30}, {4, 40}}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(zero, zero, v, true, tt::Tensor(), &weights);
    CHECK_THAT(weights, tensor_near(nested({{{1, 0, 0, 0}, {0.5f, 0.5f, 0, 0}, {1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 0}, {0.25f, 0.25f, 0.25f, 0.25f}}}),
                                    1e-6, 0));
    CHECK_THAT(out, tensor_near(nested({{{1, 10}, {1.5f, 15}, {2, 20}, {2.5f, 25}}}), 1e-5));
}

TEST_CASE("causal mask: the masked weights are exactly 0 and each row still sums to 1", "[points=2]") {
    // Large scores towards the future: a mask applied after the softmax (zeroing, not -inf before)
    // leaves rows that no longer sum to 1.
    const tt::Tensor q = nested({{{1, 1}, {1, 1}, {1, 1}}});
    const tt::Tensor k = nested({{{-1, -1}, {0, 0}, {3, 3}}});
    tt::Tensor weights;
    sdpa(q, k, random_values({1, 3, 2}, 7), true, tt::Tensor(), &weights);
    const std::vector<float> w = values_of(weights);
    REQUIRE(w.size() == 9);
    CHECK(w[1] == 0.0f);
    CHECK(w[2] == 0.0f);
    CHECK(w[5] == 0.0f);
    CHECK(w[0] == Approx(1.0f).margin(1e-6));
    CHECK(w[3] + w[4] == Approx(1.0f).margin(1e-6));
    CHECK(w[6] + w[7] + w[8] == Approx(1.0f).margin(1e-6));
}

TEST_CASE("causal mask against the reference; 3-D and 4-D; several lengths", "[points=2]") {
    for (int64_t T : {1, 2, 5, 7}) {
        INFO("T = " << T);
        check_against_reference(random_values({2, T, 3}, 10 + T, -2, 2), random_values({2, T, 3}, 20 + T, -2, 2),
                                random_values({2, T, 3}, 30 + T), true);
        check_against_reference(random_values({2, 3, T, 2}, 40 + T, -2, 2), random_values({2, 3, T, 2}, 50 + T, -2, 2),
                                random_values({2, 3, T, 4}, 60 + T), true);
    }
}

TEST_CASE("causal mask with fewer queries than keys: query i sits at position i + Tk - Tq", "[points=3]") {
    // 2 queries, 4 keys: the queries are positions 2 and 3 of the keys' sequence.
    const tt::Tensor v = nested({{{3, 0}, {6, 0}, {9, 0}, {12, 0}}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(zeros_of({1, 2, 2}), zeros_of({1, 4, 2}), v, true, tt::Tensor(), &weights);
    CHECK_THAT(weights, tensor_near(nested({{{1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 0}, {0.25f, 0.25f, 0.25f, 0.25f}}}), 1e-6, 0));
    CHECK_THAT(out, tensor_near(nested({{{6, 0}, {7.5f, 0}}}), 1e-5));
    // One query (the last position) sees every key, as in generation with a KV cache.
    check_against_reference(random_values({2, 2, 1, 3}, 1, -2, 2), random_values({2, 2, 6, 3}, 2, -2, 2),
                            random_values({2, 2, 6, 3}, 3), true);
    check_against_reference(random_values({2, 3, 3}, 4, -2, 2), random_values({2, 7, 3}, 5, -2, 2), random_values({2, 7, 2}, 6),
                            true);
}

TEST_CASE("key padding mask by hand: padded keys weigh 0; per batch element", "[points=3]") {
    const tt::Tensor v = nested({{{1, 1}, {2, 2}, {4, 4}}, {{1, 1}, {2, 2}, {4, 4}}});
    const tt::Tensor mask = nested({{1, 0, 1}, {1, 1, 0}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(zeros_of({2, 2, 2}), zeros_of({2, 3, 2}), v, false, mask, &weights);
    CHECK_THAT(weights, tensor_near(nested({{{0.5f, 0, 0.5f}, {0.5f, 0, 0.5f}}, {{0.5f, 0.5f, 0}, {0.5f, 0.5f, 0}}}), 1e-6, 0));
    CHECK_THAT(out, tensor_near(nested({{{2.5f, 2.5f}, {2.5f, 2.5f}}, {{1.5f, 1.5f}, {1.5f, 1.5f}}}), 1e-5));
}

TEST_CASE("key padding mask masks keys (columns); not queries; with Tq != Tk", "[points=2]") {
    // 2 queries and 4 keys: mask (B, Tk) = (2, 4) says which KEYS are padding.
    const tt::Tensor mask = nested({{1, 1, 1, 0}, {0, 1, 1, 1}});
    check_against_reference(random_values({2, 2, 3}, 1, -2, 2), random_values({2, 4, 3}, 2, -2, 2), random_values({2, 4, 3}, 3),
                            false, mask);
}

TEST_CASE("key padding mask with heads: the mask of batch b applies to every head of b", "[points=3]") {
    // B = 2, H = 3: a mask indexed by head instead of batch, or broadcast over the wrong dimension, is wrong.
    const tt::Tensor mask = nested({{1, 0, 1, 1, 0}, {1, 1, 1, 0, 0}});
    check_against_reference(random_values({2, 3, 4, 2}, 1, -2, 2), random_values({2, 3, 5, 2}, 2, -2, 2),
                            random_values({2, 3, 5, 3}, 3), false, mask);
    check_against_reference(random_values({2, 3, 5, 2}, 4, -2, 2), random_values({2, 3, 5, 2}, 5, -2, 2),
                            random_values({2, 3, 5, 3}, 6), true, mask);
}

TEST_CASE("a query whose every key is masked gets weights 0 and output 0; not NaN", "[points=3]") {
    const tt::Tensor mask = nested({{1, 1, 1}, {0, 0, 0}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(random_values({2, 2, 2}, 1), random_values({2, 3, 2}, 2), random_values({2, 3, 2}, 3), false, mask,
                                &weights);
    CHECK(all_finite(out));
    CHECK(all_finite(weights));
    CHECK_THAT(out.slice(0, 1, 2), tensor_equal(zeros_of({1, 2, 2})));
    CHECK_THAT(weights.slice(0, 1, 2), tensor_equal(zeros_of({1, 2, 3})));
    // Causal + padding: query 0 of batch 1 may see only key 0, which is padding.
    const tt::Tensor mask2 = nested({{1, 1, 1}, {0, 1, 1}});
    const tt::Tensor out2 = sdpa(random_values({2, 3, 2}, 4), random_values({2, 3, 2}, 5), random_values({2, 3, 2}, 6), true, mask2);
    CHECK(all_finite(out2));
    CHECK_THAT(out2, tensor_near(ref::attention(random_values({2, 3, 2}, 4), random_values({2, 3, 2}, 5), random_values({2, 3, 2}, 6),
                                                true, mask2)
                                     .out,
                                 1e-5, 1e-4));
}

TEST_CASE("attention stays finite and exact for huge scores (the softmax subtracts the row max)", "[points=3]") {
    // Scores up to 1000 * 1000 * 2 / sqrt(2): exp overflows to inf without the max subtraction.
    const tt::Tensor q = nested({{{1000, 1000}, {-1000, 0}, {30, -20}}});
    const tt::Tensor k = nested({{{1000, 1000}, {999, 1000}, {-1000, 1000}}});
    const tt::Tensor v = nested({{{1, 0}, {0, 1}, {1, 1}}});
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, k, v, false, tt::Tensor(), &weights);
    CHECK(all_finite(out));
    check_against_reference(q, k, v, false);
    check_against_reference(q, k, v, true);
}

TEST_CASE("attention with a value width dv different from d", "[points=2]") {
    const tt::Tensor out = sdpa(random_values({2, 3, 2}, 1), random_values({2, 4, 2}, 2), random_values({2, 4, 5}, 3));
    CHECK(out.shape() == tt::Shape{2, 3, 5});
    check_against_reference(random_values({1, 2, 3, 2}, 4, -2, 2), random_values({1, 2, 4, 2}, 5, -2, 2),
                            random_values({1, 2, 4, 6}, 6), false);
}

TEST_CASE("attention on 4-D inputs: every (batch; head) pair is independent", "[points=2]") {
    check_against_reference(random_values({2, 3, 4, 5}, 1, -2, 2), random_values({2, 3, 4, 5}, 2, -2, 2),
                            random_values({2, 3, 4, 5}, 3), false);
    // Changing head 1 of batch 0 changes only that slice of the output.
    const tt::Tensor q = random_values({2, 2, 3, 2}, 4), k = random_values({2, 2, 3, 2}, 5), v = random_values({2, 2, 3, 2}, 6);
    const std::vector<float> before = values_of(sdpa(q, k, v, true));
    std::vector<float> vv = values_of(v);
    for (size_t i = 6; i < 12; ++i) vv[i] += 1.0f;  // v[0, 1]
    const std::vector<float> after = values_of(sdpa(q, k, raw(vv, {2, 2, 3, 2}), true));
    for (size_t i = 0; i < before.size(); ++i) {
        INFO("element " << i);
        if (i >= 6 && i < 12) CHECK(after[i] == Approx(before[i] + 1.0f).margin(1e-5));
        else CHECK(after[i] == Approx(before[i]).margin(1e-6));
    }
}

TEST_CASE("attention reads non-contiguous q; k; v and mask through their strides", "[points=3]") {
    const tt::Tensor q = random_values({2, 2, 3, 4}, 1, -2, 2), k = random_values({2, 2, 5, 4}, 2, -2, 2);
    const tt::Tensor v = random_values({2, 2, 5, 3}, 3);
    const tt::Tensor mask = nested({{1, 1, 0, 1, 1}, {1, 1, 1, 1, 0}});
    const ref::Result expected = ref::attention(q, k, v, true, mask);
    CHECK_THAT(sdpa(padded(q), column_major(k), padded(v), true, padded(mask)), tensor_near(expected.out, 1e-5, 1e-4));
    // The (B, T, H, d) -> (B, H, T, d) transposed views multi-head attention makes.
    const tt::Tensor qt = raw_copy(q).permute({0, 2, 1, 3}).contiguous();  // (2, 3, 2, 4) holding the same values
    CHECK_THAT(sdpa(raw(values_of(qt), {2, 3, 2, 4}).transpose(1, 2), k, v, true, mask), tensor_near(expected.out, 1e-5, 1e-4));
}

TEST_CASE("the weights handed out are (...; Tq; Tk); detached; and not needed to run", "[points=2]") {
    const tt::Tensor q = leaf(random_values({1, 2, 3, 2}, 1));
    tt::Tensor weights;
    const tt::Tensor out = sdpa(q, random_values({1, 2, 4, 2}, 2), random_values({1, 2, 4, 2}, 3), false, tt::Tensor(), &weights);
    CHECK(out.shape() == tt::Shape{1, 2, 3, 2});
    REQUIRE(weights.defined());
    CHECK(weights.shape() == tt::Shape{1, 2, 3, 4});
    CHECK_FALSE(weights.requires_grad());
    CHECK(weights.grad_fn() == nullptr);
    CHECK(sdpa(q, random_values({1, 2, 4, 2}, 2), random_values({1, 2, 4, 2}, 3)).shape() == tt::Shape{1, 2, 3, 2});
}

TEST_CASE("attention records one AttentionBackward node with inputs q; k; v", "[points=2]") {
    const tt::Tensor q = leaf(random_values({1, 3, 2}, 1)), k = leaf(random_values({1, 3, 2}, 2)), v = leaf(random_values({1, 3, 2}, 3));
    const tt::Tensor out = sdpa(q, k, v, true);
    REQUIRE(out.grad_fn());
    CHECK(std::string(out.grad_fn()->name()) == "AttentionBackward");
    REQUIRE(out.grad_fn()->inputs.size() == 3);
    CHECK(out.grad_fn()->inputs[0].is_same(q));
    CHECK(out.grad_fn()->inputs[1].is_same(k));
    CHECK(out.grad_fn()->inputs[2].is_same(v));
    const auto* node = dynamic_cast<const tt::AttentionBackward*>(out.grad_fn().get());
    REQUIRE(node);
    CHECK(node->scale == Approx(1.0f / std::sqrt(2.0f)));
    CHECK_THAT(node->weights, tensor_near(ref::attention(q, k, v, true).weights, 1e-6, 1e-4));
    // Without grad mode, or without inputs that require grad, no node.
    {
        tt::NoGradGuard no_grad;
        CHECK(sdpa(q, k, v).grad_fn() == nullptr);
    }
    CHECK(sdpa(random_values({1, 3, 2}, 1), random_values({1, 3, 2}, 2), random_values({1, 3, 2}, 3)).grad_fn() == nullptr);
}

TEST_CASE("attention computes its matrix products through kernels::gemm", "[points=2]") {
    // Scores (Tq x d x Tk) and weights @ v (Tq x Tk x dv) for each of the B * H pairs.
    const tt::Tensor q = random_values({2, 3, 4, 5}, 1), k = random_values({2, 3, 6, 5}, 2), v = random_values({2, 3, 6, 2}, 3);
    ref::CountGemm count;
    const tt::Tensor out = sdpa(q, k, v);
    CHECK(ref::gemm_multiply_adds >= 6 * (4 * 5 * 6 + 4 * 6 * 2));
    CHECK_THAT(out, tensor_near(ref::attention(q, k, v).out, 1e-5, 1e-4));
}

TEST_CASE("attention with no keys; or no batch; gives the right shapes", "[points=1]") {
    const tt::Tensor none = sdpa(random_values({1, 2, 2}, 1), zeros_of({1, 0, 2}), zeros_of({1, 0, 3}));
    CHECK_THAT(none, tensor_equal(zeros_of({1, 2, 3})));
    CHECK(sdpa(zeros_of({0, 2, 3, 2}), zeros_of({0, 2, 3, 2}), zeros_of({0, 2, 3, 2}), true).shape() == tt::Shape{0, 2, 3, 2});
}

TEST_CASE("attention errors name the op and the shapes", "[points=3]") {
    const tt::Tensor q = random_values({2, 3, 4}, 1), k = random_values({2, 5, 4}, 2), v = random_values({2, 5, 4}, 3);
    // q and k of different widths
    CHECK_THAT(error_message([&] { sdpa(q, random_values({2, 5, 3}, 4), random_values({2, 5, 4}, 3)); }),
               Contains("scaled_dot_product_attention") && Contains("(2, 3, 4)") && Contains("(2, 5, 3)"));
    // k and v with different key counts
    CHECK_THAT(error_message([&] { sdpa(q, k, random_values({2, 4, 4}, 5)); }),
               Contains("scaled_dot_product_attention") && Contains("(2, 4, 4)"));
    // batch sizes differ
    CHECK_THAT(error_message([&] { sdpa(q, random_values({3, 5, 4}, 6), random_values({3, 5, 4}, 6)); }),
               Contains("scaled_dot_product_attention") && Contains("(3, 5, 4)"));
    // head counts differ
    CHECK_THAT(error_message([&] {
                   sdpa(random_values({1, 2, 3, 4}, 7), random_values({1, 3, 3, 4}, 7), random_values({1, 3, 3, 4}, 7));
               }),
               Contains("scaled_dot_product_attention") && Contains("(1, 3, 3, 4)"));
    // 2-D, or mixed ranks
    CHECK_THAT(error_message([&] { sdpa(random_values({3, 4}, 7), random_values({3, 4}, 7), random_values({3, 4}, 7)); }),
               Contains("scaled_dot_product_attention") && Contains("(3, 4)"));
    CHECK_THAT(error_message([&] { sdpa(random_values({1, 2, 3, 4}, 7), k, v); }), Contains("scaled_dot_product_attention"));
    // a mask of the wrong shape
    CHECK_THAT(error_message([&] { sdpa(q, k, v, false, random_values({2, 3}, 8)); }),
               Contains("scaled_dot_product_attention") && Contains("(2, 3)"));
    CHECK_THAT(error_message([&] { sdpa(q, k, v, false, random_values({1, 5}, 8)); }),
               Contains("scaled_dot_product_attention") && Contains("(1, 5)"));
    // causal with more queries than keys
    CHECK_THAT(error_message([&] { sdpa(random_values({2, 5, 4}, 1), random_values({2, 3, 4}, 2), random_values({2, 3, 4}, 3), true); }),
               Contains("scaled_dot_product_attention") && Contains("causal"));
}

// PyTorch 1.13 (float64, rounded), with attention_reference::wave's numbers:
//     q = wave((2, 2, 2, 3), 0.7, 0.1, 1.5); k = wave((2, 2, 4, 3), 0.45, 0.3, 1.5); v = wave((2, 2, 4, 2), 0.9, 0.5)
//     mask = [[1, 1, 0, 1], [1, 1, 1, 1]]; causal with Tq = 2 < Tk = 4
//     s = q @ k.transpose(-1, -2) / sqrt(3); allow = (j <= i + 2) & mask[:, None, None, :]
//     p = softmax(s.masked_fill(~allow, -inf), -1); out = p @ v
TEST_CASE("attention matches PyTorch: 4-D; causal with Tq < Tk; padding", "[points=3]") {
    tt::Tensor weights;
    const tt::Tensor out = sdpa(ref::wave({2, 2, 2, 3}, 0.7, 0.1, 1.5), ref::wave({2, 2, 4, 3}, 0.45, 0.3, 1.5),
                                ref::wave({2, 2, 4, 2}, 0.9, 0.5), true, nested({{1, 1, 0, 1}, {1, 1, 1, 1}}), &weights);
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
}
