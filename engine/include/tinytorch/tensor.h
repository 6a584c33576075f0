// tensor.h - the Tensor: an n-dimensional float32 array (module 02).
//
// A Tensor is a small *value handle*. Copying a Tensor copies a pointer, not the numbers:
//
//     Tensor a = tt::arange(6).reshape({2, 3});   // a: (2, 3) = [[0, 1, 2], [3, 4, 5]]
//     Tensor b = a.transpose(0, 1);               // b: (3, 2), a *view*: same memory, new strides
//     b.set({0, 1}, 42);                          // a.at({1, 0}) is now 42 as well
//     Tensor c = a + 1.0f;                        // a new tensor with its own memory
//
// Four things describe a tensor (the same four PyTorch, NumPy and ggml use):
//
//     storage  a flat, shared array of floats              [0 1 2 3 4 5]
//     shape    the size of each dimension                  (2, 3)
//     strides  how many floats to skip to move by one      (3, 1)   for a, (1, 3) for b
//              step along each dimension
//     offset   where element [0, 0, ...] is in storage     0
//
// so element [i, j] lives at storage[offset + i * strides[0] + j * strides[1]]. Transpose, slice,
// squeeze, unsqueeze, expand and (usually) reshape only make new shape/strides/offset: no data is
// copied. That is why views are O(1) and why `contiguous()` exists: kernels that want a plain
// row-major block call it and pay for one copy only when the layout demands it.
//
// A size may be 0: zeros({2, 0}) is a tensor with no elements, strides (1, 1). Every op accepts it
// where PyTorch does (elementwise ops, views, sum, matmul with K = 0 gives zeros, backward) and
// refuses it where PyTorch does (max of nothing, item()).
//
// Autograd fields (`requires_grad`, `grad`, `grad_fn`) are here from the first module, although
// gradients are only computed from module 06 on: every op ends by calling `record(...)`, which
// connects its output to the graph when an input requires grad (see autograd.h).
//
// Who writes what: the functions declared here are implemented in engine/src/02_tensor/*.cpp
// (the student's files in module 02), except those marked [given], which are implemented in
// engine/src/core/ and are the same for everyone.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinytorch/errors.h"

namespace tt {

using Shape = std::vector<int64_t>;    // e.g. {N, C, H, W}
using Strides = std::vector<int64_t>;  // in elements, not bytes; 0 for a broadcast dimension

class Node;       // autograd.h: a backward node of the graph
class Generator;  // random.h: a seeded random number generator

// The memory behind one or more tensors.
struct Storage {
    std::vector<float> data;
    // How many in-place writes went through the public API (set, fill_, zero_, copy_, add_, mul_).
    // Autograd remembers it when an op saves a tensor for backward, and backward() refuses to run
    // on values that changed since (see Node::apply in autograd.h). Views share their base's storage,
    // so writing through a view counts for the base too. Writes through data() are not counted.
    int64_t version = 0;
};

// Everything a Tensor handle points to. Views get their own TensorImpl sharing one Storage.
struct TensorImpl {
    std::shared_ptr<Storage> storage;
    Shape shape;
    Strides strides;
    int64_t offset = 0;

    // Autograd (module 06 computes these; they exist from module 02 on).
    bool requires_grad = false;        // should backward() compute a gradient for this tensor?
    bool retains_grad = false;         // keep .grad on a non-leaf after backward()
    std::shared_ptr<TensorImpl> grad;  // d(loss)/d(this), same shape as this tensor
    std::shared_ptr<Node> grad_fn;     // the op that produced this tensor (null for leaves)
};

// ---------------------------------------------------------------------------------------------
// Shape helpers
// ---------------------------------------------------------------------------------------------

// [given] Product of the sizes; 1 for the empty shape of a 0-d (scalar) tensor.
int64_t numel(const Shape& shape);
// [given] "(2, 3)", "()" for a scalar. Used in every error message.
std::string shape_str(const Shape& shape);
// [given] Turns a possibly negative dim into 0..ndim-1, or throws naming `op`:
//     wrap_dim(-1, 3, "sum") == 2
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

// Row-major strides of a freshly allocated tensor: (2, 3, 4) -> (12, 4, 1). A size of 0 counts as 1
// (as in PyTorch): (2, 0) -> (1, 1), never (0, 1), which would look like a broadcast dimension.
Strides contiguous_strides(const Shape& shape);
// The NumPy broadcasting rule: align shapes on the right; sizes must be equal or one of them 1.
//     (4, 1, 3) and (2, 1) -> (4, 2, 3);  (2, 3) and (4, 3) -> error naming op and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast");

// ---------------------------------------------------------------------------------------------
// Tensor
// ---------------------------------------------------------------------------------------------

class Tensor {
public:
    // [given] An undefined tensor (like a null pointer): defined() is false.
    Tensor() = default;
    // [given] Wraps an implementation; used by factories and views.
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
    // [given] A tensor over existing storage with the given layout (no copy, no checks).
    Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset);

