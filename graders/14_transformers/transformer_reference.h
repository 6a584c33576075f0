// transformer_reference.h - module 14 grader: LayerNorm, the GPT and sampling written the slow,
// obvious way, in double precision.
//
// Expected values must never come from the code under test, so the GPT here is the textbook
// forward pass in plain loops (nanoGPT's layout: pre-LN blocks, causal multi-head attention with
// one fused qkv projection, an exact-GELU MLP, a final LayerNorm and a head tied to the token
// embedding), and sample() follows transformer.h's procedure step by step. Weights come from
// deterministic_weights(): a formula of sines that make_expected.py (beside this file) repeats in
// PyTorch, so the numbers written into the tests come from PyTorch 1.13 and from this file alike.
// Also used by the engine's own tests (tests/engine/test_transformer*.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"
#include "tinytorch/transformer.h"

namespace transformer_reference {

using tt::Shape;
using tt::Tensor;
using Values = std::vector<double>;

// grading.h's set_values for values computed in double.
inline void set_values(const Tensor& t, const Values& values) {
    tt::testing::set_values(t, std::vector<float>(values.begin(), values.end()));
}

inline Values as_values(const Tensor& t) {
    const std::vector<float> v = tt::testing::values_of(t);
    return {v.begin(), v.end()};
}

inline Tensor as_tensor(const Values& values, const Shape& shape) {
    return tt::testing::raw(std::vector<float>(values.begin(), values.end()), shape);
}

// ---------------------------------------------------------------------------------------------
// Ops on row-major matrices of doubles
// ---------------------------------------------------------------------------------------------

// x (rows, D) -> each row (x - mean) / sqrt(biased var + eps) * w + b (w, b empty: 1 and 0).
inline Values layer_norm(const Values& x, int64_t D, const Values& w, const Values& b, double eps = 1e-5) {
    Values y(x.size());
    const auto rows = static_cast<int64_t>(x.size()) / D;
    for (int64_t r = 0; r < rows; ++r) {
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < D; ++i) mean += x[r * D + i];
        mean /= static_cast<double>(D);
        for (int64_t i = 0; i < D; ++i) var += (x[r * D + i] - mean) * (x[r * D + i] - mean);
        var /= static_cast<double>(D);
        for (int64_t i = 0; i < D; ++i) {
            const double h = (x[r * D + i] - mean) / std::sqrt(var + eps);
            y[r * D + i] = h * (w.empty() ? 1.0 : w[i]) + (b.empty() ? 0.0 : b[i]);
        }
    }
    return y;
}

// x (rows, in) @ W^T (W: (out, in)) + b (empty: none) -> (rows, out)
inline Values linear(const Values& x, int64_t in, const Values& W, const Values& b, int64_t out) {
    const auto rows = static_cast<int64_t>(x.size()) / in;
    Values y(static_cast<size_t>(rows * out));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < out; ++o) {
            double s = b.empty() ? 0.0 : b[o];
            for (int64_t i = 0; i < in; ++i) s += x[r * in + i] * W[o * in + i];
            y[r * out + o] = s;
        }
    return y;
}

inline double gelu(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

// qkv (B*T, 3D): q columns [0, D), k [D, 2D), v [2D, 3D), head h columns [h*d, (h+1)*d) of each.
// Causal softmax(q k^T / sqrt(d)) v per batch and head -> (B*T, D), heads side by side.
inline Values causal_attention(const Values& qkv, int64_t B, int64_t T, int64_t H, int64_t D) {
    const int64_t d = D / H;
    Values out(static_cast<size_t>(B * T * D), 0.0);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < T; ++i) {
                const double* q = &qkv[(b * T + i) * 3 * D + h * d];
                std::vector<double> scores(static_cast<size_t>(i + 1));
                double top = -std::numeric_limits<double>::infinity();
                for (int64_t j = 0; j <= i; ++j) {
                    const double* k = &qkv[(b * T + j) * 3 * D + D + h * d];
                    double s = 0.0;
                    for (int64_t e = 0; e < d; ++e) s += q[e] * k[e];
                    scores[j] = s / std::sqrt(static_cast<double>(d));
                    top = std::max(top, scores[j]);
                }
                double total = 0.0;
                for (double& s : scores) total += (s = std::exp(s - top));
                for (int64_t j = 0; j <= i; ++j) {
                    const double* v = &qkv[(b * T + j) * 3 * D + 2 * D + h * d];
                    for (int64_t e = 0; e < d; ++e) out[(b * T + i) * D + h * d + e] += scores[j] / total * v[e];
                }
            }
    return out;
}

