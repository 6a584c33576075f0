// test_autograd_gradcheck.cpp - module 06: tt::gradcheck itself (engine/src/06_autograd/gradcheck.cpp).
// A checker that always says OK is worse than none, so most of these cases feed it a backward
// node that is wrong on purpose and check that it fails, and says where.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/gradcheck.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

using Inputs = std::vector<tt::Tensor>;

// out = 2x, with a backward node chosen by the test: right (2g), wrong (factor), or missing.
struct DoubleBackward : tt::Node {
    explicit DoubleBackward(float factor, bool skip = false) : factor(factor), skip(skip) {}
    const char* name() const override { return "DoubleBackward"; }
    void backward(const tt::Tensor& grad_out) override {
        if (!skip) tt::accumulate_grad(inputs[0], grad_out * factor);
    }
    float factor;
    bool skip;
};

tt::Tensor double_op(const tt::Tensor& x, float backward_factor, bool skip = false) {
    tt::Tensor out;
    {
        tt::NoGradGuard no_grad;
        out = x * 2.0f;
    }
    return tt::record<DoubleBackward>(out, {x}, backward_factor, skip);
}

// out = x reversed along its last dim; the buggy backward forgets to reverse the gradient. A plain
// sum() would hide this (the permuted gradient has the same sum); random weights catch it.
struct FlipBackward : tt::Node {
    const char* name() const override { return "FlipBackward"; }
    void backward(const tt::Tensor& grad_out) override { tt::accumulate_grad(inputs[0], grad_out); }
};

tt::Tensor buggy_flip(const tt::Tensor& x) {
    std::vector<float> values = values_of(x);
    std::reverse(values.begin(), values.end());
    return tt::record<FlipBackward>(raw(values, x.shape()), {x});
}

}  // namespace

TEST_CASE("gradcheck: passes a correct backward", "[06][autograd][gradcheck]") {
    const tt::Tensor a = leaf(random_values({3, 4}, 1)), b = leaf(random_values({4}, 2));
    const tt::GradcheckResult result = tt::gradcheck([](const Inputs& in) { return in[0] * in[1]; }, {a, b});
    INFO(result.message);
    CHECK(result.ok);
    CHECK(static_cast<bool>(result));
    CHECK(result.max_error < 1e-2);
    CHECK_THAT(result.message, Contains("gradcheck OK") && Contains("16 elements"));
    CHECK(tt::gradcheck([](const Inputs& in) { return double_op(in[0], 2.0f); }, {a}).ok);
}

TEST_CASE("gradcheck: accepts correct gradients of inputs and gradients near 1000", "[06][autograd][gradcheck]") {
    // Near x = 1000 a float moves in steps of 6e-5 and x * x ~ 1e6 in steps of 0.06: a fixed step of
    // 1e-3 is lost in rounding. The step scales with |x|, the tolerance with the gradient.
    const tt::Tensor x = leaf(random_values({4, 5}, 21, 900.0f, 1100.0f));
    const tt::Tensor w = leaf(random_values({4, 5}, 22, 900.0f, 1100.0f));
    const tt::GradcheckResult square = tt::gradcheck([](const Inputs& in) { return in[0] * in[0] * 0.5f; }, {x});
    INFO(square.message);
    CHECK(square.ok);
    const tt::GradcheckResult product = tt::gradcheck([](const Inputs& in) { return in[0] * in[1]; }, {x, w});
    INFO(product.message);
    CHECK(product.ok);
    // ...and a gradient 5% off is still caught at that scale
    const tt::GradcheckResult off = tt::gradcheck([](const Inputs& in) { return double_op(in[0], 2.1f); }, {x});
    CHECK_FALSE(off.ok);
}

TEST_CASE("gradcheck: catches a wrong factor and names the worst element", "[06][autograd][gradcheck]") {
    const tt::Tensor x = leaf(random_values({2, 3}, 3));
    const tt::Tensor other = leaf(random_values({2, 3}, 4));
    const tt::GradcheckResult result =
        tt::gradcheck([](const Inputs& in) { return in[0] + double_op(in[1], 3.0f); }, {other, x});
    CHECK_FALSE(result.ok);
    CHECK(result.max_error == Approx(1.0).margin(0.02));  // |3w - 2w| for |w| up to 1
    CHECK_THAT(result.message, Contains("gradcheck FAILED") && Contains("input 1") && Contains("(2, 3)") &&
                                   Contains("analytic") && Contains("numeric") && Contains("element ["));
}

