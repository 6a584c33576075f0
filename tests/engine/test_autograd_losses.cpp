// test_autograd_losses.cpp - module 06: the backward nodes of the module 05 losses
// (engine/src/06_autograd/nodes_losses.cpp) and mse_loss's gradient through module-02 nodes.
// Hand-computed gradients for every reduction (the numbers in the comments come from the formulas,
// on a calculator), finite-difference checks for every reduction and smoothing, targets that never
// receive a gradient, gradients at +-1000, and end to end: small models (logits = x @ w, and a
// hidden layer) whose loss gradients match finite differences and whose loss goes down under SGD.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine_testing.h"
#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/gradcheck.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using tt::Reduction;

namespace {

const char* name_of(Reduction reduction) {
    return reduction == Reduction::mean ? "mean" : reduction == Reduction::sum ? "sum" : "none";
}

const std::vector<Reduction> all_reductions = {Reduction::mean, Reduction::sum, Reduction::none};

// N class indices in [0, C), as floats: 0, 1, ..., C-1, 0, 1, ... shifted by `start`.
tt::Tensor class_targets(int64_t n, int64_t c, int64_t start = 0) {
    std::vector<float> values;
    for (int64_t i = 0; i < n; ++i) values.push_back(static_cast<float>((i + start) % c));
    return raw(values, {n});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hand-computed gradients
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: cross_entropy gradient is (softmax - q) * g, hand-computed", "[06][autograd][losses][cross_entropy]") {
    tt::Tensor logits = leaf(nested({{1, 2, 3}, {1, 1, 1}}));
    const tt::Tensor targets = nested({2, 0});
    // p = [[0.090030573, 0.244728471, 0.665240956], [1/3, 1/3, 1/3]]
    SECTION("mean: (p - onehot) / N") {
        tt::cross_entropy(logits, targets).backward();
        CHECK_THAT(logits.grad(), tensor_near(nested({{0.045015287f, 0.122364236f, -0.167379522f},
                                                      {-0.333333333f, 0.166666667f, 0.166666667f}}), 1e-7, 1e-5));
        CHECK(std::string(tt::cross_entropy(logits, targets).grad_fn()->name()) == "CrossEntropyBackward");
    }
    SECTION("sum with label smoothing 0.3: p - (0.7 onehot + 0.1)") {
        tt::cross_entropy(logits, targets, Reduction::sum, 0.3f).backward();
        CHECK_THAT(logits.grad(), tensor_near(nested({{-0.009969427f, 0.144728471f, -0.134759044f},
                                                      {-0.466666667f, 0.233333333f, 0.233333333f}}), 1e-7, 1e-5));
    }
    SECTION("none: row n scaled by its own upstream gradient g[n]") {
        tt::cross_entropy(logits, targets, Reduction::none).backward(nested({2, -1}));
        CHECK_THAT(logits.grad(), tensor_near(nested({{0.180061146f, 0.489456942f, -0.669518089f},
                                                      {0.666666667f, -0.333333333f, -0.333333333f}}), 1e-7, 1e-5));
    }
    SECTION("one example: logits (C,)") {
        tt::Tensor single = leaf(nested({1, 2, 3}));
        tt::cross_entropy(single, raw_scalar(2)).backward();
        CHECK_THAT(single.grad(), tensor_near(nested({0.090030573f, 0.244728471f, -0.334759044f}), 1e-7, 1e-5));
    }
    SECTION("the rows of the gradient sum to 0 (softmax and q are both distributions)") {
        tt::Tensor big = leaf(random_values({64, 10}, 3, -5.0f, 5.0f));
        tt::cross_entropy(big, class_targets(64, 10), Reduction::sum, 0.2f).backward();
        for (int64_t n = 0; n < 64; ++n) {
            double total = 0.0;
            for (int64_t c = 0; c < 10; ++c) total += element(big.grad(), {n, c});
            CHECK(std::fabs(total) < 1e-5);
        }
    }
}

TEST_CASE("autograd: binary cross-entropy gradients, hand-computed", "[06][autograd][losses][bce]") {
    SECTION("bce: (p - y) / (p (1 - p)), / n for the mean") {
        tt::Tensor p = leaf(nested({0.5f, 0.8f}));
        tt::binary_cross_entropy(p, nested({1, 0})).backward();
        CHECK_THAT(p.grad(), tensor_near(nested({-1, 2.5f}), 1e-6, 1e-5));  // (-0.5 / 0.25) / 2, (0.8 / 0.16) / 2
        p.zero_grad();
        tt::binary_cross_entropy(p, nested({1, 0}), Reduction::none).backward(nested({3, -2}));
        CHECK_THAT(p.grad(), tensor_near(nested({-6, -10}), 1e-6, 1e-5));
    }
    SECTION("bce with logits: sigmoid(x) - y") {
        tt::Tensor x = leaf(nested({0, 2}));
        tt::binary_cross_entropy_with_logits(x, nested({1, 0.25f}), Reduction::sum).backward();
        CHECK_THAT(x.grad(), tensor_near(nested({-0.5f, 0.630797078f}), 1e-6, 1e-5));  // sigmoid(2) = 0.880797078
        x.zero_grad();
        tt::binary_cross_entropy_with_logits(x, nested({1, 0.25f})).backward();
        CHECK_THAT(x.grad(), tensor_near(nested({-0.25f, 0.315398539f}), 1e-6, 1e-5));
        x.zero_grad();
        tt::binary_cross_entropy_with_logits(x, nested({1, 0.25f}), Reduction::none).backward(nested({3, -2}));
        CHECK_THAT(x.grad(), tensor_near(nested({-1.5f, -1.261594156f}), 1e-6, 1e-5));
    }
    SECTION("mse: 2 (input - target) / n into both arguments") {
        tt::Tensor input = leaf(nested({1, 2, 3}));
        tt::Tensor target = leaf(nested({1, 0, 5}));
        tt::mse_loss(input, target).backward();
        CHECK_THAT(input.grad(), tensor_near(nested({0, 4 / 3.0f, -4 / 3.0f}), 1e-6, 1e-5));
        CHECK_THAT(target.grad(), tensor_near(nested({0, -4 / 3.0f, 4 / 3.0f}), 1e-6, 1e-5));
    }
}

TEST_CASE("autograd: targets never receive a gradient", "[06][autograd][losses]") {
    tt::Tensor logits = leaf(random_values({3, 4}, 8));
    tt::Tensor classes = leaf(nested({0, 3, 1}));
    tt::cross_entropy(logits, classes, Reduction::mean, 0.1f).backward();
    CHECK(logits.grad().defined());
    CHECK_FALSE(classes.grad().defined());

    tt::Tensor p = leaf(nested({0.2f, 0.7f}));
    tt::Tensor y = leaf(nested({0.1f, 0.9f}));
    tt::binary_cross_entropy(p, y).backward();
    tt::binary_cross_entropy_with_logits(p, y).backward();
    CHECK(p.grad().defined());
    CHECK_FALSE(y.grad().defined());
}

// ---------------------------------------------------------------------------------------------
// Finite differences, every reduction
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: gradcheck of cross_entropy, every reduction and smoothing", "[06][autograd][losses][cross_entropy][gradcheck]") {
    uint64_t seed = 2100;
    for (Reduction reduction : all_reductions) {
        for (float smoothing : {0.0f, 0.25f}) {
            const std::string what = std::string(name_of(reduction)) + ", smoothing " + std::to_string(smoothing);
            const tt::Tensor logits = leaf(random_values({5, 4}, ++seed, -3.0f, 3.0f));
            const tt::Tensor targets = class_targets(5, 4, static_cast<int64_t>(seed));
            check_gradients("cross_entropy " + what,
                            [&](const Inputs& in) { return tt::cross_entropy(in[0], targets, reduction, smoothing); }, {logits});
            INFO("gradient_check, " << what);
            CHECK(gradient_check([&](const Inputs& in) { return tt::cross_entropy(in[0], targets, reduction, smoothing); }, {logits}));
            // Non-contiguous logits: a transposed (C, N) leaf, and a padded one.
            const tt::Tensor transposed = leaf(random_values({4, 5}, ++seed, -3.0f, 3.0f));
            check_gradients("cross_entropy of transposed logits, " + what,
                            [&](const Inputs& in) { return tt::cross_entropy(in[0].t(), targets, reduction, smoothing); }, {transposed});
            const tt::Tensor padded_logits = leaf(padded(random_values({5, 4}, ++seed, -3.0f, 3.0f)));
            check_gradients("cross_entropy of padded logits, " + what,
                            [&](const Inputs& in) { return tt::cross_entropy(in[0], targets, reduction, smoothing); }, {padded_logits});
            // One example: logits (C,).
            const tt::Tensor single = leaf(random_values({6}, ++seed, -3.0f, 3.0f));
            check_gradients("cross_entropy of one example, " + what,
                            [&](const Inputs& in) { return tt::cross_entropy(in[0], raw_scalar(4), reduction, smoothing); }, {single});
        }
    }
}

