// tensor.cpp - module 02: what a tensor *is*. Storage, shape, strides and offset; factories; views
// that never copy; and the few in-place writes an optimizer needs.
//
// The one idea behind this whole file: an element's position in memory is
//
//     storage[offset + i0 * strides[0] + i1 * strides[1] + ...]
//
// so transpose, slice, select, squeeze, unsqueeze and expand are O(1): they compute a new
// (shape, strides, offset) over the *same* storage. A view of a 1 GB tensor costs a few bytes.
// The price is paid later, by code that walks memory: a transposed tensor is read column by
// column, which is slow for the cache, and that is what contiguous() is for.
//
// Every view ends with `record<...>(out, {*this}, ...)`: a view is differentiable too (its
// backward node moves the gradient back into the input's layout, module 06).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "tinytorch/autograd.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// Calls f(dst_position, src_position) for every element of `shape`, in row-major (logical) order,
// where each position is a storage index: offset + sum(index[d] * strides[d]). The two layouts
// describe the same logical shape, e.g. a transposed source and a fresh contiguous destination.
//     shape (2, 3), dst strides (3, 1), src strides (1, 2): f(0,0) f(1,2) f(2,4) f(3,1) f(4,3) f(5,5)
// Every copy, fill and in-place update in this file goes through here.
template <class F>
void for_each_pair(const Shape& shape, const Strides& dst_strides, int64_t dst_offset, const Strides& src_strides,
                   int64_t src_offset, F f) {
    //! BEGIN SOLUTION
    //! HINT: keep a multi-index (one counter per dimension, allocated once) and advance it like an odometer.
    //! HINT: when index[d] moves by one, the storage position moves by strides[d]; when it wraps to 0, it moves back by (size - 1) * strides[d].
    const int64_t total = numel(shape);
    if (total == 0) return;
    const int64_t ndim = static_cast<int64_t>(shape.size());
    if (ndim == 0) {  // a 0-d tensor: one element at the offset
        f(dst_offset, src_offset);
        return;
    }
    // The last dimension is walked by a plain inner loop (the hot part); the dimensions before it
    // advance like an odometer. Positions are updated incrementally: no multiplication per element.
    const int64_t inner = shape[ndim - 1];
    const int64_t dst_step = dst_strides[ndim - 1], src_step = src_strides[ndim - 1];
    std::vector<int64_t> index(ndim, 0);  // one allocation per call, never per element
    int64_t dst = dst_offset, src = src_offset;
    for (int64_t done = 0; done < total; done += inner) {
        for (int64_t j = 0; j < inner; ++j) f(dst + j * dst_step, src + j * src_step);
        for (int64_t d = ndim - 2; d >= 0; --d) {
            dst += dst_strides[d];
            src += src_strides[d];
            if (++index[d] < shape[d]) break;
            dst -= shape[d] * dst_strides[d];  // wrap this digit back to 0, carry into d - 1
            src -= shape[d] * src_strides[d];
            index[d] = 0;
        }
    }
    //! END SOLUTION
}

// In-place ops change memory behind the graph's back: if `w` requires grad and some op already
// saved it for backward, overwriting it would make that backward silently wrong. PyTorch refuses
// in-place writes to such leaves unless grad mode is off, which is exactly how an optimizer works:
//     { tt::NoGradGuard no_grad; w.add_(w.grad(), -lr); }
// Writing into an expanded tensor (stride 0) is refused too: many elements share one float (a
// tensor with no elements has nothing to write, whatever its strides). Every in-place op then ends
// with t.bump_version(), which lets autograd notice a write into a tensor a node saved (autograd.h).
void check_in_place(const Tensor& t, const char* op) {
    TT_CHECK(!(is_grad_enabled() && t.is_leaf() && t.requires_grad()), op,
             ": cannot modify a leaf tensor that requires grad in place (shape ", shape_str(t.shape()),
             "): the graph would not see the change. Do the update under tt::NoGradGuard, or on w.detach()");
    if (t.numel() == 0) return;
    for (int64_t d = 0; d < t.dim(); ++d) {
        TT_CHECK(!(t.shape()[d] > 1 && t.strides()[d] == 0), op, ": cannot write in place into an expanded tensor of shape ",
                 shape_str(t.shape()), " (dimension ", d, " has stride 0, so its elements share memory); call clone() first");
    }
}

