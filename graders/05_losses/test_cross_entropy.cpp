// test_cross_entropy.cpp - module 05 grader: cross_entropy from logits. Hand-computed values, the
// three reductions, label smoothing, one example given as (C,), non-contiguous logits and
// targets, stability with logits of +-1000, target validation, the probabilities saved for
// backward, and gradient checks. Expected values come from loss_reference.h (double, plain loops).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "grading.h"
#include "loss_reference.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = loss_reference;

namespace {

const float ln2 = std::log(2.0f), ln3 = std::log(3.0f), ln4 = std::log(4.0f);

const char* reduction_name(tt::Reduction r) {
    return r == tt::Reduction::mean ? "mean" : r == tt::Reduction::sum ? "sum" : "none";
}

}  // namespace

TEST_CASE("cross_entropy of one row is minus the log probability of the target class", "[points=2]") {
    // softmax(ln 1, ln 2, ln 3, ln 4) = (0.1, 0.2, 0.3, 0.4)
    const tt::Tensor logits = nested({{0, ln2, ln3, ln4}});
    CHECK_THAT(tt::cross_entropy(logits, nested({3})), tensor_near(raw_scalar(-std::log(0.4f)), 1e-6, 1e-5));
    CHECK_THAT(tt::cross_entropy(logits, nested({0})), tensor_near(raw_scalar(-std::log(0.1f)), 1e-6, 1e-5));
    // Equal logits: every class has probability 1/C, the loss is ln C.
    CHECK_THAT(tt::cross_entropy(nested({{5, 5, 5}}), nested({1})), tensor_near(raw_scalar(ln3), 1e-6, 1e-5));
}

TEST_CASE("cross_entropy averages over the examples of a batch", "[points=2]") {
    // log_softmax(1, 2, 3) = (-2.4076060, -1.4076060, -0.4076060)
    const tt::Tensor logits = nested({{1, 2, 3}, {1, 2, 3}});
    const tt::Tensor targets = nested({2, 0});
    CHECK_THAT(tt::cross_entropy(logits, targets), tensor_near(raw_scalar(1.4076060f), 1e-6, 1e-5));
    const tt::Tensor random_logits = random_values({6, 5}, 511, -3.0f, 3.0f);
    const tt::Tensor random_targets = nested({4, 0, 2, 2, 1, 3});
    CHECK_THAT(tt::cross_entropy(random_logits, random_targets),
               tensor_near(ref::cross_entropy(random_logits, random_targets, tt::Reduction::mean), 1e-5, 1e-5));
}

TEST_CASE("cross_entropy with sum and none reductions", "[points=2]") {
    const tt::Tensor logits = nested({{1, 2, 3}, {1, 2, 3}});
    const tt::Tensor targets = nested({2, 0});
    CHECK_THAT(tt::cross_entropy(logits, targets, tt::Reduction::sum), tensor_near(raw_scalar(2.8152119f), 1e-6, 1e-5));
    CHECK_THAT(tt::cross_entropy(logits, targets, tt::Reduction::none), tensor_near(nested({0.4076060f, 2.4076060f}), 1e-6, 1e-5));
    const tt::Tensor random_logits = random_values({5, 4}, 512, -3.0f, 3.0f);
    const tt::Tensor random_targets = nested({3, 3, 0, 1, 2});
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << reduction_name(r));
        CHECK_THAT(tt::cross_entropy(random_logits, random_targets, r),
                   tensor_near(ref::cross_entropy(random_logits, random_targets, r), 1e-5, 1e-5));
    }
}

