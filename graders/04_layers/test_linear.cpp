// test_linear.cpp - module 04 grader: Linear. Parameter shapes and registration, default and
// optional initialisation, seeded construction, reset, the forward pass on hand-computed 1-d, 2-d
// and 3-d inputs (weights set through the tensor handles), no bias, and error messages.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "grading.h"
#include "layer_helpers.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace layer_helpers;
using Catch::Matchers::Contains;

namespace {

// y = x W^T + b with plain loops over raw values: x (..., in), W (out, in), b (out,) or undefined.
tt::Tensor reference_linear(const tt::Tensor& x, const tt::Tensor& w, const tt::Tensor& b) {
    const int64_t in = w.shape()[1], out = w.shape()[0];
    const std::vector<float> xv = values_of(x), wv = values_of(w);
    const std::vector<float> bv = b.defined() ? values_of(b) : std::vector<float>(static_cast<size_t>(out), 0.0f);
    const int64_t rows = static_cast<int64_t>(xv.size()) / in;
    std::vector<float> y;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out; ++j) {
            double total = bv[static_cast<size_t>(j)];
            for (int64_t i = 0; i < in; ++i) total += static_cast<double>(xv[static_cast<size_t>(r * in + i)]) * wv[static_cast<size_t>(j * in + i)];
            y.push_back(static_cast<float>(total));
        }
    tt::Shape shape = x.shape();
    shape.back() = out;
    return raw(y, shape);
}

// Linear(3 -> 2) with W = [[1, 2, 3], [4, 5, 6]] and b = [0.5, -1].
tt::Linear hand_made(bool bias = true) {
    tt::Linear layer(3, 2, bias);
    assign(layer.weight, {1, 2, 3, 4, 5, 6});
    if (bias) assign(layer.bias, {0.5f, -1});
    return layer;
}

}  // namespace

TEST_CASE("Linear creates a weight of shape out by in and a bias of shape out that require grad", "[points=2]") {
    tt::Linear layer(5, 3);
    REQUIRE(layer.weight.defined());
    REQUIRE(layer.bias.defined());
    CHECK(layer.weight.shape() == tt::Shape{3, 5});
    CHECK(layer.bias.shape() == tt::Shape{3});
    CHECK(layer.weight.requires_grad());
    CHECK(layer.bias.requires_grad());
    CHECK(layer.weight.is_leaf());
    const auto named = layer.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "weight");
    CHECK(named[1].first == "bias");
    CHECK(named[0].second.is_same(layer.weight));
    CHECK(named[1].second.is_same(layer.bias));
    CHECK(layer.options.in_features == 5);
    CHECK(layer.options.out_features == 3);
}

TEST_CASE("Linear without bias has only a weight and an undefined bias", "[points=1]") {
    tt::Linear layer(4, 6, false);
    CHECK(layer.weight.shape() == tt::Shape{6, 4});
    CHECK_FALSE(layer.bias.defined());
    const auto named = layer.named_parameters();
    REQUIRE(named.size() == 1);
    CHECK(named[0].first == "weight");
    CHECK(named[0].second.is_same(layer.weight));
    CHECK(layer.parameter_count() == 24);
}

TEST_CASE("Linear weight and bias start within 1 over sqrt of in_features", "[points=2]") {
    tt::Generator gen(411);
    tt::Linear layer(64, 256, true, &gen);  // 16384 weights, 256 biases, bound 1/8
    const Stats w = stats_of(layer.weight), b = stats_of(layer.bias);
    INFO("weight: " << w << "; bias: " << b << "; bound 0.125");
    CHECK(w.max_abs <= 0.125 * (1 + 1e-6));
    CHECK(w.max_abs >= 0.12);
    CHECK(w.variance == Approx(0.125 * 0.125 / 3).epsilon(0.05));
    CHECK(b.max_abs <= 0.125 * (1 + 1e-6));
    CHECK(b.max_abs >= 0.1);
    CHECK(b.variance > 0);
}

