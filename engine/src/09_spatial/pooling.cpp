// pooling.cpp - module 09: max and average pooling, their backward, and the pooling layers.
//
// Pooling summarises each k x k window of every channel by one number, with the window moved s
// pixels at a time (s = k by default: windows side by side, no overlap):
//
//     (N, C, H, W) -> (N, C, H', W'),   H' = (H + 2p - k) / s + 1   as for a convolution
//
//     max_pool2d, k = 2:    [[1, 3, 2, 0],        [[4, 2],
//                            [4, 2, 1, 1],    ->   [8, 9]]
//                            [0, 8, 9, 5],
//                            [6, 7, 3, 4]]
//
// Why networks pool: it halves the resolution (MaxPool2d(2) keeps a quarter of the values, so the
// next conv costs 4x less), it lets the next layer's k x k kernel see twice as far, and a max does
// not care where in its window a feature fired, which tolerates small shifts of the image.
//
// Each channel of each image is an independent (H, W) plane, contiguous in memory: both ops walk
// the planes one after the other, reading every input value about (k/s)^2 times (once for the
// default s = k) and writing each output once - a single pass over memory, no temporaries. There
// is no arithmetic to speak of, so this is as fast as memory allows: a few milliseconds at most
// next to the convolutions around it.
//
// Padding: max pooling treats it as -infinity (never the maximum), average pooling as 0 that still
// counts in the divisor k*k (PyTorch's default count_include_pad = true). Both require p <= k/2,
// as PyTorch, so every window holds at least one real pixel.
//
// Backward: max pooling routes each output's gradient to the one input that won its window - the
// forward remembers which (argmax), so the backward is a scatter with no comparisons. Average
// pooling spreads each gradient evenly: g / (k*k) to every real pixel of the window. With
// overlapping windows (s < k) an input gets contributions from several outputs: they are added.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "tinytorch/autograd.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] Checks the arguments of max_pool2d / avg_pool2d (`op` names which) and returns the
// geometry of the windows over one (H, W) plane (channels = C). stride 0 means stride = k.
//     pool_geometry("max_pool2d", x (8, 3, 32, 32), 2, 0, 0) -> {3, 32, 32, k 2, s 2, p 0}: 16 x 16 outputs
[[maybe_unused]] Conv2dGeometry pool_geometry(const char* op, const Tensor& input, int64_t kernel_size, int64_t stride,
                                              int64_t padding) {
    TT_CHECK(input.dim() == 4, op, ": input of shape ", shape_str(input.shape()), " has ", input.dim(),
             " dimensions; expected (N, C, H, W) (one image (C, H, W) goes in as input.unsqueeze(0))");
    TT_CHECK(kernel_size >= 1, op, ": kernel_size ", kernel_size, " must be at least 1");
    TT_CHECK(stride >= 0, op, ": stride ", stride, " must be at least 1 (or 0 for the default, stride = kernel_size)");
    TT_CHECK(padding >= 0 && 2 * padding <= kernel_size, op, ": padding ", padding, " with kernel_size ", kernel_size,
             ": padding must be between 0 and kernel_size / 2, so every window holds at least one real pixel");
    const int64_t H = input.size(2), W = input.size(3);
    TT_CHECK(H + 2 * padding >= kernel_size && W + 2 * padding >= kernel_size, op, ": input ", shape_str(input.shape()),
             " padded by ", padding, " is ", H + 2 * padding, "x", W + 2 * padding, ", smaller than the ", kernel_size, "x",
             kernel_size, " window; use a smaller kernel_size");
    return {input.size(1), H, W, kernel_size, stride > 0 ? stride : kernel_size, padding};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// max_pool2d
// ---------------------------------------------------------------------------------------------

// (N, C, H, W) -> (N, C, H', W'); argmax (N, C, H', W') holds, for each output, the flat index
// y * W + x of the input that won its window, within its own (n, c) plane.
Tensor max_pool2d(const Tensor& input, int64_t kernel_size, int64_t stride, int64_t padding) {
    Tensor out, argmax;
    //! BEGIN SOLUTION
    //! HINT: g = pool_geometry("max_pool2d", input, kernel_size, stride, padding) checks the arguments and gives k, s, p, H', W' (use g.stride: it replaces 0 by k).
    //! HINT: for each of the N*C planes and each output (y, x), the window covers rows y*s - p ... y*s - p + k - 1 (columns alike); clip it to the image: padding is -infinity and never wins.
    //! HINT: keep the first maximum: replace the best only when a value is strictly greater. A NaN in the window is its maximum, as in PyTorch (NaN > best is false: test it with std::isnan).
    //! HINT: store the winner's flat index iy * W + ix in argmax (a float tensor of the output's shape); the backward needs nothing else.
    const Conv2dGeometry g = pool_geometry("max_pool2d", input, kernel_size, stride, padding);
    const int64_t N = input.size(0), C = g.channels, H = g.height, W = g.width;
    const int64_t k = g.kernel, s = g.stride, p = g.padding;
    const int64_t out_h = g.out_height(), out_w = g.out_width();
    const Tensor x = input.detach().contiguous();
    out = empty({N, C, out_h, out_w});
    argmax = empty({N, C, out_h, out_w});
    for (int64_t plane = 0; plane < N * C; ++plane) {
        const float* src = x.data() + plane * H * W;  // (H, W)
        float* dst = out.data() + plane * out_h * out_w;
        float* index = argmax.data() + plane * out_h * out_w;
        for (int64_t y = 0; y < out_h; ++y) {
            const int64_t y_begin = std::max<int64_t>(y * s - p, 0), y_end = std::min(y * s - p + k, H);
            for (int64_t x_out = 0; x_out < out_w; ++x_out) {
                const int64_t x_begin = std::max<int64_t>(x_out * s - p, 0), x_end = std::min(x_out * s - p + k, W);
                float best = -std::numeric_limits<float>::infinity();
                int64_t best_at = y_begin * W + x_begin;  // a window of -inf still names a real pixel
                bool saw_nan = false;
                for (int64_t iy = y_begin; iy < y_end; ++iy)
                    for (int64_t ix = x_begin; ix < x_end; ++ix) {
                        // Strictly greater: ties keep the first. Two selects, not an if: on real
                        // activations "is this one bigger?" is a coin toss that the branch
                        // predictor loses half the time (an if made this loop 4x slower); the
                        // compiler turns these into a max instruction and a conditional move.
                        const float v = src[iy * W + ix];
                        best_at = v > best ? iy * W + ix : best_at;
                        best = v > best ? v : best;
                        saw_nan |= std::isnan(v);
                    }
                if (saw_nan) {  // rare: a NaN is the maximum, at the last NaN of the window (PyTorch's rule)
                    for (int64_t iy = y_begin; iy < y_end; ++iy)
                        for (int64_t ix = x_begin; ix < x_end; ++ix)
                            if (std::isnan(src[iy * W + ix])) {
                                best = src[iy * W + ix];
                                best_at = iy * W + ix;
                            }
                }
                dst[y * out_w + x_out] = best;
                index[y * out_w + x_out] = static_cast<float>(best_at);  // exact: a plane holds far fewer than 2^24 pixels
            }
        }
    }
    //! END SOLUTION
    return record<MaxPool2dBackward>(out, {input}, input.shape(), argmax);
}

// dx[n, c, argmax[n, c, y, x]] += g[n, c, y, x]: each output's gradient goes to its window's winner.
void MaxPool2dBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: dx = zeros(input_shape); for every output of every plane, add its g at the flat position argmax holds in that plane. Add (+=), do not assign: with overlapping windows one pixel can win several.
    const Tensor& input = inputs[0];
    if (!input.requires_grad()) return;
    const int64_t planes = input_shape[0] * input_shape[1], plane_size = input_shape[2] * input_shape[3];
    const int64_t outputs = grad_out.size(2) * grad_out.size(3);
    const Tensor g = grad_out.contiguous(), winners = argmax.contiguous();
    Tensor dx = zeros(input_shape);
    for (int64_t plane = 0; plane < planes; ++plane) {
        const float* g_plane = g.data() + plane * outputs;
        const float* index = winners.data() + plane * outputs;
        float* d = dx.data() + plane * plane_size;
        for (int64_t o = 0; o < outputs; ++o) d[static_cast<int64_t>(index[o])] += g_plane[o];
    }
    accumulate_grad(input, dx);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// avg_pool2d
// ---------------------------------------------------------------------------------------------

// (N, C, H, W) -> (N, C, H', W'): the sum of each window's real pixels divided by k*k (padding
// counts as 0 and is counted).
Tensor avg_pool2d(const Tensor& input, int64_t kernel_size, int64_t stride, int64_t padding) {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: the same window walk as max_pool2d: sum the pixels of the clipped window, then divide by k*k - not by the number of pixels summed (count_include_pad).
    const Conv2dGeometry g = pool_geometry("avg_pool2d", input, kernel_size, stride, padding);
    const int64_t N = input.size(0), C = g.channels, H = g.height, W = g.width;
    const int64_t k = g.kernel, s = g.stride, p = g.padding;
    const int64_t out_h = g.out_height(), out_w = g.out_width();
    const float scale = 1.0f / static_cast<float>(k * k);
    const Tensor x = input.detach().contiguous();
    out = empty({N, C, out_h, out_w});
    for (int64_t plane = 0; plane < N * C; ++plane) {
        const float* src = x.data() + plane * H * W;
        float* dst = out.data() + plane * out_h * out_w;
        for (int64_t y = 0; y < out_h; ++y) {
            const int64_t y_begin = std::max<int64_t>(y * s - p, 0), y_end = std::min(y * s - p + k, H);
            for (int64_t x_out = 0; x_out < out_w; ++x_out) {
                const int64_t x_begin = std::max<int64_t>(x_out * s - p, 0), x_end = std::min(x_out * s - p + k, W);
                float total = 0.0f;
                for (int64_t iy = y_begin; iy < y_end; ++iy)
                    for (int64_t ix = x_begin; ix < x_end; ++ix) total += src[iy * W + ix];
                dst[y * out_w + x_out] = total * scale;
            }
        }
    }
    //! END SOLUTION
    return record<AvgPool2dBackward>(out, {input}, input.shape(), kernel_size, stride > 0 ? stride : kernel_size, padding);
}

// dx[each real pixel of the window of (y, x)] += g[n, c, y, x] / (k*k)
void AvgPool2dBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: walk the windows as in the forward (this node's stride is never 0: the forward resolved it); each real pixel of a window gets g / (k*k), added.
    const Tensor& input = inputs[0];
    if (!input.requires_grad()) return;
    const int64_t H = input_shape[2], W = input_shape[3], k = kernel_size, s = stride, p = padding;
    const int64_t planes = input_shape[0] * input_shape[1];
    const int64_t out_h = grad_out.size(2), out_w = grad_out.size(3);
    const float scale = 1.0f / static_cast<float>(k * k);
    const Tensor g = grad_out.contiguous();
    Tensor dx = zeros(input_shape);
    for (int64_t plane = 0; plane < planes; ++plane) {
        const float* g_plane = g.data() + plane * out_h * out_w;
        float* d = dx.data() + plane * H * W;
        for (int64_t y = 0; y < out_h; ++y) {
            const int64_t y_begin = std::max<int64_t>(y * s - p, 0), y_end = std::min(y * s - p + k, H);
            for (int64_t x_out = 0; x_out < out_w; ++x_out) {
                const int64_t x_begin = std::max<int64_t>(x_out * s - p, 0), x_end = std::min(x_out * s - p + k, W);
                const float share = g_plane[y * out_w + x_out] * scale;
                for (int64_t iy = y_begin; iy < y_end; ++iy)
                    for (int64_t ix = x_begin; ix < x_end; ++ix) d[iy * W + ix] += share;
            }
        }
    }
    accumulate_grad(input, dx);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// The layers: no parameters, only the window's settings
// ---------------------------------------------------------------------------------------------

Tensor MaxPool2d::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    return max_pool2d(x, kernel_size, stride, padding);
    //! END SOLUTION
}

// "kernel_size=2, stride=2, padding=0"
std::string MaxPool2d::extra_repr() const {
    //! BEGIN SOLUTION
    return "kernel_size=" + std::to_string(kernel_size) + ", stride=" + std::to_string(stride) +
           ", padding=" + std::to_string(padding);
    //! END SOLUTION
}

Tensor AvgPool2d::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    return avg_pool2d(x, kernel_size, stride, padding);
    //! END SOLUTION
}

// "kernel_size=2, stride=2, padding=0"
std::string AvgPool2d::extra_repr() const {
    //! BEGIN SOLUTION
    return "kernel_size=" + std::to_string(kernel_size) + ", stride=" + std::to_string(stride) +
           ", padding=" + std::to_string(padding);
    //! END SOLUTION
}

}  // namespace tt
