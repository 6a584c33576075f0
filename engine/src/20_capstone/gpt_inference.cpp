// gpt_inference.cpp - module 20: a GPT inference engine for the gpt competition.
//
// Module 14's generate() is written for clarity: every new token runs the whole GPT module on the
// whole sequence, through tensors that would record a graph, and keeps only the last position's
// logits. For t tokens already written that is t positions of work to get 1 new one. Inference
// needs none of that machinery, so this engine keeps the same arithmetic and drops the rest:
//
//   1. No graph, no tensors. Inference never calls backward, so there is nothing to save for it:
//      the weights are copied once into plain float arrays and every step writes into buffers
//      allocated once (no allocation per token).
//   2. A KV cache. In a causal GPT, position p's keys and values depend only on tokens 0..p, so
//      they never change once computed. Keep them (per layer: (C, D) keys and (C, D) values, C the
//      context length) and each new token costs ONE position of work plus its attention over the
//      cached positions - about 12 L D^2 + V D multiply-adds instead of t times that.
//   3. Weights transposed once. Linear computes x @ W^T with W (out, in); storing W^T (in, out)
//      row-major makes each product one kernels::gemm call, A (M, K) @ B (K, N), and gpt_load's
//      use_fastest_gemm() puts OpenBLAS behind it - except for one-row products (every token
//      after the prompt), where module 02's vectorised kernel beats OpenBLAS's overhead.
//   4. lm_head only where logits are wanted: generating needs the last position's (V D per
//      position saved on a prompt).
//
// The numbers are the GPT's own (the same operations in the same order, up to float round-off):
// the competition checks that the perplexity from logits() matches the reference's and that the
// greedy text is identical, token for token. Dropout does nothing at inference (eval mode), so a
// checkpoint's dropout setting is ignored here.
//
// Letters: L layers, H heads, D width, d = D / H per head, V vocabulary, C context length,
// n new positions in this call, p an absolute position (0-based) in the sequence.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/capstone.h"
#include "tinytorch/errors.h"
#include "tinytorch/kernels.h"
#include "tinytorch/transformer.h"

