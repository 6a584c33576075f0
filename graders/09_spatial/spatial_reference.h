// spatial_reference.h - module 09 grader: the ops of spatial.h written the slow, obvious way.
//
// Expected values must never come from the code under test, so every op here is the textbook
// formula in plain loops over raw storage (grading.h's values_of / raw), accumulated in double:
// the direct convolution (six nested loops, no im2col), its gradients by the chain rule written
// out element by element, pooling window by window, batch norm from its definition. They are slow
// and that is fine: the tests use small tensors. Also used by the engine's own tests
// (tests/engine/test_spatial*.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "grading.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace spatial_reference {

using tt::Shape;
using tt::Tensor;

using tt::testing::set_values;  // grading.h: writes values into a tensor without student code

// Output size of a window sliding over `size` pixels: (size + 2p - k) / s + 1.
inline int64_t out_size(int64_t size, int64_t k, int64_t s, int64_t p) { return (size + 2 * p - k) / s + 1; }

// Seeded values that are all different and at least `gap` apart (a shuffled ramp), so the maximum
// of any window is unique and a finite-difference step never changes which element wins.
inline Tensor distinct_values(const Shape& shape, uint64_t seed, float gap = 0.1f) {
    const int64_t n = tt::testing::count_of(shape);
    std::vector<float> values(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = gap * static_cast<float>(i - n / 2);
    tt::Generator gen(seed);
    for (int64_t i = n - 1; i > 0; --i) std::swap(values[static_cast<size_t>(i)], values[gen.randint(static_cast<uint64_t>(i + 1))]);
    return tt::testing::raw(values, shape);
}

// sin(a * i + b) for the flat index i, computed in double and rounded to float: inputs a test can
// rebuild exactly in Python to ask PyTorch for the expected values.
inline Tensor wave(const Shape& shape, double a, double b, double scale = 1.0) {
    std::vector<float> values(static_cast<size_t>(tt::testing::count_of(shape)));
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(scale * std::sin(a * static_cast<double>(i) + b));
    return tt::testing::raw(values, shape);
}

// ---------------------------------------------------------------------------------------------
// Convolution
// ---------------------------------------------------------------------------------------------

// out[n, f, y, x] = b[f] + sum_{c, i, j} w[f, c, i, j] * x[n, c, y*s + i - p, x*s + j - p] (0 outside).
// b may be undefined.
inline Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t s, int64_t p) {
    const Shape& xs = x.shape();
    const Shape& ws = w.shape();
    const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], F = ws[0], k = ws[2];
    const int64_t OH = out_size(H, k, s, p), OW = out_size(W, k, s, p);
    const std::vector<float> xv = tt::testing::values_of(x), wv = tt::testing::values_of(w);
    const std::vector<float> bv = b.defined() ? tt::testing::values_of(b) : std::vector<float>(static_cast<size_t>(F), 0.0f);
    std::vector<float> out;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t f = 0; f < F; ++f)
            for (int64_t y = 0; y < OH; ++y)
                for (int64_t xo = 0; xo < OW; ++xo) {
                    double total = bv[static_cast<size_t>(f)];
                    for (int64_t c = 0; c < C; ++c)
                        for (int64_t i = 0; i < k; ++i)
                            for (int64_t j = 0; j < k; ++j) {
                                const int64_t iy = y * s + i - p, ix = xo * s + j - p;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                total += static_cast<double>(wv[static_cast<size_t>(((f * C + c) * k + i) * k + j)]) *
                                         xv[static_cast<size_t>(((n * C + c) * H + iy) * W + ix)];
                            }
                    out.push_back(static_cast<float>(total));
                }
    return tt::testing::raw(out, {N, F, OH, OW});
}

struct ConvGrads {
    Tensor dx, dw, db;
};

