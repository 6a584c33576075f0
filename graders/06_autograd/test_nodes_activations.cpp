// test_nodes_activations.cpp - module 06 grader: the backward nodes of module 03's activations
// (nodes_activations.cpp): relu, leaky_relu, sigmoid, tanh, gelu (exact and tanh), softmax and
// log_softmax along every dimension.
//
// Expected gradients are the derivatives written out with <cmath> in double, and finite
// differences of the forward (gradient_check). Inputs for finite differences stay at least 0.2
// away from the kinks of relu and leaky_relu, where a central difference straddles two slopes.
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

using Inputs = std::vector<tt::Tensor>;

// Seeded values in [-1, -0.2] and [0.2, 1]: random signs, never near 0.
tt::Tensor away_from_zero(const tt::Shape& shape, uint64_t seed) {
    std::vector<float> v = values_of(random_values(shape, seed));
    for (float& x : v) x = (x < 0 ? -0.2f : 0.2f) + 0.8f * x;
    return raw(v, shape);
}

// The gradient of f at x for upstream gradient g, elementwise: g[i] * derivative(x[i]).
tt::Tensor expected_elementwise(const tt::Tensor& x, const tt::Tensor& g, const std::function<double(double)>& derivative) {
    const std::vector<float> xs = values_of(x), gs = values_of(g);
    std::vector<float> out;
    for (size_t i = 0; i < xs.size(); ++i) out.push_back(static_cast<float>(gs[i] * derivative(xs[i])));
    return raw(out, x.shape());
}

constexpr double kPi = 3.14159265358979323846;

double sigmoid_of(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double gelu_exact_derivative(double x) {
    return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-x * x / 2) / std::sqrt(2.0 * kPi);
}
double gelu_tanh_derivative(double x) {
    const double k = std::sqrt(2.0 / kPi), c = 0.044715;
    const double t = std::tanh(k * (x + c * x * x * x));
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * c * x * x);
}

// Runs f(x).backward(g) on a fresh leaf and returns x.grad().
tt::Tensor gradient_of(const std::function<tt::Tensor(const tt::Tensor&)>& f, const tt::Tensor& x, const tt::Tensor& g) {
    tt::Tensor input = leaf(raw_copy(x));
    f(input).backward(g);
    return input.grad();
}

}  // namespace

TEST_CASE("relu passes the gradient only where the input is positive", "[points=2]") {
    const tt::Tensor x = nested({{-2, -0.5f, 0.5f}, {3, -1, 0.25f}});
    const tt::Tensor g = nested({{1, 2, 3}, {4, 5, 6}});
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::relu(t); }, x, g), tensor_equal(nested({{0, 0, 3}, {4, 0, 6}})));
    {  // at exactly 0 the derivative is taken as 0 (g * (x > 0)), as PyTorch does
        INFO("relu'(0) = 0");
        CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::relu(t); }, nested({0, 1}), nested({7, 7})),
                   tensor_equal(nested({0, 7})));
    }
    {  // on a transposed input
        INFO("relu of a transposed (3, 2) view");
        CHECK(gradient_check([](const Inputs& in) { return tt::relu(in[0].t()); }, {away_from_zero({2, 3}, 1)}));
    }
}

TEST_CASE("leaky_relu scales the gradient of non-positive inputs by the slope", "[points=1]") {
    const tt::Tensor x = nested({-2, -0.5f, 0.5f, 3, 0});
    const tt::Tensor g = nested({1, 2, 3, 4, 5});
    INFO("dx = g where x > 0, g * negative_slope elsewhere (x = 0 included)");
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::leaky_relu(t, 0.1f); }, x, g),
               tensor_near(nested({0.1f, 0.2f, 3, 4, 0.5f})));
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::leaky_relu(t); }, x, g),
               tensor_near(nested({0.01f, 0.02f, 3, 4, 0.05f})));  // default slope 0.01
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::leaky_relu(t, -0.5f); }, x, g),
               tensor_near(nested({-0.5f, -1, 3, 4, -2.5f})));
    INFO("leaky_relu(x, 0.2) of a sliced view");
    CHECK(gradient_check([](const Inputs& in) { return tt::leaky_relu(in[0].slice(1, 0, 4, 2), 0.2f); },
                         {away_from_zero({3, 4}, 2)}));
}