namespace tt::capstone {

namespace {

// [given] A parameter's values in row-major order (an undefined tensor - a missing bias - gives
// `count` zeros, so the code below can always add a bias).
[[maybe_unused]] std::vector<float> values_of(const Tensor& t, int64_t count) {
    if (!t.defined()) return std::vector<float>(static_cast<size_t>(count), 0.0f);
    std::vector<float> values = t.contiguous().to_vector();
    TT_ASSERT(static_cast<int64_t>(values.size()) == count, "gpt_inference: a parameter has an unexpected size");
    return values;
}

// [given] A Linear's weight W (out, in) as W^T (in, out), row-major: the B operand of gemm for x @ W^T.
[[maybe_unused]] std::vector<float> transposed_weight(const Linear& layer) {
    const int64_t out = layer.weight.size(0), in = layer.weight.size(1);
    const std::vector<float> w = layer.weight.contiguous().to_vector();
    std::vector<float> t(w.size());
    for (int64_t o = 0; o < out; ++o)
        for (int64_t i = 0; i < in; ++i) t[i * out + o] = w[o * in + i];
    return t;
}

// [given] One transformer block's weights, ready for gemm.
struct BlockWeights {
    std::vector<float> ln_1_weight, ln_1_bias;          // (D,)
    std::vector<float> qkv_weight_t, qkv_bias;          // (D, 3D), (3D,)
    std::vector<float> proj_weight_t, proj_bias;        // (D, D), (D,)
    std::vector<float> ln_2_weight, ln_2_bias;          // (D,)
    std::vector<float> fc_weight_t, fc_bias;            // (D, 4D), (4D,)
    std::vector<float> mlp_proj_weight_t, mlp_proj_bias;  // (4D, D), (D,)
    float ln_1_eps = 1e-5f, ln_2_eps = 1e-5f;
};

// (20) x (rows, D) -> out (rows, D): each row (x - mean) / sqrt(var + eps) * weight + bias, with the
// biased variance, as LayerNorm (module 14).
[[maybe_unused]] void layer_norm_rows(const float* x, int64_t rows, int64_t D, const std::vector<float>& weight,
                                      const std::vector<float>& bias, float eps, float* out) {
    //! BEGIN SOLUTION
    //! HINT: per row: mean and variance in double (sum of (x - mean)^2 / D: the biased variance), then inverse_std = 1 / sqrt(variance + eps).
    //! HINT: out[i] = (x[i] - mean) * inverse_std * weight[i] + bias[i]. eps goes INSIDE the square root.
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = x + r * D;
        double total = 0.0;
        for (int64_t i = 0; i < D; ++i) total += row[i];
        const double mean = total / static_cast<double>(D);
        double squares = 0.0;
        for (int64_t i = 0; i < D; ++i) squares += (row[i] - mean) * (row[i] - mean);
        const double variance = squares / static_cast<double>(D);
        const auto inverse_std = static_cast<float>(1.0 / std::sqrt(variance + eps));
        const auto mean_f = static_cast<float>(mean);
        for (int64_t i = 0; i < D; ++i) out[r * D + i] = (row[i] - mean_f) * inverse_std * weight[i] + bias[i];
    }
    //! END SOLUTION
}

// (20) x (rows, in) -> out (rows, out_features) = x @ W^T + bias, with weight_t = W^T (in, out_features).
[[maybe_unused]] void linear_rows(const float* x, int64_t rows, int64_t in, const std::vector<float>& weight_t,
                                  const std::vector<float>& bias, int64_t out_features, float* out) {
    //! BEGIN SOLUTION
    //! HINT: one kernels::gemm(M = rows, N = out_features, K = in, x, weight_t.data(), out) - it overwrites out - then add bias[j] to every row (skip it when bias is empty: lm_head has none).
    //! HINT: measure one row (every token after the prompt): there OpenBLAS's call overhead outweighs its speed, and module 02's kernels::gemm_naive (vectorised for this CPU) is faster.
    // One row is a matrix-vector product: too little work for OpenBLAS to win back its call and
    // thread overhead. Module 02's kernel does it about 3x faster here (bench_capstone_gpt).
    if (rows == 1) kernels::gemm_naive(rows, out_features, in, x, weight_t.data(), out);
    else kernels::gemm(rows, out_features, in, x, weight_t.data(), out);
    if (bias.empty()) return;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out_features; ++j) out[r * out_features + j] += bias[j];
    //! END SOLUTION
}

// (20) The exact GELU in place: v * Phi(v) = 0.5 v (1 + erf(v / sqrt(2))), as module 14's MLP.
[[maybe_unused]] void gelu_in_place(float* x, int64_t count) {
    //! BEGIN SOLUTION
    //! HINT: the exact form with std::erf, not GPT-2's tanh approximation: the logits must match the GPT's.
    const float inverse_sqrt_2 = static_cast<float>(1.0 / std::sqrt(2.0));
    for (int64_t i = 0; i < count; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * inverse_sqrt_2));
    //! END SOLUTION
}

// (20) The first index of the largest value of row (V,): greedy decoding's choice (ties: the
// smallest id, as module 14's sample_token with temperature 0).
[[maybe_unused]] int64_t first_argmax(const float* row, int64_t V) {
    int64_t best = 0;
    //! BEGIN SOLUTION
    //! HINT: replace the best only when a value is STRICTLY larger: an equal value later in the row must not win.
    for (int64_t v = 1; v < V; ++v)
        if (row[v] > row[best]) best = v;
    //! END SOLUTION
    return best;
}

// A GPT for inference: its weights as plain arrays, a KV cache, and buffers reused by every call.
class CachedGpt final : public GptInference {
public:
    explicit CachedGpt(const GPT& model);
    int64_t vocab_size() const override { return config_.vocab_size; }
    int64_t context_length() const override { return config_.context_length; }
    std::vector<int64_t> generate_greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) override;
    std::vector<float> logits(const std::vector<int64_t>& ids) override;

