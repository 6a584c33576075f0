// test_tensor_reductions.cpp - module 02: sum, mean, max, argmax over everything and along a dim
// (engine/src/02_tensor/reductions.cpp). Expected values are hand-computed or come from plain
// loops over grading.h's raw-storage readers.
#include <catch2/catch.hpp>

#include <cmath>

#include "grading.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

// Plain-loop reference: reduce `x` along `dim` with `init` and `combine`, keepdim.
template <class F>
tt::Tensor reference_reduce(const tt::Tensor& x, int64_t dim, float init, F combine) {
    tt::Shape out_shape = x.shape();
    out_shape[dim] = 1;
    std::vector<float> out(static_cast<size_t>(count_of(out_shape)), init);
    std::vector<int64_t> index(x.shape().size(), 0);
    if (count_of(x.shape()) > 0) {
        do {
            std::vector<int64_t> o = index;
            o[dim] = 0;
            int64_t flat = 0;
            for (size_t d = 0; d < o.size(); ++d) flat = flat * out_shape[d] + o[d];
            out[static_cast<size_t>(flat)] = combine(out[static_cast<size_t>(flat)], element(x, index), index[dim]);
        } while (next_index(index, x.shape()));
    }
    return raw(out, out_shape);
}

// The same values without dimension `dim` (of size 1).
tt::Tensor drop_dim(const tt::Tensor& t, int64_t dim) {
    tt::Shape shape = t.shape();
    shape.erase(shape.begin() + dim);
    return raw(values_of(t), shape);
}

// x's values in a layout with gaps: every other float of the last dim (a slice with step 2).
tt::Tensor stepped(const tt::Tensor& x) {
    const tt::Shape& shape = x.shape();
    std::vector<float> storage(static_cast<size_t>(2 * count_of(shape)), 1e6f);
    const std::vector<float> values = values_of(x);
    for (size_t i = 0; i < values.size(); ++i) storage[2 * i] = values[i];
    tt::Strides strides = row_major_strides(shape);
    for (int64_t& s : strides) s *= 2;
    return strided(storage, shape, strides);
}

}  // namespace

TEST_CASE("tensor: sum and mean hand-computed", "[02][tensor][reductions]") {
    const tt::Tensor x = nested({{1, 2, 3}, {4, 5, 6}});
    CHECK(tt::sum(x).dim() == 0);
    CHECK(tt::sum(x).item() == 21.0f);
    CHECK(tt::mean(x).item() == 3.5f);
    CHECK_THAT(tt::sum(x, 0), tensor_equal(nested({5, 7, 9})));
    CHECK_THAT(tt::sum(x, 1), tensor_equal(nested({6, 15})));
    CHECK_THAT(tt::sum(x, -1, true), tensor_equal(nested({{6}, {15}})));
    CHECK_THAT(tt::sum(x, 0, true), tensor_equal(nested({{5, 7, 9}})));
    CHECK_THAT(tt::mean(x, 0), tensor_equal(nested({2.5f, 3.5f, 4.5f})));
    CHECK_THAT(tt::mean(x, 1, true), tensor_equal(nested({{2}, {5}})));
    CHECK_THAT(x.sum(1), tensor_equal(nested({6, 15})));  // the method forms
    CHECK(x.mean().item() == 3.5f);
    CHECK_THAT(x.mean(-2), tensor_equal(nested({2.5f, 3.5f, 4.5f})));
    CHECK(x.sum().item() == 21.0f);

    SECTION("0-d, size-1 and empty tensors") {
        CHECK(tt::sum(raw_scalar(4)).item() == 4.0f);
        CHECK(tt::sum(raw_scalar(4), 0).dim() == 0);      // dim 0 of a 0-d tensor is allowed
        CHECK(tt::sum(raw_scalar(4), -1, true).item() == 4.0f);
        CHECK(tt::mean(raw_scalar(4), 0).item() == 4.0f);
        CHECK_THAT(tt::sum(nested({{7}}), 1), tensor_equal(nested({7})));
        CHECK(tt::sum(raw({}, {0, 3})).item() == 0.0f);
        CHECK_THAT(tt::sum(raw({}, {0, 3}), 0), tensor_equal(nested({0, 0, 0})));
        CHECK(tt::sum(raw({}, {0, 3}), 1).shape() == tt::Shape{0});
        CHECK(std::isnan(tt::mean(raw({}, {0})).item()));  // 0 / 0, as in PyTorch
    }
    SECTION("errors name the op") {
        CHECK_THAT(error_message([&] { tt::sum(x, 2); }), Contains("sum") && Contains("2"));
        CHECK_THAT(error_message([&] { tt::mean(x, -3); }), Contains("mean"));
    }
}

