// test_layers.cpp - module 04: Module, the initialisers, Linear, Sequential, Dropout, Flatten and
// Identity (engine/src/04_layers/layers.cpp).
//
// Expected values never come from the code under test: weights are written straight into storage,
// products are written out by hand or computed with plain loops over grading.h's raw-storage reader,
// and expected random numbers are drawn from a tt::Generator ([given]) with the same seed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

using Inputs = std::vector<tt::Tensor>;

// Overwrites a (contiguous) parameter's values through its storage: no tensor op, no grad-mode rule.
void write(const tt::Tensor& t, const std::vector<float>& values) {
    REQUIRE(t.defined());
    REQUIRE(t.strides() == row_major_strides(t.shape()));
    REQUIRE(static_cast<int64_t>(values.size()) == count_of(t.shape()));
    std::copy(values.begin(), values.end(), t.storage()->data.begin() + t.offset());
}

// y = x @ w^T + b over the last dim of x, with plain loops in double (b may be undefined).
tt::Tensor reference_linear(const tt::Tensor& x, const tt::Tensor& w, const tt::Tensor& b) {
    const int64_t in = w.shape()[1], out = w.shape()[0];
    const std::vector<float> xs = values_of(x), ws = values_of(w);
    const std::vector<float> bs = b.defined() ? values_of(b) : std::vector<float>(static_cast<size_t>(out), 0.0f);
    const int64_t rows = count_of(x.shape()) / in;
    std::vector<float> y;
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < out; ++j) {
            double acc = bs[j];
            for (int64_t i = 0; i < in; ++i) acc += static_cast<double>(xs[r * in + i]) * ws[j * in + i];
            y.push_back(static_cast<float>(acc));
        }
    }
    tt::Shape shape = x.shape();
    shape.back() = out;
    return raw(y, shape);
}

std::vector<std::string> names_of(const tt::Module& module) {
    std::vector<std::string> names;
    for (const auto& [name, tensor] : module.named_parameters()) names.push_back(name);
    return names;
}

struct Moments {
    double mean, variance, max_abs;
};

Moments moments_of(const tt::Tensor& t) {
    const std::vector<float> v = values_of(t);
    double sum = 0, max_abs = 0;
    for (float x : v) {
        sum += x;
        max_abs = std::max(max_abs, static_cast<double>(std::fabs(x)));
    }
    const double mean = sum / static_cast<double>(v.size());
    double squares = 0;
    for (float x : v) squares += (x - mean) * (x - mean);
    return {mean, squares / static_cast<double>(v.size()), max_abs};
}

// The n values U(low, high) a Generator seeded with `seed` gives, in order.
std::vector<float> uniform_draws(uint64_t seed, size_t n, float low, float high) {
    tt::Generator gen(seed);
    std::vector<float> values(n);
    for (float& v : values) v = gen.uniform(low, high);
    return values;
}

