// test_autograd_visible.cpp - visible tests of module 06 (autograd).
//
// `tito test 06` runs these and the hidden tests; hidden tests look like these, with more cases
// (every node of modules 02, 03 and 05, broadcasting, non-contiguous inputs, the walk over
// diamond-shaped graphs, retain_grad, errors, and gradcheck fed deliberately wrong nodes).
//
// Expected gradients never come from your code: they are worked out by hand in the comments, or
// come from grading.h's gradient_check, which compares backward() with finite differences of the
// forward ops:
//     CHECK(gradient_check([](const auto& in) { return tt::exp(in[0]); }, {x}));
// A failed gradient_check prints, per input, the worst element: what backward() gave and what
// finite differences gave. Other helpers: nested({{1, 2}, {3, 4}}) builds a tensor without your
// code, tensor_equal / tensor_near compare shape and every value, error_message([&] { ... })
// returns the message of the tt::Error the code throws.
#include <catch2/catch.hpp>

#include <vector>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/gradcheck.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("x times x summed gives the gradient 2x", "[visible][points=2]") {
    tt::Tensor x = nested({1, -2, 3}).requires_grad_();
    tt::Tensor loss = (x * x).sum();  // () a 0-d tensor: backward() starts from d(loss)/d(loss) = 1
    loss.backward();
    // x is used twice by the multiplication: MulBackward sends g * x to its first input and g * x
    // to its second, both x. accumulate_grad adds the second to the first.
    CHECK_THAT(x.grad(), tensor_equal(nested({2, -4, 6})));
}

TEST_CASE("sum_to_shape sums a broadcast gradient back to the input's shape", "[visible][points=2]") {
    const tt::Tensor g = nested({{1, 2, 3}, {4, 5, 6}});          // (2, 3)
    CHECK_THAT(tt::sum_to_shape(g, {3}), tensor_equal(nested({5, 7, 9})));          // leading dim summed away
    CHECK_THAT(tt::sum_to_shape(g, {2, 1}), tensor_equal(nested({{6}, {15}})));     // size-1 dim kept, size 1
    CHECK_THAT(tt::sum_to_shape(g, {}), tensor_equal(raw_scalar(21)));              // 0-d: everything
}

TEST_CASE("a bias broadcast over a batch gets the sum of the gradient over the batch", "[visible][points=2]") {
    tt::Tensor x = nested({{1, 2, 3}, {4, 5, 6}}).requires_grad_();  // (2, 3): a batch of 2 rows
    tt::Tensor bias = nested({10, 20, 30}).requires_grad_();         // (3,): added to every row
    (x + bias).backward(nested({{1, 1, 1}, {2, 2, 2}}));
    CHECK_THAT(x.grad(), tensor_equal(nested({{1, 1, 1}, {2, 2, 2}})));
    CHECK_THAT(bias.grad(), tensor_equal(nested({3, 3, 3})));  // 1 + 2 for every column
}

TEST_CASE("backward of a tensor with several elements needs a gradient", "[visible][points=1]") {
    tt::Tensor x = nested({{1, 2, 3}, {4, 5, 6}}).requires_grad_();
    const tt::Tensor y = x * 2.0f;  // (2, 3): which gradient to start from is ambiguous
    CHECK_THAT(error_message([&] { y.backward(); }), Contains("backward") && Contains("(2, 3)"));
}

TEST_CASE("matmul gradients of a 2x3 and a 3x2 matrix", "[visible][points=2]") {
    tt::Tensor a = nested({{1, 2, 3}, {4, 5, 6}}).requires_grad_();    // (2, 3)
    tt::Tensor b = nested({{1, 0}, {2, 1}, {0, 3}}).requires_grad_();  // (3, 2)
    tt::matmul(a, b).sum().backward();                                 // g = ones (2, 2)
    CHECK_THAT(a.grad(), tensor_equal(nested({{1, 3, 3}, {1, 3, 3}})));     // g @ b^T: row sums of b
    CHECK_THAT(b.grad(), tensor_equal(nested({{5, 5}, {7, 7}, {9, 9}})));   // a^T @ g: column sums of a
}

TEST_CASE("relu passes the gradient only where its input was positive", "[visible][points=2]") {
    tt::Tensor x = nested({-2, -0.5f, 0.5f, 3}).requires_grad_();
    tt::relu(x).backward(nested({1, 2, 3, 4}));
    CHECK_THAT(x.grad(), tensor_equal(nested({0, 0, 3, 4})));
}

TEST_CASE("exp and log of a transposed input match finite differences", "[visible][points=2]") {
    const tt::Tensor x = random_values({2, 3}, 1, 0.5f, 2.0f);
    CHECK(gradient_check([](const std::vector<tt::Tensor>& in) { return tt::log(tt::exp(in[0].t()) + in[0].t()); }, {x}));
}

TEST_CASE("gradcheck rejects a backward that is off by a factor", "[visible][points=2]") {
    // out = 2x, recorded with a node whose backward sends 3g instead of 2g.
    struct WrongDoubleBackward : tt::Node {
        const char* name() const override { return "WrongDoubleBackward"; }
        void backward(const tt::Tensor& grad_out) override { tt::accumulate_grad(inputs[0], grad_out * 3.0f); }
    };
    const auto wrong_double = [](const std::vector<tt::Tensor>& in) {
        tt::Tensor out;
        {
            tt::NoGradGuard no_grad;
            out = in[0] * 2.0f;
        }
        return tt::record<WrongDoubleBackward>(out, {in[0]});
    };
    tt::Tensor x = random_values({2, 3}, 2).requires_grad_();
    const tt::GradcheckResult result = tt::gradcheck(wrong_double, {x});
    INFO(result.message);
    CHECK_FALSE(result.ok);
    CHECK_THAT(result.message, Contains("input 0") && Contains("(2, 3)"));
}