TEST_CASE("gradcheck: catches a permuted gradient and a missing one", "[06][autograd][gradcheck]") {
    const tt::Tensor x = leaf(random_values({5}, 5));
    CHECK_FALSE(tt::gradcheck([](const Inputs& in) { return buggy_flip(in[0]); }, {x}).ok);
    const tt::GradcheckResult missing = tt::gradcheck([](const Inputs& in) { return double_op(in[0], 2.0f, true); }, {x});
    CHECK_FALSE(missing.ok);
    CHECK_THAT(missing.message, Contains("no gradient"));
}

TEST_CASE("gradcheck: leaves inputs and their gradients as they were", "[06][autograd][gradcheck]") {
    tt::Tensor x = leaf(padded(random_values({3, 2}, 6)));  // a non-contiguous leaf is fine
    const std::vector<float> storage_before = x.storage()->data;
    const tt::Tensor old_grad = nested({{1, 2}, {3, 4}, {5, 6}});
    x.set_grad(old_grad);
    CHECK(tt::gradcheck([](const Inputs& in) { return tt::exp(in[0]).sum(1); }, {x}).ok);
    CHECK(x.storage()->data == storage_before);  // bit for bit, gaps included
    CHECK(x.grad().is_same(old_grad));
    CHECK(tt::is_grad_enabled());
}

TEST_CASE("gradcheck: works with grad mode off and with constant inputs", "[06][autograd][gradcheck]") {
    const tt::Tensor x = leaf(random_values({4}, 7));
    const tt::Tensor constant = random_values({4}, 8);  // no requires_grad: not checked
    {
        tt::NoGradGuard no_grad;
        const tt::GradcheckResult result = tt::gradcheck([](const Inputs& in) { return in[0] * in[1]; }, {x, constant});
        INFO(result.message);
        CHECK(result.ok);
        CHECK_THAT(result.message, Contains("1 input(s)") && Contains("4 elements"));
        CHECK_FALSE(tt::is_grad_enabled());  // restored
    }
    // f that ignores its input: the analytic gradient 0 matches.
    CHECK(tt::gradcheck([](const Inputs&) { return tt::ones({2}); }, {x}).ok);
    CHECK(tt::gradcheck([](const Inputs& in) { return tt::sum(in[0]) * 0.0f + tt::scalar(1); }, {x}).ok);
}

TEST_CASE("gradcheck: refuses inputs it cannot check", "[06][autograd][gradcheck]") {
    const tt::Tensor plain = random_values({3}, 9);
    CHECK_THAT(error_message([&] { tt::gradcheck([](const Inputs& in) { return in[0]; }, {plain}); }),
               Contains("gradcheck") && Contains("requires_grad"));
    const tt::Tensor expanded = leaf(strided({1, 2}, {3, 2}, {0, 1}));
    CHECK_THAT(error_message([&] { tt::gradcheck([](const Inputs& in) { return in[0] * 2.0f; }, {expanded}); }),
               Contains("gradcheck") && Contains("(3, 2)") && Contains("expand"));
    const tt::Tensor x = leaf(random_values({3}, 10));
    const tt::Tensor non_leaf = x * 2.0f;
    CHECK_THAT(error_message([&] { tt::gradcheck([](const Inputs& in) { return in[0]; }, {non_leaf}); }),
               Contains("gradcheck") && Contains("leaf"));
}

TEST_CASE("gradcheck: agrees with the graders' independent gradient_check", "[06][autograd][gradcheck]") {
    const tt::Tensor a = random_values({2, 3}, 11), b = random_values({3, 2}, 12);
    const auto f = [](const Inputs& in) { return tt::pow(tt::matmul(in[0], in[1]), 2.0f).mean(0); };
    const GradientCheckResult independent = gradient_check(f, {a, b});
    INFO(independent);
    CHECK(independent.passed);
    CHECK(tt::gradcheck(f, {leaf(raw_copy(a)), leaf(raw_copy(b))}).ok);
    const auto wrong = [](const Inputs& in) { return double_op(in[0], -2.0f); };
    CHECK_FALSE(gradient_check(wrong, {a}).passed);
    CHECK_FALSE(tt::gradcheck(wrong, {leaf(raw_copy(a))}).ok);
}