// A user-defined module: its own parameter registered *after* its child, to check that own
// parameters still come first in named_parameters().
struct Scaled : tt::Module {
    explicit Scaled(std::shared_ptr<tt::Module> inner) {
        block = register_module("block", std::move(inner));
        scale = register_parameter("scale", raw({2.0f}, {1}));
    }
    tt::Tensor forward(const tt::Tensor& x) override { return block->forward(x) * scale; }
    std::string name() const override { return "Scaled"; }
    std::shared_ptr<tt::Module> block;
    tt::Tensor scale;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Linear
// ---------------------------------------------------------------------------------------------

TEST_CASE("layers: Linear forward, hand-computed", "[04][layers][linear]") {
    tt::Linear linear(3, 2);
    REQUIRE(linear.weight.shape() == tt::Shape{2, 3});  // (out, in)
    REQUIRE(linear.bias.shape() == tt::Shape{2});
    write(linear.weight, {1, 2, 3, 4, 5, 6});  // W = [[1, 2, 3], [4, 5, 6]]
    write(linear.bias, {0.5f, -1});

    // x @ W^T: [1, 0, -1] -> [1 - 3, 4 - 6] = [-2, -2]; [2, 1, 0] -> [2 + 2, 8 + 5] = [4, 13]; then + b.
    const tt::Tensor x = nested({{1, 0, -1}, {2, 1, 0}});
    const tt::Tensor y = linear(x);
    CHECK_THAT(y, tensor_near(nested({{-1.5f, -3}, {4.5f, 12}})));
    CHECK(y.requires_grad());  // the parameters require grad, so the output is part of a graph

    // A single example (in,) -> (out,).
    CHECK_THAT(linear(nested({1, 0, -1})), tensor_near(nested({-1.5f, -3})));
    // Leading dims are batch dims: (2, 2, 3) -> (2, 2, 2), each row as above.
    CHECK_THAT(linear(nested({{{1, 0, -1}, {2, 1, 0}}, {{2, 1, 0}, {0, 0, 0}}})),
               tensor_near(nested({{{-1.5f, -3}, {4.5f, 12}}, {{4.5f, 12}, {0.5f, -1}}})));
    // A transposed (non-contiguous) input gives the same result.
    CHECK_THAT(linear(column_major(x)), tensor_near(nested({{-1.5f, -3}, {4.5f, 12}})));
}

TEST_CASE("layers: Linear shapes for 1-D, 2-D and 3-D inputs", "[04][layers][linear]") {
    tt::Generator gen(3);
    tt::Linear linear(4, 3, true, &gen);
    struct Case {
        tt::Shape in, out;
    };
    for (const Case& c : std::vector<Case>{{{4}, {3}}, {{5, 4}, {5, 3}}, {{2, 5, 4}, {2, 5, 3}}, {{1, 4}, {1, 3}}, {{0, 4}, {0, 3}}}) {
        INFO("input " << shape_text(c.in));
        const tt::Tensor x = random_values(c.in, 11);
        const tt::Tensor y = linear(x);
        CHECK(y.shape() == c.out);
        CHECK_THAT(y, tensor_near(reference_linear(x, linear.weight, linear.bias)));
    }
    // A padded (strided, offset) input.
    const tt::Tensor x = random_values({3, 4}, 12);
    CHECK_THAT(linear(padded(x)), tensor_near(reference_linear(x, linear.weight, linear.bias)));
}

TEST_CASE("layers: Linear without bias", "[04][layers][linear]") {
    tt::Linear linear(3, 2, /*bias=*/false);
    CHECK_FALSE(linear.bias.defined());
    CHECK(names_of(linear) == std::vector<std::string>{"weight"});
    CHECK(linear.parameter_count() == 6);
    write(linear.weight, {1, 2, 3, 4, 5, 6});
    CHECK_THAT(linear(nested({{1, 0, -1}, {2, 1, 0}})), tensor_near(nested({{-2, -2}, {4, 13}})));
    CHECK_THAT(linear(nested({1, 1, 1})), tensor_near(nested({6, 15})));
    CHECK(linear.extra_repr() == "in_features=3, out_features=2, bias=false");
}

TEST_CASE("layers: Linear parameters are the members, registered in order", "[04][layers][linear][module]") {
    tt::Linear linear(3, 2);
    const auto named = linear.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "weight");
    CHECK(named[1].first == "bias");
    CHECK(named[0].second.is_same(linear.weight));  // the same tensor, not a copy
    CHECK(named[1].second.is_same(linear.bias));
    CHECK(linear.weight.requires_grad());
    CHECK(linear.bias.requires_grad());
    CHECK(linear.weight.is_leaf());
    CHECK(linear.parameter_count() == 3 * 2 + 2);
    CHECK(linear.extra_repr() == "in_features=3, out_features=2, bias=true");
    CHECK(linear.to_string() == "Linear(in_features=3, out_features=2, bias=true)");
}

TEST_CASE("layers: Linear reset re-creates the parameters", "[04][layers][linear]") {
    tt::Generator gen(5);
    tt::Linear linear(3, 2, true, &gen);
    const std::vector<float> first_weight = values_of(linear.weight), first_bias = values_of(linear.bias);

    gen.manual_seed(5);
    linear.reset(&gen);  // same seed: same values
    CHECK_THAT(linear.weight, tensor_equal(raw(first_weight, {2, 3})));
    CHECK_THAT(linear.bias, tensor_equal(raw(first_bias, {2})));
    CHECK(names_of(linear) == std::vector<std::string>{"weight", "bias"});  // replaced, not duplicated

    linear.options.out_features = 5;
    linear.options.bias = false;
    linear.reset(&gen);
    CHECK(linear.weight.shape() == tt::Shape{5, 3});
    CHECK_FALSE(linear.bias.defined());
    CHECK(names_of(linear) == std::vector<std::string>{"weight"});
    CHECK(linear.named_parameters()[0].second.is_same(linear.weight));
    CHECK(linear(random_values({4, 3}, 1)).shape() == tt::Shape{4, 5});
}

TEST_CASE("layers: Linear errors name the layer and the shapes", "[04][layers][linear][errors]") {
    tt::Linear linear(3, 2);
    CHECK_THAT(error_message([&] { linear(iota({4, 5})); }),
               Contains("Linear(in_features=3, out_features=2, bias=true)") && Contains("(4, 5)") && Contains("5 features") &&
                   Contains("expected 3"));
    CHECK_THAT(error_message([&] { linear(iota({2})); }), Contains("Linear") && Contains("(2)") && Contains("expected 3"));
    CHECK_THAT(error_message([&] { linear(raw_scalar(1)); }), Contains("Linear") && Contains("()"));
    CHECK_THAT(error_message([&] { tt::Linear(0, 2); }), Contains("Linear") && Contains("in_features=0"));
    CHECK_THAT(error_message([&] { tt::Linear(3, -1); }), Contains("Linear") && Contains("out_features=-1"));
}

// ---------------------------------------------------------------------------------------------
// Module: the tree
// ---------------------------------------------------------------------------------------------

