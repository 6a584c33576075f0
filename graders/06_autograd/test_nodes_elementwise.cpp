// test_nodes_elementwise.cpp - module 06 grader: the backward nodes of module 02's elementwise ops
// (nodes_tensor.cpp): add, sub, mul, div, neg, pow (number and tensor exponent), exp, log, sqrt.
//
// Expected gradients are computed by hand, or by gradient_check (grading.h): central finite
// differences of the forward ops, which are the reference here. Backward is always started with
// a non-uniform gradient so that a node that ignores g, or mixes up its elements, is caught.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

using Inputs = std::vector<tt::Tensor>;

tt::Tensor leaf(const Nested& values) { return nested(values).requires_grad_(); }

struct BinaryOp {
    const char* name;
    std::function<tt::Tensor(const tt::Tensor&, const tt::Tensor&)> run;
    bool positive_a = false;  // pow needs a positive base
    bool positive_b = false;  // div needs a denominator away from 0
};

const std::vector<BinaryOp>& binary_ops() {
    static const std::vector<BinaryOp> ops = {
        {"add", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::add(a, b); }},
        {"sub", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::sub(a, b); }},
        {"mul", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::mul(a, b); }},
        {"div", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::div(a, b); }, false, true},
        {"pow", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::pow(a, b); }, true, false},
    };
    return ops;
}

// Seeded values: in [0.5, 2) when the op needs them positive, else in [-1, 1).
tt::Tensor values(const tt::Shape& shape, uint64_t seed, bool positive) {
    return positive ? random_values(shape, seed, 0.5f, 2.0f) : random_values(shape, seed);
}

}  // namespace

TEST_CASE("add and sub pass g and -g to each input and sum broadcast dimensions", "[points=2]") {
    const tt::Tensor w = nested({1, -2});
    {
        tt::Tensor a = leaf({1, 2}), b = leaf({2, 4});
        tt::add(a, b).backward(w);
        CHECK_THAT(a.grad(), tensor_equal(nested({1, -2})));
        CHECK_THAT(b.grad(), tensor_equal(nested({1, -2})));
    }
    {
        tt::Tensor a = leaf({1, 2}), b = leaf({2, 4});
        tt::sub(a, b).backward(w);
        CHECK_THAT(a.grad(), tensor_equal(nested({1, -2})));
        INFO("d(a - b)/db = -1");
        CHECK_THAT(b.grad(), tensor_equal(nested({-1, 2})));
    }
    {  // a (2,) row broadcast over a (2, 2) matrix gets the column sums of g, on either side
        const tt::Tensor g = nested({{1, 2}, {3, 4}});
        tt::Tensor m = leaf({{1, 2}, {3, 4}}), row = leaf({5, 6});
        tt::add(m, row).backward(g);
        CHECK_THAT(m.grad(), tensor_equal(g));
        CHECK_THAT(row.grad(), tensor_equal(nested({4, 6})));
        tt::Tensor m2 = leaf({{1, 2}, {3, 4}}), row2 = leaf({5, 6});
        tt::sub(row2, m2).backward(g);
        CHECK_THAT(row2.grad(), tensor_equal(nested({4, 6})));
        CHECK_THAT(m2.grad(), tensor_equal(nested({{-1, -2}, {-3, -4}})));
    }
}

TEST_CASE("mul and div pass each input g times the derivative through the other input", "[points=2]") {
    const tt::Tensor w = nested({1, -2});
    {
        tt::Tensor a = leaf({1, 2}), b = leaf({2, 4});
        tt::mul(a, b).backward(w);
        INFO("d(a * b)/da = b and d(a * b)/db = a");
        CHECK_THAT(a.grad(), tensor_equal(nested({2, -8})));  // w * b
        CHECK_THAT(b.grad(), tensor_equal(nested({1, -4})));  // w * a
    }
    {
        tt::Tensor a = leaf({1, 2}), b = leaf({2, 4});
        tt::div(a, b).backward(w);
        INFO("d(a / b)/da = 1 / b and d(a / b)/db = -a / b^2");
        CHECK_THAT(a.grad(), tensor_near(nested({0.5f, -0.5f})));     // w / b
        CHECK_THAT(b.grad(), tensor_near(nested({-0.25f, 0.25f})));   // -w a / b^2
    }
    {  // a 0-d scale factor gets the sum over every element it multiplied
        tt::Tensor x = leaf({{1, 2}, {3, 4}}), s = tt::testing::raw_scalar(3).requires_grad_();
        tt::mul(x, s).backward(nested({{1, 1}, {1, -1}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{3, 3}, {3, -3}})));
        CHECK_THAT(s.grad(), tensor_equal(raw_scalar(2)));  // 1 + 2 + 3 - 4
    }
}

