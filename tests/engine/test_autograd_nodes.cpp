// test_autograd_nodes.cpp - module 06: the backward node of every module 02 op
// (engine/src/06_autograd/nodes_tensor.cpp). Each node has hand-computed gradients and a
// finite-difference check (tt::gradcheck) on contiguous and non-contiguous inputs: transposed,
// sliced with a step, expanded (stride 0), and non-contiguous leaves.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>

#include "engine_testing.h"
#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/gradcheck.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

// Leaf values for an input of `shape`: in [0.5, 2) where the op needs positive inputs (log,
// sqrt, fractional powers, division), else in [-1, 1).
tt::Tensor input_values(const tt::Shape& shape, uint64_t seed, bool positive, bool padded_leaf = false) {
    tt::Tensor values = positive ? random_values(shape, seed, 0.5f, 2.0f) : random_values(shape, seed);
    return leaf(padded_leaf ? padded(values) : values);
}

struct UnaryCase {
    const char* name;
    std::function<tt::Tensor(const tt::Tensor&)> op;  // on a (3, 4) input
    bool positive = false;
};

const std::vector<UnaryCase>& unary_cases() {
    static const std::vector<UnaryCase> cases = {
        {"neg", [](const tt::Tensor& x) { return tt::neg(x); }},
        {"exp", [](const tt::Tensor& x) { return tt::exp(x); }},
        {"log", [](const tt::Tensor& x) { return tt::log(x); }, true},
        {"sqrt", [](const tt::Tensor& x) { return tt::sqrt(x); }, true},
        {"pow 2", [](const tt::Tensor& x) { return tt::pow(x, 2.0f); }},
        {"pow 3", [](const tt::Tensor& x) { return tt::pow(x, 3.0f); }},
        {"pow -1.5", [](const tt::Tensor& x) { return tt::pow(x, -1.5f); }, true},
        {"pow 0", [](const tt::Tensor& x) { return tt::pow(x, 0.0f); }},
        {"sum", [](const tt::Tensor& x) { return tt::sum(x); }},
        {"sum dim 0", [](const tt::Tensor& x) { return tt::sum(x, 0); }},
        {"sum dim -1 keepdim", [](const tt::Tensor& x) { return tt::sum(x, -1, true); }},
        {"mean", [](const tt::Tensor& x) { return tt::mean(x); }},
        {"mean dim 1", [](const tt::Tensor& x) { return tt::mean(x, 1); }},
        {"mean dim 0 keepdim", [](const tt::Tensor& x) { return tt::mean(x, 0, true); }},
        {"max", [](const tt::Tensor& x) { return tt::max(x); }},
        {"max dim 1", [](const tt::Tensor& x) { return tt::max(x, 1); }},
        {"max dim 0 keepdim", [](const tt::Tensor& x) { return tt::max(x, 0, true); }},
        {"view", [](const tt::Tensor& x) { return x.contiguous().view({2, 6}); }},
        {"reshape", [](const tt::Tensor& x) { return x.reshape({4, -1}); }},
        {"flatten", [](const tt::Tensor& x) { return x.flatten(); }},
        {"unsqueeze + squeeze", [](const tt::Tensor& x) { return x.unsqueeze(1).squeeze(); }},
        {"squeeze dim", [](const tt::Tensor& x) { return x.unsqueeze(0).squeeze(0) * x; }},
        {"transpose", [](const tt::Tensor& x) { return x.transpose(-1, 0); }},
        {"t", [](const tt::Tensor& x) { return x.t(); }},
        {"permute", [](const tt::Tensor& x) { return x.unsqueeze(0).permute({2, 0, 1}); }},
        {"slice", [](const tt::Tensor& x) { return x.slice(1, -3, 4, 2); }},
        {"select", [](const tt::Tensor& x) { return x.select(0, -1); }},
        {"expand", [](const tt::Tensor& x) { return x.unsqueeze(1).expand({3, 2, 4}); }},
        {"contiguous", [](const tt::Tensor& x) { return x.contiguous(); }},
        {"clone", [](const tt::Tensor& x) { return x.clone(); }},
    };
    return cases;
}