TEST_CASE("LinearOptions init selects the weight initialiser", "[points=1]") {
    tt::Generator gen(412);
    tt::LinearOptions options;
    options.in_features = 128;
    options.out_features = 256;
    options.init = tt::Init::xavier_normal;
    tt::Linear normal(options, &gen);
    const Stats n = stats_of(normal.weight);
    const double expected_std = std::sqrt(2.0 / 384);
    INFO("xavier_normal: expected std " << expected_std << ", got " << n);
    CHECK(std::sqrt(n.variance) == Approx(expected_std).epsilon(0.03));
    CHECK(n.max_abs >= 3 * expected_std);  // normal tails, not a uniform
    options.init = tt::Init::xavier_uniform;
    options.bias = false;
    tt::Linear uniform(options, &gen);
    const Stats u = stats_of(uniform.weight);
    const double bound = std::sqrt(6.0 / 384);
    INFO("xavier_uniform: expected bound " << bound << ", got " << u);
    CHECK(u.max_abs <= bound * (1 + 1e-6));
    CHECK(u.max_abs >= 0.97 * bound);
    CHECK_FALSE(uniform.bias.defined());
}

TEST_CASE("Linear built from the same seed has the same parameters", "[points=1]") {
    tt::Generator a(7), b(7), c(8);
    tt::Linear x(6, 4, true, &a), y(6, 4, true, &b), z(6, 4, true, &c);
    CHECK_THAT(y.weight, tensor_equal(raw_copy(x.weight)));
    CHECK_THAT(y.bias, tensor_equal(raw_copy(x.bias)));
    CHECK(values_of(z.weight) != values_of(x.weight));
    // Without a generator, the default one: re-seeding it reproduces the layer.
    tt::manual_seed(3);
    tt::Linear d1(6, 4);
    tt::manual_seed(3);
    tt::Linear d2(6, 4);
    CHECK_THAT(d2.weight, tensor_equal(raw_copy(d1.weight)));
    CHECK_THAT(d2.bias, tensor_equal(raw_copy(d1.bias)));
}

TEST_CASE("Linear draws its weight with the initialiser then its bias from the same generator", "[points=2]") {
    // The order of the draws is part of the contract: a seed reproduces a layer only if everyone
    // draws the same numbers for the same tensors. Weight first, (out, in) in row-major order, as
    // init::kaiming_uniform_ (or the chosen initialiser) draws it; then the bias, (out,), as
    // init::uniform_(-1/sqrt(in), 1/sqrt(in)); nothing else.
    const int64_t in = 5, out = 3;
    const float bias_bound = 1.0f / std::sqrt(static_cast<float>(in));
    struct Case {
        const char* what;
        tt::Init init;
        std::function<void(tt::Tensor&, tt::Generator*)> weight_init;
    };
    const std::vector<Case> cases = {
        {"kaiming_uniform (the default)", tt::Init::kaiming_uniform, [](tt::Tensor& w, tt::Generator* g) { tt::init::kaiming_uniform_(w, g); }},
        {"xavier_uniform", tt::Init::xavier_uniform, [](tt::Tensor& w, tt::Generator* g) { tt::init::xavier_uniform_(w, g); }},
        {"xavier_normal", tt::Init::xavier_normal, [](tt::Tensor& w, tt::Generator* g) { tt::init::xavier_normal_(w, g); }},
    };
    for (const Case& c : cases) {
        for (bool with_bias : {true, false}) {
            INFO(c.what << (with_bias ? " with a bias" : " without a bias"));
            tt::Generator layer_gen(2024), expected_gen(2024);
            tt::LinearOptions options;
            options.in_features = in;
            options.out_features = out;
            options.bias = with_bias;
            options.init = c.init;
            tt::Linear layer(options, &layer_gen);
            tt::Tensor weight = raw(std::vector<float>(static_cast<size_t>(in * out), 0.0f), {out, in});
            c.weight_init(weight, &expected_gen);
            // Near, not bit-equal: a bound written 1/sqrt(in) or gain * sqrt(3 / fan_in) may differ in
            // the last bit; drawing in another order gives entirely different numbers.
            CHECK_THAT(layer.weight, tensor_near(weight, 1e-7, 1e-5));
            if (with_bias) {
                tt::Tensor bias = raw(std::vector<float>(static_cast<size_t>(out), 0.0f), {out});
                tt::init::uniform_(bias, -bias_bound, bias_bound, &expected_gen);
                REQUIRE(layer.bias.defined());
                CHECK_THAT(layer.bias, tensor_near(bias, 1e-7, 1e-5));
            }
            INFO("the layer draws nothing more: both generators are at the same point afterwards");
            CHECK(layer_gen.next_u64() == expected_gen.next_u64());
        }
    }
    INFO("the weight's draws, independently of the initialisers: (out, in) row-major uniforms in [-1/sqrt(in), 1/sqrt(in)) for the default, then the bias");
    tt::Generator layer_gen(7), raw_gen(7);
    tt::Linear layer(in, out, true, &layer_gen);
    std::vector<float> expected_weight, expected_bias;
    for (int64_t i = 0; i < in * out; ++i) expected_weight.push_back(-bias_bound + 2 * bias_bound * raw_gen.uniform());
    for (int64_t i = 0; i < out; ++i) expected_bias.push_back(-bias_bound + 2 * bias_bound * raw_gen.uniform());
    CHECK_THAT(layer.weight, tensor_near(raw(expected_weight, {out, in}), 1e-6, 1e-5));
    CHECK_THAT(layer.bias, tensor_near(raw(expected_bias, {out}), 1e-6, 1e-5));
}

