// transformer.h - module 14: LayerNorm, the transformer block, and a GPT that writes.
//
//     tt::GPTConfig config{.vocab_size = 65, .context_length = 64, .num_layers = 4, .num_heads = 4,
//                          .embed_dim = 128};
//     auto model = std::make_shared<tt::GPT>(config);
//     tt::Tensor logits = (*model)(ids);                 // ids (B, T) -> logits (B, T, 65)
//     tt::Tensor loss = tt::cross_entropy(logits.reshape({-1, 65}), targets.reshape({-1}));
//     tt::Generated text = tt::generate(*model, prompt, {.max_new_tokens = 200});
//
// Letters: B batch, T sequence length (<= the context length), D width (embed_dim), V vocabulary,
// L layers, H heads.
//
// The GPT (Radford et al. 2018; the layout of GPT-2 and nanoGPT):
//     x = token_embedding(ids) + position_embedding(0..T-1)          (B, T, D)
//     x = dropout(x)
//     L times:  x = x + attention(ln_1(x))       pre-LN: each sub-layer sees a normalised input,
//               x = x + mlp(ln_2(x))             and the residual path x stays an untouched sum
//     logits = lm_head(ln_f(x))                                      (B, T, V)
// The residual additions are why deep transformers train: the gradient reaches every layer through
// the sums unchanged, whatever the sub-layers do. With weight tying, lm_head's (V, D) weight IS the
// token embedding's table: the same vectors read tokens in and score them out, and V * D parameters
// are saved (for GPT-2 small, 38.6 M of its 124 M; 1% of the milestone's 0.8 M model).
//
// LayerNorm normalises each token's vector on its own (over the last dimension D), unlike
// BatchNorm (module 09) which normalises each feature over the batch: a token's output then never
// depends on the other sequences in the batch or on the batch size, which is what generation one
// sequence at a time needs.
//     y = (x - mean) / sqrt(var + eps) * weight + bias       (biased variance over D)
// Backward, with x_hat = (x - mean) / sqrt(var + eps), g = d(loss)/d(y), per row of D values:
//     dweight += sum over rows of g * x_hat        dbias += sum over rows of g
//     dx      += inverse_std * (gw - mean(gw) - x_hat * mean(gw * x_hat))     where gw = g * weight
//
// Who writes what: everything here is module 14 (engine/src/14_transformers/), except [given].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/activations.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"
#include "tinytorch/embedding.h"
#include "tinytorch/layers.h"
#include "tinytorch/optim.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt {

// ---------------------------------------------------------------------------------------------
// LayerNorm
// ---------------------------------------------------------------------------------------------

// x (..., D) -> same shape, each row of D values normalised as above. weight and bias (D,) may each
// be undefined (no scale / no shift). tt::Error naming the op and the shapes when weight or bias is
// not (D,), or when D = 0.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// out = layer_norm(x, weight, bias)   dx, dweight, dbias as at the top (inputs: x, weight, bias)
struct LayerNormBackward : Node {
    LayerNormBackward(Tensor x_hat, Tensor inverse_std) : x_hat(std::move(x_hat)), inverse_std(std::move(inverse_std)) {}
    const char* name() const override { return "LayerNormBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::others;  // dx reads weight
    void backward(const Tensor& grad_out) override;
    Tensor x_hat;        // (..., D) the normalised input
    Tensor inverse_std;  // (rows,): 1 / sqrt(var + eps) of each row, rows = numel / D
};

// weight (D,) = 1 (the learnable scale), bias (D,) = 0 unless bias is false.
class LayerNorm : public Module {
public:
    explicit LayerNorm(int64_t dim, float eps = 1e-5f, bool bias = true);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "LayerNorm"; }
    std::string extra_repr() const override;  // "128, eps=1e-05, bias=true"
    int64_t dim;
    float eps;
    Tensor weight, bias;  // bias undefined when there is none
};

// ---------------------------------------------------------------------------------------------
// The transformer
// ---------------------------------------------------------------------------------------------

struct GPTConfig {
    int64_t vocab_size = 65;
    int64_t context_length = 64;  // the most positions the model reads at once
    int64_t num_layers = 4;
    int64_t num_heads = 4;
    int64_t embed_dim = 128;      // D, divisible by num_heads
    float dropout = 0.0f;         // after the embeddings, the attention output and the MLP output
    bool bias = true;             // in every Linear and LayerNorm (lm_head never has one)
    bool tie_weights = true;      // lm_head.weight is token_embedding.weight
};

// The position-wise feed-forward network: (..., D) -> Linear(D, 4D) "fc" -> GELU (exact, as
// nanoGPT) -> Linear(4D, D) "proj" -> Dropout(dropout) -> (..., D). Most of a transformer's
// parameters and FLOPs are here: 8 D^2 per token against attention's 4 D^2 (+ the T^2 part).
class MLP : public Module {
public:
    MLP(int64_t dim, float dropout = 0.0f, bool bias = true, Generator* gen = nullptr);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "MLP"; }
    std::shared_ptr<Linear> fc, proj;
    std::shared_ptr<Dropout> dropout;
};

// Pre-LN block: x + dropout(attention(ln_1(x))), then + mlp(ln_2(x)). Children, in this order:
// "ln_1", "attention" (causal MultiHeadAttention), "attention_dropout" (on its output), "ln_2",
// "mlp". (B, T, D) -> (B, T, D).
class TransformerBlock : public Module {
public:
    explicit TransformerBlock(const GPTConfig& config, Generator* gen = nullptr);
    Tensor forward(const Tensor& x) override;
    // With cache == nullptr exactly forward(x); the cache is passed on to the attention (module 16).
    Tensor forward(const Tensor& x, KVCache* cache);
    std::string name() const override { return "TransformerBlock"; }
    std::shared_ptr<LayerNorm> ln_1, ln_2;
    std::shared_ptr<MultiHeadAttention> attention;
    std::shared_ptr<Dropout> attention_dropout;
    std::shared_ptr<MLP> mlp;
};