// -1 in a requested shape means "whatever size makes the element count match".
//     infer_shape({-1, 4}, 12, "view") == (3, 4)
Shape infer_shape(const Shape& requested, int64_t total, const char* op) {
    Shape shape = requested;
    //! BEGIN SOLUTION
    //! HINT: multiply the known sizes; at most one size may be -1, and it becomes total / known.
    int64_t known = 1;
    int64_t infer_at = -1;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == -1) {
            TT_CHECK(infer_at < 0, op, ": only one dimension can be -1, got ", shape_str(requested));
            infer_at = static_cast<int64_t>(d);
        } else {
            TT_CHECK(shape[d] >= 0, op, ": invalid size ", shape[d], " in shape ", shape_str(requested));
            known *= shape[d];
        }
    }
    if (infer_at >= 0) {
        TT_CHECK(known != 0 && total % known == 0, op, ": cannot infer the -1 in ", shape_str(requested), " for ", total,
                 " elements");
        shape[infer_at] = total / known;
        known *= shape[infer_at];
    }
    TT_CHECK(known == total, op, ": shape ", shape_str(requested), " has ", known, " elements, but the tensor has ", total);
    //! END SOLUTION
    return shape;
}

// The strides that let the memory of (old_shape, old_strides) be read as new_shape without a copy,
// or nothing when no such strides exist. This is the heart of view():
//   (2, 3) contiguous     -> (3, 2) or (6,) : fine, the memory is one run of 6 floats.
//   (3, 2) = (2, 3).t()   -> (6,)           : impossible, the row-major order of the transpose
//                                             jumps around in memory; reshape() must copy.
// Old dimensions that follow each other in memory (strides[d] == strides[d+1] * shape[d+1]) form a
// "chunk" that behaves like one long dimension; every chunk must be cut exactly by new dimensions.
std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides, const Shape& new_shape) {
    //! BEGIN SOLUTION
    //! HINT: first split the old dims into chunks that are contiguous with each other (walk from the last dim).
    //! HINT: then take new dims from the right until their product equals the chunk's element count; inside the chunk their strides are chunk_stride * (product of the new sizes to their right).
    //! HINT: a size-1 dimension may have any stride; a tensor with no elements may have any strides.
    if (numel(old_shape) == 0 || old_shape.empty()) return contiguous_strides(new_shape);
    Strides new_strides(new_shape.size(), 1);
    int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
    int64_t chunk_stride = old_strides.back();  // stride of the last (fastest) dim of the current chunk
    int64_t chunk_numel = 1, view_numel = 1;
    for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
        chunk_numel *= old_shape[d];
        // The chunk ends at d when d is the first dim, or dim d-1 does not follow d in memory.
        const bool chunk_ends = d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != chunk_numel * chunk_stride);
        if (!chunk_ends) continue;
        while (view_d >= 0 && (view_numel < chunk_numel || new_shape[view_d] == 1)) {
            new_strides[view_d] = view_numel * chunk_stride;
            view_numel *= new_shape[view_d];
            --view_d;
        }
        if (view_numel != chunk_numel) return std::nullopt;  // a new dim would straddle two chunks
        if (d > 0) {
            chunk_stride = old_strides[d - 1];
            chunk_numel = 1;
            view_numel = 1;
        }
    }
    if (view_d != -1) return std::nullopt;
    return new_strides;
    //! END SOLUTION
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shape helpers
// ---------------------------------------------------------------------------------------------

// (2, 3, 4) -> (12, 4, 1): moving one step along dim d skips everything to its right.
// (2, 0) -> (1, 1): a size of 0 counts as 1, as in PyTorch, so no stride is ever 0 by accident (a
// stride of 0 means "broadcast", and in-place writes into such a tensor are refused).
Strides contiguous_strides(const Shape& shape) {
    Strides strides(shape.size());
    //! BEGIN SOLUTION
    //! HINT: the last dimension has stride 1; each dimension's stride is the next one's stride times the next one's size.
    //! HINT: multiply by max(size, 1), not size: zeros({2, 0}) must get strides (1, 1) like torch.zeros(2, 0), not (0, 1).
    int64_t step = 1;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        strides[d] = step;
        step *= std::max<int64_t>(shape[d], 1);
    }
    //! END SOLUTION
    return strides;
}