TEST_CASE("autograd: gradcheck of the binary losses and mse, every reduction", "[06][autograd][losses][bce][gradcheck]") {
    uint64_t seed = 2200;
    for (Reduction reduction : all_reductions) {
        const std::string what = name_of(reduction);
        const tt::Tensor y = random_values({3, 4}, ++seed, 0.0f, 1.0f);  // soft labels
        const tt::Tensor p = leaf(random_values({3, 4}, ++seed, 0.1f, 0.9f));
        check_gradients("binary_cross_entropy " + what, [&](const Inputs& in) { return tt::binary_cross_entropy(in[0], y, reduction); }, {p});
        check_gradients("binary_cross_entropy of a transposed input " + what,
                        [&](const Inputs& in) { return tt::binary_cross_entropy(in[0].t(), y.t(), reduction); }, {p});
        const tt::Tensor x = leaf(random_values({3, 4}, ++seed, -4.0f, 4.0f));
        check_gradients("binary_cross_entropy_with_logits " + what,
                        [&](const Inputs& in) { return tt::binary_cross_entropy_with_logits(in[0], y, reduction); }, {x});
        check_gradients("binary_cross_entropy_with_logits of a sliced input " + what,
                        [&](const Inputs& in) { return tt::binary_cross_entropy_with_logits(in[0].slice(1, 0, 4, 2), y.slice(1, 1, 4, 2), reduction); },
                        {x});
        INFO("gradient_check, " << what);
        CHECK(gradient_check([&](const Inputs& in) { return tt::binary_cross_entropy(in[0], y, reduction); }, {p}));
        CHECK(gradient_check([&](const Inputs& in) { return tt::binary_cross_entropy_with_logits(in[0], y, reduction); }, {x}));
        const tt::Tensor a = leaf(random_values({3, 4}, ++seed)), b = leaf(random_values({3, 4}, ++seed));
        check_gradients("mse_loss " + what, [&](const Inputs& in) { return tt::mse_loss(in[0], in[1], reduction); }, {a, b});
        CHECK(gradient_check([&](const Inputs& in) { return tt::mse_loss(in[0].t(), in[1].t(), reduction); }, {a, b}));
    }
}

