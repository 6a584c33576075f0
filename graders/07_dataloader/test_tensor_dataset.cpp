// test_tensor_dataset.cpp - module 07 grader: TensorDataset (rows as examples, gathering rows into
// batches, any layout, errors) and the default Dataset::get_batch (stacking get() results).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "data_helpers.h"
#include "grading.h"
#include "tinytorch/data.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace data_helpers;
using Catch::Matchers::Contains;
namespace data = tt::data;

TEST_CASE("TensorDataset size is the first dimension and get returns row i of both tensors", "[points=2]") {
    data::TensorDataset d(iota({5, 3}), nested({10, 11, 12, 13, 14}));
    CHECK(d.size() == 5);
    for (int64_t i : {0, 3, 4}) {
        INFO("get(" << i << ")");
        const data::Example e = d.get(i);
        const float f = static_cast<float>(3 * i);
        CHECK_THAT(e.input, tensor_equal(nested({f, f + 1, f + 2})));
        CHECK_THAT(e.target, tensor_equal(raw_scalar(static_cast<float>(10 + i))));  // a 0-d tensor, shape ()
    }
    data::TensorDataset two_d_targets(iota({4, 2, 2}), iota({4, 3}, 100.0f));
    CHECK(two_d_targets.size() == 4);
    CHECK_THAT(two_d_targets.get(2).input, tensor_equal(nested({{8, 9}, {10, 11}})));
    CHECK_THAT(two_d_targets.get(2).target, tensor_equal(nested({106, 107, 108})));
}

TEST_CASE("TensorDataset get reads non-contiguous tensors by their logical rows", "[points=1]") {
    // inputs: the transpose of a (3, 4) matrix, i.e. (4, 3) with strides (1, 4); targets padded.
    const tt::Tensor inputs = column_major(iota({4, 3}));
    data::TensorDataset d(inputs, padded(nested({7, 8, 9, 10})));
    CHECK_THAT(d.get(1).input, tensor_equal(nested({3, 4, 5})));
    CHECK_THAT(d.get(3).target, tensor_equal(raw_scalar(10)));
}

TEST_CASE("TensorDataset get refuses indices outside 0..N-1", "[points=2]") {
    data::TensorDataset d(iota({5, 3}), iota({5}));
    CHECK_THAT(error_message([&] { d.get(5); }), Contains("5"));
    CHECK_THAT(error_message([&] { d.get(-1); }), Contains("-1"));
    CHECK_THAT(error_message([&] { d.get(1000); }), Contains("1000"));
    data::TensorDataset empty(iota({0, 3}), iota({0}));
    CHECK(empty.size() == 0);
    CHECK_THAT(error_message([&] { empty.get(0); }), Contains("0"));
}

TEST_CASE("TensorDataset refuses tensors with different numbers of examples and names both shapes", "[points=1]") {
    CHECK_THAT(error_message([] { data::TensorDataset(iota({4, 2}), iota({3})); }),
               Contains("TensorDataset") && Contains("(4, 2)") && Contains("(3)"));
    CHECK_THAT(error_message([] { data::TensorDataset(iota({2}), iota({3, 1})); }), Contains("(2)") && Contains("(3, 1)"));
    CHECK_THAT(error_message([] { data::TensorDataset(raw_scalar(1), raw_scalar(2)); }), Contains("TensorDataset"));
}

TEST_CASE("TensorDataset get_batch gathers the rows at the indices in the order given", "[points=3]") {
    data::TensorDataset d(iota({5, 2, 2}), nested({10, 11, 12, 13, 14}));
    const data::Batch b = d.get_batch({4, 0, 2, 2});
    CHECK(b.size() == 4);
    CHECK_THAT(b.inputs, tensor_equal(nested({{{16, 17}, {18, 19}}, {{0, 1}, {2, 3}}, {{8, 9}, {10, 11}}, {{8, 9}, {10, 11}}})));
    CHECK_THAT(b.targets, tensor_equal(nested({14, 10, 12, 12})));
    // A single index still gives a batch dimension: (1, 2, 2) and (1,).
    const data::Batch one = d.get_batch({3});
    CHECK_THAT(one.inputs, tensor_equal(nested({{{12, 13}, {14, 15}}})));
    CHECK_THAT(one.targets, tensor_equal(nested({13})));
    // 2-d targets stay 2-d: (B, 3).
    data::TensorDataset regression(iota({6, 1}), iota({6, 3}, -9.0f));
    CHECK_THAT(regression.get_batch({5, 1}).targets, tensor_equal(nested({{6, 7, 8}, {-6, -5, -4}})));
}

