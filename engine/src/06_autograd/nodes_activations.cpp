// nodes_activations.cpp - module 06: the backward of every module 03 activation.
//
// Forward (engine/src/03_activations/activations.cpp) and backward are the same function seen from
// two sides; each node's comment gives the derivative it implements. g = d(loss)/d(out) has the
// output's shape, which for an activation is also the input's shape.
//
// The elementwise nodes need one number per element, f(g, saved), so each is one fused pass
// (zip_elements below): a single allocation and one trip through memory, where the same formula in
// tensor ops - g * (x > 0) - would allocate and walk a temporary per operator. In a network the
// activations are the largest tensors there are, so this is where a backward pass spends its
// memory bandwidth.
//
// What each derivative is written in terms of is a choice made in the forward:
//     sigmoid' = out (1 - out),  tanh' = 1 - out^2     reuse the saved output: no exp, no tanh again
//     relu', leaky_relu', gelu'                          need x, which node->inputs keeps anyway
//     softmax, log_softmax                               need the output and a sum along dim
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] dx[i] = f(g[i], v[i]) for two tensors of the same shape (any layouts) -> a new contiguous
// tensor. g is the upstream gradient, v the saved value the derivative needs (x or out).
template <class F>
Tensor zip_elements(const Tensor& grad_out, const Tensor& saved, F f) {
    TT_ASSERT(grad_out.shape() == saved.shape(), "zip_elements: gradient ", shape_str(grad_out.shape()), " vs saved ",
              shape_str(saved.shape()));
    const Tensor g = grad_out.contiguous(), v = saved.detach().contiguous();
    Tensor dx = empty(saved.shape());
    const float* g_data = g.data();
    const float* v_data = v.data();
    float* dx_data = dx.data();
    const int64_t n = dx.numel();
    for (int64_t i = 0; i < n; ++i) dx_data[i] = f(g_data[i], v_data[i]);
    return dx;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Elementwise activations
// ---------------------------------------------------------------------------------------------

// relu: out = max(x, 0)             dx += g * (x > 0)        (0 at x = 0, as PyTorch)
// Written as "0 where x <= 0, else g" so that a NaN input (relu(nan) = nan) passes g on, as
// PyTorch's backward does: NaN is not <= 0. (Writing x > 0 ? g : 0 would swallow it.)
void ReluBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: zip_elements(grad_out, x, [](float g, float v) { ... }) computes one float per element; skip all work when x does not require grad.
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    accumulate_grad(x, zip_elements(grad_out, x, [](float g, float v) { return v <= 0.0f ? 0.0f : g; }));
    //! END SOLUTION
}

// leaky_relu: out = x or s x        dx += g * (x > 0 ? 1 : s)
void LeakyReluBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    const float slope = negative_slope;
    accumulate_grad(x, zip_elements(grad_out, x, [slope](float g, float v) { return v > 0.0f ? g : g * slope; }));
    //! END SOLUTION
}

// sigmoid: out = 1 / (1 + e^-x)     dx += g * out * (1 - out)
// (d/dx (1 + e^-x)^-1 = e^-x / (1 + e^-x)^2 = out * (1 - out).) At most 0.25, at x = 0: a deep
// stack of sigmoids multiplies gradients by <= 0.25 per layer, the vanishing gradient.
void SigmoidBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: use the saved output, not x: the derivative in terms of out needs no exponential.
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    accumulate_grad(x, zip_elements(grad_out, out, [](float g, float y) { return g * y * (1.0f - y); }));
    //! END SOLUTION
}

// tanh: out = tanh(x)               dx += g * (1 - out^2)
void TanhBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    accumulate_grad(x, zip_elements(grad_out, out, [](float g, float y) { return g * (1.0f - y * y); }));
    //! END SOLUTION
}

// gelu: out = x Phi(x)
//   exact:  dx += g * (Phi(x) + x phi(x))      Phi(x) = (1 + erf(x / sqrt 2)) / 2,
//                                              phi(x) = e^(-x^2 / 2) / sqrt(2 pi)   (product rule)
//   tanh:   out = x/2 (1 + t),  t = tanh(u),  u = sqrt(2/pi) (x + 0.044715 x^3)
//           dx += g * (1/2 (1 + t) + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2))
// The tanh form's own derivative, not the exact one: the gradient must be that of the function
// the forward computed, or gradient checks (and training) see a mismatch of up to ~1e-3.
// For |x| = 1000 every term stays finite: e^(-x^2/2) and 1 - t^2 are exactly 0.
void GeluBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: differentiate the formula the forward used, with the same constants: sqrt(2/pi) = 0.79788456f, 1/sqrt(2) = 0.70710678f, 1/sqrt(2 pi) = 0.39894228f.
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    if (approximate == GeluApproximation::tanh) {
        constexpr float kSqrt2OverPi = 0.7978845608f;  // sqrt(2 / pi)
        constexpr float kCubic = 0.044715f;
        accumulate_grad(x, zip_elements(grad_out, x, [](float g, float v) {
                            const float t = std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v));
                            const float du_dx = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
                            return g * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du_dx);
                        }));
    } else {
        constexpr float kInvSqrt2 = 0.7071067812f;     // 1 / sqrt(2)
        constexpr float kInvSqrt2Pi = 0.3989422804f;  // 1 / sqrt(2 pi)
        accumulate_grad(x, zip_elements(grad_out, x, [](float g, float v) {
                            const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
                            const float pdf = kInvSqrt2Pi * std::exp(-0.5f * v * v);
                            return g * (cdf + v * pdf);
                        }));
    }
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// softmax and log_softmax. Every output in a slice depends on every input of that slice, so the
// Jacobian of one slice is a full (size, size) matrix:
//     softmax:      d out_i / d x_j = out_i (delta_ij - out_j)
//     log_softmax:  d out_i / d x_j = delta_ij - softmax_j = delta_ij - e^(out_j)
// Multiplying g by it never needs the matrix: it collapses to one sum per slice,
//     softmax:      dx_j = sum_i g_i out_i (delta_ij - out_j) = out_j (g_j - sum_i g_i out_i)
//     log_softmax:  dx_j = sum_i g_i (delta_ij - e^(out_j))  = g_j - e^(out_j) sum_i g_i
// O(size) work and memory per slice instead of O(size^2) - for attention over 1024 positions,
// a thousand times less. The loops walk (outer, size, inner) exactly as the forward did, with the
// same fast path for dim = -1 (one row per slice, running sums in registers).
// ---------------------------------------------------------------------------------------------

