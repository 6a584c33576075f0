// test_gradcheck.cpp - module 06 grader: tt::gradcheck itself (gradcheck.cpp).
//
// A checker that always answers OK is worse than none, so most cases here feed it an op whose
// backward node is wrong on purpose - defined below, recorded with record<> - and check that it
// fails and says where. The correct ops it must accept are test-local ops with known-correct nodes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/gradcheck.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

using Inputs = std::vector<tt::Tensor>;

// An op defined by the test: `forward` runs without recording anything, and the node's backward
// is `backward(g, inputs)`. The ops below only use your accumulate_grad and Tensor::backward, so
// these tests grade gradcheck.cpp, not your nodes.
using BackwardFunction = std::function<void(const tt::Tensor& g, const std::vector<tt::Tensor>& inputs)>;

struct TestBackward : tt::Node {
    explicit TestBackward(BackwardFunction run) : run(std::move(run)) {}
    const char* name() const override { return "TestBackward"; }
    void backward(const tt::Tensor& grad_out) override { run(grad_out, inputs); }
    BackwardFunction run;
};

tt::Tensor test_op(std::initializer_list<tt::Tensor> inputs, const std::function<tt::Tensor()>& forward,
                   BackwardFunction backward) {
    tt::Tensor out;
    {
        tt::NoGradGuard no_grad;
        out = forward();
    }
    return tt::record<TestBackward>(out, inputs, std::move(backward));
}

// out = a * b (broadcast), correct: da = g * b, db = g * a.
tt::Tensor product(const tt::Tensor& a, const tt::Tensor& b) {
    return test_op({a, b}, [&] { return a * b; }, [](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
        tt::accumulate_grad(in[0], g * in[1]);
        tt::accumulate_grad(in[1], g * in[0]);
    });
}

// out = a @ b, correct: da = g @ b^T, db = a^T @ g.
tt::Tensor matrix_product(const tt::Tensor& a, const tt::Tensor& b) {
    return test_op({a, b}, [&] { return tt::matmul(a, b); }, [](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
        tt::accumulate_grad(in[0], tt::matmul(g, in[1].t()));
        tt::accumulate_grad(in[1], tt::matmul(in[0].t(), g));
    });
}

// out = sum(e^x), a 0-d output, correct: dx = g e^x.
tt::Tensor sum_of_exp(const tt::Tensor& x) {
    return test_op({x}, [&] { return tt::sum(tt::exp(x)); },
                   [](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
                       tt::accumulate_grad(in[0], g * tt::exp(in[0]));
                   });
}

// out = e^x, correct: dx = g e^x.
tt::Tensor exponential(const tt::Tensor& x) {
    return test_op({x}, [&] { return tt::exp(x); },
                   [](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
                       tt::accumulate_grad(in[0], g * tt::exp(in[0]));
                   });
}

// out = 2a + 2b (broadcast); the backward sends factor_a * g and factor_b * g (right when both are 2).
tt::Tensor doubled_sum(const tt::Tensor& a, const tt::Tensor& b, float factor_a, float factor_b) {
    return test_op({a, b}, [&] { return a * 2.0f + b * 2.0f; }, [=](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
        tt::accumulate_grad(in[0], g * factor_a);
        tt::accumulate_grad(in[1], g * factor_b);
    });
}

// out = x^3, correct: dx = 3 x^2 g. Its central difference is off by eps^2 (the x^3 term's
// third derivative), so a huge eps makes a correct gradient look wrong.
tt::Tensor cube(const tt::Tensor& x) {
    return test_op({x}, [&] { return x * x * x; },
                   [](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
                       tt::accumulate_grad(in[0], g * in[0] * in[0] * 3.0f);
                   });
}

// out = x^2 / 2, correct: dx = g x. Near x = 1000 both the values (5e5) and the gradients (1000) are
// large.
tt::Tensor half_square(const tt::Tensor& x) {
    return test_op({x}, [&] { return x * x * 0.5f; },
                   [](const tt::Tensor& g, const std::vector<tt::Tensor>& in) { tt::accumulate_grad(in[0], g * in[0]); });
}

