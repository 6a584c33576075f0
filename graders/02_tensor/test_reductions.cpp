// test_reductions.cpp - module 02 grader: sum, mean, max, argmax over everything and along a dim
// (negative dims, keepdim, non-contiguous inputs, ties). Expected values come from plain loops.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>

#include "grading.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

enum class Kind { sum, mean, max, argmax };

// The reduction of x along `dim` (nullopt: over everything) by plain loops over raw values.
// Sums in double; max and argmax keep the first maximum.
tt::Tensor reference_reduce(const tt::Tensor& x, std::optional<int64_t> dim, bool keepdim, Kind kind) {
    const tt::Shape& shape = x.shape();
    const std::vector<float> v = values_of(x);
    if (!dim) {
        double total = 0.0;
        float best = v.empty() ? 0.0f : v[0];
        int64_t where = 0;
        for (size_t i = 0; i < v.size(); ++i) {
            total += v[i];
            if (v[i] > best) {
                best = v[i];
                where = static_cast<int64_t>(i);
            }
        }
        switch (kind) {
            case Kind::sum: return raw_scalar(static_cast<float>(total));
            case Kind::mean: return raw_scalar(static_cast<float>(total / static_cast<double>(v.size())));
            case Kind::max: return raw_scalar(best);
            case Kind::argmax: return raw_scalar(static_cast<float>(where));
        }
    }
    const int64_t d = *dim < 0 ? *dim + static_cast<int64_t>(shape.size()) : *dim;
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < d; ++i) outer *= shape[i];
    for (size_t i = static_cast<size_t>(d) + 1; i < shape.size(); ++i) inner *= shape[i];
    const int64_t size = shape[d];
    std::vector<float> out;
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            double total = 0.0;
            float best = v[static_cast<size_t>(o * size * inner + i)];
            int64_t where = 0;
            for (int64_t k = 0; k < size; ++k) {
                const float value = v[static_cast<size_t>((o * size + k) * inner + i)];
                total += value;
                if (value > best) {
                    best = value;
                    where = k;
                }
            }
            switch (kind) {
                case Kind::sum: out.push_back(static_cast<float>(total)); break;
                case Kind::mean: out.push_back(static_cast<float>(total / static_cast<double>(size))); break;
                case Kind::max: out.push_back(best); break;
                case Kind::argmax: out.push_back(static_cast<float>(where)); break;
            }
        }
    }
    tt::Shape out_shape = shape;
    if (keepdim) {
        out_shape[d] = 1;
    } else {
        out_shape.erase(out_shape.begin() + d);
    }
    return raw(out, out_shape);
}

}  // namespace

TEST_CASE("sum mean max and argmax over all elements give 0-d tensors", "[points=1]") {
    const tt::Tensor x = nested({{1, -2, 3}, {4, 5, -6}});
    tt::Tensor s = tt::sum(x), m = tt::mean(x), mx = tt::max(x), am = tt::argmax(x);
    CHECK(s.dim() == 0);
    CHECK(m.dim() == 0);
    CHECK(mx.dim() == 0);
    CHECK(am.dim() == 0);
    CHECK_THAT(s, tensor_near(raw_scalar(5.0f)));
    CHECK_THAT(m, tensor_near(raw_scalar(5.0f / 6.0f)));
    CHECK_THAT(mx, tensor_equal(raw_scalar(5.0f)));
    CHECK_THAT(am, tensor_equal(raw_scalar(4.0f)));
    CHECK_THAT(tt::sum(raw_scalar(2.5f)), tensor_equal(raw_scalar(2.5f)));
}

