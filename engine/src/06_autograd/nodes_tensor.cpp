// nodes_tensor.cpp - module 06: the backward of every module 02 op.
//
// Each node gets g = d(loss)/d(out), shaped like the op's output, and adds d(loss)/d(input) into
// each input through accumulate_grad(). The chain rule makes each formula local: the node only
// needs the op's own derivative, never the rest of the network.
//
//     out = a * b        d(loss)/da = d(loss)/d(out) * d(out)/da = g * b
//
// Three rules hold everywhere here:
//   - contributions are *added* (accumulate_grad): an input used twice gets two;
//   - a broadcast input gets the sum over the positions it was broadcast to (accumulate_grad calls
//     sum_to_shape, so the formulas can be written at the output's shape);
//   - an input that does not require grad is skipped before any arithmetic is done for it.
// Backward runs with grad mode off (Tensor::backward holds a NoGradGuard), so the tensor ops used
// below compute numbers only and build no graph of their own.
#include <cmath>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

namespace tt {

// ---------------------------------------------------------------------------------------------
// Elementwise (forward: 02_tensor/elementwise.cpp)
// ---------------------------------------------------------------------------------------------

// add: out = a + b        da += g,  db += g
void AddBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: d(a + b)/da = 1: pass g through. accumulate_grad() reduces it to each input's shape and skips inputs without grad.
    accumulate_grad(inputs[0], grad_out);
    accumulate_grad(inputs[1], grad_out);
    //! END SOLUTION
}

// sub: out = a - b        da += g,  db += -g
void SubBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    accumulate_grad(inputs[0], grad_out);
    if (inputs[1].requires_grad()) accumulate_grad(inputs[1], neg(grad_out));
    //! END SOLUTION
}

// mul: out = a * b        da += g * b,  db += g * a
void MulBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: each factor's gradient is g times the *other* factor. Skip the multiplication when an input does not require grad.
    const Tensor& a = inputs[0];
    const Tensor& b = inputs[1];
    if (a.requires_grad()) accumulate_grad(a, grad_out * b);
    if (b.requires_grad()) accumulate_grad(b, grad_out * a);
    //! END SOLUTION
}

// div: out = a / b        da += g / b,  db += -g * a / b^2
void DivBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    const Tensor& a = inputs[0];
    const Tensor& b = inputs[1];
    if (a.requires_grad()) accumulate_grad(a, grad_out / b);
    if (b.requires_grad()) accumulate_grad(b, -grad_out * a / (b * b));
    //! END SOLUTION
}

// neg: out = -x           dx += -g
void NegBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    accumulate_grad(inputs[0], -grad_out);
    //! END SOLUTION
}

// pow: out = x^p          dx += g * p * x^(p-1)
void PowBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: exponent 0 makes out constant: its gradient is 0 everywhere (the formula would give 0 * x^(-1) = nan at x = 0).
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    if (exponent == 0.0f) {
        accumulate_grad(x, zeros(grad_out.shape()));
        return;
    }
    accumulate_grad(x, grad_out * pow(x, exponent - 1.0f) * exponent);
    //! END SOLUTION
}

// pow: out = a^b          da += g * b * a^(b-1),  db += g * out * ln(a)   (ln(a): nan where a < 0)
// Two limits the formulas get wrong at a = 0, taken as PyTorch takes them:
//   b = 0:           a^0 = 1 is constant, so da = 0 (the formula gives 0 * 0^-1 = 0 * inf = nan);
//   a = 0, b >= 0:   db = 0 (the formula gives 0^b * ln 0 = 0 * -inf = nan, or 1 * -inf at b = 0).
// Each element needs its own case, so this node loops over the elements itself (a and b expanded
// to the output's shape, as the forward broadcast them).
void PowTensorBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: the formulas are one line each in tensor ops; the two zero cases need a per-element choice: expand a and b to grad_out's shape, make everything contiguous, loop.
    const Tensor& a = inputs[0];
    const Tensor& b = inputs[1];
    const Shape& shape = grad_out.shape();  // the output's: a and b as the forward broadcast them
    const Tensor g_c = grad_out.contiguous(), out_c = out.contiguous();
    const Tensor a_c = a.detach().expand(shape).contiguous(), b_c = b.detach().expand(shape).contiguous();
    const float* g = g_c.data();
    const float* y = out_c.data();
    const float* base = a_c.data();
    const float* power = b_c.data();
    const int64_t n = g_c.numel();
    if (a.requires_grad()) {
        Tensor da = empty(shape);
        float* d = da.data();
        for (int64_t i = 0; i < n; ++i)
            d[i] = power[i] == 0.0f ? 0.0f : g[i] * power[i] * std::pow(base[i], power[i] - 1.0f);
        accumulate_grad(a, da);
    }
    if (b.requires_grad()) {
        Tensor db = empty(shape);
        float* d = db.data();
        for (int64_t i = 0; i < n; ++i)
            d[i] = base[i] == 0.0f && power[i] >= 0.0f ? 0.0f : g[i] * y[i] * std::log(base[i]);
        accumulate_grad(b, db);
    }
    //! END SOLUTION
}

