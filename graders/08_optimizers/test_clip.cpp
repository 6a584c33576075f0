// test_clip.cpp - module 08 grader: clip_grad_norm_, PyTorch's: the 2-norm of all gradients
// together, every gradient scaled by max_norm / (total_norm + 1e-6) when that is below 1, the norm
// before clipping returned.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grading.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

tt::Tensor with_grad(const tt::Tensor& values, const tt::Tensor& grad) {
    tt::Tensor p = leaf(values);
    p.set_grad(grad);
    return p;
}

}  // namespace

TEST_CASE("clip_grad_norm_ scales all gradients by one factor from their joint 2-norm and returns that norm", "[points=2]") {
    // Gradients (3, 4) and (12): the joint norm is sqrt(9 + 16 + 144) = 13 (the first alone is 5).
    // max_norm 6.5 halves both (factor 6.5 / (13 + 1e-6)): the direction of the whole step is kept.
    const tt::Tensor a = with_grad(nested({1, 1}), nested({3, 4}));
    const tt::Tensor b = with_grad(nested({1}), nested({12}));
    const float norm = tt::optim::clip_grad_norm_({a, b}, 6.5f);
    CHECK(norm == Approx(13.0f).epsilon(1e-6));
    CHECK_THAT(a.grad(), tensor_near(nested({1.5f, 2}), 1e-5, 1e-6));
    CHECK_THAT(b.grad(), tensor_near(nested({6}), 1e-5, 1e-6));
    CHECK_THAT(a, tensor_equal(nested({1, 1})));  // the parameters themselves are not touched
    {  // the parameters' own gradients change, in place
        const tt::Tensor g = nested({{6, 8}, {0, 0}});  // norm 10
        const tt::Tensor p = with_grad(nested({{0, 0}, {0, 0}}), g);
        tt::optim::clip_grad_norm_({p}, 1.0f);
        CHECK_THAT(p.grad(), tensor_near(nested({{0.6f, 0.8f}, {0, 0}}), 1e-6, 1e-5));
        INFO("the tensor the parameter's .grad points to is scaled; the next optimizer step reads it");
        CHECK(p.grad().is_same(g));
    }
}

TEST_CASE("clip_grad_norm_ leaves gradients below max_norm unchanged", "[points=1]") {
    const tt::Tensor a = with_grad(nested({0, 0}), nested({3, 4}));
    const float norm = tt::optim::clip_grad_norm_({a}, 10.0f);  // 5 < 10: never scaled up
    CHECK(norm == Approx(5.0f).epsilon(1e-6));
    CHECK_THAT(a.grad(), tensor_equal(nested({3, 4})));
}

TEST_CASE("clip_grad_norm_ ignores parameters without a gradient", "[points=1]") {
    const tt::Tensor none = leaf(nested({100, 100}));
    const tt::Tensor a = with_grad(nested({0, 0}), nested({-3, 4}));
    const float norm = tt::optim::clip_grad_norm_({none, a, none}, 2.5f);
    CHECK(norm == Approx(5.0f).epsilon(1e-6));
    CHECK_THAT(a.grad(), tensor_near(nested({-1.5f, 2}), 1e-5, 1e-6));
    CHECK_FALSE(none.grad().defined());
    CHECK(tt::optim::clip_grad_norm_({none}, 1.0f) == 0.0f);  // no gradient at all: norm 0
    CHECK(tt::optim::clip_grad_norm_({}, 1.0f) == 0.0f);
}

TEST_CASE("clip_grad_norm_ divides by total_norm + 1e-6; which shows on small gradients", "[points=1]") {
    // norm 0.01, max_norm 0.005: factor 0.005 / 0.010001 = 0.49995, not 0.5.
    const tt::Tensor a = with_grad(nested({0, 0}), nested({0.006f, 0.008f}));
    const float norm = tt::optim::clip_grad_norm_({a}, 0.005f);
    CHECK(norm == Approx(0.01f).epsilon(1e-5));
    CHECK_THAT(a.grad(), tensor_near(nested({0.0029997f, 0.0039996f}), 1e-10, 1e-5));
}

TEST_CASE("clip_grad_norm_ over gradients of several shapes and layouts", "[points=1]") {
    // A (2, 3) gradient stored column-major, a 0-d one and a padded (2, 2). Squares: 1 + 4 + 4 + 16 = 25,
    // 25, and 16 + 36 = 52: total norm sqrt(102).
    const tt::Tensor a = with_grad(nested({{0, 0, 0}, {0, 0, 0}}), column_major(nested({{1, 2, 0}, {2, 4, 0}})));
    const tt::Tensor b = with_grad(raw_scalar(0), raw_scalar(-5));
    const tt::Tensor c = with_grad(nested({{0, 0}, {0, 0}}), padded(nested({{4, 0}, {0, 6}})));
    const float norm = tt::optim::clip_grad_norm_({a, b, c}, 2.0f * std::sqrt(102.0f));  // no clipping
    CHECK(norm == Approx(std::sqrt(102.0f)).epsilon(1e-6));
    tt::optim::clip_grad_norm_({a, b, c}, std::sqrt(102.0f) / 2.0f);
    CHECK_THAT(a.grad(), tensor_near(nested({{0.5f, 1, 0}, {1, 2, 0}}), 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(raw_scalar(-2.5f), 1e-5, 1e-5));
    CHECK_THAT(c.grad(), tensor_near(nested({{2, 0}, {0, 3}}), 1e-5, 1e-5));
}

TEST_CASE("clip_grad_norm_ rejects a negative max_norm", "[points=1]") {
    const tt::Tensor a = with_grad(nested({0, 0}), nested({3, 4}));
    CHECK_THAT(error_message([&] { tt::optim::clip_grad_norm_({a}, -1.0f); }), Contains("clip_grad_norm_"));
    CHECK_THAT(a.grad(), tensor_equal(nested({3, 4})));
}