TEST_CASE("sum and mean along dim 0 and dim 1 of a matrix with and without keepdim", "[points=1]") {
    {  // sum over dim 0 and dim 1 of a matrix with and without keepdim
        const tt::Tensor x = nested({{1, 2, 3}, {4, 5, 6}});
        CHECK_THAT(tt::sum(x, 0), tensor_equal(nested({5, 7, 9})));
        CHECK_THAT(tt::sum(x, 1), tensor_equal(nested({6, 15})));
        CHECK_THAT(tt::sum(x, 0, true), tensor_equal(nested({{5, 7, 9}})));
        CHECK_THAT(tt::sum(x, 1, true), tensor_equal(nested({{6}, {15}})));
        CHECK_THAT(tt::sum(x, -1), tensor_equal(nested({6, 15})));
        CHECK_THAT(tt::sum(x, -2, true), tensor_equal(nested({{5, 7, 9}})));
    }
    {  // mean over a dim divides by that dim's size
        const tt::Tensor x = nested({{1, 2, 3, 6}, {4, 5, 6, 9}});
        CHECK_THAT(tt::mean(x, 0), tensor_near(nested({2.5f, 3.5f, 4.5f, 7.5f})));
        CHECK_THAT(tt::mean(x, 1), tensor_near(nested({3, 6})));
        CHECK_THAT(tt::mean(x, 1, true), tensor_near(nested({{3}, {6}})));
        CHECK_THAT(tt::mean(x), tensor_near(raw_scalar(4.5f)));
    }
}

TEST_CASE("sum and mean over every dim of a 3-d tensor with negative dims and keepdim", "[points=2]") {
    const tt::Tensor x = random_values({3, 4, 5}, 7);
    for (int64_t dim : {0, 1, 2, -1, -2, -3}) {
        for (bool keepdim : {false, true}) {
            INFO("dim " << dim << " keepdim " << keepdim);
            CHECK_THAT(tt::sum(x, dim, keepdim), tensor_near(reference_reduce(x, dim, keepdim, Kind::sum)));
            CHECK_THAT(tt::mean(x, dim, keepdim), tensor_near(reference_reduce(x, dim, keepdim, Kind::mean)));
        }
    }
}

TEST_CASE("max and argmax along a dim with keepdim", "[points=1]") {
    const tt::Tensor x = nested({{1, 9, 3}, {7, 5, 8}});
    CHECK_THAT(tt::max(x, 0), tensor_equal(nested({7, 9, 8})));
    CHECK_THAT(tt::argmax(x, 0), tensor_equal(nested({1, 0, 1})));
    CHECK_THAT(tt::max(x, 1), tensor_equal(nested({9, 8})));
    CHECK_THAT(tt::argmax(x, 1), tensor_equal(nested({1, 2})));
    CHECK_THAT(tt::max(x, -1, true), tensor_equal(nested({{9}, {8}})));
    CHECK_THAT(tt::argmax(x, -1, true), tensor_equal(nested({{1}, {2}})));
    const tt::Tensor y = random_values({3, 4, 5}, 8);
    for (int64_t dim : {0, 1, 2, -2}) {
        for (bool keepdim : {false, true}) {
            INFO("dim " << dim << " keepdim " << keepdim);
            CHECK_THAT(tt::max(y, dim, keepdim), tensor_equal(reference_reduce(y, dim, keepdim, Kind::max)));
            CHECK_THAT(tt::argmax(y, dim, keepdim), tensor_equal(reference_reduce(y, dim, keepdim, Kind::argmax)));
        }
    }
}

TEST_CASE("max and argmax of all-negative values and ties pick the first maximum", "[points=1]") {
    {  // max and argmax of all-negative values
        const tt::Tensor x = nested({{-5, -3, -4}, {-2, -8, -7}});
        CHECK_THAT(tt::max(x), tensor_equal(raw_scalar(-2.0f)));
        CHECK_THAT(tt::argmax(x), tensor_equal(raw_scalar(3.0f)));
        CHECK_THAT(tt::max(x, 1), tensor_equal(nested({-3, -2})));
        CHECK_THAT(tt::argmax(x, 0), tensor_equal(nested({1, 0, 0})));
    }
    {  // argmax and max break ties with the first maximum
        const tt::Tensor x = nested({{2, 7, 7}, {7, 1, 7}, {3, 3, 3}});
        CHECK_THAT(tt::argmax(x), tensor_equal(raw_scalar(1.0f)));
        CHECK_THAT(tt::argmax(x, 1), tensor_equal(nested({1, 0, 0})));
        CHECK_THAT(tt::argmax(x, 0), tensor_equal(nested({1, 0, 0})));
        CHECK_THAT(tt::max(x, 1), tensor_equal(nested({7, 7, 3})));
        CHECK_THAT(tt::argmax(nested({4, 4, 4, 4})), tensor_equal(raw_scalar(0.0f)));
    }
}