// (4, 1, 3) and (2, 1) -> (4, 2, 3). Align on the right; a missing dimension counts as size 1.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    Shape out(std::max(a.size(), b.size()));
    //! BEGIN SOLUTION
    //! HINT: walk from the last dimension of both shapes; a shape that has run out of dimensions has size 1 there.
    //! HINT: equal sizes stay; a size 1 stretches to the other size; anything else is an error naming op and both shapes.
    const int64_t n = static_cast<int64_t>(out.size());
    for (int64_t i = 0; i < n; ++i) {  // i counts dimensions from the right
        const int64_t da = static_cast<int64_t>(a.size()) - 1 - i, db = static_cast<int64_t>(b.size()) - 1 - i;
        const int64_t sa = da >= 0 ? a[da] : 1;
        const int64_t sb = db >= 0 ? b[db] : 1;
        TT_CHECK(sa == sb || sa == 1 || sb == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                 " cannot be broadcast: sizes ", sa, " and ", sb, " at dimension ", n - 1 - i,
                 " of the result differ and neither is 1");
        out[n - 1 - i] = sa == 1 ? sb : sa;
    }
    //! END SOLUTION
    return out;
}

// ---------------------------------------------------------------------------------------------
// Element access
// ---------------------------------------------------------------------------------------------

bool Tensor::is_contiguous() const {
    //! BEGIN SOLUTION
    //! HINT: compare with contiguous_strides(shape()), but skip dimensions of size 1: their stride is never used.
    if (numel() == 0) return true;
    int64_t expected = 1;
    for (int64_t d = dim() - 1; d >= 0; --d) {
        if (shape()[d] != 1 && strides()[d] != expected) return false;
        expected *= shape()[d];
    }
    return true;
    //! END SOLUTION
}

float Tensor::item() const {
    //! BEGIN SOLUTION
    TT_CHECK(numel() == 1, "item: only a one-element tensor has a single value, this one has shape ", shape_str(shape()),
             " (", numel(), " elements); use at({...}) or reduce it first, e.g. x.sum().item()");
    return data()[0];
    //! END SOLUTION
}

namespace {
// Storage position of a full index, each entry wrapped (-1 is the last) and range-checked.
int64_t position_of(const Tensor& t, const std::vector<int64_t>& index, const char* op) {
    //! BEGIN SOLUTION
    TT_CHECK(static_cast<int64_t>(index.size()) == t.dim(), op, ": index has ", index.size(), " entries but the tensor of shape ",
             shape_str(t.shape()), " has ", t.dim(), " dimensions");
    int64_t position = t.offset();
    for (int64_t d = 0; d < t.dim(); ++d) {
        const int64_t size = t.shape()[d];
        const int64_t i = index[d] < 0 ? index[d] + size : index[d];
        TT_CHECK(i >= 0 && i < size, op, ": index ", index[d], " is out of range for dimension ", d, " of size ", size,
                 " (shape ", shape_str(t.shape()), ")");
        position += i * t.strides()[d];
    }
    return position;
    //! END SOLUTION
}
}  // namespace

float Tensor::at(const std::vector<int64_t>& index) const { return storage()->data[position_of(*this, index, "at")]; }

void Tensor::set(const std::vector<int64_t>& index, float value) {
    storage()->data[position_of(*this, index, "set")] = value;
    bump_version();
}

std::vector<float> Tensor::to_vector() const {
    std::vector<float> values(numel());
    //! BEGIN SOLUTION
    //! HINT: the destination is a row-major (contiguous) layout of the same shape: walk both with for_each_pair.
    if (is_contiguous()) {
        std::copy(data(), data() + numel(), values.begin());  // one straight memory copy
        return values;
    }
    const float* src = storage()->data.data();
    for_each_pair(shape(), contiguous_strides(shape()), 0, strides(), offset(),
                  [&](int64_t d, int64_t s) { values[d] = src[s]; });
    //! END SOLUTION
    return values;
}

