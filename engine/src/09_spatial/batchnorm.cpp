// batchnorm.cpp - module 09: batch normalisation, its backward, and BatchNorm2d.
//
// A deep network trains badly when the scale of its activations drifts from layer to layer (the
// same multiplicative effect as a bad initialisation, module 04, except that it changes as the
// weights learn). Batch normalisation (Ioffe and Szegedy, 2015) re-centres and re-scales every
// channel at every step, using the statistics of the batch itself:
//
//     x: (N, C, H, W)     each channel c has m = N * H * W values (over the batch and the image)
//     mean_c = sum(x[:, c]) / m          var_c = sum((x[:, c] - mean_c)^2) / m     (biased: / m)
//     x_hat  = (x - mean_c) / sqrt(var_c + eps)                 mean 0, variance ~1 per channel
//     y      = x_hat * weight[c] + bias[c]                      the network may undo it if it helps
//
// A (N, C) input (after a Linear) works the same with H = W = 1. eps keeps the division finite for
// a channel that is constant over the batch; it goes INSIDE the square root, as in PyTorch.
//
// Training and evaluation differ. In training the statistics come from the batch, and a running
// average of them is kept for later (PyTorch's momentum is the weight of the NEW value):
//     running_mean = (1 - momentum) * running_mean + momentum * mean_c
//     running_var  = (1 - momentum) * running_var  + momentum * var_c * m / (m - 1)     (unbiased)
// In evaluation the running statistics are used and left alone: the output of one example must
// not depend on which other examples share its batch (a deployed model sees one image at a time).
// Forgetting model.eval() before testing is the classic BatchNorm bug: the test accuracy then
// depends on the test batch size, and the running statistics drift towards the test set.
//
// Cost: a few passes over the activations (mean, variance, output; two in the backward) with a
// handful of FLOPs per element - memory-bound, like pooling. Written as tensor ops (x.mean(...),
// x - mean, / sqrt(...), * weight, + bias) it would be about ten passes, each allocating an
// activation-sized temporary and recording a node; here each pass is one loop over contiguous
// (H, W) planes, and the backward node gets the closed-form gradient (spatial.h) instead of a
// chain of ten nodes.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] Element c of a 1-D tensor, through its stride and offset: the running statistics are
// updated in place, and a caller may pass views.
[[maybe_unused]] float& channel(const Tensor& t, int64_t c) { return t.data()[c * t.strides()[0]]; }

}  // namespace