// exp: out = e^x          dx += g * out      (e^x is its own derivative: reuse the saved output)
void ExpBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    accumulate_grad(inputs[0], grad_out * out);
    //! END SOLUTION
}

// log: out = ln x         dx += g / x
void LogBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    accumulate_grad(inputs[0], grad_out / inputs[0]);
    //! END SOLUTION
}

// sqrt: out = sqrt(x)     dx += g / (2 * out)
void SqrtBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    accumulate_grad(inputs[0], grad_out / (out * 2.0f));
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Reductions (forward: 02_tensor/reductions.cpp)
// ---------------------------------------------------------------------------------------------

// sum: x (A, B, C) -> (A, C) along dim 1     dx[a, b, c] += g[a, c] for every b
void SumBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: every summed element contributed with weight 1, so each gets g of its output. Put back the removed dim (unsqueeze unless keepdim), then expand to input_shape: a view, no copy.
    Tensor g = grad_out;                                                  // (A, C), or () over everything
    if (dim && !keepdim && !input_shape.empty()) g = g.unsqueeze(*dim);  // (A, 1, C)
    accumulate_grad(inputs[0], g.expand(input_shape));                    // (A, B, C), stride 0 along B
    //! END SOLUTION
}

// mean: as sum, divided by n, the number of elements averaged    dx += g / n
void MeanBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    const int64_t n = !dim ? numel(input_shape) : input_shape.empty() ? 1 : input_shape[*dim];
    Tensor g = grad_out * (1.0f / static_cast<float>(n));  // scale the small tensor, before expanding
    if (dim && !keepdim && !input_shape.empty()) g = g.unsqueeze(*dim);
    accumulate_grad(inputs[0], g.expand(input_shape));
    //! END SOLUTION
}

// max along a dim: only the (first) maximum of each slice influenced the output
//     dx[.., argmax, ..] += g, 0 elsewhere
// max over everything: the maximum is shared by every element equal to it (k of them), as PyTorch
// does it: each gets g / k. (Any split summing to g is a valid subgradient; this is PyTorch's.)
void MaxBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: start from zeros(input_shape) and write g into the positions given by `indices`.
    //! HINT: along a dim, view the input as (outer, size, inner) as the forward did: g[o, i] goes to [o, indices[o, i], i].
    //! HINT: over everything, find the k elements of the saved `input` equal to the maximum (input at indices; if it is NaN, the NaNs) and give each g / k.
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    Tensor dx = zeros(input_shape);
    const Tensor g = grad_out.contiguous(), where = indices.contiguous();  // same number of elements
    if (!dim) {
        const std::vector<float> values = input.to_vector();  // row-major, like dx
        const float best = values[static_cast<size_t>(where.item())];
        const auto is_max = [best](float v) { return std::isnan(best) ? std::isnan(v) : v == best; };
        int64_t ties = 0;
        for (float v : values) ties += is_max(v) ? 1 : 0;
        const float share = g.item() / static_cast<float>(ties);
        for (size_t i = 0; i < values.size(); ++i)
            if (is_max(values[i])) dx.data()[i] = share;
    } else if (input_shape.empty()) {  // max(x, 0) of a 0-d x is x
        dx.data()[0] = g.item();
    } else {
        int64_t outer = 1, inner = 1;
        for (int64_t d = 0; d < *dim; ++d) outer *= input_shape[d];
        for (int64_t d = *dim + 1; d < static_cast<int64_t>(input_shape.size()); ++d) inner *= input_shape[d];
        const int64_t size = input_shape[*dim];
        float* dx_data = dx.data();  // (outer, size, inner)
        for (int64_t o = 0; o < outer; ++o) {
            for (int64_t i = 0; i < inner; ++i) {
                const int64_t k = static_cast<int64_t>(where.data()[o * inner + i]);
                dx_data[(o * size + k) * inner + i] = g.data()[o * inner + i];
            }
        }
    }
    accumulate_grad(x, dx);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Matrix multiply (forward: 02_tensor/matmul.cpp)
