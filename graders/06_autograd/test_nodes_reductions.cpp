// test_nodes_reductions.cpp - module 06 grader: the backward nodes of sum, mean and max
// (nodes_tensor.cpp), over everything and along a dimension, with and without keepdim, on 3-d and
// 0-d inputs, with ties, and on non-contiguous inputs.
//
// The (2, 3, 2) input used below, x[a][b][c]:
//     a = 0: [[1, 9], [5, 2], [3, 4]]
//     a = 1: [[8, 0], [6, 7], [2, 7]]
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

using Inputs = std::vector<tt::Tensor>;

tt::Tensor leaf(const Nested& values) { return nested(values).requires_grad_(); }

tt::Tensor x232() { return leaf({{{1, 9}, {5, 2}, {3, 4}}, {{8, 0}, {6, 7}, {2, 7}}}); }

}  // namespace

TEST_CASE("sum sends its gradient to every summed element", "[points=2]") {
    {
        tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
        tt::sum(x).backward();
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 1, 1}, {1, 1, 1}})));
    }
    {
        tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
        tt::sum(x, 1).backward(nested({1, 2}));  // (2,): row i gets g[i]
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 1, 1}, {2, 2, 2}})));
    }
    {
        tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
        tt::sum(x, 0).backward(nested({1, 2, 3}));  // (3,): column j gets g[j]
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 2, 3}, {1, 2, 3}})));
    }
    {
        tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
        tt::sum(x, 0, true).backward(nested({{1, 2, 3}}));  // keepdim: (1, 3)
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 2, 3}, {1, 2, 3}})));
    }
    {  // the middle dimension of a 3-d tensor: dx[a, b, c] = g[a, c]
        tt::Tensor x = x232();
        tt::sum(x, 1).backward(nested({{1, 2}, {3, 4}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{1, 2}, {1, 2}, {1, 2}}, {{3, 4}, {3, 4}, {3, 4}}})));
        tt::Tensor y = x232();
        tt::sum(y, 1, true).backward(nested({{{1, 2}}, {{3, 4}}}));
        CHECK_THAT(y.grad(), tensor_equal(nested({{{1, 2}, {1, 2}, {1, 2}}, {{3, 4}, {3, 4}, {3, 4}}})));
    }
}

TEST_CASE("mean divides the gradient by the number of averaged elements", "[points=2]") {
    {
        tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
        tt::mean(x).backward();
        INFO("mean over all 6 elements: each gets 1/6");
        CHECK_THAT(x.grad(), tensor_near(raw(std::vector<float>(6, 1.0f / 6), {2, 3})));
    }
    {
        tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
        tt::mean(x, -1).backward(nested({3, 6}));
        INFO("mean along the last dim averages 3 elements: g / 3");
        CHECK_THAT(x.grad(), tensor_near(nested({{1, 1, 1}, {2, 2, 2}})));
    }
    {
        tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
        tt::mean(x, 0, true).backward(nested({{2, 4, 6}}));
        INFO("mean along dim 0 averages 2 elements: g / 2");
        CHECK_THAT(x.grad(), tensor_near(nested({{1, 2, 3}, {1, 2, 3}})));
    }
    {
        tt::Tensor x = x232();
        tt::mean(x, 1).backward(nested({{3, 6}, {9, 12}}));
        CHECK_THAT(x.grad(), tensor_near(nested({{{1, 2}, {1, 2}, {1, 2}}, {{3, 4}, {3, 4}, {3, 4}}})));
    }
}

TEST_CASE("max along a dim sends the gradient to the first maximum only", "[points=1]") {
    {
        tt::Tensor x = leaf({{1, 7, 7}, {9, 2, 9}});
        tt::max(x, 1).backward(nested({5, 6}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 5, 0}, {6, 0, 0}})));
    }
    {
        tt::Tensor x = leaf({{1, 7, 7}, {9, 2, 9}});
        tt::max(x, 0, true).backward(nested({{1, 2, 3}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 2, 0}, {1, 0, 3}})));
    }
    {
        tt::Tensor x = leaf({{-5, -3}, {-4, -6}});  // all negative: 0 is not a maximum
        tt::max(x).backward();
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 1}, {0, 0}})));
    }
}

TEST_CASE("max over everything shares the gradient equally among tied maxima as PyTorch", "[points=1]") {
    INFO("torch.max(x).backward() gives each of the k elements equal to the maximum g / k (max along a dim, by "
         "contrast, uses the index of the first one)");
    {
        tt::Tensor x = leaf({{1, 7, 7}, {9, 2, 9}});
        tt::max(x).backward();
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 0, 0}, {0.5f, 0, 0.5f}})));
    }
    {
        tt::Tensor x = leaf({{3, 3}, {1, 3}});
        tt::max(x).backward(raw_scalar(6));
        CHECK_THAT(x.grad(), tensor_equal(nested({{2, 2}, {0, 2}})));
        tt::max(x.t()).backward(raw_scalar(3));  // the same ties seen through a transpose
        CHECK_THAT(x.grad(), tensor_equal(nested({{3, 3}, {0, 3}})));
    }
    {
        tt::Tensor x = leaf({4, 4, 4, 4});
        tt::max(x).backward();
        CHECK_THAT(x.grad(), tensor_equal(nested({0.25f, 0.25f, 0.25f, 0.25f})));
    }
    {  // NaN is the maximum when there is one: the gradient goes to the NaNs
        const float nan = std::nanf("");
        tt::Tensor x = leaf({1, nan, 3, nan});
        tt::max(x).backward(raw_scalar(4));
        CHECK_THAT(x.grad(), tensor_equal(nested({0, 2, 0, 2})));
        tt::Tensor y = leaf({{1, nan}, {nan, 3}});
        tt::max(y, 1).backward(nested({1, 2}));
        CHECK_THAT(y.grad(), tensor_equal(nested({{0, 1}, {2, 0}})));
    }
}

