// attention.cpp - module 13: scaled dot-product attention as ONE fused op with its own backward
// node, and the multi-head self-attention layer built on it.
//
// Letters (as in attention.h): B batch, H heads, Tq queries, Tk keys, d the width of q and k,
// dv the width of v, G = B * H the independent (batch, head) pairs. For one pair:
//
//     S   = q @ k^T * scale           (Tq, d) @ (d, Tk) -> (Tq, Tk)    scale = 1 / sqrt(d)
//     P   = softmax(S + mask)         row by row, along the keys; masked entries exactly 0
//     out = P @ v                     (Tq, Tk) @ (Tk, dv) -> (Tq, dv)
//
// Why one fused op and not a chain of tensor ops (matmul, mul, add mask, softmax, matmul)? Each op
// of such a chain allocates a (G, Tq, Tk) tensor, writes it, and its backward node keeps it alive
// and reads it again: five passes over the biggest arrays of the layer forward, more backward, and
// five graph nodes. Here the scores are written once by gemm into the buffer that becomes P (scaled,
// masked and normalised in place, row by row, while the row is still in the L1 cache), and
// AttentionBackward keeps only P. The GPT of the milestone (B = 12, H = 4, T = 64, d = 32) runs this
// 4 times per training step: G * T * T = 196,608 floats (786 KB) of P per layer.
//
// FLOPs per pair: 2 * Tq * Tk * d for the scores and 2 * Tq * Tk * dv for P @ v, both quadratic in
// the context length - the reason long-context models need FlashAttention (see the lesson).
//
// Backward, with g = d(loss)/d(out) (Tq, dv), per pair (attention.h):
//     dv = P^T @ g                          (Tk, Tq) @ (Tq, dv) -> (Tk, dv)
//     dP = g @ v^T                          (Tq, dv) @ (dv, Tk) -> (Tq, Tk)
//     dS = P * (dP - rowsum(dP * P))        softmax's backward; 0 wherever P is 0 (masked)
//     dq = dS @ k * scale                   (Tq, Tk) @ (Tk, d)  -> (Tq, d)
//     dk = dS^T @ q * scale                 (Tk, Tq) @ (Tq, d)  -> (Tk, d)
// kernels::gemm multiplies plain row-major matrices only, so every transposed operand (k^T, v^T,
// P^T, dS^T) is first copied into a small buffer: a copy of T * d floats next to a product of
// T * T * d multiply-adds.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"
#include "tinytorch/kernels.h"
#include "tinytorch/layers.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] out (cols, rows) = a (rows, cols) transposed; both row-major. Done in 16 x 16 tiles so
// that both the reads and the writes stay within a few cache lines (see conv.cpp).
[[maybe_unused]] void transpose_into(const float* a, int64_t rows, int64_t cols, float* out) {
    constexpr int64_t tile = 16;
    for (int64_t r0 = 0; r0 < rows; r0 += tile)
        for (int64_t c0 = 0; c0 < cols; c0 += tile) {
            const int64_t r1 = std::min(r0 + tile, rows), c1 = std::min(c0 + tile, cols);
            for (int64_t c = c0; c < c1; ++c)
                for (int64_t r = r0; r < r1; ++r) out[c * rows + r] = a[r * cols + c];
        }
}

