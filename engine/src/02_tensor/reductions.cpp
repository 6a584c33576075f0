// reductions.cpp - module 02: sum, mean, max and argmax, over everything or along one dimension.
//
// The trick that makes every reduction one loop nest: a contiguous tensor reduced along `dim` is,
// in memory, a 3-D block
//
//     (outer, size, inner)     outer = product of the sizes before dim, inner = product after
//
// e.g. x: (2, 3, 4) reduced along dim 1 is (2, 3, 4) with outer 2, size 3, inner 4, and reduced over
// everything it is (1, 24, 1). The result is (outer, inner). Looping o, then k (the reduced index),
// then i (innermost) reads memory front to back and adds whole rows at a time, which vectorises;
// the "obvious" order - for each output element, walk k with a stride of `inner` - jumps through
// memory and is several times slower on large tensors.
//
// Sums accumulate in double. A float has 24 bits of mantissa: adding 1.0f to 16777216.0f gives
// 16777216.0f, so a float running total over millions of elements silently stops growing.
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// x seen as (outer, size, inner) around the reduced dimension, and the result's shape.
struct ReduceLayout {
    int64_t outer = 1;  // product of the sizes before dim
    int64_t size = 1;   // the reduced dimension (everything, when reducing over all elements)
    int64_t inner = 1;  // product of the sizes after dim
    Shape out_shape;    // without dim, or with a 1 there when keepdim; () when reducing over all
};

// dim: already wrapped (0 <= dim < x.dim()), or nullopt for "over every element".
//     x (2, 3, 4), dim 1, keepdim false -> outer 2, size 3, inner 4, out_shape (2, 4)
ReduceLayout reduce_layout(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
    ReduceLayout layout;
    //! BEGIN SOLUTION
    //! HINT: with no dim, the tensor is one row: outer 1, size numel, inner 1, and the result is 0-d.
    //! HINT: a 0-d tensor accepts dim 0 (wrap_dim allows it) and reduces to a 0-d result.
    if (!dim || x.dim() == 0) {
        layout.size = x.numel();
        return layout;  // out_shape () : a 0-d result
    }
    const int64_t d = *dim;
    for (int64_t i = 0; i < d; ++i) layout.outer *= x.shape()[i];
    layout.size = x.shape()[d];
    for (int64_t i = d + 1; i < x.dim(); ++i) layout.inner *= x.shape()[i];
    layout.out_shape = x.shape();
    if (keepdim) {
        layout.out_shape[d] = 1;
    } else {
        layout.out_shape.erase(layout.out_shape.begin() + d);
    }
    //! END SOLUTION
    return layout;
}

// out[o, i] = scale * sum_k x[o, k, i]. x: (outer, size, inner) -> out: layout.out_shape.
Tensor sum_kernel(const Tensor& x, const ReduceLayout& layout, double scale) {
    Tensor out = empty(layout.out_shape);
    //! BEGIN SOLUTION
    //! HINT: make x contiguous first (x.detach().contiguous(): a temporary, not a graph node); then element [o, k, i] is data[(o * size + k) * inner + i].
    //! HINT: loop o, then k, then i, adding row k into a double accumulator of length inner (allocated once, not per o).
    const Tensor c = x.detach().contiguous();
    const float* in = c.data();
    float* o = out.data();
    const int64_t outer = layout.outer, size = layout.size, inner = layout.inner;
    if (inner == 1) {  // the last dim, or everything: each result is one running total over a row
        for (int64_t b = 0; b < outer; ++b) {
            const float* row = in + b * size;  // (size,), contiguous
            double total = 0.0;
            for (int64_t k = 0; k < size; ++k) total += row[k];
            o[b] = static_cast<float>(total * scale);
        }
        return out;
    }
    std::vector<double> acc(inner);  // (inner,)
    for (int64_t b = 0; b < outer; ++b) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t k = 0; k < size; ++k) {
            const float* row = in + (b * size + k) * inner;  // (inner,), contiguous
            for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
        }
        for (int64_t i = 0; i < inner; ++i) o[b * inner + i] = static_cast<float>(acc[i] * scale);
    }
    //! END SOLUTION
    return out;
}

