// test_autograd_activations.cpp - module 06: the backward node of every module 03 activation
// (engine/src/06_autograd/nodes_activations.cpp). Hand-computed gradients (derivatives evaluated
// on a calculator, in the comments), finite-difference checks with tt::gradcheck and grading.h's
// independent gradient_check on every layout and along every dim, gradients at +-1000, and
// accumulation through composed activations.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine_testing.h"
#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/gradcheck.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

const float inf = std::numeric_limits<float>::infinity();

// Random values in [-2, 2] kept at least 0.1 away from 0, where relu and leaky_relu have a kink
// that central differences (step 1e-3) would straddle.
tt::Tensor away_from_zero(const tt::Shape& shape, uint64_t seed) {
    return reference_unary(random_values(shape, seed, -2.0f, 2.0f), [](float v) { return v >= 0 ? v + 0.1f : v - 0.1f; });
}

struct ActivationCase {
    const char* name;
    std::function<tt::Tensor(const tt::Tensor&)> op;
};

const std::vector<ActivationCase>& activation_cases() {
    static const std::vector<ActivationCase> cases = {
        {"relu", [](const tt::Tensor& x) { return tt::relu(x); }},
        {"leaky_relu", [](const tt::Tensor& x) { return tt::leaky_relu(x); }},
        {"leaky_relu 0.3", [](const tt::Tensor& x) { return tt::leaky_relu(x, 0.3f); }},
        {"leaky_relu -0.5", [](const tt::Tensor& x) { return tt::leaky_relu(x, -0.5f); }},
        {"sigmoid", [](const tt::Tensor& x) { return tt::sigmoid(x); }},
        {"tanh", [](const tt::Tensor& x) { return tt::tanh(x); }},
        {"gelu", [](const tt::Tensor& x) { return tt::gelu(x); }},
        {"gelu tanh", [](const tt::Tensor& x) { return tt::gelu(x, tt::GeluApproximation::tanh); }},
        {"softmax dim -1", [](const tt::Tensor& x) { return tt::softmax(x, -1); }},
        {"softmax dim 0", [](const tt::Tensor& x) { return tt::softmax(x, 0); }},
        {"log_softmax dim 1", [](const tt::Tensor& x) { return tt::log_softmax(x, 1); }},
        {"log_softmax dim -2", [](const tt::Tensor& x) { return tt::log_softmax(x, -2); }},
    };
    return cases;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hand-computed gradients
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: relu and leaky_relu gradients, hand-computed", "[06][autograd][activations]") {
    tt::Tensor x = leaf(nested({-1, 0, 2}));
    tt::relu(x).sum().backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({0, 0, 1})));  // 0 at the kink x = 0, as PyTorch
    x.zero_grad();
    tt::leaky_relu(x, 0.1f).backward(nested({3, 5, 7}));
    CHECK_THAT(x.grad(), tensor_near(nested({0.3f, 0.5f, 7})));  // g * (x > 0 ? 1 : 0.1)
    x.zero_grad();
    tt::leaky_relu(x).sum().backward();
    CHECK_THAT(x.grad(), tensor_near(nested({0.01f, 0.01f, 1})));  // the default slope 0.01
}

TEST_CASE("autograd: sigmoid, tanh and gelu gradients, hand-computed", "[06][autograd][activations]") {
    tt::Tensor x = leaf(nested({0, 2, -1}));
    // sigmoid' = s (1 - s): 0 -> 0.25, 2 -> 0.104993585, -1 -> 0.196611933
    tt::sigmoid(x).sum().backward();
    CHECK_THAT(x.grad(), tensor_near(nested({0.25f, 0.104993585f, 0.196611933f}), 1e-6, 1e-5));

    tt::Tensor t = leaf(nested({0, 1, -0.5f}));
    // tanh' = 1 - tanh^2: 0 -> 1, 1 -> 0.419974342, -0.5 -> 0.786447733
    tt::tanh(t).sum().backward();
    CHECK_THAT(t.grad(), tensor_near(nested({1, 0.419974342f, 0.786447733f}), 1e-6, 1e-5));

    tt::Tensor g = leaf(nested({0, 1, -1, 2, -0.5f}));
    // exact: Phi(x) + x phi(x): 0 -> 0.5, 1 -> 1.083315471, -1 -> -0.083315471, 2 -> 1.085231801, -0.5 -> 0.132504875
    tt::gelu(g).sum().backward();
    CHECK_THAT(g.grad(), tensor_near(nested({0.5f, 1.083315471f, -0.083315471f, 1.085231801f, 0.132504875f}), 1e-6, 1e-5));
    g.zero_grad();
    // tanh form, differentiated as written: 0 -> 0.5, 1 -> 1.082964084, -1 -> -0.082964084, 2 -> 1.086099257, -0.5 -> 0.132630096
    tt::gelu(g, tt::GeluApproximation::tanh).sum().backward();
    CHECK_THAT(g.grad(), tensor_near(nested({0.5f, 1.082964084f, -0.082964084f, 1.086099257f, 0.132630096f}), 1e-6, 1e-5));
}