// The gradients of sum(g * conv2d(x, w, b)) by the chain rule, element by element: every product
// w[f, c, i, j] * x[n, c, iy, ix] in the forward sends g[n, f, y, x] * w to dx and g * x to dw.
inline ConvGrads conv2d_grads(const Tensor& x, const Tensor& w, const Tensor& g, int64_t s, int64_t p) {
    const Shape& xs = x.shape();
    const Shape& ws = w.shape();
    const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], F = ws[0], k = ws[2];
    const int64_t OH = out_size(H, k, s, p), OW = out_size(W, k, s, p);
    const std::vector<float> xv = tt::testing::values_of(x), wv = tt::testing::values_of(w), gv = tt::testing::values_of(g);
    std::vector<double> dx(xv.size(), 0.0), dw(wv.size(), 0.0), db(static_cast<size_t>(F), 0.0);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t f = 0; f < F; ++f)
            for (int64_t y = 0; y < OH; ++y)
                for (int64_t xo = 0; xo < OW; ++xo) {
                    const double gy = gv[static_cast<size_t>(((n * F + f) * OH + y) * OW + xo)];
                    db[static_cast<size_t>(f)] += gy;
                    for (int64_t c = 0; c < C; ++c)
                        for (int64_t i = 0; i < k; ++i)
                            for (int64_t j = 0; j < k; ++j) {
                                const int64_t iy = y * s + i - p, ix = xo * s + j - p;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                const size_t wi = static_cast<size_t>(((f * C + c) * k + i) * k + j);
                                const size_t xi = static_cast<size_t>(((n * C + c) * H + iy) * W + ix);
                                dx[xi] += gy * wv[wi];
                                dw[wi] += gy * xv[xi];
                            }
                }
    auto to_tensor = [](const std::vector<double>& v, const Shape& shape) {
        return tt::testing::raw(std::vector<float>(v.begin(), v.end()), shape);
    };
    return {to_tensor(dx, xs), to_tensor(dw, ws), to_tensor(db, {F})};
}

// The columns (C*k*k, H'*W') of one image (C, H, W), entry by entry from the definition.
inline Tensor im2col(const Tensor& image, int64_t k, int64_t s, int64_t p) {
    const Shape& is = image.shape();
    const int64_t C = is[0], H = is[1], W = is[2], OH = out_size(H, k, s, p), OW = out_size(W, k, s, p);
    const std::vector<float> v = tt::testing::values_of(image);
    std::vector<float> out;
    for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < k; ++i)
            for (int64_t j = 0; j < k; ++j)
                for (int64_t y = 0; y < OH; ++y)
                    for (int64_t x = 0; x < OW; ++x) {
                        const int64_t iy = y * s + i - p, ix = x * s + j - p;
                        out.push_back(iy < 0 || iy >= H || ix < 0 || ix >= W ? 0.0f : v[static_cast<size_t>((c * H + iy) * W + ix)]);
                    }
    return tt::testing::raw(out, {C * k * k, OH * OW});
}

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

struct MaxPoolResult {
    Tensor out, argmax;  // argmax: flat index y * W + x within each (n, c) plane
};

// PyTorch's rule: start from -inf at the window's first real pixel; take a value when it is
// strictly greater or NaN (ties keep the first; the last NaN wins).
inline MaxPoolResult max_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p) {
    const Shape& xs = x.shape();
    const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], OH = out_size(H, k, s, p), OW = out_size(W, k, s, p);
    const std::vector<float> v = tt::testing::values_of(x);
    std::vector<float> out, where;
    for (int64_t plane = 0; plane < N * C; ++plane)
        for (int64_t y = 0; y < OH; ++y)
            for (int64_t xo = 0; xo < OW; ++xo) {
                const int64_t y0 = std::max<int64_t>(y * s - p, 0), x0 = std::max<int64_t>(xo * s - p, 0);
                const int64_t y1 = std::min(y * s - p + k, H), x1 = std::min(xo * s - p + k, W);
                float best = -std::numeric_limits<float>::infinity();
                int64_t at = y0 * W + x0;
                for (int64_t iy = y0; iy < y1; ++iy)
                    for (int64_t ix = x0; ix < x1; ++ix) {
                        const float value = v[static_cast<size_t>(plane * H * W + iy * W + ix)];
                        if (value > best || std::isnan(value)) {
                            best = value;
                            at = iy * W + ix;
                        }
                    }
                out.push_back(best);
                where.push_back(static_cast<float>(at));
            }
    return {tt::testing::raw(out, {N, C, OH, OW}), tt::testing::raw(where, {N, C, OH, OW})};
}

