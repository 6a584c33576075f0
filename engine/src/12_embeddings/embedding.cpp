// embedding.cpp - module 12: token embeddings (a lookup and its scatter-add backward) and the two
// kinds of positional encoding.
//
// Legend: V = vocabulary size (rows of the table), D = embedding width, S = the ids' shape (usually
// (B, T): B sequences of T tokens), n = numel(S) = how many ids there are.
//
//     weight (V, D)        ids (B, T) = [[2, 0, 2]]        out (B, T, D)
//       row 0: a b                                          [[ e f ]     <- row 2
//       row 1: c d            lookup                         [ a b ]     <- row 0
//       row 2: e f          --------->                       [ e f ]]    <- row 2
//
// Forward: out = one_hot(ids) @ weight, where one_hot(ids) is (n, V) with a single 1 per row. As a
// dense matmul that is 2 * n * V * D FLOPs and an (n, V) matrix of zeros to build; for the GPT of
// the milestone (n = 12 * 64 = 768, V = 65, D = 128) that is 12.8 MFLOPs, and for GPT-2 (V = 50257)
// it would be 10 GFLOPs and 154 MB of one-hot per batch. The lookup copies n rows of D floats:
// n * D * 4 bytes = 393 KB read and written, no arithmetic at all. Same result, V times less work.
//
// Backward: d weight = one_hot(ids)^T @ g, the transpose of the same product, done sparsely too:
// row i of g (the gradient of output i) is ADDED into row ids[i] of a zero (V, D) gradient. Rows of
// tokens absent from the batch stay zero - the gradient of a table is sparse - and a token that
// appears k times gets the sum of its k rows. The ids get no gradient: they are not differentiable
// (a token is 46 or 47, nothing in between).
//
// Positions: attention (module 13) sees its inputs as a set; adding a vector that depends on the
// position t makes "dog bites man" and "man bites dog" different inputs. Sinusoidal encodings are a
// fixed table (a buffer); learned ones are a parameter, one row per position, trained like any other
// weight.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

#include "tinytorch/autograd.h"
#include "tinytorch/embedding.h"
#include "tinytorch/errors.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] The multi-index of the flat (row-major) position `flat` in `shape`, for error messages:
//     position_str({2, 3}, 4) -> "[1, 1]"      position_str({}, 0) -> "[]"
[[maybe_unused]] std::string position_str(const Shape& shape, int64_t flat) {
    std::string text = "]";
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        const int64_t size = shape[static_cast<size_t>(d)];
        text = (d > 0 ? ", " : "") + std::to_string(size > 0 ? flat % size : 0) + text;
        if (size > 0) flat /= size;
    }
    return "[" + text;
}

// [given] Checks the input of a positional encoding: x (..., T, dim) with T <= max_length. `op`
// names the layer in the message. Returns T.
[[maybe_unused]] int64_t check_positions(const char* op, const Tensor& x, int64_t max_length, int64_t dim) {
    TT_CHECK(x.dim() >= 2, op, ": input of shape ", shape_str(x.shape()),
             " has no position dimension; expected (B, T, dim) or (T, dim) (a single position goes in as (1, dim))");
    TT_CHECK(x.size(-1) == dim, op, ": input of shape ", shape_str(x.shape()), " has last dimension ", x.size(-1),
             " but the layer was built with dim = ", dim, "; the embedding and the positions must have the same width");
    const int64_t T = x.size(-2);
    TT_CHECK(T <= max_length, op, ": sequence length T = ", T, " (input ", shape_str(x.shape()),
             ") is longer than max_length = ", max_length,
             "; crop the sequence to its last max_length tokens, or build the layer with a larger max_length");
    return T;
}

