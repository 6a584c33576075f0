// test_losses.cpp - module 05: mse_loss, cross_entropy, binary_cross_entropy(_with_logits)
// (engine/src/05_losses/losses.cpp). Hand-computed values for every reduction (the numbers in the
// comments come from the formulas, evaluated in double on a calculator), label smoothing, stability
// at +-1000, input validation with the messages a user sees, non-contiguous inputs, and
// cross-checks between losses. Gradients are tested in test_autograd_losses.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;
using tt::Reduction;

namespace {

const float inf = std::numeric_limits<float>::infinity();
const float not_a_number = std::numeric_limits<float>::quiet_NaN();

float value(const tt::Tensor& t) {
    REQUIRE(t.dim() == 0);
    return element(t, {});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// mse_loss
// ---------------------------------------------------------------------------------------------

TEST_CASE("losses: mse_loss, hand-computed, every reduction", "[05][losses][mse]") {
    // diff = [0, 2, -2], squared = [0, 4, 4]: mean 8/3, sum 8
    const tt::Tensor input = nested({1, 2, 3});
    const tt::Tensor target = nested({1, 0, 5});
    CHECK(value(tt::mse_loss(input, target)) == Approx(8.0f / 3.0f).epsilon(1e-6));
    CHECK(value(tt::mse_loss(input, target, Reduction::mean)) == Approx(8.0f / 3.0f).epsilon(1e-6));
    CHECK(value(tt::mse_loss(input, target, Reduction::sum)) == 8.0f);
    CHECK_THAT(tt::mse_loss(input, target, Reduction::none), tensor_equal(nested({0, 4, 4})));
    // 2-D, non-contiguous: the mean is over every element
    const tt::Tensor a = nested({{1, 2}, {3, 4}});
    const tt::Tensor b = nested({{0, 0}, {0, 0}});
    CHECK(value(tt::mse_loss(column_major(a), padded(b))) == Approx(30.0f / 4.0f));
    CHECK_THAT(tt::mse_loss(a.t(), b, Reduction::none), tensor_equal(nested({{1, 9}, {4, 16}})));
    CHECK(value(tt::MSELoss{Reduction::sum}(a, b)) == 30.0f);
}

TEST_CASE("losses: mse_loss refuses shapes that would broadcast", "[05][losses][mse][errors]") {
    // (3, 1) against (3,) would broadcast to (3, 3): nine "errors" instead of three
    const std::string message = error_message([] { tt::mse_loss(nested({{1}, {2}, {3}}), nested({1, 2, 3})); });
    CHECK_THAT(message, Contains("mse_loss") && Contains("(3, 1)") && Contains("(3)"));
}

// ---------------------------------------------------------------------------------------------
// cross_entropy
// ---------------------------------------------------------------------------------------------

TEST_CASE("losses: cross_entropy, hand-computed, every reduction", "[05][losses][cross_entropy]") {
    // row 0: logits [1, 2, 3], class 2: -log softmax = log(e^-2 + e^-1 + 1) = 0.407605964
    // row 1: logits [1, 1, 1], class 0: -log(1/3) = 1.098612289
    const tt::Tensor logits = nested({{1, 2, 3}, {1, 1, 1}});
    const tt::Tensor targets = nested({2, 0});
    CHECK(value(tt::cross_entropy(logits, targets)) == Approx(0.753109127).epsilon(1e-6));  // mean over N = 2
    CHECK(value(tt::cross_entropy(logits, targets, Reduction::sum)) == Approx(1.506218253).epsilon(1e-6));
    CHECK_THAT(tt::cross_entropy(logits, targets, Reduction::none), tensor_near(nested({0.407605964f, 1.098612289f}), 1e-6, 1e-6));

    SECTION("the mean divides by N (examples), not by C (classes)") {
        // (2, 5): row 0 is uniform (log 5 = 1.609437912), row 1 has the target logit 10 above the rest:
        // log(1 + 4 e^-10) = 1.815832e-4; the mean is (1.609437912 + 1.815832e-4) / 2 = 0.804809748
        const tt::Tensor wide = nested({{0, 0, 0, 0, 0}, {0, 0, 10, 0, 0}});
        CHECK(value(tt::cross_entropy(wide, nested({3, 2}))) == Approx(0.804809748).epsilon(1e-6));
    }
    SECTION("one example: logits (C,) with a 0-d target") {
        // -log softmax([1, 2, 3])[0] = 2.407605964
        CHECK(value(tt::cross_entropy(nested({1, 2, 3}), raw_scalar(0))) == Approx(2.407605964).epsilon(1e-6));
        CHECK(tt::cross_entropy(nested({1, 2, 3}), raw_scalar(0), Reduction::none).dim() == 0);
    }
    SECTION("the loss object passes its settings") {
        CHECK(value(tt::CrossEntropyLoss{Reduction::sum}(logits, targets)) == Approx(1.506218253).epsilon(1e-6));
        CHECK(value(tt::CrossEntropyLoss{Reduction::mean, 0.3f}(logits, targets)) ==
              Approx(value(tt::cross_entropy(logits, targets, Reduction::mean, 0.3f))));
    }
    SECTION("non-contiguous logits and targets") {
        const tt::Tensor targets_stepped = raw({2, 99, 0, 99}, {4}).slice(0, 0, 4, 2);  // [2, 0] with a step
        CHECK_THAT(tt::cross_entropy(column_major(logits), targets_stepped, Reduction::none),
                   tensor_near(nested({0.407605964f, 1.098612289f}), 1e-6, 1e-6));
        CHECK_THAT(tt::cross_entropy(padded(logits), padded(targets), Reduction::none),
                   tensor_near(nested({0.407605964f, 1.098612289f}), 1e-6, 1e-6));
        const tt::Tensor transposed = nested({{1, 1}, {2, 1}, {3, 1}}).t();  // the same logits, as a view
        CHECK(value(tt::cross_entropy(transposed, targets)) == Approx(0.753109127).epsilon(1e-6));
    }
    SECTION("empty batch: sum 0, mean NaN (0 / 0, as PyTorch)") {
        CHECK(value(tt::cross_entropy(raw({}, {0, 3}), raw({}, {0}), Reduction::sum)) == 0.0f);
        CHECK(std::isnan(value(tt::cross_entropy(raw({}, {0, 3}), raw({}, {0})))));
        CHECK(tt::cross_entropy(raw({}, {0, 3}), raw({}, {0}), Reduction::none).shape() == tt::Shape{0});
    }
}

TEST_CASE("losses: cross_entropy with label smoothing", "[05][losses][cross_entropy]") {
    // q = (1 - s) one-hot + s / C. Row 0 ([1, 2, 3], class 2), s = 0.3:
    //   (1 - s) * 0.407605964 + s * mean(2.407605964, 1.407605964, 0.407605964) = 0.285324175 + 0.422281789 = 0.707605964
    // Row 1 (uniform): every -log p is log 3, so smoothing changes nothing: 1.098612289
    const tt::Tensor logits = nested({{1, 2, 3}, {1, 1, 1}});
    const tt::Tensor targets = nested({2, 0});
    CHECK_THAT(tt::cross_entropy(logits, targets, Reduction::none, 0.3f), tensor_near(nested({0.707605964f, 1.098612289f}), 1e-6, 1e-6));
    CHECK(value(tt::cross_entropy(logits, targets, Reduction::mean, 0.3f)) == Approx(0.903109127).epsilon(1e-6));
    CHECK_THAT(tt::cross_entropy(logits, targets, Reduction::none, 0.0f), tensor_equal(tt::cross_entropy(logits, targets, Reduction::none)));
    // Smoothing punishes over-confidence: a huge margin no longer drives the loss to 0.
    const float confident = value(tt::cross_entropy(nested({{50, 0, 0}}), nested({0}), Reduction::mean, 0.1f));
    CHECK(confident == Approx(0.1 * 100.0 / 3.0).epsilon(1e-5));  // s * mean(0, 50, 50)
}

TEST_CASE("losses: cross_entropy agrees with -log_softmax picked at the targets", "[05][losses][cross_entropy]") {
    const tt::Tensor logits = random_values({6, 5}, 31, -4.0f, 4.0f);
    const std::vector<float> classes = {4, 0, 2, 2, 1, 3};
    const tt::Tensor targets = raw(classes, {6});
    const tt::Tensor log_p = tt::log_softmax(logits, 1);
    double total = 0.0;
    std::vector<float> picked;
    for (int64_t n = 0; n < 6; ++n) {
        picked.push_back(-element(log_p, {n, static_cast<int64_t>(classes[static_cast<size_t>(n)])}));
        total += picked.back();
    }
    CHECK_THAT(tt::cross_entropy(logits, targets, Reduction::none), tensor_near(raw(picked, {6}), 1e-5, 1e-5));
    CHECK(value(tt::cross_entropy(logits, targets)) == Approx(total / 6).epsilon(1e-5));
    CHECK(value(tt::cross_entropy(logits, targets, Reduction::sum)) == Approx(total).epsilon(1e-5));
}

TEST_CASE("losses: cross_entropy is finite for logits at +-1000", "[05][losses][cross_entropy][stability]") {
    // [1000, 0] class 0: log(1 + e^-1000) = 0;  [-1000, 1000] class 0: 2000;  [0, -1000] class 1: 1000
    const tt::Tensor logits = nested({{1000, 0}, {-1000, 1000}, {0, -1000}});
    CHECK_THAT(tt::cross_entropy(logits, nested({0, 0, 1}), Reduction::none), tensor_equal(nested({0, 2000, 1000})));
    CHECK_THAT(tt::cross_entropy(nested({{1000, 1000}}), nested({1}), Reduction::none), tensor_near(nested({0.693147181f}), 1e-6, 0));
    // Huge but equal shifts of a row do not change the loss: [1001, 1002, 1003] is [1, 2, 3]
    CHECK(value(tt::cross_entropy(nested({{1001, 1002, 1003}}), nested({2}))) == Approx(0.407605964).epsilon(1e-5));
    SECTION("a large batch of huge logits") {
        const tt::Tensor big = random_values({2048, 10}, 41, -1000.0f, 1000.0f);
        std::vector<float> classes(2048);
        for (size_t i = 0; i < classes.size(); ++i) classes[i] = static_cast<float>(i % 10);
        const tt::Tensor per_example = tt::cross_entropy(big, raw(classes, {2048}), Reduction::none);
        CHECK(all_finite(per_example));
        for (float v : values_of(per_example)) CHECK(v >= 0.0f);
        CHECK(std::isfinite(value(tt::cross_entropy(big, raw(classes, {2048}), Reduction::mean, 0.1f))));
    }
    SECTION("masked logits: -inf on a wrong class costs nothing, on the target it is an infinite loss") {
        CHECK_THAT(tt::cross_entropy(nested({{0, -inf, 0}}), nested({0}), Reduction::none), tensor_near(nested({0.693147181f}), 1e-6, 0));
        CHECK(value(tt::cross_entropy(nested({{0, -inf}}), nested({1}), Reduction::sum)) == inf);
        // a row of only -inf is uniform, as in log_softmax: log 4
        CHECK(value(tt::cross_entropy(nested({{-inf, -inf, -inf, -inf}}), nested({1}))) == Approx(1.386294361).epsilon(1e-6));
    }
}

TEST_CASE("losses: cross_entropy validates shapes and class indices", "[05][losses][cross_entropy][errors]") {
    const tt::Tensor logits = nested({{1, 2, 3}, {1, 1, 1}});  // (2, 3): classes 0, 1, 2
    SECTION("a target equal to C (one past the last class)") {
        const std::string message = error_message([&] { tt::cross_entropy(logits, nested({3, 0})); });
        CHECK_THAT(message, Contains("cross_entropy") && Contains("targets[0] = 3") && Contains("(2, 3)") && Contains("(2)") &&
                                Contains("[0, 3)"));
    }
    SECTION("negative, fractional and NaN targets") {
        CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({0, -1})); }), Contains("cross_entropy") && Contains("targets[1] = -1"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({1.5f, 0})); }), Contains("targets[0] = 1.5"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({0, not_a_number})); }), Contains("targets[1] = nan"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(nested({1, 2}), raw_scalar(2)); }), Contains("targets[0] = 2"));
    }
    SECTION("wrong shapes name both shapes") {
        CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({{0}, {1}})); }),
                   Contains("cross_entropy") && Contains("(2, 3)") && Contains("(2, 1)"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({0, 1, 2})); }), Contains("(2, 3)") && Contains("(3)"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(iota({2, 3, 4}), nested({0, 1})); }), Contains("cross_entropy") && Contains("(2, 3, 4)"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(raw({}, {2, 0}), nested({0, 0})); }), Contains("no classes"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(nested({1, 2}), nested({0})); }), Contains("(2)") && Contains("()"));
    }
    SECTION("label smoothing outside [0, 1], NaN included") {
        CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({0, 1}), Reduction::mean, 1.5f); }),
                   Contains("label_smoothing") && Contains("[0, 1]") && Contains("1.5"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({0, 1}), Reduction::mean, -0.1f); }), Contains("label_smoothing"));
        CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({0, 1}), Reduction::mean, not_a_number); }),
                   Contains("label_smoothing"));
    }
    SECTION("label smoothing 1 is accepted, as in PyTorch: the target is uniform, the loss mean_c(-log p_c)") {
        // (1, 2, 3): -log p = (2.40760596, 1.40760596, 0.40760596), mean 1.40760596 whatever the target;
        // (1, 1, 1): log 3.
        CHECK_THAT(tt::cross_entropy(logits, nested({0, 1}), Reduction::none, 1.0f), tensor_near(nested({1.40760596f, 1.09861229f}), 1e-6, 1e-6));
        CHECK_THAT(tt::cross_entropy(logits, nested({2, 2}), Reduction::none, 1.0f), tensor_near(nested({1.40760596f, 1.09861229f}), 1e-6, 1e-6));
    }
}

