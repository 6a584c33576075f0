// conv.cpp - module 09: 2-D convolution as im2col + one matrix product per image, its backward,
// and the Conv2d layer.
//
// Letters (as in spatial.h): N batch, C input channels, F filters (output channels), H x W the
// input, k the kernel size, s the stride, p the padding, H' x W' the output, and two products:
//     R = C * k * k       the inputs one output value looks at (a row of the weight matrix)
//     P = H' * W'         the output positions of one image
//
//     out[n, f, y, x] = bias[f] + sum over c, i, j of weight[f, c, i, j] * input[n, c, y*s + i - p, x*s + j - p]
//                                                          (a position in the padding reads 0)
//
// Written as six nested loops this is the *direct* convolution: correct, and slow, because each
// input pixel is fetched k*k times from places far apart in memory and the innermost loop is only
// k long. im2col turns it into the one operation a CPU is good at: copy every k x k window of
// image n into a column of a matrix, columns_n (R, P), and
//
//     out_n (F, P) = weight (F, R) @ columns_n (R, P)        2 * F * R * P FLOPs, through kernels::gemm
//
// The weight needs no copy at all: (F, C, k, k) in row-major order IS the (F, R) matrix, row f
// holding filter f, because im2col numbers its rows (c * k + i) * k + j - the same order.
//
// Costs for the second conv of a small CIFAR net, 16 -> 32 channels, 3x3, on a 16x16 map:
//     columns: R * P = 144 * 256 floats = 147 KB written, then read by gemm
//     product: 2 * F * R * P = 2.4 MFLOP, F = 32 times more arithmetic than floats copied
// One image at a time keeps those 147 KB in the L2 cache while gemm walks them 32 times; the whole
// batch of 64 at once would be 9.4 MB, which falls out of cache and turns the product into a
// memory-bound stream (the columns kept for the backward are written once per image, one image at
// a time, and read again only by the backward).
//
// Backward, for image n with g_n = d(loss)/d(out_n), (F, P):
//     d weight  += g_n @ columns_n^T    (F, P) @ (P, R) -> (F, R)    summed over the batch
//     d columns  = weight^T @ g_n       (R, F) @ (F, P) -> (R, P)    then col2im adds each column
//                                                                   back onto its k x k window
//     d bias    += g_n summed over P                                 (and over the batch)
// Each costs as much as the forward product, so a training step is about 3 forward passes of
// arithmetic. d weight needs every image's columns again. The forward keeps them (all N images,
// N * R * P floats, when the weight will need its gradient), as PyTorch's unfold-based CPU
// convolution kept its `finput`: the copy is not cheap next to products this small (LeNet's first
// conv does 25 multiply-adds per float im2col writes), and making them twice cost LeNet's training
// about a tenth of its time. The price is memory: R / C = k*k times the layer's input (9x for 3x3,
// 25x for 5x5) until the backward has run - 5 MB for LeNet's first conv on a batch of 64.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/kernels.h"
#include "tinytorch/layers.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] out (cols, rows) = a (rows, cols) transposed; both row-major. A copy: it costs rows * cols
// loads and stores, next to the rows * cols * F multiply-adds of the product it feeds - if it is
// done in tiles. The plain double loop stores to `out` with a stride of `rows` floats, a new cache
// line for every float; a 16 x 16 tile reads 16 short runs of `a` and writes 16 short runs of `out`,
// all of it inside the L1 cache (2 KB), which makes the copy several times faster.
[[maybe_unused]] void transpose_into(const float* a, int64_t rows, int64_t cols, float* out) {
    constexpr int64_t tile = 16;
    for (int64_t r0 = 0; r0 < rows; r0 += tile)
        for (int64_t c0 = 0; c0 < cols; c0 += tile) {
            const int64_t r1 = std::min(r0 + tile, rows), c1 = std::min(c0 + tile, cols);
            for (int64_t c = c0; c < c1; ++c)
                for (int64_t r = r0; r < r1; ++r) out[c * rows + r] = a[r * cols + c];
        }
}

