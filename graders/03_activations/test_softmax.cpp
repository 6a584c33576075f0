// test_softmax.cpp - module 03 grader: softmax and log_softmax on hand-computed values, along every
// dim (negative ones too) of contiguous and non-contiguous inputs. Expected values come from
// activation_reference.h (double precision, plain loops over raw storage).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "activation_reference.h"
#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = activation_reference;

namespace {

// Every slice of `p` along `dim` sums to 1 (checked in double with plain loops).
void check_slices_sum_to_one(const tt::Tensor& p, int64_t dim) {
    for (double total : ref::slice_sums(p, dim)) {
        INFO("a slice along dim " << dim << " of " << describe_tensor(p) << " sums to " << total);
        CHECK(std::fabs(total - 1.0) < 1e-5);
    }
}

}  // namespace

TEST_CASE("softmax of a row on hand-computed values", "[points=2]") {
    // softmax(ln 1, ln 2, ln 3, ln 4) = (1, 2, 3, 4) / 10
    const tt::Tensor x = nested({0, std::log(2.0f), std::log(3.0f), std::log(4.0f)});
    CHECK_THAT(tt::softmax(x), tensor_near(nested({0.1f, 0.2f, 0.3f, 0.4f}), 1e-6, 1e-5));
    CHECK_THAT(tt::softmax(nested({1, 2, 3})), tensor_near(nested({0.09003057f, 0.24472847f, 0.66524096f}), 1e-6, 1e-5));
    CHECK_THAT(tt::softmax(nested({7, 7})), tensor_near(nested({0.5f, 0.5f}), 1e-7, 1e-6));
}

TEST_CASE("log_softmax of a row on hand-computed values", "[points=2]") {
    const tt::Tensor x = nested({0, std::log(2.0f), std::log(3.0f), std::log(4.0f)});
    CHECK_THAT(tt::log_softmax(x),
               tensor_near(nested({std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)}), 1e-5, 1e-5));
    CHECK_THAT(tt::log_softmax(nested({1, 2, 3})), tensor_near(nested({-2.40760596f, -1.40760596f, -0.40760596f}), 1e-5, 1e-5));
    CHECK_THAT(tt::log_softmax(nested({-4, -4})), tensor_near(nested({-0.6931472f, -0.6931472f}), 1e-6, 1e-5));
}

TEST_CASE("softmax normalises each row of a matrix along the last dim by default", "[points=2]") {
    const tt::Tensor x = random_values({4, 5}, 311, -3.0f, 3.0f);
    const tt::Tensor p = tt::softmax(x);
    CHECK_THAT(p, tensor_near(ref::softmax(x, -1), 1e-6, 1e-5));
    check_slices_sum_to_one(p, 1);
    CHECK_THAT(tt::log_softmax(x), tensor_near(ref::log_softmax(x, -1), 1e-5, 1e-5));
}

TEST_CASE("softmax along every dim of a 3-d tensor including negative dims", "[points=3]") {
    const tt::Tensor x = random_values({2, 3, 4}, 312, -3.0f, 3.0f);
    for (int64_t dim : {0, 1, 2, -1, -2, -3}) {
        INFO("softmax(x, " << dim << ") of x = " << describe_tensor(x));
        const tt::Tensor p = tt::softmax(x, dim);
        CHECK_THAT(p, tensor_near(ref::softmax(x, dim), 1e-6, 1e-5));
        if (p.shape() == x.shape()) check_slices_sum_to_one(p, dim);
    }
    INFO("a dim out of range is an error naming the op");
    CHECK_THAT(error_message([&] { tt::softmax(x, 3); }), Contains("softmax") && Contains("3"));
    CHECK_THAT(error_message([&] { tt::log_softmax(x, -4); }), Contains("log_softmax") && Contains("-4"));
}

TEST_CASE("log_softmax along every dim of a 3-d tensor including negative dims", "[points=2]") {
    const tt::Tensor x = random_values({3, 2, 4}, 313, -3.0f, 3.0f);
    for (int64_t dim : {0, 1, 2, -1, -2, -3}) {
        INFO("log_softmax(x, " << dim << ") of x = " << describe_tensor(x));
        CHECK_THAT(tt::log_softmax(x, dim), tensor_near(ref::log_softmax(x, dim), 1e-5, 1e-5));
    }
}

TEST_CASE("log_softmax equals the log of softmax on moderate inputs", "[points=2]") {
    const tt::Tensor x = random_values({3, 4, 2}, 314, -5.0f, 5.0f);
    for (int64_t dim : {0, 1, -1}) {
        INFO("dim " << dim << ", x = " << describe_tensor(x));
        const tt::Tensor logged = reference_unary(tt::softmax(x, dim), [](float p) { return std::log(p); });
        const tt::Tensor direct = tt::log_softmax(x, dim);
        CHECK_THAT(direct, tensor_near(logged, 1e-5, 1e-4));
        CHECK_THAT(direct, tensor_near(ref::log_softmax(x, dim), 1e-5, 1e-5));
    }
}

