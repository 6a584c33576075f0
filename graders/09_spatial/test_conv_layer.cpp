// test_conv_layer.cpp - module 09 grader: the Conv2d layer (conv.cpp): parameters, PyTorch's
// initialisation (weight by kaiming_uniform_ with bound 1/sqrt(C*k*k), then bias, from one
// generator), forward with its stride and padding, printing, errors, gradients through a model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "spatial_reference.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = spatial_reference;

namespace {

// The n values U(low, high) a Generator seeded with `seed` gives, in order ([given] Generator).
std::vector<float> uniform_draws(uint64_t seed, size_t n, float low, float high) {
    tt::Generator gen(seed);
    std::vector<float> values(n);
    for (float& v : values) v = gen.uniform(low, high);
    return values;
}

}  // namespace

TEST_CASE("Conv2d registers weight (F C k k) then bias (F) as parameters", "[points=1]") {
    tt::Conv2d conv({.in_channels = 3, .out_channels = 8, .kernel_size = 5, .padding = 2});
    REQUIRE(conv.weight.shape() == tt::Shape{8, 3, 5, 5});
    REQUIRE(conv.bias.shape() == tt::Shape{8});
    const auto named = conv.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "weight");
    CHECK(named[1].first == "bias");
    CHECK(named[0].second.is_same(conv.weight));
    CHECK(named[1].second.is_same(conv.bias));
    CHECK(conv.weight.requires_grad());
    CHECK(conv.bias.requires_grad());
    CHECK(conv.parameter_count() == 8 * 3 * 25 + 8);
}

TEST_CASE("Conv2d initialises like PyTorch: weight then bias from U of plus or minus 1 over sqrt of C k k", "[points=2]") {
    // fan_in = in_channels * k * k = 2 * 3 * 3 = 18: every output sums 18 products
    tt::Generator gen(1998);
    tt::Conv2d conv({.in_channels = 2, .out_channels = 4, .kernel_size = 3}, &gen);
    const float bound = 1.0f / std::sqrt(18.0f);
    const std::vector<float> draws = uniform_draws(1998, 4 * 18 + 4, -bound, bound);
    INFO("weight: the first 72 draws of the generator, bias: the next 4, all in (-1/sqrt(18), 1/sqrt(18))");
    CHECK_THAT(conv.weight, tensor_near(raw(std::vector<float>(draws.begin(), draws.begin() + 72), {4, 2, 3, 3}), 1e-6, 0));
    CHECK_THAT(conv.bias, tensor_near(raw(std::vector<float>(draws.begin() + 72, draws.end()), {4}), 1e-6, 0));
    // Bounds on a bigger layer without a generator (the default one)
    tt::Conv2d wide({.in_channels = 16, .out_channels = 32, .kernel_size = 3});
    const float wide_bound = 1.0f / std::sqrt(144.0f);
    double max_abs = 0, squares = 0;
    for (float v : values_of(wide.weight)) {
        max_abs = std::max(max_abs, static_cast<double>(std::fabs(v)));
        squares += static_cast<double>(v) * v;
    }
    CHECK(max_abs <= wide_bound * (1 + 1e-6));
    CHECK(max_abs > 0.9 * wide_bound);
    const double variance = squares / (32 * 144);  // U(-b, b): b^2 / 3
    CHECK(variance == Approx(wide_bound * wide_bound / 3).epsilon(0.1));
}

TEST_CASE("Conv2d without bias has only a weight", "[points=1]") {
    tt::Conv2d conv({.in_channels = 2, .out_channels = 3, .kernel_size = 3, .padding = 1, .bias = false});
    CHECK_FALSE(conv.bias.defined());
    const auto named = conv.named_parameters();
    REQUIRE(named.size() == 1);
    CHECK(named[0].first == "weight");
    const tt::Tensor x = random_values({2, 2, 4, 5}, 1);
    CHECK_THAT(conv(x), tensor_near(ref::conv2d(x, conv.weight, tt::Tensor(), 1, 1), 1e-5, 1e-5));
}

TEST_CASE("Conv2d forward uses its weight bias stride and padding", "[points=2]") {
    tt::Conv2d conv({.in_channels = 2, .out_channels = 3, .kernel_size = 3, .stride = 2, .padding = 1});
    ref::set_values(conv.weight, values_of(random_values({3, 2, 3, 3}, 2)));
    ref::set_values(conv.bias, {0.5f, -1.0f, 2.0f});
    const tt::Tensor x = random_values({2, 2, 7, 6}, 3);
    const tt::Tensor y = conv(x);
    CHECK(y.shape() == tt::Shape{2, 3, 4, 3});
    CHECK_THAT(y, tensor_near(ref::conv2d(x, conv.weight, conv.bias, 2, 1), 1e-5, 1e-5));
}

TEST_CASE("Conv2d prints its settings", "[points=1]") {
    tt::Conv2d lenet({.in_channels = 1, .out_channels = 6, .kernel_size = 5, .padding = 2});
    CHECK(lenet.extra_repr() == "1, 6, kernel_size=5, stride=1, padding=2");
    CHECK(lenet.to_string() == "Conv2d(1, 6, kernel_size=5, stride=1, padding=2)");
    tt::Conv2d strided({.in_channels = 3, .out_channels = 16, .kernel_size = 3, .stride = 2});
    CHECK(strided.extra_repr() == "3, 16, kernel_size=3, stride=2, padding=0");
    tt::Conv2d plain({.in_channels = 16, .out_channels = 32, .kernel_size = 3, .padding = 1, .bias = false});
    CHECK(plain.extra_repr() == "16, 32, kernel_size=3, stride=1, padding=1, bias=false");
}

TEST_CASE("Conv2d refuses an input with the wrong number of channels and names itself", "[points=1]") {
    tt::Conv2d conv({.in_channels = 3, .out_channels = 4, .kernel_size = 3});
    CHECK_THAT(error_message([&] { conv(random_values({2, 1, 8, 8}, 1)); }), Contains("Conv2d") && Contains("(2, 1, 8, 8)"));
    CHECK_THAT(error_message([&] { conv(random_values({3, 8, 8}, 1)); }), Contains("(3, 8, 8)"));
    CHECK_THAT(error_message([] { tt::Conv2d({.in_channels = 0, .out_channels = 4}); }), Contains("Conv2d"));
}

TEST_CASE("Conv2d gradients reach weight and bias inside a model", "[points=2]") {
    auto conv = std::make_shared<tt::Conv2d>(tt::Conv2dOptions{.in_channels = 2, .out_channels = 3, .kernel_size = 3, .padding = 1});
    tt::Sequential model{conv, std::make_shared<tt::Flatten>()};
    const tt::Tensor x = random_values({2, 2, 4, 3}, 4);
    const tt::Tensor y = model(x);
    REQUIRE(y.shape() == tt::Shape{2, 36});
    const tt::Tensor g = random_values({2, 36}, 5);
    y.backward(g);
    const ref::ConvGrads expected = ref::conv2d_grads(x, conv->weight, raw(values_of(g), {2, 3, 4, 3}), 1, 1);
    CHECK_THAT(conv->weight.grad(), tensor_near(expected.dw, 1e-5, 1e-5));
    CHECK_THAT(conv->bias.grad(), tensor_near(expected.db, 1e-5, 1e-5));
    CHECK(model.named_parameters()[0].first == "0.weight");
    model.zero_grad();
    CHECK_FALSE(conv->weight.grad().defined());
}