TEST_CASE("sigmoid gradient is out times one minus out", "[points=1]") {
    const tt::Tensor x = nested({{0, 2, -3}, {0.5f, -1, 4}});
    const tt::Tensor g = nested({{1, -2, 3}, {0.5f, 1, -1}});
    const tt::Tensor expected = expected_elementwise(x, g, [](double v) { return sigmoid_of(v) * (1 - sigmoid_of(v)); });
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::sigmoid(t); }, x, g), tensor_near(expected, 1e-6, 1e-5));
    INFO("sigmoid of a transposed view");
    CHECK(gradient_check([](const Inputs& in) { return tt::sigmoid(in[0].t()); }, {random_values({3, 2}, 3, -3.0f, 3.0f)}));
}

TEST_CASE("tanh gradient is one minus out squared", "[points=1]") {
    const tt::Tensor x = nested({0, 0.5f, -2, 1.5f});
    const tt::Tensor g = nested({1, -2, 3, 0.5f});
    const tt::Tensor expected = expected_elementwise(x, g, [](double v) { return 1 - std::tanh(v) * std::tanh(v); });
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::tanh(t); }, x, g), tensor_near(expected, 1e-6, 1e-5));
    INFO("tanh of an expanded view");
    CHECK(gradient_check([](const Inputs& in) { return tt::tanh(in[0].expand({2, 3})); }, {random_values({3}, 4, -2.0f, 2.0f)}));
}

TEST_CASE("gelu exact gradient is Phi of x plus x phi of x", "[points=2]") {
    const tt::Tensor x = nested({-3, -2, -1, 0, 0.5f, 1, 2, 3});
    const tt::Tensor g = nested({1, 2, -1, 1, 3, 1, -2, 1});
    const tt::Tensor expected = expected_elementwise(x, g, gelu_exact_derivative);
    INFO("gelu'(x) = Phi(x) + x phi(x) with Phi, phi the standard normal CDF and density: gelu'(0) = 0.5, gelu'(1) = 1.0833");
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::gelu(t); }, x, g), tensor_near(expected, 2e-5, 1e-5));
    CHECK(gradient_check([](const Inputs& in) { return tt::gelu(in[0], tt::GeluApproximation::none); },
                         {random_values({2, 4}, 5, -3.0f, 3.0f)}));
}

TEST_CASE("gelu tanh gradient is the derivative of the tanh approximation", "[points=1]") {
    // The two forms differ by up to ~1e-3 in their derivatives (x = 2: 1.08523 exact, 1.08610 tanh):
    // the gradient must be that of the function the forward computed.
    const tt::Tensor x = nested({-3, -2, -1, 0, 0.5f, 1, 2, 3});
    const tt::Tensor g = nested({1, 2, -1, 1, 3, 1, -2, 1});
    const tt::Tensor expected = expected_elementwise(x, g, gelu_tanh_derivative);
    INFO("differentiate 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) by the product and chain rules");
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::gelu(t, tt::GeluApproximation::tanh); }, x, g),
               tensor_near(expected, 2e-5, 1e-5));
    CHECK(gradient_check([](const Inputs& in) { return tt::gelu(in[0], tt::GeluApproximation::tanh); },
                         {random_values({2, 4}, 6, -3.0f, 3.0f)}));
}