// ---------------------------------------------------------------------------------------------
// The GPT
// ---------------------------------------------------------------------------------------------

struct BlockWeights {
    Values ln_1_weight, ln_1_bias, qkv_weight, qkv_bias, attention_proj_weight, attention_proj_bias;
    Values ln_2_weight, ln_2_bias, fc_weight, fc_bias, mlp_proj_weight, mlp_proj_bias;
};

struct GPTWeights {
    tt::GPTConfig config;
    Values token_embedding, position_embedding;  // (V, D), (C, D)
    std::vector<BlockWeights> blocks;
    Values ln_f_weight, ln_f_bias;
    Values lm_head;  // (V, D); empty when tied
};

// Value i of weight slot k: base + amplitude * sin(0.7 i + 1.3 k + 0.1). Slots: 0 token embedding,
// 1 position embedding, then 12 per block (ln_1 w, b, qkv w, b, attention proj w, b, ln_2 w, b,
// fc w, b, mlp proj w, b), then ln_f w, b, then lm_head (untied only). A missing bias keeps its slot.
inline Values sines(int64_t count, int64_t slot, double base, double amplitude) {
    Values v(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) v[i] = base + amplitude * std::sin(0.7 * static_cast<double>(i) + 1.3 * slot + 0.1);
    return v;
}

inline GPTWeights deterministic_weights(const tt::GPTConfig& c) {
    const int64_t V = c.vocab_size, D = c.embed_dim, C = c.context_length;
    GPTWeights w;
    w.config = c;
    w.token_embedding = sines(V * D, 0, 0.0, 0.5);
    w.position_embedding = sines(C * D, 1, 0.0, 0.5);
    auto bias = [&](int64_t n, int64_t slot) { return c.bias ? sines(n, slot, 0.0, 0.1) : Values(); };
    for (int64_t l = 0; l < c.num_layers; ++l) {
        const int64_t s = 2 + 12 * l;
        BlockWeights b;
        b.ln_1_weight = sines(D, s + 0, 1.0, 0.2);
        b.ln_1_bias = bias(D, s + 1);
        b.qkv_weight = sines(3 * D * D, s + 2, 0.0, 0.3);
        b.qkv_bias = bias(3 * D, s + 3);
        b.attention_proj_weight = sines(D * D, s + 4, 0.0, 0.3);
        b.attention_proj_bias = bias(D, s + 5);
        b.ln_2_weight = sines(D, s + 6, 1.0, 0.2);
        b.ln_2_bias = bias(D, s + 7);
        b.fc_weight = sines(4 * D * D, s + 8, 0.0, 0.3);
        b.fc_bias = bias(4 * D, s + 9);
        b.mlp_proj_weight = sines(4 * D * D, s + 10, 0.0, 0.3);
        b.mlp_proj_bias = bias(D, s + 11);
        w.blocks.push_back(b);
    }
    const int64_t s = 2 + 12 * c.num_layers;
    w.ln_f_weight = sines(D, s, 1.0, 0.2);
    w.ln_f_bias = bias(D, s + 1);
    if (!c.tie_weights) w.lm_head = sines(V * D, s + 2, 0.0, 0.5);
    return w;
}