TEST_CASE("Linear reset draws new parameters and keeps them registered", "[points=1]") {
    tt::Generator first(21);
    tt::Linear layer(5, 3, true, &first);
    const tt::Tensor old_weight = raw_copy(layer.weight);
    tt::Generator again(99), fresh(99);
    layer.reset(&again);
    tt::Linear expected(5, 3, true, &fresh);
    CHECK_THAT(layer.weight, tensor_equal(raw_copy(expected.weight)));
    CHECK_THAT(layer.bias, tensor_equal(raw_copy(expected.bias)));
    CHECK(values_of(layer.weight) != values_of(old_weight));
    const auto named = layer.named_parameters();
    INFO("named_parameters after reset: " << named.size() << " entries");
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "weight");
    CHECK(named[0].second.is_same(layer.weight));
    CHECK(named[1].second.is_same(layer.bias));
    layer.reset();
    CHECK(layer.named_parameters().size() == 2);
    CHECK(layer.parameter_count() == 18);
}

TEST_CASE("Linear reset after a change of options re-creates both tensors", "[points=1]") {
    // reset() builds the parameters from the options as they are now: a layer switched to
    // bias=false must lose its bias (member and registration), and new sizes give new shapes.
    tt::Generator gen(23);
    tt::Linear layer(4, 3, true, &gen);
    layer.options.bias = false;
    layer.options.out_features = 5;
    layer.reset(&gen);
    CHECK(layer.weight.shape() == tt::Shape{5, 4});
    CHECK_FALSE(layer.bias.defined());
    CHECK(names_of(layer.named_parameters()) == std::vector<std::string>{"weight"});
    assign(layer.weight, std::vector<float>(20, 1.0f));
    INFO("without a bias, x @ W^T only: a stale bias must not be added");
    CHECK_THAT(layer(nested({{1, 2, 3, 4}})), tensor_near(nested({{10, 10, 10, 10, 10}}), 1e-6, 1e-6));
    layer.options.bias = true;
    layer.reset(&gen);
    REQUIRE(layer.bias.defined());
    CHECK(layer.bias.shape() == tt::Shape{5});
    CHECK(names_of(layer.named_parameters()) == std::vector<std::string>{"weight", "bias"});
    CHECK(layer.parameter_count() == 25);
}

TEST_CASE("Linear forward of a batch on hand-computed values", "[points=2]") {
    tt::Linear layer = hand_made();
    // x @ W^T + b: [1, 0, -1] -> [1 - 3, 4 - 6] + [0.5, -1] = [-1.5, -3]; [2, 1, 0] -> [4, 13] + b = [4.5, 12]
    const tt::Tensor x = nested({{1, 0, -1}, {2, 1, 0}});
    CHECK_THAT(layer(x), tensor_near(nested({{-1.5f, -3}, {4.5f, 12}}), 1e-6, 1e-6));
    const tt::Tensor batch = random_values({5, 3}, 413);
    CHECK_THAT(layer.forward(batch), tensor_near(reference_linear(batch, layer.weight, layer.bias), 1e-5, 1e-5));
}