TEST_CASE("tensor: sum accumulates precisely", "[02][tensor][reductions]") {
    // 2^24 + 1 cannot be held by a float running total: it would stall at 16777216.
    const tt::Tensor ones = raw(std::vector<float>(1 << 24 | 3, 1.0f), {(1 << 24) | 3});
    CHECK(tt::sum(ones).item() == 16777220.0f);  // the float nearest to 16777219
    const tt::Tensor tenths = raw(std::vector<float>(100000, 0.1f), {1000, 100});
    CHECK(tt::mean(tenths).item() == Approx(0.1f).epsilon(1e-6));
    CHECK_THAT(tt::sum(tenths, 0), tensor_near(raw(std::vector<float>(100, 100.0f), {100}), 1e-3));
}

TEST_CASE("tensor: sum along a leading dim of millions of elements keeps float precision", "[02][tensor][reductions]") {
    // (2^21, 2) summed along dim 0: a float running total per column would drift by ~1%.
    const int64_t n = int64_t{1} << 21;
    const tt::Tensor tenths = strided({0.1f, 0.3f}, {n, 2}, {0, 1});
    const double exact = static_cast<double>(n) * static_cast<double>(0.1f);
    CHECK_THAT(tt::sum(tenths, 0), tensor_near(nested({static_cast<float>(exact), static_cast<float>(3 * exact)}), 0.0, 1e-6));
    CHECK_THAT(tt::mean(tenths, 0, true), tensor_near(nested({{0.1f, 0.3f}}), 0.0, 1e-6));
    CHECK_THAT(tt::sum(strided({0.1f}, {2, n, 2}, {0, 0, 0}), 1),
               tensor_near(raw(std::vector<float>(4, static_cast<float>(exact)), {2, 2}), 0.0, 1e-6));
}

TEST_CASE("tensor: max and argmax propagate NaN like PyTorch", "[02][tensor][reductions][nan]") {
    const float nan = std::nanf("");
    CHECK(std::isnan(tt::max(nested({1, nan, 3, nan})).item()));
    CHECK(tt::argmax(nested({1, nan, 3, nan})).item() == 1.0f);  // the first NaN
    CHECK(tt::argmax(nested({5, 3, nan})).item() == 2.0f);
    CHECK(std::isnan(tt::max(nested({nan, 3})).item()));
    const tt::Tensor x = nested({{1, nan, 2}, {4, 5, 6}, {nan, nan, 0}});
    CHECK_THAT(tt::max(x, 1), tensor_equal(nested({nan, 6, nan})));
    CHECK_THAT(tt::argmax(x, 1), tensor_equal(nested({1, 2, 0})));
    CHECK_THAT(tt::max(x, 0), tensor_equal(nested({nan, nan, 6})));
    CHECK_THAT(tt::argmax(x, 0), tensor_equal(nested({2, 0, 1})));
    CHECK_THAT(tt::argmax(x.t(), 0, true), tensor_equal(nested({{1, 2, 0}})));
}