TEST_CASE("losses: cross_entropy saves probabilities only when a backward can follow", "[05][losses][cross_entropy][autograd]") {
    tt::Tensor logits = nested({{1, 2, 3}, {1, 1, 1}});
    const tt::Tensor targets = nested({2, 0});
    CHECK(tt::cross_entropy(logits, targets).grad_fn() == nullptr);  // no input requires grad
    logits.requires_grad_();
    const tt::Tensor loss = tt::cross_entropy(logits, targets, Reduction::sum, 0.1f);
    auto* node = dynamic_cast<tt::CrossEntropyBackward*>(loss.grad_fn().get());
    REQUIRE(node != nullptr);
    CHECK(node->inputs.size() == 1);  // the targets are data, not an input of the graph
    CHECK(node->reduction == Reduction::sum);
    CHECK(node->label_smoothing == 0.1f);
    CHECK_THAT(node->targets, tensor_equal(targets));
    // softmax([1, 2, 3]) = [0.090030573, 0.244728471, 0.665240956]; softmax([1, 1, 1]) = 1/3 each
    CHECK_THAT(node->probabilities, tensor_near(nested({{0.090030573f, 0.244728471f, 0.665240956f}, {1 / 3.0f, 1 / 3.0f, 1 / 3.0f}}), 1e-7, 1e-6));
    CHECK(node->probabilities.grad_fn() == nullptr);
    tt::NoGradGuard no_grad;
    CHECK(tt::cross_entropy(logits, targets).grad_fn() == nullptr);
}