// out = 2x; the backward sends factor * g (right when factor is 2), or nothing at all.
tt::Tensor doubled(const tt::Tensor& x, float factor, bool silent = false) {
    return test_op({x}, [&] { return x * 2.0f; }, [=](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
        if (!silent) tt::accumulate_grad(in[0], g * factor);
    });
}

// out = x reversed (row-major order); the buggy backward forgets to reverse the gradient back.
// Its gradient has the right values in the wrong places: sum(f) cannot see that, sum(f * W) can.
tt::Tensor buggy_reverse(const tt::Tensor& x) {
    return test_op({x}, [&] {
        std::vector<float> values = values_of(x);
        std::reverse(values.begin(), values.end());
        return raw(values, x.shape());
    }, [](const tt::Tensor& g, const std::vector<tt::Tensor>& in) { tt::accumulate_grad(in[0], g); });
}

// out = a * b with a backward that is right except for one element of da: [row, column] of a
// (2-d) gets 1 too much - the kind of off-by-one a hand-written kernel makes.
tt::Tensor product_with_one_wrong_element(const tt::Tensor& a, const tt::Tensor& b, int64_t row, int64_t column) {
    return test_op({a, b}, [&] { return a * b; }, [=](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
        tt::Tensor da = raw_copy(g * in[1]);
        da.storage()->data[static_cast<size_t>(row * da.shape()[1] + column)] += 1.0f;
        tt::accumulate_grad(in[0], da);
        tt::accumulate_grad(in[1], g * in[0]);
    });
}

// out = a * b whose backward sends each input the other's gradient (da = g * a, db = g * b).
tt::Tensor swapped_product(const tt::Tensor& a, const tt::Tensor& b) {
    return test_op({a, b}, [&] { return a * b; }, [](const tt::Tensor& g, const std::vector<tt::Tensor>& in) {
        tt::accumulate_grad(in[0], g * in[0]);
        tt::accumulate_grad(in[1], g * in[1]);
    });
}

}  // namespace

TEST_CASE("gradcheck accepts correct gradients and reports OK", "[points=2]") {
    const tt::Tensor a = leaf(random_values({3, 4}, 1)), b = leaf(random_values({4}, 2));
    const tt::Tensor x = leaf(random_values({2, 3}, 3)), y = leaf(random_values({3, 2}, 4));
    {
        const tt::GradcheckResult broadcast = tt::gradcheck([](const Inputs& in) { return product(in[0], in[1]); }, {a, b});
        INFO("a * b with b broadcast: " << broadcast.message);
        CHECK(broadcast.ok);
        CHECK(static_cast<bool>(broadcast));
        CHECK(broadcast.max_error < 1e-2);
        CHECK_THAT(broadcast.message, Contains("OK"));
    }
    {
        const tt::GradcheckResult matrices = tt::gradcheck([](const Inputs& in) { return matrix_product(in[0], in[1]); }, {x, y});
        INFO("x @ y: " << matrices.message);
        CHECK(matrices.ok);
    }
    {
        const tt::GradcheckResult scalar_output = tt::gradcheck([](const Inputs& in) { return sum_of_exp(in[0]); }, {x});
        INFO("sum(exp(x)), a 0-d output: " << scalar_output.message);
        CHECK(scalar_output.ok);
    }
    {
        const tt::GradcheckResult doubling = tt::gradcheck([](const Inputs& in) { return doubled(in[0], 2.0f); }, {a});
        INFO("2x: " << doubling.message);
        CHECK(doubling.ok);
    }
}

TEST_CASE("gradcheck accepts correct gradients of size 1000 at inputs near 1000", "[points=2]") {
    INFO("near x = 1000 a float has a resolution of 6e-5 and x^2 / 2 ~ 5e5 one of 0.03: with a fixed step of 1e-3 the "
         "difference L(x + h) - L(x - h) is mostly rounding noise. Move each element by eps * max(1, |x|), and "
         "accept |analytic - numeric| <= atol + rtol * |numeric| (a gradient of 1000 cannot be checked to 0.01)");
    const tt::Tensor x = leaf(random_values({5, 6}, 19, 900.0f, 1100.0f));
    const tt::Tensor w = leaf(random_values({5, 6}, 20, -1100.0f, -900.0f));
    const tt::GradcheckResult square = tt::gradcheck([](const Inputs& in) { return half_square(in[0]); }, {x});
    INFO("x^2 / 2: " << square.message);
    CHECK(square.ok);
    const tt::GradcheckResult products = tt::gradcheck([](const Inputs& in) { return product(in[0], in[1]); }, {x, w});
    INFO("x * w: " << products.message);
    CHECK(products.ok);
    const tt::GradcheckResult cubes = tt::gradcheck([](const Inputs& in) { return cube(in[0]); },
                                                    {leaf(random_values({3, 4}, 23, 20.0f, 40.0f))});
    INFO("x^3 at x near 30 (gradients near 3000): " << cubes.message);
    CHECK(cubes.ok);
    INFO("and a gradient 5% off is still caught at that scale");
    CHECK_FALSE(tt::gradcheck([](const Inputs& in) { return doubled(in[0], 2.1f); }, {x}).ok);
}

