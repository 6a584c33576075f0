// loss_reference.h - module 05 grader: expected losses computed in double with plain loops over
// raw storage (grading.h's values_of), never with the student's code or another TinyTorch op.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "grading.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

namespace loss_reference {

// Reduces per-element (or per-example) losses like the op: () for mean / sum, the given shape for none.
inline tt::Tensor reduce(const std::vector<double>& losses, const tt::Shape& shape, tt::Reduction reduction) {
    if (reduction == tt::Reduction::none) {
        std::vector<float> v(losses.begin(), losses.end());
        return tt::testing::raw(v, shape);
    }
    double total = 0;
    for (double l : losses) total += l;
    if (reduction == tt::Reduction::mean) total /= static_cast<double>(losses.size());
    return tt::testing::raw_scalar(static_cast<float>(total));
}

inline tt::Tensor mse(const tt::Tensor& input, const tt::Tensor& target, tt::Reduction reduction) {
    const std::vector<float> a = tt::testing::values_of(input), b = tt::testing::values_of(target);
    std::vector<double> losses;
    for (size_t i = 0; i < a.size(); ++i) losses.push_back((static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]));
    return reduce(losses, input.shape(), reduction);
}

// logits (N, C) or (C,), targets (N,) or () holding class indices; smoothing s puts 1 - s + s/C on
// the target class and s/C on every other.
inline tt::Tensor cross_entropy(const tt::Tensor& logits, const tt::Tensor& targets, tt::Reduction reduction,
                                double smoothing = 0.0) {
    const std::vector<float> x = tt::testing::values_of(logits), t = tt::testing::values_of(targets);
    const auto C = static_cast<size_t>(logits.shape().back());
    std::vector<double> losses;
    for (size_t n = 0; n < t.size(); ++n) {
        double m = -std::numeric_limits<double>::infinity();
        for (size_t c = 0; c < C; ++c) m = std::max(m, static_cast<double>(x[n * C + c]));
        double total = 0;
        for (size_t c = 0; c < C; ++c) total += std::exp(x[n * C + c] - m);
        const double lse = std::log(total);
        double loss = 0;
        for (size_t c = 0; c < C; ++c) {
            const double q = (c == static_cast<size_t>(t[n]) ? 1.0 - smoothing : 0.0) + smoothing / static_cast<double>(C);
            if (q > 0) loss += q * (lse - (x[n * C + c] - m));
        }
        losses.push_back(loss);
    }
    return reduce(losses, targets.shape(), reduction);
}

inline double clamped_log(double v) { return std::max(std::log(v), -100.0); }

inline tt::Tensor bce(const tt::Tensor& p, const tt::Tensor& y, tt::Reduction reduction) {
    const std::vector<float> pv = tt::testing::values_of(p), yv = tt::testing::values_of(y);
    std::vector<double> losses;
    for (size_t i = 0; i < pv.size(); ++i) losses.push_back(-(yv[i] * clamped_log(pv[i]) + (1.0 - yv[i]) * clamped_log(1.0 - pv[i])));
    return reduce(losses, p.shape(), reduction);
}

inline tt::Tensor bce_with_logits(const tt::Tensor& x, const tt::Tensor& y, tt::Reduction reduction) {
    const std::vector<float> xv = tt::testing::values_of(x), yv = tt::testing::values_of(y);
    std::vector<double> losses;
    for (size_t i = 0; i < xv.size(); ++i) {
        const double v = xv[i];
        losses.push_back(std::max(v, 0.0) - v * yv[i] + std::log1p(std::exp(-std::fabs(v))));
    }
    return reduce(losses, x.shape(), reduction);
}

inline bool all_finite(const tt::Tensor& t) {
    for (float v : tt::testing::values_of(t))
        if (!std::isfinite(v)) return false;
    return true;
}

}  // namespace loss_reference
