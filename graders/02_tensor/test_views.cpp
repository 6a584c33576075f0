// test_views.cpp - module 02 grader: views (no copy) and copies.
//
// For every view: the values (read from raw storage), the exact strides and offset over the SAME
// storage, and that a write through the view changes the base.
#include <catch2/catch.hpp>

#include "grading.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("view of a contiguous tensor shares storage keeps the offset and infers -1", "[points=2]") {
    {  // view of a contiguous tensor shares storage and infers -1
        tt::Tensor x = iota({2, 6});
        tt::Tensor v = x.view({3, 4});
        CHECK(shares_storage(v, x));
        CHECK(v.strides() == tt::Strides{4, 1});
        CHECK(v.offset() == 0);
        CHECK_THAT(v, tensor_equal(iota({3, 4})));
        tt::Tensor w = x.view({-1, 3, 2});
        CHECK(w.shape() == tt::Shape{2, 3, 2});
        CHECK(w.strides() == tt::Strides{6, 2, 1});
        CHECK_THAT(w, tensor_equal(iota({2, 3, 2})));
        CHECK(x.view({-1}).shape() == tt::Shape{12});
        CHECK(x.view({12, 1}).shape() == tt::Shape{12, 1});
        v.set({2, 3}, 100.0f);  // the last element, through the view
        CHECK(element(x, {1, 5}) == 100.0f);
    }
    {  // view keeps the offset of a tensor that starts inside its storage
        tt::Tensor x = strided({-1, -1, 0, 1, 2, 3, 4, 5}, {2, 3}, {3, 1}, 2);
        tt::Tensor v = x.view({3, 2});
        CHECK(shares_storage(v, x));
        CHECK(v.offset() == 2);
        CHECK_THAT(v, tensor_equal(nested({{0, 1}, {2, 3}, {4, 5}})));
        tt::Tensor s = strided({0, 0, 0, 7}, {}, {}, 3).view({1, 1});
        CHECK(s.offset() == 3);
        CHECK_THAT(s, tensor_equal(nested({{7}})));
    }
}

TEST_CASE("view of a non-contiguous tensor whose strides allow it", "[points=2]") {
    // (3, 4) rows with a gap: strides (5, 1). Splitting or merging inside a row needs no copy.
    std::vector<float> storage(15, -1.0f);
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 4; ++c) storage[r * 5 + c] = static_cast<float>(r * 4 + c);
    tt::Tensor x = strided(storage, {3, 4}, {5, 1});
    tt::Tensor v = x.view({3, 2, 2});
    CHECK(shares_storage(v, x));
    CHECK(v.strides() == tt::Strides{5, 2, 1});
    CHECK_THAT(v, tensor_equal(iota({3, 2, 2})));
    // (2, 3, 4) transposed to (4, 3, 2)... then merging the two dims that are still adjacent:
    // permute (0, 1, 2) -> (2, 0, 1) gives shape (4, 2, 3) strides (1, 12, 4); dims 1 and 2 merge.
    tt::Tensor p = strided([] {
        std::vector<float> s(24);
        for (int i = 0; i < 24; ++i) s[i] = static_cast<float>(i);
        return s;
    }(), {4, 2, 3}, {1, 12, 4});
    tt::Tensor m = p.view({4, 6});
    CHECK(shares_storage(m, p));
    CHECK(m.strides() == tt::Strides{1, 4});
    std::vector<float> expected;
    for (int k = 0; k < 4; ++k)
        for (int ij = 0; ij < 6; ++ij) expected.push_back(static_cast<float>(ij * 4 + k));
    CHECK_THAT(m, tensor_equal(raw(expected, {4, 6})));
}