// Children, in this order: "token_embedding" (Embedding V x D), "position_embedding"
// (LearnedPositionalEmbedding context_length x D), "dropout", "blocks" (a Sequential of
// num_layers TransformerBlocks, named "blocks.0", ...), "ln_f" (LayerNorm), "lm_head" (Linear D -> V,
// no bias; its weight is token_embedding's when tie_weights, so named_parameters() lists it once).
// Initialisation as GPT-2 / nanoGPT, from `gen` (null: the default generator), after the layers
// are built: every Linear and Embedding weight N(0, 0.02^2) - the residual projections (each
// attention's and MLP's "proj") N(0, (0.02 / sqrt(2 L))^2), so the L residual additions do not
// grow the activations - every bias 0, LayerNorms weight 1 and bias 0. `gen` also drives dropout
// and must outlive the model. tt::Error naming the setting for a config that cannot work (sizes
// < 1, embed_dim not divisible by num_heads, dropout outside [0, 1)).
class GPT : public Module {
public:
    explicit GPT(const GPTConfig& config, Generator* gen = nullptr);
    // ids (B, T) of token ids as floats, 1 <= T <= context_length -> logits (B, T, V). tt::Error
    // naming T and the context length when T is larger, and naming the shape when ids is not 2-D.
    Tensor forward(const Tensor& ids) override;
    // With cache == nullptr exactly forward(ids). With a cache (module 16), ids are the new tokens
    // and their positions continue after those already in the cache.
    Tensor forward(const Tensor& ids, KVCache* cache);
    std::string name() const override { return "GPT"; }
    std::string extra_repr() const override;  // "vocab_size=65, context_length=64, num_layers=4, ..."

    GPTConfig config;
    std::shared_ptr<Embedding> token_embedding;
    std::shared_ptr<LearnedPositionalEmbedding> position_embedding;
    std::shared_ptr<Dropout> dropout;
    std::shared_ptr<Sequential> blocks;  // of TransformerBlock
    std::shared_ptr<LayerNorm> ln_f;
    std::shared_ptr<Linear> lm_head;
    // [given] Block i as a TransformerBlock.
    TransformerBlock& block(int64_t i) const;
};

// ---------------------------------------------------------------------------------------------
// Sampling and generation
// ---------------------------------------------------------------------------------------------

struct SamplingOptions {
    float temperature = 1.0f;  // 0: greedy (the first highest logit); < 0 is a tt::Error
    int64_t top_k = 0;         // > 0: only the top_k highest logits (and any equal to the k-th) stay
    float top_p = 1.0f;        // < 1: only the smallest set of most likely tokens whose probabilities
                               // add up to >= top_p stays (nucleus sampling); in (0, 1]
};

// Picks one token id from logits (V,), exactly as follows so a seed reproduces a sample everywhere:
//   temperature 0: argmax (the first maximum), drawing nothing from gen;
//   else: scores = logits / temperature; top_k keeps the scores >= the k-th highest; top_p sorts
//   the kept tokens by probability (descending; ties by id, ascending) and keeps each token while the
//   probability mass of the tokens BEFORE it is < top_p; the kept probabilities p_i (softmax of the
//   kept scores) are then summed in id order, and with u = gen.uniform() (one draw) the first id
//   whose running sum exceeds u * sum is returned (the last kept id if rounding leaves none).
// tt::Error for logits that are not 1-D or are empty, NaN logits, and out-of-range options.
int64_t sample_token(const Tensor& logits, const SamplingOptions& options, Generator& gen);

enum class ContextPolicy {
    stop,   // stop when the sequence fills the context; Generated::stop_reason says so
    slide,  // keep going, feeding the model the last context_length tokens
};

struct GenerateOptions {
    int64_t max_new_tokens = 100;
    SamplingOptions sampling;
    ContextPolicy at_context = ContextPolicy::slide;
    uint64_t seed = 0;  // of the sampling generator: the same seed gives the same text
};

struct Generated {
    std::vector<int64_t> tokens;  // the prompt followed by the new tokens
    int64_t new_tokens = 0;
    // Empty when max_new_tokens were generated; otherwise one sentence a person can read, e.g.
    // "stopped after 14 new tokens: the context of 64 tokens is full (ContextPolicy::slide keeps
    // going with the last 64)".
    std::string stop_reason;
};

// Autoregressive generation: run the model on the sequence (cropped to the context for slide),
// sample the next token from the last position's logits, append, repeat. Runs in eval mode with
// no graph (NoGradGuard) and restores the model's training mode afterwards. tt::Error for an empty
// prompt, a prompt id outside the vocabulary, and (with stop) a prompt longer than the context.
Generated generate(GPT& model, const std::vector<int64_t>& prompt, const GenerateOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

// The model's checkpoint (module 10's format, make_checkpoint) plus its config as numbers
// "config.vocab_size", "config.context_length", ... and the text "model_type" = "gpt"; with an
// optimizer, its state too. Atomic, as save_checkpoint.
void save_gpt(const std::string& path, const GPT& model, const optim::Optimizer* optimizer = nullptr);
// Builds a GPT from the saved config and loads its weights. tt::Error naming the file when it is
// not a GPT checkpoint (no "model_type" = "gpt", a config number missing) or does not load.
std::shared_ptr<GPT> load_gpt(const std::string& path, Generator* gen = nullptr);

}  // namespace tt