//! BEGIN SOLUTION
//! HINT: a helper that answers "for which output positions does the kernel tap land inside the image?" saves a test per pixel in im2col and col2im.
// The output positions o in [0, out) whose input position o * stride + shift is inside [0, size):
// [begin, end). Outside that span the kernel tap lies in the padding. Computed once per kernel
// tap (i or j), so the copy loops below are plain, branch-free runs the compiler vectorises.
//     o * stride + shift >= 0          <=>  o >= ceil(-shift / stride)
//     o * stride + shift <= size - 1   <=>  o <= floor((size - 1 - shift) / stride)
struct Span {
    int64_t begin, end;
};
Span inside_span(int64_t shift, int64_t size, int64_t stride, int64_t out) {
    const int64_t begin = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
    const int64_t end = size - 1 - shift < 0 ? 0 : (size - 1 - shift) / stride + 1;
    const int64_t b = std::min(begin, out);
    return {b, std::clamp(end, b, out)};
}
//! END SOLUTION

}  // namespace

// ---------------------------------------------------------------------------------------------
// im2col and col2im: one image (C, H, W) <-> its columns (R, P)
// ---------------------------------------------------------------------------------------------

// Row (c * k + i) * k + j of the columns holds kernel tap (i, j) of channel c at every output
// position: column y * W' + x = image[c, y*s + i - p, x*s + j - p], or 0 in the padding.
//     image (1, 3, 3) = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], k = 2, s = 1, p = 0 -> columns (4, 4):
//         tap (0, 0): [1, 2, 4, 5]     tap (0, 1): [2, 3, 5, 6]
//         tap (1, 0): [4, 5, 7, 8]     tap (1, 1): [5, 6, 8, 9]
// Each row is written front to back, one image row (y) at a time: for a fixed tap, consecutive x
// read image pixels s apart in one row, so with s = 1 each run is a straight copy.
void im2col(const float* image, const Conv2dGeometry& g, float* columns) {
    //! BEGIN SOLUTION
    //! HINT: loop c, i, j (one row of columns each), then y and x (its P entries); the source pixel is (y*s + i - p, x*s + j - p) of plane c.
    //! HINT: a source position outside [0, H) x [0, W) is padding: write 0 there, never read it (it is another row's pixel, or outside the buffer).
    //! HINT: the entry of row r, column y * W' + x is columns[r * P + y * W' + x] with P = H' * W'.
    const int64_t H = g.height, W = g.width, k = g.kernel, s = g.stride, p = g.padding;
    const int64_t out_h = g.out_height(), out_w = g.out_width();
    float* row = columns;  // the current row of columns: (H' * W') floats
    for (int64_t c = 0; c < g.channels; ++c) {
        const float* plane = image + c * H * W;  // (H, W)
        for (int64_t i = 0; i < k; ++i) {
            const Span ys = inside_span(i - p, H, s, out_h);  // output rows whose tap row is inside the image
            for (int64_t j = 0; j < k; ++j, row += out_h * out_w) {
                const Span xs = inside_span(j - p, W, s, out_w);
                for (int64_t y = 0; y < out_h; ++y) {
                    float* dst = row + y * out_w;  // (W',)
                    if (y < ys.begin || y >= ys.end) {
                        std::fill(dst, dst + out_w, 0.0f);  // the whole tap row lies in the padding
                        continue;
                    }
                    const float* src = plane + (y * s + i - p) * W;  // image row y*s + i - p
                    std::fill(dst, dst + xs.begin, 0.0f);
                    if (s == 1) {  // consecutive pixels: a straight copy the compiler turns into vector moves
                        for (int64_t x = xs.begin; x < xs.end; ++x) dst[x] = src[x + j - p];
                    } else {
                        for (int64_t x = xs.begin; x < xs.end; ++x) dst[x] = src[x * s + j - p];
                    }
                    std::fill(dst + xs.end, dst + out_w, 0.0f);
                }
            }
        }
    }
    //! END SOLUTION
}