struct BinaryCase {
    const char* name;
    std::function<tt::Tensor(const tt::Tensor&, const tt::Tensor&)> op;
    bool positive_a = false, positive_b = false;
};

const std::vector<BinaryCase>& binary_cases() {
    static const std::vector<BinaryCase> cases = {
        {"add", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::add(a, b); }},
        {"sub", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::sub(a, b); }},
        {"mul", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::mul(a, b); }},
        {"div", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::div(a, b); }, false, true},
        {"pow", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::pow(a, b); }, true, false},
    };
    return cases;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hand-computed gradients, one node at a time
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: elementwise nodes, hand-computed", "[06][autograd][nodes]") {
    tt::Tensor a = leaf(nested({1, 2}));
    tt::Tensor b = leaf(nested({2, 4}));
    SECTION("add with broadcasting") {
        tt::Tensor m = leaf(nested({{1, 2}, {3, 4}}));
        tt::add(m, b).sum().backward();
        CHECK_THAT(m.grad(), tensor_equal(nested({{1, 1}, {1, 1}})));
        CHECK_THAT(b.grad(), tensor_equal(nested({2, 2})));
        CHECK(tt::add(m, b).grad_fn()->name() == std::string("AddBackward"));
    }
    SECTION("sub") {
        tt::sub(a, b).sum().backward();
        CHECK_THAT(a.grad(), tensor_equal(nested({1, 1})));
        CHECK_THAT(b.grad(), tensor_equal(nested({-1, -1})));
    }
    SECTION("mul") {
        tt::mul(a, b).sum().backward();
        CHECK_THAT(a.grad(), tensor_equal(nested({2, 4})));
        CHECK_THAT(b.grad(), tensor_equal(nested({1, 2})));
    }
    SECTION("div") {
        tt::div(a, b).sum().backward();
        CHECK_THAT(a.grad(), tensor_near(nested({0.5f, 0.25f})));      // 1 / b
        CHECK_THAT(b.grad(), tensor_near(nested({-0.25f, -0.125f})));  // -a / b^2
    }
    SECTION("neg") {
        tt::neg(a).sum().backward();
        CHECK_THAT(a.grad(), tensor_equal(nested({-1, -1})));
    }
    SECTION("pow with a number") {
        tt::pow(a, 3.0f).sum().backward();
        CHECK_THAT(a.grad(), tensor_near(nested({3, 12})));  // 3 a^2
        tt::Tensor z = leaf(nested({0, 1}));
        tt::pow(z, 0.0f).sum().backward();
        CHECK_THAT(z.grad(), tensor_equal(nested({0, 0})));  // x^0 is constant: 0, not nan at x = 0
    }
    SECTION("pow with a tensor exponent") {
        tt::Tensor base = leaf(nested({2, 3}));
        tt::Tensor exponent = leaf(nested({3, 2}));
        tt::pow(base, exponent).sum().backward();
        CHECK_THAT(base.grad(), tensor_near(nested({12, 6})));                                    // b a^(b-1)
        CHECK_THAT(exponent.grad(), tensor_near(nested({8 * std::log(2.0f), 9 * std::log(3.0f)})));  // a^b ln a
    }
    SECTION("exp, log, sqrt") {
        tt::exp(a).sum().backward();
        CHECK_THAT(a.grad(), tensor_near(nested({std::exp(1.0f), std::exp(2.0f)})));
        tt::log(b).sum().backward();
        CHECK_THAT(b.grad(), tensor_near(nested({0.5f, 0.25f})));
        tt::Tensor c = leaf(nested({4, 16}));
        tt::sqrt(c).sum().backward();
        CHECK_THAT(c.grad(), tensor_near(nested({0.25f, 0.125f})));  // 1 / (2 sqrt x)
    }
}