// ---------------------------------------------------------------------------------------------
// Gradients at extreme inputs
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: loss gradients stay finite at +-1000 and at p = 0 or 1", "[06][autograd][losses][stability]") {
    tt::Tensor logits = leaf(nested({{1000, 0, -1000}, {-1000, 1000, 0}}));
    tt::cross_entropy(logits, nested({2, 1}), Reduction::sum).backward();
    CHECK_THAT(logits.grad(), tensor_equal(nested({{1, 0, -1}, {0, 0, 0}})));  // p = one-hot of the max

    tt::Tensor x = leaf(nested({1000, -1000, 1000, -1000}));
    tt::binary_cross_entropy_with_logits(x, nested({1, 0, 0, 1}), Reduction::sum).backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({0, 0, 1, -1})));

    tt::Tensor p = leaf(nested({0, 1, 0, 1}));
    tt::binary_cross_entropy(p, nested({1, 0, 0, 1}), Reduction::sum).backward();
    CHECK(all_finite(p.grad()));
    CHECK(element(p.grad(), {0}) < -1e11f);  // (0 - 1) / 1e-12: huge, but a number
    CHECK(element(p.grad(), {1}) > 1e11f);

    tt::Tensor big = leaf(random_values({2048, 10}, 91, -1000.0f, 1000.0f));
    tt::cross_entropy(big, class_targets(2048, 10), Reduction::mean, 0.1f).backward();
    CHECK(all_finite(big.grad()));
}

// ---------------------------------------------------------------------------------------------
// End to end: small models
// ---------------------------------------------------------------------------------------------

TEST_CASE("autograd: cross_entropy of a linear model (logits = x @ w) matches finite differences", "[06][autograd][losses][e2e]") {
    const tt::Tensor x = random_values({8, 5}, 301, -1.0f, 1.0f);   // (N, D)
    const tt::Tensor w = leaf(random_values({5, 3}, 302, -1.0f, 1.0f));  // (D, C)
    const tt::Tensor targets = class_targets(8, 3);
    for (Reduction reduction : all_reductions) {
        INFO(name_of(reduction));
        check_gradients(std::string("linear model, ") + name_of(reduction),
                        [&](const Inputs& in) { return tt::cross_entropy(tt::matmul(x, in[0]), targets, reduction); }, {w});
        // both the weights and the inputs, with the independent checker
        CHECK(gradient_check([&](const Inputs& in) { return tt::cross_entropy(tt::matmul(in[0], in[1]), targets, reduction, 0.1f); },
                             {x, w}));
    }
    SECTION("the analytic gradient is x^T (softmax(x w) - onehot) / N") {
        tt::Tensor weights = leaf(raw_copy(w));
        tt::cross_entropy(tt::matmul(x, weights), targets).backward();
        const tt::Tensor p = tt::softmax(tt::matmul(x, w.detach()), 1);
        std::vector<float> expected(15, 0.0f);
        for (int64_t d = 0; d < 5; ++d)
            for (int64_t c = 0; c < 3; ++c) {
                double total = 0.0;
                for (int64_t n = 0; n < 8; ++n) {
                    const double onehot = element(targets, {n}) == static_cast<float>(c) ? 1.0 : 0.0;
                    total += element(x, {n, d}) * (element(p, {n, c}) - onehot);
                }
                expected[static_cast<size_t>(d * 3 + c)] = static_cast<float>(total / 8);
            }
        CHECK_THAT(weights.grad(), tensor_near(raw(expected, {5, 3}), 1e-6, 1e-5));
    }
}