// ---------------------------------------------------------------------------------------------
// Factories
// ---------------------------------------------------------------------------------------------

// Every factory goes through here: one allocation, row-major strides, offset 0.
Tensor empty(const Shape& shape) {
    //! BEGIN SOLUTION
    for (int64_t size : shape) TT_CHECK(size >= 0, "empty: negative size ", size, " in shape ", shape_str(shape));
    auto storage = std::make_shared<Storage>();
    storage->data.resize(numel(shape));  // std::vector zero-fills: "uninitialised" is zeros here
    return Tensor(std::move(storage), shape, contiguous_strides(shape), 0);
    //! END SOLUTION
}

Tensor zeros(const Shape& shape) { return empty(shape); }  // empty() already zero-fills

Tensor ones(const Shape& shape) { return full(shape, 1.0f); }

Tensor full(const Shape& shape, float value) {
    //! BEGIN SOLUTION
    Tensor out = empty(shape);
    std::fill(out.data(), out.data() + out.numel(), value);
    return out;
    //! END SOLUTION
}

Tensor scalar(float value) { return full({}, value); }  // shape (): zero dimensions, one element

Tensor from_vector(const std::vector<float>& data, const Shape& shape) {
    //! BEGIN SOLUTION
    Tensor out = empty(shape);
    TT_CHECK(static_cast<int64_t>(data.size()) == out.numel(), "from_vector: ", data.size(), " values cannot fill shape ",
             shape_str(shape), " (", out.numel(), " elements)");
    std::copy(data.begin(), data.end(), out.data());
    return out;
    //! END SOLUTION
}

Tensor tensor(std::initializer_list<float> values) {
    return from_vector(std::vector<float>(values), {static_cast<int64_t>(values.size())});
}

Tensor tensor(std::initializer_list<std::initializer_list<float>> rows) {
    //! BEGIN SOLUTION
    //! HINT: every row must have as many values as the first one; append them row after row.
    const int64_t n_rows = static_cast<int64_t>(rows.size());
    const int64_t n_cols = n_rows == 0 ? 0 : static_cast<int64_t>(rows.begin()->size());
    std::vector<float> values;
    values.reserve(n_rows * n_cols);
    int64_t r = 0;
    for (const auto& row : rows) {
        TT_CHECK(static_cast<int64_t>(row.size()) == n_cols, "tensor: row ", r, " has ", row.size(), " values but row 0 has ",
                 n_cols, "; every row of a 2-D tensor needs the same length");
        values.insert(values.end(), row.begin(), row.end());
        ++r;
    }
    return from_vector(values, {n_rows, n_cols});
    //! END SOLUTION
}

Tensor arange(double end) { return arange(0.0, end, 1.0); }

// arange(0, 1, 0.1): ceil(1 / 0.1) = 10 values, 0, 0.1, ..., 0.9, each computed as 0 + i * 0.1.
Tensor arange(double start, double end, double step) {
    //! BEGIN SOLUTION
    //! HINT: the count is ceil((end - start) / step), in double (as torch.arange); check the step is not 0 and the sign is right.
    //! HINT: compute each value as start + i * step, in double, then round it to float; adding step to a running float total accumulates rounding error (20000 steps of 0.1 from -500 drift by 0.2).
    TT_CHECK(step != 0.0, "arange: step must not be 0");
    const double count = std::ceil((end - start) / step);
    TT_CHECK(count >= 0, "arange: cannot go from ", start, " to ", end, " with step ", step, " (wrong sign)");
    Tensor out = empty({static_cast<int64_t>(count)});
    float* o = out.data();
    for (int64_t i = 0; i < out.numel(); ++i) o[i] = static_cast<float>(start + static_cast<double>(i) * step);
    return out;
    //! END SOLUTION
}

