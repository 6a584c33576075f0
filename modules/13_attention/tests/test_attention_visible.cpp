// test_attention_visible.cpp - visible tests of module 13 (attention).
//
// `tito test 13` runs these and the hidden tests; hidden tests look like these, with more cases:
// the 1 / sqrt(d) scale (with d different from Tq and Tk), rows of weights summing to 1 along the
// keys, the causal rule (also with fewer queries than keys: query i sits at position i + Tk - Tq),
// the key padding mask per batch element and for every head, fully masked rows (0, never NaN), huge
// scores (the softmax must subtract the row's max), 3-D and 4-D inputs, non-contiguous inputs,
// every gradient (dq, dk, dv, with masks, accumulation, only the inputs that require grad) against
// finite differences and PyTorch, the products going through kernels::gemm, and
// MultiHeadAttention: its children and initialisation order, the column layout of q, k, v and of
// the heads, the output projection, keep_weights, the padding mask, gradients of every parameter,
// PyTorch's nn.MultiheadAttention with the same weights, and the error messages.
//
// The helpers come from the grader's grading.h. They never call your code to get an expected value:
//     nested({{1, 2}, {3, 4}})       a (2, 2) tensor built directly from tt::Storage
//     tensor_equal(t) / tensor_near(t, atol, rtol)   compare shape and every value
//     leaf(t)                        t with requires_grad, for gradient tests
#include <catch2/catch.hpp>

#include <vector>

#include "grading.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

tt::Tensor attend(const tt::Tensor& q, const tt::Tensor& k, const tt::Tensor& v, bool causal, tt::Tensor* weights) {
    tt::AttentionOptions options;
    options.causal = causal;
    options.weights = weights;
    return tt::scaled_dot_product_attention(q, k, v, options);
}

}  // namespace

TEST_CASE("attention of one query and two keys by hand", "[visible][points=1]") {
    // scores = q . k_j / sqrt(d) = [1, 0] / sqrt(2) = [0.70711, 0]
    // weights = softmax = [e^0.70711, e^0] / (e^0.70711 + 1) = [0.669761, 0.330239]
    // out = 0.669761 * [1, 2] + 0.330239 * [3, 4]
    const tt::Tensor q = nested({{{1, 0}}});          // (B 1, Tq 1, d 2)
    const tt::Tensor k = nested({{{1, 0}, {0, 1}}});  // (B 1, Tk 2, d 2)
    const tt::Tensor v = nested({{{1, 2}, {3, 4}}});  // (B 1, Tk 2, dv 2)
    tt::Tensor weights;
    CHECK_THAT(attend(q, k, v, false, &weights), tensor_near(nested({{{1.660478f, 2.660478f}}}), 1e-5));
    CHECK_THAT(weights, tensor_near(nested({{{0.669761f, 0.330239f}}}), 1e-5));
}

TEST_CASE("causal attention: query i sees keys 0..i only", "[visible][points=1]") {
    // q = k = 0: all scores are 0, so every key a query may see gets the same weight 1 / (i + 1).
    const tt::Tensor zero = nested({{{0, 0}, {0, 0}, {0, 0}}});
    const tt::Tensor v = nested({{{1, 10}, {2, 20}, {3, 30}}});
    tt::Tensor weights;
    const tt::Tensor out = attend(zero, zero, v, true, &weights);
    CHECK_THAT(weights, tensor_near(nested({{{1, 0, 0}, {0.5f, 0.5f, 0}, {1 / 3.0f, 1 / 3.0f, 1 / 3.0f}}}), 1e-6));
    CHECK_THAT(out, tensor_near(nested({{{1, 10}, {1.5f, 15}, {2, 20}}}), 1e-5));
}

TEST_CASE("attention backward by hand", "[visible][points=1]") {
    // q = [0, 0]: P = [0.5, 0.5], out = [2, 3]. With g = [1, 0]:
    //   dv = P^T @ g = [[0.5, 0], [0.5, 0]]
    //   dP = g @ v^T = [1, 3], rowsum(dP * P) = 2, dS = P * (dP - 2) = [-0.5, 0.5]
    //   dq = dS @ k / sqrt(2) = [-0.35355, 0.35355]       dk = dS^T @ q / sqrt(2) = 0
    tt::Tensor q = leaf(nested({{{0, 0}}}));
    tt::Tensor k = leaf(nested({{{1, 0}, {0, 1}}}));
    tt::Tensor v = leaf(nested({{{1, 2}, {3, 4}}}));
    attend(q, k, v, false, nullptr).backward(nested({{{1, 0}}}));
    CHECK_THAT(v.grad(), tensor_near(nested({{{0.5f, 0}, {0.5f, 0}}}), 1e-6));
    CHECK_THAT(q.grad(), tensor_near(nested({{{-0.3535534f, 0.3535534f}}}), 1e-6));
    CHECK_THAT(k.grad(), tensor_near(nested({{{0, 0}, {0, 0}}}), 1e-6));
}

TEST_CASE("MultiHeadAttention shapes and parameters", "[visible][points=1]") {
    tt::MultiHeadAttention attention(8, 2);  // D = 8, H = 2 heads of d = 4, causal
    const auto params = attention.named_parameters();
    REQUIRE(params.size() == 4);
    CHECK(params[0].first == "qkv.weight");
    CHECK(params[0].second.shape() == tt::Shape{24, 8});  // Linear(D, 3D): q, k, v in one product
    CHECK(params[2].first == "proj.weight");
    CHECK(attention.extra_repr() == "embed_dim=8, num_heads=2, causal=true");
    const tt::Tensor y = attention(random_values({2, 5, 8}, 1));  // (B, T, D) -> (B, T, D)
    CHECK(y.shape() == tt::Shape{2, 5, 8});
}