    // --- layout [given] --------------------------------------------------------------------
    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const { return impl().shape; }
    const Strides& strides() const { return impl().strides; }
    int64_t offset() const { return impl().offset; }
    int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
    int64_t size(int64_t d) const { return impl().shape[wrap_dim(d, dim(), "size")]; }
    int64_t numel() const { return tt::numel(impl().shape); }
    const std::shared_ptr<Storage>& storage() const { return impl().storage; }
    // Pointer to element [0, 0, ...]. Only a plain row-major block when is_contiguous().
    float* data() const { return impl().storage->data.data() + impl().offset; }
    // True when the tensor is the same object (not merely equal values).
    bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
    // [given] The storage's count of in-place writes (Storage::version), like PyTorch's t._version.
    int64_t version() const { return impl().storage->version; }
    // [given] Records one in-place write; every in-place op calls it once it has written.
    void bump_version() const { ++impl().storage->version; }
    // How many Tensor handles share this TensorImpl (1: this handle is the last one).
    long use_count() const { return impl_.use_count(); }
    TensorImpl& impl() const;

    // --- element access (02) -----------------------------------------------------------------
    // True when strides == contiguous_strides(shape) (sizes of 1 may have any stride).
    bool is_contiguous() const;
    // The single value of a one-element tensor.
    float item() const;
    // Element at a full index; negative indices count from the end: t.at({-1, 0}).
    float at(const std::vector<int64_t>& index) const;
    void set(const std::vector<int64_t>& index, float value);
    // All elements in row-major (logical) order, whatever the strides.
    std::vector<float> to_vector() const;

    // --- views: no data is copied (02) -------------------------------------------------------
    // Same data, new shape; one size may be -1 (inferred). view() throws when the strides cannot
    // express the new shape without a copy; reshape() copies in that case.
    Tensor view(const Shape& shape) const;
    Tensor reshape(const Shape& shape) const;
    Tensor transpose(int64_t dim0, int64_t dim1) const;
    Tensor t() const;  // transpose(0, 1) of a 2-D tensor
    Tensor permute(const std::vector<int64_t>& dims) const;
    // Elements start, start+step, ... (< end) along dim; negative start/end count from the end,
    // and both are clamped to [0, size] as in Python.
    Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
    // Index `index` along dim, removing that dimension: (4, 5).select(0, 2) -> (5,)
    Tensor select(int64_t dim, int64_t index) const;
    Tensor squeeze() const;                   // removes every size-1 dimension
    Tensor squeeze(int64_t dim) const;        // removes dim if its size is 1, else no change
    Tensor unsqueeze(int64_t dim) const;      // inserts a size-1 dimension at dim
    Tensor expand(const Shape& shape) const;  // broadcast view: size-1 dims get stride 0
    Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
    // Self when already contiguous, else a row-major copy.
    Tensor contiguous() const;
    // Always a new row-major copy.
    Tensor clone() const;

    // --- in-place (02): change this tensor's elements, never record a graph --------------------
    // Each one bumps version(). A tensor with no elements accepts them all (nothing is written).
    Tensor& fill_(float value);
    Tensor& zero_();
    Tensor& copy_(const Tensor& src);  // src broadcast to this shape
    Tensor& add_(const Tensor& other, float alpha = 1.0f);  // this += alpha * other
    Tensor& mul_(float value);

    // --- reductions as methods (see the free functions below) -----------------------------------
    Tensor sum() const;
    Tensor sum(int64_t dim, bool keepdim = false) const;
    Tensor mean() const;
    Tensor mean(int64_t dim, bool keepdim = false) const;
    Tensor max() const;
    Tensor max(int64_t dim, bool keepdim = false) const;
    Tensor argmax() const;
    Tensor argmax(int64_t dim, bool keepdim = false) const;