TEST_CASE("neg exp log and sqrt gradients", "[points=2]") {
    const tt::Tensor w = nested({1, -2});
    {
        tt::Tensor a = leaf({1, 2});
        tt::neg(a).backward(w);
        CHECK_THAT(a.grad(), tensor_equal(nested({-1, 2})));
    }
    {
        tt::Tensor a = leaf({1, 2});
        tt::exp(a).backward(w);
        INFO("d(e^x)/dx = e^x");
        CHECK_THAT(a.grad(), tensor_near(nested({std::exp(1.0f), -2 * std::exp(2.0f)})));
    }
    {
        tt::Tensor b = leaf({2, 4});
        tt::log(b).backward(w);
        INFO("d(ln x)/dx = 1 / x");
        CHECK_THAT(b.grad(), tensor_near(nested({0.5f, -0.5f})));
    }
    {
        tt::Tensor c = leaf({4, 16});
        tt::sqrt(c).backward(w);
        INFO("d(sqrt x)/dx = 1 / (2 sqrt x)");
        CHECK_THAT(c.grad(), tensor_near(nested({0.25f, -0.25f})));
    }
}

TEST_CASE("pow with a number exponent", "[points=1]") {
    const tt::Tensor w = nested({1, -2});
    {
        tt::Tensor x = leaf({-1, 2});
        tt::pow(x, 3.0f).backward(w);
        INFO("d(x^3)/dx = 3 x^2");
        CHECK_THAT(x.grad(), tensor_near(nested({3, -24})));
    }
    {
        tt::Tensor x = leaf({-1, 2});
        tt::pow(x, 2.0f).backward(w);
        CHECK_THAT(x.grad(), tensor_near(nested({-2, -8})));
    }
    {
        tt::Tensor x = leaf({4, 0.25f});
        tt::pow(x, -0.5f).backward(w);  // -0.5 x^-1.5
        CHECK_THAT(x.grad(), tensor_near(nested({-0.0625f, 8})));
    }
    {
        tt::Tensor x = leaf({-3, 5});
        tt::pow(x, 1.0f).backward(w);
        CHECK_THAT(x.grad(), tensor_near(nested({1, -2})));
    }
    {
        tt::Tensor x = leaf({0, 1});
        tt::pow(x, 0.0f).backward(w);
        INFO("x^0 is the constant 1: its gradient is 0 everywhere, also at x = 0 (where 0 * x^-1 would be nan)");
        CHECK_THAT(x.grad(), tensor_equal(nested({0, 0})));
    }
}

TEST_CASE("pow with a tensor exponent differentiates base and exponent", "[points=1]") {
    tt::Tensor base = leaf({2, 3}), exponent = leaf({3, 2});
    tt::pow(base, exponent).backward(nested({1, -2}));
    INFO("d(a^b)/da = b a^(b - 1) and d(a^b)/db = a^b ln a");
    CHECK_THAT(base.grad(), tensor_near(nested({12, -12})));
    CHECK_THAT(exponent.grad(), tensor_near(nested({8 * std::log(2.0f), -18 * std::log(3.0f)})));
    {  // a 0-d exponent shared by every element
        tt::Tensor a = leaf({1, 2, 4}), e = raw_scalar(2).requires_grad_();
        tt::pow(a, e).sum().backward();
        CHECK_THAT(a.grad(), tensor_near(nested({2, 4, 8})));
        CHECK_THAT(e.grad(), tensor_near(raw_scalar(4 * std::log(2.0f) + 16 * std::log(4.0f))));
    }
    {  // only the exponent requires grad: the base gets nothing
        const tt::Tensor a = nested({2, 3});
        tt::Tensor b = leaf({1, 1});
        tt::pow(a, b).sum().backward();
        CHECK_FALSE(a.grad().defined());
        CHECK_THAT(b.grad(), tensor_near(nested({2 * std::log(2.0f), 3 * std::log(3.0f)})));
    }
}

TEST_CASE("pow with a tensor exponent at a zero base takes the limits PyTorch takes", "[points=1]") {
    INFO("at a = 0 the formulas give nan: b * 0^(b - 1) is 0 * inf when b = 0, and 0^b * ln 0 is 0 * -inf. PyTorch "
         "uses da = 0 where b = 0 (a^0 is constant) and db = 0 where a = 0 and b >= 0");
    const float inf = std::numeric_limits<float>::infinity();
    tt::Tensor a = leaf({0, 0, 0, 0, 2});
    tt::Tensor b = leaf({0, 2, 0.5f, -1, 0});
    tt::pow(a, b).backward(nested({1, 1, 1, 1, 1}));
    CHECK_THAT(a.grad(), tensor_equal(nested({0, 0, inf, -inf, 0})));
    CHECK_THAT(b.grad(), tensor_near(nested({0, 0, 0, -inf, std::log(2.0f)})));
    {  // a broadcast exponent
        tt::Tensor base = leaf({{0, 1}, {0, 3}});
        tt::Tensor power = leaf({{0}, {2}});
        tt::pow(base, power).sum().backward();
        CHECK_THAT(base.grad(), tensor_near(nested({{0, 0}, {0, 6}})));
        CHECK_THAT(power.grad(), tensor_near(nested({{std::log(1.0f)}, {9 * std::log(3.0f)}})));
    }
}