TEST_CASE("max along each dimension of a 3-d tensor scatters to the right elements", "[points=2]") {
    {  // along the middle dim: maxima 5 (b = 1), 9 (b = 0); 8 (b = 0), 7 (b = 1, the first of two)
        tt::Tensor x = x232();
        tt::max(x, 1).backward(nested({{10, 20}, {30, 40}}));
        INFO("view x as (outer 2, size 3, inner 2): g[o, i] goes to x[o, argmax, i]");
        CHECK_THAT(x.grad(), tensor_equal(nested({{{0, 20}, {10, 0}, {0, 0}}, {{30, 0}, {0, 40}, {0, 0}}})));
    }
    {  // along the last dim, keepdim
        tt::Tensor x = x232();
        tt::max(x, 2, true).backward(nested({{{1}, {2}, {3}}, {{4}, {5}, {6}}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{0, 1}, {2, 0}, {0, 3}}, {{4, 0}, {0, 5}, {0, 6}}})));
    }
    {  // along the first dim
        tt::Tensor x = x232();
        tt::max(x, 0).backward(nested({{1, 2}, {3, 4}, {5, 6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{0, 2}, {0, 0}, {5, 0}}, {{1, 0}, {3, 4}, {0, 6}}})));
    }
    {  // over everything: the single 9
        tt::Tensor x = x232();
        tt::max(x).backward(raw_scalar(2));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{0, 2}, {0, 0}, {0, 0}}, {{0, 0}, {0, 0}, {0, 0}}})));
    }
}

TEST_CASE("reductions with negative dims and on 0-d tensors", "[points=1]") {
    {
        tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
        tt::sum(x, -2).backward(nested({1, 2, 3}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 2, 3}, {1, 2, 3}})));
        x.zero_grad();
        tt::max(x, -1, true).backward(nested({{7}, {8}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 0, 7}, {0, 0, 8}})));
    }
    {  // a 0-d tensor reduced along "its" dimension 0 is itself
        INFO("sum, mean and max of a 0-d tensor along dim 0 or -1 return it unchanged: the gradient is g itself, with no "
             "dimension to put back");
        tt::Tensor s = raw_scalar(3).requires_grad_();
        tt::sum(s, 0).backward(raw_scalar(1));
        tt::mean(s, -1, true).backward(raw_scalar(2));
        tt::max(s, 0).backward(raw_scalar(4));
        tt::mean(s).backward(raw_scalar(8));
        CHECK_THAT(s.grad(), tensor_equal(raw_scalar(15)));
    }
}

TEST_CASE("reduction gradients on non-contiguous inputs match finite differences", "[points=1]") {
    using View = std::function<tt::Tensor(const tt::Tensor&)>;
    const std::vector<std::pair<const char*, View>> views = {
        {"transposed (3, 4)", [](const tt::Tensor& t) { return t.t(); }},                       // leaf (4, 3)
        {"sliced (2, 3)", [](const tt::Tensor& t) { return t.slice(0, 0, 4, 3); }},  // rows 0 and 3
        {"permuted (3, 2, 2)", [](const tt::Tensor& t) { return t.reshape({2, 2, 3}).permute({2, 0, 1}); }},
    };
    using Op = std::function<tt::Tensor(const tt::Tensor&)>;
    const std::vector<std::pair<const char*, Op>> ops = {
        {"sum", [](const tt::Tensor& t) { return tt::sum(t); }},
        {"sum(0)", [](const tt::Tensor& t) { return tt::sum(t, 0); }},
        {"sum(-1, keepdim)", [](const tt::Tensor& t) { return tt::sum(t, -1, true); }},
        {"mean", [](const tt::Tensor& t) { return tt::mean(t); }},
        {"mean(1)", [](const tt::Tensor& t) { return tt::mean(t, 1); }},
        {"mean(0, keepdim)", [](const tt::Tensor& t) { return tt::mean(t, 0, true); }},
        {"max", [](const tt::Tensor& t) { return tt::max(t); }},
        {"max(0)", [](const tt::Tensor& t) { return tt::max(t, 0); }},
        {"max(1, keepdim)", [](const tt::Tensor& t) { return tt::max(t, 1, true); }},
    };
    uint64_t seed = 40;
    for (const auto& [view_name, view] : views) {
        for (const auto& [op_name, op] : ops) {
            INFO(op_name << " of a " << view_name << " view");
            const tt::Tensor x = random_values({4, 3}, ++seed);
            CHECK(gradient_check([&](const Inputs& in) { return op(view(in[0])); }, {x}));
        }
    }
}
