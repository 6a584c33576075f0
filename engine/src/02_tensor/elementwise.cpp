// elementwise.cpp - module 02: one kernel, many ops.
//
// add, sub, mul, div, pow, the comparisons... differ only in the one line that combines two
// floats. Everything else - working out the result's shape, walking two inputs with arbitrary
// strides, broadcasting - is the same, so it is written once, in binary_op(), and every op is a
// one-liner that hands it a lambda:
//
//     Tensor mul(a, b) = binary_op(a, b, "mul", [](float x, float y) { return x * y; });
//
// binary_op is a template over the lambda's type, so the compiler inlines the lambda into the loop:
// no function call per element, and the contiguous loop vectorises (4-8 floats per instruction).
// A std::function, or a virtual call per element, would be several times slower.
//
// Broadcasting costs no memory: expand() gives a (3, 1) tensor the strides (1, 0) in a (3, 4)
// result, so the same value is read four times instead of being copied four times.
#include <cmath>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// Visits every element of a row-major (contiguous) result of `shape`: for result element number i,
// calls body(i, a_position, b_position), the storage positions of the two input elements that meet
// there (inputs already expanded to `shape`, so a broadcast dimension has stride 0).
//     shape (2, 2), a strides (2, 1), b strides (0, 1): body(0,0,0) body(1,1,1) body(2,2,0) body(3,3,1)
template <class Body>
void for_each_broadcast(const Shape& shape, const Strides& a_strides, int64_t a_offset, const Strides& b_strides,
                        int64_t b_offset, Body body) {
    //! BEGIN SOLUTION
    //! HINT: an odometer over the multi-index: the last dimension in a plain inner loop, the others carried like digits.
    //! HINT: update positions incrementally (+= stride when a digit moves, -= size * stride when it wraps) instead of multiplying out every index.
    const int64_t total = numel(shape);
    if (total == 0) return;
    const int64_t ndim = static_cast<int64_t>(shape.size());
    if (ndim == 0) {
        body(0, a_offset, b_offset);
        return;
    }
    const int64_t inner = shape[ndim - 1];
    const int64_t a_step = a_strides[ndim - 1], b_step = b_strides[ndim - 1];
    std::vector<int64_t> index(ndim, 0);  // one allocation per op, never per element
    int64_t pa = a_offset, pb = b_offset;
    for (int64_t i = 0; i < total; i += inner) {
        for (int64_t j = 0; j < inner; ++j) body(i + j, pa + j * a_step, pb + j * b_step);
        for (int64_t d = ndim - 2; d >= 0; --d) {
            pa += a_strides[d];
            pb += b_strides[d];
            if (++index[d] < shape[d]) break;
            pa -= shape[d] * a_strides[d];
            pb -= shape[d] * b_strides[d];
            index[d] = 0;
        }
    }
    //! END SOLUTION
}

// out = f(a, b) elementwise, with broadcasting. `op` names the operation in error messages.
// a: (..), b: (..) -> out: broadcast_shapes(a, b), always a new contiguous tensor.
template <class F>
Tensor binary_op(const Tensor& a, const Tensor& b, const char* op, F f) {
    //! BEGIN SOLUTION
    //! HINT: the result shape is broadcast_shapes(a.shape(), b.shape(), op); allocate it with empty().
    //! HINT: fast path first: when both inputs are contiguous with the result's shape, element i of each is data()[i].
    //! HINT: otherwise a.detach().expand(shape) gives a's strides in the result's shape (0 where it broadcasts): walk them with for_each_broadcast.
    const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
    Tensor out = empty(shape);
    float* o = out.data();
    const int64_t n = out.numel();
    const bool a_flat = a.shape() == shape && a.is_contiguous();
    const bool b_flat = b.shape() == shape && b.is_contiguous();
    if (a_flat && b_flat) {  // the common case: two same-shape contiguous tensors
        const float* x = a.data();
        const float* y = b.data();
        for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
        return out;
    }
    if (a_flat && b.numel() == 1) {  // tensor op scalar (x * 0.5f): the scalar stays in a register
        const float* x = a.data();
        const float y = b.data()[0];
        for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y);
        return out;
    }
    if (a.numel() == 1 && b_flat) {  // scalar op tensor (1.0f - x)
        const float x = a.data()[0];
        const float* y = b.data();
        for (int64_t i = 0; i < n; ++i) o[i] = f(x, y[i]);
        return out;
    }
    // The general case: any strides, any broadcasting. detach(): these views are internal steps.
    const Tensor ea = a.detach().expand(shape), eb = b.detach().expand(shape);
    const float* x = a.storage()->data.data();  // positions from the walk are storage indices
    const float* y = b.storage()->data.data();
    for_each_broadcast(shape, ea.strides(), ea.offset(), eb.strides(), eb.offset(),
                       [&](int64_t i, int64_t pa, int64_t pb) { o[i] = f(x[pa], y[pb]); });
    return out;
    //! END SOLUTION
}