// ---------------------------------------------------------------------------------------------

// matmul: a (.., M, K) @ b (.., K, N) = out (.., M, N)
//     da += g @ b^T   (.., M, N) @ (.., N, K) -> (.., M, K)
//     db += a^T @ g   (.., K, M) @ (.., M, N) -> (.., K, N)
// With broadcast batch dims the products have the *result's* batch shape; accumulate_grad sums
// them back down to each input's shape (a weight (K, N) shared by a whole batch gets the sum).
void MatmulBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: transpose(-2, -1) swaps the last two dims of any batch of matrices; matmul broadcasts the batch dims for you.
    //! HINT: check the shapes on paper with (M, K) @ (K, N): g is (M, N), and only one arrangement gives (M, K).
    const Tensor& a = inputs[0];
    const Tensor& b = inputs[1];
    if (a.requires_grad()) accumulate_grad(a, matmul(grad_out, b.transpose(-2, -1)));
    if (b.requires_grad()) {
        if (b.dim() == 2 && a.dim() > 2) {
            // A weight (K, N) applied to a batch (B, M, K): fold the batch into the rows,
            // (K, B*M) @ (B*M, N), and get the batch sum from one GEMM instead of a (B, K, N) temporary.
            // The row count B*M is spelled out, not -1: with K or N = 0, a -1 could stand for any size.
            const int64_t K = a.size(-1), N = grad_out.size(-1);
            int64_t rows = 1;
            for (int64_t d = 0; d + 1 < a.dim(); ++d) rows *= a.size(d);
            accumulate_grad(b, matmul(a.reshape({rows, K}).t(), grad_out.reshape({rows, N})));
        } else {
            accumulate_grad(b, matmul(a.transpose(-2, -1), grad_out));
        }
    }
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Views (forward: 02_tensor/tensor.cpp). A view moves elements around without changing them, so
// its backward moves the gradient back to where each element came from.
// ---------------------------------------------------------------------------------------------

// view / reshape / flatten / squeeze / unsqueeze: the same elements in the same order
//     dx += g.reshape(input_shape)
void ReshapeBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    accumulate_grad(inputs[0], grad_out.reshape(input_shape));
    //! END SOLUTION
}

// permute / transpose / t: out dim i is input dim dims[i]     dx += g.permute(inverse)
void PermuteBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: the inverse permutation sends dim i of g back to position dims[i]: inverse[dims[i]] = i.
    std::vector<int64_t> inverse(dims.size());
    for (size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = static_cast<int64_t>(i);
    accumulate_grad(inputs[0], grad_out.permute(inverse));
    //! END SOLUTION
}

// slice: dx[.., start:end:step, ..] += g, 0 for the elements the slice skipped
void SliceBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: allocate zeros(input_shape), take the same slice of it (a view!) and copy_ g into it.
    if (!inputs[0].requires_grad()) return;
    Tensor dx = zeros(input_shape);
    dx.slice(dim, start, end, step).copy_(grad_out);
    accumulate_grad(inputs[0], dx);
    //! END SOLUTION
}

// select: dx[.., index, ..] += g, 0 elsewhere
void SelectBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    if (!inputs[0].requires_grad()) return;
    Tensor dx = zeros(input_shape);
    dx.select(dim, index).copy_(grad_out);
    accumulate_grad(inputs[0], dx);
    //! END SOLUTION
}

// expand: each input element was read at several positions     dx += sum_to_shape(g, input_shape)
void ExpandBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    accumulate_grad(inputs[0], sum_to_shape(grad_out, input_shape));
    //! END SOLUTION
}

// clone / contiguous (when it copied): same values           dx += g
void CloneBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    accumulate_grad(inputs[0], grad_out);
    //! END SOLUTION
}

}  // namespace tt