TEST_CASE("layers: named_parameters of nested modules, in order, with prefixes", "[04][layers][module]") {
    auto first = std::make_shared<tt::Linear>(2, 3);
    auto inner_linear = std::make_shared<tt::Linear>(3, 4);
    auto last = std::make_shared<tt::Linear>(4, 1, /*bias=*/false);
    auto inner = std::make_shared<tt::Sequential>(
        std::initializer_list<std::shared_ptr<tt::Module>>{inner_linear, std::make_shared<tt::Identity>(), last});
    tt::Sequential model{first, inner, std::make_shared<tt::Dropout>(0.1f)};

    CHECK(names_of(model) == std::vector<std::string>{"0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.2.weight"});
    CHECK(names_of(*inner) == std::vector<std::string>{"0.weight", "0.bias", "2.weight"});
    CHECK(names_of(*first) == std::vector<std::string>{"weight", "bias"});

    const auto named = model.named_parameters();
    REQUIRE(named.size() == 5);
    CHECK(named[0].second.is_same(first->weight));
    CHECK(named[1].second.is_same(first->bias));
    CHECK(named[2].second.is_same(inner_linear->weight));
    CHECK(named[3].second.is_same(inner_linear->bias));
    CHECK(named[4].second.is_same(last->weight));

    const std::vector<tt::Tensor> params = model.parameters();
    REQUIRE(params.size() == 5);
    for (size_t i = 0; i < params.size(); ++i) {
        CHECK(params[i].is_same(named[i].second));
        CHECK(params[i].requires_grad());
    }
    // 2*3 + 3 + 3*4 + 4 + 4*1: every weight and bias of every descendant.
    CHECK(model.parameter_count() == 29);
    CHECK(inner->parameter_count() == 20);
    CHECK(tt::Sequential().parameter_count() == 0);
    CHECK(tt::Dropout().named_parameters().empty());
}

TEST_CASE("layers: own parameters come before the children's", "[04][layers][module]") {
    auto linear = std::make_shared<tt::Linear>(2, 2);
    Scaled model(linear);
    CHECK(names_of(model) == std::vector<std::string>{"scale", "block.weight", "block.bias"});
    CHECK(model.parameter_count() == 1 + 4 + 2);
    CHECK(model.named_parameters()[1].second.is_same(linear->weight));
}

TEST_CASE("layers: a shared tensor is listed once", "[04][layers][module]") {
    // The same layer twice (weight tying): one set of parameters, updated once per step.
    auto shared = std::make_shared<tt::Linear>(3, 3);
    tt::Sequential model{shared, std::make_shared<tt::Identity>(), shared};
    CHECK(names_of(model) == std::vector<std::string>{"0.weight", "0.bias"});
    CHECK(model.parameter_count() == 12);
    // Two different tensors with equal values are two parameters.
    tt::Sequential twins{std::make_shared<tt::Linear>(2, 2, false), std::make_shared<tt::Linear>(2, 2, false)};
    for (const tt::Tensor& p : twins.parameters()) write(p, {1, 1, 1, 1});
    CHECK(names_of(twins) == std::vector<std::string>{"0.weight", "1.weight"});
}

TEST_CASE("layers: parameters share storage with the layers", "[04][layers][module]") {
    auto linear = std::make_shared<tt::Linear>(2, 2);
    tt::Sequential model{linear};
    std::vector<tt::Tensor> params = model.parameters();
    REQUIRE(params.size() == 2);
    CHECK(shares_storage(params[0], linear->weight));
    {
        tt::NoGradGuard no_grad;  // how an optimizer writes: in place, grad mode off
        params[0].fill_(0.5f);
        params[1].add_(raw({1, 2}, {2}), 1.0f);
    }
    CHECK_THAT(linear->weight, tensor_equal(nested({{0.5f, 0.5f}, {0.5f, 0.5f}})));
    const std::vector<float> bias = values_of(linear->bias);
    CHECK_THAT(model(nested({{1, 1}})), tensor_near(raw({1.0f + bias[0], 1.0f + bias[1]}, {1, 2})));
}

TEST_CASE("layers: train and eval reach every descendant", "[04][layers][module]") {
    auto deep_dropout = std::make_shared<tt::Dropout>(0.5f);
    auto middle = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{deep_dropout});
    auto inner = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{std::make_shared<tt::Identity>(), middle});
    auto linear = std::make_shared<tt::Linear>(4, 4);
    tt::Sequential model{linear, inner};

    std::vector<tt::Module*> all = {&model, linear.get(), inner.get(), middle.get(), deep_dropout.get(), (*inner)[0].get()};
    for (tt::Module* m : all) CHECK(m->is_training());  // modules start in training mode

    model.eval();
    for (tt::Module* m : all) CHECK_FALSE(m->is_training());
    const tt::Tensor x = random_values({8, 4}, 2);
    CHECK_THAT((*deep_dropout)(x), tensor_equal(x));  // the buried Dropout is now the identity

    model.train();
    for (tt::Module* m : all) CHECK(m->is_training());

    inner->train(false);  // only that subtree
    CHECK(model.is_training());
    CHECK(linear->is_training());
    CHECK_FALSE(inner->is_training());
    CHECK_FALSE(middle->is_training());
    CHECK_FALSE(deep_dropout->is_training());
}

