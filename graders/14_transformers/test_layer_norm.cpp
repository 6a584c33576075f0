// test_layer_norm.cpp - module 14 grader: layer_norm, LayerNormBackward and LayerNorm (layer_norm.cpp).
//     y = (x - mean) / sqrt(var + eps) * weight + bias, per row of the last dimension D,
//     with the biased variance (/ D) and eps inside the square root.
// Expected values: by hand, from transformer_reference.h (double precision), or from PyTorch 1.13
// (pytorch_values.h, made by make_expected.py).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "grading.h"
#include "pytorch_values.h"
#include "tinytorch/autograd.h"
#include "tinytorch/transformer.h"
#include "transformer_reference.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = transformer_reference;
namespace torch_values = pytorch_values;

namespace {

const tt::Tensor none;  // an undefined weight or bias

tt::Tensor sine_input() {
    std::vector<double> x;
    for (int i = 0; i < 24; ++i) x.push_back(2 * std::sin(0.9 * i + 0.2) + 0.1 * i);
    return ref::as_tensor(x, {2, 3, 4});
}
tt::Tensor sine_weight() {
    std::vector<double> w;
    for (int i = 0; i < 4; ++i) w.push_back(1 + 0.5 * std::sin(1.1 * i));
    return ref::as_tensor(w, {4});
}
tt::Tensor sine_bias() {
    std::vector<double> b;
    for (int i = 0; i < 4; ++i) b.push_back(0.3 * std::cos(0.7 * i));
    return ref::as_tensor(b, {4});
}
tt::Tensor sine_upstream() {
    std::vector<double> g;
    for (int i = 0; i < 24; ++i) g.push_back(std::cos(0.5 * i + 0.1));
    return ref::as_tensor(g, {2, 3, 4});
}

tt::Tensor expected(const tt::Tensor& x, const tt::Tensor& w, const tt::Tensor& b, double eps = 1e-5) {
    const int64_t D = x.shape().back();
    return ref::as_tensor(ref::layer_norm(ref::as_values(x), D, w.defined() ? ref::as_values(w) : ref::Values(),
                                          b.defined() ? ref::as_values(b) : ref::Values(), eps),
                          x.shape());
}

GradientCheckOptions checked(std::vector<size_t> wrt) {
    GradientCheckOptions options;
    options.wrt = std::move(wrt);
    return options;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------------------------

TEST_CASE("layer_norm of one row by hand", "[points=1]") {
    // {1, 2, 3, 4}: mean 2.5, biased variance 1.25
    const float s = 1.0f / std::sqrt(1.25f + 1e-5f);
    CHECK_THAT(tt::layer_norm(nested({1, 2, 3, 4}), none, none), tensor_near(nested({-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s})));
    // {10, 20}: mean 15, variance 25 -> {-1, 1} (eps 0)
    CHECK_THAT(tt::layer_norm(nested({10, 20}), none, none, 0.0f), tensor_near(nested({-1, 1}), 1e-6, 1e-6));
}

TEST_CASE("layer_norm uses the biased variance", "[points=2]") {
    // {0, 2}: biased variance 1 gives {-1, 1}; the unbiased one (2) would give {-0.707, 0.707}
    CHECK_THAT(tt::layer_norm(nested({{0, 2}, {3, 5}}), none, none, 0.0f), tensor_near(nested({{-1, 1}, {-1, 1}}), 1e-6, 1e-6));
    const tt::Tensor x = random_values({3, 5}, 21, -3.0f, 3.0f);
    CHECK_THAT(tt::layer_norm(x, none, none), tensor_near(expected(x, none, none), 1e-5, 1e-5));
}

TEST_CASE("layer_norm puts eps inside the square root", "[points=2]") {
    // {0, 2} with eps 3: (x - 1) / sqrt(1 + 3) = {-0.5, 0.5}; eps outside would give {-0.25, 0.25}
    CHECK_THAT(tt::layer_norm(nested({0, 2}), none, none, 3.0f), tensor_near(nested({-0.5f, 0.5f}), 1e-6, 1e-6));
    // a constant row: 0 / sqrt(0 + eps) = 0, not NaN
    CHECK_THAT(tt::layer_norm(nested({{7, 7, 7}, {1, 2, 3}}), none, none),
               tensor_near(expected(nested({{7, 7, 7}, {1, 2, 3}}), none, none), 1e-5, 1e-5));
}

TEST_CASE("layer_norm normalises each token over its own features; not over the batch or time", "[points=2]") {
    // (B 2, T 3, D 4): every row has its own mean and variance; the rows differ a lot in scale.
    const tt::Tensor x = nested({{{1, 2, 3, 4}, {10, 0, -10, 5}, {0.1f, 0.2f, 0.4f, 0.8f}},
                                 {{-5, -5, 5, 5}, {100, 101, 102, 103}, {3, 1, 4, 1}}});
    CHECK_THAT(tt::layer_norm(x, none, none), tensor_near(expected(x, none, none), 1e-5, 1e-5));
    const tt::Tensor r = random_values({4, 6, 5}, 5, -4.0f, 4.0f);
    CHECK_THAT(tt::layer_norm(r, none, none), tensor_near(expected(r, none, none), 1e-5, 1e-5));
    // a row's output does not depend on the other rows
    const tt::Tensor alone = tt::layer_norm(nested({{100, 101, 102, 103}}), none, none);
    CHECK_THAT(alone, tensor_near(nested({{-1.3416355f, -0.44721183f, 0.44721183f, 1.3416355f}}), 1e-5, 1e-5));
}

TEST_CASE("layer_norm scales by weight and shifts by bias per feature", "[points=1]") {
    const tt::Tensor x = random_values({3, 4}, 8, -2.0f, 2.0f);
    const tt::Tensor w = nested({2, -1, 0.5f, 3}), b = nested({1, 0, -2, 0.25f});
    CHECK_THAT(tt::layer_norm(x, w, b), tensor_near(expected(x, w, b), 1e-5, 1e-5));
    CHECK_THAT(tt::layer_norm(x, w, none), tensor_near(expected(x, w, none), 1e-5, 1e-5));
    CHECK_THAT(tt::layer_norm(x, none, b), tensor_near(expected(x, none, b), 1e-5, 1e-5));
}

TEST_CASE("layer_norm matches PyTorch", "[points=2]") {
    CHECK_THAT(tt::layer_norm(sine_input(), sine_weight(), sine_bias()),
               tensor_near(ref::as_tensor(torch_values::layer_norm_y, {2, 3, 4}), 1e-5, 1e-5));
    CHECK_THAT(tt::layer_norm(sine_input(), none, none),
               tensor_near(ref::as_tensor(torch_values::layer_norm_plain_y, {2, 3, 4}), 1e-5, 1e-5));
}

TEST_CASE("layer_norm stays accurate for values far from zero", "[points=2]") {
    // Rows near 10000 with a spread of about 1: E[x^2] - mean^2 summed in float loses every digit
    // (x^2 ~ 1e8 has a float spacing of 8); accumulate in double, or subtract the mean first.
    const tt::Tensor base = random_values({5, 32}, 77, -1.0f, 1.0f);
    const tt::Tensor far = reference_unary(base, [](float v) { return v + 10000.0f; });
    CHECK_THAT(tt::layer_norm(far, none, none), tensor_near(expected(far, none, none), 3e-3, 3e-3));
}

TEST_CASE("layer_norm reads any layout", "[points=1]") {
    const tt::Tensor x = random_values({3, 4, 5}, 9, -2.0f, 2.0f);
    CHECK_THAT(tt::layer_norm(padded(x), none, none), tensor_near(expected(x, none, none), 1e-5, 1e-5));
    CHECK_THAT(tt::layer_norm(column_major(x), none, none), tensor_near(expected(x, none, none), 1e-5, 1e-5));
    const tt::Tensor w = random_values({5}, 10, 0.5f, 2.0f);
    CHECK_THAT(tt::layer_norm(x, padded(w), none), tensor_near(expected(x, w, none), 1e-5, 1e-5));
}

// ---------------------------------------------------------------------------------------------
// Backward
// ---------------------------------------------------------------------------------------------

TEST_CASE("layer_norm gradients match PyTorch", "[points=2]") {
    tt::Tensor x = leaf(sine_input()), w = leaf(sine_weight()), b = leaf(sine_bias());
    tt::layer_norm(x, w, b).backward(sine_upstream());
    CHECK_THAT(x.grad(), tensor_near(ref::as_tensor(torch_values::layer_norm_dx, {2, 3, 4}), 1e-5, 1e-4));
    CHECK_THAT(w.grad(), tensor_near(ref::as_tensor(torch_values::layer_norm_dweight, {4}), 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(ref::as_tensor(torch_values::layer_norm_dbias, {4}), 1e-5, 1e-5));
    tt::Tensor x2 = leaf(sine_input());
    tt::layer_norm(x2, none, none).backward(sine_upstream());
    CHECK_THAT(x2.grad(), tensor_near(ref::as_tensor(torch_values::layer_norm_plain_dx, {2, 3, 4}), 1e-5, 1e-4));
    {
        const tt::Tensor y = tt::layer_norm(leaf(random_values({2, 4}, 1)), none, none);
        REQUIRE(y.grad_fn() != nullptr);
        CHECK(std::string(y.grad_fn()->name()) == "LayerNormBackward");
        CHECK(y.grad_fn()->inputs.size() == 3);
    }
}

TEST_CASE("layer_norm gradient check with weight and bias; 2-D and 3-D", "[points=2]") {
    const auto f = [](const std::vector<tt::Tensor>& in) { return tt::layer_norm(in[0], in[1], in[2]); };
    CHECK(gradient_check(f, {random_values({4, 6}, 31, -2.0f, 2.0f), random_values({6}, 32, 0.5f, 1.5f), random_values({6}, 33)}));
    CHECK(gradient_check(f, {random_values({2, 3, 5}, 34, -2.0f, 2.0f), random_values({5}, 35, -1.5f, 1.5f), random_values({5}, 36)}));
}

TEST_CASE("layer_norm gradient check without weight and bias; 2-D and 3-D", "[points=2]") {
    const auto f = [](const std::vector<tt::Tensor>& in) { return tt::layer_norm(in[0], tt::Tensor(), tt::Tensor()); };
    CHECK(gradient_check(f, {random_values({3, 7}, 41, -2.0f, 2.0f)}));
    CHECK(gradient_check(f, {random_values({2, 4, 3}, 42, -3.0f, 1.0f)}));
}

TEST_CASE("layer_norm gradient check with only a weight or only a bias", "[points=1]") {
    CHECK(gradient_check([](const std::vector<tt::Tensor>& in) { return tt::layer_norm(in[0], in[1], tt::Tensor()); },
                         {random_values({3, 4}, 51, -2.0f, 2.0f), random_values({4}, 52, 0.5f, 1.5f)}));
    CHECK(gradient_check([](const std::vector<tt::Tensor>& in) { return tt::layer_norm(in[0], tt::Tensor(), in[1]); },
                         {random_values({3, 4}, 53, -2.0f, 2.0f), random_values({4}, 54)}));
}

TEST_CASE("layer_norm gives weight and bias gradients summed over every row; and none to inputs that do not ask", "[points=1]") {
    // only weight and bias require grad (x is data, as the output of a frozen layer)
    const tt::Tensor x = random_values({3, 2, 4}, 61, -2.0f, 2.0f);
    CHECK(gradient_check([](const std::vector<tt::Tensor>& in) { return tt::layer_norm(in[0], in[1], in[2]); },
                         {x, random_values({4}, 62, 0.5f, 1.5f), random_values({4}, 63)}, checked({1, 2})));
    // only x requires grad
    CHECK(gradient_check([](const std::vector<tt::Tensor>& in) { return tt::layer_norm(in[0], in[1], in[2]); },
                         {x, random_values({4}, 64, 0.5f, 1.5f), random_values({4}, 65)}, checked({0})));
    // dbias of sum(y) is the number of rows for every feature
    tt::Tensor b = leaf(nested({0, 0, 0, 0}));
    tt::layer_norm(x, none, b).sum().backward();
    CHECK_THAT(b.grad(), tensor_near(nested({6, 6, 6, 6})));
}

TEST_CASE("layer_norm backward adds to the gradients already there", "[points=1]") {
    tt::Tensor x = leaf(random_values({2, 3}, 71)), w = leaf(nested({1, 2, 3}));
    const tt::Tensor g = random_values({2, 3}, 72);
    tt::layer_norm(x, w, none).backward(g);
    const std::vector<float> dx1 = values_of(x.grad()), dw1 = values_of(w.grad());
    (tt::layer_norm(x, w, none) + tt::layer_norm(x, w, none)).backward(g);  // x used twice: 2 more contributions
    CHECK_THAT(x.grad(), tensor_near(reference_unary(raw(dx1, {2, 3}), [](float v) { return 3 * v; }), 1e-5, 1e-4));
    CHECK_THAT(w.grad(), tensor_near(reference_unary(raw(dw1, {3}), [](float v) { return 3 * v; }), 1e-5, 1e-4));
}

TEST_CASE("layer_norm gradients through a non-contiguous input", "[points=1]") {
    CHECK(gradient_check([](const std::vector<tt::Tensor>& in) { return tt::layer_norm(in[0].transpose(0, 1), in[1], tt::Tensor()); },
                         {random_values({5, 3}, 81, -2.0f, 2.0f), random_values({5}, 82, 0.5f, 1.5f)}));
}

// ---------------------------------------------------------------------------------------------
// Errors and the layer
// ---------------------------------------------------------------------------------------------

TEST_CASE("layer_norm errors name the op and the shapes", "[points=1]") {
    const tt::Tensor x = random_values({2, 4}, 1);
    CHECK_THAT(error_message([&] { tt::layer_norm(x, random_values({3}, 2), none); }),
               Contains("layer_norm") && Contains("(3)") && Contains("(2, 4)"));
    CHECK_THAT(error_message([&] { tt::layer_norm(x, none, random_values({4, 1}, 2)); }),
               Contains("layer_norm") && Contains("(4, 1)") && Contains("(2, 4)"));
    CHECK_THAT(error_message([&] { tt::layer_norm(raw({}, {2, 0}), none, none); }), Contains("layer_norm") && Contains("(2, 0)"));
    CHECK_THAT(error_message([&] { tt::layer_norm(raw_scalar(3), none, none); }), Contains("layer_norm"));
}

TEST_CASE("LayerNorm starts with weight 1 and bias 0; named weight and bias", "[points=1]") {
    tt::LayerNorm norm(3);
    const auto params = norm.named_parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].first == "weight");
    CHECK(params[1].first == "bias");
    CHECK_THAT(params[0].second, tensor_equal(nested({1, 1, 1})));
    CHECK_THAT(params[1].second, tensor_equal(nested({0, 0, 0})));
    CHECK(params[0].second.requires_grad());
    CHECK(norm.eps == 1e-5f);
    tt::LayerNorm plain(3, 1e-6f, false);
    CHECK(plain.named_parameters().size() == 1);
    CHECK_FALSE(plain.bias.defined());
    CHECK(norm.to_string() == "LayerNorm(3, eps=1e-05, bias=true)");
    CHECK(plain.extra_repr() == "3, eps=1e-06, bias=false");
}

TEST_CASE("LayerNorm forward normalises the last dimension with its own parameters and eps", "[points=2]") {
    tt::LayerNorm norm(4, 0.5f);
    ref::set_values(norm.weight, {1, 2, 3, 4});
    ref::set_values(norm.bias, {0, -1, 1, 0});
    const tt::Tensor x = random_values({2, 3, 4}, 91, -2.0f, 2.0f);
    CHECK_THAT(norm(x), tensor_near(expected(x, nested({1, 2, 3, 4}), nested({0, -1, 1, 0}), 0.5), 1e-5, 1e-5));
    norm.eval();  // no running statistics: evaluation gives the same
    CHECK_THAT(norm(x), tensor_near(expected(x, nested({1, 2, 3, 4}), nested({0, -1, 1, 0}), 0.5), 1e-5, 1e-5));
    CHECK_THAT(error_message([&] { norm(random_values({2, 5}, 1)); }), Contains("LayerNorm") && Contains("(2, 5)"));
    CHECK_THAT(error_message([] { tt::LayerNorm bad(0); }), Contains("LayerNorm"));
}