TEST_CASE("softmax and log_softmax of non-contiguous inputs along a non-last dim", "[points=3]") {
    struct Case {
        const char* what;
        tt::Tensor x;
        int64_t dim;
    };
    const std::vector<Case> cases = {
        {"a transposed (3, 4) along dim 0", column_major(random_values({3, 4}, 315, -2.0f, 2.0f)), 0},
        {"a padded (2, 3, 4) along dim 1", padded(random_values({2, 3, 4}, 316, -2.0f, 2.0f)), 1},
        {"a padded (2, 3, 4) along dim -3", padded(random_values({2, 3, 4}, 317, -2.0f, 2.0f)), -3},
        {"a permuted (2, 3, 4) along dim 2", strided(values_of(random_values({4, 3, 2}, 318, -2.0f, 2.0f)), {2, 3, 4}, {1, 2, 6}), 2},
        {"a transposed view at offset 2 along dim 1", strided({9, 9, -2, 1, -3, 4, 0.5f, 2}, {2, 3}, {1, 2}, 2), 1},
        {"an expanded column (stride 0) along dim 0", strided({1.5f, -0.5f}, {3, 2}, {0, 1}), 0},
    };
    for (const Case& c : cases) {
        INFO(c.what << ": " << describe_tensor(c.x));
        const tt::Tensor p = tt::softmax(c.x, c.dim);
        CHECK_THAT(p, tensor_near(ref::softmax(c.x, c.dim), 1e-6, 1e-5));
        CHECK(p.strides() == row_major_strides(c.x.shape()));
        CHECK_THAT(tt::log_softmax(c.x, c.dim), tensor_near(ref::log_softmax(c.x, c.dim), 1e-5, 1e-5));
    }
}

TEST_CASE("softmax over a dimension of size 1 or of a 0-d tensor is 1 and log_softmax is 0", "[points=1]") {
    const tt::Tensor column = nested({{-3}, {0}, {250}});
    CHECK_THAT(tt::softmax(column, 1), tensor_equal(nested({{1}, {1}, {1}})));
    CHECK_THAT(tt::log_softmax(column, -1), tensor_equal(nested({{0}, {0}, {0}})));
    const tt::Tensor row = nested({{1, -2, 3, 1000}});
    CHECK_THAT(tt::softmax(row, 0), tensor_equal(nested({{1, 1, 1, 1}})));
    CHECK_THAT(tt::log_softmax(row, 0), tensor_equal(nested({{0, 0, 0, 0}})));
    INFO("a 0-d tensor behaves like shape (1,) (as wrap_dim says): dims 0 and -1 are valid");
    CHECK_THAT(tt::softmax(raw_scalar(-7.5f), 0), tensor_equal(raw_scalar(1.0f)));
    CHECK_THAT(tt::log_softmax(raw_scalar(42.0f), -1), tensor_equal(raw_scalar(0.0f)));
}

TEST_CASE("softmax and log_softmax of zero-size tensors return the same empty shape", "[points=1]") {
    // An empty batch (N = 0) reaches softmax as (0, C); a sequence of length 0 as (B, 0, ...).
    // Nothing to compute, but the sizes around dim (outer, size, inner) can each be 0: dividing by
    // one of them, or reading a first element to start the max, crashes or reads out of bounds.
    struct Case {
        tt::Shape shape;
        int64_t dim;
    };
    for (const Case& c : std::vector<Case>{{{0, 3}, 1}, {{0, 3}, 0}, {{3, 0}, 1}, {{3, 0}, 0}, {{2, 0, 3}, 2}, {{2, 0, 3}, 1}, {{0}, 0}}) {
        INFO("shape " << shape_text(c.shape) << ", dim " << c.dim);
        const tt::Tensor x = raw({}, c.shape);
        CHECK(tt::softmax(x, c.dim).shape() == c.shape);
        CHECK(tt::log_softmax(x, c.dim).shape() == c.shape);
    }
}

TEST_CASE("softmax and log_softmax return a new tensor and leave the input unchanged", "[points=1]") {
    tt::Tensor x = nested({{1, 2, 3}, {-1, 0, 4}});
    const tt::Tensor before = raw_copy(x);
    const tt::Tensor p = tt::softmax(x, 0);
    const tt::Tensor lp = tt::log_softmax(x, 1);
    CHECK_THAT(x, tensor_equal(before));
    CHECK_FALSE(shares_storage(p, x));
    CHECK_FALSE(shares_storage(lp, x));
    CHECK_THAT(p, tensor_near(ref::softmax(before, 0), 1e-6, 1e-5));
    CHECK_THAT(lp, tensor_near(ref::log_softmax(before, 1), 1e-5, 1e-5));
}