TEST_CASE("layers: zero_grad clears every parameter's gradient", "[04][layers][module][autograd]") {
    auto first = std::make_shared<tt::Linear>(3, 4);
    auto second = std::make_shared<tt::Linear>(4, 2);
    tt::Sequential model{first, std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{second})};
    model(random_values({5, 3}, 4)).sum().backward();
    for (const auto& [name, p] : model.named_parameters()) {
        INFO(name);
        REQUIRE(p.grad().defined());
        CHECK(p.grad().shape() == p.shape());
    }
    // d(sum(y))/d(bias) = number of rows, for the last layer.
    CHECK_THAT(second->bias.grad(), tensor_near(nested({5, 5})));

    model.zero_grad();
    for (const auto& [name, p] : model.named_parameters()) {
        INFO(name);
        CHECK_FALSE(p.grad().defined());
    }
    // The next backward starts from nothing again (no stale accumulation).
    model(random_values({5, 3}, 4)).sum().backward();
    CHECK_THAT(second->bias.grad(), tensor_near(nested({5, 5})));
}

TEST_CASE("layers: to_string prints the tree like PyTorch", "[04][layers][module][print]") {
    auto inner = std::make_shared<tt::Sequential>(
        std::initializer_list<std::shared_ptr<tt::Module>>{std::make_shared<tt::Dropout>(0.25f), std::make_shared<tt::Flatten>()});
    tt::Sequential model{std::make_shared<tt::Linear>(2, 4), inner, std::make_shared<tt::Identity>(),
                         std::make_shared<tt::Linear>(4, 1, false)};
    CHECK(model.to_string() ==
          "Sequential(\n"
          "  (0): Linear(in_features=2, out_features=4, bias=true)\n"
          "  (1): Sequential(\n"
          "    (0): Dropout(p=0.25)\n"
          "    (1): Flatten(start_dim=1, end_dim=-1)\n"
          "  )\n"
          "  (2): Identity()\n"
          "  (3): Linear(in_features=4, out_features=1, bias=false)\n"
          ")");
    CHECK(tt::Sequential().to_string() == "Sequential()");
    CHECK(tt::Dropout(0.5f).to_string() == "Dropout(p=0.5)");
    CHECK(tt::Flatten(0, 2).to_string() == "Flatten(start_dim=0, end_dim=2)");
    CHECK(Scaled(std::make_shared<tt::Identity>()).to_string() == "Scaled(\n  (block): Identity()\n)");
}

// ---------------------------------------------------------------------------------------------
// Sequential
// ---------------------------------------------------------------------------------------------

TEST_CASE("layers: Sequential chains, indexes and names its children", "[04][layers][sequential]") {
    auto a = std::make_shared<tt::Linear>(3, 2);
    auto b = std::make_shared<tt::Linear>(2, 2);
    write(a->weight, {1, 0, 0, 0, 1, 0});
    write(a->bias, {0, 0});
    write(b->weight, {0, 1, 1, 0});  // swaps the two features
    write(b->bias, {10, 20});
    tt::Sequential model;
    CHECK(model.size() == 0);
    model.push_back(a);
    model.push_back(b);
    CHECK(model.size() == 2);
    CHECK(model[0] == a);
    CHECK(model[1] == b);
    REQUIRE(model.named_children().size() == 2);
    CHECK(model.named_children()[0].first == "0");
    CHECK(model.named_children()[1].first == "1");

    // x (1, 3) -> a keeps features 0 and 1 -> b swaps them and adds (10, 20).
    CHECK_THAT(model(nested({{5, 7, 9}})), tensor_near(nested({{17, 25}})));

    const tt::Tensor x = random_values({2, 3}, 8);
    CHECK_THAT(tt::Sequential()(x), tensor_equal(x));  // an empty Sequential passes x through

    tt::Sequential listed{a, std::make_shared<tt::Identity>(), b};
    CHECK(listed.size() == 3);
    CHECK(listed.named_children()[2].first == "2");
    CHECK(listed[2] == b);
}

TEST_CASE("layers: Sequential errors", "[04][layers][sequential][errors]") {
    tt::Sequential model{std::make_shared<tt::Identity>(), std::make_shared<tt::Identity>()};
    CHECK_THAT(error_message([&] { model[2]; }), Contains("Sequential") && Contains("index 2") && Contains("2 modules"));
    CHECK_THAT(error_message([&] { tt::Sequential()[0]; }), Contains("Sequential") && Contains("index 0"));
    CHECK_THAT(error_message([&] { model.push_back(nullptr); }), Contains("Sequential") && Contains("null"));
    CHECK(model.size() == 2);
}

// ---------------------------------------------------------------------------------------------
// Initialisers
// ---------------------------------------------------------------------------------------------