// The adjoint of im2col: every entry goes back to the pixel it was copied from, and is ADDED
// there. A pixel appears in up to k*k windows (fewer at the borders, or with s > 1), so its
// gradient is the sum of the gradients of all its copies. Entries that came from the padding
// have no pixel: they are dropped.
void col2im(const float* columns, const Conv2dGeometry& g, float* image) {
    //! BEGIN SOLUTION
    //! HINT: the same loops as im2col, with the assignment reversed: image[...] += columns[...], and nothing to do for padding positions.
    const int64_t H = g.height, W = g.width, k = g.kernel, s = g.stride, p = g.padding;
    const int64_t out_h = g.out_height(), out_w = g.out_width();
    const float* row = columns;
    for (int64_t c = 0; c < g.channels; ++c) {
        float* plane = image + c * H * W;
        for (int64_t i = 0; i < k; ++i) {
            const Span ys = inside_span(i - p, H, s, out_h);
            for (int64_t j = 0; j < k; ++j, row += out_h * out_w) {
                const Span xs = inside_span(j - p, W, s, out_w);
                for (int64_t y = ys.begin; y < ys.end; ++y) {
                    const float* src = row + y * out_w;
                    float* dst = plane + (y * s + i - p) * W;
                    if (s == 1) {  // consecutive pixels: a plain vectorisable loop
                        for (int64_t x = xs.begin; x < xs.end; ++x) dst[x + j - p] += src[x];
                    } else {
                        for (int64_t x = xs.begin; x < xs.end; ++x) dst[x * s + j - p] += src[x];
                    }
                }
            }
        }
    }
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// conv2d: forward and backward
// ---------------------------------------------------------------------------------------------

// input (N, C, H, W), weight (F, C, k, k), bias (F,) or undefined -> (N, F, H', W')
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding) {
    Tensor out;
    Tensor saved_columns;  // (N, R, P) for the backward, or undefined
    //! BEGIN SOLUTION
    //! HINT: check everything first (spatial.h lists the errors); each message names conv2d, the shapes (shape_str) and what to do instead.
    //! HINT: Conv2dGeometry{C, H, W, k, stride, padding} gives H' and W'. A kernel larger than the padded input leaves no valid window: an error, not an output of size 0.
    //! HINT: x = input.detach().contiguous() and w = weight.detach().contiguous(): image n then starts at x.data() + n * C * H * W, and w.data() is the (F, C*k*k) matrix.
    //! HINT: one buffer for the columns (C*k*k * H'*W' floats), reused for every image: im2col, then kernels::gemm(F, H'*W', C*k*k, w, columns, out_n), then add bias[f] to row f of out_n.
    //! HINT: when the backward will need d weight (is_grad_enabled() && weight.requires_grad()), write image n's columns into slice n of saved_columns = empty({N, R, P}) instead of the buffer: the backward reads them from there.
    TT_CHECK(input.dim() == 4, "conv2d: input of shape ", shape_str(input.shape()), " has ", input.dim(),
             " dimensions; expected (N, C, H, W) (one image (C, H, W) goes in as input.unsqueeze(0))");
    TT_CHECK(weight.dim() == 4, "conv2d: weight of shape ", shape_str(weight.shape()),
             " must be (out_channels, in_channels, k, k)");
    const int64_t N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
    const int64_t F = weight.size(0), k = weight.size(2);
    TT_CHECK(weight.size(1) == C, "conv2d: input ", shape_str(input.shape()), " has ", C, " channels but weight ",
             shape_str(weight.shape()), " expects ", weight.size(1), " (weight is (out_channels, in_channels, k, k))");
    TT_CHECK(weight.size(3) == k, "conv2d: weight ", shape_str(weight.shape()), " has a ", k, "x", weight.size(3),
             " kernel; only square kernels are supported");
    TT_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == F), "conv2d: bias of shape ",
             bias.defined() ? shape_str(bias.shape()) : std::string("()"), " for weight ", shape_str(weight.shape()),
             "; it must be (", F, ",), one value per output channel");
    TT_CHECK(stride >= 1, "conv2d: stride ", stride, " must be at least 1");
    TT_CHECK(padding >= 0, "conv2d: padding ", padding, " must not be negative");
    TT_CHECK(k >= 1 && H + 2 * padding >= k && W + 2 * padding >= k, "conv2d: input ", shape_str(input.shape()),
             " padded by ", padding, " is ", H + 2 * padding, "x", W + 2 * padding, ", smaller than the ", k, "x", k,
             " kernel of weight ", shape_str(weight.shape()), "; use a smaller kernel or more padding");

    const Conv2dGeometry geometry{C, H, W, k, stride, padding};
    const int64_t out_h = geometry.out_height(), out_w = geometry.out_width();
    const int64_t R = C * k * k, P = out_h * out_w;
    const Tensor x = input.detach().contiguous();   // (N, C, H, W), row-major
    const Tensor w = weight.detach().contiguous();  // (F, C, k, k) = the (F, R) matrix
    const Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
    out = empty({N, F, out_h, out_w});
    const bool keep = is_grad_enabled() && weight.requires_grad();  // d weight will need the columns
    if (keep) saved_columns = empty({N, R, P});
    std::vector<float> buffer(keep ? 0 : static_cast<size_t>(R * P));  // one image's columns, reused
    for (int64_t n = 0; n < N; ++n) {
        float* columns = keep ? saved_columns.data() + n * R * P : buffer.data();  // (R, P)
        im2col(x.data() + n * C * H * W, geometry, columns);
        float* out_n = out.data() + n * F * P;                                // (F, P)
        kernels::gemm(F, P, R, w.data(), columns, out_n);                     // (F, R) @ (R, P)
        if (b.defined()) {
            for (int64_t f = 0; f < F; ++f) {
                const float value = b.data()[f];
                float* row = out_n + f * P;
                for (int64_t q = 0; q < P; ++q) row[q] += value;
            }
        }
    }
    //! END SOLUTION
    return record<Conv2dBackward>(out, {input, weight, bias}, stride, padding, saved_columns);
}