TEST_CASE("binary op gradients with broadcasting on either side match finite differences", "[points=2]") {
    const std::vector<std::pair<tt::Shape, tt::Shape>> shapes = {
        {{3, 1}, {1, 4}}, {{}, {3, 4}}, {{3, 4}, {}}, {{4}, {3, 4}}, {{3, 4}, {3, 1}}, {{2, 1, 4}, {3, 1}}, {{1}, {2, 1, 1}}};
    uint64_t seed = 100;
    for (const BinaryOp& op : binary_ops()) {
        for (const auto& [sa, sb] : shapes) {
            INFO(op.name << "(a, b) with a of shape " << shape_text(sa) << " and b of shape " << shape_text(sb)
                         << " (input 0 is a, input 1 is b)");
            const tt::Tensor a = values(sa, ++seed, op.positive_a), b = values(sb, ++seed, op.positive_b);
            const auto& run = op.run;
            CHECK(gradient_check([&](const Inputs& in) { return run(in[0], in[1]); }, {a, b}));
        }
    }
}

TEST_CASE("elementwise gradients on transposed sliced and expanded inputs match finite differences", "[points=1]") {
    struct Layout {
        const char* name;
        tt::Shape leaf_shape;
        std::function<tt::Tensor(const tt::Tensor&)> view;  // -> (3, 4)
    };
    const std::vector<Layout> layouts = {
        {"transposed", {4, 3}, [](const tt::Tensor& t) { return t.t(); }},
        {"sliced with step 2", {6, 4}, [](const tt::Tensor& t) { return t.slice(0, 1, 6, 2); }},
        {"expanded (stride 0)", {1, 4}, [](const tt::Tensor& t) { return t.expand({3, 4}); }},
    };
    uint64_t seed = 300;
    for (const Layout& layout : layouts) {
        const auto& view = layout.view;
        for (const BinaryOp& op : binary_ops()) {
            const auto& run = op.run;
            INFO(op.name << " of a " << layout.name << " (3, 4) tensor and a contiguous one, both orders");
            CHECK(gradient_check([&](const Inputs& in) { return run(view(in[0]), in[1]); },
                                 {values(layout.leaf_shape, ++seed, op.positive_a), values({3, 4}, ++seed, op.positive_b)}));
            CHECK(gradient_check([&](const Inputs& in) { return run(in[0], view(in[1])); },
                                 {values({3, 4}, ++seed, op.positive_a), values(layout.leaf_shape, ++seed, op.positive_b)}));
        }
        const tt::Tensor positive = values(layout.leaf_shape, ++seed, true);
        const tt::Tensor any = values(layout.leaf_shape, ++seed, false);
        INFO("unary ops of a " << layout.name << " tensor");
        CHECK(gradient_check([&](const Inputs& in) { return tt::neg(view(in[0])); }, {any}));
        CHECK(gradient_check([&](const Inputs& in) { return tt::exp(view(in[0])); }, {any}));
        CHECK(gradient_check([&](const Inputs& in) { return tt::log(view(in[0])); }, {positive}));
        CHECK(gradient_check([&](const Inputs& in) { return tt::sqrt(view(in[0])); }, {positive}));
        CHECK(gradient_check([&](const Inputs& in) { return tt::pow(view(in[0]), 3.0f); }, {any}));
        CHECK(gradient_check([&](const Inputs& in) { return tt::pow(view(in[0]), -1.5f); }, {positive}));
    }
}

TEST_CASE("an op whose two inputs are the same tensor gets both contributions", "[points=1]") {
    const tt::Tensor w = nested({1, -2});
    tt::Tensor x = leaf({1, 2});
    tt::mul(x, x).backward(w);  // 2x
    CHECK_THAT(x.grad(), tensor_near(nested({2, -8})));
    x.zero_grad();
    tt::add(x, x).backward(w);  // 2
    CHECK_THAT(x.grad(), tensor_near(nested({2, -4})));
    x.zero_grad();
    tt::sub(x, x).backward(w);  // 0
    CHECK_THAT(x.grad(), tensor_near(nested({0, 0})));
    x.zero_grad();
    tt::div(x, x).backward(w);  // 1/x - x/x^2 = 0
    CHECK_THAT(x.grad(), tensor_near(nested({0, 0})));
    x.zero_grad();
    tt::pow(x, x).backward(w);  // x^x (ln x + 1)
    CHECK_THAT(x.grad(), tensor_near(nested({1, -8 * (std::log(2.0f) + 1)}), 1e-4, 1e-5));
}
