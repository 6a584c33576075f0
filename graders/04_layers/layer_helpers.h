// layer_helpers.h - module 04 grader: small test modules and helpers that use nothing the student
// writes in module 04 (register_parameter / register_module / named_children are [given]).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "grading.h"
#include "tinytorch/layers.h"
#include "tinytorch/tensor.h"

namespace layer_helpers {

// Writes `values` (row-major) into t's elements through its storage, strides and offset: how a
// test sets a layer's weights without an in-place op (a parameter refuses those in grad mode).
inline void assign(const tt::Tensor& t, const std::vector<float>& values) {
    if (auto problem = tt::testing::layout_problem(t)) throw std::logic_error("assign(): " + *problem);
    if (static_cast<int64_t>(values.size()) != tt::testing::count_of(t.shape()))
        throw std::logic_error("assign(): wrong number of values for shape " + tt::testing::shape_text(t.shape()));
    if (values.empty()) return;
    std::vector<int64_t> index(t.shape().size(), 0);
    size_t i = 0;
    do {
        t.storage()->data[static_cast<size_t>(tt::testing::storage_index(t, index))] = values[i++];
    } while (tt::testing::next_index(index, t.shape()));
}

// A module with two parameters of its own and no children: exercises Module without Linear.
struct Leaf : tt::Module {
    tt::Tensor w, b;
    explicit Leaf(int64_t n = 3) {
        w = register_parameter("w", tt::testing::iota({n, 2}));
        b = register_parameter("b", tt::testing::iota({n}, 1.0f));
    }
    tt::Tensor forward(const tt::Tensor& x) override { return x; }
    std::string name() const override { return "Leaf"; }
};

// A module that registers a parameter, then a child, then another parameter: own parameters must
// still come first, in registration order. Its extra_repr shows in to_string().
struct Block : tt::Module {
    tt::Tensor scale, shift;
    std::shared_ptr<Leaf> inner;
    Block() {
        scale = register_parameter("scale", tt::testing::raw_scalar(2.0f));
        inner = register_module("inner", std::make_shared<Leaf>(4));
        shift = register_parameter("shift", tt::testing::iota({5}));
    }
    tt::Tensor forward(const tt::Tensor& x) override { return x; }
    std::string name() const override { return "Block"; }
    std::string extra_repr() const override { return "scale=2"; }
};

// A module with no parameters and no children.
struct Empty : tt::Module {
    tt::Tensor forward(const tt::Tensor& x) override { return x; }
    std::string name() const override { return "Empty"; }
};

// The names of a named_parameters() list, in order.
inline std::vector<std::string> names_of(const std::vector<std::pair<std::string, tt::Tensor>>& named) {
    std::vector<std::string> names;
    for (const auto& entry : named) names.push_back(entry.first);
    return names;
}

// Every module of the tree under `root` (root included), through the [given] named_children().
inline std::vector<std::shared_ptr<tt::Module>> descendants(const std::shared_ptr<tt::Module>& root) {
    std::vector<std::shared_ptr<tt::Module>> all{root};
    for (size_t i = 0; i < all.size(); ++i)
        for (const auto& [name, child] : all[i]->named_children()) all.push_back(child);
    return all;
}

// Sample statistics in double.
struct Stats {
    double mean = 0, variance = 0, min = 0, max = 0, max_abs = 0;
};

inline Stats stats_of(const tt::Tensor& t) {
    const std::vector<float> v = tt::testing::values_of(t);
    Stats s;
    if (v.empty()) return s;
    s.min = s.max = v[0];
    for (float x : v) {
        s.mean += x;
        s.min = std::min<double>(s.min, x);
        s.max = std::max<double>(s.max, x);
        s.max_abs = std::max<double>(s.max_abs, std::fabs(x));
    }
    s.mean /= static_cast<double>(v.size());
    for (float x : v) s.variance += (x - s.mean) * (x - s.mean);
    s.variance /= static_cast<double>(v.size());
    return s;
}

inline std::ostream& operator<<(std::ostream& out, const Stats& s) {
    return out << "mean " << s.mean << ", variance " << s.variance << " (std " << std::sqrt(s.variance) << "), min " << s.min
               << ", max " << s.max;
}

}  // namespace layer_helpers