TEST_CASE("reductions of transposed padded expanded and offset inputs", "[points=2]") {
    {  // reductions of transposed padded and expanded inputs
        const tt::Tensor t = column_major(random_values({4, 3, 2}, 9));
        const tt::Tensor p = padded(random_values({2, 5, 3}, 10));
        const tt::Tensor e = strided({1, 5, 2}, {4, 3}, {0, 1});  // rows [1, 5, 2] repeated 4 times
        for (const tt::Tensor& x : {t, p, e}) {
            INFO("input " << describe_tensor(x));
            CHECK_THAT(tt::sum(x), tensor_near(reference_reduce(x, std::nullopt, false, Kind::sum)));
            CHECK_THAT(tt::mean(x), tensor_near(reference_reduce(x, std::nullopt, false, Kind::mean)));
            CHECK_THAT(tt::max(x), tensor_equal(reference_reduce(x, std::nullopt, false, Kind::max)));
            CHECK_THAT(tt::argmax(x), tensor_equal(reference_reduce(x, std::nullopt, false, Kind::argmax)));
            for (int64_t dim = 0; dim < x.dim(); ++dim) {
                INFO("dim " << dim);
                CHECK_THAT(tt::sum(x, dim), tensor_near(reference_reduce(x, dim, false, Kind::sum)));
                CHECK_THAT(tt::mean(x, dim, true), tensor_near(reference_reduce(x, dim, true, Kind::mean)));
                CHECK_THAT(tt::max(x, dim), tensor_equal(reference_reduce(x, dim, false, Kind::max)));
                CHECK_THAT(tt::argmax(x, dim, true), tensor_equal(reference_reduce(x, dim, true, Kind::argmax)));
            }
        }
    }
    {  // reductions keep the offset of a view
        const tt::Tensor base = iota({4, 3});
        const tt::Tensor rows(base.storage(), {2, 3}, {3, 1}, 6);  // rows 2 and 3: [[6, 7, 8], [9, 10, 11]]
        CHECK_THAT(tt::sum(rows), tensor_equal(raw_scalar(51.0f)));
        CHECK_THAT(tt::sum(rows, 0), tensor_equal(nested({15, 17, 19})));
        CHECK_THAT(tt::max(rows, 1), tensor_equal(nested({8, 11})));
        CHECK_THAT(tt::argmax(rows), tensor_equal(raw_scalar(5.0f)));
    }
}

TEST_CASE("sum of many elements keeps float precision", "[points=1]") {
    // A float has 24 bits of mantissa: a float running total of 2^20 copies of 0.1 drifts to
    // 105891.8 (1% off). Accumulate in double (or pairwise) to get 104857.6.
    const int64_t n = int64_t{1} << 20;
    const tt::Tensor tenths = strided({0.1f}, {n}, {0});  // one float read n times (stride 0)
    const double expected = static_cast<double>(n) * static_cast<double>(0.1f);
    CHECK_THAT(tt::sum(tenths), tensor_near(raw_scalar(static_cast<float>(expected)), 0.0, 1e-5));
    CHECK_THAT(tt::mean(tenths), tensor_near(raw_scalar(0.1f), 0.0, 1e-5));
    const tt::Tensor rows = strided({0.1f}, {2, n / 2}, {0, 0});
    CHECK_THAT(tt::sum(rows, 1), tensor_near(raw(std::vector<float>(2, static_cast<float>(expected / 2)), {2}), 0.0, 1e-5));
}

TEST_CASE("sum and mean along a leading or middle dim of millions of elements keep float precision", "[points=1]") {
    // Reducing dim 0 of an (n, 2) tensor: one running total per column, n = 2^21 terms each. In
    // float each total drifts by 1-2% (0.1f added 2^21 times gives 206132.8, not 209715.2); the
    // accumulators of every reduction path need double (or pairwise summation).
    const int64_t n = int64_t{1} << 21;
    const tt::Tensor columns = strided({0.1f, 0.7f}, {n, 2}, {0, 1});  // 2 floats read n times
    const double tenth = static_cast<double>(0.1f), seven = static_cast<double>(0.7f);
    INFO("sum along dim 0 of " << describe_tensor(columns));
    CHECK_THAT(tt::sum(columns, 0),
               tensor_near(nested({static_cast<float>(n * tenth), static_cast<float>(n * seven)}), 0.0, 1e-5));
    CHECK_THAT(tt::mean(columns, 0, true), tensor_near(nested({{0.1f, 0.7f}}), 0.0, 1e-5));
    const tt::Tensor middle = strided({0.3f, 0.1f}, {2, n / 2, 2}, {0, 0, 1});  // (2, n/2, 2) along dim 1
    const float expected_3 = static_cast<float>(static_cast<double>(n / 2) * static_cast<double>(0.3f));
    const float expected_1 = static_cast<float>(static_cast<double>(n / 2) * tenth);
    INFO("sum along dim 1 of " << describe_tensor(middle));
    CHECK_THAT(tt::sum(middle, 1), tensor_near(nested({{expected_3, expected_1}, {expected_3, expected_1}}), 0.0, 1e-5));
}