// input (N, C, H, W) or (N, C) -> the same shape. running_mean, running_var, weight, bias: (C,).
Tensor batch_norm(const Tensor& input, Tensor running_mean, Tensor running_var, const Tensor& weight, const Tensor& bias,
                  bool training, float momentum, float eps) {
    Tensor out, x_hat, inverse_std;
    //! BEGIN SOLUTION
    //! HINT: check first: at least 2 dims (N, C, ...); weight, bias and the running statistics (when defined) of shape (C,); in evaluation the running statistics must be defined; in training each channel needs m > 1 values.
    //! HINT: x = input.detach().contiguous(); with S = H * W (1 for (N, C)), the values of channel c are the N planes x.data() + (n * C + c) * S, each S floats long.
    //! HINT: training: per channel, the mean, then the biased variance (a second pass over (x - mean)^2 is numerically safer than E[x^2] - mean^2); accumulate in double. Then update running_mean and running_var in place (channel(t, c) = ...; t.bump_version() once after writing), with the UNBIASED variance var * m / (m - 1).
    //! HINT: evaluation: mean and variance are the running statistics, unchanged.
    //! HINT: inverse_std = empty({C}) holds 1 / sqrt(var + eps). y = x_hat * weight[c] + bias[c] (weight 1 and bias 0 when undefined).
    //! HINT: the backward needs x_hat: keep it in a tensor when a graph will be recorded (is_grad_enabled() and some input requires grad); otherwise skip writing it.
    TT_CHECK(input.dim() >= 2, "batch_norm: input of shape ", shape_str(input.shape()),
             " needs at least 2 dimensions: (N, C, H, W) or (N, C)");
    const int64_t N = input.size(0), C = input.size(1);
    auto check_per_channel = [&](const Tensor& t, const char* what) {
        TT_CHECK(!t.defined() || (t.dim() == 1 && t.size(0) == C), "batch_norm: ", what, " of shape ",
                 t.defined() ? shape_str(t.shape()) : std::string("()"), " for input ", shape_str(input.shape()),
                 ": it must be (", C, ",), one value per channel (dimension 1 of the input)");
    };
    check_per_channel(weight, "weight");
    check_per_channel(bias, "bias");
    check_per_channel(running_mean, "running_mean");
    check_per_channel(running_var, "running_var");
    const int64_t spatial = N * C == 0 ? 0 : input.numel() / (N * C);  // H * W, or 1 for (N, C)
    const int64_t count = N * spatial;                                  // m: the values of one channel
    if (training) {
        TT_CHECK(count > 1, "batch_norm: training needs more than one value per channel, but input ",
                 shape_str(input.shape()), " has ", count, "; use a batch of more than one example, or eval() mode");
    } else {
        TT_CHECK(running_mean.defined() && running_var.defined(),
                 "batch_norm: evaluation mode needs running_mean and running_var (the statistics gathered in training)");
    }

    const Tensor x = input.detach().contiguous();  // (N, C, S)
    inverse_std = empty({C});
    std::vector<float> mean(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) {
        if (training) {
            double total = 0.0;
            for (int64_t n = 0; n < N; ++n) {
                const float* v = x.data() + (n * C + c) * spatial;
                for (int64_t i = 0; i < spatial; ++i) total += v[i];
            }
            const double m = total / static_cast<double>(count);
            double squares = 0.0;
            for (int64_t n = 0; n < N; ++n) {
                const float* v = x.data() + (n * C + c) * spatial;
                for (int64_t i = 0; i < spatial; ++i) squares += (v[i] - m) * (v[i] - m);
            }
            const double variance = squares / static_cast<double>(count);  // biased: normalises this batch
            mean[c] = static_cast<float>(m);
            inverse_std.data()[c] = static_cast<float>(1.0 / std::sqrt(variance + eps));
            if (running_mean.defined())
                channel(running_mean, c) = static_cast<float>((1.0 - momentum) * channel(running_mean, c) + momentum * m);
            if (running_var.defined()) {
                const double unbiased = variance * static_cast<double>(count) / static_cast<double>(count - 1);
                channel(running_var, c) = static_cast<float>((1.0 - momentum) * channel(running_var, c) + momentum * unbiased);
            }
        } else {
            mean[c] = channel(running_mean, c);
            inverse_std.data()[c] = 1.0f / std::sqrt(channel(running_var, c) + eps);
        }
    }
    if (training && running_mean.defined()) running_mean.bump_version();
    if (training && running_var.defined()) running_var.bump_version();

    const bool needs_graph = is_grad_enabled() && (input.requires_grad() || (weight.defined() && weight.requires_grad()) ||
                                                   (bias.defined() && bias.requires_grad()));
    out = empty(input.shape());
    if (needs_graph) x_hat = empty(input.shape());
    const Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
    const Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t c = 0; c < C; ++c) {
            const int64_t start = (n * C + c) * spatial;
            const float m = mean[c], inv = inverse_std.data()[c];
            const float scale = w.defined() ? w.data()[c] : 1.0f, shift = b.defined() ? b.data()[c] : 0.0f;
            const float* src = x.data() + start;
            float* dst = out.data() + start;
            float* normalised = needs_graph ? x_hat.data() + start : nullptr;
            for (int64_t i = 0; i < spatial; ++i) {
                const float h = (src[i] - m) * inv;
                if (normalised) normalised[i] = h;
                dst[i] = h * scale + shift;
            }
        }
    }
    //! END SOLUTION
    return record<BatchNormBackward>(out, {input, weight, bias}, x_hat, inverse_std, training);
}

