// test_nodes_losses.cpp - module 06 grader: the backward nodes of module 05's losses
// (nodes_losses.cpp): cross_entropy (each reduction, label smoothing, one example), binary
// cross-entropy on probabilities and on logits (each reduction, extreme inputs), and mse_loss
// (built from module 02 ops, so it checks those nodes working together).
//
// Expected gradients are the formulas evaluated in double in this file:
//     cross_entropy:                     (softmax(x) - q) * g      q = (1 - s) one_hot + s / C
//     binary_cross_entropy:              (p - y) / (p (1 - p)) * g
//     binary_cross_entropy_with_logits:  (sigmoid(x) - y) * g
// with g divided by the number of examples (cross_entropy) or elements (the others) for the mean.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

using Inputs = std::vector<tt::Tensor>;

// Finite differences with respect to input 0 only: class indices and labels are data.
const GradientCheckOptions only_first{.wrt = {0}};

// d loss / d logits for logits (N, C), integer targets (N,), smoothing s, per-example weights
// row_scale[n] (g_n, already divided by N for the mean).
tt::Tensor expected_cross_entropy(const tt::Tensor& logits, const std::vector<int>& targets, double s,
                                  const std::vector<double>& row_scale) {
    const int64_t N = logits.shape()[0], C = logits.shape()[1];
    const std::vector<float> x = values_of(logits);
    std::vector<float> out;
    for (int64_t n = 0; n < N; ++n) {
        double m = x[static_cast<size_t>(n * C)], total = 0.0;
        for (int64_t c = 0; c < C; ++c) m = std::max<double>(m, x[static_cast<size_t>(n * C + c)]);
        for (int64_t c = 0; c < C; ++c) total += std::exp(x[static_cast<size_t>(n * C + c)] - m);
        for (int64_t c = 0; c < C; ++c) {
            const double p = std::exp(x[static_cast<size_t>(n * C + c)] - m) / total;
            const double q = (c == targets[static_cast<size_t>(n)] ? 1.0 - s : 0.0) + s / static_cast<double>(C);
            out.push_back(static_cast<float>((p - q) * row_scale[static_cast<size_t>(n)]));
        }
    }
    return raw(out, logits.shape());
}

tt::Tensor class_indices(const std::vector<int>& targets) {
    std::vector<float> values(targets.begin(), targets.end());
    return raw(values, {static_cast<int64_t>(targets.size())});
}

// Elementwise expected gradient: scale[i] * derivative(input[i], target[i]).
template <class F>
tt::Tensor expected_binary(const tt::Tensor& input, const tt::Tensor& target, const std::vector<double>& scale, F derivative) {
    const std::vector<float> a = values_of(input), y = values_of(target);
    std::vector<float> out;
    for (size_t i = 0; i < a.size(); ++i) out.push_back(static_cast<float>(scale[i] * derivative(a[i], y[i])));
    return raw(out, input.shape());
}

double bce_derivative(double p, double y) { return (p - y) / (p * (1 - p)); }
double bce_logits_derivative(double x, double y) { return 1.0 / (1.0 + std::exp(-x)) - y; }

}  // namespace

TEST_CASE("cross_entropy mean gradient is softmax minus one-hot divided by N", "[points=2]") {
    const tt::Tensor values = nested({{0, 0, 0}, {1, 2, 3}, {-1, 0.5f, 2}, {3, -2, 0}});
    const std::vector<int> targets = {0, 2, 1, 0};
    tt::Tensor logits = leaf(raw_copy(values));
    tt::cross_entropy(logits, class_indices(targets)).backward();
    INFO("row n: (softmax(logits[n]) - one_hot(targets[n])) / N with N = 4 examples");
    CHECK_THAT(logits.grad(), tensor_near(expected_cross_entropy(values, targets, 0.0, {0.25, 0.25, 0.25, 0.25}), 1e-6, 1e-5));
    CHECK(gradient_check([](const Inputs& in) { return tt::cross_entropy(in[0], in[1]); },
                         {random_values({3, 5}, 1, -2.0f, 2.0f), class_indices({4, 0, 2})}, only_first));
}

