// activations.h - module 03: the nonlinearities between layers.
//
// Without a nonlinearity, a stack of Linear layers is one Linear layer (a product of matrices is a
// matrix). Each function here is elementwise, except softmax/log_softmax which normalise along a
// dimension. All of them must be numerically stable: x = +-1000 must give finite results, never
// inf or NaN (exp(1000) overflows float, so the formulas are rearranged to never compute it).
//
//     x: any shape -> same shape.        softmax(x, dim): each slice along dim sums to 1.
//
// Every op ends with record(...) (autograd.h); their backward nodes are written in module 06.
#pragma once

#include "tinytorch/tensor.h"

namespace tt {

// max(x, 0)
Tensor relu(const Tensor& x);
// x where x > 0, negative_slope * x elsewhere
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);
// 1 / (1 + e^-x), computed without overflow for any x
Tensor sigmoid(const Tensor& x);
// (e^x - e^-x) / (e^x + e^-x)
Tensor tanh(const Tensor& x);

enum class GeluApproximation {
    none,  // exact: x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))
    tanh,  // x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))), as in GPT-2
};
Tensor gelu(const Tensor& x, GeluApproximation approximate = GeluApproximation::none);

// e^x_i / sum_j e^x_j along dim, computed as e^(x_i - max) / sum_j e^(x_j - max).
Tensor softmax(const Tensor& x, int64_t dim = -1);
// log(softmax(x)) = (x_i - max) - log(sum_j e^(x_j - max)): the log-sum-exp trick.
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

}  // namespace tt