// [given] "(2, 4, 8, 16)", or "undefined" for a tensor that is not there (error messages).
[[maybe_unused]] std::string describe(const Tensor& t) { return t.defined() ? shape_str(t.shape()) : "undefined"; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// scaled_dot_product_attention: forward and backward
// ---------------------------------------------------------------------------------------------

// q (B, H, Tq, d), k (B, H, Tk, d), v (B, H, Tk, dv) -> (B, H, Tq, dv); or the same without H.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& options) {
    Tensor out;      // (..., Tq, dv)
    Tensor weights;  // P: (..., Tq, Tk), saved for the backward
    float scale = 1.0f;
    //! BEGIN SOLUTION
    //! HINT: check first (attention.h lists the errors): q, k, v all 3-D or all 4-D; the same batch (and heads); q and k the same width d; k and v the same number of keys Tk; the mask (B, Tk); no causal mask with Tq > Tk. Each message names scaled_dot_product_attention and the shapes.
    //! HINT: qc = q.detach().contiguous() (and k, v): pair g = (batch, head) then starts at qc.data() + g * Tq * d. Treat 3-D inputs as H = 1.
    //! HINT: per pair: copy k into a (d, Tk) buffer as k^T (transpose_into), then kernels::gemm(Tq, Tk, d, q_g, kT, P_g) writes the raw scores straight into the weights tensor.
    //! HINT: per row i of P_g: the keys it may see are j < Tk - Tq + i + 1 when causal (all Tk otherwise) and whose mask value is not 0. Find the max of scale * s over those, write exp(scale * s - max) there and 0 elsewhere, then divide by the sum. No visible key at all: the row stays all 0.
    //! HINT: subtracting the row's max keeps every exponent <= 0: exp never overflows, however large the scores (1000 * 1000 would be inf, and inf / inf is NaN).
    //! HINT: then kernels::gemm(Tq, dv, Tk, P_g, v_g, out_g). Hand P to options.weights when it is non-null.
    const char* op = "scaled_dot_product_attention";
    TT_CHECK(q.defined() && k.defined() && v.defined(), op, ": q ", describe(q), ", k ", describe(k), ", v ", describe(v),
             ": all three must be defined tensors");
    const int64_t rank = q.dim();
    TT_CHECK((rank == 3 || rank == 4) && k.dim() == rank && v.dim() == rank, op, ": q ", shape_str(q.shape()), ", k ",
             shape_str(k.shape()), ", v ", shape_str(v.shape()),
             ": expected all three (B, H, T, d) or all three (B, T, d) (a single sequence goes in as x.unsqueeze(0))");
    const int64_t B = q.size(0), H = rank == 4 ? q.size(1) : 1;
    const int64_t Tq = q.size(-2), d = q.size(-1), Tk = k.size(-2), dv = v.size(-1);
    const bool same_groups = k.size(0) == B && v.size(0) == B && (rank == 3 || (k.size(1) == H && v.size(1) == H));
    TT_CHECK(same_groups, op, ": q ", shape_str(q.shape()), ", k ", shape_str(k.shape()), ", v ", shape_str(v.shape()),
             ": the batch", rank == 4 ? " and head" : "", " sizes must be the same in all three");
    TT_CHECK(k.size(-1) == d, op, ": q ", shape_str(q.shape()), " and k ", shape_str(k.shape()),
             " must have the same width (last dimension): every query is compared with every key by a dot product");
    TT_CHECK(v.size(-2) == Tk, op, ": k ", shape_str(k.shape()), " and v ", shape_str(v.shape()),
             " must have the same number of keys (dimension -2): one value per key");
    const Tensor& mask = options.key_padding_mask;
    TT_CHECK(!mask.defined() || (mask.dim() == 2 && mask.size(0) == B && mask.size(1) == Tk), op,
             ": key_padding_mask of shape ", describe(mask), " for k ", shape_str(k.shape()), ": it must be (B, Tk) = (", B,
             ", ", Tk, "), 1 for a real key and 0 for padding");
    TT_CHECK(!options.causal || Tq <= Tk, op, ": a causal mask with ", Tq, " queries and only ", Tk, " keys (q ",
             shape_str(q.shape()), ", k ", shape_str(k.shape()),
             "): the queries are the last Tq positions of the keys' sequence, so Tq must not exceed Tk");

    const int64_t G = B * H;  // independent (batch, head) pairs
    scale = 1.0f / std::sqrt(static_cast<float>(d));
    const Tensor qc = q.detach().contiguous();  // (G, Tq, d)
    const Tensor kc = k.detach().contiguous();  // (G, Tk, d)
    const Tensor vc = v.detach().contiguous();  // (G, Tk, dv)
    const Tensor mc = mask.defined() ? mask.detach().contiguous() : Tensor();  // (B, Tk)
    Shape weights_shape = q.shape();
    weights_shape.back() = Tk;  // (..., Tq, Tk)
    Shape out_shape = q.shape();
    out_shape.back() = dv;      // (..., Tq, dv)
    weights = empty(weights_shape);
    out = empty(out_shape);

    std::vector<float> k_t(static_cast<size_t>(d * Tk));  // k^T of one pair: (d, Tk)
    const int64_t offset = Tk - Tq;  // query i sits at position i + offset of the keys' sequence
    for (int64_t g = 0; g < G; ++g) {
        float* P = weights.data() + g * Tq * Tk;  // (Tq, Tk)
        transpose_into(kc.data() + g * Tk * d, Tk, d, k_t.data());
        kernels::gemm(Tq, Tk, d, qc.data() + g * Tq * d, k_t.data(), P);  // raw scores q @ k^T
        const float* keep = mc.defined() ? mc.data() + (g / H) * Tk : nullptr;  // (Tk,) this batch's mask
        for (int64_t i = 0; i < Tq; ++i) {
            float* row = P + i * Tk;
            // Keys [0, visible) pass the causal rule; the padding mask may remove some of those too.
            const int64_t visible = options.causal ? std::clamp<int64_t>(i + offset + 1, 0, Tk) : Tk;
            float row_max = -std::numeric_limits<float>::infinity();
            for (int64_t j = 0; j < visible; ++j) {
                row[j] *= scale;
                if (!keep || keep[j] != 0.0f) row_max = std::max(row_max, row[j]);
            }
            if (row_max == -std::numeric_limits<float>::infinity()) {  // every key masked: weights 0
                std::fill(row, row + Tk, 0.0f);
                continue;
            }
            float total = 0.0f;
            for (int64_t j = 0; j < visible; ++j) {  // exp(s - max) <= 1: never overflows
                const float e = (!keep || keep[j] != 0.0f) ? std::exp(row[j] - row_max) : 0.0f;
                row[j] = e;
                total += e;
            }
            std::fill(row + visible, row + Tk, 0.0f);  // the future: exactly 0
            const float inverse = 1.0f / total;        // total >= 1: the max itself contributes exp(0)
            for (int64_t j = 0; j < visible; ++j) row[j] *= inverse;
        }
        kernels::gemm(Tq, dv, Tk, P, vc.data() + g * Tk * dv, out.data() + g * Tq * dv);  // P @ v
    }
    if (options.weights) *options.weights = weights;
    //! END SOLUTION
    return record<AttentionBackward>(out, {q, k, v}, weights, scale);
}