TEST_CASE("softmax gradient along each dimension", "[points=2]") {
    {  // softmax([0, 0]) = [0.5, 0.5]; g = [1, 0]: dx = out * (g - sum(g * out)) = [0.25, -0.25]
        CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::softmax(t); }, nested({0, 0}), nested({1, 0})),
                   tensor_near(nested({0.25f, -0.25f})));
    }
    {  // a gradient equal in every slot moves nothing: softmax is invariant to adding a constant
        CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::softmax(t, 1); }, nested({{1, 2, 3}, {0, -1, 5}}),
                               nested({{2, 2, 2}, {-1, -1, -1}})),
                   tensor_near(nested({{0, 0, 0}, {0, 0, 0}}), 1e-6, 0));
    }
    for (int64_t dim : {0, 1, 2, -1}) {
        INFO("softmax of a (2, 3, 4) tensor along dim " << dim);
        CHECK(gradient_check([dim](const Inputs& in) { return tt::softmax(in[0], dim); },
                             {random_values({2, 3, 4}, 10 + dim, -2.0f, 2.0f)}));
    }
    INFO("softmax along dim 0 of a transposed (4, 3) view");
    CHECK(gradient_check([](const Inputs& in) { return tt::softmax(in[0].t(), 0); }, {random_values({3, 4}, 20, -2.0f, 2.0f)}));
}

TEST_CASE("log_softmax gradient along each dimension", "[points=2]") {
    {  // log_softmax([0, 0]); g = [1, 0]: dx = g - softmax * sum(g) = [0.5, -0.5]
        CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::log_softmax(t); }, nested({0, 0}), nested({1, 0})),
                   tensor_near(nested({0.5f, -0.5f})));
    }
    {  // x = [ln 1, ln 3]: softmax = [0.25, 0.75]; g = [2, -1]: dx = g - softmax * 1 = [1.75, -1.75]
        const tt::Tensor x = nested({0, std::log(3.0f)});
        CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::log_softmax(t, 0); }, x, nested({2, -1})),
                   tensor_near(nested({1.75f, -1.75f}), 1e-5, 1e-5));
    }
    for (int64_t dim : {0, 1, 2, -1}) {
        INFO("log_softmax of a (2, 3, 4) tensor along dim " << dim);
        CHECK(gradient_check([dim](const Inputs& in) { return tt::log_softmax(in[0], dim); },
                             {random_values({2, 3, 4}, 30 + dim, -2.0f, 2.0f)}));
    }
    INFO("log_softmax along dim 1 of a permuted (3, 2, 4) view");
    CHECK(gradient_check([](const Inputs& in) { return tt::log_softmax(in[0].permute({1, 0, 2}), 1); },
                         {random_values({2, 3, 4}, 40, -2.0f, 2.0f)}));
}

TEST_CASE("activation gradients stay finite for inputs of magnitude 1000", "[points=1]") {
    const tt::Tensor x = nested({-1000, 1000});
    const tt::Tensor g = nested({1, 1});
    INFO("sigmoid'(+-1000) = tanh'(+-1000) = 0, gelu'(-1000) = 0 and gelu'(1000) = 1: no inf or NaN from e^1000");
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::sigmoid(t); }, x, g), tensor_near(nested({0, 0})));
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::tanh(t); }, x, g), tensor_near(nested({0, 0})));
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::gelu(t); }, x, g), tensor_near(nested({0, 1})));
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::gelu(t, tt::GeluApproximation::tanh); }, x, g),
               tensor_near(nested({0, 1})));
    // softmax([1000, 0, -1000]) = [1, 0, 0]: every gradient is (almost) 0, and finite
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::softmax(t); }, nested({1000, 0, -1000}), nested({1, 2, 3})),
               tensor_near(nested({0, 0, 0})));
    // log_softmax: dx = g - softmax * sum(g) = [1 - 6, 2, 3]
    CHECK_THAT(gradient_of([](const tt::Tensor& t) { return tt::log_softmax(t); }, nested({1000, 0, -1000}), nested({1, 2, 3})),
               tensor_near(nested({-5, 2, 3})));
}
