// attention_reference.h - module 13 grader: attention written the slow, obvious way.
//
// Expected values must never come from the code under test, so attention here is the textbook
// formula in plain loops over raw storage (grading.h's values_of / raw), accumulated in double:
// for every (batch, head) and query, the scores against every key, the mask, a softmax, the
// weighted sum of the values. Slow, and fine for the small tensors of the tests. Also used by the
// engine's own tests (tests/engine/test_attention*.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "grading.h"
#include "tinytorch/attention.h"
#include "tinytorch/kernels.h"
#include "tinytorch/tensor.h"

namespace attention_reference {

using tt::Shape;
using tt::Tensor;

// sin(a * i + b) * scale for the flat index i, computed in double and rounded to float: inputs a
// test can rebuild exactly in Python to ask PyTorch for the expected values.
inline Tensor wave(const Shape& shape, double a, double b, double scale = 1.0) {
    std::vector<float> values(static_cast<size_t>(tt::testing::count_of(shape)));
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(scale * std::sin(a * static_cast<double>(i) + b));
    return tt::testing::raw(values, shape);
}

struct Result {
    Tensor out;      // (..., Tq, dv)
    Tensor weights;  // (..., Tq, Tk)
};

// softmax(q @ k^T / sqrt(d) + mask) @ v for q (B, H, Tq, d) or (B, Tq, d), k, v alike; mask (B, Tk)
// (undefined: none) with 1 for a real key. Causal: query i sees keys j <= i + Tk - Tq. A query
// with no visible key gets weights 0 and output 0.
inline Result attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal = false,
                        const Tensor& mask = Tensor()) {
    const bool heads = q.shape().size() == 4;
    if (q.shape().size() != k.shape().size() || q.shape().size() != v.shape().size() || (!heads && q.shape().size() != 3))
        throw std::logic_error("attention_reference: q, k, v must all be 3-D or all 4-D");
    const int64_t B = q.shape()[0], H = heads ? q.shape()[1] : 1;
    const int64_t Tq = q.shape()[q.shape().size() - 2], d = q.shape().back();
    const int64_t Tk = k.shape()[k.shape().size() - 2], dv = v.shape().back();
    const std::vector<float> qv = tt::testing::values_of(q), kv = tt::testing::values_of(k), vv = tt::testing::values_of(v);
    const std::vector<float> mv = mask.defined() ? tt::testing::values_of(mask) : std::vector<float>();
    std::vector<float> out(static_cast<size_t>(B * H * Tq * dv), 0.0f), weights(static_cast<size_t>(B * H * Tq * Tk), 0.0f);
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            const int64_t g = b * H + h;
            for (int64_t i = 0; i < Tq; ++i) {
                std::vector<double> s(static_cast<size_t>(Tk), 0.0);
                std::vector<bool> visible(static_cast<size_t>(Tk), true);
                double best = -std::numeric_limits<double>::infinity();
                for (int64_t j = 0; j < Tk; ++j) {
                    if (causal && j > i + Tk - Tq) visible[j] = false;
                    if (!mv.empty() && mv[static_cast<size_t>(b * Tk + j)] == 0.0f) visible[j] = false;
                    double dot = 0.0;
                    for (int64_t c = 0; c < d; ++c)
                        dot += static_cast<double>(qv[static_cast<size_t>((g * Tq + i) * d + c)]) *
                               kv[static_cast<size_t>((g * Tk + j) * d + c)];
                    s[j] = dot * scale;
                    if (visible[j]) best = std::max(best, s[j]);
                }
                if (best == -std::numeric_limits<double>::infinity()) continue;  // nothing visible: all 0
                double total = 0.0;
                for (int64_t j = 0; j < Tk; ++j) {
                    s[j] = visible[j] ? std::exp(s[j] - best) : 0.0;
                    total += s[j];
                }
                for (int64_t j = 0; j < Tk; ++j) {
                    const double p = s[j] / total;
                    weights[static_cast<size_t>((g * Tq + i) * Tk + j)] = static_cast<float>(p);
                    for (int64_t c = 0; c < dv; ++c)
                        out[static_cast<size_t>((g * Tq + i) * dv + c)] +=
                            static_cast<float>(p * vv[static_cast<size_t>((g * Tk + j) * dv + c)]);
                }
            }
        }
    Shape out_shape = q.shape(), weights_shape = q.shape();
    out_shape.back() = dv;
    weights_shape.back() = Tk;
    return {tt::testing::raw(out, out_shape), tt::testing::raw(weights, weights_shape)};
}