TEST_CASE("layers: initialisers are reproducible with a seeded Generator", "[04][layers][init]") {
    tt::Generator g1(42), g2(42), g3(43);
    tt::Linear a(5, 4, true, &g1), b(5, 4, true, &g2), c(5, 4, true, &g3);
    CHECK_THAT(a.weight, tensor_equal(raw_copy(b.weight)));
    CHECK_THAT(a.bias, tensor_equal(raw_copy(b.bias)));
    CHECK(values_of(a.weight) != values_of(c.weight));
    // Layers built one after the other from one generator continue its stream: they differ.
    tt::Generator shared(42);
    tt::Linear first(5, 4, true, &shared), second(5, 4, true, &shared);
    CHECK(values_of(first.weight) != values_of(second.weight));
    CHECK_THAT(first.weight, tensor_equal(raw_copy(a.weight)));

    // The values are exactly the generator's uniforms: the weight's (out * in) first, row by row,
    // then the bias's, both with bound 1 / sqrt(in_features).
    const float bound = 1.0f / std::sqrt(5.0f);
    const std::vector<float> draws = uniform_draws(42, 4 * 5 + 4, -bound, bound);
    CHECK_THAT(a.weight, tensor_near(raw(std::vector<float>(draws.begin(), draws.begin() + 20), {4, 5}), 1e-6, 0));
    CHECK_THAT(a.bias, tensor_near(raw(std::vector<float>(draws.begin() + 20, draws.end()), {4}), 1e-6, 0));

    // No generator: the default one, which tt::manual_seed re-seeds.
    tt::manual_seed(9);
    tt::Linear d(6, 3);
    tt::manual_seed(9);
    tt::Linear e(6, 3);
    CHECK_THAT(d.weight, tensor_equal(raw_copy(e.weight)));
    CHECK_THAT(d.bias, tensor_equal(raw_copy(e.bias)));

    // Each initialiser on its own.
    using Initialiser = void (*)(tt::Tensor&, tt::Generator*);
    const std::vector<std::pair<const char*, Initialiser>> initialisers = {
        {"kaiming_uniform_", [](tt::Tensor& w, tt::Generator* g) { tt::init::kaiming_uniform_(w, g); }},
        {"xavier_uniform_", [](tt::Tensor& w, tt::Generator* g) { tt::init::xavier_uniform_(w, g); }},
        {"xavier_normal_", [](tt::Tensor& w, tt::Generator* g) { tt::init::xavier_normal_(w, g); }}};
    for (const auto& [name, initialise] : initialisers) {
        INFO(name);
        tt::Tensor w1 = tt::zeros({3, 7}), w2 = tt::zeros({3, 7});
        tt::Generator h1(1), h2(1);
        initialise(w1, &h1);
        initialise(w2, &h2);
        CHECK_THAT(w1, tensor_equal(raw_copy(w2)));
        CHECK(moments_of(w1).max_abs > 0);
    }
}

TEST_CASE("layers: kaiming_uniform_ bound and statistics", "[04][layers][init]") {
    // (out, in) = (64, 2048): fan_in = 2048, fan_out = 64, so a bound from the wrong fan is far off.
    tt::Generator gen(7);
    tt::Tensor w = tt::zeros({64, 2048});
    tt::init::kaiming_uniform_(w, &gen);  // a = sqrt(5): bound = 1 / sqrt(fan_in)
    const double bound = 1.0 / std::sqrt(2048.0);
    Moments m = moments_of(w);
    CHECK(m.max_abs <= bound * (1 + 1e-6));
    CHECK(m.max_abs >= bound * 0.99);                   // the whole interval is used
    CHECK(std::fabs(m.mean) <= 0.01 * bound);
    CHECK(m.variance == Approx(bound * bound / 3).epsilon(0.03));  // U(-b, b) has variance b^2 / 3
    CHECK_THAT(w, tensor_near(raw(uniform_draws(7, 64 * 2048, static_cast<float>(-bound), static_cast<float>(bound)), {64, 2048}), 1e-6, 0));

    // a = 0 (for ReLU): gain sqrt(2), bound = sqrt(6 / fan_in).
    tt::init::kaiming_uniform_(w, &gen, 0.0f);
    const double relu_bound = std::sqrt(6.0 / 2048.0);
    m = moments_of(w);
    CHECK(m.max_abs <= relu_bound * (1 + 1e-6));
    CHECK(m.max_abs >= relu_bound * 0.99);
    CHECK(m.variance == Approx(relu_bound * relu_bound / 3).epsilon(0.03));

    // A convolution weight (out, in, kH, kW): fan_in = in * kH * kW = 4 * 3 * 3.
    tt::Tensor conv = tt::zeros({8, 4, 3, 3});
    tt::init::kaiming_uniform_(conv, &gen);
    CHECK(moments_of(conv).max_abs <= 1.0 / 6.0 * (1 + 1e-6));
    CHECK(moments_of(conv).max_abs >= 1.0 / 6.0 * 0.9);
}

