// attention.h - module 13: every token looks at the others and takes what it needs.
//
//     tt::MultiHeadAttention attention(128, 4);       // width 128, 4 heads of 32, causal
//     tt::Tensor y = attention(x);                     // x: (B, T, 128) -> y: (B, T, 128)
//
// Letters: B batch, H heads, T sequence length (Tq queries, Tk keys), d the width of one head
// (D = H * d the model width).
//
// Scaled dot-product attention (Vaswani et al. 2017). Each query q_i is compared with every key
// k_j by a dot product; softmax turns the scores into weights that sum to 1; the output is the
// weighted mean of the values:
//     scores  = q @ k^T / sqrt(d)                       (Tq, Tk)
//     weights = softmax(scores + mask)  along keys       (Tq, Tk), each row sums to 1
//     out     = weights @ v                             (Tq, d)
// Why / sqrt(d): a dot product of two d-long vectors of unit variance has variance d; dividing
// keeps the scores near unit size, so softmax does not saturate into one-hot weights whose
// gradient is almost zero.
//
// Masks. A causal mask (a language model must not see the future) lets query i attend only to keys
// j <= i: the masked scores become -infinity, so their weights are exactly 0. When Tq < Tk (the
// queries are the LAST Tq positions of a longer sequence, as with a KV cache in module 16), query i
// sits at position i + Tk - Tq and attends to keys j <= i + Tk - Tq. A key padding mask (B, Tk)
// holds 1 for a real key and 0 for padding, which no query may attend to. A query row whose every
// key is masked gets weights 0 and output 0 (PyTorch would give NaN).
//
// Cost. scores and weights are (B, H, T, T): memory and FLOPs grow with the square of the
// context. For T = 64 that is small; for T = 8192 it is what FlashAttention was invented to avoid.
//
// Backward, with P = weights, g = d(loss)/d(out) (per batch and head):
//     dv  = P^T @ g                                         (Tk, d)
//     dP  = g @ v^T                                         (Tq, Tk)
//     dS  = P * (dP - rowsum(dP * P))      (softmax's backward, row by row; 0 where masked)
//     dq  = dS @ k / sqrt(d)                                (Tq, d)
//     dk  = dS^T @ q / sqrt(d)                              (Tk, d)
// Every product goes through kernels::gemm (matmul), the engine's one dispatch point.
//
// Multi-head attention runs H attentions of width d = D / H side by side, each free to attend to
// something different (one to the previous token, one to the start of the line...), for the cost
// of one: q, k and v for all heads come from ONE Linear(D, 3D) (the fused QKV projection: one
// gemm reading x once instead of three), are split and reshaped to (B, H, T, d), attended, joined
// back to (B, T, D) and mixed by an output Linear(D, D).
//
// Who writes what: everything here is module 13 (engine/src/13_attention/), except [given].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt {

// Module 16 (caching) defines it: the keys and values of earlier positions, kept between calls so
// that generating token t + 1 does not recompute tokens 0..t.
struct KVCache;

struct AttentionOptions {
    bool causal = false;
    // (B, Tk): 1 where the key is real, 0 where it is padding; undefined: every key is real.
    Tensor key_padding_mask;
    // When non-null, receives the attention weights (B, H, Tq, Tk) (detached: for inspection and
    // plots, not part of the graph).
    Tensor* weights = nullptr;
};

// q (B, H, Tq, d), k (B, H, Tk, d), v (B, H, Tk, dv) -> (B, H, Tq, dv). Also (B, T, d) without a
// head dimension (then weights are (B, Tq, Tk) and the padding mask still (B, Tk)). Gradients
// reach q, k and v. tt::Error naming the op and the shapes for mismatched batch, head, width or
// key counts, a mask of the wrong shape, or a causal mask with Tq > Tk.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options = {});

// out = scaled_dot_product_attention(q, k, v)   dq, dk, dv as at the top (inputs: q, k, v)
struct AttentionBackward : Node {
    AttentionBackward(Tensor weights, float scale) : weights(std::move(weights)), scale(scale) {}
    const char* name() const override { return "AttentionBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::all;  // dq needs k, dk needs q, dP needs v
    void backward(const Tensor& grad_out) override;
    Tensor weights;  // P: (..., Tq, Tk), the softmax output (0 where masked)
    float scale;     // 1 / sqrt(d)
};

struct MultiHeadAttentionOptions {
    int64_t embed_dim = 0;  // D
    int64_t num_heads = 1;  // H; must divide D
    bool causal = true;     // a language model's self-attention
    bool bias = true;       // of both Linear layers
};

// Self-attention over (B, T, D). Children "qkv" = Linear(D, 3D) - output columns [0, D) are q,
// [D, 2D) k, [2D, 3D) v, and within each, head h owns columns [h*d, (h+1)*d) - and "proj" =
// Linear(D, D), both with Linear's default initialisation from `gen`. The same layout as GPT-2's
// c_attn / c_proj and nanoGPT, so weights load from them as they are.
class MultiHeadAttention : public Module {
public:
    explicit MultiHeadAttention(const MultiHeadAttentionOptions& options, Generator* gen = nullptr);
    MultiHeadAttention(int64_t embed_dim, int64_t num_heads, bool causal = true, Generator* gen = nullptr)
        : MultiHeadAttention(MultiHeadAttentionOptions{embed_dim, num_heads, causal, true}, gen) {}
    // x (B, T, D) -> (B, T, D). tt::Error naming the layer and the shape when x is not (B, T, D).
    Tensor forward(const Tensor& x) override;
    // The same with a key padding mask (B, T) (undefined: none) and an optional KV cache: with
    // cache == nullptr it is exactly forward(x). A cache is filled in by module 16; until then
    // passing one is a tt::Error that says so.
    Tensor forward(const Tensor& x, const Tensor& key_padding_mask, KVCache* cache = nullptr);
    std::string name() const override { return "MultiHeadAttention"; }
    std::string extra_repr() const override;  // "embed_dim=128, num_heads=4, causal=true"

    MultiHeadAttentionOptions options;
    std::shared_ptr<Linear> qkv;   // (B, T, D) -> (B, T, 3D)
    std::shared_ptr<Linear> proj;  // (B, T, D) -> (B, T, D)
    // When true, every forward stores its attention weights (B, H, T, T) in last_weights.
    bool keep_weights = false;
    Tensor last_weights;
};

}  // namespace tt