// g: (..., Tq, dv) -> dq (..., Tq, d), dk (..., Tk, d), dv (..., Tk, dv), each only when that
// input requires grad. inputs: q, k, v; weights = P (..., Tq, Tk).
void AttentionBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: G = B * H pairs (B for 3-D inputs); make q, k, v and grad_out contiguous, and allocate dq, dk, dv (zeros) only for the inputs that require grad.
    //! HINT: per pair: dv_g = P^T @ g (transpose P into a (Tk, Tq) buffer, then gemm).
    //! HINT: dP = g @ v^T (transpose v); then, row by row, dS = P * (dP - sum_j dP[j] * P[j]). Fold the scale into dS once here: both dq and dk need it.
    //! HINT: dq_g = dS @ k (gemm, no transpose needed); dk_g = dS^T @ q (transpose dS). gemm overwrites its output, and each pair has its own slice, so write straight into dq, dk, dv.
    //! HINT: finish with accumulate_grad(inputs[i], d_i) for each input that requires grad.
    const Tensor& q = inputs[0];
    const Tensor& k = inputs[1];
    const Tensor& v = inputs[2];
    const int64_t Tq = q.size(-2), d = q.size(-1), Tk = k.size(-2), dv = v.size(-1);
    const int64_t G = q.dim() == 4 ? q.size(0) * q.size(1) : q.size(0);  // (batch, head) pairs
    const bool need_q = q.requires_grad(), need_k = k.requires_grad(), need_v = v.requires_grad();
    const Tensor g = grad_out.contiguous();  // (G, Tq, dv)
    const Tensor P = weights.contiguous();   // (G, Tq, Tk)
    const Tensor qc = q.detach().contiguous(), kc = k.detach().contiguous(), vc = v.detach().contiguous();
    Tensor dq = need_q ? empty(q.shape()) : Tensor();
    Tensor dk = need_k ? empty(k.shape()) : Tensor();
    Tensor dvalues = need_v ? empty(v.shape()) : Tensor();

    std::vector<float> transposed(static_cast<size_t>(std::max(Tq * Tk, Tk * dv)));  // P^T, v^T or dS^T
    std::vector<float> dS(static_cast<size_t>(need_q || need_k ? Tq * Tk : 0));       // (Tq, Tk)
    for (int64_t p = 0; p < G; ++p) {
        const float* P_p = P.data() + p * Tq * Tk;  // (Tq, Tk)
        const float* g_p = g.data() + p * Tq * dv;  // (Tq, dv)
        if (need_v) {
            transpose_into(P_p, Tq, Tk, transposed.data());                                           // P^T (Tk, Tq)
            kernels::gemm(Tk, dv, Tq, transposed.data(), g_p, dvalues.data() + p * Tk * dv);         // dv = P^T @ g
        }
        if (!need_q && !need_k) continue;
        transpose_into(vc.data() + p * Tk * dv, Tk, dv, transposed.data());  // v^T (dv, Tk)
        kernels::gemm(Tq, Tk, dv, g_p, transposed.data(), dS.data());       // dP = g @ v^T
        for (int64_t i = 0; i < Tq; ++i) {                                   // dS = P * (dP - rowsum(dP * P))
            float* row = dS.data() + i * Tk;
            const float* p_row = P_p + i * Tk;
            float dot = 0.0f;
            for (int64_t j = 0; j < Tk; ++j) dot += row[j] * p_row[j];
            for (int64_t j = 0; j < Tk; ++j) row[j] = p_row[j] * (row[j] - dot) * scale;  // scale folded in
        }
        if (need_q) kernels::gemm(Tq, d, Tk, dS.data(), kc.data() + p * Tk * d, dq.data() + p * Tq * d);  // dS @ k
        if (need_k) {
            transpose_into(dS.data(), Tq, Tk, transposed.data());                                         // dS^T (Tk, Tq)
            kernels::gemm(Tk, d, Tq, transposed.data(), qc.data() + p * Tq * d, dk.data() + p * Tk * d);  // dS^T @ q
        }
    }
    if (need_q) accumulate_grad(q, dq);
    if (need_k) accumulate_grad(k, dk);
    if (need_v) accumulate_grad(v, dvalues);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// MultiHeadAttention: one fused QKV projection, H attentions side by side, one output projection