TEST_CASE("layers: xavier initialisers", "[04][layers][init]") {
    tt::Generator gen(8);
    tt::Tensor w = tt::zeros({256, 768});  // fan_in 768, fan_out 256
    tt::init::xavier_uniform_(w, &gen);
    const double bound = std::sqrt(6.0 / (768 + 256));
    Moments m = moments_of(w);
    CHECK(m.max_abs <= bound * (1 + 1e-6));
    CHECK(m.max_abs >= bound * 0.99);
    CHECK(std::fabs(m.mean) <= 0.01 * bound);
    CHECK(m.variance == Approx(bound * bound / 3).epsilon(0.03));

    tt::init::xavier_uniform_(w, &gen, 2.0f);  // gain scales the bound
    CHECK(moments_of(w).max_abs == Approx(2 * bound).epsilon(0.01));

    tt::init::xavier_normal_(w, &gen);
    const double expected_std = std::sqrt(2.0 / (768 + 256));
    m = moments_of(w);
    CHECK(std::fabs(m.mean) <= 0.01 * expected_std);
    CHECK(std::sqrt(m.variance) == Approx(expected_std).epsilon(0.02));
    CHECK(m.max_abs > 3 * expected_std);  // a normal, not a uniform: its tails go past 3 standard deviations

    tt::init::xavier_normal_(w, &gen, 0.5f);
    CHECK(std::sqrt(moments_of(w).variance) == Approx(0.5 * expected_std).epsilon(0.02));

    // The same numbers as the generator's normals, scaled.
    tt::Tensor small = tt::zeros({3, 5});
    tt::Generator g1(4), g2(4);
    tt::init::xavier_normal_(small, &g1);
    std::vector<float> expected(15);
    for (float& v : expected) v = g2.normal() * std::sqrt(2.0f / 8.0f);
    CHECK_THAT(small, tensor_near(raw(expected, {3, 5}), 1e-6, 1e-6));
}

TEST_CASE("layers: Linear uses options.init for its weight", "[04][layers][init][linear]") {
    tt::Generator gen(2);
    tt::Linear xavier(tt::LinearOptions{300, 100, true, tt::Init::xavier_uniform}, &gen);
    const double bound = std::sqrt(6.0 / 400);
    Moments m = moments_of(xavier.weight);
    CHECK(m.max_abs <= bound * (1 + 1e-6));
    CHECK(m.max_abs >= bound * 0.99);
    CHECK(moments_of(xavier.bias).max_abs <= 1.0 / std::sqrt(300.0) * (1 + 1e-6));  // the bias keeps U(-1/sqrt(in), ..)

    tt::Linear normal(tt::LinearOptions{300, 100, false, tt::Init::xavier_normal}, &gen);
    CHECK(std::sqrt(moments_of(normal.weight).variance) == Approx(std::sqrt(2.0 / 400)).epsilon(0.03));
    CHECK_FALSE(normal.bias.defined());

    tt::Linear kaiming(300, 100, true, &gen);
    m = moments_of(kaiming.weight);
    CHECK(m.max_abs <= 1.0 / std::sqrt(300.0) * (1 + 1e-6));
    CHECK(m.max_abs >= 1.0 / std::sqrt(300.0) * 0.99);
    CHECK(m.variance == Approx(1.0 / 300.0 / 3).epsilon(0.03));
}

TEST_CASE("layers: uniform_ and zeros_ write through any layout, into parameters too", "[04][layers][init]") {
    tt::Generator gen(6);
    tt::Tensor t = tt::zeros({3, 4});
    tt::Tensor column = t.select(1, 2);  // a strided view: only column 2 may change
    tt::init::uniform_(column, 2.0f, 3.0f, &gen);
    const std::vector<float> draws = uniform_draws(6, 3, 2.0f, 3.0f);
    CHECK_THAT(t, tensor_near(nested({{0, 0, draws[0], 0}, {0, 0, draws[1], 0}, {0, 0, draws[2], 0}}), 1e-6, 0));

    tt::Linear linear(4, 3);  // parameters require grad; grad mode is on here
    REQUIRE(tt::is_grad_enabled());
    tt::init::zeros_(linear.bias);
    CHECK_THAT(linear.bias, tensor_equal(nested({0, 0, 0})));
    tt::init::uniform_(linear.weight, -0.5f, 0.5f, &gen);
    CHECK(moments_of(linear.weight).max_abs <= 0.5);
    tt::init::kaiming_uniform_(linear.weight, &gen);
    CHECK(linear.weight.is_leaf());     // an initialiser records no graph
    CHECK(tt::is_grad_enabled());      // and restores grad mode

    CHECK_THAT(error_message([&] { tt::init::kaiming_uniform_(linear.bias); }),
               Contains("kaiming_uniform_") && Contains("(3)"));
    CHECK_THAT(error_message([&] { tt::init::xavier_normal_(linear.bias); }), Contains("xavier_normal_") && Contains("(3)"));
}

// ---------------------------------------------------------------------------------------------
// Dropout
// ---------------------------------------------------------------------------------------------

TEST_CASE("layers: Dropout in evaluation is the identity", "[04][layers][dropout]") {
    tt::Dropout dropout(0.5f);
    dropout.eval();
    const tt::Tensor x = random_values({4, 5}, 3);
    CHECK_THAT(dropout(x), tensor_equal(x));
    CHECK_THAT(dropout(padded(x)), tensor_equal(x));
    tt::Dropout all(1.0f);
    all.eval();
    CHECK_THAT(all(x), tensor_equal(x));
}