TEST_CASE("view across a size-1 dimension whose stride is arbitrary", "[points=1]") {
    INFO("a dimension of size 1 is never stepped along, so its stride can be anything (unsqueeze, select and slicing "
         "leave such strides) and it never keeps the dimensions around it from merging");
    const std::vector<float> storage = values_of(iota({6}));
    const tt::Tensor middle = strided(storage, {2, 1, 3}, {3, 100, 1});
    CHECK(shares_storage(middle.view({6}), middle));
    CHECK(middle.view({6}).strides() == tt::Strides{1});
    CHECK_THAT(middle.view({3, 2}), tensor_equal(nested({{0, 1}, {2, 3}, {4, 5}})));
    const tt::Tensor last = strided(storage, {2, 3, 1}, {3, 1, 7});
    CHECK_THAT(last.view({6}), tensor_equal(iota({6})));
    CHECK(shares_storage(last.view({3, 2}), last));
    const tt::Tensor first = strided(storage, {1, 2, 3}, {-5, 3, 1});
    CHECK_THAT(first.view({6, 1}), tensor_equal(iota({6, 1})));
    CHECK(shares_storage(first.reshape({2, 3}), first));
    // several, around a transposed pair that really cannot merge
    const tt::Tensor t = strided(storage, {1, 3, 1, 2}, {9, 1, 4, 3});  // (3, 2) transposed, size-1 dims around
    CHECK_THAT(t.view({3, 2}), tensor_equal(nested({{0, 3}, {1, 4}, {2, 5}})));
    CHECK_THAT(error_message([&] { t.view({6}); }), Contains("view"));
}

TEST_CASE("view and reshape errors name the op and the shapes", "[points=1]") {
    {  // view of a transposed tensor that would need a copy is an error naming view and the shapes
        tt::Tensor t = strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3});  // (2, 3) transposed
        CHECK_THAT(error_message([&] { t.view({6}); }), Contains("view") && Contains("(3, 2)"));
        CHECK_THAT(error_message([&] { t.view({2, 3}); }), Contains("view") && Contains("(3, 2)"));
    }
    {  // view and reshape reject wrong element counts and two -1 sizes
        tt::Tensor x = iota({2, 3});
        CHECK_THAT(error_message([&] { x.view({4, 2}); }), Contains("view") && Contains("(4, 2)"));
        CHECK_THAT(error_message([&] { x.view({-1, -1}); }), Contains("view"));
        CHECK_THAT(error_message([&] { x.view({-1, 4}); }), Contains("view"));
        CHECK_THAT(error_message([&] { x.reshape({7}); }), Contains("reshape") && Contains("(7)"));
    }
}

TEST_CASE("reshape is a view when the strides allow it and a row-major copy otherwise", "[points=1]") {
    {  // reshape returns a view when the strides allow it
        tt::Tensor x = iota({4, 3});
        tt::Tensor r = x.reshape({2, -1});
        CHECK(r.shape() == tt::Shape{2, 6});
        CHECK(shares_storage(r, x));
        CHECK_THAT(r, tensor_equal(iota({2, 6})));
    }
    {  // reshape copies a transposed tensor into row-major order
        tt::Tensor t = strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3});  // [[0, 3], [1, 4], [2, 5]]
        tt::Tensor r = t.reshape({6});
        CHECK_THAT(r, tensor_equal(nested({0, 3, 1, 4, 2, 5})));
        CHECK_FALSE(shares_storage(r, t));
        CHECK(r.strides() == tt::Strides{1});
        tt::Tensor r2 = t.reshape({2, 3});
        CHECK_THAT(r2, tensor_equal(nested({{0, 3, 1}, {4, 2, 5}})));
        r.set({0}, 50.0f);  // the copy is independent
        CHECK(t.storage()->data[0] == 0.0f);
    }
}

TEST_CASE("transpose swaps shape and strides over the same storage", "[points=1]") {
    tt::Tensor x = iota({2, 3, 4});
    tt::Tensor t = x.transpose(0, 2);
    CHECK(shares_storage(t, x));
    CHECK(t.shape() == tt::Shape{4, 3, 2});
    CHECK(t.strides() == tt::Strides{1, 4, 12});
    CHECK(t.offset() == 0);
    std::vector<float> expected;
    for (int k = 0; k < 4; ++k)
        for (int j = 0; j < 3; ++j)
            for (int i = 0; i < 2; ++i) expected.push_back(static_cast<float>(i * 12 + j * 4 + k));
    CHECK_THAT(t, tensor_equal(raw(expected, {4, 3, 2})));
    tt::Tensor n = x.transpose(-1, -2);
    CHECK(n.shape() == tt::Shape{2, 4, 3});
    CHECK(n.strides() == tt::Strides{12, 1, 4});
    CHECK(x.transpose(1, 1).strides() == tt::Strides{12, 4, 1});
    t.set({3, 2, 1}, -5.0f);
    CHECK(element(x, {1, 2, 3}) == -5.0f);
}