Tensor rand(const Shape& shape, Generator* gen) {
    //! BEGIN SOLUTION
    //! HINT: Generator& g = gen ? *gen : default_generator(); then one g.uniform() per element, in row-major order.
    Generator& g = gen ? *gen : default_generator();
    Tensor out = empty(shape);
    float* o = out.data();
    for (int64_t i = 0; i < out.numel(); ++i) o[i] = g.uniform();
    return out;
    //! END SOLUTION
}

Tensor randn(const Shape& shape, Generator* gen) {
    //! BEGIN SOLUTION
    Generator& g = gen ? *gen : default_generator();
    Tensor out = empty(shape);
    float* o = out.data();
    for (int64_t i = 0; i < out.numel(); ++i) o[i] = g.normal();
    return out;
    //! END SOLUTION
}

Tensor zeros_like(const Tensor& t) { return zeros(t.shape()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape()); }
Tensor full_like(const Tensor& t, float value) { return full(t.shape(), value); }

// ---------------------------------------------------------------------------------------------
// Views: a new (shape, strides, offset) over the same storage. O(1), no element is copied.
// ---------------------------------------------------------------------------------------------

// x: (2, 3) -> view({3, 2}) or view({-1}): only when the strides can express it (see view_strides).
Tensor Tensor::view(const Shape& shape) const {
    const Shape new_shape = infer_shape(shape, numel(), "view");
    const std::optional<Strides> new_strides = view_strides(this->shape(), strides(), new_shape);
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: no strides means the memory cannot be reinterpreted: throw an error that names view, both shapes, and the fix (reshape or contiguous).
    TT_CHECK(new_strides.has_value(), "view: cannot view a tensor of shape ", shape_str(this->shape()), " and strides ",
             shape_str(strides()), " as ", shape_str(new_shape), " without copying; use reshape(), or call contiguous() first");
    out = Tensor(storage(), new_shape, *new_strides, offset());
    //! END SOLUTION
    return record<ReshapeBackward>(out, {*this}, this->shape());
}

// Like view, but copies (once) when the layout cannot be reinterpreted, e.g. a transpose flattened.
Tensor Tensor::reshape(const Shape& shape) const {
    const Shape new_shape = infer_shape(shape, numel(), "reshape");
    const std::optional<Strides> new_strides = view_strides(this->shape(), strides(), new_shape);
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: with strides, it is a view. Without, copy into a fresh row-major block (clone) and give it contiguous strides.
    if (new_strides) {
        out = Tensor(storage(), new_shape, *new_strides, offset());
    } else {
        Tensor copy = detach().clone();  // detach: this copy is an internal step, not a graph node
        out = Tensor(copy.storage(), new_shape, contiguous_strides(new_shape), 0);
    }
    //! END SOLUTION
    return record<ReshapeBackward>(out, {*this}, this->shape());
}

// x: (A, B, C).transpose(0, 2) -> (C, B, A). Swapping two strides is the whole trick.
Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
    const int64_t d0 = wrap_dim(dim0, dim(), "transpose"), d1 = wrap_dim(dim1, dim(), "transpose");
    std::vector<int64_t> dims(dim());
    std::iota(dims.begin(), dims.end(), 0);
    if (dim() > 0) std::swap(dims[d0], dims[d1]);  // the permutation this transpose performs
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: same storage and offset; swap entries d0 and d1 of both the shape and the strides.
    Shape new_shape = shape();
    Strides new_strides = strides();
    if (dim() > 0) {
        std::swap(new_shape[d0], new_shape[d1]);
        std::swap(new_strides[d0], new_strides[d1]);
    }
    out = Tensor(storage(), new_shape, new_strides, offset());
    //! END SOLUTION
    return record<PermuteBackward>(out, {*this}, dims);
}

Tensor Tensor::t() const {
    TT_CHECK(dim() == 2, "t: expects a 2-D tensor, got shape ", shape_str(shape()), "; use transpose(dim0, dim1) or permute()");
    return transpose(0, 1);
}