// g: the input's shape. With m values per channel and sums over (N, H, W):
//     dbias += sum(g)     dweight += sum(g * x_hat)
//     training:   dx += weight * inverse_std * (g - sum(g) / m - x_hat * sum(g * x_hat) / m)
//     evaluation: dx += weight * inverse_std * g
// Why training has the two extra terms: every x of the channel moved the mean and the variance
// that normalised all the others, and those paths carry gradient too. The closed form needs only
// two sums per channel, so the whole backward is two passes over memory.
void BatchNormBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: one pass for the two per-channel sums (double accumulators), then one pass writing dx; reuse the forward's layout: plane (n, c) starts at (n * C + c) * S.
    //! HINT: weight is inputs[1] (undefined: 1); skip each gradient whose input does not require grad, and hand the others over with accumulate_grad.
    const Tensor& input = inputs[0];
    const Tensor& weight = inputs[1];
    const Tensor& bias = inputs[2];
    const int64_t N = grad_out.size(0), C = grad_out.size(1);
    const int64_t spatial = N * C == 0 ? 0 : grad_out.numel() / (N * C);
    const double count = static_cast<double>(N * spatial);
    const Tensor g = grad_out.contiguous();
    const Tensor normalised = x_hat.contiguous();
    std::vector<double> sum_g(static_cast<size_t>(C), 0.0), sum_g_x_hat(static_cast<size_t>(C), 0.0);
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t c = 0; c < C; ++c) {
            const float* gp = g.data() + (n * C + c) * spatial;
            const float* hp = normalised.data() + (n * C + c) * spatial;
            double a = 0.0, b = 0.0;
            for (int64_t i = 0; i < spatial; ++i) {
                a += gp[i];
                b += static_cast<double>(gp[i]) * hp[i];
            }
            sum_g[c] += a;
            sum_g_x_hat[c] += b;
        }
    }
    if (bias.defined() && bias.requires_grad()) {
        Tensor db = empty({C});
        for (int64_t c = 0; c < C; ++c) db.data()[c] = static_cast<float>(sum_g[c]);
        accumulate_grad(bias, db);
    }
    if (weight.defined() && weight.requires_grad()) {
        Tensor dw = empty({C});
        for (int64_t c = 0; c < C; ++c) dw.data()[c] = static_cast<float>(sum_g_x_hat[c]);
        accumulate_grad(weight, dw);
    }
    if (input.requires_grad()) {
        const Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
        Tensor dx = empty(grad_out.shape());
        for (int64_t n = 0; n < N; ++n) {
            for (int64_t c = 0; c < C; ++c) {
                const int64_t start = (n * C + c) * spatial;
                const float scale = (w.defined() ? w.data()[c] : 1.0f) * inverse_std.data()[c];
                const float mean_g = training ? static_cast<float>(sum_g[c] / count) : 0.0f;
                const float mean_g_x_hat = training ? static_cast<float>(sum_g_x_hat[c] / count) : 0.0f;
                const float* gp = g.data() + start;
                const float* hp = normalised.data() + start;
                float* d = dx.data() + start;
                for (int64_t i = 0; i < spatial; ++i) d[i] = scale * (gp[i] - mean_g - hp[i] * mean_g_x_hat);
            }
        }
        accumulate_grad(input, dx);
    }
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// BatchNorm2d
// ---------------------------------------------------------------------------------------------

// weight (C,) = 1 and bias (C,) = 0 as parameters: the layer starts as a pure normalisation.
// running_mean (C,) = 0 and running_var (C,) = 1 as buffers: saved in checkpoints, never given to
// an optimizer (they are averaged, not trained).
BatchNorm2d::BatchNorm2d(int64_t num_features, float eps, float momentum)
    : num_features(num_features), eps(eps), momentum(momentum) {
    //! BEGIN SOLUTION
    //! HINT: check num_features >= 1; then register_parameter("weight", ...), register_parameter("bias", ...), register_buffer("running_mean", ...), register_buffer("running_var", ...), in that order.
    TT_CHECK(num_features >= 1, "BatchNorm2d: num_features ", num_features, " must be at least 1 (the number of channels)");
    weight = register_parameter("weight", ones({num_features}));
    bias = register_parameter("bias", zeros({num_features}));
    running_mean = register_buffer("running_mean", zeros({num_features}));
    running_var = register_buffer("running_var", ones({num_features}));
    //! END SOLUTION
}

// x: (N, C, H, W) -> the same shape. Batch statistics in train() mode, running ones in eval().
Tensor BatchNorm2d::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    //! HINT: check x is (N, num_features, H, W) with an error naming the layer and the shape, then call batch_norm with is_training().
    TT_CHECK(x.dim() == 4 && x.size(1) == num_features, name(), "(", extra_repr(), "): input of shape ", shape_str(x.shape()),
             " is not (N, ", num_features, ", H, W)");
    return batch_norm(x, running_mean, running_var, weight, bias, is_training(), momentum, eps);
    //! END SOLUTION
}

// "16, eps=1e-05, momentum=0.1"
std::string BatchNorm2d::extra_repr() const {
    //! BEGIN SOLUTION
    //! HINT: std::ostringstream prints floats in their shortest form: 1e-05 and 0.1, as PyTorch shows them.
    std::ostringstream out;
    out << num_features << ", eps=" << eps << ", momentum=" << momentum;
    return out.str();
    //! END SOLUTION
}

}  // namespace tt