TEST_CASE("cross_entropy with label smoothing on hand-computed values", "[points=3]") {
    // s = 0.1, C = 3: q = 0.9 one-hot + 0.1 / 3 everywhere, so
    // loss = 0.9 (-log p_k) + 0.1 mean_c(-log p_c) = 0.9 * 0.4076060 + 0.1 * 1.4076060 = 0.5076060
    const tt::Tensor logits = nested({{1, 2, 3}});
    CHECK_THAT(tt::cross_entropy(logits, nested({2}), tt::Reduction::mean, 0.1f), tensor_near(raw_scalar(0.5076060f), 1e-6, 1e-5));
    // s = 0.2 and target 0: 0.8 * 2.4076060 + 0.2 * 1.4076060 = 2.2076060
    CHECK_THAT(tt::cross_entropy(logits, nested({0}), tt::Reduction::sum, 0.2f), tensor_near(raw_scalar(2.2076060f), 1e-6, 1e-5));
    // Equal logits: ln C whatever the smoothing.
    CHECK_THAT(tt::cross_entropy(nested({{0, 0, 0, 0}}), nested({2}), tt::Reduction::mean, 0.3f), tensor_near(raw_scalar(ln4), 1e-6, 1e-5));
    const tt::Tensor random_logits = random_values({4, 6}, 513, -3.0f, 3.0f);
    const tt::Tensor random_targets = nested({5, 0, 2, 2});
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << reduction_name(r) << " with label_smoothing 0.25");
        CHECK_THAT(tt::cross_entropy(random_logits, random_targets, r, 0.25f),
                   tensor_near(ref::cross_entropy(random_logits, random_targets, r, 0.25), 1e-5, 1e-5));
    }
}

TEST_CASE("cross_entropy of one example given as C logits and a 0-d target", "[points=1]") {
    const tt::Tensor logits = nested({0, ln2, ln3, ln4});
    const tt::Tensor out = tt::cross_entropy(logits, raw_scalar(2.0f));
    CHECK_THAT(out, tensor_near(raw_scalar(-std::log(0.3f)), 1e-6, 1e-5));
    CHECK_THAT(tt::cross_entropy(logits, raw_scalar(1.0f), tt::Reduction::none), tensor_near(raw_scalar(-std::log(0.2f)), 1e-6, 1e-5));
}

TEST_CASE("cross_entropy reads non-contiguous logits and targets", "[points=2]") {
    const tt::Tensor logits = column_major(random_values({3, 5}, 514, -2.0f, 2.0f));
    const tt::Tensor padded_logits = padded(random_values({3, 5}, 515, -2.0f, 2.0f));
    const tt::Tensor targets = strided({9, 4, 9, 0, 9, 2}, {3}, {2}, 1);  // [4, 0, 2] with stride 2, offset 1
    for (const tt::Tensor& x : {logits, padded_logits}) {
        for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::none}) {
            INFO("reduction " << reduction_name(r) << ", logits " << describe_tensor(x) << ", targets " << describe_tensor(targets));
            CHECK_THAT(tt::cross_entropy(x, targets, r), tensor_near(ref::cross_entropy(x, targets, r), 1e-5, 1e-5));
        }
    }
}

TEST_CASE("cross_entropy of logits near plus and minus 1000 is finite and exact", "[points=3]") {
    // -log p_k = log(sum_j e^(x_j - m)) - (x_k - m): 0, 1000 and 2000 for the three targets.
    const tt::Tensor logits = nested({{1000, 0, -1000}, {1000, 0, -1000}, {1000, 0, -1000}, {-1000, -1000, -1000}});
    const tt::Tensor targets = nested({0, 1, 2, 1});
    const tt::Tensor out = tt::cross_entropy(logits, targets, tt::Reduction::none);
    CHECK(ref::all_finite(out));
    CHECK_THAT(out, tensor_near(nested({0, 1000, 2000, ln3}), 1e-5, 1e-6));
    CHECK_THAT(tt::cross_entropy(logits, targets), tensor_near(raw_scalar((3000 + ln3) / 4), 1e-3, 1e-6));
    // With smoothing 0.2: 0.8 * 0 + 0.2 * (0 + 1000 + 2000) / 3 = 200.
    CHECK_THAT(tt::cross_entropy(nested({{1000, 0, -1000}}), nested({0}), tt::Reduction::mean, 0.2f),
               tensor_near(raw_scalar(200.0f), 1e-3, 1e-5));
}

TEST_CASE("cross_entropy gives classes masked with minus infinity probability 0", "[points=1]") {
    const float inf = std::numeric_limits<float>::infinity();
    const tt::Tensor logits = nested({{0, -inf, 0}, {-inf, ln3, 0}});
    const tt::Tensor out = tt::cross_entropy(logits, nested({0, 1}), tt::Reduction::none);
    CHECK(ref::all_finite(out));
    CHECK_THAT(out, tensor_near(nested({ln2, -std::log(0.75f)}), 1e-6, 1e-5));
}

