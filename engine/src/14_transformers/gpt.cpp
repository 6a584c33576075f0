// gpt.cpp - module 14: the MLP, the pre-LN transformer block, the GPT, and its checkpoints.
//
// Letters: B batch, T sequence length, D width (embed_dim), V vocabulary, L layers.
//
//     ids (B, T)
//      -> token_embedding(ids) + position_embedding(0..T-1)        (B, T, D)   the residual stream
//      -> L x TransformerBlock:                                    (B, T, D)
//             x = x + dropout(attention(ln_1(x)))    tokens exchange information
//             x = x + mlp(ln_2(x))                   each token computes on its own
//      -> ln_f -> lm_head                                          (B, T, V)   next-token logits
//
// The residual stream. Every block READS a normalised copy of x and ADDS its result back: x itself
// is never normalised or replaced, only summed into. Backward through `x + f(x)` gives
// dx = g + (df/dx)^T g: the upstream gradient g reaches the embeddings unchanged through the
// L additions, whatever the blocks do - which is why a 96-layer GPT trains at all. Post-LN (the
// original 2017 transformer: x = ln(x + f(x))) puts a normalisation on that path, and deep stacks
// of it need a careful learning-rate warm-up to train; pre-LN, with one final ln_f, does not.
//
// Where the work is, per token: attention's qkv and proj are 3 D^2 + D^2 = 4 D^2 weights, the
// MLP's fc and proj 4 D^2 + 4 D^2 = 8 D^2: two thirds of every block's parameters and of its
// matrix-product FLOPs (2 per weight per token) are in the MLP. Every one of those products is one
// call of kernels::gemm on (B * T, D)-shaped activations, through Linear and matmul.
//
// Parameters (with biases, tied head):
//     V D + C D (embeddings, C = context_length)
//     + L (12 D^2 + 13 D)   (qkv 3D^2 + 3D, proj D^2 + D, fc 4D^2 + 4D, proj 4D^2 + D, two LNs 4D)
//     + 2 D (ln_f)          + 0 for lm_head, which IS the token embedding
// For V = 65, C = 64, L = 4, D = 128: 8320 + 8192 + 4 * 198272 + 256 = 809,856.
#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "tinytorch/activations.h"
#include "tinytorch/attention.h"
#include "tinytorch/embedding.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"
#include "tinytorch/training.h"
#include "tinytorch/transformer.h"

namespace tt {

namespace {

// [given] A Linear whose weight is another module's tensor (weight tying). Module's parameter
// list is protected, so the head re-registers its "weight" from inside a Linear: the member, the
// parameter entry and the embedding's table are then one tensor (one TensorImpl), and
// named_parameters() lists it once, under the name it is first reached by: token_embedding.weight.
class TiedLinear : public Linear {
public:
    TiedLinear(int64_t in_features, int64_t out_features, Generator* gen) : Linear(in_features, out_features, false, gen) {}
    void tie(const Tensor& shared_weight) {
        TT_ASSERT(shared_weight.shape() == weight.shape(), "TiedLinear: weight shapes differ");
        parameters_.clear();
        weight = register_parameter("weight", shared_weight);
    }
};

// [given] Fills t in place with N(0, std^2) values from gen, in row-major order.
[[maybe_unused]] void fill_normal(const Tensor& t, float std, Generator& gen) {
    float* data = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) data[i] = std * gen.normal();
    t.bump_version();
}

// [given] Fills t in place with a constant.
[[maybe_unused]] void fill_constant(const Tensor& t, float value) {
    float* data = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) data[i] = value;
    t.bump_version();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MLP
// ---------------------------------------------------------------------------------------------

// Children "fc" Linear(D, 4D), "proj" Linear(4D, D), "dropout".
MLP::MLP(int64_t dim, float dropout, bool bias, Generator* gen) {
    //! BEGIN SOLUTION
    //! HINT: register_module("fc", std::make_shared<Linear>(...)), then "proj", then "dropout" (a Dropout(dropout, gen)), in that order: the order names the checkpoint entries.
    TT_CHECK(dim >= 1, "MLP: dim ", dim, " must be at least 1");
    fc = register_module("fc", std::make_shared<Linear>(dim, 4 * dim, bias, gen));
    proj = register_module("proj", std::make_shared<Linear>(4 * dim, dim, bias, gen));
    this->dropout = register_module("dropout", std::make_shared<Dropout>(dropout, gen));
    //! END SOLUTION
}

// x (..., D) -> fc (..., 4D) -> GELU -> proj (..., D) -> dropout.
Tensor MLP::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    //! HINT: the exact GELU (GeluApproximation::none), as nanoGPT and PyTorch's default: GPT-2's tanh approximation gives slightly different numbers.
    //! HINT: Dropout(0) is the identity: skip the call when dropout->p == 0 (it would draw random numbers and make two passes over (B, T, D) for nothing).
    Tensor h = gelu((*fc)(x), GeluApproximation::none);  // (..., 4D): the widest activation of the model
    Tensor y = (*proj)(h);                               // (..., D)
    return dropout->p > 0.0f ? (*dropout)(y) : y;
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// TransformerBlock
// ---------------------------------------------------------------------------------------------

TransformerBlock::TransformerBlock(const GPTConfig& config, Generator* gen) {
    //! BEGIN SOLUTION
    //! HINT: children in this order: "ln_1" LayerNorm(D, 1e-5, config.bias), "attention" MultiHeadAttention({D, H, causal true, config.bias}, gen), "attention_dropout" Dropout(config.dropout, gen), "ln_2", "mlp" MLP(D, config.dropout, config.bias, gen).
    const int64_t D = config.embed_dim;
    ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(D, 1e-5f, config.bias));
    attention = register_module("attention", std::make_shared<MultiHeadAttention>(
                                                 MultiHeadAttentionOptions{D, config.num_heads, true, config.bias}, gen));
    attention_dropout = register_module("attention_dropout", std::make_shared<Dropout>(config.dropout, gen));
    ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(D, 1e-5f, config.bias));
    mlp = register_module("mlp", std::make_shared<MLP>(D, config.dropout, config.bias, gen));
    //! END SOLUTION
}

