// spatial.h - module 09: layers that know images are 2-D. Convolution, pooling, batch norm.
//
//     auto model = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
//         std::make_shared<tt::Conv2d>(tt::Conv2dOptions{.in_channels = 1, .out_channels = 6, .kernel_size = 5, .padding = 2}),
//         std::make_shared<tt::ReLU>(),                  // (N, 1, 28, 28) -> (N, 6, 28, 28)
//         std::make_shared<tt::MaxPool2d>(2),            //                -> (N, 6, 14, 14)
//         std::make_shared<tt::Flatten>(),               //                -> (N, 1176)
//         std::make_shared<tt::Linear>(1176, 10)});
//
// Shapes. Letters: N batch, C input channels, F output channels (filters), H x W the input's
// height and width, k the kernel size, s the stride, p the padding. Every output size follows
//     H' = (H + 2p - k) / s + 1      (integer division: a window that would stick out is dropped)
//
// Convolution as matrix multiplication (im2col). The direct convolution is six nested loops that
// read each input pixel k*k times from scattered places. im2col first copies, for one image, every
// k x k window into a column of a (C*k*k, H'*W') matrix; the convolution is then ONE matrix product
//     out_n (F, H'*W') = weight (F, C*k*k) @ columns_n (C*k*k, H'*W')
// through kernels::gemm - the kernel module 02 wrote and module 15 makes fast. The copy costs
// C*k*k*H'*W' floats of memory traffic; the product costs 2*F*C*k*k*H'*W' FLOPs, F times more work
// on the same data, so even a naive gemm spends its time computing rather than moving data. One
// image at a time keeps the columns (e.g. 27 x 1024 floats = 108 KB for a 3x3 conv of a 32x32 RGB
// image) inside the CPU's cache while gemm walks them 16 times.
//
// Backward, with g = d(loss)/d(out) of image n, (F, H'*W'):
//     d weight  += g @ columns_n^T                       (F, C*k*k)
//     d columns  = weight^T @ g                          (C*k*k, H'*W'), then col2im scatters
//                                                        each column back onto its window, adding
//                                                        where windows overlap
//     d bias    += g summed over H'*W' (and over n)
//
// Who writes what: everything here is module 09 except what is marked [given]. Each op's forward
// and backward live next to each other in engine/src/09_spatial/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt {

// ---------------------------------------------------------------------------------------------
// The building blocks of conv2d, on plain buffers (one image)
// ---------------------------------------------------------------------------------------------

// The geometry of a 2-D window sliding over an image: square kernel, same stride and padding in
// both directions.
struct Conv2dGeometry {
    int64_t channels, height, width;  // of the input image
    int64_t kernel, stride, padding;
    int64_t out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
    int64_t out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
};

// image (C, H, W) -> columns (C*k*k, H'*W'): row (c*k + i)*k + j, column y*W' + x holds
// image[c, y*s + i - p, x*s + j - p], or 0 where that position is in the padding.
void im2col(const float* image, const Conv2dGeometry& g, float* columns);
// The adjoint of im2col: adds every entry of columns (C*k*k, H'*W') into the image position it was
// copied from (positions in the padding are dropped). `image` (C, H, W) is added to, not overwritten.
void col2im(const float* columns, const Conv2dGeometry& g, float* image);

// ---------------------------------------------------------------------------------------------
// Functional forms
// ---------------------------------------------------------------------------------------------

// input (N, C, H, W), weight (F, C, k, k), bias (F,) or undefined -> (N, F, H', W').
// tt::Error for a wrong number of dimensions, mismatched channels, a non-square kernel, stride < 1,
// padding < 0, or a kernel larger than the padded input - naming the op and the shapes.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
              int64_t padding = 0);

