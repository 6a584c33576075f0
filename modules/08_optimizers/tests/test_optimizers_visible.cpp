// test_optimizers_visible.cpp - visible tests of module 08 (optimizers).
//
// `tito test 08` runs these and the hidden tests; the hidden tests look like these, with more
// cases: every SGD option alone and combined (momentum, dampening, Nesterov, weight decay), Adam
// and AdamW over several steps and at t = 10, a parameter that has no gradient on some steps,
// strided parameters and gradients, state() / load_state() round trips and refusals, clipping over
// several tensors, every schedule step by step, and small models trained for three steps. Their
// expected numbers come from PyTorch 1.13's torch.optim with the same settings, never from your code.
//
// The gradients are set by hand with set_grad, so these tests need no backward(): only the update.
// Helpers (grading.h): nested({1, 2}) builds a tensor without your code, leaf(t) marks it
// requires_grad, tensor_near / tensor_equal compare shape and every value, error_message([&] { ... })
// returns the message of the tt::Error the code throws.
#include <catch2/catch.hpp>

#include <vector>

#include "grading.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("one SGD step is p -= lr g in the parameter's own memory", "[visible][points=2]") {
    tt::Tensor w = leaf(nested({1, -2, 3}));
    tt::optim::SGD optimizer({w}, {.lr = 0.1f});
    w.set_grad(nested({0.5f, -1, 2}));
    optimizer.step();
    CHECK_THAT(w, tensor_near(nested({0.95f, -1.9f, 2.8f})));  // w itself changed: the model's tensor
    CHECK_THAT(w.grad(), tensor_equal(nested({0.5f, -1, 2})));  // the gradient is left as it was
}

TEST_CASE("SGD momentum: the buffer starts as the first gradient", "[visible][points=2]") {
    tt::Tensor w = leaf(nested({1, 1}));
    tt::optim::SGD optimizer({w}, {.lr = 0.1f, .momentum = 0.9f});
    w.set_grad(nested({1, -2}));
    optimizer.step();  // b = g = (1, -2): the same step as plain SGD
    CHECK_THAT(w, tensor_near(nested({0.9f, 1.2f})));
    w.set_grad(nested({1, -2}));
    optimizer.step();  // b = 0.9 * (1, -2) + (1, -2) = (1.9, -3.8)
    CHECK_THAT(w, tensor_near(nested({0.71f, 1.58f})));
}

TEST_CASE("a parameter without a gradient is not moved", "[visible][points=2]") {
    tt::Tensor a = leaf(nested({1, 2})), b = leaf(nested({3, 4}));
    tt::optim::SGD optimizer({a, b}, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.5f});
    a.set_grad(nested({1, 1}));  // b took no part in the loss: b.grad() is undefined
    optimizer.step();
    CHECK_THAT(b, tensor_equal(nested({3, 4})));  // no weight decay either
    CHECK_THAT(a, tensor_near(nested({0.85f, 1.8f})));  // 0.1 * (1 + 0.5 * (1, 2))
}

TEST_CASE("Adam's first step moves each element by lr against its gradient", "[visible][points=2]") {
    // t = 1: m = 0.1 g and v = 0.001 g^2, corrected to g and g^2: the step is lr * g / (|g| + eps).
    tt::Tensor w = leaf(nested({1, -2, 3}));
    tt::optim::Adam optimizer({w}, {.lr = 0.1f});
    w.set_grad(nested({0.01f, -100, 0}));
    optimizer.step();
    CHECK_THAT(w, tensor_near(nested({0.9f, -1.9f, 3}), 1e-5, 1e-5));
}

TEST_CASE("AdamW shrinks the weights by 1 - lr weight_decay besides Adam's step", "[visible][points=2]") {
    tt::Tensor w = leaf(nested({1, -2}));
    tt::optim::AdamW optimizer({w}, {.lr = 0.1f, .weight_decay = 0.5f});
    w.set_grad(nested({1, 1}));
    optimizer.step();  // (1, -2) * 0.95 - 0.1 * (1, 1)
    CHECK_THAT(w, tensor_near(nested({0.85f, -2.0f}), 1e-5, 1e-5));
}

TEST_CASE("zero_grad leaves every gradient undefined", "[visible][points=1]") {
    tt::Tensor a = leaf(nested({1, 2})), b = leaf(nested({3}));
    a.set_grad(nested({1, 1}));
    b.set_grad(nested({1}));
    tt::optim::Adam optimizer({a, b}, {});
    optimizer.zero_grad();
    CHECK_FALSE(a.grad().defined());
    CHECK_FALSE(b.grad().defined());
}

TEST_CASE("the constructor refuses a tensor that does not require grad", "[visible][points=1]") {
    const tt::Tensor constant = nested({1, 2});
    CHECK_THAT(error_message([&] { tt::optim::SGD({leaf(nested({1})), constant}, {}); }), Contains("parameter 1"));
}

TEST_CASE("clip_grad_norm_ scales all gradients together and returns the norm before clipping", "[visible][points=2]") {
    tt::Tensor a = leaf(nested({0, 0})), b = leaf(nested({0}));
    a.set_grad(nested({3, 4}));
    b.set_grad(nested({12}));  // joint norm sqrt(9 + 16 + 144) = 13
    const float norm = tt::optim::clip_grad_norm_({a, b}, 6.5f);
    CHECK(norm == Approx(13.0f));
    CHECK_THAT(a.grad(), tensor_near(nested({1.5f, 2})));  // factor 6.5 / (13 + 1e-6): about a half
    CHECK_THAT(b.grad(), tensor_near(nested({6})));
}

TEST_CASE("StepLR halves the learning rate every 2 steps", "[visible][points=1]") {
    tt::Tensor w = leaf(nested({1}));
    tt::optim::SGD optimizer({w}, {.lr = 0.8f});
    tt::optim::StepLR schedule(optimizer, /*step_size=*/2, /*gamma=*/0.5f);
    std::vector<float> seen = {optimizer.lr};
    for (int i = 0; i < 5; ++i) {
        schedule.step();
        seen.push_back(optimizer.lr);
    }
    CHECK_THAT(raw(seen, {6}), tensor_near(nested({0.8f, 0.8f, 0.4f, 0.4f, 0.2f, 0.2f})));
}

TEST_CASE("CosineAnnealingLR: base_lr then halfway between then eta_min", "[visible][points=1]") {
    tt::Tensor w = leaf(nested({1}));
    tt::optim::SGD optimizer({w}, {.lr = 0.5f});
    tt::optim::CosineAnnealingLR schedule(optimizer, /*t_max=*/10, /*eta_min=*/0.1f);
    CHECK(schedule.lr_at(0) == Approx(0.5f));
    CHECK(schedule.lr_at(5) == Approx(0.3f));  // cos(pi / 2) = 0: the middle of 0.5 and 0.1
    CHECK(schedule.lr_at(10) == Approx(0.1f));
    CHECK(schedule.lr_at(20) == Approx(0.1f));  // stays at eta_min after t_max
}
