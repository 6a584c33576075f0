// test_transformer_layer_norm.cpp - engine tests of module 14's layer_norm and LayerNorm.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "../../graders/14_transformers/pytorch_values.h"
#include "../../graders/14_transformers/transformer_reference.h"
#include "engine_testing.h"
#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/transformer.h"

using namespace tt::testing;
using Catch::Contains;
namespace ref = transformer_reference;
namespace torch_values = pytorch_values;

namespace {

// The inputs of make_expected.py's layer_norm case.
tt::Tensor sine_input() {
    std::vector<double> x;
    for (int i = 0; i < 24; ++i) x.push_back(2 * std::sin(0.9 * i + 0.2) + 0.1 * i);
    return ref::as_tensor(x, {2, 3, 4});
}
tt::Tensor sine_weight() { return ref::as_tensor({1, 1 + 0.5 * std::sin(1.1), 1 + 0.5 * std::sin(2.2), 1 + 0.5 * std::sin(3.3)}, {4}); }
tt::Tensor sine_bias() { return ref::as_tensor({0.3, 0.3 * std::cos(0.7), 0.3 * std::cos(1.4), 0.3 * std::cos(2.1)}, {4}); }
tt::Tensor sine_upstream() {
    std::vector<double> g;
    for (int i = 0; i < 24; ++i) g.push_back(std::cos(0.5 * i + 0.1));
    return ref::as_tensor(g, {2, 3, 4});
}

}  // namespace

TEST_CASE("transformers: layer_norm of one row by hand", "[14][transformers][layer_norm]") {
    // {1, 2, 3, 4}: mean 2.5, biased variance 1.25; {0, 2} with eps 0: mean 1, variance 1
    const float s = 1.0f / std::sqrt(1.25f + 1e-5f);
    CHECK_THAT(tt::layer_norm(nested({1, 2, 3, 4}), tt::Tensor(), tt::Tensor()),
               tensor_near(nested({-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s})));
    // rows {0, 2} and {7, 5} normalise to {-1, 1} and {1, -1}; then * (2, 3) + (1, -1)
    CHECK_THAT(tt::layer_norm(nested({{0, 2}, {7, 5}}), nested({2, 3}), nested({1, -1}), 0.0f),
               tensor_near(nested({{-1, 2}, {3, -4}}), 1e-6, 1e-6));
}