Tensor TransformerBlock::forward(const Tensor& x) { return forward(x, nullptr); }

// x (B, T, D) -> (B, T, D). Pre-LN: the sub-layers see ln(x); the residual x is only added to.
Tensor TransformerBlock::forward(const Tensor& x, KVCache* cache) {
    //! BEGIN SOLUTION
    //! HINT: x = x + attention_dropout(attention->forward(ln_1(x), Tensor(), cache)), then x = x + mlp(ln_2(x)). Add to x itself, never to ln(x).
    Tensor a = attention->forward((*ln_1)(x), Tensor(), cache);  // tokens look at earlier tokens
    if (attention_dropout->p > 0.0f) a = (*attention_dropout)(a);
    const Tensor h = x + a;                                      // the residual stream
    return h + (*mlp)((*ln_2)(h));                               // each token on its own
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// GPT
// ---------------------------------------------------------------------------------------------

GPT::GPT(const GPTConfig& config, Generator* gen) : config(config) {
    //! BEGIN SOLUTION
    //! HINT: check the config first (each error names the setting, its value and what is allowed): every size >= 1, embed_dim % num_heads == 0, dropout in [0, 1).
    //! HINT: children in this order: "token_embedding", "position_embedding", "dropout", "blocks" (a Sequential; push_back num_layers TransformerBlocks), "ln_f", "lm_head" (Linear(D, V) without bias; TiedLinear and tie() when config.tie_weights).
    //! HINT: then the GPT-2 initialisation, all from one Generator (gen, or default_generator()): N(0, 0.02^2) for every Linear and embedding weight, 0.02 / sqrt(2 * num_layers) for each attention->proj and mlp->proj weight, biases 0, LayerNorm weights 1 and biases 0. fill_normal and fill_constant write in place.
    //! HINT: why the scaled projections: each block ADDS its output to the residual stream, so after L blocks its variance has grown by 2 L contributions; shrinking their std by sqrt(2 L) keeps the sum's scale independent of the depth.
    TT_CHECK(config.vocab_size >= 1, "GPT: vocab_size ", config.vocab_size, " must be at least 1");
    TT_CHECK(config.context_length >= 1, "GPT: context_length ", config.context_length, " must be at least 1");
    TT_CHECK(config.num_layers >= 1, "GPT: num_layers ", config.num_layers, " must be at least 1");
    TT_CHECK(config.num_heads >= 1, "GPT: num_heads ", config.num_heads, " must be at least 1");
    TT_CHECK(config.embed_dim >= 1, "GPT: embed_dim ", config.embed_dim, " must be at least 1");
    TT_CHECK(config.embed_dim % config.num_heads == 0, "GPT: embed_dim ", config.embed_dim, " is not divisible by num_heads ",
             config.num_heads, "; each head gets embed_dim / num_heads features, so pick a multiple");
    TT_CHECK(config.dropout >= 0.0f && config.dropout < 1.0f, "GPT: dropout ", config.dropout,
             " must be in [0, 1) (0: no dropout; 1 would drop everything)");
    const int64_t V = config.vocab_size, D = config.embed_dim;

    token_embedding = register_module("token_embedding", std::make_shared<Embedding>(V, D, gen));
    position_embedding =
        register_module("position_embedding", std::make_shared<LearnedPositionalEmbedding>(config.context_length, D, gen));
    dropout = register_module("dropout", std::make_shared<Dropout>(config.dropout, gen));
    blocks = register_module("blocks", std::make_shared<Sequential>());
    for (int64_t i = 0; i < config.num_layers; ++i) blocks->push_back(std::make_shared<TransformerBlock>(config, gen));
    ln_f = register_module("ln_f", std::make_shared<LayerNorm>(D, 1e-5f, config.bias));
    if (config.tie_weights) {
        auto head = std::make_shared<TiedLinear>(D, V, gen);
        head->tie(token_embedding->weight);  // (V, D): the same rows read tokens in and score them out
        lm_head = register_module("lm_head", std::shared_ptr<Linear>(head));
    } else {
        lm_head = register_module("lm_head", std::make_shared<Linear>(D, V, false, gen));
    }

    // GPT-2 initialisation, in a fixed order so a seed gives the same model everywhere.
    Generator& g = gen ? *gen : default_generator();
    const float init_std = 0.02f;  // GPT-2
    const float residual_std = init_std / std::sqrt(2.0f * static_cast<float>(config.num_layers));
    auto init_linear = [&](const Linear& layer, float weight_std) {
        fill_normal(layer.weight, weight_std, g);
        if (layer.bias.defined()) fill_constant(layer.bias, 0.0f);
    };
    auto init_layer_norm = [&](const LayerNorm& norm) {
        fill_constant(norm.weight, 1.0f);
        if (norm.bias.defined()) fill_constant(norm.bias, 0.0f);
    };
    fill_normal(token_embedding->weight, init_std, g);
    fill_normal(position_embedding->weight, init_std, g);
    for (int64_t i = 0; i < config.num_layers; ++i) {
        TransformerBlock& b = block(i);
        init_layer_norm(*b.ln_1);
        init_linear(*b.attention->qkv, init_std);
        init_linear(*b.attention->proj, residual_std);
        init_layer_norm(*b.ln_2);
        init_linear(*b.mlp->fc, init_std);
        init_linear(*b.mlp->proj, residual_std);
    }
    init_layer_norm(*ln_f);
    if (!config.tie_weights) init_linear(*lm_head, init_std);
    //! END SOLUTION
}

Tensor GPT::forward(const Tensor& ids) { return forward(ids, nullptr); }

// ids (B, T) -> logits (B, T, V).
Tensor GPT::forward(const Tensor& ids, KVCache* cache) {
    //! BEGIN SOLUTION
    //! HINT: check ids is 2-D and 1 <= T <= context_length (the error names T and the context length: position T has no learned vector).
    //! HINT: x = position_embedding(token_embedding(ids)) adds the vector of position t to token t; then dropout (skip it when p == 0), the blocks (each block(i).forward(x, cache)), ln_f and lm_head.
    TT_CHECK(ids.dim() == 2, "GPT: ids of shape ", shape_str(ids.shape()),
             " must be (B, T): a batch of token-id sequences (use unsqueeze(0) for one sequence)");
    const int64_t T = ids.size(1);
    TT_CHECK(T >= 1 && T <= config.context_length, "GPT: sequence length T = ", T, " must be in [1, ", config.context_length,
             "], the context length: there is no position embedding beyond it (crop the input to its last ",
             config.context_length, " tokens)");
    TT_CHECK(cache == nullptr, "GPT: a KV cache needs module 16 (caching); call forward(ids) without one");
    Tensor x = (*position_embedding)((*token_embedding)(ids));  // (B, T, D)
    if (dropout->p > 0.0f) x = (*dropout)(x);
    for (int64_t i = 0; i < config.num_layers; ++i) x = block(i).forward(x, cache);
    return (*lm_head)((*ln_f)(x));  // (B, T, D) -> (B, T, V)
    //! END SOLUTION
}

// "vocab_size=65, context_length=64, num_layers=4, num_heads=4, embed_dim=128, dropout=0, bias=true, tie_weights=true"
std::string GPT::extra_repr() const {
    //! BEGIN SOLUTION
    std::ostringstream out;
    out << "vocab_size=" << config.vocab_size << ", context_length=" << config.context_length
        << ", num_layers=" << config.num_layers << ", num_heads=" << config.num_heads << ", embed_dim=" << config.embed_dim
        << ", dropout=" << config.dropout << ", bias=" << (config.bias ? "true" : "false")
        << ", tie_weights=" << (config.tie_weights ? "true" : "false");
    return out.str();
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

// A checkpoint that can rebuild its own model: the weights alone do not say how many heads there
// are (qkv is (3D, D) whatever H is) or whether dropout was used.
void save_gpt(const std::string& path, const GPT& model, const optim::Optimizer* optimizer) {
    //! BEGIN SOLUTION
    //! HINT: make_checkpoint(model, optimizer), then numbers "config.vocab_size", "config.context_length", "config.num_layers", "config.num_heads", "config.embed_dim", "config.dropout", "config.bias" (1/0), "config.tie_weights" (1/0), the text "model_type" = "gpt", and save_checkpoint.
    Checkpoint checkpoint = make_checkpoint(model, optimizer);
    const GPTConfig& c = model.config;
    checkpoint.numbers["config.vocab_size"] = static_cast<double>(c.vocab_size);
    checkpoint.numbers["config.context_length"] = static_cast<double>(c.context_length);
    checkpoint.numbers["config.num_layers"] = static_cast<double>(c.num_layers);
    checkpoint.numbers["config.num_heads"] = static_cast<double>(c.num_heads);
    checkpoint.numbers["config.embed_dim"] = static_cast<double>(c.embed_dim);
    checkpoint.numbers["config.dropout"] = static_cast<double>(c.dropout);
    checkpoint.numbers["config.bias"] = c.bias ? 1.0 : 0.0;
    checkpoint.numbers["config.tie_weights"] = c.tie_weights ? 1.0 : 0.0;
    checkpoint.texts["model_type"] = "gpt";
    save_checkpoint(path, checkpoint);
    //! END SOLUTION
}

std::shared_ptr<GPT> load_gpt(const std::string& path, Generator* gen) {
    std::shared_ptr<GPT> model;
    //! BEGIN SOLUTION
    //! HINT: load_checkpoint(path) (it names the file on errors); refuse a checkpoint without texts["model_type"] == "gpt" or missing a config number, naming the file and what is missing.
    //! HINT: build the GPT from the config, then restore_checkpoint; catch tt::Error from either and rethrow it with the file's name in front.
    const Checkpoint checkpoint = load_checkpoint(path);
    const auto type = checkpoint.texts.find("model_type");
    TT_CHECK(type != checkpoint.texts.end() && type->second == "gpt", "load_gpt: ", path,
             " is not a GPT checkpoint (no model_type \"gpt\"); save it with save_gpt, or load it with load_checkpoint");
    auto number = [&](const std::string& key) {
        const auto found = checkpoint.numbers.find("config." + key);
        TT_CHECK(found != checkpoint.numbers.end(), "load_gpt: ", path, " has no config.", key,
                 ", so the model cannot be rebuilt; save it with save_gpt");
        return found->second;
    };
    GPTConfig config;
    config.vocab_size = static_cast<int64_t>(number("vocab_size"));
    config.context_length = static_cast<int64_t>(number("context_length"));
    config.num_layers = static_cast<int64_t>(number("num_layers"));
    config.num_heads = static_cast<int64_t>(number("num_heads"));
    config.embed_dim = static_cast<int64_t>(number("embed_dim"));
    config.dropout = static_cast<float>(number("dropout"));
    config.bias = number("bias") != 0.0;
    config.tie_weights = number("tie_weights") != 0.0;
    try {
        model = std::make_shared<GPT>(config, gen);
        restore_checkpoint(checkpoint, *model);
    } catch (const Error& error) {
        throw Error("load_gpt: " + path + ": " + error.what());
    }
    //! END SOLUTION
    return model;
}

}  // namespace tt