// x: (N, C, H, W).permute({0, 2, 3, 1}) -> (N, H, W, C): dimension i of the result is dims[i] of x.
Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
    std::vector<int64_t> wrapped(dims.size());
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: wrap every entry with wrap_dim; each dimension must appear exactly once.
    //! HINT: new_shape[i] = shape()[wrapped[i]], and the same for strides.
    TT_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: ", dims.size(), " dims given for a tensor of shape ",
             shape_str(shape()), "; list every dimension once");
    std::vector<bool> seen(dims.size(), false);
    Shape new_shape(dims.size());
    Strides new_strides(dims.size());
    for (size_t i = 0; i < dims.size(); ++i) {
        wrapped[i] = wrap_dim(dims[i], dim(), "permute");
        TT_CHECK(!seen[wrapped[i]], "permute: dimension ", wrapped[i], " appears twice in ", shape_str(dims));
        seen[wrapped[i]] = true;
        new_shape[i] = shape()[wrapped[i]];
        new_strides[i] = strides()[wrapped[i]];
    }
    out = Tensor(storage(), new_shape, new_strides, offset());
    //! END SOLUTION
    return record<PermuteBackward>(out, {*this}, wrapped);
}

// x: (10,).slice(0, 2, 8, 3) -> elements 2 and 5: offset moves to element 2, the stride triples.
Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
    TT_CHECK(this->dim() > 0, "slice: cannot slice a 0-d tensor");
    const int64_t d = wrap_dim(dim, this->dim(), "slice");
    TT_CHECK(step > 0, "slice: step must be positive, got ", step);
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: as in Python: a negative start/end adds size, then both are clamped to [0, size], and end < start means empty.
    //! HINT: the result has ceil((end - start) / step) elements; the offset moves by start * strides[d], the stride becomes strides[d] * step.
    const int64_t size = shape()[d];
    start = std::clamp(start < 0 ? start + size : start, int64_t{0}, size);
    end = std::clamp(end < 0 ? end + size : end, int64_t{0}, size);
    end = std::max(end, start);
    Shape new_shape = shape();
    Strides new_strides = strides();
    new_shape[d] = (end - start + step - 1) / step;
    new_strides[d] = strides()[d] * step;
    out = Tensor(storage(), new_shape, new_strides, offset() + start * strides()[d]);
    //! END SOLUTION
    return record<SliceBackward>(out, {*this}, shape(), d, start, end, step);
}

// x: (4, 5).select(0, 2) -> (5,), row 2; index -1 is the last row.
Tensor Tensor::select(int64_t dim, int64_t index) const {
    TT_CHECK(this->dim() > 0, "select: cannot select from a 0-d tensor");
    const int64_t d = wrap_dim(dim, this->dim(), "select");
    const int64_t size = shape()[d];
    TT_CHECK(index >= -size && index < size, "select: index ", index, " is out of range for dimension ", d, " of size ", size,
             " (shape ", shape_str(shape()), ")");
    if (index < 0) index += size;
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: move the offset by index * strides[d], then erase dimension d from both shape and strides.
    Shape new_shape = shape();
    Strides new_strides = strides();
    new_shape.erase(new_shape.begin() + d);
    new_strides.erase(new_strides.begin() + d);
    out = Tensor(storage(), new_shape, new_strides, offset() + index * strides()[d]);
    //! END SOLUTION
    return record<SelectBackward>(out, {*this}, shape(), d, index);
}

// (1, 3, 1, 2) -> (3, 2)
Tensor Tensor::squeeze() const {
    Tensor out;
    //! BEGIN SOLUTION
    Shape new_shape;
    Strides new_strides;
    for (int64_t d = 0; d < dim(); ++d) {
        if (shape()[d] == 1) continue;
        new_shape.push_back(shape()[d]);
        new_strides.push_back(strides()[d]);
    }
    out = Tensor(storage(), new_shape, new_strides, offset());
    //! END SOLUTION
    return record<ReshapeBackward>(out, {*this}, shape());
}

// (3, 1, 2).squeeze(1) -> (3, 2); squeeze(0) leaves it (3, 1, 2), as in PyTorch.
Tensor Tensor::squeeze(int64_t dim) const {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: wrap_dim(dim, this->dim(), "squeeze") turns -1 into the last dim and rejects a dim out of range.
    const int64_t d = wrap_dim(dim, this->dim(), "squeeze");
    Shape new_shape = shape();
    Strides new_strides = strides();
    if (this->dim() > 0 && shape()[d] == 1) {
        new_shape.erase(new_shape.begin() + d);
        new_strides.erase(new_strides.begin() + d);
    }
    out = Tensor(storage(), new_shape, new_strides, offset());
    //! END SOLUTION
    return record<ReshapeBackward>(out, {*this}, shape());
}