    // --- autograd [given] fields; backward() is written in module 06 -------------------------------
    bool requires_grad() const { return impl().requires_grad; }
    // Marks a leaf tensor (a parameter or input) as needing a gradient. Returns *this.
    Tensor& requires_grad_(bool enabled = true);
    Tensor grad() const;                  // undefined until backward() reaches this tensor
    void set_grad(const Tensor& grad);    // an undefined tensor clears it
    const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
    void set_grad_fn(std::shared_ptr<Node> node);  // also sets requires_grad
    bool is_leaf() const { return impl().grad_fn == nullptr; }
    void retain_grad();                   // keep .grad of this non-leaf after backward()
    // Same storage and layout, cut from the graph: requires_grad false, no grad_fn.
    Tensor detach() const;
    // (06) Computes d(this)/d(leaf) for every leaf that requires grad, accumulating into .grad.
    // `gradient` defaults to 1 for a one-element tensor and is required otherwise.
    // A graph can be walked once: nodes that saved tensors refuse a second backward() unless the
    // first one passed retain_graph = true (as in PyTorch), and every node refuses to run when a
    // tensor it saved was modified in place since the forward pass (see Node::apply).
    void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
    // (06) Sets .grad to undefined.
    void zero_grad();

    // [given] "tensor([[1, 2], [3, 4]], grad_fn=AddBackward)"
    std::string to_string() const;

private:
    std::shared_ptr<TensorImpl> impl_;
};

inline TensorImpl& Tensor::impl() const {
    if (!impl_) throw Error("tensor: this Tensor is undefined (default-constructed); create it with a factory such as tt::zeros");
    return *impl_;
}

// [given]
std::ostream& operator<<(std::ostream& out, const Tensor& t);

// ---------------------------------------------------------------------------------------------
// Factories (02). All return new contiguous tensors with requires_grad false.
// ---------------------------------------------------------------------------------------------

Tensor empty(const Shape& shape);  // uninitialised (in practice zero-filled)
Tensor zeros(const Shape& shape);
Tensor ones(const Shape& shape);
Tensor full(const Shape& shape, float value);
Tensor scalar(float value);  // a 0-d tensor, shape ()
// Copies `data` (row-major) into a new tensor of `shape`; sizes must match.
Tensor from_vector(const std::vector<float>& data, const Shape& shape);
Tensor tensor(std::initializer_list<float> values);                                 // 1-D
Tensor tensor(std::initializer_list<std::initializer_list<float>> rows);             // 2-D
// (A one-column matrix {{1}, {2}} is ambiguous between the two: use from_vector({1, 2}, {2, 1}).)
// start, start + step, ... (< end, or > end for a negative step), as torch.arange: there are
// ceil((end - start) / step) values, counted in double, and value i is start + i * step (in double,
// then rounded to float), never a running sum of steps, which drifts. The arguments are doubles so
// that arange(0, 0.3, 0.1) has 3 values as in PyTorch; with float arguments 0.3f / 0.1f is slightly
// above 3 and arange(0.0f, 0.3f, 0.1f) has 4 (so does torch.arange on float32 tensors).
Tensor arange(double end);                                   // 0, 1, ..., < end
Tensor arange(double start, double end, double step = 1.0);
// Uniform in [0, 1) and standard normal, from `gen` or the default generator (random.h).
Tensor rand(const Shape& shape, Generator* gen = nullptr);
Tensor randn(const Shape& shape, Generator* gen = nullptr);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, float value);

// ---------------------------------------------------------------------------------------------
// Elementwise ops with broadcasting (02). Shapes broadcast as in broadcast_shapes().
// ---------------------------------------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor pow(const Tensor& x, float exponent);
Tensor pow(const Tensor& x, const Tensor& exponent);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
// Comparisons give 1.0 where true and 0.0 where false; they have no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

// [given] Operators, each a one-line call of the functions above (scalars become scalar()).
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);

// ---------------------------------------------------------------------------------------------
// Reductions (02). Without dim: over every element, giving a 0-d tensor. With dim: over that
// dimension, which is removed unless keepdim (then it stays with size 1).
// Over zero elements: sum is 0, mean is nan (0 / 0), max and argmax are an error (no identity),
// all as in PyTorch. max and argmax propagate NaN as PyTorch does: if a NaN is among the values
// compared, the maximum is NaN and argmax is the index of the first NaN.
// ---------------------------------------------------------------------------------------------

Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // ties: the first maximum
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
// Index of the (first) maximum, as a float: over the flattened tensor, or along dim.
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);

// ---------------------------------------------------------------------------------------------
// Matrix multiply (02)
// ---------------------------------------------------------------------------------------------

// (M, K) @ (K, N) -> (M, N). With more than two dimensions the leading ones are batch
// dimensions and broadcast: (B, M, K) @ (K, N) -> (B, M, N); (B, 1, M, K) @ (H, K, N) -> (B, H, M, N).
// Both inputs need at least two dimensions. Every product runs through kernels::gemm.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace tt