TEST_CASE("autograd: softmax and log_softmax gradients, hand-computed", "[06][autograd][activations][softmax]") {
    tt::Tensor x = leaf(nested({1, 2, 3}));
    // p = softmax([1, 2, 3]) = [0.090030573, 0.244728471, 0.665240956]; with g = e_0:
    //     dx_j = p_0 (delta_0j - p_j) = [0.081925069, -0.022033045, -0.059892025]
    tt::softmax(x).backward(nested({1, 0, 0}));
    CHECK_THAT(x.grad(), tensor_near(nested({0.081925069f, -0.022033045f, -0.059892025f}), 1e-7, 1e-5));
    x.zero_grad();
    // log_softmax with g = e_0: dx = g - p * sum(g) = [0.909969427, -0.244728471, -0.665240956]
    tt::log_softmax(x).backward(nested({1, 0, 0}));
    CHECK_THAT(x.grad(), tensor_near(nested({0.909969427f, -0.244728471f, -0.665240956f}), 1e-7, 1e-5));

    SECTION("sum(softmax) is the constant 1: its gradient is zero, thanks to the sum term") {
        tt::Tensor m = leaf(random_values({3, 4}, 9, -2.0f, 2.0f));
        tt::softmax(m, 1).sum().backward();
        CHECK_THAT(m.grad(), tensor_near(raw(std::vector<float>(12, 0.0f), {3, 4}), 1e-6, 0));
        m.zero_grad();
        // sum(log_softmax) along a slice of size n: dx = 1 - n p
        tt::log_softmax(m, 0).sum().backward();
        const tt::Tensor p = tt::softmax(m.detach(), 0);
        CHECK_THAT(m.grad(), tensor_near(reference_unary(p, [](float v) { return 1.0f - 3.0f * v; }), 1e-6, 1e-5));
    }
    SECTION("along dim 0 of a (2, 2), with a 0-d and a size-1 case") {
        tt::Tensor m = leaf(nested({{1, 2}, {3, 5}}));
        // column [1, 3]: p = [0.119202922, 0.880797078]; g = [1, 0] -> p0 (1 - p0), -p0 p1 = [0.104993585, -0.104993585]
        tt::softmax(m, 0).backward(nested({{1, 0}, {0, 0}}));
        CHECK_THAT(m.grad(), tensor_near(nested({{0.104993585f, 0}, {-0.104993585f, 0}}), 1e-7, 1e-5));
        tt::Tensor s = leaf(raw_scalar(4));
        tt::softmax(s).backward();
        tt::log_softmax(s, 0).backward();
        CHECK(s.grad().item() == 0.0f);  // a single entry's probability is always 1
    }
}

// ---------------------------------------------------------------------------------------------
// Finite differences
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: gradcheck of every activation on every layout", "[06][autograd][activations][gradcheck]") {
    uint64_t seed = 1300;
    for (const ActivationCase& c : activation_cases()) {
        for (const Layout& layout : layouts_3x4()) {
            tt::Tensor values = away_from_zero(layout.leaf_shape, ++seed);
            const tt::Tensor x = leaf(layout.padded_leaf ? padded(values) : values);
            const auto& view = layout.view;
            const auto& op = c.op;
            check_gradients(std::string(c.name) + " on " + layout.name, [&](const Inputs& in) { return op(view(in[0])); }, {x});
        }
    }
}

TEST_CASE("autograd: gradient_check of every activation (independent checker)", "[06][autograd][activations][gradcheck]") {
    uint64_t seed = 1400;
    for (const ActivationCase& c : activation_cases()) {
        const auto& op = c.op;
        const tt::Tensor x = away_from_zero({3, 4}, ++seed);
        INFO(c.name);
        CHECK(gradient_check([&](const Inputs& in) { return op(in[0]); }, {x}));
        CHECK(gradient_check([&](const Inputs& in) { return op(in[0].t()); }, {away_from_zero({4, 3}, ++seed)}));
    }
}

