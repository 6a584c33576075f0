// test_mse.cpp - module 05 grader: mse_loss. Hand-computed values, the three reductions,
// non-contiguous and 0-d inputs, the shape check, and gradients (mse_loss is built from module 02
// ops, so its gradient reaches both arguments).
#include <catch2/catch.hpp>

#include <vector>

#include "grading.h"
#include "loss_reference.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = loss_reference;

TEST_CASE("mse_loss averages the squared differences on hand-computed values", "[points=2]") {
    // differences [[0, 2], [-2, 0]] -> squares [[0, 4], [4, 0]] -> mean 2
    const tt::Tensor input = nested({{1, 2}, {3, 4}});
    const tt::Tensor target = nested({{1, 0}, {5, 4}});
    CHECK_THAT(tt::mse_loss(input, target), tensor_near(raw_scalar(2.0f), 1e-6, 1e-6));
    CHECK_THAT(tt::mse_loss(nested({0.5f, -1, 2}), nested({0, 1, 2})), tensor_near(raw_scalar(4.25f / 3), 1e-6, 1e-6));
}

TEST_CASE("mse_loss with sum and none reductions", "[points=2]") {
    const tt::Tensor input = nested({{1, 2}, {3, 4}});
    const tt::Tensor target = nested({{1, 0}, {5, 4}});
    CHECK_THAT(tt::mse_loss(input, target, tt::Reduction::sum), tensor_near(raw_scalar(8.0f), 1e-6, 1e-6));
    CHECK_THAT(tt::mse_loss(input, target, tt::Reduction::none), tensor_near(nested({{0, 4}, {4, 0}}), 1e-6, 1e-6));
    CHECK_THAT(tt::mse_loss(input, target, tt::Reduction::mean), tensor_near(raw_scalar(2.0f), 1e-6, 1e-6));
    const tt::Tensor a = random_values({2, 3, 4}, 501), b = random_values({2, 3, 4}, 502);
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << static_cast<int>(r) << " (0 mean, 1 sum, 2 none) of (2, 3, 4) inputs");
        CHECK_THAT(tt::mse_loss(a, b, r), tensor_near(ref::mse(a, b, r), 1e-5, 1e-5));
    }
}

TEST_CASE("mse_loss of non-contiguous and 0-d inputs", "[points=1]") {
    const tt::Tensor a = column_major(random_values({3, 4}, 503)), b = padded(random_values({3, 4}, 504));
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << static_cast<int>(r) << ", input " << describe_tensor(a) << ", target " << describe_tensor(b));
        CHECK_THAT(tt::mse_loss(a, b, r), tensor_near(ref::mse(a, b, r), 1e-5, 1e-5));
    }
    CHECK_THAT(tt::mse_loss(raw_scalar(3.0f), raw_scalar(1.0f)), tensor_near(raw_scalar(4.0f), 1e-6, 1e-6));
}

TEST_CASE("mse_loss gradients reach input and target", "[points=2]") {
    const tt::Tensor a = random_values({3, 4}, 505), b = random_values({3, 4}, 506);
    for (tt::Reduction r : {tt::Reduction::mean, tt::Reduction::sum, tt::Reduction::none}) {
        INFO("reduction " << static_cast<int>(r) << " (0 mean, 1 sum, 2 none)");
        CHECK(gradient_check([r](const std::vector<tt::Tensor>& in) { return tt::mse_loss(in[0], in[1], r); }, {a, b}));
    }
    // d mean((x - y)^2) / dx = 2 (x - y) / n, by hand
    tt::Tensor x = nested({1, 2, 4}).requires_grad_();
    tt::mse_loss(x, nested({0, 2, 1})).backward();
    REQUIRE(x.grad().defined());
    CHECK_THAT(x.grad(), tensor_near(nested({2.0f / 3, 0, 2}), 1e-6, 1e-6));
}

TEST_CASE("mse_loss refuses to broadcast input and target of different shapes", "[points=1]") {
    // (N, 1) predictions against (N,) targets would broadcast to (N, N): a silent bug.
    CHECK_THAT(error_message([] { tt::mse_loss(iota({3, 1}), iota({3})); }),
               Contains("mse_loss") && Contains("(3, 1)") && Contains("(3)"));
    CHECK_THAT(tt::mse_loss(iota({3, 1}), iota({3, 1}, 1.0f)), tensor_near(raw_scalar(1.0f), 1e-6, 1e-6));
}