// values[o, i] = max_k x[o, k, i], indices[o, i] = the first k reaching it (as a float).
// x: (outer, size, inner) -> values, indices: layout.out_shape.
// NaN wins, as in PyTorch: a NaN among the values makes the maximum NaN, at the first NaN's index.
std::pair<Tensor, Tensor> max_kernel(const Tensor& x, const ReduceLayout& layout, const char* op) {
    TT_CHECK(layout.size > 0, op, ": cannot take the maximum over zero elements (shape ", shape_str(x.shape()),
             "): unlike sum, max has no value for nothing; reduce along a dimension of non-zero size");
    Tensor values = empty(layout.out_shape), indices = empty(layout.out_shape);
    //! BEGIN SOLUTION
    //! HINT: start from row k = 0 (values = that row, indices = 0), then compare every later row element by element.
    //! HINT: a strict > keeps the *first* maximum on ties, as PyTorch does.
    //! HINT: every comparison with NaN is false, so `v > best` never picks a NaN up; PyTorch's max returns NaN when there is one (at the first NaN): also take v when v is NaN and best is not.
    // v replaces the best so far when it is larger, or when it is the first NaN.
    const auto beats = [](float v, float best) { return v > best || (std::isnan(v) && !std::isnan(best)); };
    const Tensor c = x.detach().contiguous();
    const float* in = c.data();
    const int64_t outer = layout.outer, size = layout.size, inner = layout.inner;
    if (inner == 1) {  // the last dim (softmax's case), or everything: one scan per row
        for (int64_t b = 0; b < outer; ++b) {
            const float* row = in + b * size;  // (size,), contiguous
            int64_t where = 0;
            for (int64_t k = 1; k < size; ++k) {
                if (beats(row[k], row[where])) where = k;
            }
            values.data()[b] = row[where];
            indices.data()[b] = static_cast<float>(where);
        }
        return {values, indices};
    }
    for (int64_t b = 0; b < outer; ++b) {
        float* best = values.data() + b * inner;    // (inner,)
        float* where = indices.data() + b * inner;  // (inner,)
        const float* first = in + b * size * inner;
        for (int64_t i = 0; i < inner; ++i) {
            best[i] = first[i];
            where[i] = 0.0f;
        }
        for (int64_t k = 1; k < size; ++k) {
            const float* row = in + (b * size + k) * inner;
            for (int64_t i = 0; i < inner; ++i) {
                if (beats(row[i], best[i])) {
                    best[i] = row[i];
                    where[i] = static_cast<float>(k);
                }
            }
        }
    }
    //! END SOLUTION
    return {values, indices};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The ops: the layout, the kernel, then record() for the graph.
// ---------------------------------------------------------------------------------------------

// x: (..) -> ()
Tensor sum(const Tensor& x) {
    Tensor out = sum_kernel(x, reduce_layout(x, std::nullopt, false), 1.0);
    return record<SumBackward>(out, {x}, x.shape(), std::nullopt, false);
}

// x: (A, B, C), dim 1 -> (A, C), or (A, 1, C) with keepdim
Tensor sum(const Tensor& x, int64_t dim, bool keepdim) {
    const int64_t d = wrap_dim(dim, x.dim(), "sum");
    Tensor out = sum_kernel(x, reduce_layout(x, d, keepdim), 1.0);
    return record<SumBackward>(out, {x}, x.shape(), d, keepdim);
}

// The mean is the sum scaled by 1/n inside the kernel: no second pass, no temporary tensor.
// Over zero elements it is 0 * (1/0) = nan, as in PyTorch.
Tensor mean(const Tensor& x) {
    const ReduceLayout layout = reduce_layout(x, std::nullopt, false);
    Tensor out = sum_kernel(x, layout, 1.0 / static_cast<double>(layout.size));
    return record<MeanBackward>(out, {x}, x.shape(), std::nullopt, false);
}

Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
    const int64_t d = wrap_dim(dim, x.dim(), "mean");
    const ReduceLayout layout = reduce_layout(x, d, keepdim);
    Tensor out = sum_kernel(x, layout, 1.0 / static_cast<double>(layout.size));
    return record<MeanBackward>(out, {x}, x.shape(), d, keepdim);
}

// max saves where each maximum was: along a dim its backward sends the gradient there and nowhere
// else. Over everything it also keeps x (a view, no copy): the gradient is shared by every element
// equal to the maximum, as PyTorch does.
Tensor max(const Tensor& x) {
    auto [values, indices] = max_kernel(x, reduce_layout(x, std::nullopt, false), "max");
    return record<MaxBackward>(values, {x}, x.shape(), std::nullopt, false, indices, x.detach());
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
    const int64_t d = wrap_dim(dim, x.dim(), "max");
    auto [values, indices] = max_kernel(x, reduce_layout(x, d, keepdim), "max");
    return record<MaxBackward>(values, {x}, x.shape(), d, keepdim, indices, Tensor());
}

// Indices are not differentiable (they are integers stored as floats): no record().
// x: (..) -> (): the position in row-major order, as if x were flattened.
Tensor argmax(const Tensor& x) { return max_kernel(x, reduce_layout(x, std::nullopt, false), "argmax").second; }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
    const int64_t d = wrap_dim(dim, x.dim(), "argmax");
    return max_kernel(x, reduce_layout(x, d, keepdim), "argmax").second;
}

// The method forms: x.sum(1) reads better than tt::sum(x, 1) in a chain of ops.
Tensor Tensor::sum() const { return tt::sum(*this); }
Tensor Tensor::sum(int64_t dim, bool keepdim) const { return tt::sum(*this, dim, keepdim); }
Tensor Tensor::mean() const { return tt::mean(*this); }
Tensor Tensor::mean(int64_t dim, bool keepdim) const { return tt::mean(*this, dim, keepdim); }
Tensor Tensor::max() const { return tt::max(*this); }
Tensor Tensor::max(int64_t dim, bool keepdim) const { return tt::max(*this, dim, keepdim); }
Tensor Tensor::argmax() const { return tt::argmax(*this); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const { return tt::argmax(*this, dim, keepdim); }

}  // namespace tt