TEST_CASE("TensorDataset get_batch reads views with any strides and offset", "[points=2]") {
    // inputs (4, 3) stored column-major; targets a padded (4, 2) view with an offset.
    data::TensorDataset d(column_major(iota({4, 3})), padded(iota({4, 2}, 50.0f)));
    const data::Batch b = d.get_batch({3, 1, 0});
    CHECK_THAT(b.inputs, tensor_equal(nested({{9, 10, 11}, {3, 4, 5}, {0, 1, 2}})));
    CHECK_THAT(b.targets, tensor_equal(nested({{56, 57}, {52, 53}, {50, 51}})));
    // A slice of a bigger table: every other row, starting at row 1.
    const tt::Tensor table = strided(values_of(iota({8, 2})), {4, 2}, {4, 1}, 2);  // rows 1, 3, 5, 7 of (8, 2)
    data::TensorDataset sliced(table, nested({1, 3, 5, 7}));
    CHECK_THAT(sliced.get_batch({2, 0}).inputs, tensor_equal(nested({{10, 11}, {2, 3}})));
}

TEST_CASE("TensorDataset get_batch refuses an index outside 0..N-1", "[points=1]") {
    data::TensorDataset d(iota({5, 2}), iota({5}));
    CHECK_THAT(error_message([&] { d.get_batch({0, 5}); }), Contains("5"));
    CHECK_THAT(error_message([&] { d.get_batch({-1, 2}); }), Contains("-1"));
    CHECK(d.get_batch({}).size() == 0);
}

namespace {

// Example i: input (2, 3) = 10 i + [[0, 2, 4], [1, 3, 5]] stored column-major (not contiguous),
// target (2,) = [i, -i]. Counts its get() calls.
struct Computed : data::Dataset {
    mutable int calls = 0;
    int64_t size() const override { return 6; }
    data::Example get(int64_t i) const override {
        if (i < 0 || i >= size()) throw tt::Error("Computed: index out of range");
        ++calls;
        const float f = 10.0f * static_cast<float>(i);
        return {column_major(raw({f, f + 2, f + 4, f + 1, f + 3, f + 5}, {2, 3})),
                raw({static_cast<float>(i), -static_cast<float>(i)}, {2})};
    }
};

// Example i: input (3,) = [i, i, i], target () = i % 3 (the shape of a classification set).
struct Scalars : data::Dataset {
    int64_t size() const override { return 5; }
    data::Example get(int64_t i) const override {
        const float f = static_cast<float>(i);
        return {raw({f, f, f}, {3}), raw_scalar(static_cast<float>(i % 3))};
    }
};

}  // namespace

TEST_CASE("the default get_batch stacks get(i) for each index along a new first dimension", "[points=3]") {
    const Computed d;
    const data::Batch b = d.get_batch({2, 0, 5});
    CHECK_THAT(b.inputs, tensor_equal(nested({{{20, 22, 24}, {21, 23, 25}}, {{0, 2, 4}, {1, 3, 5}}, {{50, 52, 54}, {51, 53, 55}}})));
    CHECK_THAT(b.targets, tensor_equal(nested({{2, -2}, {0, 0}, {5, -5}})));
    CHECK(d.calls == 3);  // one get() per index

    const Scalars s;
    const data::Batch c = s.get_batch({4, 4, 1});
    CHECK_THAT(c.inputs, tensor_equal(nested({{4, 4, 4}, {4, 4, 4}, {1, 1, 1}})));
    CHECK_THAT(c.targets, tensor_equal(nested({1, 1, 1})));  // 0-d targets stack to (B,)
    CHECK(s.get_batch({}).size() == 0);
}

TEST_CASE("the default get_batch refuses examples of different shapes", "[points=1]") {
    struct Ragged : data::Dataset {
        int64_t size() const override { return 3; }
        data::Example get(int64_t i) const override { return {iota({i == 2 ? 3 : 2}), raw_scalar(0)}; }
    } ragged;
    CHECK(ragged.get_batch({0, 1}).inputs.shape() == tt::Shape{2, 2});
    CHECK_THAT(error_message([&] { ragged.get_batch({0, 2}); }), Contains("(2)") && Contains("(3)"));
    struct RaggedTargets : data::Dataset {
        int64_t size() const override { return 2; }
        data::Example get(int64_t i) const override { return {iota({2}), i == 0 ? raw_scalar(0) : iota({1})}; }
    } ragged_targets;
    CHECK_THAT(error_message([&] { ragged_targets.get_batch({0, 1}); }), Contains("()") && Contains("(1)"));
}