TEST_CASE("t transposes a 2-d view and rejects other ranks", "[points=1]") {
    {  // t transposes a 2-d tensor and writes go through to the base
        tt::Tensor x = padded(nested({{1, 2, 3}, {4, 5, 6}}));
        tt::Tensor t = x.t();
        CHECK(shares_storage(t, x));
        CHECK(t.offset() == x.offset());
        CHECK(t.strides() == tt::Strides{x.strides()[1], x.strides()[0]});
        CHECK_THAT(t, tensor_equal(nested({{1, 4}, {2, 5}, {3, 6}})));
        t.set({0, 1}, 40.0f);
        CHECK(element(x, {1, 0}) == 40.0f);
    }
    {  // t of a tensor that is not 2-d is an error
        CHECK_THAT(error_message([] { iota({2, 3, 4}).t(); }), Contains("(2, 3, 4)"));
    }
}

TEST_CASE("permute reorders shape and strides as a view and rejects bad dims", "[points=1]") {
    {  // permute reorders shape and strides as a view
        tt::Tensor x = iota({2, 3, 4});
        tt::Tensor p = x.permute({1, 2, 0});
        CHECK(shares_storage(p, x));
        CHECK(p.shape() == tt::Shape{3, 4, 2});
        CHECK(p.strides() == tt::Strides{4, 1, 12});
        std::vector<float> expected;
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k)
                for (int i = 0; i < 2; ++i) expected.push_back(static_cast<float>(i * 12 + j * 4 + k));
        CHECK_THAT(p, tensor_equal(raw(expected, {3, 4, 2})));
        tt::Tensor q = x.permute({-1, 0, -2});
        CHECK(q.shape() == tt::Shape{4, 2, 3});
        CHECK(q.strides() == tt::Strides{1, 12, 4});
        CHECK(x.permute({0, 1, 2}).strides() == tt::Strides{12, 4, 1});
    }
    {  // permute rejects repeated or missing dimensions
        tt::Tensor x = iota({2, 3, 4});
        CHECK_THAT(error_message([&] { x.permute({0, 0, 1}); }), Contains("permute"));
        CHECK_THAT(error_message([&] { x.permute({0, 1}); }), Contains("permute"));
        CHECK_THAT(error_message([&] { x.permute({0, 1, 3}); }), Contains("permute"));
    }
}

TEST_CASE("slice with start end and step moves the offset and scales the stride", "[points=1]") {
    tt::Tensor x = iota({10});
    tt::Tensor s = x.slice(0, 2, 8, 3);
    CHECK(shares_storage(s, x));
    CHECK(s.shape() == tt::Shape{2});
    CHECK(s.strides() == tt::Strides{3});
    CHECK(s.offset() == 2);
    CHECK_THAT(s, tensor_equal(nested({2, 5})));
    CHECK_THAT(x.slice(0, 1, 10, 4), tensor_equal(nested({1, 5, 9})));
    CHECK_THAT(x.slice(0, 3, 4), tensor_equal(nested({3})));
    s.set({1}, -1.0f);
    CHECK(element(x, {5}) == -1.0f);
}

TEST_CASE("slice with negative and out-of-range bounds clamps like Python", "[points=1]") {
    {  // slice with negative start and end counts from the end
        tt::Tensor x = iota({10});
        CHECK_THAT(x.slice(0, -3, 10), tensor_equal(nested({7, 8, 9})));
        CHECK_THAT(x.slice(0, 2, -5), tensor_equal(nested({2, 3, 4})));
        CHECK_THAT(x.slice(0, -4, -1, 2), tensor_equal(nested({6, 8})));
    }
    {  // slice clamps out-of-range bounds and gives empty results like Python
        tt::Tensor x = iota({6});
        CHECK_THAT(x.slice(0, 4, 100), tensor_equal(nested({4, 5})));
        CHECK_THAT(x.slice(0, -100, 2), tensor_equal(nested({0, 1})));
        CHECK_THAT(x.slice(0, -100, 100, 5), tensor_equal(nested({0, 5})));
        tt::Tensor empty = x.slice(0, 4, 2);
        CHECK(empty.shape() == tt::Shape{0});
        CHECK(x.slice(0, 10, 20).shape() == tt::Shape{0});
        CHECK(x.slice(0, 3, 3).shape() == tt::Shape{0});
    }
}

