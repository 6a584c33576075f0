// test_grad_fn.cpp - module 03 grader: every activation connects its output to the autograd graph
// through record() with the node the header names and the values that node's backward needs.
// The backward formulas themselves are module 06's (the reference here); the gradient checks below
// test that the forward recorded what they need (the right output, slope, form and dim).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

using Op = std::function<tt::Tensor(const tt::Tensor&)>;

struct Recorded {
    const char* node;  // expected grad_fn name
    const char* call;  // for messages
    Op run;
};

std::vector<Recorded> recorded_ops() {
    using T = const tt::Tensor&;
    return {
        {"ReluBackward", "relu(x)", [](T x) { return tt::relu(x); }},
        {"LeakyReluBackward", "leaky_relu(x, 0.2)", [](T x) { return tt::leaky_relu(x, 0.2f); }},
        {"SigmoidBackward", "sigmoid(x)", [](T x) { return tt::sigmoid(x); }},
        {"TanhBackward", "tanh(x)", [](T x) { return tt::tanh(x); }},
        {"GeluBackward", "gelu(x)", [](T x) { return tt::gelu(x); }},
        {"GeluBackward", "gelu(x, tanh)", [](T x) { return tt::gelu(x, tt::GeluApproximation::tanh); }},
        {"SoftmaxBackward", "softmax(x, 0)", [](T x) { return tt::softmax(x, 0); }},
        {"SoftmaxBackward", "softmax(x, -1)", [](T x) { return tt::softmax(x, -1); }},
        {"LogSoftmaxBackward", "log_softmax(x, -2)", [](T x) { return tt::log_softmax(x, -2); }},
        {"LogSoftmaxBackward", "log_softmax(x, 1)", [](T x) { return tt::log_softmax(x, 1); }},
    };
}

tt::Tensor leaf() { return nested({{-1.5f, 0.5f, 2}, {3, -0.25f, -4}}).requires_grad_(); }

// A saved output must hold the op's output values and be detached (no grad_fn), or the node would
// keep its own output alive through a reference cycle.
void check_saved_output(const tt::Tensor& saved, const tt::Tensor& out) {
    REQUIRE(saved.defined());
    CHECK_THAT(saved, tensor_near(raw_copy(out), 0.0, 0.0));
    CHECK(saved.grad_fn() == nullptr);
    CHECK_FALSE(saved.requires_grad());
}

// Values at least 0.2 away from 0, so relu's and leaky_relu's kink is out of reach of a finite
// difference step.
tt::Tensor away_from_zero(const tt::Shape& shape, uint64_t seed) {
    std::vector<float> v = values_of(random_values(shape, seed, 0.2f, 2.0f));
    for (size_t i = 0; i < v.size(); ++i)
        if (i % 2 == 1) v[i] = -v[i];
    return raw(v, shape);
}

}  // namespace

TEST_CASE("activations on an input that requires grad record their backward node by name", "[points=2]") {
    for (const Recorded& op : recorded_ops()) {
        tt::Tensor x = leaf();
        const tt::Tensor out = op.run(x);
        INFO(op.call << ": expected grad_fn " << op.node << ", got " << (out.grad_fn() ? out.grad_fn()->name() : "none"));
        REQUIRE(out.grad_fn() != nullptr);
        CHECK(std::string(out.grad_fn()->name()) == op.node);
        CHECK(out.requires_grad());
        REQUIRE(out.grad_fn()->inputs.size() == 1);
        CHECK(out.grad_fn()->inputs[0].is_same(x));
    }
}

TEST_CASE("activations record nothing without requires_grad or under NoGradGuard", "[points=1]") {
    for (const Recorded& op : recorded_ops()) {
        INFO(op.call << " on an input that does not require grad");
        const tt::Tensor out = op.run(nested({{-1.5f, 0.5f, 2}, {3, -0.25f, -4}}));
        CHECK(out.grad_fn() == nullptr);
        CHECK_FALSE(out.requires_grad());
        CHECK(out.shape() == tt::Shape{2, 3});
    }
    tt::NoGradGuard no_grad;
    for (const Recorded& op : recorded_ops()) {
        INFO(op.call << " under NoGradGuard");
        const tt::Tensor out = op.run(leaf());
        CHECK(out.grad_fn() == nullptr);
        CHECK_FALSE(out.requires_grad());
        CHECK(out.shape() == tt::Shape{2, 3});
    }
}