TEST_CASE("cross_entropy sum and none reductions scale each row by its gradient", "[points=2]") {
    const tt::Tensor values = nested({{0, 0, 0}, {1, 2, 3}, {-1, 0.5f, 2}});
    const std::vector<int> targets = {1, 2, 0};
    {
        tt::Tensor logits = leaf(raw_copy(values));
        tt::cross_entropy(logits, class_indices(targets), tt::Reduction::sum).backward(raw_scalar(2));
        INFO("sum: every row gets g = 2, not divided by N");
        CHECK_THAT(logits.grad(), tensor_near(expected_cross_entropy(values, targets, 0.0, {2, 2, 2}), 1e-6, 1e-5));
    }
    {
        tt::Tensor logits = leaf(raw_copy(values));
        const tt::Tensor loss = tt::cross_entropy(logits, class_indices(targets), tt::Reduction::none);
        REQUIRE(loss.shape() == tt::Shape{3});
        loss.backward(nested({1, -2, 0.5f}));
        INFO("none: row n gets its own g[n]");
        CHECK_THAT(logits.grad(), tensor_near(expected_cross_entropy(values, targets, 0.0, {1, -2, 0.5}), 1e-6, 1e-5));
    }
}

TEST_CASE("cross_entropy with label smoothing subtracts the smoothed target", "[points=1]") {
    const tt::Tensor values = nested({{0, 0, 0, 0}, {1, 2, 3, 4}, {2, -1, 0.5f, 0}});
    const std::vector<int> targets = {3, 0, 2};
    {
        tt::Tensor logits = leaf(raw_copy(values));
        tt::cross_entropy(logits, class_indices(targets), tt::Reduction::mean, 0.2f).backward();
        INFO("q = 0.8 on the target class + 0.2 / 4 on every class; dlogits = (softmax - q) / N");
        const std::vector<double> third(3, 1.0 / 3);
        CHECK_THAT(logits.grad(), tensor_near(expected_cross_entropy(values, targets, 0.2, third), 1e-6, 1e-5));
    }
    {
        tt::Tensor logits = leaf(raw_copy(values));
        tt::cross_entropy(logits, class_indices(targets), tt::Reduction::none, 0.5f).backward(nested({1, 2, -1}));
        CHECK_THAT(logits.grad(), tensor_near(expected_cross_entropy(values, targets, 0.5, {1, 2, -1}), 1e-6, 1e-5));
    }
    CHECK(gradient_check([](const Inputs& in) { return tt::cross_entropy(in[0], in[1], tt::Reduction::sum, 0.1f); },
                         {random_values({2, 4}, 2, -2.0f, 2.0f), class_indices({1, 3})}, only_first));
}

TEST_CASE("cross_entropy of one example with logits of shape C", "[points=1]") {
    tt::Tensor logits = leaf(nested({1, 2, 3}));
    tt::cross_entropy(logits, raw_scalar(1)).backward();
    const tt::Tensor expected = expected_cross_entropy(nested({{1, 2, 3}}), {1}, 0.0, {1.0}).reshape({3});
    CHECK_THAT(logits.grad(), tensor_near(expected, 1e-6, 1e-5));
    {  // a logits tensor that is a transposed view
        INFO("cross_entropy of transposed (3, 4) logits");
        CHECK(gradient_check([](const Inputs& in) { return tt::cross_entropy(in[0].t(), in[1]); },
                             {random_values({4, 3}, 3, -2.0f, 2.0f), class_indices({3, 0, 1})}, only_first));
    }
}

TEST_CASE("binary_cross_entropy gradient for each reduction", "[points=2]") {
    const tt::Tensor p_values = nested({{0.2f, 0.7f, 0.9f}, {0.5f, 0.1f, 0.6f}});
    const tt::Tensor y = nested({{0, 1, 1}, {1, 0, 0.3f}});  // soft labels are allowed
    {
        tt::Tensor p = leaf(raw_copy(p_values));
        tt::binary_cross_entropy(p, y).backward();
        INFO("mean over 6 elements: (p - y) / (p (1 - p)) / 6");
        const std::vector<double> sixth(6, 1.0 / 6);
        CHECK_THAT(p.grad(), tensor_near(expected_binary(p_values, y, sixth, bce_derivative), 1e-5, 1e-5));
    }
    {
        tt::Tensor p = leaf(raw_copy(p_values));
        tt::binary_cross_entropy(p, y, tt::Reduction::sum).backward(raw_scalar(-1.5f));
        CHECK_THAT(p.grad(), tensor_near(expected_binary(p_values, y, std::vector<double>(6, -1.5), bce_derivative), 1e-5, 1e-5));
    }
    {
        tt::Tensor p = leaf(raw_copy(p_values));
        tt::binary_cross_entropy(p, y, tt::Reduction::none).backward(nested({{1, 2, 3}, {-1, 0.5f, 2}}));
        CHECK_THAT(p.grad(), tensor_near(expected_binary(p_values, y, {1, 2, 3, -1, 0.5, 2}, bce_derivative), 1e-5, 1e-5));
        CHECK_FALSE(y.grad().defined());  // targets are data
    }
}