TEST_CASE("Linear forward of a single 1-d example gives a 1-d output", "[points=2]") {
    tt::Linear layer = hand_made();
    CHECK_THAT(layer(nested({1, 0, -1})), tensor_near(nested({-1.5f, -3}), 1e-6, 1e-6));
    CHECK_THAT(layer(nested({0, 0, 0})), tensor_near(nested({0.5f, -1}), 1e-6, 1e-6));
}

TEST_CASE("Linear forward keeps every leading dim of a 3-d input", "[points=2]") {
    tt::Generator gen(414);
    tt::Linear layer(4, 3, true, &gen);
    const tt::Tensor x = random_values({2, 5, 4}, 415);
    const tt::Tensor y = layer(x);
    CHECK(y.shape() == tt::Shape{2, 5, 3});
    CHECK_THAT(y, tensor_near(reference_linear(x, layer.weight, layer.bias), 1e-5, 1e-5));
}

TEST_CASE("Linear forward of non-contiguous inputs", "[points=2]") {
    tt::Generator gen(416);
    tt::Linear layer(3, 4, true, &gen);
    const tt::Tensor transposed = column_major(random_values({6, 3}, 417));
    const tt::Tensor with_gaps = padded(random_values({2, 2, 3}, 418));
    const tt::Tensor row = strided({9, 1, 9, -2, 9, 3}, {3}, {2}, 1);  // [1, -2, 3] with stride 2
    for (const tt::Tensor& x : {transposed, with_gaps, row}) {
        INFO("x = " << describe_tensor(x));
        CHECK_THAT(layer(x), tensor_near(reference_linear(x, layer.weight, layer.bias), 1e-5, 1e-5));
    }
}

TEST_CASE("Linear without bias computes x times W transposed only", "[points=1]") {
    tt::Linear layer = hand_made(false);
    CHECK_THAT(layer(nested({{1, 0, -1}, {2, 1, 0}})), tensor_near(nested({{-2, -2}, {4, 13}}), 1e-6, 1e-6));
    CHECK_THAT(layer(nested({1, 1, 1})), tensor_near(nested({6, 15}), 1e-6, 1e-6));
}

TEST_CASE("Linear forward uses the current values of its weight and bias", "[points=1]") {
    tt::Linear layer = hand_made();
    const tt::Tensor x = nested({{1, 2, 3}});
    CHECK_THAT(layer(x), tensor_near(nested({{14.5f, 31}}), 1e-6, 1e-6));
    assign(layer.weight, {0, 0, 1, 1, 0, 0});  // what an optimizer step does: same tensors, new values
    assign(layer.bias, {10, 20});
    CHECK_THAT(layer(x), tensor_near(nested({{13, 21}}), 1e-6, 1e-6));
}

TEST_CASE("Linear rejects an input whose last dim is not in_features naming the layer and shapes", "[points=2]") {
    tt::Linear layer(4, 2);
    const std::string wrong = error_message([&] { layer(iota({2, 3})); });
    CHECK_THAT(wrong, Contains("Linear") && Contains("(2, 3)") && Contains("4"));
    CHECK_THAT(error_message([&] { layer(iota({5})); }), Contains("Linear") && Contains("(5)"));
    CHECK_THAT(error_message([&] { layer(iota({4, 2})); }), Contains("Linear") && Contains("(4, 2)"));
    CHECK_THAT(error_message([&] { layer(raw_scalar(1.0f)); }), Contains("Linear") && Contains("()"));
}

TEST_CASE("Linear rejects zero or negative feature counts", "[points=1]") {
    CHECK_THAT(error_message([] { tt::Linear(0, 3); }), Contains("Linear") && Contains("0"));
    CHECK_THAT(error_message([] { tt::Linear(3, -2); }), Contains("Linear") && Contains("-2"));
    tt::LinearOptions options;  // in_features and out_features default to 0
    CHECK_THAT(error_message([&] { tt::Linear layer(options); }), Contains("Linear"));
}