TEST_CASE("gradcheck rejects a gradient off by a factor and names the input", "[points=2]") {
    const tt::Tensor first = leaf(random_values({4}, 5));
    const tt::Tensor second = leaf(random_values({3, 4}, 6));
    // out = 2a + 2b: input 0 gets the right 2g, input 1 gets 3g instead of 2g
    const tt::GradcheckResult result =
        tt::gradcheck([](const Inputs& in) { return doubled_sum(in[0], in[1], 2.0f, 3.0f); }, {first, second});
    INFO(result.message);
    CHECK_FALSE(result.ok);
    CHECK_FALSE(static_cast<bool>(result));
    CHECK(result.max_error > 0.1);
    INFO("the message must name the wrong input (input 1), its shape and both values");
    CHECK_THAT(result.message, Contains("input 1") && Contains("(3, 4)"));
    CHECK_THAT(result.message, Contains("analytic") && Contains("numeric"));
    const tt::GradcheckResult first_wrong =
        tt::gradcheck([](const Inputs& in) { return doubled_sum(in[0], in[1], -2.0f, 2.0f); }, {first, second});
    INFO(first_wrong.message);
    CHECK_FALSE(first_wrong.ok);
    CHECK_THAT(first_wrong.message, Contains("input 0") && Contains("(4)"));
}

TEST_CASE("gradcheck names the one element whose gradient is wrong", "[points=1]") {
    const tt::Tensor a = leaf(random_values({3, 4}, 7)), b = leaf(random_values({3, 4}, 8));
    const tt::GradcheckResult result =
        tt::gradcheck([](const Inputs& in) { return product_with_one_wrong_element(in[0], in[1], 2, 1); }, {a, b});
    INFO(result.message);
    CHECK_FALSE(result.ok);
    INFO("only element [2, 1] of input 0 is wrong: the message must name input 0 and that element");
    CHECK_THAT(result.message, Contains("input 0") && Contains("2, 1"));
    CHECK(result.max_error == Approx(1.0).margin(0.05));
    const tt::GradcheckResult last =
        tt::gradcheck([](const Inputs& in) { return product_with_one_wrong_element(in[0], in[1], 2, 3); }, {a, b});
    INFO(last.message);
    CHECK_FALSE(last.ok);  // the very last element is checked too
    CHECK_THAT(last.message, Contains("2, 3"));
}

TEST_CASE("gradcheck rejects a gradient that is right only up to a permutation", "[points=1]") {
    const tt::Tensor x = leaf(random_values({6}, 9));
    const tt::GradcheckResult result = tt::gradcheck([](const Inputs& in) { return buggy_reverse(in[0]); }, {x});
    INFO("L = sum(f(x)) would accept it: each output depends on one input with derivative 1, only the positions differ. "
         "gradcheck must weight the outputs (L = sum(f(x) * W), W random): " << result.message);
    CHECK_FALSE(result.ok);
}

TEST_CASE("gradcheck rejects a missing gradient and gradients sent to the wrong input", "[points=1]") {
    const tt::Tensor x = leaf(random_values({4}, 10));
    const tt::GradcheckResult missing = tt::gradcheck([](const Inputs& in) { return doubled(in[0], 2.0f, true); }, {x});
    INFO(missing.message);
    CHECK_FALSE(missing.ok);
    const tt::Tensor a = leaf(random_values({2, 2}, 11)), b = leaf(random_values({2, 2}, 12));
    const tt::GradcheckResult swapped = tt::gradcheck([](const Inputs& in) { return swapped_product(in[0], in[1]); }, {a, b});
    INFO(swapped.message);
    CHECK_FALSE(swapped.ok);
}