TEST_CASE("slice with a negative step-1 range along dim 1 of a non-contiguous tensor", "[points=2]") {
    // x: (3, 4) stored column-major with an offset, i.e. a transposed view.
    tt::Tensor base = padded(column_major(iota({3, 4})));
    tt::Tensor s = base.slice(1, -3, -1);  // columns 1 and 2
    CHECK(shares_storage(s, base));
    CHECK(s.shape() == tt::Shape{3, 2});
    CHECK(s.strides() == base.strides());
    CHECK(s.offset() == base.offset() + 1 * base.strides()[1]);
    CHECK_THAT(s, tensor_equal(nested({{1, 2}, {5, 6}, {9, 10}})));
    tt::Tensor e = base.slice(-1, 0, 4, 2).slice(0, 1, 3);
    CHECK_THAT(e, tensor_equal(nested({{4, 6}, {8, 10}})));
    CHECK(e.strides() == tt::Strides{base.strides()[0], 2 * base.strides()[1]});
}

TEST_CASE("select removes a dimension and moves the offset and rejects bad indices", "[points=1]") {
    {  // select removes a dimension and moves the offset
        tt::Tensor x = iota({4, 5});
        tt::Tensor row = x.select(0, 2);
        CHECK(shares_storage(row, x));
        CHECK(row.shape() == tt::Shape{5});
        CHECK(row.strides() == tt::Strides{1});
        CHECK(row.offset() == 10);
        CHECK_THAT(row, tensor_equal(nested({10, 11, 12, 13, 14})));
        tt::Tensor column = x.select(1, -1);
        CHECK(column.shape() == tt::Shape{4});
        CHECK(column.strides() == tt::Strides{5});
        CHECK(column.offset() == 4);
        CHECK_THAT(column, tensor_equal(nested({4, 9, 14, 19})));
        tt::Tensor one = x.select(0, -4).select(0, 3);
        CHECK(one.dim() == 0);
        CHECK_THAT(one, tensor_equal(raw_scalar(3.0f)));
        column.set({1}, 90.0f);
        CHECK(element(x, {1, 4}) == 90.0f);
    }
    {  // select rejects an index out of range
        tt::Tensor x = iota({4, 5});
        CHECK_THAT(error_message([&] { x.select(0, 4); }), Contains("select"));
        CHECK_THAT(error_message([&] { x.select(1, -6); }), Contains("select"));
    }
}

TEST_CASE("squeeze removes size-1 dimensions and squeeze of a dim keeps other sizes", "[points=1]") {
    tt::Tensor x = strided({0, 1, 2, 3, 4, 5}, {1, 3, 1, 2}, {6, 2, 2, 1});
    tt::Tensor s = x.squeeze();
    CHECK(shares_storage(s, x));
    CHECK(s.shape() == tt::Shape{3, 2});
    CHECK(s.strides() == tt::Strides{2, 1});
    CHECK_THAT(s, tensor_equal(nested({{0, 1}, {2, 3}, {4, 5}})));
    CHECK(x.squeeze(0).shape() == tt::Shape{3, 1, 2});
    CHECK(x.squeeze(-2).shape() == tt::Shape{1, 3, 2});
    CHECK(x.squeeze(-2).strides() == tt::Strides{6, 2, 1});
    CHECK(x.squeeze(1).shape() == tt::Shape{1, 3, 1, 2});  // size 3: no change
    CHECK(raw({5}, {1, 1}).squeeze().dim() == 0);
}

TEST_CASE("unsqueeze inserts a size-1 dimension at the front middle end and negative positions", "[points=1]") {
    tt::Tensor x = padded(nested({{1, 2, 3}, {4, 5, 6}}));
    tt::Tensor a = x.unsqueeze(0);
    CHECK(shares_storage(a, x));
    CHECK(a.shape() == tt::Shape{1, 2, 3});
    CHECK_THAT(a, tensor_equal(nested({{{1, 2, 3}, {4, 5, 6}}})));
    tt::Tensor b = x.unsqueeze(1);
    CHECK(b.shape() == tt::Shape{2, 1, 3});
    CHECK(b.strides()[0] == x.strides()[0]);
    CHECK(b.strides()[2] == x.strides()[1]);
    CHECK_THAT(b, tensor_equal(nested({{{1, 2, 3}}, {{4, 5, 6}}})));
    tt::Tensor c = x.unsqueeze(-1);
    CHECK(c.shape() == tt::Shape{2, 3, 1});
    CHECK_THAT(c, tensor_equal(nested({{{1}, {2}, {3}}, {{4}, {5}, {6}}})));
    CHECK(x.unsqueeze(2).shape() == tt::Shape{2, 3, 1});
    CHECK(x.unsqueeze(-3).shape() == tt::Shape{1, 2, 3});
    CHECK(raw_scalar(2.0f).unsqueeze(0).shape() == tt::Shape{1});
}