TEST_CASE("autograd: reduction nodes, hand-computed", "[06][autograd][nodes]") {
    tt::Tensor x = leaf(nested({{1, 7, 7}, {9, 2, 9}}));
    SECTION("sum over a dim, with and without keepdim") {
        tt::sum(x, 1).backward(nested({1, 2}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 1, 1}, {2, 2, 2}})));
        x.zero_grad();
        tt::sum(x, 0, true).backward(nested({{1, 2, 3}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 2, 3}, {1, 2, 3}})));
    }
    SECTION("mean divides by the number of elements averaged") {
        tt::mean(x).backward();
        CHECK_THAT(x.grad(), tensor_near(raw(std::vector<float>(6, 1.0f / 6), {2, 3})));
        x.zero_grad();
        tt::mean(x, -1).backward(nested({3, 6}));
        CHECK_THAT(x.grad(), tensor_near(nested({{1, 1, 1}, {2, 2, 2}})));
    }
    SECTION("max along a dim sends the gradient to the first maximum; max over everything splits it among ties") {
        tt::max(x).backward();  // two 9s: each gets 1/2, as torch.max(x).backward() gives
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 0, 0}, {0.5f, 0, 0.5f}})));
        x.zero_grad();
        tt::max(x, 1).backward(nested({5, 6}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 5, 0}, {6, 0, 0}})));
        x.zero_grad();
        tt::max(x, 0, true).backward(nested({{1, 2, 3}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 2, 0}, {1, 0, 3}})));
    }
    SECTION("max over everything shares the gradient among NaNs when the maximum is NaN") {
        const float nan = std::nanf("");
        tt::Tensor y = leaf(nested({1, nan, 3, nan}));
        tt::max(y).backward(raw_scalar(4));  // torch: [0, 2, 0, 2]
        CHECK_THAT(y.grad(), tensor_equal(nested({0, 2, 0, 2})));
        tt::Tensor z = leaf(nested({{1, nan}, {nan, 3}}));
        tt::max(z, 1).backward(nested({1, 2}));  // along a dim: the first NaN of each row
        CHECK_THAT(z.grad(), tensor_equal(nested({{0, 1}, {2, 0}})));
    }
    SECTION("0-d input") {
        tt::Tensor s = leaf(raw_scalar(3));
        (tt::sum(s, 0) + tt::mean(s, -1, true) + tt::max(s, 0)).backward();
        CHECK(s.grad().item() == 3.0f);
    }
}

TEST_CASE("autograd: matmul node, hand-computed", "[06][autograd][nodes][matmul]") {
    tt::Tensor a = leaf(nested({{1, 2, 3}, {4, 5, 6}}));    // (2, 3)
    tt::Tensor b = leaf(nested({{1, 0}, {2, 1}, {0, 3}}));  // (3, 2)
    tt::matmul(a, b).sum().backward();
    CHECK_THAT(a.grad(), tensor_equal(nested({{1, 3, 3}, {1, 3, 3}})));  // ones @ b^T: row sums of b
    CHECK_THAT(b.grad(), tensor_equal(nested({{5, 5}, {7, 7}, {9, 9}})));  // a^T @ ones: column sums of a

    tt::Tensor w = leaf(nested({{1}, {2}}));  // (2, 1), shared by a batch of 3
    const tt::Tensor batch = iota({3, 4, 2});
    tt::matmul(batch, w).sum().backward();
    // dw = sum over batch and rows of batch: column sums of all 12 rows
    CHECK_THAT(w.grad(), tensor_equal(nested({{0 + 2 + 4 + 6 + 8 + 10 + 12 + 14 + 16 + 18 + 20 + 22}, {144}})));
}