TEST_CASE("autograd: gradcheck of softmax and log_softmax along every dim of 3-D tensors", "[06][autograd][activations][softmax][gradcheck]") {
    uint64_t seed = 1500;
    for (int64_t dim : {0, 1, 2, -1, -2, -3}) {
        const tt::Tensor x = leaf(random_values({2, 3, 4}, ++seed, -3.0f, 3.0f));
        check_gradients("softmax dim " + std::to_string(dim), [dim](const Inputs& in) { return tt::softmax(in[0], dim); }, {x});
        check_gradients("log_softmax dim " + std::to_string(dim), [dim](const Inputs& in) { return tt::log_softmax(in[0], dim); }, {x});
        check_gradients("softmax dim " + std::to_string(dim) + " of a permuted view",
                        [dim](const Inputs& in) { return tt::softmax(in[0].permute({2, 0, 1}), dim); }, {x});
        check_gradients("log_softmax dim " + std::to_string(dim) + " of a permuted view",
                        [dim](const Inputs& in) { return tt::log_softmax(in[0].permute({1, 2, 0}), dim); }, {x});
    }
    const tt::Tensor s = leaf(raw_scalar(0.7f));
    check_gradients("softmax of a 0-d tensor", [](const Inputs& in) { return tt::softmax(in[0]) * in[0]; }, {s});
    const tt::Tensor wide = leaf(random_values({2, 33}, ++seed, -3.0f, 3.0f));
    check_gradients("log_softmax over 33 classes", [](const Inputs& in) { return tt::log_softmax(in[0]); }, {wide});
}

TEST_CASE("autograd: composed activations accumulate through shared inputs", "[06][autograd][activations][gradcheck]") {
    const tt::Tensor x = leaf(away_from_zero({3, 4}, 1601));
    check_gradients("sigmoid(tanh(x)) * relu(x) + gelu(x)",
                    [](const Inputs& in) { return tt::sigmoid(tt::tanh(in[0])) * tt::relu(in[0]) + tt::gelu(in[0]); }, {x});
    check_gradients("log_softmax(softmax(x) * 3 + leaky_relu(x))",
                    [](const Inputs& in) { return tt::log_softmax(tt::softmax(in[0], 0) * 3.0f + tt::leaky_relu(in[0], 0.2f)); }, {x});
    SECTION("two backward passes add up") {
        tt::Tensor y = leaf(nested({0, 2, -1}));
        tt::sigmoid(y).sum().backward();
        tt::sigmoid(y).sum().backward();
        CHECK_THAT(y.grad(), tensor_near(nested({0.5f, 0.20998717f, 0.393223866f}), 1e-6, 1e-5));
    }
    SECTION("an input that does not require grad gets nothing") {
        const tt::Tensor constant = random_values({2, 2}, 5);
        tt::Tensor w = leaf(random_values({2, 2}, 6));
        (tt::softmax(constant) * w).sum().backward();
        CHECK_FALSE(constant.grad().defined());
        CHECK(w.grad().defined());
    }
}

// ---------------------------------------------------------------------------------------------
// Gradients at extreme inputs
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: activation gradients stay finite at +-1000", "[06][autograd][activations][stability]") {
    tt::Tensor x = leaf(nested({-1000, -100, 100, 1000}));
    tt::sigmoid(x).sum().backward();
    CHECK_THAT(x.grad(), tensor_near(nested({0, 0, 0, 0}), 1e-30, 0));  // saturated: out (1 - out) = 0
    x.zero_grad();
    tt::tanh(x).sum().backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({0, 0, 0, 0})));
    x.zero_grad();
    tt::gelu(x).sum().backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({0, 0, 1, 1})));
    x.zero_grad();
    tt::gelu(x, tt::GeluApproximation::tanh).sum().backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({0, 0, 1, 1})));
    x.zero_grad();
    tt::relu(x).sum().backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({0, 0, 1, 1})));

    SECTION("softmax and log_softmax of huge logits") {
        tt::Tensor logits = leaf(nested({{1000, 0, -1000}, {-1000, -1000, -1000}}));
        tt::softmax(logits).backward(nested({{1, 2, 3}, {1, 2, 3}}));
        // row 0: p = [1, 0, 0], dx = p (g - p.g) = 0; row 1: uniform, dx = (g - 2) / 3
        CHECK_THAT(logits.grad(), tensor_near(nested({{0, 0, 0}, {-1 / 3.0f, 0, 1 / 3.0f}}), 1e-6, 1e-5));
        logits.zero_grad();
        tt::log_softmax(logits).backward(nested({{1, 2, 3}, {1, 2, 3}}));
        // dx = g - p * sum(g) = g - 6 p: row 0 [1 - 6, 2, 3], row 1 [1 - 2, 0, 1]
        CHECK_THAT(logits.grad(), tensor_near(nested({{-5, 2, 3}, {-1, 0, 1}}), 1e-6, 1e-5));
    }
    SECTION("masked (-inf) entries get a zero gradient through softmax") {
        tt::Tensor logits = leaf(nested({{0, -inf, 0}}));
        tt::softmax(logits).backward(nested({{1, 5, 3}}));
        CHECK(all_finite(logits.grad()));
        CHECK(element(logits.grad(), {0, 1}) == 0.0f);
    }
    SECTION("a large batch") {
        tt::Tensor big = leaf(random_values({1024, 32}, 77, -1000.0f, 1000.0f));
        (tt::log_softmax(big) * tt::sigmoid(big)).sum().backward();
        CHECK(all_finite(big.grad()));
    }
}