// dx of sum(g * max_pool2d(x)): each g goes to its window's winner.
inline Tensor max_pool2d_grad(const Tensor& x, const Tensor& g, int64_t k, int64_t s, int64_t p) {
    const MaxPoolResult r = max_pool2d(x, k, s, p);
    const Shape& xs = x.shape();
    const int64_t planes = xs[0] * xs[1], plane_size = xs[2] * xs[3], outputs = g.shape()[2] * g.shape()[3];
    const std::vector<float> gv = tt::testing::values_of(g), where = tt::testing::values_of(r.argmax);
    std::vector<float> dx(static_cast<size_t>(planes * plane_size), 0.0f);
    for (int64_t plane = 0; plane < planes; ++plane)
        for (int64_t o = 0; o < outputs; ++o)
            dx[static_cast<size_t>(plane * plane_size + static_cast<int64_t>(where[static_cast<size_t>(plane * outputs + o)]))] +=
                gv[static_cast<size_t>(plane * outputs + o)];
    return tt::testing::raw(dx, xs);
}

// Mean over each window with padding counted as zeros (divisor k*k); with grad g, also dx.
inline Tensor avg_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p) {
    const Shape& xs = x.shape();
    const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], OH = out_size(H, k, s, p), OW = out_size(W, k, s, p);
    const std::vector<float> v = tt::testing::values_of(x);
    std::vector<float> out;
    for (int64_t plane = 0; plane < N * C; ++plane)
        for (int64_t y = 0; y < OH; ++y)
            for (int64_t xo = 0; xo < OW; ++xo) {
                double total = 0.0;
                for (int64_t iy = std::max<int64_t>(y * s - p, 0); iy < std::min(y * s - p + k, H); ++iy)
                    for (int64_t ix = std::max<int64_t>(xo * s - p, 0); ix < std::min(xo * s - p + k, W); ++ix)
                        total += v[static_cast<size_t>(plane * H * W + iy * W + ix)];
                out.push_back(static_cast<float>(total / static_cast<double>(k * k)));
            }
    return tt::testing::raw(out, {N, C, OH, OW});
}

inline Tensor avg_pool2d_grad(const Tensor& x, const Tensor& g, int64_t k, int64_t s, int64_t p) {
    const Shape& xs = x.shape();
    const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], OH = out_size(H, k, s, p), OW = out_size(W, k, s, p);
    const std::vector<float> gv = tt::testing::values_of(g);
    std::vector<double> dx(static_cast<size_t>(N * C * H * W), 0.0);
    for (int64_t plane = 0; plane < N * C; ++plane)
        for (int64_t y = 0; y < OH; ++y)
            for (int64_t xo = 0; xo < OW; ++xo)
                for (int64_t iy = std::max<int64_t>(y * s - p, 0); iy < std::min(y * s - p + k, H); ++iy)
                    for (int64_t ix = std::max<int64_t>(xo * s - p, 0); ix < std::min(xo * s - p + k, W); ++ix)
                        dx[static_cast<size_t>(plane * H * W + iy * W + ix)] +=
                            gv[static_cast<size_t>((plane * OH + y) * OW + xo)] / static_cast<double>(k * k);
    return tt::testing::raw(std::vector<float>(dx.begin(), dx.end()), xs);
}

// ---------------------------------------------------------------------------------------------
// Batch norm
// ---------------------------------------------------------------------------------------------

struct ChannelStats {
    std::vector<double> mean, variance;  // biased variance (divided by the count m)
    int64_t count = 0;                   // m = N * (product of the dims after 1)
};