// ---------------------------------------------------------------------------------------------
// binary_cross_entropy and binary_cross_entropy_with_logits
// ---------------------------------------------------------------------------------------------

TEST_CASE("losses: binary_cross_entropy, hand-computed, every reduction", "[05][losses][bce]") {
    // -log 0.5 = 0.693147181, -log(1 - 0.9) = 2.302585093, -log(1 - 0.2) = 0.223143551
    const tt::Tensor p = nested({0.5f, 0.9f, 0.2f});
    const tt::Tensor y = nested({1, 0, 0});
    CHECK_THAT(tt::binary_cross_entropy(p, y, Reduction::none), tensor_near(nested({0.693147181f, 2.302585093f, 0.223143551f}), 1e-6, 1e-6));
    CHECK(value(tt::binary_cross_entropy(p, y)) == Approx(1.072958608).epsilon(1e-6));
    CHECK(value(tt::binary_cross_entropy(p, y, Reduction::sum)) == Approx(3.218875825).epsilon(1e-6));
    CHECK(value(tt::BCELoss{Reduction::sum}(p, y)) == Approx(3.218875825).epsilon(1e-6));
    // soft label y = 0.3 at p = 0.7: -(0.3 log 0.7 + 0.7 log 0.3) = 0.949783446
    CHECK(value(tt::binary_cross_entropy(nested({0.7f}), nested({0.3f}))) == Approx(0.949783446).epsilon(1e-6));
    // 2-D non-contiguous: the mean is over every element
    const tt::Tensor p2 = nested({{0.5f, 0.9f}, {0.2f, 0.5f}});
    const tt::Tensor y2 = nested({{1, 0}, {0, 0}});
    CHECK(value(tt::binary_cross_entropy(column_major(p2), padded(y2))) ==
          Approx((0.693147181 + 2.302585093 + 0.223143551 + 0.693147181) / 4).epsilon(1e-6));
}