TEST_CASE("autograd: view nodes, hand-computed", "[06][autograd][nodes][views]") {
    tt::Tensor x = leaf(iota({2, 3}));
    SECTION("slice scatters into zeros") {
        x.slice(1, 0, 3, 2).backward(nested({{1, 2}, {3, 4}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 0, 2}, {3, 0, 4}})));
    }
    SECTION("select scatters into zeros") {
        x.select(1, -1).backward(nested({5, 6}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 0, 5}, {0, 0, 6}})));
    }
    SECTION("transpose and permute move the gradient back") {
        x.t().backward(nested({{1, 2}, {3, 4}, {5, 6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 3, 5}, {2, 4, 6}})));
        x.zero_grad();
        x.unsqueeze(0).permute({2, 0, 1}).backward(raw({1, 2, 3, 4, 5, 6}, {3, 1, 2}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 3, 5}, {2, 4, 6}})));
    }
    SECTION("expand sums over the repeated positions") {
        tt::Tensor c = leaf(nested({{1}, {2}}));  // (2, 1)
        c.expand({3, 2, 4}).sum().backward();
        CHECK_THAT(c.grad(), tensor_equal(nested({{12}, {12}})));
    }
    SECTION("reshape, flatten, squeeze, unsqueeze, view keep the order") {
        x.reshape({3, 2}).backward(nested({{1, 2}, {3, 4}, {5, 6}}));
        x.flatten().backward(nested({1, 1, 1, 1, 1, 1}));
        x.view({1, 6}).squeeze().backward(nested({1, 1, 1, 1, 1, 1}));
        x.unsqueeze(-1).backward(raw({1, 1, 1, 1, 1, 1}, {2, 3, 1}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{4, 5, 6}, {7, 8, 9}})));
        CHECK(x.view({6}).grad_fn()->name() == std::string("ReshapeBackward"));
    }
    SECTION("contiguous records only when it copies; clone always") {
        CHECK(x.contiguous().is_same(x));
        const tt::Tensor c = x.t().contiguous();
        CHECK(c.grad_fn()->name() == std::string("CloneBackward"));
        c.backward(nested({{1, 2}, {3, 4}, {5, 6}}));
        x.clone().backward(nested({{1, 1, 1}, {1, 1, 1}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{2, 4, 6}, {3, 5, 7}})));
    }
}

// ---------------------------------------------------------------------------------------------
// Finite-difference checks on every layout
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: gradcheck of unary ops, reductions and views on every layout", "[06][autograd][nodes][gradcheck]") {
    uint64_t seed = 100;
    for (const UnaryCase& c : unary_cases()) {
        for (const Layout& layout : layouts_3x4()) {
            const tt::Tensor x = input_values(layout.leaf_shape, ++seed, c.positive, layout.padded_leaf);
            const auto& view = layout.view;
            const auto& op = c.op;
            check_gradients(std::string(c.name) + " on " + layout.name, [&](const Inputs& in) { return op(view(in[0])); }, {x});
        }
    }
}

TEST_CASE("autograd: gradcheck of binary ops on every layout and broadcast", "[06][autograd][nodes][gradcheck][broadcast]") {
    uint64_t seed = 500;
    for (const BinaryCase& c : binary_cases()) {
        const auto& op = c.op;
        for (const Layout& layout : layouts_3x4()) {
            const auto& view = layout.view;
            const tt::Tensor a = input_values(layout.leaf_shape, ++seed, c.positive_a, layout.padded_leaf);
            const tt::Tensor b = input_values({3, 4}, ++seed, c.positive_b);
            check_gradients(std::string(c.name) + "(" + layout.name + ", contiguous)",
                            [&](const Inputs& in) { return op(view(in[0]), in[1]); }, {a, b});
            const tt::Tensor a2 = input_values({3, 4}, ++seed, c.positive_a);
            const tt::Tensor b2 = input_values(layout.leaf_shape, ++seed, c.positive_b, layout.padded_leaf);
            check_gradients(std::string(c.name) + "(contiguous, " + layout.name + ")",
                            [&](const Inputs& in) { return op(in[0], view(in[1])); }, {a2, b2});
        }
        const std::vector<std::pair<tt::Shape, tt::Shape>> broadcasts = {
            {{3, 1}, {1, 4}}, {{}, {3, 4}}, {{3, 4}, {}}, {{4}, {3, 4}}, {{2, 1, 4}, {3, 1}}, {{1}, {1, 1}}, {{}, {}}};
        for (const auto& [sa, sb] : broadcasts) {
            const tt::Tensor a = input_values(sa, ++seed, c.positive_a), b = input_values(sb, ++seed, c.positive_b);
            check_gradients(std::string(c.name) + " " + shape_text(sa) + " with " + shape_text(sb),
                            [&](const Inputs& in) { return op(in[0], in[1]); }, {a, b});
        }
        // The same tensor on both sides.
        const tt::Tensor x = input_values({2, 3}, ++seed, true);
        check_gradients(std::string(c.name) + "(x, x)", [&](const Inputs& in) { return op(in[0], in[0]); }, {x});
    }
}