// g: (N, F, H', W') -> dx (N, C, H, W), dw (F, C, k, k), db (F,), each only when that input
// requires grad. inputs: x, w, b (b may be undefined).
void Conv2dBackward::backward(const Tensor& grad_out) {
    //! BEGIN SOLUTION
    //! HINT: rebuild the geometry from inputs[0] and inputs[1] and this node's stride and padding; make x, w and grad_out contiguous.
    //! HINT: d bias[f] = the sum of g[n, f, :, :] over n and every position.
    //! HINT: for each image: columns = slice n of saved_columns, or im2col(x_n) when the forward kept none; d weight += g_n (F, P) @ columns^T (P, R). gemm overwrites its output, so compute each image's product into a buffer and add it. transpose_into makes columns^T.
    //! HINT: for each image: d columns = w^T (R, F) @ g_n (F, P), then col2im(d columns, geometry, dx_n) adds it into dx (start from zeros). Transpose w once, outside the loop.
    //! HINT: hand the results over with accumulate_grad(input, dx), accumulate_grad(weight, dw), accumulate_grad(bias, db); skip the work for inputs that do not require grad.
    const Tensor& input = inputs[0];
    const Tensor& weight = inputs[1];
    const Tensor& bias = inputs[2];
    const int64_t N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
    const int64_t F = weight.size(0), k = weight.size(2);
    const Conv2dGeometry geometry{C, H, W, k, stride, padding};
    const int64_t R = C * k * k, P = geometry.out_height() * geometry.out_width();
    const Tensor g = grad_out.contiguous();  // (N, F, P)

    if (bias.defined() && bias.requires_grad()) {
        Tensor db = zeros({F});
        for (int64_t n = 0; n < N; ++n)
            for (int64_t f = 0; f < F; ++f) {
                const float* row = g.data() + (n * F + f) * P;
                float total = 0.0f;
                for (int64_t q = 0; q < P; ++q) total += row[q];
                db.data()[f] += total;
            }
        accumulate_grad(bias, db);
    }

    const bool need_dx = input.requires_grad(), need_dw = weight.requires_grad();
    if (!need_dx && !need_dw) return;
    const Tensor x = input.detach().contiguous();   // (N, C, H, W)
    const Tensor w = weight.detach().contiguous();  // (F, R)
    Tensor dx = need_dx ? zeros(input.shape()) : Tensor();
    Tensor dw = need_dw ? zeros(weight.shape()) : Tensor();
    std::vector<float> columns(static_cast<size_t>(R * P));                                     // (R, P)
    std::vector<float> columns_t(need_dw ? static_cast<size_t>(P * R) : 0);                     // (P, R)
    std::vector<float> product(need_dw ? static_cast<size_t>(F * R) : 0);                       // (F, R)
    std::vector<float> w_t(need_dx ? static_cast<size_t>(R * F) : 0);                           // (R, F)
    if (need_dx) transpose_into(w.data(), F, R, w_t.data());

    for (int64_t n = 0; n < N; ++n) {
        const float* g_n = g.data() + n * F * P;  // (F, P)
        if (need_dw) {
            const float* columns_n = columns.data();  // (R, P)
            if (saved_columns.defined()) {
                columns_n = saved_columns.data() + n * R * P;  // kept by the forward
            } else {
                im2col(x.data() + n * C * H * W, geometry, columns.data());
            }
            transpose_into(columns_n, R, P, columns_t.data());
            kernels::gemm(F, R, P, g_n, columns_t.data(), product.data());  // (F, P) @ (P, R)
            float* d = dw.data();
            for (int64_t e = 0; e < F * R; ++e) d[e] += product[e];  // summed over the batch
        }
        if (need_dx) {
            kernels::gemm(R, P, F, w_t.data(), g_n, columns.data());       // (R, F) @ (F, P)
            col2im(columns.data(), geometry, dx.data() + n * C * H * W);  // adds into image n
        }
    }
    if (need_dw) accumulate_grad(weight, dw);
    if (need_dx) accumulate_grad(input, dx);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Conv2d
// ---------------------------------------------------------------------------------------------

Conv2d::Conv2d(const Conv2dOptions& options, Generator* gen) : options(options) { reset(gen); }

// PyTorch's initialisation, in PyTorch's order: weight (F, C, k, k) first, by kaiming_uniform_
// (a = sqrt 5: bound 1/sqrt(fan_in), fan_in = C*k*k), then bias (F,) from U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)), both from `gen`: one seed reproduces the layer.
void Conv2d::reset(Generator* gen) {
    //! BEGIN SOLUTION
    //! HINT: check in_channels, out_channels, kernel_size and stride are at least 1 and padding is not negative (TT_CHECK naming Conv2d and the value).
    //! HINT: as Linear::reset: parameters_.clear(), then create, initialise (init::kaiming_uniform_, init::uniform_) and register_parameter "weight", then "bias" when options.bias (else leave bias undefined).
    const int64_t C = options.in_channels, F = options.out_channels, k = options.kernel_size;
    TT_CHECK(C >= 1 && F >= 1 && k >= 1, "Conv2d: in_channels, out_channels and kernel_size must be at least 1, got ", C,
             ", ", F, ", ", k);
    TT_CHECK(options.stride >= 1, "Conv2d: stride ", options.stride, " must be at least 1");
    TT_CHECK(options.padding >= 0, "Conv2d: padding ", options.padding, " must not be negative");
    parameters_.clear();

    Tensor w = empty({F, C, k, k});
    init::kaiming_uniform_(w, gen);  // fan_in = C * k * k: every output sums that many products
    weight = register_parameter("weight", w);

    bias = Tensor();
    if (options.bias) {
        const float bound = 1.0f / std::sqrt(static_cast<float>(C * k * k));
        Tensor b = empty({F});
        init::uniform_(b, -bound, bound, gen);
        bias = register_parameter("bias", b);
    }
    //! END SOLUTION
}

// x: (N, C, H, W) -> (N, F, H', W')
Tensor Conv2d::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    //! HINT: a wrong channel count is the common mistake: check it here so the error names the layer (name() + "(" + extra_repr() + ")") and the input's shape, then call conv2d.
    TT_CHECK(x.dim() == 4 && x.size(1) == options.in_channels, name(), "(", extra_repr(), "): input of shape ",
             shape_str(x.shape()), " is not (N, ", options.in_channels, ", H, W)");
    return conv2d(x, weight, bias, options.stride, options.padding);
    //! END SOLUTION
}

std::string Conv2d::extra_repr() const {
    //! BEGIN SOLUTION
    std::string text = std::to_string(options.in_channels) + ", " + std::to_string(options.out_channels) +
                       ", kernel_size=" + std::to_string(options.kernel_size) + ", stride=" + std::to_string(options.stride) +
                       ", padding=" + std::to_string(options.padding);
    return options.bias ? text : text + ", bias=false";
    //! END SOLUTION
}

}  // namespace tt