// x (B, T, D) @ w^T + b for a Linear's weight (out, D) and bias (out,) (undefined: none), in double.
inline Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
    const int64_t D = x.shape().back(), rows = tt::testing::count_of(x.shape()) / std::max<int64_t>(D, 1);
    const int64_t out_features = w.shape()[0];
    const std::vector<float> xv = tt::testing::values_of(x), wv = tt::testing::values_of(w);
    const std::vector<float> bv = b.defined() ? tt::testing::values_of(b) : std::vector<float>();
    std::vector<float> y(static_cast<size_t>(rows * out_features));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < out_features; ++o) {
            double total = bv.empty() ? 0.0 : bv[static_cast<size_t>(o)];
            for (int64_t c = 0; c < D; ++c)
                total += static_cast<double>(xv[static_cast<size_t>(r * D + c)]) * wv[static_cast<size_t>(o * D + c)];
            y[static_cast<size_t>(r * out_features + o)] = static_cast<float>(total);
        }
    Shape shape = x.shape();
    shape.back() = out_features;
    return tt::testing::raw(y, shape);
}

// Multi-head self-attention from its definition, with the weights of the two Linear layers:
// qkv columns [0, D) are q, [D, 2D) k, [2D, 3D) v, head h owning columns [h*d, (h+1)*d) of each;
// the heads' outputs are concatenated in head order and projected. x (B, T, D) -> (B, T, D).
inline Tensor multi_head_attention(const Tensor& x, int64_t H, bool causal, const Tensor& qkv_w, const Tensor& qkv_b,
                                   const Tensor& proj_w, const Tensor& proj_b, const Tensor& mask = Tensor(),
                                   Tensor* weights = nullptr) {
    const int64_t B = x.shape()[0], T = x.shape()[1], D = x.shape()[2], d = D / H;
    const std::vector<float> qkv = tt::testing::values_of(linear(x, qkv_w, qkv_b));  // (B, T, 3D)
    std::vector<float> q(static_cast<size_t>(B * H * T * d)), k(q.size()), v(q.size());
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t c = 0; c < d; ++c) {
                    const size_t to = static_cast<size_t>(((b * H + h) * T + t) * d + c);
                    const size_t row = static_cast<size_t>((b * T + t) * 3 * D + h * d + c);
                    q[to] = qkv[row];
                    k[to] = qkv[row + static_cast<size_t>(D)];
                    v[to] = qkv[row + static_cast<size_t>(2 * D)];
                }
    const Shape heads{B, H, T, d};
    const Result r = attention(tt::testing::raw(q, heads), tt::testing::raw(k, heads), tt::testing::raw(v, heads), causal, mask);
    if (weights) *weights = r.weights;
    const std::vector<float> o = tt::testing::values_of(r.out);  // (B, H, T, d)
    std::vector<float> joined(static_cast<size_t>(B * T * D));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < T; ++t)
                for (int64_t c = 0; c < d; ++c)
                    joined[static_cast<size_t>((b * T + t) * D + h * d + c)] = o[static_cast<size_t>(((b * H + h) * T + t) * d + c)];
    return linear(tt::testing::raw(joined, {B, T, D}), proj_w, proj_b);
}

// The op under test with its options spelled out: sdpa(q, k, v, causal, mask, &weights).
inline Tensor sdpa(const Tensor& q, const Tensor& k, const Tensor& v, bool causal = false, const Tensor& mask = Tensor(),
                   Tensor* weights = nullptr) {
    tt::AttentionOptions options;
    options.causal = causal;
    options.key_padding_mask = mask;
    options.weights = weights;
    return tt::scaled_dot_product_attention(q, k, v, options);
}

// Counts what goes through the dispatch point while a CountGemm is alive: calls and
// multiply-adds (M * N * K per call).
inline int64_t gemm_calls = 0, gemm_multiply_adds = 0;
inline void counting_gemm(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
    ++gemm_calls;
    gemm_multiply_adds += M * N * K;
    tt::kernels::gemm_naive(M, N, K, A, B, C);
}
struct CountGemm {
    CountGemm() {
        gemm_calls = gemm_multiply_adds = 0;
        tt::kernels::set_gemm_override(counting_gemm);
    }
    ~CountGemm() { tt::kernels::set_gemm_override(nullptr); }
    CountGemm(const CountGemm&) = delete;
    CountGemm& operator=(const CountGemm&) = delete;
};

using tt::testing::set_values;  // grading.h: writes values into a tensor without student code

}  // namespace attention_reference