private:
    // Runs ids[0..n) as positions cached_ .. cached_ + n - 1 (after those already in the cache),
    // adds their keys and values to the cache, and returns the logits of the positions from
    // first_logit_row on: (n - first_logit_row, V), row after row.
    std::vector<float> forward_new_positions(const int64_t* ids, int64_t n, int64_t first_logit_row);
    // tt::Error naming `caller` for ids outside [0, V).
    void check_ids(const std::vector<int64_t>& ids, const char* caller) const;

    GPTConfig config_;
    std::vector<float> token_embedding_;     // (V, D)
    std::vector<float> position_embedding_;  // (C, D)
    std::vector<BlockWeights> blocks_;       // L of them
    std::vector<float> ln_f_weight_, ln_f_bias_;  // (D,)
    float ln_f_eps_ = 1e-5f;
    std::vector<float> lm_head_weight_t_;    // (D, V): the token embedding transposed when tied
    // The KV cache: for each layer, the keys and values (C, D) of positions 0 .. cached_ - 1, heads
    // side by side (head h owns columns [h d, (h + 1) d)), as qkv produced them.
    std::vector<std::vector<float>> keys_, values_;
    int64_t cached_ = 0;
    // Work buffers, C rows each, allocated once: the residual stream x, a normalised copy h,
    // qkv (3D wide), the attention output, the MLP's hidden layer (4D wide), a sub-layer's output,
    // and one row of attention scores (C).
    std::vector<float> x_, h_, qkv_, attended_, hidden_, out_, scores_;
};

CachedGpt::CachedGpt(const GPT& model) : config_(model.config) {
    const int64_t V = config_.vocab_size, C = config_.context_length, D = config_.embed_dim, L = config_.num_layers;
    //! BEGIN SOLUTION
    //! HINT: copy every weight with values_of (embeddings, LayerNorm weight/bias, biases) and transposed_weight (each Linear: qkv, proj, fc, mlp proj, lm_head) - model.block(l).attention->qkv, ->proj, .mlp->fc, ->proj, .ln_1, .ln_2; take each LayerNorm's eps too.
    //! HINT: lm_head: use model.lm_head (tied or not, its weight is the (V, D) head), transposed to (D, V); it has no bias.
    //! HINT: then size the cache (L layers of C * D keys and values) and the work buffers (C rows of D, 3D, 4D or V floats) once, here: nothing is allocated per token afterwards.
    token_embedding_ = values_of(model.token_embedding->weight, V * D);
    position_embedding_ = values_of(model.position_embedding->weight, C * D);
    for (int64_t l = 0; l < L; ++l) {
        const TransformerBlock& block = model.block(l);
        BlockWeights w;
        w.ln_1_weight = values_of(block.ln_1->weight, D);
        w.ln_1_bias = values_of(block.ln_1->bias, D);
        w.ln_1_eps = block.ln_1->eps;
        w.qkv_weight_t = transposed_weight(*block.attention->qkv);
        w.qkv_bias = values_of(block.attention->qkv->bias, 3 * D);
        w.proj_weight_t = transposed_weight(*block.attention->proj);
        w.proj_bias = values_of(block.attention->proj->bias, D);
        w.ln_2_weight = values_of(block.ln_2->weight, D);
        w.ln_2_bias = values_of(block.ln_2->bias, D);
        w.ln_2_eps = block.ln_2->eps;
        w.fc_weight_t = transposed_weight(*block.mlp->fc);
        w.fc_bias = values_of(block.mlp->fc->bias, 4 * D);
        w.mlp_proj_weight_t = transposed_weight(*block.mlp->proj);
        w.mlp_proj_bias = values_of(block.mlp->proj->bias, D);
        blocks_.push_back(std::move(w));
    }
    ln_f_weight_ = values_of(model.ln_f->weight, D);
    ln_f_bias_ = values_of(model.ln_f->bias, D);
    ln_f_eps_ = model.ln_f->eps;
    lm_head_weight_t_ = transposed_weight(*model.lm_head);

    keys_.assign(static_cast<size_t>(L), std::vector<float>(static_cast<size_t>(C * D)));
    values_.assign(static_cast<size_t>(L), std::vector<float>(static_cast<size_t>(C * D)));
    x_.resize(static_cast<size_t>(C * D));
    h_.resize(static_cast<size_t>(C * D));
    qkv_.resize(static_cast<size_t>(C * 3 * D));
    attended_.resize(static_cast<size_t>(C * D));
    hidden_.resize(static_cast<size_t>(C * 4 * D));
    out_.resize(static_cast<size_t>(C * std::max(D, V)));
    scores_.resize(static_cast<size_t>(C));
    //! END SOLUTION
}