TEST_CASE("recorded nodes keep the settings and the detached outputs their backward needs", "[points=1]") {
    tt::Tensor x = leaf();
    {
        const tt::Tensor out = tt::leaky_relu(x, 0.3f);
        auto* node = dynamic_cast<tt::LeakyReluBackward*>(out.grad_fn().get());
        REQUIRE(node != nullptr);
        CHECK(node->negative_slope == 0.3f);
    }
    {
        const tt::Tensor exact_out = tt::gelu(x);  // the outputs own their nodes: keep them alive
        const tt::Tensor approx_out = tt::gelu(x, tt::GeluApproximation::tanh);
        auto* exact = dynamic_cast<tt::GeluBackward*>(exact_out.grad_fn().get());
        auto* approx = dynamic_cast<tt::GeluBackward*>(approx_out.grad_fn().get());
        REQUIRE(exact != nullptr);
        REQUIRE(approx != nullptr);
        CHECK(exact->approximate == tt::GeluApproximation::none);
        CHECK(approx->approximate == tt::GeluApproximation::tanh);
    }
    {
        INFO("sigmoid saves its output, detached");
        const tt::Tensor out = tt::sigmoid(x);
        auto* node = dynamic_cast<tt::SigmoidBackward*>(out.grad_fn().get());
        REQUIRE(node != nullptr);
        check_saved_output(node->out, out);
    }
    {
        INFO("tanh saves its output, detached");
        const tt::Tensor out = tt::tanh(x);
        auto* node = dynamic_cast<tt::TanhBackward*>(out.grad_fn().get());
        REQUIRE(node != nullptr);
        check_saved_output(node->out, out);
    }
    {
        const tt::Tensor out = tt::softmax(x, -2);
        auto* node = dynamic_cast<tt::SoftmaxBackward*>(out.grad_fn().get());
        REQUIRE(node != nullptr);
        INFO("softmax(x, -2) of a 2-d tensor: the node's dim must be 0");
        CHECK(node->dim == 0);
        check_saved_output(node->out, out);
    }
    {
        const tt::Tensor out = tt::log_softmax(x, -1);
        auto* node = dynamic_cast<tt::LogSoftmaxBackward*>(out.grad_fn().get());
        REQUIRE(node != nullptr);
        INFO("log_softmax(x, -1) of a 2-d tensor: the node's dim must be 1");
        CHECK(node->dim == 1);
        check_saved_output(node->out, out);
    }
}

TEST_CASE("gradients flow back through every elementwise activation", "[points=2]") {
    const tt::Tensor x = away_from_zero({3, 4}, 331);
    const std::vector<std::pair<const char*, Op>> ops = {
        {"relu", [](const tt::Tensor& t) { return tt::relu(t); }},
        {"leaky_relu(x, 0.2)", [](const tt::Tensor& t) { return tt::leaky_relu(t, 0.2f); }},
        {"sigmoid", [](const tt::Tensor& t) { return tt::sigmoid(t); }},
        {"tanh", [](const tt::Tensor& t) { return tt::tanh(t); }},
        {"gelu", [](const tt::Tensor& t) { return tt::gelu(t); }},
        {"gelu(x, tanh)", [](const tt::Tensor& t) { return tt::gelu(t, tt::GeluApproximation::tanh); }},
    };
    for (const auto& [name, op] : ops) {
        INFO(name << " at x = " << describe_tensor(x));
        CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return op(in[0]); }, {x}));
    }
}

TEST_CASE("gradients flow back through softmax and log_softmax along any dim", "[points=2]") {
    const tt::Tensor x = random_values({3, 4}, 332, -2.0f, 2.0f);
    for (int64_t dim : {0, 1, -1, -2}) {
        INFO("softmax and log_softmax along dim " << dim << " at x = " << describe_tensor(x));
        CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return tt::softmax(in[0], dim); }, {x}));
        CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return tt::log_softmax(in[0], dim); }, {x}));
    }
}

TEST_CASE("an activation inside a longer expression passes the gradient on", "[points=1]") {
    // y = sum(tanh(relu(x) * 2)): the gradient must reach x through both recorded activations.
    tt::Tensor x = nested({{-1, 0.5f}, {0.25f, -2}}).requires_grad_();
    tt::Tensor y = tt::sum(tt::tanh(tt::mul(tt::relu(x), raw_scalar(2.0f))));
    y.backward();
    REQUIRE(x.grad().defined());
    // dy/dx = 2 (1 - tanh(2x)^2) where x > 0, else 0
    const auto d = [](float v) { return v > 0 ? static_cast<float>(2.0 * (1.0 - std::pow(std::tanh(2.0 * v), 2))) : 0.0f; };
    CHECK_THAT(x.grad(), tensor_near(nested({{0, d(0.5f)}, {d(0.25f), 0}}), 1e-5, 1e-4));
}