// out = f(x) elementwise. x: (..) -> out: same shape, contiguous.
template <class F>
Tensor unary_op(const Tensor& x, F f) {
    //! BEGIN SOLUTION
    //! HINT: contiguous x: one flat loop over data(). Otherwise walk x's strides (for_each_broadcast with x as both inputs works).
    Tensor out = empty(x.shape());
    float* o = out.data();
    if (x.is_contiguous()) {
        const float* in = x.data();
        for (int64_t i = 0; i < out.numel(); ++i) o[i] = f(in[i]);
        return out;
    }
    const float* in = x.storage()->data.data();
    for_each_broadcast(x.shape(), x.strides(), x.offset(), x.strides(), x.offset(),
                       [&](int64_t i, int64_t p, int64_t) { o[i] = f(in[p]); });
    return out;
    //! END SOLUTION
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Arithmetic. Each op: the forward through the shared kernel, then record() for the graph.
// ---------------------------------------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b) {
    Tensor out = binary_op(a, b, "add", [](float x, float y) { return x + y; });
    return record<AddBackward>(out, {a, b});
}

Tensor sub(const Tensor& a, const Tensor& b) {
    Tensor out = binary_op(a, b, "sub", [](float x, float y) { return x - y; });
    return record<SubBackward>(out, {a, b});
}

Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor out = binary_op(a, b, "mul", [](float x, float y) { return x * y; });
    return record<MulBackward>(out, {a, b});
}

// Division by zero follows IEEE-754 (inf or nan), as in PyTorch: no check, no exception.
Tensor div(const Tensor& a, const Tensor& b) {
    Tensor out = binary_op(a, b, "div", [](float x, float y) { return x / y; });
    return record<DivBackward>(out, {a, b});
}

Tensor neg(const Tensor& x) {
    Tensor out = unary_op(x, [](float v) { return -v; });
    return record<NegBackward>(out, {x});
}

// std::pow is a general routine (roughly exp(p * log(x))) costing tens of cycles; squaring, by far
// the most common power (losses, variances), is one multiply, so it gets its own lambda.
Tensor pow(const Tensor& x, float exponent) {
    Tensor out = exponent == 2.0f ? unary_op(x, [](float v) { return v * v; })
                                  : unary_op(x, [exponent](float v) { return std::pow(v, exponent); });
    return record<PowBackward>(out, {x}, exponent);
}

Tensor pow(const Tensor& x, const Tensor& exponent) {
    Tensor out = binary_op(x, exponent, "pow", [](float v, float p) { return std::pow(v, p); });
    return record<PowTensorBackward>(out, {x, exponent}, out.detach());
}

// exp and sqrt save their output: their derivatives are written in terms of it (e^x, 1/(2 sqrt x)),
// so backward reuses it instead of recomputing. log's derivative 1/x needs only the input.
Tensor exp(const Tensor& x) {
    Tensor out = unary_op(x, [](float v) { return std::exp(v); });
    return record<ExpBackward>(out, {x}, out.detach());
}

Tensor log(const Tensor& x) {
    Tensor out = unary_op(x, [](float v) { return std::log(v); });
    return record<LogBackward>(out, {x});
}

Tensor sqrt(const Tensor& x) {
    Tensor out = unary_op(x, [](float v) { return std::sqrt(v); });
    return record<SqrtBackward>(out, {x}, out.detach());
}

// ---------------------------------------------------------------------------------------------
// Comparisons: 1.0 where true, 0.0 where false. Piecewise constant, so no gradient and no record():
// masks built from them (relu's x > 0) are constants as far as the graph is concerned.
// ---------------------------------------------------------------------------------------------

Tensor eq(const Tensor& a, const Tensor& b) { return binary_op(a, b, "eq", [](float x, float y) { return x == y ? 1.0f : 0.0f; }); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_op(a, b, "ne", [](float x, float y) { return x != y ? 1.0f : 0.0f; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_op(a, b, "lt", [](float x, float y) { return x < y ? 1.0f : 0.0f; }); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_op(a, b, "le", [](float x, float y) { return x <= y ? 1.0f : 0.0f; }); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_op(a, b, "gt", [](float x, float y) { return x > y ? 1.0f : 0.0f; }); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_op(a, b, "ge", [](float x, float y) { return x >= y ? 1.0f : 0.0f; }); }

}  // namespace tt