TEST_CASE("losses: binary_cross_entropy clamps each log at -100", "[05][losses][bce][stability]") {
    // p = 0 with y = 1 and p = 1 with y = 0 are 100 each (not inf); the right answers with certainty cost 0 (not NaN)
    const tt::Tensor p = nested({0, 1, 0, 1});
    const tt::Tensor y = nested({1, 0, 0, 1});
    CHECK_THAT(tt::binary_cross_entropy(p, y, Reduction::none), tensor_equal(nested({100, 100, 0, 0})));
    CHECK(value(tt::binary_cross_entropy(p, y)) == 50.0f);
    // tiny p: log(1 - p) via log1p keeps -log(1 - 1e-8) = 1e-8 (1 - 1e-8 rounds to 1 in float)
    CHECK(value(tt::binary_cross_entropy(nested({1e-8f}), nested({0}))) == Approx(1e-8).epsilon(1e-3));
}

TEST_CASE("losses: binary_cross_entropy validates its input", "[05][losses][bce][errors]") {
    CHECK_THAT(error_message([] { tt::binary_cross_entropy(nested({0.5f, 1.5f}), nested({0, 1})); }),
               Contains("binary_cross_entropy") && Contains("1.5") && Contains("[0, 1]") && Contains("element 1"));
    CHECK_THAT(error_message([] { tt::binary_cross_entropy(nested({-0.1f}), nested({0})); }), Contains("-0.1"));
    CHECK_THAT(error_message([] { tt::binary_cross_entropy(nested({not_a_number}), nested({0})); }), Contains("nan"));
    CHECK_THAT(error_message([] { tt::binary_cross_entropy(nested({{0.5f}, {0.5f}}), nested({0, 1})); }),
               Contains("binary_cross_entropy") && Contains("(2, 1)") && Contains("(2)"));
    CHECK_THAT(error_message([] { tt::binary_cross_entropy_with_logits(nested({1, 2, 3}), nested({{0, 1, 0}})); }),
               Contains("binary_cross_entropy_with_logits") && Contains("(3)") && Contains("(1, 3)"));
}