std::vector<float> CachedGpt::forward_new_positions(const int64_t* ids, int64_t n, int64_t first_logit_row) {
    const int64_t V = config_.vocab_size, D = config_.embed_dim, H = config_.num_heads, d = D / H;
    TT_ASSERT(n >= 1 && cached_ + n <= config_.context_length && first_logit_row >= 0 && first_logit_row < n,
              "forward_new_positions: positions outside the context");
    std::vector<float> logits;
    //! BEGIN SOLUTION
    //! HINT: x (n, D): row i = token_embedding[ids[i]] + position_embedding[cached_ + i] - the ABSOLUTE position, after the cached ones.
    //! HINT: each block, pre-LN as module 14: h = ln_1(x); qkv = h W_qkv^T + b (n, 3D); copy the k and v parts of row i into the cache at row cached_ + i; attention; x += proj(attended); h = ln_2(x); x += mlp_proj(gelu(fc(h))).
    //! HINT: attention of new row i (position p = cached_ + i), head h: scores_j = q . k_j / sqrt(d) for j = 0..p (causal: up to and INCLUDING p), softmax (subtract the max), attended = sum_j softmax_j v_j.
    //! HINT: only after the last block: cached_ += n. Then ln_f and lm_head (no bias) on rows first_logit_row..n-1 only.
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    for (int64_t i = 0; i < n; ++i) {
        const float* token = token_embedding_.data() + ids[i] * D;
        const float* position = position_embedding_.data() + (cached_ + i) * D;
        for (int64_t c = 0; c < D; ++c) x_[i * D + c] = token[c] + position[c];
    }
    for (size_t l = 0; l < blocks_.size(); ++l) {
        const BlockWeights& w = blocks_[l];
        float* keys = keys_[l].data();      // (C, D)
        float* values = values_[l].data();  // (C, D)

        // Attention: the new positions read every cached position and themselves.
        layer_norm_rows(x_.data(), n, D, w.ln_1_weight, w.ln_1_bias, w.ln_1_eps, h_.data());
        linear_rows(h_.data(), n, D, w.qkv_weight_t, w.qkv_bias, 3 * D, qkv_.data());  // (n, 3D)
        for (int64_t i = 0; i < n; ++i)
            for (int64_t c = 0; c < D; ++c) {
                keys[(cached_ + i) * D + c] = qkv_[i * 3 * D + D + c];
                values[(cached_ + i) * D + c] = qkv_[i * 3 * D + 2 * D + c];
            }
        for (int64_t i = 0; i < n; ++i) {
            const int64_t p = cached_ + i;  // this row's position: it sees positions 0..p
            for (int64_t head = 0; head < H; ++head) {
                const float* q = qkv_.data() + i * 3 * D + head * d;
                float largest = -std::numeric_limits<float>::infinity();
                for (int64_t j = 0; j <= p; ++j) {
                    const float* k = keys + j * D + head * d;
                    float dot = 0.0f;
                    for (int64_t c = 0; c < d; ++c) dot += q[c] * k[c];
                    scores_[j] = dot * scale;
                    largest = std::max(largest, scores_[j]);
                }
                float total = 0.0f;
                for (int64_t j = 0; j <= p; ++j) {
                    scores_[j] = std::exp(scores_[j] - largest);  // <= 1: no overflow
                    total += scores_[j];
                }
                float* a = attended_.data() + i * D + head * d;
                for (int64_t c = 0; c < d; ++c) a[c] = 0.0f;
                for (int64_t j = 0; j <= p; ++j) {
                    const float weight = scores_[j] / total;
                    const float* v = values + j * D + head * d;
                    for (int64_t c = 0; c < d; ++c) a[c] += weight * v[c];
                }
            }
        }
        linear_rows(attended_.data(), n, D, w.proj_weight_t, w.proj_bias, D, out_.data());
        for (int64_t k = 0; k < n * D; ++k) x_[k] += out_[k];

        // The MLP: each position on its own.
        layer_norm_rows(x_.data(), n, D, w.ln_2_weight, w.ln_2_bias, w.ln_2_eps, h_.data());
        linear_rows(h_.data(), n, D, w.fc_weight_t, w.fc_bias, 4 * D, hidden_.data());  // (n, 4D)
        gelu_in_place(hidden_.data(), n * 4 * D);
        linear_rows(hidden_.data(), n, 4 * D, w.mlp_proj_weight_t, w.mlp_proj_bias, D, out_.data());
        for (int64_t k = 0; k < n * D; ++k) x_[k] += out_[k];
    }
    cached_ += n;

    const int64_t rows = n - first_logit_row;
    layer_norm_rows(x_.data() + first_logit_row * D, rows, D, ln_f_weight_, ln_f_bias_, ln_f_eps_, h_.data());
    logits.resize(static_cast<size_t>(rows * V));
    linear_rows(h_.data(), rows, D, lm_head_weight_t_, {}, V, logits.data());  // (rows, V)
    //! END SOLUTION
    return logits;
}