TEST_CASE("gradcheck uses the eps and the tolerances it is given", "[points=1]") {
    const tt::Tensor x = leaf(random_values({3, 4}, 13));
    const auto ten_percent_off = [](const Inputs& in) { return doubled(in[0], 2.2f); };  // 2.2 g instead of 2 g
    const tt::GradcheckResult strict = tt::gradcheck(ten_percent_off, {x});
    INFO("default tolerances (atol = rtol = 1e-2): " << strict.message);
    CHECK_FALSE(strict.ok);
    tt::GradcheckOptions loose;
    loose.atol = 0.5f;
    loose.rtol = 0.5f;
    const tt::GradcheckResult lenient = tt::gradcheck(ten_percent_off, {x}, loose);
    INFO("atol = rtol = 0.5: " << lenient.message);
    CHECK(lenient.ok);
    const tt::Tensor y = leaf(random_values({2, 3}, 18, 1.0f, 2.0f));
    const tt::GradcheckResult fine_step = tt::gradcheck([](const Inputs& in) { return cube(in[0]); }, {y});
    INFO("x^3 with the default eps: " << fine_step.message);
    CHECK(fine_step.ok);
    tt::GradcheckOptions coarse;
    coarse.eps = 0.5f;  // (L(x + eps) - L(x - eps)) / 2 eps = 3x^2 + eps^2 for x^3: 0.25 off
    const tt::GradcheckResult coarse_step = tt::gradcheck([](const Inputs& in) { return cube(in[0]); }, {y}, coarse);
    INFO("x^3 with eps = 0.5: " << coarse_step.message);
    CHECK_FALSE(coarse_step.ok);
}

TEST_CASE("gradcheck restores the inputs and their gradients and the grad mode", "[points=2]") {
    tt::Tensor x = leaf(padded(random_values({3, 2}, 14)));  // a non-contiguous leaf: gaps and an offset
    const std::vector<float> storage_before = x.storage()->data;
    const tt::Tensor old_grad = nested({{1, 2}, {3, 4}, {5, 6}});
    x.set_grad(old_grad);
    const tt::GradcheckResult result = tt::gradcheck([](const Inputs& in) { return exponential(in[0]); }, {x});
    INFO(result.message);
    CHECK(result.ok);
    INFO("every perturbed float must be put back exactly, gaps of the storage included");
    CHECK(x.storage()->data == storage_before);
    CHECK(x.grad().defined());
    CHECK(x.grad().is_same(old_grad));
    CHECK(tt::is_grad_enabled());
    {  // called with grad mode off: it still checks, and leaves the mode off
        tt::NoGradGuard no_grad;
        const tt::Tensor y = leaf(random_values({4}, 15));
        const tt::Tensor constant = random_values({4}, 16);  // does not require grad: not checked
        const tt::GradcheckResult off = tt::gradcheck([](const Inputs& in) { return product(in[0], in[1]); }, {y, constant});
        INFO(off.message);
        CHECK(off.ok);
        CHECK_FALSE(constant.grad().defined());
        CHECK_FALSE(tt::is_grad_enabled());
        const tt::GradcheckResult wrong = tt::gradcheck([](const Inputs& in) { return doubled(in[0], -2.0f); }, {y});
        CHECK_FALSE(wrong.ok);
    }
}

TEST_CASE("gradcheck refuses inputs it cannot check", "[points=1]") {
    const tt::Tensor plain = random_values({3}, 17);
    INFO("each error must be a tt::Error naming gradcheck");
    CHECK_THAT(error_message([&] { tt::gradcheck([](const Inputs& in) { return doubled(in[0], 2.0f); }, {plain}); }),
               Contains("gradcheck"));
    const tt::Tensor expanded = leaf(strided({1, 2}, {3, 2}, {0, 1}));  // perturbing one float moves 3 elements
    CHECK_THAT(error_message([&] { tt::gradcheck([](const Inputs& in) { return doubled(in[0], 2.0f); }, {expanded}); }),
               Contains("gradcheck"));
}