// softmax: out = softmax(x, dim)         dx += out * (g - sum(g * out, dim, keepdim))
void SoftmaxBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: the tensor-op version is one line, out * (g - sum(g * out, dim, true)): correct, but four full-size temporaries.
    //! HINT: the fast version: view g and out (both contiguous) as (outer, size, inner) around dim, as the forward did; one pass sums g * out per slice, a second writes dx.
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    const Tensor g = grad_out.contiguous(), y = out.contiguous();
    const Shape& shape = y.shape();
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < dim; ++i) outer *= shape[i];
    for (int64_t i = dim + 1; i < static_cast<int64_t>(shape.size()); ++i) inner *= shape[i];
    const int64_t size = shape.empty() ? 1 : shape[dim];
    Tensor dx = empty(shape);
    if (inner == 1) {  // dim = -1: each slice is one row; the dot product stays in a register
        for (int64_t r = 0; r < outer; ++r) {
            const float* g_row = g.data() + r * size;  // (size,)
            const float* y_row = y.data() + r * size;
            float* dx_row = dx.data() + r * size;
            double dot = 0.0;  // sum_i g_i out_i
            for (int64_t k = 0; k < size; ++k) dot += g_row[k] * y_row[k];
            const float dot_f = static_cast<float>(dot);
            for (int64_t k = 0; k < size; ++k) dx_row[k] = y_row[k] * (g_row[k] - dot_f);
        }
    } else {  // any other dim: (inner,) running sums, memory read front to back
        std::vector<double> dot(inner);  // (inner,): sum_i g_i out_i of each column
        for (int64_t o = 0; o < outer; ++o) {
            const int64_t base = o * size * inner;
            const float* g_block = g.data() + base;  // (size, inner)
            const float* y_block = y.data() + base;
            float* dx_block = dx.data() + base;
            std::fill(dot.begin(), dot.end(), 0.0);
            for (int64_t k = 0; k < size; ++k)
                for (int64_t i = 0; i < inner; ++i) dot[i] += g_block[k * inner + i] * y_block[k * inner + i];
            for (int64_t k = 0; k < size; ++k)
                for (int64_t i = 0; i < inner; ++i)
                    dx_block[k * inner + i] = static_cast<float>(y_block[k * inner + i] * (g_block[k * inner + i] - dot[i]));
        }
    }
    accumulate_grad(x, dx);
    //! END SOLUTION
}

// log_softmax: out = log_softmax(x, dim)   dx += g - exp(out) * sum(g, dim, keepdim)
// exp(out) is softmax(x), recovered from the saved output instead of being stored separately.
void LogSoftmaxBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: as SoftmaxBackward: one pass for the sums of g along dim, one for dx; std::exp(out) turns a log-probability back into a probability.
    const Tensor& x = inputs[0];
    if (!x.requires_grad()) return;
    const Tensor g = grad_out.contiguous(), y = out.contiguous();
    const Shape& shape = y.shape();
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < dim; ++i) outer *= shape[i];
    for (int64_t i = dim + 1; i < static_cast<int64_t>(shape.size()); ++i) inner *= shape[i];
    const int64_t size = shape.empty() ? 1 : shape[dim];
    Tensor dx = empty(shape);
    if (inner == 1) {  // dim = -1: each slice is one row
        for (int64_t r = 0; r < outer; ++r) {
            const float* g_row = g.data() + r * size;  // (size,)
            const float* y_row = y.data() + r * size;
            float* dx_row = dx.data() + r * size;
            double total = 0.0;  // sum_i g_i
            for (int64_t k = 0; k < size; ++k) total += g_row[k];
            const float total_f = static_cast<float>(total);
            for (int64_t k = 0; k < size; ++k) dx_row[k] = g_row[k] - std::exp(y_row[k]) * total_f;
        }
    } else {  // any other dim
        std::vector<double> total(inner);  // (inner,): sum_i g_i of each column
        for (int64_t o = 0; o < outer; ++o) {
            const int64_t base = o * size * inner;
            const float* g_block = g.data() + base;  // (size, inner)
            const float* y_block = y.data() + base;
            float* dx_block = dx.data() + base;
            std::fill(total.begin(), total.end(), 0.0);
            for (int64_t k = 0; k < size; ++k)
                for (int64_t i = 0; i < inner; ++i) total[i] += g_block[k * inner + i];
            for (int64_t k = 0; k < size; ++k)
                for (int64_t i = 0; i < inner; ++i)
                    dx_block[k * inner + i] =
                        static_cast<float>(g_block[k * inner + i] - std::exp(y_block[k * inner + i]) * total[i]);
        }
    }
    accumulate_grad(x, dx);
    //! END SOLUTION
}

}  // namespace tt