void CachedGpt::check_ids(const std::vector<int64_t>& ids, const char* caller) const {
    for (size_t i = 0; i < ids.size(); ++i)
        TT_CHECK(ids[i] >= 0 && ids[i] < config_.vocab_size, caller, ": token id ", ids[i], " at position ", i,
                 " is outside the vocabulary [0, ", config_.vocab_size, "); encode the text with the checkpoint's tokenizer");
}

// prompt (n ids) -> new_tokens ids, each the first argmax of the last position's logits.
std::vector<int64_t> CachedGpt::generate_greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) {
    std::vector<int64_t> generated;
    //! BEGIN SOLUTION
    //! HINT: check first (errors name generate_greedy): a prompt that is not empty, ids in the vocabulary (check_ids), new_tokens >= 0, and prompt.size() + new_tokens <= context_length (positions never slide here).
    //! HINT: a new sequence: empty the cache (cached_ = 0) - keys from the previous call belong to another text.
    //! HINT: run the whole prompt once, keeping only the last row's logits; then each step picks first_argmax and runs just that one new token. The last token picked needs no forward pass.
    TT_CHECK(!prompt.empty(), "generate_greedy: the prompt is empty; give at least one token id to start from");
    check_ids(prompt, "generate_greedy");
    const auto length = static_cast<int64_t>(prompt.size());
    TT_CHECK(new_tokens >= 0, "generate_greedy: new_tokens ", new_tokens, " must be >= 0");
    TT_CHECK(length + new_tokens <= config_.context_length, "generate_greedy: a prompt of ", length, " tokens plus ",
             new_tokens, " new tokens is longer than the context of ", config_.context_length,
             " positions; shorten the prompt or ask for fewer tokens");
    if (new_tokens == 0) return generated;
    cached_ = 0;
    std::vector<float> last = forward_new_positions(prompt.data(), length, length - 1);  // (1, V)
    for (;;) {
        const int64_t next = first_argmax(last.data(), config_.vocab_size);
        generated.push_back(next);
        if (static_cast<int64_t>(generated.size()) == new_tokens) break;
        last = forward_new_positions(&next, 1, 0);
    }
    //! END SOLUTION
    return generated;
}

// ids (T) -> (T, V) logits, row after row.
std::vector<float> CachedGpt::logits(const std::vector<int64_t>& ids) {
    std::vector<float> result;
    //! BEGIN SOLUTION
    //! HINT: check 1 <= T <= context_length and the ids (errors name logits), empty the cache, and run every position keeping every row's logits.
    const auto T = static_cast<int64_t>(ids.size());
    TT_CHECK(T >= 1 && T <= config_.context_length, "logits: ", T, " token ids; give between 1 and ",
             config_.context_length, " (the context length)");
    check_ids(ids, "logits");
    cached_ = 0;
    result = forward_new_positions(ids.data(), T, 0);
    //! END SOLUTION
    return result;
}

}  // namespace

std::unique_ptr<GptInference> gpt_load(const std::string& checkpoint_path) {
    //! BEGIN SOLUTION
    //! HINT: use_fastest_gemm() first; then tt::load_gpt(checkpoint_path) - its errors already name the file - and prepare a CachedGpt from the model. The GPT itself is no longer needed after that.
    use_fastest_gemm();
    const std::shared_ptr<GPT> model = load_gpt(checkpoint_path);
    return std::make_unique<CachedGpt>(*model);
    //! END SOLUTION
}

}  // namespace tt::capstone
