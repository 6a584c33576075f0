// test_composite.cpp - module 06 grader: whole models. One backward() through layers (module 04),
// activations (03) and a loss (05) must give every parameter the gradient that finite differences
// of the loss give: nudge one weight by +-h in place, run the forward again, and compare
// (L(w + h) - L(w - h)) / 2h with w.grad().
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

// Compares each parameter's .grad() (after one backward of loss()) with central differences of
// loss() in that parameter. Returns "" when every element agrees, else a description of the
// worst element of each parameter that does not.
std::string compare_with_finite_differences(const std::vector<std::pair<std::string, tt::Tensor>>& parameters,
                                            const std::function<tt::Tensor()>& loss, double step = 1e-3, double atol = 2e-3,
                                            double rtol = 2e-2) {
    std::ostringstream problems;
    for (const auto& [name, parameter] : parameters) {
        const tt::Tensor grad = parameter.grad();
        if (!grad.defined() || grad.shape() != parameter.shape()) {
            problems << name << " " << shape_text(parameter.shape()) << ": "
                     << (grad.defined() ? "gradient of shape " + shape_text(grad.shape()) : std::string("no gradient")) << "\n";
            continue;
        }
        const std::vector<float> analytic = values_of(grad);
        std::vector<float>& data = parameter.storage()->data;
        double worst_excess = 0.0;
        std::string worst;
        for (int64_t i = 0; i < count_of(parameter.shape()); ++i) {
            const std::vector<int64_t> index = unravel(i, parameter.shape());
            const auto position = static_cast<size_t>(storage_index(parameter, index));
            const float original = data[position];
            const float up = static_cast<float>(original + step), down = static_cast<float>(original - step);
            double plus = 0.0, minus = 0.0;
            {
                tt::NoGradGuard no_grad;
                data[position] = up;
                plus = values_of(loss())[0];
                data[position] = down;
                minus = values_of(loss())[0];
                data[position] = original;
            }
            const double numeric = (plus - minus) / (static_cast<double>(up) - static_cast<double>(down));
            const double a = analytic[static_cast<size_t>(i)];
            const double excess = std::fabs(a - numeric) - (atol + rtol * std::max(std::fabs(a), std::fabs(numeric)));
            if (excess > worst_excess || std::isnan(a)) {
                worst_excess = std::isnan(a) ? 1e30 : excess;
                std::ostringstream line;
                line << name << " " << shape_text(parameter.shape()) << " element " << shape_text(index)
                     << ": backward gives " << a << ", finite differences give " << numeric;
                worst = line.str();
            }
        }
        if (!worst.empty()) problems << worst << "\n";
    }
    return problems.str();
}

tt::Tensor class_indices(const std::vector<float>& targets) { return raw(targets, {static_cast<int64_t>(targets.size())}); }

}  // namespace

TEST_CASE("Linear Tanh Linear cross_entropy: every parameter gradient matches finite differences", "[points=3]") {
    tt::Generator gen(7);
    auto model = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
        std::make_shared<tt::Linear>(4, 5, true, &gen),   // (6, 4) -> (6, 5)
        std::make_shared<tt::Tanh>(),
        std::make_shared<tt::Linear>(5, 3, true, &gen)});  //       -> (6, 3) logits
    const tt::Tensor x = random_values({6, 4}, 11, -2.0f, 2.0f);
    const tt::Tensor y = class_indices({0, 2, 1, 1, 0, 2});
    const auto loss = [&] { return tt::cross_entropy((*model)(x), y); };
    loss().backward();
    const auto parameters = model->named_parameters();
    REQUIRE(parameters.size() == 4);
    const std::string problems = compare_with_finite_differences(parameters, loss);
    INFO("parameters whose gradient disagrees with finite differences of the loss:\n" << problems);
    CHECK(problems.empty());
    CHECK_FALSE(x.grad().defined());  // the input does not require grad
}

TEST_CASE("a model with GELU LeakyReLU Sigmoid and binary cross-entropy matches finite differences", "[points=1]") {
    tt::Generator gen(8);
    auto model = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
        std::make_shared<tt::Linear>(3, 4, true, &gen), std::make_shared<tt::GELU>(tt::GeluApproximation::tanh),
        std::make_shared<tt::Linear>(4, 4, true, &gen), std::make_shared<tt::LeakyReLU>(0.1f),
        std::make_shared<tt::Linear>(4, 2, false, &gen), std::make_shared<tt::Sigmoid>()});
    const tt::Tensor x = random_values({5, 3}, 12, -2.0f, 2.0f);
    const tt::Tensor y = random_values({5, 2}, 13, 0.0f, 1.0f);
    const auto loss = [&] { return tt::binary_cross_entropy((*model)(x), y); };
    loss().backward();
    const std::string problems = compare_with_finite_differences(model->named_parameters(), loss);
    INFO("parameters whose gradient disagrees with finite differences of the loss:\n" << problems);
    CHECK(problems.empty());
}

TEST_CASE("a hand-written attention-like block with softmax log_softmax and a shared weight", "[points=1]") {
    // scores = softmax(q k^T), out = scores @ v, with q = x W, k = x W (one weight used twice),
    // then log_softmax, a select and a mean: most module 02 and 03 nodes in one graph.
    tt::Tensor w = random_values({3, 3}, 14).requires_grad_();
    tt::Tensor v = random_values({4, 3}, 15).requires_grad_();
    const tt::Tensor x = random_values({4, 3}, 16, -2.0f, 2.0f);
    const auto loss = [&] {
        const tt::Tensor q = tt::matmul(x, w);                           // (4, 3)
        const tt::Tensor scores = tt::softmax(tt::matmul(q, q.t()), -1);  // (4, 4)
        const tt::Tensor out = tt::matmul(scores, v);                    // (4, 3)
        return tt::mean(tt::log_softmax(out, 0).select(1, 2) + tt::sum(tt::tanh(out), 1));
    };
    loss().backward();
    const std::string problems = compare_with_finite_differences({{"w", w}, {"v", v}}, loss);
    INFO("parameters whose gradient disagrees with finite differences of the loss:\n" << problems);
    CHECK(problems.empty());
}