// Writes the weights into a model through its members (not named_parameters: that has tests of its own).
inline void load_weights(tt::GPT& model, const GPTWeights& w) {
    set_values(model.token_embedding->weight, w.token_embedding);
    set_values(model.position_embedding->weight, w.position_embedding);
    auto maybe = [](const Tensor& t, const Values& v) {
        if (t.defined() && !v.empty()) set_values(t, v);
    };
    for (int64_t l = 0; l < w.config.num_layers; ++l) {
        tt::TransformerBlock& block = model.block(l);
        const BlockWeights& b = w.blocks[static_cast<size_t>(l)];
        set_values(block.ln_1->weight, b.ln_1_weight);
        maybe(block.ln_1->bias, b.ln_1_bias);
        set_values(block.attention->qkv->weight, b.qkv_weight);
        maybe(block.attention->qkv->bias, b.qkv_bias);
        set_values(block.attention->proj->weight, b.attention_proj_weight);
        maybe(block.attention->proj->bias, b.attention_proj_bias);
        set_values(block.ln_2->weight, b.ln_2_weight);
        maybe(block.ln_2->bias, b.ln_2_bias);
        set_values(block.mlp->fc->weight, b.fc_weight);
        maybe(block.mlp->fc->bias, b.fc_bias);
        set_values(block.mlp->proj->weight, b.mlp_proj_weight);
        maybe(block.mlp->proj->bias, b.mlp_proj_bias);
    }
    set_values(model.ln_f->weight, w.ln_f_weight);
    maybe(model.ln_f->bias, w.ln_f_bias);
    if (!w.lm_head.empty()) set_values(model.lm_head->weight, w.lm_head);
}

// One pre-LN block on x (B*T, D), in place of nothing: returns the new residual stream.
inline Values block_forward(const BlockWeights& b, const Values& x, int64_t B, int64_t T, int64_t H, int64_t D) {
    const Values qkv = linear(layer_norm(x, D, b.ln_1_weight, b.ln_1_bias), D, b.qkv_weight, b.qkv_bias, 3 * D);
    const Values attended = linear(causal_attention(qkv, B, T, H, D), D, b.attention_proj_weight, b.attention_proj_bias, D);
    Values h = x;
    for (size_t i = 0; i < h.size(); ++i) h[i] += attended[i];
    Values hidden = linear(layer_norm(h, D, b.ln_2_weight, b.ln_2_bias), D, b.fc_weight, b.fc_bias, 4 * D);
    for (double& v : hidden) v = gelu(v);
    const Values m = linear(hidden, 4 * D, b.mlp_proj_weight, b.mlp_proj_bias, D);
    for (size_t i = 0; i < h.size(); ++i) h[i] += m[i];
    return h;
}

// ids (B, T) row-major -> logits (B*T, V) row-major.
inline Values gpt_logits(const GPTWeights& w, const std::vector<int64_t>& ids, int64_t B, int64_t T) {
    const int64_t D = w.config.embed_dim, V = w.config.vocab_size, H = w.config.num_heads;
    Values x(static_cast<size_t>(B * T * D));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t e = 0; e < D; ++e)
                x[(b * T + t) * D + e] = w.token_embedding[ids[b * T + t] * D + e] + w.position_embedding[t * D + e];
    for (const BlockWeights& block : w.blocks) x = block_forward(block, x, B, T, H, D);
    const Values head = w.lm_head.empty() ? w.token_embedding : w.lm_head;
    return linear(layer_norm(x, D, w.ln_f_weight, w.ln_f_bias), D, head, Values(), V);
}

// Mean cross-entropy of logits (N, V) against targets (N).
inline double cross_entropy(const Values& logits, const std::vector<int64_t>& targets, int64_t V) {
    double total = 0.0;
    for (size_t n = 0; n < targets.size(); ++n) {
        const double* row = &logits[n * V];
        const double top = *std::max_element(row, row + V);
        double z = 0.0;
        for (int64_t v = 0; v < V; ++v) z += std::exp(row[v] - top);
        total += std::log(z) + top - row[targets[n]];
    }
    return total / static_cast<double>(targets.size());
}

// ids as a (B, T) float tensor built without student code.
inline Tensor ids_of(const std::vector<int64_t>& ids, int64_t B, int64_t T) {
    std::vector<float> v(ids.begin(), ids.end());
    return tt::testing::raw(v, {B, T});
}

// ---------------------------------------------------------------------------------------------
// Sampling: transformer.h's procedure, step by step
// ---------------------------------------------------------------------------------------------