// (3, 2).unsqueeze(0) -> (1, 3, 2); unsqueeze(-1) -> (3, 2, 1). The inverse of squeeze(dim).
Tensor Tensor::unsqueeze(int64_t dim) const {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: there are dim() + 1 places to insert at: wrap with wrap_dim(dim, this->dim() + 1, "unsqueeze").
    const int64_t d = wrap_dim(dim, this->dim() + 1, "unsqueeze");
    //! HINT: a size-1 dimension is never stepped along, so its stride does not matter; pick one that keeps is_contiguous() true.
    Shape new_shape = shape();
    Strides new_strides = strides();
    const int64_t stride = d < this->dim() ? shape()[d] * strides()[d] : 1;
    new_shape.insert(new_shape.begin() + d, 1);
    new_strides.insert(new_strides.begin() + d, stride);
    out = Tensor(storage(), new_shape, new_strides, offset());
    //! END SOLUTION
    return record<ReshapeBackward>(out, {*this}, shape());
}

// (3, 1).expand({2, 3, 4}) -> (2, 3, 4) with strides (0, 1, 0): the one column is re-read 8 times.
// This is broadcasting made visible: no memory is allocated for the repeated values. -1 keeps a size.
Tensor Tensor::expand(const Shape& shape) const {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: align the shapes on the right. New leading dims, and dims of size 1 that grow, get stride 0.
    //! HINT: any other size change is an error that names both shapes.
    const int64_t n = static_cast<int64_t>(shape.size()), lead = n - dim();
    TT_CHECK(lead >= 0, "expand: cannot expand shape ", shape_str(this->shape()), " to ", shape_str(shape),
             ": the target has fewer dimensions");
    Shape new_shape(n);
    Strides new_strides(n);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t old_d = i - lead;  // the matching dimension of this tensor, < 0 if new
        const int64_t old_size = old_d >= 0 ? this->shape()[old_d] : 1;
        const int64_t size = shape[i] == -1 && old_d >= 0 ? old_size : shape[i];
        TT_CHECK(size >= 0, "expand: invalid size ", shape[i], " in ", shape_str(shape));
        TT_CHECK(size == old_size || old_size == 1, "expand: cannot expand shape ", shape_str(this->shape()), " to ",
                 shape_str(shape), ": dimension ", old_d, " has size ", old_size, ", and only sizes of 1 can grow");
        new_shape[i] = size;
        new_strides[i] = old_d >= 0 && old_size == size ? strides()[old_d] : 0;
    }
    out = Tensor(storage(), new_shape, new_strides, offset());
    //! END SOLUTION
    return record<ExpandBackward>(out, {*this}, this->shape());
}

// (N, C, H, W).flatten(1) -> (N, C*H*W): merges dims start_dim..end_dim, copying only if reshape must.
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
    if (dim() == 0) return reshape({1});
    const int64_t start = wrap_dim(start_dim, dim(), "flatten"), end = wrap_dim(end_dim, dim(), "flatten");
    TT_CHECK(start <= end, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim, " for shape ", shape_str(shape()));
    Shape new_shape;
    //! BEGIN SOLUTION
    //! HINT: keep the sizes before start and after end; in between put their product. reshape() records the graph.
    new_shape.assign(shape().begin(), shape().begin() + start);
    int64_t merged = 1;
    for (int64_t d = start; d <= end; ++d) merged *= shape()[d];
    new_shape.push_back(merged);
    new_shape.insert(new_shape.end(), shape().begin() + end + 1, shape().end());
    //! END SOLUTION
    return reshape(new_shape);
}

// ---------------------------------------------------------------------------------------------
// Copies
// ---------------------------------------------------------------------------------------------