// [given] out = x + table[:T], the add both positional layers do (see add_positions below).
//     dx += g      d table[t] += sum of g[..., t, :] over every sequence of the batch (rows >= T: 0)
struct AddPositionsBackward : Node {
    const char* name() const override { return "AddPositionsBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;  // the formula needs only g
    void backward(const Tensor& grad_out) override;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// embedding: ids S -> S + (D)
// ---------------------------------------------------------------------------------------------

Tensor embedding(const Tensor& ids, const Tensor& weight) {
    Tensor out, index;
    //! BEGIN SOLUTION
    //! HINT: check weight is 2-D (V, D) with TT_CHECK; the message names embedding and the shape.
    //! HINT: index = ids.detach().clone(): a contiguous copy of the ids, read through whatever strides ids has (a transposed or sliced (B, T) view is common). The backward keeps it, so later writes into ids cannot change the gradient.
    //! HINT: check every id before using it as a row number: a NaN, a fraction (2.5 - do not round or truncate it) or a value outside [0, V) must throw, naming the id, its position (position_str(ids.shape(), i)) and V. Reading row V or row -1 reads memory that is not in the table.
    //! HINT: out = empty(ids.shape() + (D)); row i of out is row index[i] of the (contiguous) weight: std::memcpy of D floats, or a plain loop.
    TT_CHECK(weight.dim() == 2, "embedding: weight of shape ", shape_str(weight.shape()), " has ", weight.dim(),
             " dimensions; expected a table (num_embeddings, dim)");
    const int64_t V = weight.size(0), D = weight.size(1);
    index = ids.detach().clone();  // contiguous, shape S; the backward's own copy
    const float* id = index.data();
    const int64_t n = index.numel();
    for (int64_t i = 0; i < n; ++i) {
        // One test catches all three: NaN fails every comparison, and a fraction differs from its floor.
        const bool valid = id[i] >= 0.0f && id[i] < static_cast<float>(V) && id[i] == std::floor(id[i]);
        TT_CHECK(valid, "embedding: id ", id[i], " at position ", position_str(ids.shape(), i), " of ids ",
                 shape_str(ids.shape()), " is not a whole number in [0, ", V,
                 "); ids must be token numbers below num_embeddings = ", V,
                 " (check the tokenizer's vocabulary size against the table's)");
    }

    Shape out_shape = ids.shape();
    out_shape.push_back(D);
    out = empty(out_shape);
    const Tensor table = weight.detach().contiguous();  // (V, D): row v is D consecutive floats
    const float* rows = table.data();
    float* dst = out.data();
    for (int64_t i = 0; i < n; ++i)
        std::memcpy(dst + i * D, rows + static_cast<int64_t>(id[i]) * D, static_cast<size_t>(D) * sizeof(float));
    //! END SOLUTION
    return record<EmbeddingBackward>(out, {weight}, index);
}

// d weight[ids[i]] += g[i] for every position i: the gradient of each output row is added into
// the row of the token it was copied from.
void EmbeddingBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: g = grad_out.contiguous() is S + (D): n rows of D. dw = zeros(weight's shape (V, D)).
    //! HINT: for every position i, ADD row i of g into row ids[i] of dw (+=, not =): a token used twice gets both contributions.
    //! HINT: one accumulate_grad(weight, dw) at the end, not one per row: each call would add a whole (V, D) tensor.
    const Tensor& weight = inputs[0];
    if (!weight.requires_grad()) return;
    const int64_t D = weight.size(1), n = ids.numel();
    const Tensor g = grad_out.contiguous();  // (n, D) in memory
    Tensor dw = zeros(weight.shape());       // (V, D): rows of tokens not in the batch stay zero
    const float* id = ids.data();
    const float* src = g.data();
    float* d = dw.data();
    for (int64_t i = 0; i < n; ++i) {
        float* row = d + static_cast<int64_t>(id[i]) * D;
        const float* grad_row = src + i * D;
        for (int64_t j = 0; j < D; ++j) row[j] += grad_row[j];  // contiguous: the compiler vectorises it
    }
    accumulate_grad(weight, dw);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// sinusoidal_positions: (length, dim), pe[t, 2i] = sin(t * w_i), pe[t, 2i + 1] = cos(t * w_i),
// w_i = 10000^(-2i / dim)
// ---------------------------------------------------------------------------------------------

Tensor sinusoidal_positions(int64_t length, int64_t dim) {
    Tensor pe;
    //! BEGIN SOLUTION
    //! HINT: check length >= 0 and dim >= 1 (TT_CHECK naming sinusoidal_positions and the values).
    //! HINT: column pair i (columns 2i and 2i + 1) turns at the frequency w_i = 10000^(-2i / dim) = std::pow(10000.0, -2.0 * i / dim): the exponent is 2i / dim, the index of the EVEN column over dim.
    //! HINT: sin in the even column, cos in the odd one; with an odd dim the last column is even, so it is a sin with no cos beside it.
    //! HINT: compute in double (t * w_i reaches thousands of radians: a float angle would lose digits) and store as float.
    TT_CHECK(length >= 0, "sinusoidal_positions: length ", length, " must be at least 0");
    TT_CHECK(dim >= 1, "sinusoidal_positions: dim ", dim, " must be at least 1");
    pe = empty({length, dim});
    float* row = pe.data();
    for (int64_t t = 0; t < length; ++t, row += dim) {
        for (int64_t c = 0; c < dim; c += 2) {
            const double frequency = std::pow(10000.0, -static_cast<double>(c) / static_cast<double>(dim));
            const double angle = static_cast<double>(t) * frequency;
            row[c] = static_cast<float>(std::sin(angle));
            if (c + 1 < dim) row[c + 1] = static_cast<float>(std::cos(angle));
        }
    }
    //! END SOLUTION
    return pe;
}

// ---------------------------------------------------------------------------------------------
// Embedding: a (num_embeddings, dim) table, N(0, 1)
//
// Why N(0, 1) and not a small fan-in scale like Linear: a row is not summed with other rows - each
// output is exactly one row - so nothing grows with V. (GPTs then re-initialise it to N(0, 0.02^2),
// module 14, because the same table is the output layer's weight.)
// ---------------------------------------------------------------------------------------------

Embedding::Embedding(int64_t num_embeddings, int64_t dim, Generator* gen) : num_embeddings(num_embeddings), dim(dim) {
    //! BEGIN SOLUTION
    //! HINT: check both sizes are at least 1; weight = register_parameter("weight", tt::randn({num_embeddings, dim}, gen)).
    TT_CHECK(num_embeddings >= 1 && dim >= 1, "Embedding: num_embeddings and dim must be at least 1, got num_embeddings=",
             num_embeddings, ", dim=", dim);
    weight = register_parameter("weight", randn({num_embeddings, dim}, gen));
    //! END SOLUTION
}

Tensor Embedding::forward(const Tensor& ids) {
    //! BEGIN SOLUTION
    return embedding(ids, weight);
    //! END SOLUTION
}

std::string Embedding::extra_repr() const {
    //! BEGIN SOLUTION
    return std::to_string(num_embeddings) + ", " + std::to_string(dim);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// add_positions: x (..., T, D) + table[:T] -> (..., T, D), one fused op for both positional layers
//
// x + table.slice(0, 0, T) computes the same thing with module 02 ops, and autograd would
// differentiate it for free - at a price paid every training step: the broadcasting add's
// backward reduces g with the general sum_to_shape, the slice's backward allocates a table-sized
// zero tensor and copies into it, and the embedding's output is read and written several times.
// For the GPT's (12, 64, 128) activations that chain took ~95 us per step, forward and backward;
// these two plain loops over contiguous memory take about half of that.
// ---------------------------------------------------------------------------------------------

namespace {

// x (..., T, D), table (max_length >= T, D): shapes already checked by check_positions.
[[maybe_unused]] Tensor add_positions(const Tensor& x, const Tensor& table) {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: with x contiguous, x is `sequences` = numel / (T * D) blocks of T * D floats, one per sequence; rows 0..T-1 of a contiguous table are its first T * D floats.
    //! HINT: out = empty(x.shape()); out[s * T * D + i] = x[s * T * D + i] + table[i] for i < T * D: every sequence gets the same position vectors.
    const int64_t T = x.size(-2), D = x.size(-1), block = T * D;
    const int64_t sequences = block > 0 ? x.numel() / block : 0;
    const Tensor xs = x.detach().contiguous(), rows = table.detach().contiguous();
    out = empty(x.shape());
    const float* position = rows.data();  // (T, D): the first T rows
    for (int64_t s = 0; s < sequences; ++s) {
        const float* src = xs.data() + s * block;
        float* dst = out.data() + s * block;
        for (int64_t i = 0; i < block; ++i) dst[i] = src[i] + position[i];
    }
    //! END SOLUTION
    return record<AddPositionsBackward>(out, {x, table});
}

}  // namespace

void AddPositionsBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: x's gradient is g itself (the add passes it through): accumulate_grad(inputs[0], grad_out).
    //! HINT: the table's: d_table = zeros(table's shape); add every sequence's (T, D) block of g into its first T rows - a SUM over the batch (every sequence used the same rows), and rows T.. stay zero. One accumulate_grad at the end.
    const Tensor& x = inputs[0];
    const Tensor& table = inputs[1];
    accumulate_grad(x, grad_out);  // does nothing when x does not require grad
    if (!table.requires_grad()) return;
    const int64_t T = grad_out.size(-2), D = grad_out.size(-1), block = T * D;
    const int64_t sequences = block > 0 ? grad_out.numel() / block : 0;
    const Tensor g = grad_out.contiguous();
    Tensor d_table = zeros(table.shape());  // (max_length, D)
    float* d = d_table.data();
    for (int64_t s = 0; s < sequences; ++s) {
        const float* src = g.data() + s * block;
        for (int64_t i = 0; i < block; ++i) d[i] += src[i];
    }
    accumulate_grad(table, d_table);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// SinusoidalPositionalEncoding: x + pe[:T], pe a buffer
// ---------------------------------------------------------------------------------------------

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t max_length, int64_t dim)
    : max_length(max_length), dim(dim) {
    //! BEGIN SOLUTION
    //! HINT: check max_length >= 1 and dim >= 1, then pe = register_buffer("pe", sinusoidal_positions(max_length, dim)): a buffer is saved in checkpoints but has no gradient, so no optimizer ever changes it.
    TT_CHECK(max_length >= 1 && dim >= 1, "SinusoidalPositionalEncoding: max_length and dim must be at least 1, got max_length=",
             max_length, ", dim=", dim);
    pe = register_buffer("pe", sinusoidal_positions(max_length, dim));
    //! END SOLUTION
}

// x (B, T, dim) or (T, dim) -> same shape
Tensor SinusoidalPositionalEncoding::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    //! HINT: check_positions("SinusoidalPositionalEncoding", x, max_length, dim) checks the shape (T <= max_length, last dim == dim); then add_positions(x, pe).
    check_positions("SinusoidalPositionalEncoding", x, max_length, dim);
    return add_positions(x, pe);  // (B, T, dim) + pe[:T]; pe needs no gradient, so only x gets one
    //! END SOLUTION
}

std::string SinusoidalPositionalEncoding::extra_repr() const {
    //! BEGIN SOLUTION
    return std::to_string(max_length) + ", " + std::to_string(dim);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// LearnedPositionalEmbedding: x + weight[:T], weight a parameter
//
// The same as an Embedding looked up with ids 0, 1, ..., T-1 for every sequence - but those ids are
// known in advance and consecutive, so the lookup needs no ids: rows 0..T-1 are the first T * D
// floats of the table, and the backward's scatter-add becomes a sum over the batch into them.
// ---------------------------------------------------------------------------------------------

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_length, int64_t dim, Generator* gen)
    : max_length(max_length), dim(dim) {
    //! BEGIN SOLUTION
    //! HINT: check both sizes, then weight = register_parameter("weight", tt::randn({max_length, dim}, gen)).
    TT_CHECK(max_length >= 1 && dim >= 1, "LearnedPositionalEmbedding: max_length and dim must be at least 1, got max_length=",
             max_length, ", dim=", dim);
    weight = register_parameter("weight", randn({max_length, dim}, gen));
    //! END SOLUTION
}

// x (B, T, dim) or (T, dim) -> same shape
Tensor LearnedPositionalEmbedding::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    //! HINT: as SinusoidalPositionalEncoding, with this layer's own weight: position t gets row t, whatever T is.
    check_positions("LearnedPositionalEmbedding", x, max_length, dim);
    return add_positions(x, weight);  // (B, T, dim) + weight[:T]
    //! END SOLUTION
}

std::string LearnedPositionalEmbedding::extra_repr() const {
    //! BEGIN SOLUTION
    return std::to_string(max_length) + ", " + std::to_string(dim);
    //! END SOLUTION
}

}  // namespace tt