TEST_CASE("transformers: layer_norm against PyTorch, values and gradients", "[14][transformers][layer_norm][pytorch]") {
    tt::Tensor x = leaf(sine_input());
    tt::Tensor w = leaf(sine_weight());
    tt::Tensor b = leaf(sine_bias());
    const tt::Tensor y = tt::layer_norm(x, w, b);
    CHECK(std::string(y.grad_fn()->name()) == "LayerNormBackward");  // one fused node, not a chain of nine
    CHECK_THAT(y, tensor_near(ref::as_tensor(torch_values::layer_norm_y, {2, 3, 4}), 1e-5, 1e-5));
    y.backward(sine_upstream());
    CHECK_THAT(x.grad(), tensor_near(ref::as_tensor(torch_values::layer_norm_dx, {2, 3, 4}), 1e-5, 1e-4));
    CHECK_THAT(w.grad(), tensor_near(ref::as_tensor(torch_values::layer_norm_dweight, {4}), 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(ref::as_tensor(torch_values::layer_norm_dbias, {4}), 1e-5, 1e-5));

    tt::Tensor x2 = leaf(sine_input());
    const tt::Tensor plain = tt::layer_norm(x2, tt::Tensor(), tt::Tensor());
    CHECK_THAT(plain, tensor_near(ref::as_tensor(torch_values::layer_norm_plain_y, {2, 3, 4}), 1e-5, 1e-5));
    plain.backward(sine_upstream());
    CHECK_THAT(x2.grad(), tensor_near(ref::as_tensor(torch_values::layer_norm_plain_dx, {2, 3, 4}), 1e-5, 1e-4));
}

TEST_CASE("transformers: layer_norm is stable far from zero and reads any layout", "[14][transformers][layer_norm]") {
    // Rows around 1e4 with unit spread: E[x^2] - mean^2 in float would lose every digit.
    const tt::Tensor base = random_values({6, 16}, 3, -1.0f, 1.0f);
    const tt::Tensor far = reference_unary(base, [](float v) { return v + 10000.0f; });
    const ref::Values expected = ref::layer_norm(ref::as_values(far), 16, {}, {});
    CHECK_THAT(tt::layer_norm(far, tt::Tensor(), tt::Tensor()), tensor_near(ref::as_tensor(expected, {6, 16}), 2e-3, 2e-3));
    const tt::Tensor x = random_values({3, 5, 7}, 4, -2.0f, 3.0f);
    const ref::Values want = ref::layer_norm(ref::as_values(x), 7, {}, {});
    CHECK_THAT(tt::layer_norm(padded(x), tt::Tensor(), tt::Tensor()), tensor_near(ref::as_tensor(want, {3, 5, 7}), 1e-5, 1e-5));
    CHECK_THAT(tt::layer_norm(column_major(x), tt::Tensor(), tt::Tensor()),
               tensor_near(ref::as_tensor(want, {3, 5, 7}), 1e-5, 1e-5));
}

TEST_CASE("transformers: layer_norm gradients pass gradcheck", "[14][transformers][layer_norm][backward]") {
    const tt::Tensor x2 = leaf(random_values({4, 6}, 11, -2.0f, 2.0f));
    const tt::Tensor x3 = leaf(random_values({2, 3, 5}, 12, -2.0f, 2.0f));
    const tt::Tensor w = leaf(random_values({6}, 13, 0.5f, 1.5f)), b = leaf(random_values({6}, 14));
    const tt::Tensor w5 = leaf(random_values({5}, 15, 0.5f, 1.5f)), b5 = leaf(random_values({5}, 16));
    check_gradients("2-D with weight and bias", [](const Inputs& in) { return tt::layer_norm(in[0], in[1], in[2]); }, {x2, w, b});
    check_gradients("3-D with weight and bias", [](const Inputs& in) { return tt::layer_norm(in[0], in[1], in[2]); }, {x3, w5, b5});
    check_gradients("2-D plain", [](const Inputs& in) { return tt::layer_norm(in[0], tt::Tensor(), tt::Tensor()); }, {x2});
    check_gradients("3-D plain", [](const Inputs& in) { return tt::layer_norm(in[0], tt::Tensor(), tt::Tensor()); }, {x3});
    check_gradients("weight only", [](const Inputs& in) { return tt::layer_norm(in[0], in[1], tt::Tensor()); }, {x3, w5});
    check_gradients("bias only", [](const Inputs& in) { return tt::layer_norm(in[0], tt::Tensor(), in[1]); }, {x3, b5});
}

TEST_CASE("transformers: layer_norm errors name the op and the shapes", "[14][transformers][layer_norm][errors]") {
    const tt::Tensor x = random_values({2, 4}, 1);
    CHECK_THAT(error_message([&] { tt::layer_norm(x, random_values({3}, 2), tt::Tensor()); }),
               Contains("layer_norm") && Contains("weight") && Contains("(3)") && Contains("(2, 4)"));
    CHECK_THAT(error_message([&] { tt::layer_norm(x, tt::Tensor(), random_values({2, 4}, 2)); }),
               Contains("layer_norm") && Contains("bias") && Contains("(2, 4)"));
    CHECK_THAT(error_message([&] { tt::layer_norm(raw({}, {3, 0}), tt::Tensor(), tt::Tensor()); }),
               Contains("layer_norm") && Contains("(3, 0)"));
    CHECK_THAT(error_message([&] { tt::layer_norm(raw_scalar(1), tt::Tensor(), tt::Tensor()); }), Contains("layer_norm"));
}

TEST_CASE("transformers: the LayerNorm layer", "[14][transformers][layer_norm]") {
    tt::LayerNorm norm(4);
    const auto params = norm.named_parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].first == "weight");
    CHECK(params[1].first == "bias");
    CHECK_THAT(norm.weight, tensor_equal(nested({1, 1, 1, 1})));
    CHECK_THAT(norm.bias, tensor_equal(nested({0, 0, 0, 0})));
    CHECK(norm.to_string() == "LayerNorm(4, eps=1e-05, bias=true)");
    tt::LayerNorm no_bias(3, 1e-6f, false);
    CHECK(no_bias.named_parameters().size() == 1);
    CHECK_FALSE(no_bias.bias.defined());
    CHECK(no_bias.extra_repr() == "3, eps=1e-06, bias=false");
    const tt::Tensor x = random_values({2, 3, 4}, 7);
    CHECK_THAT(norm(x), tensor_near(ref::as_tensor(ref::layer_norm(ref::as_values(x), 4, {}, {}), {2, 3, 4})));
    CHECK_THAT(error_message([&] { norm(random_values({2, 5}, 1)); }), Contains("LayerNorm(4") && Contains("(2, 5)"));
    CHECK_THAT(error_message([] { tt::LayerNorm bad(0); }), Contains("LayerNorm") && Contains("0"));
}