TEST_CASE("autograd: a hidden layer with activations, every loss, matches finite differences", "[06][autograd][losses][e2e]") {
    const tt::Tensor x = random_values({6, 4}, 401, -1.0f, 1.0f);
    const tt::Tensor w1 = leaf(random_values({4, 5}, 402, -1.0f, 1.0f)), b1 = leaf(random_values({5}, 403, -0.5f, 0.5f));
    const tt::Tensor w2 = leaf(random_values({5, 3}, 404, -1.0f, 1.0f));
    const tt::Tensor classes = class_targets(6, 3, 1);
    auto hidden = [&](const Inputs& in) { return tt::gelu(tt::matmul(x, in[0]) + in[1]); };  // (6, 5)
    check_gradients("gelu MLP + cross_entropy (smoothing 0.1)", [&](const Inputs& in) {
        return tt::cross_entropy(tt::matmul(hidden(in), in[2]), classes, Reduction::mean, 0.1f);
    }, {w1, b1, w2});
    check_gradients("tanh MLP + log_softmax NLL", [&](const Inputs& in) {
        const tt::Tensor log_p = tt::log_softmax(tt::matmul(tt::tanh(tt::matmul(x, in[0]) + in[1]), in[2]), 1);
        return -(log_p.select(1, 0)).mean();
    }, {w1, b1, w2});
    const tt::Tensor labels = random_values({6, 3}, 405, 0.0f, 1.0f);
    check_gradients("sigmoid MLP + bce_with_logits", [&](const Inputs& in) {
        return tt::binary_cross_entropy_with_logits(tt::matmul(tt::sigmoid(tt::matmul(x, in[0]) + in[1]), in[2]), labels);
    }, {w1, b1, w2});
    check_gradients("leaky_relu MLP + sigmoid + bce", [&](const Inputs& in) {
        return tt::binary_cross_entropy(tt::sigmoid(tt::matmul(tt::leaky_relu(tt::matmul(x, in[0]) + in[1], 0.1f), in[2])), labels,
                                        Reduction::sum);
    }, {w1, b1, w2});
    check_gradients("relu MLP + mse", [&](const Inputs& in) {
        return tt::mse_loss(tt::matmul(tt::relu(tt::matmul(x, in[0]) + in[1]), in[2]), labels);
    }, {w1, b1, w2});
}

TEST_CASE("autograd: gradient descent on cross_entropy separates three blobs", "[06][autograd][losses][e2e]") {
    // Three classes at (2, 0), (-1, 2), (-1, -2) plus noise; logits = [x, 1] @ w.
    std::vector<float> points, labels;
    tt::Generator gen(7);
    for (int i = 0; i < 30; ++i) {
        const int c = i % 3;
        const float cx = c == 0 ? 2.0f : -1.0f, cy = c == 0 ? 0.0f : c == 1 ? 2.0f : -2.0f;
        points.insert(points.end(), {cx + gen.uniform(-0.5f, 0.5f), cy + gen.uniform(-0.5f, 0.5f), 1.0f});
        labels.push_back(static_cast<float>(c));
    }
    const tt::Tensor x = raw(points, {30, 3});
    const tt::Tensor y = raw(labels, {30});
    tt::Tensor w = leaf(raw(std::vector<float>(9, 0.0f), {3, 3}));
    const float first = tt::cross_entropy(tt::matmul(x, w), y).item();
    CHECK(first == Approx(std::log(3.0f)));  // all-zero weights: uniform predictions
    float loss = first;
    for (int step = 0; step < 50; ++step) {
        w.zero_grad();
        const tt::Tensor l = tt::cross_entropy(tt::matmul(x, w), y);
        l.backward();
        loss = l.item();
        tt::NoGradGuard no_grad;
        w.add_(w.grad(), -0.5f);
    }
    CHECK(loss < 0.1f * first);
    tt::NoGradGuard no_grad;
    CHECK_THAT(tt::argmax(tt::matmul(x, w), 1), tensor_equal(y));  // every point classified correctly
}