// ---------------------------------------------------------------------------------------------

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& options, Generator* gen) : options(options) {
    //! BEGIN SOLUTION
    //! HINT: check embed_dim > 0, num_heads > 0 and that num_heads divides embed_dim; the message names the layer and both numbers.
    //! HINT: register the children in this order, with these names: "qkv" = Linear(D, 3D), then "proj" = Linear(D, D), both with options.bias and `gen` - the order fixes the random numbers each one draws and the names are the checkpoint's keys ("qkv.weight", ...).
    TT_CHECK(options.embed_dim > 0 && options.num_heads > 0 && options.embed_dim % options.num_heads == 0,
             "MultiHeadAttention: embed_dim ", options.embed_dim, " must be a positive multiple of num_heads ",
             options.num_heads, " (each head gets embed_dim / num_heads columns)");
    const int64_t D = options.embed_dim;
    qkv = register_module("qkv", std::make_shared<Linear>(LinearOptions{D, 3 * D, options.bias, Init::kaiming_uniform}, gen));
    proj = register_module("proj", std::make_shared<Linear>(LinearOptions{D, D, options.bias, Init::kaiming_uniform}, gen));
    //! END SOLUTION
}

Tensor MultiHeadAttention::forward(const Tensor& x) { return forward(x, Tensor(), nullptr); }

// x (B, T, D) -> qkv (B, T, 3D) -> q, k, v (B, H, T, d) -> attention (B, H, T, d) -> (B, T, D) -> proj
Tensor MultiHeadAttention::forward(const Tensor& x, const Tensor& key_padding_mask, KVCache* cache) {
    //! BEGIN SOLUTION
    //! HINT: a non-null cache is module 16's: throw a tt::Error that says so. Check x is (B, T, D), naming the layer (name() + "(" + extra_repr() + ")") and the shape.
    //! HINT: one Linear gives (B, T, 3D); view it as (B, T, 3, H, d): column c * D + h * d + i is part c (q, k, v) of head h, element i. permute({2, 0, 3, 1, 4}) gives (3, B, H, T, d) and select(0, c) picks q, k or v - views, no copy.
    //! HINT: a plain reshape of (B, T, D) to (B, H, T, d) would be wrong: it cuts the row-major sequence of T * D numbers into H blocks of T * d, mixing positions and heads. The head must become a dimension next to T by a transpose.
    //! HINT: join the heads back with transpose(1, 2) -> (B, T, H, d) and reshape to (B, T, D) (head h in columns [h*d, (h+1)*d)), then apply proj.
    //! HINT: keep_weights: pass &last_weights as AttentionOptions::weights.
    TT_CHECK(cache == nullptr, name(), "(", extra_repr(),
             "): a KV cache is not supported yet: module 16 (caching) implements it; pass nullptr until then");
    const int64_t D = options.embed_dim, H = options.num_heads, d = D / H;
    TT_CHECK(x.dim() == 3 && x.size(2) == D, name(), "(", extra_repr(), "): input of shape ", shape_str(x.shape()),
             " must be (B, T, ", D, ") (a single sequence (T, ", D, ") goes in as x.unsqueeze(0))");
    const int64_t B = x.size(0), T = x.size(1);
    const Tensor heads = (*qkv)(x).view({B, T, 3, H, d}).permute({2, 0, 3, 1, 4});  // (3, B, H, T, d)
    AttentionOptions attention;
    attention.causal = options.causal;
    attention.key_padding_mask = key_padding_mask;
    attention.weights = keep_weights ? &last_weights : nullptr;
    const Tensor y = scaled_dot_product_attention(heads.select(0, 0), heads.select(0, 1), heads.select(0, 2), attention);
    return (*proj)(y.transpose(1, 2).reshape({B, T, D}));  // (B, H, T, d) -> (B, T, H, d) -> (B, T, D)
    //! END SOLUTION
}

std::string MultiHeadAttention::extra_repr() const {
    //! BEGIN SOLUTION
    return "embed_dim=" + std::to_string(options.embed_dim) + ", num_heads=" + std::to_string(options.num_heads) +
           ", causal=" + (options.causal ? "true" : "false");
    //! END SOLUTION
}

}  // namespace tt