inline int64_t sample(const std::vector<float>& logits, const tt::SamplingOptions& options, tt::Generator& gen) {
    const auto V = static_cast<int64_t>(logits.size());
    int64_t best = 0;
    for (int64_t i = 1; i < V; ++i)
        if (logits[i] > logits[best]) best = i;
    if (options.temperature == 0.0f) return best;
    std::vector<double> score(logits.size());
    for (int64_t i = 0; i < V; ++i) score[i] = static_cast<double>(logits[i]) / options.temperature;
    std::vector<char> keep(logits.size(), 1);
    if (options.top_k > 0 && options.top_k < V) {
        std::vector<double> sorted = score;
        std::sort(sorted.begin(), sorted.end(), [](double a, double b) { return a > b; });
        for (int64_t i = 0; i < V; ++i) keep[i] = score[i] >= sorted[options.top_k - 1];
    }
    const double top = score[best];
    std::vector<double> p(logits.size(), 0.0);
    for (int64_t i = 0; i < V; ++i) p[i] = keep[i] ? std::exp(score[i] - top) : 0.0;
    if (options.top_p < 1.0f) {
        double z = 0.0;
        for (double v : p) z += v;
        std::vector<int64_t> order;
        for (int64_t i = 0; i < V; ++i)
            if (keep[i]) order.push_back(i);
        std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] != p[b] ? p[a] > p[b] : a < b; });
        double before = 0.0;
        for (int64_t id : order) {
            if (before / z >= options.top_p) {
                keep[id] = 0;
            } else {
                before += p[id];
            }
        }
        for (int64_t i = 0; i < V; ++i)
            if (!keep[i]) p[i] = 0.0;
    }
    double total = 0.0;
    int64_t last = -1;
    for (int64_t i = 0; i < V; ++i)
        if (keep[i]) {
            total += p[i];
            last = i;
        }
    const double target = static_cast<double>(gen.uniform()) * total;
    double running = 0.0;
    for (int64_t i = 0; i < V; ++i)
        if (keep[i] && (running += p[i]) > target) return i;
    return last;
}

// generate() step by step on the reference GPT: the expected tokens.
inline std::vector<int64_t> generate(const GPTWeights& w, std::vector<int64_t> tokens, int64_t max_new_tokens,
                                     const tt::SamplingOptions& sampling, bool slide, uint64_t seed) {
    tt::Generator gen(seed);
    const int64_t C = w.config.context_length, V = w.config.vocab_size;
    for (int64_t n = 0; n < max_new_tokens; ++n) {
        const auto length = static_cast<int64_t>(tokens.size());
        if (!slide && length >= C) break;
        const int64_t start = std::max<int64_t>(0, length - C);
        const std::vector<int64_t> window(tokens.begin() + start, tokens.end());
        const auto T = static_cast<int64_t>(window.size());
        const Values logits = gpt_logits(w, window, 1, T);
        const std::vector<float> last(logits.begin() + (T - 1) * V, logits.begin() + T * V);
        tokens.push_back(sample(last, sampling, gen));
    }
    return tokens;
}

// ---------------------------------------------------------------------------------------------
// Finite differences over a whole model's parameters
// ---------------------------------------------------------------------------------------------

// Mean cross-entropy of the model's logits on (ids, targets), through the code under test.
inline Tensor model_loss(tt::GPT& model, const std::vector<int64_t>& ids, const std::vector<int64_t>& targets, int64_t B,
                         int64_t T) {
    const Tensor logits = model(ids_of(ids, B, T));
    return tt::cross_entropy(logits.reshape({B * T, model.config.vocab_size}),
                            tt::testing::raw(std::vector<float>(targets.begin(), targets.end()), {B * T}));
}