TEST_CASE("expand gives stride 0 to stretched and new dims and rejects other size changes", "[points=1]") {
    {  // expand gives stride 0 to stretched and new dimensions
        tt::Tensor col = nested({{1}, {2}, {3}});  // (3, 1)
        tt::Tensor e = col.expand({2, 3, 4});
        CHECK(shares_storage(e, col));
        CHECK(e.shape() == tt::Shape{2, 3, 4});
        CHECK(e.strides() == tt::Strides{0, 1, 0});
        std::vector<float> expected;
        for (int b = 0; b < 2; ++b)
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 4; ++j) expected.push_back(static_cast<float>(i + 1));
        CHECK_THAT(e, tensor_equal(raw(expected, {2, 3, 4})));
        tt::Tensor keep = col.expand({-1, 5});
        CHECK(keep.shape() == tt::Shape{3, 5});
        CHECK(keep.strides() == tt::Strides{1, 0});
        tt::Tensor s = raw_scalar(7.0f).expand({2, 2});
        CHECK(s.strides() == tt::Strides{0, 0});
        CHECK_THAT(s, tensor_equal(nested({{7, 7}, {7, 7}})));
        tt::Tensor same = iota({2, 3}).expand({2, 3});
        CHECK(same.strides() == tt::Strides{3, 1});
    }
    {  // expand of a size other than 1 is an error naming both shapes
        tt::Tensor x = iota({3, 2});
        CHECK_THAT(error_message([&] { x.expand({3, 4}); }), Contains("expand") && Contains("(3, 2)") && Contains("(3, 4)"));
        CHECK_THAT(error_message([&] { x.expand({2}); }), Contains("expand"));
    }
}

TEST_CASE("flatten merges a range of dims and copies a transposed tensor", "[points=1]") {
    {  // flatten merges a range of dimensions
        tt::Tensor x = iota({2, 3, 4, 5});
        CHECK(x.flatten().shape() == tt::Shape{120});
        CHECK(x.flatten(1).shape() == tt::Shape{2, 60});
        CHECK(x.flatten(1, 2).shape() == tt::Shape{2, 12, 5});
        CHECK(x.flatten(-3, -2).shape() == tt::Shape{2, 12, 5});
        CHECK(x.flatten(2, 2).shape() == tt::Shape{2, 3, 4, 5});
        CHECK(shares_storage(x.flatten(1), x));
        CHECK_THAT(x.flatten(0, 1), tensor_equal(iota({6, 4, 5})));
        CHECK(raw_scalar(3.0f).flatten().shape() == tt::Shape{1});
    }
    {  // flatten of a transposed tensor copies into row-major order
        tt::Tensor t = strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3});  // [[0, 3], [1, 4], [2, 5]]
        CHECK_THAT(t.flatten(), tensor_equal(nested({0, 3, 1, 4, 2, 5})));
    }
}

