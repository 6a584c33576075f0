// embedding_reference.h - module 12 grader: plain-loop references for the lookup, its scatter-add
// backward, the sinusoidal table and the position add. They read values through grading.h
// (values_of) and build results with raw(): nothing here calls the code under test.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "grading.h"
#include "tinytorch/tensor.h"

namespace embedding_reference {

using tt::testing::raw;
using tt::testing::values_of;

// ids S (whole numbers in [0, V)), weight (V, D) -> S + (D)
inline tt::Tensor lookup(const tt::Tensor& ids, const tt::Tensor& weight) {
    const std::vector<float> id = values_of(ids), w = values_of(weight);
    const int64_t D = weight.size(1);
    std::vector<float> out;
    out.reserve(id.size() * static_cast<size_t>(D));
    for (float v : id)
        for (int64_t j = 0; j < D; ++j) out.push_back(w[static_cast<size_t>(static_cast<int64_t>(v) * D + j)]);
    tt::Shape shape = ids.shape();
    shape.push_back(D);
    return raw(out, shape);
}

// d weight (V, D): row ids[i] += g[i] for every position i
inline tt::Tensor scatter_add(const tt::Tensor& ids, const tt::Tensor& g, int64_t V, int64_t D) {
    const std::vector<float> id = values_of(ids), grad = values_of(g);
    std::vector<double> sum(static_cast<size_t>(V * D), 0.0);
    for (size_t i = 0; i < id.size(); ++i)
        for (int64_t j = 0; j < D; ++j)
            sum[static_cast<size_t>(static_cast<int64_t>(id[i]) * D + j)] += grad[i * static_cast<size_t>(D) + static_cast<size_t>(j)];
    return raw(std::vector<float>(sum.begin(), sum.end()), {V, D});
}

// (length, dim) in double: pe[t, 2i] = sin(t / 10000^(2i / dim)), pe[t, 2i + 1] = cos(same)
inline tt::Tensor sinusoidal(int64_t length, int64_t dim) {
    std::vector<float> pe;
    for (int64_t t = 0; t < length; ++t)
        for (int64_t c = 0; c < dim; ++c) {
            const int64_t even = c - c % 2;
            const double angle = static_cast<double>(t) / std::pow(10000.0, static_cast<double>(even) / static_cast<double>(dim));
            pe.push_back(static_cast<float>(c % 2 == 0 ? std::sin(angle) : std::cos(angle)));
        }
    return raw(pe, {length, dim});
}

// x (..., T, D) + table[:T]
inline tt::Tensor add_rows(const tt::Tensor& x, const tt::Tensor& table) {
    std::vector<float> out = values_of(x);
    const std::vector<float> rows = values_of(table);
    const size_t block = static_cast<size_t>(x.size(-2) * x.size(-1));
    for (size_t i = 0; i < out.size(); ++i) out[i] += rows[i % block];
    return raw(out, x.shape());
}

// d table (max_length, D): rows 0..T-1 get g summed over every sequence, the others zero
inline tt::Tensor position_grad(const tt::Tensor& g, int64_t max_length) {
    const std::vector<float> grad = values_of(g);
    const int64_t D = g.size(-1);
    const size_t block = static_cast<size_t>(g.size(-2) * D);
    std::vector<double> sum(static_cast<size_t>(max_length * D), 0.0);
    for (size_t i = 0; i < grad.size(); ++i) sum[i % block] += grad[i];
    return raw(std::vector<float>(sum.begin(), sum.end()), {max_length, D});
}

// Whole numbers in [0, V), seeded
inline tt::Tensor random_ids(const tt::Shape& shape, int64_t V, uint64_t seed) {
    tt::Generator gen(seed);
    std::vector<float> ids(static_cast<size_t>(tt::testing::count_of(shape)));
    for (float& id : ids) id = std::floor(gen.uniform(0.0f, static_cast<float>(V)));
    for (float& id : ids) id = std::fmin(id, static_cast<float>(V - 1));
    return raw(ids, shape);
}

}  // namespace embedding_reference
