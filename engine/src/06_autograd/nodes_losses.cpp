// nodes_losses.cpp - module 06: the backward of the module 05 losses (engine/src/05_losses/).
//
// A loss is the last op of the graph, so g = d(loss)/d(out) is usually the seed 1. After a mean
// or sum, out and g are 0-d: one number for every element. After Reduction::none, out and g have
// one entry per example (cross_entropy: (N,)) or per element (the binary losses: the input's shape).
// The reduction itself is part of the derivative:
//     sum:   loss = sum_i l_i        d loss / d l_i = 1
//     mean:  loss = sum_i l_i / n    d loss / d l_i = 1 / n     (n = N examples, or numel elements)
// and forgetting the 1 / n is a classic bug: gradients n times too large, as if the learning rate
// were multiplied by the batch size.
//
// Each loss's derivative is strikingly simple once written in the right variables - the reason
// these losses are paired with these outputs:
//     cross_entropy on logits:        softmax(x) - q         (q: the target distribution)
//     BCE with logits:                sigmoid(x) - y
//     BCE on probabilities:           (p - y) / (p (1 - p))  (the sigmoid's p(1 - p) cancels it out
//                                                             when sigmoid comes before it)
// Targets (inputs[1] of the BCE nodes, the saved `targets` of CrossEntropyBackward) are data:
// they never receive a gradient.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

namespace tt {

// cross_entropy: logits x (N, C), targets k (N,), smoothing s, q_nc = (1 - s) [c == k_n] + s / C
//     loss_n = -sum_c q_nc log softmax(x_n)_c      d loss_n / d x_nc = p_nc - q_nc
//     dlogits[n, c] += (p[n, c] - q[n, c]) * g_n        g_n = g[n] (none), g (sum), g / N (mean)
// (The softmax Jacobian times q's log-derivative collapses to that one subtraction because
// sum_c q_nc = 1.) logits (C,) for one example is the same with N = 1.
void CrossEntropyBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: dx starts as a copy of the saved probabilities; subtract q row by row (1 - s at the target column, s / C everywhere) and scale row n by its g_n.
    //! HINT: g is () for mean and sum: the same number for every row (divided by N for the mean); for none it holds one value per row.
    const Tensor& logits = inputs[0];
    if (!logits.requires_grad()) return;
    const Tensor p = probabilities.contiguous(), t = targets.contiguous(), g = grad_out.contiguous();
    const int64_t C = p.size(-1), N = t.numel();  // p: (N, C), or (C,) for one example
    const float s = label_smoothing;
    const float smooth = s / static_cast<float>(C);  // q on every class
    const float mean_scale = reduction == Reduction::mean ? 1.0f / static_cast<float>(N) : 1.0f;
    Tensor dx = empty(p.shape());
    for (int64_t n = 0; n < N; ++n) {
        const float g_n = (reduction == Reduction::none ? g.data()[n] : g.data()[0]) * mean_scale;
        const int64_t k = static_cast<int64_t>(t.data()[n]);  // validated by the forward
        const float* p_row = p.data() + n * C;                 // (C,)
        float* dx_row = dx.data() + n * C;
        for (int64_t c = 0; c < C; ++c) dx_row[c] = (p_row[c] - smooth) * g_n;
        dx_row[k] -= (1.0f - s) * g_n;
    }
    accumulate_grad(logits, dx);
    //! END SOLUTION
}

// binary_cross_entropy: loss_i = -(y log p + (1 - y) log(1 - p))
//     d loss_i / d p = -y / p + (1 - y) / (1 - p) = (p - y) / (p (1 - p))
//     dp += g_i * (p - y) / max(p (1 - p), 1e-12)       (/ n for the mean)
// The denominator is clamped so p = 0 or 1 gives a huge but finite gradient, not inf or NaN.
void BCEBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: inputs[0] is p, inputs[1] the targets y; loop over contiguous copies. g is one number for mean/sum (divide by n for the mean), one per element for none.
    const Tensor& probabilities = inputs[0];
    if (!probabilities.requires_grad()) return;
    const Tensor p = probabilities.contiguous(), y = inputs[1].contiguous(), g = grad_out.contiguous();
    const int64_t n = p.numel();
    const float mean_scale = reduction == Reduction::mean ? 1.0f / static_cast<float>(n) : 1.0f;
    Tensor dp = empty(p.shape());
    for (int64_t i = 0; i < n; ++i) {
        const float pi = p.data()[i], yi = y.data()[i];
        const float g_i = (reduction == Reduction::none ? g.data()[i] : g.data()[0]) * mean_scale;
        dp.data()[i] = g_i * (pi - yi) / std::max(pi * (1.0f - pi), 1e-12f);
    }
    accumulate_grad(probabilities, dp);
    //! END SOLUTION
}

// binary_cross_entropy_with_logits: loss_i = max(x, 0) - x y + log(1 + e^-|x|) = BCE(sigmoid(x), y)
//     d loss_i / d x = sigmoid(x) - y                   (the chain rule through the sigmoid cancels
//     dx += g_i * (sigmoid(x) - y)    (/ n for mean)     p (1 - p) exactly: bounded, no clamp needed)
// sigmoid is computed the overflow-free way, from e^-|x| (see 03_activations).
void BCEWithLogitsBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: the same loop as BCEBackward with the simpler derivative; sigmoid(x) from z = e^-|x|: 1 / (1 + z) for x >= 0, z / (1 + z) otherwise.
    const Tensor& logits = inputs[0];
    if (!logits.requires_grad()) return;
    const Tensor x = logits.contiguous(), y = inputs[1].contiguous(), g = grad_out.contiguous();
    const int64_t n = x.numel();
    const float mean_scale = reduction == Reduction::mean ? 1.0f / static_cast<float>(n) : 1.0f;
    Tensor dx = empty(x.shape());
    for (int64_t i = 0; i < n; ++i) {
        const float xi = x.data()[i], yi = y.data()[i];
        const float z = std::exp(-std::fabs(xi));  // in (0, 1]
        const float sigmoid = (xi >= 0.0f ? 1.0f : z) / (1.0f + z);
        const float g_i = (reduction == Reduction::none ? g.data()[i] : g.data()[0]) * mean_scale;
        dx.data()[i] = g_i * (sigmoid - yi);
    }
    accumulate_grad(logits, dx);
    //! END SOLUTION
}

}  // namespace tt