TEST_CASE("cross_entropy rejects targets that are not class indices naming the op and the value", "[points=3]") {
    const tt::Tensor logits = iota({2, 3});
    {
        const std::string message = error_message([&] { tt::cross_entropy(logits, nested({0, 1.5f})); });
        INFO("a target of 1.5 is not a whole number");
        CHECK_THAT(message, Contains("cross_entropy") && Contains("1.5") && Contains("(2, 3)"));
    }
    {
        const std::string message = error_message([&] { tt::cross_entropy(logits, nested({3, 0})); });
        INFO("a target of 3 with 3 classes (0 to 2)");
        CHECK_THAT(message, Contains("cross_entropy") && Contains("3") && Contains("(2, 3)"));
    }
    {
        const std::string message = error_message([&] { tt::cross_entropy(logits, nested({1, -1})); });
        INFO("a target of -1");
        CHECK_THAT(message, Contains("cross_entropy") && Contains("-1") && Contains("(2, 3)"));
    }
    INFO("targets of the wrong shape");
    CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({0, 1, 2})); }),
               Contains("cross_entropy") && Contains("(2, 3)") && Contains("(3)"));
    CHECK_THAT(error_message([&] { tt::cross_entropy(logits, nested({{0}, {1}})); }),
               Contains("cross_entropy") && Contains("(2, 1)"));
    INFO("valid targets still work after the checks");
    CHECK_THAT(tt::cross_entropy(logits, nested({2, 2}), tt::Reduction::none),
               tensor_near(ref::cross_entropy(logits, nested({2, 2}), tt::Reduction::none), 1e-5, 1e-5));
}

TEST_CASE("cross_entropy saves the softmax probabilities for its backward", "[points=2]") {
    tt::Tensor logits = nested({{0, ln2, ln3, ln4}, {1, 1, 1, 1}}).requires_grad_();
    const tt::Tensor out = tt::cross_entropy(logits, nested({1, 3}));
    REQUIRE(out.grad_fn() != nullptr);
    CHECK(std::string(out.grad_fn()->name()) == "CrossEntropyBackward");
    auto* node = dynamic_cast<tt::CrossEntropyBackward*>(out.grad_fn().get());
    REQUIRE(node != nullptr);
    REQUIRE(node->probabilities.defined());
    CHECK_THAT(node->probabilities, tensor_near(nested({{0.1f, 0.2f, 0.3f, 0.4f}, {0.25f, 0.25f, 0.25f, 0.25f}}), 1e-6, 1e-5));
    CHECK(node->probabilities.grad_fn() == nullptr);
    // No node when nothing requires grad.
    const tt::Tensor plain = tt::cross_entropy(nested({{1, 2}}), nested({0}));
    CHECK(plain.grad_fn() == nullptr);
    CHECK_THAT(plain, tensor_near(raw_scalar(1.3132617f), 1e-6, 1e-5));
}

TEST_CASE("gradient_check of cross_entropy with respect to the logits", "[points=3]") {
    const tt::Tensor logits = random_values({4, 5}, 516, -2.0f, 2.0f);
    const tt::Tensor targets = nested({1, 4, 0, 1});
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        for (float s : {0.0f, 0.15f}) {
            INFO("reduction " << reduction_name(r) << ", label_smoothing " << s);
            CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return tt::cross_entropy(in[0], targets, r, s); }, {logits}));
        }
    }
    INFO("one example given as (C,)");
    CHECK(gradient_check([](const std::vector<tt::Tensor>& in) { return tt::cross_entropy(in[0], raw_scalar(2.0f)); },
                         {nested({0.5f, -1, 2, 0})}));
}

TEST_CASE("cross_entropy gradient at huge logits is softmax minus one-hot", "[points=1]") {
    tt::Tensor logits = nested({{1000, 0, -1000}, {0, 0, 0}}).requires_grad_();
    tt::cross_entropy(logits, nested({1, 2}), tt::Reduction::sum).backward();
    REQUIRE(logits.grad().defined());
    CHECK_THAT(logits.grad(), tensor_near(nested({{1, -1, 0}, {1.0f / 3, 1.0f / 3, -2.0f / 3}}), 1e-6, 1e-5));
}