TEST_CASE("losses: binary_cross_entropy_with_logits, hand-computed, every reduction", "[05][losses][bce]") {
    // max(x, 0) - x y + log(1 + e^-|x|):
    //   x = 0, y = 1:  log 2 = 0.693147181
    //   x = 2, y = 0:  2 + log(1 + e^-2) = 2.126928011
    //   x = -3, y = 1: 3 + log(1 + e^-3) = 3.048587352
    const tt::Tensor x = nested({0, 2, -3});
    const tt::Tensor y = nested({1, 0, 1});
    CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y, Reduction::none),
               tensor_near(nested({0.693147181f, 2.126928011f, 3.048587352f}), 1e-6, 1e-6));
    CHECK(value(tt::binary_cross_entropy_with_logits(x, y)) == Approx(1.956220848).epsilon(1e-6));
    CHECK(value(tt::binary_cross_entropy_with_logits(x, y, Reduction::sum)) == Approx(5.868662543).epsilon(1e-6));
    CHECK(value(tt::BCEWithLogitsLoss{Reduction::sum}(x, y)) == Approx(5.868662543).epsilon(1e-6));
    CHECK_THAT(tt::binary_cross_entropy_with_logits(column_major(nested({{0, 2}, {-3, 0}})), padded(nested({{1, 0}, {1, 1}})), Reduction::none),
               tensor_near(nested({{0.693147181f, 2.126928011f}, {3.048587352f, 0.693147181f}}), 1e-6, 1e-6));
}