TEST_CASE("tensor: max and argmax hand-computed, first maximum on ties", "[02][tensor][reductions]") {
    const tt::Tensor x = nested({{1, 7, 7}, {9, 2, 9}});
    CHECK(tt::max(x).item() == 9.0f);
    CHECK(tt::argmax(x).item() == 3.0f);  // the first 9, in row-major order
    CHECK(tt::argmax(x).dim() == 0);
    CHECK_THAT(tt::max(x, 1), tensor_equal(nested({7, 9})));
    CHECK_THAT(tt::argmax(x, 1), tensor_equal(nested({1, 0})));
    CHECK_THAT(tt::argmax(x, 1, true), tensor_equal(nested({{1}, {0}})));
    CHECK_THAT(tt::max(x, 0), tensor_equal(nested({9, 7, 9})));
    CHECK_THAT(tt::argmax(x, 0), tensor_equal(nested({1, 0, 1})));
    CHECK_THAT(tt::max(x, -2, true), tensor_equal(nested({{9, 7, 9}})));
    CHECK_THAT(x.max(1), tensor_equal(nested({7, 9})));
    CHECK_THAT(x.argmax(0), tensor_equal(nested({1, 0, 1})));
    CHECK(x.max().item() == 9.0f);
    CHECK(x.argmax().item() == 3.0f);
    CHECK(tt::max(nested({-5, -2, -9})).item() == -2.0f);  // all negative: no hidden 0 start
    CHECK(tt::argmax(nested({-5, -2, -9})).item() == 1.0f);
    CHECK(tt::argmax(nested({3, 3, 3})).item() == 0.0f);
    CHECK_THAT(tt::argmax(nested({{5, 1}, {5, 2}, {4, 2}}), 0), tensor_equal(nested({0, 1})));  // ties along dim 0
    CHECK_THAT(tt::argmax(nested({{5, 1}, {5, 2}, {4, 2}}).t(), 1), tensor_equal(nested({0, 1})));
    CHECK(tt::max(raw_scalar(-1)).item() == -1.0f);
    CHECK(tt::argmax(raw_scalar(-1), 0).item() == 0.0f);
    CHECK_THAT(error_message([] { tt::max(raw({}, {0})); }), Contains("max") && Contains("(0)"));
    CHECK_THAT(error_message([] { tt::argmax(raw({}, {2, 0}), 1); }), Contains("argmax") && Contains("(2, 0)"));
    CHECK_THAT(error_message([&] { tt::max(x, 5); }), Contains("max"));
}

TEST_CASE("tensor: reductions on every layout and dim", "[02][tensor][reductions][layout]") {
    const tt::Tensor x = random_values({3, 4, 5}, 41);
    const tt::Tensor layouts[] = {x, padded(x), column_major(x), stepped(x),
                                  raw(values_of(x.permute({2, 0, 1})), {5, 3, 4}).permute({1, 2, 0})};
    double total = 0;
    for (float v : values_of(x)) total += v;
    for (const tt::Tensor& t : layouts) {
        CHECK(tt::sum(t).item() == Approx(total).margin(1e-5));
        CHECK(tt::mean(t).item() == Approx(total / 60).margin(1e-6));
        for (int64_t d = 0; d < 3; ++d) {
            INFO("dim " << d);
            const tt::Tensor sums = reference_reduce(x, d, 0.0f, [](float acc, float v, int64_t) { return acc + v; });
            CHECK_THAT(tt::sum(t, d, true), tensor_near(sums));
            CHECK_THAT(tt::sum(t, d), tensor_near(drop_dim(sums, d)));
            const float n = static_cast<float>(x.shape()[d]);
            CHECK_THAT(tt::mean(t, d - 3, true),
                       tensor_near(reference_reduce(x, d, 0.0f, [n](float acc, float v, int64_t) { return acc + v / n; })));
            const tt::Tensor maxima = reference_reduce(x, d, -1e30f, [](float acc, float v, int64_t) { return v > acc ? v : acc; });
            CHECK_THAT(tt::max(t, d, true), tensor_equal(maxima));
            CHECK_THAT(tt::max(t, d), tensor_equal(drop_dim(maxima, d)));
            // argmax: the index where the maximum is; check by reading the element back
            const tt::Tensor where = tt::argmax(t, d, true);
            CHECK(where.shape() == maxima.shape());
            std::vector<int64_t> index(3, 0);
            do {
                std::vector<int64_t> at = index;
                at[d] = static_cast<int64_t>(element(where, index));
                CHECK(element(x, at) == element(maxima, index));
            } while (next_index(index, maxima.shape()));
        }
    }
}