TEST_CASE("layers: Dropout in training zeroes a fraction p and scales the rest", "[04][layers][dropout]") {
    for (float p : {0.1f, 0.3f, 0.5f, 0.8f}) {
        INFO("p = " << p);
        tt::Generator gen(21);
        tt::Dropout dropout(p, &gen);
        REQUIRE(dropout.is_training());
        const int64_t n = 100000;
        const tt::Tensor x = random_values({100, 1000}, 5, 0.5f, 1.5f);  // never 0, so a 0 means dropped
        const tt::Tensor y = dropout(x);
        REQUIRE(y.shape() == x.shape());
        const std::vector<float> xs = values_of(x), ys = values_of(y);
        int64_t dropped = 0, wrong = 0;
        for (size_t i = 0; i < xs.size(); ++i) {
            if (ys[i] == 0.0f) {
                ++dropped;
            } else if (std::fabs(ys[i] - xs[i] / (1.0f - p)) > 1e-5f * std::fabs(xs[i] / (1.0f - p))) {
                ++wrong;  // a survivor must be exactly x / (1 - p)
            }
        }
        CHECK(wrong == 0);
        CHECK(static_cast<double>(dropped) / n == Approx(p).margin(0.01));

        // The expectation is preserved: mean(dropout(ones)) ~ 1.
        const double mean = moments_of(dropout(tt::ones({n}))).mean;
        CHECK(mean == Approx(1.0).margin(0.02));
    }
}

TEST_CASE("layers: Dropout masks come from its generator", "[04][layers][dropout]") {
    tt::Generator g1(5), g2(5);
    tt::Dropout a(0.5f, &g1), b(0.5f, &g2);
    const tt::Tensor x = random_values({6, 7}, 1, 1.0f, 2.0f);
    const tt::Tensor ya = a(x), yb = b(x);
    CHECK_THAT(ya, tensor_equal(raw_copy(yb)));
    CHECK(values_of(a(x)) != values_of(ya));  // the next call draws a new mask

    // Kept exactly where the generator's uniform is >= p, in row-major order.
    tt::Generator reference(5);
    const std::vector<float> xs = values_of(x);
    std::vector<float> expected;
    for (float v : xs) expected.push_back(reference.uniform() >= 0.5f ? v * 2.0f : 0.0f);
    CHECK_THAT(ya, tensor_near(raw(expected, {6, 7})));

    // p = 0 keeps everything, p = 1 drops everything (no infinity, no NaN).
    tt::Dropout none(0.0f, &g1), every(1.0f, &g1);
    CHECK_THAT(none(x), tensor_equal(x));
    CHECK_THAT(every(x), tensor_equal(raw(std::vector<float>(42, 0.0f), {6, 7})));
}

TEST_CASE("layers: Dropout errors and printing", "[04][layers][dropout][errors]") {
    CHECK_THAT(error_message([] { tt::Dropout(1.5f); }), Contains("Dropout") && Contains("1.5"));
    CHECK_THAT(error_message([] { tt::Dropout(-0.1f); }), Contains("Dropout") && Contains("-0.1"));
    CHECK_THAT(error_message([] { tt::Dropout(std::numeric_limits<float>::quiet_NaN()); }), Contains("Dropout"));
    CHECK(tt::Dropout(0.1f).extra_repr() == "p=0.1");
    CHECK(tt::Dropout().extra_repr() == "p=0.5");
}

// ---------------------------------------------------------------------------------------------
// Flatten and Identity
// ---------------------------------------------------------------------------------------------

TEST_CASE("layers: Flatten and Identity", "[04][layers][flatten]") {
    const tt::Tensor x = iota({2, 3, 4, 5});
    CHECK(tt::Flatten()(x).shape() == tt::Shape{2, 60});
    CHECK(tt::Flatten(0, -1)(x).shape() == tt::Shape{120});
    CHECK(tt::Flatten(1, 2)(x).shape() == tt::Shape{2, 12, 5});
    CHECK(tt::Flatten(-2)(x).shape() == tt::Shape{2, 3, 20});
    CHECK_THAT(tt::Flatten()(x), tensor_equal(iota({2, 60})));
    CHECK(shares_storage(tt::Flatten()(x), x));              // a view of a contiguous input: no copy
    CHECK_THAT(tt::Flatten()(column_major(iota({2, 3}))), tensor_equal(iota({2, 3})));
    CHECK(tt::Flatten().extra_repr() == "start_dim=1, end_dim=-1");

    const tt::Tensor y = random_values({3, 2}, 4);
    CHECK_THAT(tt::Identity()(y), tensor_equal(y));
    CHECK(tt::Identity().to_string() == "Identity()");
    CHECK(tt::Identity().parameter_count() == 0);
}

// ---------------------------------------------------------------------------------------------
// Gradients: every layer is built from recorded ops, so autograd reaches every parameter.
// ---------------------------------------------------------------------------------------------

