// layer_norm.cpp - module 14: layer normalisation, its backward, and the LayerNorm layer.
//
// BatchNorm (module 09) normalises each feature over the batch; a transformer normalises each
// token over its own features instead (Ba, Kiros and Hinton, 2016):
//
//     x: (..., D)      every row of D values (one token's vector) on its own
//     mean  = sum(x_row) / D          var = sum((x_row - mean)^2) / D         (biased: / D)
//     x_hat = (x_row - mean) / sqrt(var + eps)                   mean 0, variance ~1 per row
//     y     = x_hat * weight + bias                              weight, bias: (D,)
//
// No running statistics and no train/eval difference: a token's output depends on nothing but
// that token, so it is the same whatever the batch size or the other sequences in it - which is
// what generating one sequence at a time needs, and why transformers use it.
//
// Cost: a GPT calls layer_norm 2 L + 1 times per forward, on (B, T, D) activations, with a handful
// of FLOPs per element: it is memory-bound. Written as tensor ops (mean, sub, pow, mean, add, sqrt,
// div, mul, add) it would be about nine passes over memory, each allocating a (B, T, D) temporary
// and recording a node; here it is one fused op: one pass per row for the statistics, one writing
// y (and x_hat, which the backward needs), and a backward node with the closed-form gradient.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"
#include "tinytorch/transformer.h"

namespace tt {

// x (..., D) -> (..., D). weight, bias: (D,) or undefined. inverse_std (rows,) and x_hat (..., D)
// are what the backward needs; x_hat is only written when a graph will be recorded.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
    Tensor out, x_hat, inverse_std;
    //! BEGIN SOLUTION
    //! HINT: check first: x has at least one dimension and D = x.size(-1) >= 1; weight and bias, when defined, are (D,). Each error names layer_norm and both shapes.
    //! HINT: x = x.detach().contiguous(): row r is the D floats at x.data() + r * D, rows = numel / D.
    //! HINT: ONE pass per row for the statistics: accumulate sum and sum of squares in double, then mean = sum / D and var = sum_squares / D - mean^2 (biased; clamp at 0 against rounding). eps goes INSIDE the square root.
    //! HINT: inverse_std = empty({rows}) holds 1 / sqrt(var + eps); y = x_hat * weight[i] + bias[i] (1 and 0 when undefined).
    //! HINT: keep x_hat in a tensor only when a graph will be recorded (is_grad_enabled() and x, weight or bias requires grad).
    TT_CHECK(x.dim() >= 1 && x.size(-1) >= 1, "layer_norm: input of shape ", shape_str(x.shape()),
             " has no features to normalise; it must be (..., D) with D >= 1 (the last dimension)");
    const int64_t D = x.size(-1);
    auto check_vector = [&](const Tensor& t, const char* what) {
        TT_CHECK(!t.defined() || (t.dim() == 1 && t.size(0) == D), "layer_norm: ", what, " of shape ",
                 t.defined() ? shape_str(t.shape()) : std::string("()"), " for input ", shape_str(x.shape()),
                 ": it must be (", D, ",), one value per feature (the last dimension of the input)");
    };
    check_vector(weight, "weight");
    check_vector(bias, "bias");

    const Tensor input = x.detach().contiguous();  // (rows, D) in memory
    const int64_t rows = input.numel() / D;
    const bool needs_graph = is_grad_enabled() && (x.requires_grad() || (weight.defined() && weight.requires_grad()) ||
                                                   (bias.defined() && bias.requires_grad()));
    out = empty(x.shape());
    inverse_std = empty({rows});
    if (needs_graph) x_hat = empty(x.shape());
    const Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
    const Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
    const float* scale = w.defined() ? w.data() : nullptr;
    const float* shift = b.defined() ? b.data() : nullptr;
    for (int64_t r = 0; r < rows; ++r) {
        const float* src = input.data() + r * D;  // (D,) one token
        // One pass for both moments: the row is read from memory once. Double accumulators keep
        // E[x^2] - mean^2 accurate for float inputs (the cancellation costs digits float lacks).
        double total = 0.0, squares = 0.0;
        for (int64_t i = 0; i < D; ++i) {
            total += src[i];
            squares += static_cast<double>(src[i]) * src[i];
        }
        const double mean = total / static_cast<double>(D);
        const double variance = std::max(squares / static_cast<double>(D) - mean * mean, 0.0);
        const float inv = static_cast<float>(1.0 / std::sqrt(variance + eps));
        inverse_std.data()[r] = inv;
        const float m = static_cast<float>(mean);
        float* dst = out.data() + r * D;
        float* normalised = needs_graph ? x_hat.data() + r * D : nullptr;
        for (int64_t i = 0; i < D; ++i) {
            const float h = (src[i] - m) * inv;
            if (normalised) normalised[i] = h;
            dst[i] = h * (scale ? scale[i] : 1.0f) + (shift ? shift[i] : 0.0f);
        }
    }
    //! END SOLUTION
    return record<LayerNormBackward>(out, {x, weight, bias}, x_hat, inverse_std);
}