// A contiguous tensor is returned as is (no copy, no graph node): kernels call this freely and
// only pay when the layout is actually scattered (transposed, sliced with a step, expanded).
Tensor Tensor::contiguous() const {
    //! BEGIN SOLUTION
    //! HINT: returning *this is the whole point when the layout is already row-major; clone() otherwise.
    if (is_contiguous()) return *this;
    return clone();
    //! END SOLUTION
}

// A fresh row-major copy. Reading a transposed source jumps through memory, writing is sequential.
Tensor Tensor::clone() const {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: allocate with empty(shape()), then copy element by element with for_each_pair (destination layout: contiguous).
    out = empty(shape());
    if (is_contiguous()) {
        std::copy(data(), data() + numel(), out.data());  // fast path: one straight memory copy
    } else {
        float* dst = out.storage()->data.data();
        const float* src = storage()->data.data();
        for_each_pair(shape(), out.strides(), 0, strides(), offset(), [&](int64_t d, int64_t s) { dst[d] = src[s]; });
    }
    //! END SOLUTION
    return record<CloneBackward>(out, {*this});
}

// ---------------------------------------------------------------------------------------------
// In-place ops: write through this tensor's layout (views included), never record a graph, and end
// with bump_version() so that autograd can tell when a tensor it saved for backward was changed.
// ---------------------------------------------------------------------------------------------

Tensor& Tensor::fill_(float value) {
    check_in_place(*this, "fill_");
    //! BEGIN SOLUTION
    //! HINT: a view only owns some of its storage: write through its strides, not over the whole storage vector.
    float* base = storage()->data.data();
    for_each_pair(shape(), strides(), offset(), strides(), offset(), [&](int64_t d, int64_t) { base[d] = value; });
    //! END SOLUTION
    bump_version();
    return *this;
}

Tensor& Tensor::zero_() { return fill_(0.0f); }

// this[...] = src[...], src broadcast to this shape: x.copy_(tt::scalar(3)) fills x with 3.
Tensor& Tensor::copy_(const Tensor& src) {
    check_in_place(*this, "copy_");
    //! BEGIN SOLUTION
    //! HINT: src.detach().expand(shape()) gives src's strides in this shape (stride 0 where it broadcasts).
    //! HINT: if src shares this storage (x.copy_(x.t())), copy src first or you read values you already overwrote.
    TT_CHECK(broadcast_shapes(shape(), src.shape(), "copy_") == shape(), "copy_: source of shape ", shape_str(src.shape()),
             " does not broadcast to the destination shape ", shape_str(shape()));
    Tensor source = src.storage() == storage() ? src.detach().clone() : src.detach();
    Tensor expanded = source.expand(shape());
    float* dst = storage()->data.data();
    const float* from = expanded.storage()->data.data();
    for_each_pair(shape(), strides(), offset(), expanded.strides(), expanded.offset(),
                  [&](int64_t d, int64_t s) { dst[d] = from[s]; });
    //! END SOLUTION
    bump_version();
    return *this;
}

// this += alpha * other (other broadcast to this shape). The optimizer's step: w.add_(grad, -lr).
Tensor& Tensor::add_(const Tensor& other, float alpha) {
    check_in_place(*this, "add_");
    //! BEGIN SOLUTION
    TT_CHECK(broadcast_shapes(shape(), other.shape(), "add_") == shape(), "add_: operand of shape ", shape_str(other.shape()),
             " does not broadcast to the destination shape ", shape_str(shape()));
    Tensor source = other.storage() == storage() ? other.detach().clone() : other.detach();
    Tensor expanded = source.expand(shape());
    float* dst = storage()->data.data();
    const float* from = expanded.storage()->data.data();
    for_each_pair(shape(), strides(), offset(), expanded.strides(), expanded.offset(),
                  [&](int64_t d, int64_t s) { dst[d] += alpha * from[s]; });
    //! END SOLUTION
    bump_version();
    return *this;
}

Tensor& Tensor::mul_(float value) {
    check_in_place(*this, "mul_");
    //! BEGIN SOLUTION
    float* base = storage()->data.data();
    for_each_pair(shape(), strides(), offset(), strides(), offset(), [&](int64_t d, int64_t) { base[d] *= value; });
    //! END SOLUTION
    bump_version();
    return *this;
}

}  // namespace tt