// Per channel (dim 1) over every other dim of x (N, C, ...).
inline ChannelStats channel_stats(const Tensor& x) {
    const Shape& xs = x.shape();
    const int64_t N = xs[0], C = xs[1], S = tt::testing::count_of(xs) / std::max<int64_t>(N * C, 1);
    const std::vector<float> v = tt::testing::values_of(x);
    ChannelStats st;
    st.count = N * S;
    st.mean.assign(static_cast<size_t>(C), 0.0);
    st.variance.assign(static_cast<size_t>(C), 0.0);
    for (int64_t c = 0; c < C; ++c) {
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < S; ++i) st.mean[static_cast<size_t>(c)] += v[static_cast<size_t>((n * C + c) * S + i)];
        st.mean[static_cast<size_t>(c)] /= static_cast<double>(st.count);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < S; ++i) {
                const double d = v[static_cast<size_t>((n * C + c) * S + i)] - st.mean[static_cast<size_t>(c)];
                st.variance[static_cast<size_t>(c)] += d * d;
            }
        st.variance[static_cast<size_t>(c)] /= static_cast<double>(st.count);
    }
    return st;
}

// y = (x - mean[c]) / sqrt(var[c] + eps) * w[c] + b[c] with the given per-channel statistics
// (w, b may be empty: 1 and 0).
inline Tensor normalise(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& variance, float eps,
                        const std::vector<float>& w = {}, const std::vector<float>& b = {}) {
    const Shape& xs = x.shape();
    const int64_t N = xs[0], C = xs[1], S = tt::testing::count_of(xs) / std::max<int64_t>(N * C, 1);
    const std::vector<float> v = tt::testing::values_of(x);
    std::vector<float> out(v.size());
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < S; ++i) {
                const size_t at = static_cast<size_t>((n * C + c) * S + i);
                const size_t ch = static_cast<size_t>(c);
                const double h = (v[at] - mean[ch]) / std::sqrt(variance[ch] + static_cast<double>(eps));
                out[at] = static_cast<float>(h * (w.empty() ? 1.0 : w[ch]) + (b.empty() ? 0.0 : b[ch]));
            }
    return tt::testing::raw(out, xs);
}

// Training-mode gradients of sum(g * batch_norm(x, w, b)) from the closed form, in double.
struct BatchNormGrads {
    Tensor dx, dw, db;
};
inline BatchNormGrads batch_norm_train_grads(const Tensor& x, const std::vector<float>& w, const Tensor& g, float eps) {
    const Shape& xs = x.shape();
    const int64_t N = xs[0], C = xs[1], S = tt::testing::count_of(xs) / std::max<int64_t>(N * C, 1);
    const ChannelStats st = channel_stats(x);
    const std::vector<float> v = tt::testing::values_of(x), gv = tt::testing::values_of(g);
    std::vector<float> dx(v.size()), dw(static_cast<size_t>(C)), db(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) {
        const size_t ch = static_cast<size_t>(c);
        const double inv = 1.0 / std::sqrt(st.variance[ch] + eps), m = static_cast<double>(st.count);
        double sg = 0.0, sgh = 0.0;
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < S; ++i) {
                const size_t at = static_cast<size_t>((n * C + c) * S + i);
                sg += gv[at];
                sgh += gv[at] * (v[at] - st.mean[ch]) * inv;
            }
        dw[ch] = static_cast<float>(sgh);
        db[ch] = static_cast<float>(sg);
        const double scale = (w.empty() ? 1.0 : w[ch]) * inv;
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < S; ++i) {
                const size_t at = static_cast<size_t>((n * C + c) * S + i);
                const double h = (v[at] - st.mean[ch]) * inv;
                dx[at] = static_cast<float>(scale * (gv[at] - sg / m - h * sgh / m));
            }
    }
    return {tt::testing::raw(dx, xs), tt::testing::raw(dw, {C}), tt::testing::raw(db, {C})};
}

}  // namespace spatial_reference