// (N, C, H, W) -> (N, C, H', W'): the maximum of each k x k window (stride defaults to k). Padding
// counts as -infinity. A NaN in a window is its maximum (as PyTorch).
Tensor max_pool2d(const Tensor& input, int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
// (N, C, H, W) -> (N, C, H', W'): the mean of each window; padding counts as 0 and is included in
// the count (PyTorch's default count_include_pad = true).
Tensor avg_pool2d(const Tensor& input, int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);

// Batch normalisation over (N, C, H, W) or (N, C): each channel c is normalised with its own mean
// and variance, then scaled and shifted:
//     y = (x - mean_c) / sqrt(var_c + eps) * weight[c] + bias[c]
// training:  mean_c, var_c of this batch (over N, H, W; biased variance, divided by the count);
//            then running_mean = (1 - momentum) * running_mean + momentum * mean_c and
//            running_var = (1 - momentum) * running_var + momentum * var_c * n / (n - 1)
//            (unbiased, as PyTorch), in place. Needs more than one value per channel.
// evaluation: the running statistics, which are not changed. The output of one example then does
//            not depend on the rest of the batch - what a deployed model needs.
// weight, bias (C,) may be undefined (no affine step). The running tensors are not part of the
// graph (no gradient); they must be defined in evaluation.
Tensor batch_norm(const Tensor& input, Tensor running_mean, Tensor running_var, const Tensor& weight, const Tensor& bias,
                  bool training, float momentum = 0.1f, float eps = 1e-5f);

// ---------------------------------------------------------------------------------------------
// Backward nodes (09), each implemented next to its forward in engine/src/09_spatial/
// ---------------------------------------------------------------------------------------------

// out = conv2d(x, w, b)     dx, dw, db as in the comment at the top (inputs: x, w, b)
struct Conv2dBackward : Node {
    Conv2dBackward(int64_t stride, int64_t padding, Tensor saved_columns = Tensor())
        : stride(stride), padding(padding), saved_columns(std::move(saved_columns)) {}
    const char* name() const override { return "Conv2dBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::others;  // dw needs x, dx needs w
    void backward(const Tensor& grad_out) override;
    int64_t stride, padding;
    // (N, C*k*k, H'*W'): every image's im2col columns, kept by the forward for d weight; undefined
    // when the forward kept none (the backward then makes them again from x).
    Tensor saved_columns;
};

// out = max_pool2d(x)       dx[argmax of each window] += g (the first maximum of the window)
struct MaxPool2dBackward : Node {
    MaxPool2dBackward(Shape input_shape, Tensor argmax) : input_shape(std::move(input_shape)), argmax(std::move(argmax)) {}
    const char* name() const override { return "MaxPool2dBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
    Tensor argmax;  // (N, C, H', W'): for each output, the flat index y * W + x of its maximum in its (n, c) plane
};

// out = avg_pool2d(x)       dx[each window position] += g / (k * k)
struct AvgPool2dBackward : Node {
    AvgPool2dBackward(Shape input_shape, int64_t kernel_size, int64_t stride, int64_t padding)
        : input_shape(std::move(input_shape)), kernel_size(kernel_size), stride(stride), padding(padding) {}
    const char* name() const override { return "AvgPool2dBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
    int64_t kernel_size, stride, padding;
};

// out = batch_norm(x, ..., training = true)    with x_hat = (x - mean) / sqrt(var + eps), m values
// per channel, g = d(loss)/d(out):
//     dbias   += sum(g)                    dweight += sum(g * x_hat)
//     dx      += weight / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))
// (sums and means per channel over N, H, W; weight = 1 when there is none). In evaluation mode
// the statistics are constants: dx += g * weight / sqrt(running_var + eps).
// inputs: x, weight, bias.
struct BatchNormBackward : Node {
    BatchNormBackward(Tensor x_hat, Tensor inverse_std, bool training)
        : x_hat(std::move(x_hat)), inverse_std(std::move(inverse_std)), training(training) {}
    const char* name() const override { return "BatchNormBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::others;  // dx reads weight
    void backward(const Tensor& grad_out) override;
    Tensor x_hat;        // the normalised input, same shape as x
    Tensor inverse_std;  // (C,): 1 / sqrt(var + eps) of the statistics used
    bool training;
};

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

struct Conv2dOptions {
    int64_t in_channels = 0;
    int64_t out_channels = 0;
    int64_t kernel_size = 3;
    int64_t stride = 1;
    int64_t padding = 0;
    bool bias = true;
};

// PyTorch's initialisation: weight (F, C, k, k) by kaiming_uniform_ with a = sqrt(5) (bound
// 1 / sqrt(C*k*k)), then bias (F,) U(-1/sqrt(C*k*k), 1/sqrt(C*k*k)) - weight first, then bias,
// from `gen` (null: the default generator), as Linear.
class Conv2d : public Module {
public:
    explicit Conv2d(const Conv2dOptions& options, Generator* gen = nullptr);
    void reset(Generator* gen = nullptr);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "Conv2d"; }
    std::string extra_repr() const override;  // "1, 6, kernel_size=5, stride=1, padding=2"
    Conv2dOptions options;
    Tensor weight;  // (out_channels, in_channels, kernel_size, kernel_size)
    Tensor bias;    // (out_channels,), undefined when options.bias is false
};

class MaxPool2d : public Module {
public:
    explicit MaxPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0)
        : kernel_size(kernel_size), stride(stride > 0 ? stride : kernel_size), padding(padding) {}
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "MaxPool2d"; }
    std::string extra_repr() const override;  // "kernel_size=2, stride=2, padding=0"
    int64_t kernel_size, stride, padding;
};

class AvgPool2d : public Module {
public:
    explicit AvgPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0)
        : kernel_size(kernel_size), stride(stride > 0 ? stride : kernel_size), padding(padding) {}
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "AvgPool2d"; }
    std::string extra_repr() const override;
    int64_t kernel_size, stride, padding;
};

// Parameters weight (C,) = 1 and bias (C,) = 0; buffers running_mean (C,) = 0, running_var (C,) = 1
// (register_buffer: saved in checkpoints, never trained). Uses batch statistics in train() mode
// and the running ones in eval() mode.
class BatchNorm2d : public Module {
public:
    explicit BatchNorm2d(int64_t num_features, float eps = 1e-5f, float momentum = 0.1f);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "BatchNorm2d"; }
    std::string extra_repr() const override;  // "16, eps=1e-05, momentum=0.1"
    int64_t num_features;
    float eps, momentum;
    Tensor weight, bias, running_mean, running_var;
};

}  // namespace tt