TEST_CASE("losses: binary_cross_entropy_with_logits is finite at +-1000", "[05][losses][bce][stability]") {
    // right with certainty: 0; wrong with certainty: |x| (where sigmoid-then-log would clamp at 100 or give inf)
    const tt::Tensor x = nested({1000, -1000, 1000, -1000});
    const tt::Tensor y = nested({1, 0, 0, 1});
    CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y, Reduction::none), tensor_equal(nested({0, 0, 1000, 1000})));
    CHECK(value(tt::binary_cross_entropy_with_logits(x, y)) == 500.0f);
    // -100 and -200 logits with y = 1: the losses are 100 and 200, not both the clamp
    CHECK_THAT(tt::binary_cross_entropy_with_logits(nested({-100, -200}), nested({1, 1}), Reduction::none), tensor_equal(nested({100, 200})));
    const tt::Tensor big = random_values({512, 16}, 43, -1000.0f, 1000.0f);
    CHECK(all_finite(tt::binary_cross_entropy_with_logits(big, random_values({512, 16}, 44, 0.0f, 1.0f), Reduction::none)));
}

TEST_CASE("losses: bce_with_logits(x) equals bce(sigmoid(x)) on moderate inputs", "[05][losses][bce]") {
    const tt::Tensor x = random_values({4, 5}, 51, -6.0f, 6.0f);
    const tt::Tensor y = random_values({4, 5}, 52, 0.0f, 1.0f);  // soft labels
    for (Reduction reduction : {Reduction::mean, Reduction::sum, Reduction::none}) {
        CHECK_THAT(tt::binary_cross_entropy_with_logits(x, y, reduction),
                   tensor_near(tt::binary_cross_entropy(tt::sigmoid(x), y, reduction), 1e-5, 1e-4));
    }
}

TEST_CASE("losses: the binary losses record their node with the targets detached", "[05][losses][bce][autograd]") {
    tt::Tensor p = nested({0.3f, 0.6f});
    tt::Tensor y = nested({0, 1});
    y.requires_grad_();
    CHECK(tt::binary_cross_entropy(p, y).grad_fn() == nullptr);  // only the target requires grad: no graph
    p.requires_grad_();
    const tt::Tensor loss = tt::binary_cross_entropy(p, y, Reduction::sum);
    auto* node = dynamic_cast<tt::BCEBackward*>(loss.grad_fn().get());
    REQUIRE(node != nullptr);
    CHECK(node->reduction == Reduction::sum);
    REQUIRE(node->inputs.size() == 2);
    CHECK(node->inputs[0].is_same(p));
    CHECK_FALSE(node->inputs[1].requires_grad());
    CHECK(shares_storage(node->inputs[1], y));
    const tt::Tensor per_element = tt::binary_cross_entropy_with_logits(p, y, Reduction::none);  // keeps its node alive
    auto* logits_node = dynamic_cast<tt::BCEWithLogitsBackward*>(per_element.grad_fn().get());
    REQUIRE(logits_node != nullptr);
    CHECK(logits_node->reduction == Reduction::none);
}