TEST_CASE("max and argmax propagate NaN like PyTorch: the maximum is the first NaN", "[points=1]") {
    const float nan = std::nanf("");
    INFO("every comparison with NaN is false, so `v > best` skips a NaN unless it comes first; PyTorch's max returns "
         "NaN whenever there is one, and argmax the index of the first NaN");
    CHECK(std::isnan(values_of(tt::max(nested({1, nan, 3, nan})))[0]));
    CHECK_THAT(tt::argmax(nested({1, nan, 3, nan})), tensor_equal(raw_scalar(1.0f)));
    CHECK_THAT(tt::argmax(nested({{4, 5}, {6, nan}})), tensor_equal(raw_scalar(3.0f)));
    const tt::Tensor x = nested({{1, nan, 2}, {4, 5, 6}, {nan, nan, 0}});
    CHECK_THAT(tt::max(x, 1), tensor_equal(nested({nan, 6, nan})));
    CHECK_THAT(tt::argmax(x, 1), tensor_equal(nested({1, 2, 0})));
    CHECK_THAT(tt::max(x, 0), tensor_equal(nested({nan, nan, 6})));
    CHECK_THAT(tt::argmax(x, 0), tensor_equal(nested({2, 0, 1})));
    CHECK_THAT(tt::argmax(column_major(x), -2, true), tensor_equal(nested({{2, 0, 1}})));
}

TEST_CASE("reduction methods equal the free functions", "[points=1]") {
    const tt::Tensor x = random_values({3, 4}, 12);
    CHECK_THAT(x.sum(), tensor_near(reference_reduce(x, std::nullopt, false, Kind::sum)));
    CHECK_THAT(x.sum(1, true), tensor_near(reference_reduce(x, 1, true, Kind::sum)));
    CHECK_THAT(x.mean(), tensor_near(reference_reduce(x, std::nullopt, false, Kind::mean)));
    CHECK_THAT(x.mean(0), tensor_near(reference_reduce(x, 0, false, Kind::mean)));
    CHECK_THAT(x.max(), tensor_equal(reference_reduce(x, std::nullopt, false, Kind::max)));
    CHECK_THAT(x.max(-1), tensor_equal(reference_reduce(x, -1, false, Kind::max)));
    CHECK_THAT(x.argmax(), tensor_equal(reference_reduce(x, std::nullopt, false, Kind::argmax)));
    CHECK_THAT(x.argmax(0, true), tensor_equal(reference_reduce(x, 0, true, Kind::argmax)));
}

TEST_CASE("reductions reject a dim out of range and max of nothing", "[points=1]") {
    const tt::Tensor x = iota({2, 3});
    CHECK_THAT(error_message([&] { tt::sum(x, 2); }), Contains("sum"));
    CHECK_THAT(error_message([&] { tt::mean(x, -3); }), Contains("mean"));
    CHECK_THAT(error_message([&] { tt::max(x, 5); }), Contains("max"));
    CHECK_THAT(error_message([&] { tt::argmax(x, -4, true); }), Contains("argmax"));
    CHECK_THAT(error_message([&] { tt::max(raw({}, {0})); }), Contains("max"));
}

TEST_CASE("sum of an empty tensor is 0 and reducing a size-0 dim gives zeros", "[points=1]") {
    CHECK_THAT(tt::sum(raw({}, {0})), tensor_equal(raw_scalar(0.0f)));
    CHECK_THAT(tt::sum(raw({}, {0, 3}), 0), tensor_equal(nested({0, 0, 0})));
    CHECK(tt::sum(raw({}, {0, 3}), 1).shape() == tt::Shape{0});
}