TEST_CASE("binary_cross_entropy_with_logits gradient for each reduction", "[points=2]") {
    const tt::Tensor x_values = nested({{-2, 0, 1.5f}, {3, -0.5f, 0.25f}});
    const tt::Tensor y = nested({{0, 1, 1}, {0, 0.5f, 1}});
    {
        tt::Tensor x = leaf(raw_copy(x_values));
        tt::binary_cross_entropy_with_logits(x, y).backward();
        INFO("mean over 6 elements: (sigmoid(x) - y) / 6");
        const std::vector<double> sixth(6, 1.0 / 6);
        CHECK_THAT(x.grad(), tensor_near(expected_binary(x_values, y, sixth, bce_logits_derivative), 1e-6, 1e-5));
    }
    {
        tt::Tensor x = leaf(raw_copy(x_values));
        tt::binary_cross_entropy_with_logits(x, y, tt::Reduction::sum).backward(raw_scalar(3));
        const std::vector<double> three(6, 3.0);
        CHECK_THAT(x.grad(), tensor_near(expected_binary(x_values, y, three, bce_logits_derivative), 1e-6, 1e-5));
    }
    {
        tt::Tensor x = leaf(raw_copy(x_values));
        tt::binary_cross_entropy_with_logits(x, y, tt::Reduction::none).backward(nested({{1, 2, 3}, {-1, 0.5f, 2}}));
        CHECK_THAT(x.grad(), tensor_near(expected_binary(x_values, y, {1, 2, 3, -1, 0.5, 2}, bce_logits_derivative), 1e-6, 1e-5));
    }
    INFO("binary_cross_entropy_with_logits of a transposed view, mean");
    CHECK(gradient_check([](const Inputs& in) { return tt::binary_cross_entropy_with_logits(in[0].t(), in[1]); },
                         {random_values({3, 2}, 4, -3.0f, 3.0f), random_values({2, 3}, 5, 0.0f, 1.0f)}, only_first));
}

TEST_CASE("binary cross-entropy gradients stay finite at extreme inputs", "[points=1]") {
    {  // logits +-1000: sigmoid is exactly 0 or 1, the gradient sigmoid - y is exact
        tt::Tensor x = leaf(nested({-1000, 1000, -1000, 1000}));
        tt::binary_cross_entropy_with_logits(x, nested({0, 1, 1, 0}), tt::Reduction::sum).backward();
        CHECK_THAT(x.grad(), tensor_near(nested({0, 0, -1, 1})));
    }
    {  // probabilities 0 and 1: (p - y) / p (1 - p) has 0 in the denominator; it must stay finite
        tt::Tensor p = leaf(nested({0, 1, 0.5f}));
        tt::binary_cross_entropy(p, nested({1, 0, 1}), tt::Reduction::sum).backward();
        const std::vector<float> grad = values_of(p.grad());
        INFO("gradient " << describe_tensor(p.grad()) << ": p = 0 with y = 1 and p = 1 with y = 0 must give huge finite values");
        CHECK(std::isfinite(grad[0]));
        CHECK(grad[0] < -1e6f);
        CHECK(std::isfinite(grad[1]));
        CHECK(grad[1] > 1e6f);
        CHECK(grad[2] == Approx(-2.0f));
    }
}

TEST_CASE("mse_loss gradient is 2 (input - target) divided by n", "[points=1]") {
    tt::Tensor input = leaf(nested({{1, 2}, {3, 4}}));
    const tt::Tensor target = nested({{0, 2}, {5, 3.5f}});
    tt::mse_loss(input, target).backward();
    CHECK_THAT(input.grad(), tensor_near(nested({{0.5f, 0}, {-1, 0.25f}})));
    tt::Tensor summed = leaf(nested({{1, 2}, {3, 4}}));
    tt::mse_loss(summed, target, tt::Reduction::sum).backward();
    CHECK_THAT(summed.grad(), tensor_near(nested({{2, 0}, {-4, 1}})));
}