TEST_CASE("layers: gradient check through Linear (input, weight, bias)", "[04][layers][linear][gradcheck]") {
    tt::Linear linear(3, 2);
    // The checker hands f fresh leaves; f puts them into the layer, as an optimizer's tensors would be.
    auto f = [&](const Inputs& in) {
        linear.weight = in[1];
        linear.bias = in[2];
        return linear(in[0]);
    };
    const tt::Tensor w = random_values({2, 3}, 30), b = random_values({2}, 31);
    for (const tt::Shape& shape : std::vector<tt::Shape>{{3}, {4, 3}, {2, 2, 3}}) {
        INFO("input " << shape_text(shape));
        CHECK(gradient_check(f, {random_values(shape, 32), w, b}));
    }

    tt::Linear no_bias(3, 2, false);
    auto g = [&](const Inputs& in) {
        no_bias.weight = in[1];
        return no_bias(in[0]);
    };
    CHECK(gradient_check(g, {random_values({4, 3}, 33), w}));
}

TEST_CASE("layers: gradient check through Sequential(Linear, Identity, Flatten, Linear)", "[04][layers][sequential][gradcheck]") {
    auto first = std::make_shared<tt::Linear>(4, 3);
    auto second = std::make_shared<tt::Linear>(3, 2);
    tt::Sequential model{first, std::make_shared<tt::Identity>(), second, std::make_shared<tt::Flatten>(0)};
    auto f = [&](const Inputs& in) {
        first->weight = in[1];
        first->bias = in[2];
        second->weight = in[3];
        second->bias = in[4];
        return model(in[0]);
    };
    CHECK(gradient_check(f, {random_values({3, 4}, 40), random_values({3, 4}, 41), random_values({3}, 42),
                             random_values({2, 3}, 43), random_values({2}, 44)}));
}

TEST_CASE("layers: gradient check through Sequential(Linear, Tanh, Linear)", "[04][layers][sequential][gradcheck]") {
    auto first = std::make_shared<tt::Linear>(3, 4);
    auto second = std::make_shared<tt::Linear>(4, 2);
    tt::Sequential model{first, std::make_shared<tt::Tanh>(), second};
    auto f = [&](const Inputs& in) {
        first->weight = in[1];
        first->bias = in[2];
        second->weight = in[3];
        second->bias = in[4];
        return model(in[0]);
    };
    CHECK(gradient_check(f, {random_values({5, 3}, 60), random_values({4, 3}, 61), random_values({4}, 62),
                             random_values({2, 4}, 63), random_values({2}, 64)}));

    // Forward by hand: tanh between the two affine maps.
    const tt::Tensor x = random_values({5, 3}, 65);
    const tt::Tensor hidden = reference_linear(x, first->weight, first->bias);
    const tt::Tensor expected =
        reference_linear(reference_unary(hidden, [](float v) { return std::tanh(v); }), second->weight, second->bias);
    CHECK_THAT(model(x), tensor_near(expected, 1e-5, 1e-4));
}

TEST_CASE("layers: activation modules print and count like layers", "[04][layers][module][print]") {
    tt::Sequential model{std::make_shared<tt::Linear>(2, 4), std::make_shared<tt::Tanh>(), std::make_shared<tt::Linear>(4, 1),
                         std::make_shared<tt::Sigmoid>()};
    CHECK(model.to_string() ==
          "Sequential(\n"
          "  (0): Linear(in_features=2, out_features=4, bias=true)\n"
          "  (1): Tanh()\n"
          "  (2): Linear(in_features=4, out_features=1, bias=true)\n"
          "  (3): Sigmoid()\n"
          ")");
    // The header's example: "0.weight" (4, 2), "0.bias" (4), "2.weight" (1, 4), "2.bias" (1).
    CHECK(names_of(model) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    CHECK(model.parameter_count() == 2 * 4 + 4 + 4 * 1 + 1);
    CHECK(model(random_values({6, 2}, 66)).shape() == tt::Shape{6, 1});
}

TEST_CASE("layers: gradient check through Dropout with a fixed seed", "[04][layers][dropout][gradcheck]") {
    tt::Generator gen(0);
    tt::Dropout dropout(0.4f, &gen);
    auto f = [&](const Inputs& in) {
        gen.manual_seed(17);  // the same mask on every evaluation
        return dropout(in[0]);
    };
    CHECK(gradient_check(f, {random_values({4, 6}, 50)}));

    // The gradient is the mask itself: 0 where dropped, 1 / (1 - p) where kept.
    tt::Tensor x = random_values({4, 6}, 51, 1.0f, 2.0f);
    x.requires_grad_();
    gen.manual_seed(17);
    const tt::Tensor y = dropout(x);
    y.sum().backward();
    const std::vector<float> ys = values_of(y), grads = values_of(x.grad());
    for (size_t i = 0; i < ys.size(); ++i) CHECK(grads[i] == Approx(ys[i] == 0.0f ? 0.0f : 1.0f / 0.6f));

    tt::Dropout every(1.0f, &gen);
    auto h = [&](const Inputs& in) { return every(in[0]); };
    CHECK(gradient_check(h, {random_values({3, 2}, 52)}));
}