TEST_CASE("autograd: gradcheck of matmul with batches and views", "[06][autograd][nodes][gradcheck][matmul]") {
    const std::vector<std::pair<tt::Shape, tt::Shape>> shapes = {
        {{3, 4}, {4, 2}}, {{2, 3, 4}, {4, 5}}, {{3, 4}, {2, 4, 5}}, {{2, 3, 4}, {2, 4, 2}},
        {{2, 1, 3, 4}, {2, 4, 2}},  // (B, 1, M, K) @ (H, K, N)
        {{1, 3, 2}, {2, 2, 1}}, {{1, 1}, {1, 1}}};
    uint64_t seed = 900;
    for (const auto& [sa, sb] : shapes) {
        const tt::Tensor a = input_values(sa, ++seed, false), b = input_values(sb, ++seed, false);
        check_gradients("matmul " + shape_text(sa) + " @ " + shape_text(sb),
                        [](const Inputs& in) { return tt::matmul(in[0], in[1]); }, {a, b});
    }
    for (const Layout& layout : layouts_3x4()) {
        const auto& view = layout.view;
        const tt::Tensor a = input_values(layout.leaf_shape, ++seed, false, layout.padded_leaf);
        const tt::Tensor b = input_values({4, 2}, ++seed, false);
        check_gradients(std::string("matmul of a ") + layout.name + " (3, 4) @ (4, 2)",
                        [&](const Inputs& in) { return tt::matmul(view(in[0]), in[1]); }, {a, b});
        const tt::Tensor c = input_values({2, 3}, ++seed, false);
        check_gradients(std::string("matmul (2, 3) @ a ") + layout.name + " (3, 4)",
                        [&](const Inputs& in) { return tt::matmul(in[0], view(in[1])); }, {c, a});
    }
    const tt::Tensor x = input_values({3, 3}, ++seed, false);
    check_gradients("matmul(x, x)", [](const Inputs& in) { return tt::matmul(in[0], in[0]); }, {x});
    const tt::Tensor w = input_values({4, 3}, ++seed, false);
    check_gradients("matmul of an expanded batch", [](const Inputs& in) { return tt::matmul(in[0].expand({2, 4, 3}), in[0].t()); }, {w});
}

TEST_CASE("autograd: gradcheck of a small composite network", "[06][autograd][nodes][gradcheck]") {
    // A two-layer network with a softmax-style loss, built from module 02 ops only.
    const tt::Tensor x = random_values({5, 3}, 1);
    const tt::Tensor w1 = input_values({3, 4}, 2, false), b1 = input_values({4}, 3, false);
    const tt::Tensor w2 = input_values({4, 2}, 4, false);
    check_gradients("network", [&](const Inputs& in) {
        const tt::Tensor h = tt::exp(tt::matmul(x, in[0]) + in[1]) / 4.0f;    // (5, 4)
        const tt::Tensor logits = tt::matmul(tt::sqrt(h + 1.0f), in[2]);      // (5, 2)
        const tt::Tensor shifted = logits - tt::max(logits, 1, true);          // (5, 2)
        return tt::mean(tt::log(tt::sum(tt::exp(shifted), -1)) - shifted.select(1, 0));
    }, {w1, b1, w2});
}
