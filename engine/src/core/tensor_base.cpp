// tensor_base.cpp - the parts of Tensor every student gets for free [given]: construction from a
// layout, the autograd fields, printing, and the operators (one-line calls of module 02's ops).
#include <malloc.h>

#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] Keep freed tensor memory for the next training step. glibc serves a block above its mmap
// threshold (128 KB at first, raised as such blocks are freed) with fresh pages from the kernel and
// returns them on free(), and it trims the top of the heap when much is free there. A training
// step allocates and frees the same large tensors every time (activations, gradients, im2col
// columns), so each step would page-fault all of them again, and the kernel zeroes every page: for
// a Conv2d step on a CIFAR-sized batch that was half of the time (bench_conv: 135,000 page faults
// in 40 steps). With a fixed threshold at glibc's maximum (32 MB) and no trimming, freed blocks
// stay in the heap and the next step reuses them; the process keeps its peak size, which it needs
// again next step anyway. (This file is in every program that makes a tensor, so the settings are
// made before the first one.)
[[maybe_unused]] const bool kMallocKeepsFreedMemory = [] {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
    return true;
}();

}  // namespace

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset)
    : impl_(std::make_shared<TensorImpl>()) {
    TT_ASSERT(storage != nullptr, "Tensor: null storage");
    TT_ASSERT(shape.size() == strides.size(), "Tensor: shape ", shape_str(shape), " but ", strides.size(), " strides");
    impl_->storage = std::move(storage);
    impl_->shape = std::move(shape);
    impl_->strides = std::move(strides);
    impl_->offset = offset;
}

// ---- autograd fields --------------------------------------------------------------------------

Tensor& Tensor::requires_grad_(bool enabled) {
    TT_CHECK(is_leaf() || enabled, "requires_grad_: cannot turn off requires_grad of a non-leaf tensor (",
             grad_fn()->name(), "); use detach() to get a tensor cut from the graph");
    impl().requires_grad = enabled;
    return *this;
}

Tensor Tensor::grad() const {
    const auto& g = impl().grad;
    return g ? Tensor(g) : Tensor();
}

void Tensor::set_grad(const Tensor& grad) {
    if (!grad.defined()) {
        impl().grad.reset();
        return;
    }
    TT_CHECK(grad.shape() == shape(), "set_grad: gradient of shape ", shape_str(grad.shape()),
             " for a tensor of shape ", shape_str(shape()));
    impl().grad = grad.impl_;
}

void Tensor::set_grad_fn(std::shared_ptr<Node> node) {
    impl().grad_fn = std::move(node);
    impl().requires_grad = impl().requires_grad || impl().grad_fn != nullptr;
}

void Tensor::retain_grad() { impl().retains_grad = true; }

Tensor Tensor::detach() const { return Tensor(storage(), shape(), strides(), offset()); }

// ---- printing -----------------------------------------------------------------------------------

namespace {

// Prints like PyTorch: nested brackets, and "..." past 6 entries in a dimension of a big tensor.
void print_dim(std::ostream& out, const Tensor& t, int64_t dim, int64_t position, bool summarise, int indent) {
    const float* base = t.storage()->data.data();
    if (t.dim() == 0) {
        out << base[t.offset()];
        return;
    }
    const int64_t size = t.shape()[dim];
    const int64_t stride = t.strides()[dim];
    out << '[';
    for (int64_t i = 0; i < size; ++i) {
        if (summarise && size > 6 && i == 3) {
            out << "...";
            i = size - 3;
            out << (dim + 1 == t.dim() ? ", " : ",\n" + std::string(indent + 1, ' '));
        }
        const int64_t here = position + i * stride;
        if (dim + 1 == t.dim()) {
            out << base[here];
        } else {
            print_dim(out, t, dim + 1, here, summarise, indent + 1);
        }
        if (i + 1 < size) out << (dim + 1 == t.dim() ? ", " : ",\n" + std::string(indent + 1, ' '));
    }
    out << ']';
}

}  // namespace

std::string Tensor::to_string() const {
    if (!defined()) return "tensor(undefined)";
    std::ostringstream out;
    out << std::setprecision(4) << "tensor(";
    if (numel() == 0) {
        out << "[], shape=" << shape_str(shape());
    } else {
        print_dim(out, *this, 0, offset(), numel() > 1000, 7);
        if (numel() > 1000) out << ", shape=" << shape_str(shape());
    }
    if (grad_fn()) {
        out << ", grad_fn=" << grad_fn()->name();
    } else if (requires_grad()) {
        out << ", requires_grad=true";
    }
    out << ')';
    return out.str();
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << t.to_string(); }

// ---- operators --------------------------------------------------------------------------------

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, float b) { return add(a, scalar(b)); }
Tensor operator-(const Tensor& a, float b) { return sub(a, scalar(b)); }
Tensor operator*(const Tensor& a, float b) { return mul(a, scalar(b)); }
Tensor operator/(const Tensor& a, float b) { return div(a, scalar(b)); }
Tensor operator+(float a, const Tensor& b) { return add(scalar(a), b); }
Tensor operator-(float a, const Tensor& b) { return sub(scalar(a), b); }
Tensor operator*(float a, const Tensor& b) { return mul(scalar(a), b); }
Tensor operator/(float a, const Tensor& b) { return div(scalar(a), b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }

}  // namespace tt
