// engine_testing.h - helpers shared by the engine's own gradient tests (tests/engine/).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "grading.h"
#include "tinytorch/gradcheck.h"
#include "tinytorch/tensor.h"

namespace tt::testing {

using Inputs = std::vector<tt::Tensor>;
using Function = std::function<tt::Tensor(const Inputs&)>;

// Runs tt::gradcheck and shows its message (the worst element) when it fails.
inline void check_gradients(const std::string& what, const Function& f, const Inputs& inputs) {
    const tt::GradcheckResult result = tt::gradcheck(f, inputs);
    INFO(what << ": " << result.message);
    CHECK(result.ok);
}

// One way of presenting a (3, 4) operand to an op: the leaf's own shape and a view of it.
struct Layout {
    const char* name;
    tt::Shape leaf_shape;
    std::function<tt::Tensor(const tt::Tensor&)> view;
    bool padded_leaf = false;  // the leaf itself is non-contiguous (gaps and an offset)
};

inline const std::vector<Layout>& layouts_3x4() {
    static const std::vector<Layout> layouts = {
        {"contiguous", {3, 4}, [](const tt::Tensor& t) { return t; }},
        {"transposed", {4, 3}, [](const tt::Tensor& t) { return t.t(); }},
        {"sliced with step 2", {6, 4}, [](const tt::Tensor& t) { return t.slice(0, 0, 6, 2); }},
        {"expanded (stride 0)", {1, 4}, [](const tt::Tensor& t) { return t.expand({3, 4}); }},
        {"non-contiguous leaf", {3, 4}, [](const tt::Tensor& t) { return t; }, true},
    };
    return layouts;
}

}  // namespace tt::testing