// For up to `per_tensor` elements of every parameter (spread over the tensor), compares the
// gradient backward() left in .grad with the central difference of the loss (steps of `step`,
// the loss summed in double from the logits). Returns one line per element that differs by more
// than atol + rtol * |numeric|; empty when all agree. Call after loss.backward().
inline std::string finite_difference_problems(tt::GPT& model, const std::vector<int64_t>& ids,
                                              const std::vector<int64_t>& targets, int64_t B, int64_t T, int per_tensor = 4,
                                              double step = 1e-2, double atol = 2e-3, double rtol = 3e-2) {
    std::string problems;
    const int64_t V = model.config.vocab_size;
    auto loss_now = [&]() {
        tt::NoGradGuard no_grad;
        const Values logits = as_values(model(ids_of(ids, B, T)));
        return cross_entropy(logits, targets, V);
    };
    for (const auto& [name, parameter] : model.named_parameters()) {
        const Tensor grad = parameter.grad();
        if (!grad.defined()) {
            problems += name + ": no gradient after backward()\n";
            continue;
        }
        const std::vector<float> analytic = tt::testing::values_of(grad);
        const int64_t n = tt::testing::count_of(parameter.shape());
        std::vector<float>& data = parameter.storage()->data;
        for (int k = 0; k < per_tensor && k < n; ++k) {
            const int64_t flat = (n * (2 * k + 1)) / (2 * per_tensor);
            const auto position = static_cast<size_t>(tt::testing::storage_index(parameter, tt::testing::unravel(flat, parameter.shape())));
            const float original = data[position];
            data[position] = original + static_cast<float>(step);
            const double up = loss_now();
            data[position] = original - static_cast<float>(step);
            const double down = loss_now();
            data[position] = original;
            const double numeric = (up - down) / (2 * step);
            if (std::abs(numeric - analytic[static_cast<size_t>(flat)]) > atol + rtol * std::abs(numeric))
                problems += name + " element " + std::to_string(flat) + ": backward " + std::to_string(analytic[static_cast<size_t>(flat)]) +
                            ", finite difference " + std::to_string(numeric) + "\n";
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Fixtures shared by the tests
// ---------------------------------------------------------------------------------------------

// The tiny GPT of make_expected.py and its batch.
inline const tt::GPTConfig tiny_config{.vocab_size = 7, .context_length = 5, .num_layers = 2, .num_heads = 2, .embed_dim = 8};
inline const std::vector<int64_t> tiny_ids = {1, 6, 0, 3, 3, 5, 2, 2, 4, 0};      // (2, 5)
inline const std::vector<int64_t> tiny_targets = {6, 0, 3, 3, 5, 2, 2, 4, 0, 1};  // (10,)

// A GPT of `config` built from its own seeded generator, then given deterministic_weights().
// The generator lives as long as the model (it drives dropout).
struct SineModel {
    std::unique_ptr<tt::Generator> gen;
    std::shared_ptr<tt::GPT> model;
    tt::GPT& operator*() const { return *model; }
    tt::GPT* operator->() const { return model.get(); }
};
inline SineModel model_with_sines(const tt::GPTConfig& config, uint64_t seed = 1) {
    SineModel m;
    m.gen = std::make_unique<tt::Generator>(seed);
    m.model = std::make_shared<tt::GPT>(config, m.gen.get());
    load_weights(*m.model, deterministic_weights(config));
    return m;
}

// Standard deviation of a tensor's elements (population), in double.
inline double std_of(const Tensor& t) {
    const Values v = as_values(t);
    double sum = 0.0, squares = 0.0;
    for (double x : v) {
        sum += x;
        squares += x * x;
    }
    const double mean = sum / static_cast<double>(v.size());
    return std::sqrt(std::max(squares / static_cast<double>(v.size()) - mean * mean, 0.0));
}

// GenerateOptions without designated initialisers (which warn about the fields left out).
inline tt::GenerateOptions generating(int64_t max_new_tokens, tt::SamplingOptions sampling = {},
                                      tt::ContextPolicy at_context = tt::ContextPolicy::slide, uint64_t seed = 0) {
    tt::GenerateOptions options;
    options.max_new_tokens = max_new_tokens;
    options.sampling = sampling;
    options.at_context = at_context;
    options.seed = seed;
    return options;
}
inline tt::SamplingOptions sampling_with(float temperature, int64_t top_k = 0, float top_p = 1.0f) {
    tt::SamplingOptions options;
    options.temperature = temperature;
    options.top_k = top_k;
    options.top_p = top_p;
    return options;
}

}  // namespace transformer_reference
