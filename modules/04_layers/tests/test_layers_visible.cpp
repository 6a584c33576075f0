// test_layers_visible.cpp - visible tests of module 04 (layers).
//
// `tito test 04` runs these and the hidden tests; hidden tests look like these, with more cases:
// named_parameters of nested models, train/eval and zero_grad reaching every descendant, to_string
// of nested modules, every initialiser (bounds, mean and variance over many draws, fans, seeds),
// Linear on 1-d, 2-d, 3-d and non-contiguous inputs and its errors, Dropout's mask statistics and
// gradient, Flatten, Sequential indexing errors, and gradients reaching every parameter.
//
// The helpers come from the grader's grading.h. They never call your code to get an expected value:
//     nested({{1, 2}, {3, 4}})       a (2, 2) tensor built directly from tt::Storage
//     tensor_equal(t) / tensor_near(t, atol, rtol)   compare shape and every value
//     error_message([&] { ... })     the message of the tt::Error the code throws
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/layers.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

// set_values (grading.h) writes a parameter's values through its storage: an in-place op on a
// tensor that requires grad is refused in grad mode.

TEST_CASE("Linear 2 to 4 has a 4x2 weight a bias of 4 and 12 parameters", "[visible][points=2]") {
    tt::Linear layer(2, 4);
    CHECK(layer.weight.shape() == tt::Shape{4, 2});  // (out_features, in_features), as in PyTorch
    CHECK(layer.bias.shape() == tt::Shape{4});
    CHECK(layer.weight.requires_grad());
    CHECK(layer.parameter_count() == 12);
}

TEST_CASE("Linear forward computes x times W transposed plus b", "[visible][points=2]") {
    tt::Linear layer(3, 2);
    set_values(layer.weight, {1, 2, 3, 4, 5, 6});  // W = [[1, 2, 3], [4, 5, 6]]
    set_values(layer.bias, {0.5f, -1});
    // [1, 0, -1] -> [1*1 + 0*2 - 1*3, 1*4 + 0*5 - 1*6] + b = [-2, -2] + [0.5, -1] = [-1.5, -3]
    CHECK_THAT(layer(nested({{1, 0, -1}, {2, 1, 0}})), tensor_near(nested({{-1.5f, -3}, {4.5f, 12}}), 1e-6, 1e-6));
}

TEST_CASE("named_parameters of a Sequential are prefixed with the child positions", "[visible][points=2]") {
    tt::Sequential model{std::make_shared<tt::Linear>(2, 4), std::make_shared<tt::Tanh>(), std::make_shared<tt::Linear>(4, 1)};
    std::vector<std::string> names;
    for (const auto& [name, tensor] : model.named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    CHECK(model.parameter_count() == 2 * 4 + 4 + 4 * 1 + 1);
}

TEST_CASE("Dropout is the identity in eval mode", "[visible][points=2]") {
    tt::Dropout dropout(0.5f);
    dropout.eval();
    tt::Tensor x = nested({{1, 2, 3}, {4, 5, 6}});
    CHECK_THAT(dropout(x), tensor_equal(nested({{1, 2, 3}, {4, 5, 6}})));
}

TEST_CASE("to_string of a Sequential lists its children", "[visible][points=2]") {
    tt::Sequential model{std::make_shared<tt::Linear>(2, 4), std::make_shared<tt::Tanh>()};
    CHECK(model.to_string() ==
          "Sequential(\n"
          "  (0): Linear(in_features=2, out_features=4, bias=true)\n"
          "  (1): Tanh()\n"
          ")");
}

TEST_CASE("Sequential index past the end is an error", "[visible][points=1]") {
    tt::Sequential model{std::make_shared<tt::Tanh>()};
    CHECK_THAT(error_message([&] { model[1]; }), Contains("Sequential") && Contains("1"));
}
