// embedding.h - module 12: token ids become vectors, and positions become part of them.
//
//     tt::Embedding tokens(65, 128);                          // a (65, 128) table of learned vectors
//     tt::Tensor ids = tt::tensor({{46, 47, 1}});             // (B, T) = (1, 3) token ids, as floats
//     tt::Tensor x = tokens(ids);                             // (1, 3, 128): row 46, row 47, row 1
//     tt::LearnedPositionalEmbedding positions(64, 128);      // one learned vector per position 0..63
//     x = positions(x);                                       // x[b, t] += positions.weight[t]
//
// An embedding is a lookup table: row i of weight (V, D) is the vector of token i. Mathematically
// it is one_hot(ids) @ weight, but building the (B*T, V) one-hot matrix would cost V times more
// memory and FLOPs than copying B*T rows - the lookup IS that product, done sparsely.
//
// Backward is the same product's transpose, done sparsely too: d weight = one_hot^T @ g, i.e. each
// output row's gradient is ADDED into the row of the token it came from. A token that appears
// twice in a batch ("to be or not to be") gets two contributions - assigning instead of adding keeps
// only the last one, and the model silently learns less about its most frequent tokens.
//
// Attention (module 13) compares every token with every other and has no notion of order: "dog
// bites man" and "man bites dog" look the same to it. So a vector that depends on the position is
// added to each token's vector, either fixed (sinusoidal, Vaswani et al. 2017: any length, nothing
// to learn) or learned (GPT-2: one trained vector per position up to the context length).
//
// Ids are floats holding whole numbers, like cross_entropy's targets (the engine has one dtype;
// floats hold every integer up to 2^24 exactly).
//
// Who writes what: everything here is module 12 (engine/src/12_embeddings/), except [given].
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt {

// ids of any shape S (whole numbers in [0, V)), weight (V, D) -> S + (D): out[..., :] = weight[id].
// tt::Error naming the op, the offending id and its position, and V for an id out of range, not
// whole, or NaN; and for a weight that is not 2-D.
Tensor embedding(const Tensor& ids, const Tensor& weight);

// out = embedding(ids, weight)    d weight[ids[i]] += g[i] for every position i (inputs: weight)
struct EmbeddingBackward : Node {
    explicit EmbeddingBackward(Tensor ids) : ids(std::move(ids)) {}
    const char* name() const override { return "EmbeddingBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;  // the values of weight are not needed
    void backward(const Tensor& grad_out) override;
    Tensor ids;  // a contiguous copy of the ids, shape S
};

// (length, dim): row t is the encoding of position t. For i in [0, dim/2):
//     pe[t, 2i]     = sin(t / 10000^(2i / dim))
//     pe[t, 2i + 1] = cos(t / 10000^(2i / dim))
// (an odd dim ends with a sin column). Each pair of columns is a clock at its own frequency, from
// one turn every 2*pi positions down to one every 2*pi*10000: together they give every position a
// distinct code, and pe[t + k] is a rotation of pe[t] - a fixed linear function of it - so relative
// offsets are easy to learn. Computed in double, stored as float. length >= 0, dim >= 1.
Tensor sinusoidal_positions(int64_t length, int64_t dim);

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

// weight (num_embeddings, dim), initialised N(0, 1) as PyTorch's nn.Embedding (from `gen`, null:
// the default generator). forward(ids): S -> S + (dim).
class Embedding : public Module {
public:
    Embedding(int64_t num_embeddings, int64_t dim, Generator* gen = nullptr);
    Tensor forward(const Tensor& ids) override;
    std::string name() const override { return "Embedding"; }
    std::string extra_repr() const override;  // "65, 128"
    int64_t num_embeddings, dim;
    Tensor weight;
};

// Adds the fixed encodings: (B, T, dim) or (T, dim) -> same shape, x[..., t, :] + pe[t, :].
// pe (max_length, dim) is a buffer (saved in checkpoints, never trained). tt::Error naming T and
// max_length when T > max_length, and naming both sizes when the last dim is not dim.
class SinusoidalPositionalEncoding : public Module {
public:
    SinusoidalPositionalEncoding(int64_t max_length, int64_t dim);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "SinusoidalPositionalEncoding"; }
    std::string extra_repr() const override;  // "64, 128"
    int64_t max_length, dim;
    Tensor pe;  // (max_length, dim)
};

// Adds one learned vector per position: (B, T, dim) or (T, dim) -> same shape, x[..., t, :] +
// weight[t, :]. weight (max_length, dim) is a parameter initialised N(0, 1) from `gen` (a GPT
// re-initialises it). Errors as SinusoidalPositionalEncoding. Gradients reach weight rows 0..T-1
// (summed over the batch) and x.
class LearnedPositionalEmbedding : public Module {
public:
    LearnedPositionalEmbedding(int64_t max_length, int64_t dim, Generator* gen = nullptr);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "LearnedPositionalEmbedding"; }
    std::string extra_repr() const override;  // "64, 128"
    int64_t max_length, dim;
    Tensor weight;  // (max_length, dim)
};

// [given] Token ids as a tensor of shape (ids.size(),) holding them as floats, for embedding().
Tensor ids_tensor(const std::vector<int64_t>& ids);

}  // namespace tt