TEST_CASE("contiguous keeps row-major tensors and copies scattered ones", "[points=1]") {
    {  // contiguous returns the same memory when already row-major
        tt::Tensor x = iota({3, 4});
        tt::Tensor c = x.contiguous();
        CHECK(shares_storage(c, x));
        CHECK(c.offset() == x.offset());
        CHECK(c.strides() == x.strides());
        tt::Tensor sub = x.select(0, 1);  // contiguous, offset 4
        tt::Tensor sc = sub.contiguous();
        CHECK(shares_storage(sc, x));
        CHECK(sc.offset() == 4);
    }
    {  // contiguous copies transposed sliced and expanded tensors into row-major order
        tt::Tensor t = strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3});
        tt::Tensor c = t.contiguous();
        CHECK_FALSE(shares_storage(c, t));
        CHECK(c.strides() == tt::Strides{2, 1});
        CHECK(c.offset() == 0);
        CHECK_THAT(c, tensor_equal(nested({{0, 3}, {1, 4}, {2, 5}})));
        CHECK(c.storage()->data == std::vector<float>{0, 3, 1, 4, 2, 5});

        tt::Tensor p = padded(iota({2, 3, 4}));
        tt::Tensor pc = p.contiguous();
        CHECK(pc.strides() == tt::Strides{12, 4, 1});
        CHECK_THAT(pc, tensor_equal(iota({2, 3, 4})));

        tt::Tensor e = strided({1, 2, 3}, {2, 3}, {0, 1});
        tt::Tensor ec = e.contiguous();
        CHECK(ec.strides() == tt::Strides{3, 1});
        CHECK_THAT(ec, tensor_equal(nested({{1, 2, 3}, {1, 2, 3}})));
    }
}

TEST_CASE("clone is an independent row-major copy", "[points=1]") {
    tt::Tensor x = iota({2, 3});
    tt::Tensor c = x.clone();
    CHECK_FALSE(shares_storage(c, x));
    CHECK(c.strides() == tt::Strides{3, 1});
    CHECK_THAT(c, tensor_equal(iota({2, 3})));
    c.set({0, 0}, 100.0f);
    x.set({1, 2}, -100.0f);
    CHECK(element(x, {0, 0}) == 0.0f);
    CHECK(element(c, {1, 2}) == 5.0f);
    tt::Tensor p = padded(column_major(iota({3, 2, 2})));
    tt::Tensor pc = p.clone();
    CHECK(pc.strides() == tt::Strides{4, 2, 1});
    CHECK(pc.offset() == 0);
    CHECK_THAT(pc, tensor_equal(iota({3, 2, 2})));
    CHECK_THAT(raw_scalar(2.0f).clone(), tensor_equal(raw_scalar(2.0f)));
}

TEST_CASE("clone of a contiguous view that starts at an offset copies that view's elements", "[points=1]") {
    INFO("a contiguous view (a row, a block of rows) starts at its offset: a straight copy must start at data(), not "
         "at the start of the storage");
    const tt::Tensor base = iota({4, 3});
    const tt::Tensor row = tt::Tensor(base.storage(), {3}, {1}, 6);  // row 2
    REQUIRE(row.is_contiguous());
    tt::Tensor c = row.clone();
    CHECK_FALSE(shares_storage(c, base));
    CHECK(c.offset() == 0);
    CHECK_THAT(c, tensor_equal(nested({6, 7, 8})));
    const tt::Tensor rows(base.storage(), {2, 3}, {3, 1}, 3);  // rows 1 and 2
    CHECK_THAT(rows.clone(), tensor_equal(nested({{3, 4, 5}, {6, 7, 8}})));
    const tt::Tensor one(base.storage(), {}, {}, 11);  // a 0-d view of the last element
    CHECK_THAT(one.clone(), tensor_equal(raw_scalar(11.0f)));
    CHECK(row.clone().storage()->data.size() == 3u);
}

TEST_CASE("views of views compose strides and offsets and write into the base", "[points=2]") {
    tt::Tensor x = iota({4, 6});
    // rows 1..3, every other column from 1 -> (3, 3); transposed -> (3, 3); then row 2.
    tt::Tensor v = x.slice(0, 1, 4).slice(1, 1, 6, 2).t().select(0, 2);
    CHECK(shares_storage(v, x));
    CHECK(v.shape() == tt::Shape{3});
    CHECK(v.strides() == tt::Strides{6});
    CHECK(v.offset() == 6 + 5);
    CHECK_THAT(v, tensor_equal(nested({11, 17, 23})));
    v.set({1}, -1.0f);
    CHECK(element(x, {2, 5}) == -1.0f);
    tt::Tensor u = x.view({2, 2, 6}).permute({2, 0, 1}).slice(0, 2, 4).unsqueeze(1);
    CHECK(u.shape() == tt::Shape{2, 1, 2, 2});
    CHECK_THAT(u, tensor_equal(nested({{{{2, 8}, {14, 20}}}, {{{3, 9}, {15, 21}}}})));
}
