// activation_reference.h - module 03 grader: expected values of every activation, computed in
// double with plain loops over raw storage (grading.h's values_of), never with the student's code
// or with another TinyTorch op.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/tensor.h"

namespace activation_reference {

inline float relu(double x) { return static_cast<float>(x > 0 ? x : 0.0); }
inline float leaky_relu(double x, double slope) { return static_cast<float>(x > 0 ? x : slope * x); }
inline float sigmoid(double x) { return static_cast<float>(x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x))); }
inline float tanh(double x) { return static_cast<float>(std::tanh(x)); }
inline float gelu_exact(double x) { return static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)))); }
inline float gelu_tanh(double x) {
    const double k = std::sqrt(2.0 / 3.14159265358979323846);
    return static_cast<float>(0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x))));
}

// softmax(x, dim) (or log_softmax when `log`), in double, for any layout of x and any dim
// (negative dims count from the end). -inf entries get probability 0 as long as the slice has a
// finite maximum.
inline tt::Tensor softmax(const tt::Tensor& x, int64_t dim, bool log = false) {
    const tt::Shape& shape = x.shape();
    const auto ndim = static_cast<int64_t>(shape.size());
    if (ndim == 0) return tt::testing::raw_scalar(log ? 0.0f : 1.0f);
    if (dim < 0) dim += ndim;
    if (dim < 0 || dim >= ndim) throw std::logic_error("reference softmax: bad dim");
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
    for (int64_t d = dim + 1; d < ndim; ++d) inner *= shape[d];
    const int64_t size = shape[dim];
    const std::vector<float> v = tt::testing::values_of(x);  // row-major
    std::vector<float> out(v.size());
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            auto at = [&](int64_t k) { return static_cast<size_t>((o * size + k) * inner + i); };
            double top = -std::numeric_limits<double>::infinity();
            for (int64_t k = 0; k < size; ++k) top = std::max(top, static_cast<double>(v[at(k)]));
            double total = 0.0;
            for (int64_t k = 0; k < size; ++k) total += std::exp(v[at(k)] - top);
            for (int64_t k = 0; k < size; ++k) {
                const double shifted = v[at(k)] - top;
                out[at(k)] = static_cast<float>(log ? shifted - std::log(total) : std::exp(shifted) / total);
            }
        }
    }
    return tt::testing::raw(out, shape);
}

inline tt::Tensor log_softmax(const tt::Tensor& x, int64_t dim) { return softmax(x, dim, true); }

// The sum of each slice along `dim` (wrapped), in double: the check "every slice sums to 1".
inline std::vector<double> slice_sums(const tt::Tensor& t, int64_t dim) {
    const tt::Shape& shape = t.shape();
    const auto ndim = static_cast<int64_t>(shape.size());
    if (dim < 0) dim += ndim;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
    for (int64_t d = dim + 1; d < ndim; ++d) inner *= shape[d];
    const std::vector<float> v = tt::testing::values_of(t);
    std::vector<double> sums;
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            double total = 0.0;
            for (int64_t k = 0; k < shape[dim]; ++k) total += v[static_cast<size_t>((o * shape[dim] + k) * inner + i)];
            sums.push_back(total);
        }
    return sums;
}

// True when no element is NaN or infinite.
inline bool all_finite(const tt::Tensor& t) {
    for (float v : tt::testing::values_of(t))
        if (!std::isfinite(v)) return false;
    return true;
}

}  // namespace activation_reference