// g: (..., D), one row per token. With gw = g * weight and means over the D values of a row:
//     dbias   += sum over rows of g                dweight += sum over rows of g * x_hat
//     dx      += inverse_std * (gw - mean(gw) - x_hat * mean(gw * x_hat))
// Why the two extra terms in dx: each x of a row moved that row's mean and variance, which
// normalised all D values of the row (BatchNorm's formula, module 09, with the roles of the batch
// and the features swapped). Two sums per row, so the backward is two passes over memory.
void LayerNormBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: inputs are x, weight, bias (weight and bias may be undefined: scale 1, no shift). Skip each gradient whose input does not require grad; hand the others to accumulate_grad.
    //! HINT: per row r (D values at r * D of the contiguous g and x_hat): dbias[i] += g[i], dweight[i] += g[i] * x_hat[i] (sums over all rows), and for dx the two row means of gw and gw * x_hat.
    const Tensor& x = inputs[0];
    const Tensor& weight = inputs[1];
    const Tensor& bias = inputs[2];
    const int64_t D = grad_out.size(-1);
    const int64_t rows = inverse_std.numel();
    const Tensor g = grad_out.contiguous();
    const float* h = x_hat.data();
    const bool want_weight = weight.defined() && weight.requires_grad();
    const bool want_bias = bias.defined() && bias.requires_grad();
    if (want_weight || want_bias) {
        std::vector<double> dw(static_cast<size_t>(D), 0.0), db(static_cast<size_t>(D), 0.0);
        for (int64_t r = 0; r < rows; ++r) {
            const float* gr = g.data() + r * D;
            const float* hr = h + r * D;
            for (int64_t i = 0; i < D; ++i) {
                dw[i] += static_cast<double>(gr[i]) * hr[i];
                db[i] += gr[i];
            }
        }
        if (want_weight) {
            Tensor dweight = empty({D});
            for (int64_t i = 0; i < D; ++i) dweight.data()[i] = static_cast<float>(dw[i]);
            accumulate_grad(weight, dweight);
        }
        if (want_bias) {
            Tensor dbias = empty({D});
            for (int64_t i = 0; i < D; ++i) dbias.data()[i] = static_cast<float>(db[i]);
            accumulate_grad(bias, dbias);
        }
    }
    if (x.requires_grad()) {
        const Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
        const float* scale = w.defined() ? w.data() : nullptr;
        Tensor dx = empty(grad_out.shape());
        std::vector<float> gw(static_cast<size_t>(D));  // g * weight of one row
        for (int64_t r = 0; r < rows; ++r) {
            const float* gr = g.data() + r * D;
            const float* hr = h + r * D;
            double sum_gw = 0.0, sum_gw_h = 0.0;
            for (int64_t i = 0; i < D; ++i) {
                gw[i] = scale ? gr[i] * scale[i] : gr[i];
                sum_gw += gw[i];
                sum_gw_h += static_cast<double>(gw[i]) * hr[i];
            }
            const float mean_gw = static_cast<float>(sum_gw / static_cast<double>(D));
            const float mean_gw_h = static_cast<float>(sum_gw_h / static_cast<double>(D));
            const float inv = inverse_std.data()[r];
            float* d = dx.data() + r * D;
            for (int64_t i = 0; i < D; ++i) d[i] = inv * (gw[i] - mean_gw - hr[i] * mean_gw_h);
        }
        accumulate_grad(x, dx);
    }
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// LayerNorm
// ---------------------------------------------------------------------------------------------

// weight (dim,) = 1 and bias (dim,) = 0: the layer starts as a pure normalisation, and learns
// which features to stretch and shift back.
LayerNorm::LayerNorm(int64_t dim, float eps, bool bias) : dim(dim), eps(eps) {
    //! BEGIN SOLUTION
    //! HINT: check dim >= 1 and eps >= 0 (errors name LayerNorm and the value); register_parameter("weight", ...) then, when bias, register_parameter("bias", ...); without one, this->bias stays undefined.
    TT_CHECK(dim >= 1, "LayerNorm: dim ", dim, " must be at least 1 (the size of the last dimension it normalises)");
    TT_CHECK(eps >= 0.0f, "LayerNorm: eps ", eps, " must not be negative (it keeps sqrt(var + eps) away from 0)");
    weight = register_parameter("weight", ones({dim}));
    if (bias) this->bias = register_parameter("bias", zeros({dim}));
    //! END SOLUTION
}

// x: (..., dim) -> the same shape.
Tensor LayerNorm::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    //! HINT: check the last dimension of x is dim, with an error naming the layer (name() + "(" + extra_repr() + ")") and the shape; then one call of layer_norm.
    TT_CHECK(x.dim() >= 1 && x.size(-1) == dim, name(), "(", extra_repr(), "): input of shape ", shape_str(x.shape()),
             " does not end with ", dim, " features (LayerNorm normalises the last dimension)");
    return layer_norm(x, weight, bias, eps);
    //! END SOLUTION
}

// "128, eps=1e-05, bias=true"
std::string LayerNorm::extra_repr() const {
    //! BEGIN SOLUTION
    std::ostringstream out;
    out << dim << ", eps=" << eps << ", bias=" << (bias.defined() ? "true" : "false");
    return out.str();
    //! END SOLUTION
}

}  // namespace tt
