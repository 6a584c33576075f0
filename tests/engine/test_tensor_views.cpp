// test_tensor_views.cpp - module 02: views share memory and only change (shape, strides, offset);
// contiguous/clone copy; in-place ops write through any layout (engine/src/02_tensor/tensor.cpp).
// The gradients of every view are checked in test_autograd_nodes.cpp.
#include <catch2/catch.hpp>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

TEST_CASE("tensor: view reinterprets contiguous memory", "[02][tensor][views]") {
    const tt::Tensor x = iota({2, 3});
    const tt::Tensor v = x.view({3, 2});
    CHECK(shares_storage(v, x));
    CHECK(v.strides() == tt::Strides{2, 1});
    CHECK_THAT(v, tensor_equal(nested({{0, 1}, {2, 3}, {4, 5}})));
    CHECK(x.view({-1}).shape() == tt::Shape{6});
    CHECK(x.view({2, -1, 1}).shape() == tt::Shape{2, 3, 1});
    CHECK(raw_scalar(5).view({1, 1}).shape() == tt::Shape{1, 1});
    CHECK(raw({5}, {1}).view({}).dim() == 0);

    SECTION("non-contiguous layouts that still are views") {
        // A slice with step 2 along dim 0 of (4, 3): rows 0 and 2, each row still contiguous.
        const tt::Tensor s = strided(values_of(iota({4, 3})), {2, 3}, {6, 1});
        const tt::Tensor sv = s.view({2, 3, 1});
        CHECK(shares_storage(sv, s));
        CHECK_THAT(sv, tensor_equal(nested({{{0}, {1}, {2}}, {{6}, {7}, {8}}})));
        // Splitting a transposed dim is fine; its strides are scaled.
        const tt::Tensor t = iota({4, 6}).t();  // (6, 4) strides (1, 6)
        const tt::Tensor tv = t.view({2, 3, 4});
        CHECK(tv.strides() == tt::Strides{3, 1, 6});
        CHECK_THAT(tv, tensor_equal(raw(values_of(t), {2, 3, 4})));
        // Expanded (stride 0) dims can be split too.
        const tt::Tensor e = strided({1, 2}, {4, 2}, {0, 1});
        CHECK_THAT(e.view({2, 2, 2}), tensor_equal(raw(values_of(e), {2, 2, 2})));
        // A size-1 dim is never stepped along, so whatever its stride it does not break a chunk.
        const tt::Tensor one = strided(values_of(iota({6})), {2, 1, 3}, {3, 100, 1});
        CHECK(one.view({6}).strides() == tt::Strides{1});
        CHECK_THAT(one.view({3, 2}), tensor_equal(nested({{0, 1}, {2, 3}, {4, 5}})));
        const tt::Tensor last = strided(values_of(iota({6})), {2, 3, 1}, {3, 1, 7});
        CHECK_THAT(last.view({6}), tensor_equal(iota({6})));
        CHECK(shares_storage(last.view({1, 6, 1}), last));
    }

    SECTION("errors") {
        const tt::Tensor t = iota({2, 3}).t();
        CHECK_THAT(error_message([&] { t.view({6}); }), Contains("view") && Contains("(3, 2)") && Contains("(6)"));
        CHECK_THAT(error_message([&] { x.view({4, 2}); }), Contains("view") && Contains("(4, 2)"));
        CHECK_THAT(error_message([&] { x.view({-1, -1}); }), Contains("view") && Contains("-1"));
        CHECK_THAT(error_message([&] { x.view({-1, 4}); }), Contains("view") && Contains("(-1, 4)"));
    }
}

TEST_CASE("tensor: reshape copies only when it must", "[02][tensor][views]") {
    const tt::Tensor x = iota({2, 3});
    const tt::Tensor r = x.reshape({3, 2});
    CHECK(shares_storage(r, x));

    const tt::Tensor t = x.t();  // (3, 2): [[0, 3], [1, 4], [2, 5]]
    const tt::Tensor flat = t.reshape({-1});
    CHECK_FALSE(shares_storage(flat, t));
    CHECK(flat.is_contiguous());
    CHECK_THAT(flat, tensor_equal(nested({0, 3, 1, 4, 2, 5})));
    CHECK_THAT(padded(iota({2, 2, 2})).reshape({4, 2}), tensor_equal(iota({4, 2})));
    CHECK(raw({}, {0, 4}).reshape({2, 0, 3}).shape() == tt::Shape{2, 0, 3});
    // With no elements, -1 could be anything: an error, as in PyTorch.
    CHECK_THAT(error_message([] { raw({}, {0, 4}).reshape({2, 0, -1}); }), Contains("reshape") && Contains("-1"));
    CHECK_THAT(error_message([&] { x.reshape({5}); }), Contains("reshape") && Contains("(5)"));
}

TEST_CASE("tensor: transpose, t and permute swap strides", "[02][tensor][views]") {
    const tt::Tensor x = iota({2, 3, 4});
    const tt::Tensor tr = x.transpose(0, 2);
    CHECK(shares_storage(tr, x));
    CHECK(tr.shape() == tt::Shape{4, 3, 2});
    CHECK(tr.strides() == tt::Strides{1, 4, 12});
    CHECK(tr.at({3, 1, 0}) == element(x, {0, 1, 3}));
    CHECK(x.transpose(-1, -2).shape() == tt::Shape{2, 4, 3});
    CHECK(x.transpose(1, 1).strides() == x.strides());

    const tt::Tensor m = nested({{1, 2, 3}, {4, 5, 6}});
    CHECK_THAT(m.t(), tensor_equal(nested({{1, 4}, {2, 5}, {3, 6}})));
    CHECK_THAT(m.t().t(), tensor_equal(m));

    const tt::Tensor p = x.permute({2, 0, 1});
    CHECK(p.shape() == tt::Shape{4, 2, 3});
    CHECK(p.strides() == tt::Strides{1, 12, 4});
    CHECK(p.at({3, 1, 2}) == element(x, {1, 2, 3}));
    CHECK(x.permute({-1, 0, 1}).shape() == tt::Shape{4, 2, 3});
    CHECK(padded(x).permute({1, 2, 0}).at({2, 3, 1}) == element(x, {1, 2, 3}));

    SECTION("errors") {
        CHECK_THAT(error_message([&] { x.t(); }), Contains("t:") && Contains("(2, 3, 4)"));
        CHECK_THAT(error_message([&] { x.transpose(0, 3); }), Contains("transpose") && Contains("3"));
        CHECK_THAT(error_message([&] { x.permute({0, 1}); }), Contains("permute") && Contains("(2, 3, 4)"));
        CHECK_THAT(error_message([&] { x.permute({0, 1, 1}); }), Contains("permute") && Contains("twice"));
    }
}

TEST_CASE("tensor: slice is Python-like", "[02][tensor][views]") {
    const tt::Tensor x = iota({10});
    CHECK_THAT(x.slice(0, 2, 5), tensor_equal(nested({2, 3, 4})));
    CHECK_THAT(x.slice(0, 2, 8, 3), tensor_equal(nested({2, 5})));
    CHECK_THAT(x.slice(0, 1, 10, 3), tensor_equal(nested({1, 4, 7})));
    CHECK_THAT(x.slice(0, -3, 10), tensor_equal(nested({7, 8, 9})));
    CHECK_THAT(x.slice(0, 0, -8), tensor_equal(nested({0, 1})));
    CHECK_THAT(x.slice(0, -100, 2), tensor_equal(nested({0, 1})));  // clamped
    CHECK_THAT(x.slice(0, 8, 100), tensor_equal(nested({8, 9})));
    CHECK(x.slice(0, 5, 3).numel() == 0);   // end before start: empty, not an error
    CHECK(x.slice(0, 12, 20).numel() == 0);
    CHECK(x.slice(0, 0, 10, 20).numel() == 1);

    const tt::Tensor s = x.slice(0, 2, 8, 3);
    CHECK(shares_storage(s, x));
    CHECK(s.offset() == 2);
    CHECK(s.strides() == tt::Strides{3});

    const tt::Tensor m = iota({3, 4});
    const tt::Tensor cols = m.slice(-1, 1, 4, 2);  // columns 1 and 3
    CHECK_THAT(cols, tensor_equal(nested({{1, 3}, {5, 7}, {9, 11}})));
    CHECK_THAT(padded(m).slice(0, 1, 3), tensor_equal(nested({{4, 5, 6, 7}, {8, 9, 10, 11}})));
    CHECK_THAT(m.t().slice(0, 1, 2), tensor_equal(nested({{1, 5, 9}})));

    CHECK_THAT(error_message([&] { x.slice(0, 0, 5, 0); }), Contains("slice") && Contains("step"));
    CHECK_THAT(error_message([&] { x.slice(1, 0, 5); }), Contains("slice"));
    CHECK_THAT(error_message([] { raw_scalar(1).slice(0, 0, 1); }), Contains("slice") && Contains("0-d"));
}

TEST_CASE("tensor: select removes a dimension", "[02][tensor][views]") {
    const tt::Tensor m = iota({4, 5});
    const tt::Tensor row = m.select(0, 2);
    CHECK(shares_storage(row, m));
    CHECK_THAT(row, tensor_equal(nested({10, 11, 12, 13, 14})));
    CHECK_THAT(m.select(1, -1), tensor_equal(nested({4, 9, 14, 19})));
    CHECK(m.select(0, 1).select(0, 3).dim() == 0);
    CHECK(m.select(0, 1).select(0, 3).item() == 8.0f);
    CHECK_THAT(column_major(m).select(1, 2), tensor_equal(nested({2, 7, 12, 17})));
    CHECK_THAT(error_message([&] { m.select(0, 4); }), Contains("select") && Contains("(4, 5)"));
    CHECK_THAT(error_message([&] { m.select(1, -6); }), Contains("select") && Contains("(4, 5)"));
}

TEST_CASE("tensor: squeeze and unsqueeze", "[02][tensor][views]") {
    const tt::Tensor x = iota({1, 3, 1, 2});
    CHECK(x.squeeze().shape() == tt::Shape{3, 2});
    CHECK(x.squeeze(0).shape() == tt::Shape{3, 1, 2});
    CHECK(x.squeeze(-2).shape() == tt::Shape{1, 3, 2});
    CHECK(x.squeeze(1).shape() == tt::Shape{1, 3, 1, 2});  // size 3: unchanged
    CHECK(shares_storage(x.squeeze(), x));
    CHECK_THAT(x.squeeze(), tensor_equal(iota({3, 2})));
    CHECK(raw({4}, {1, 1}).squeeze().dim() == 0);
    CHECK(raw_scalar(1).squeeze(0).dim() == 0);

    const tt::Tensor y = iota({3, 2});
    CHECK(y.unsqueeze(0).shape() == tt::Shape{1, 3, 2});
    CHECK(y.unsqueeze(1).shape() == tt::Shape{3, 1, 2});
    CHECK(y.unsqueeze(-1).shape() == tt::Shape{3, 2, 1});
    CHECK(y.unsqueeze(2).shape() == tt::Shape{3, 2, 1});
    CHECK(y.unsqueeze(1).is_contiguous());
    CHECK(raw_scalar(2).unsqueeze(0).shape() == tt::Shape{1});
    CHECK_THAT(y.t().unsqueeze(1).squeeze(1), tensor_equal(nested({{0, 2, 4}, {1, 3, 5}})));
    CHECK_THAT(error_message([&] { y.unsqueeze(3); }), Contains("unsqueeze"));
    CHECK_THAT(error_message([&] { y.squeeze(2); }), Contains("squeeze"));
}

TEST_CASE("tensor: expand broadcasts with stride 0", "[02][tensor][views][broadcast]") {
    const tt::Tensor c = nested({{1}, {2}, {3}});  // (3, 1)
    const tt::Tensor e = c.expand({2, 3, 4});
    CHECK(shares_storage(e, c));
    CHECK(e.strides() == tt::Strides{0, 1, 0});
    CHECK(e.at({1, 2, 3}) == 3.0f);
    CHECK(e.at({0, 0, 2}) == 1.0f);
    CHECK(c.expand({-1, 2}).shape() == tt::Shape{3, 2});
    CHECK(c.expand({3, 1}).strides()[0] == 1);
    CHECK_THAT(raw_scalar(5).expand({2, 2}), tensor_equal(nested({{5, 5}, {5, 5}})));
    CHECK(c.expand({3, 0}).numel() == 0);

    CHECK_THAT(error_message([&] { c.expand({4, 4}); }), Contains("expand") && Contains("(3, 1)") && Contains("(4, 4)"));
    CHECK_THAT(error_message([&] { c.expand({4}); }), Contains("expand") && Contains("(3, 1)"));
}

TEST_CASE("tensor: flatten merges a range of dims", "[02][tensor][views]") {
    const tt::Tensor x = iota({2, 3, 4, 5});
    CHECK(x.flatten().shape() == tt::Shape{120});
    CHECK(x.flatten(1).shape() == tt::Shape{2, 60});
    CHECK(x.flatten(1, 2).shape() == tt::Shape{2, 12, 5});
    CHECK(x.flatten(-2, -1).shape() == tt::Shape{2, 3, 20});
    CHECK(x.flatten(2, 2).shape() == x.shape());
    CHECK(shares_storage(x.flatten(1), x));
    CHECK(raw_scalar(3).flatten().shape() == tt::Shape{1});
    const tt::Tensor t = iota({3, 2}).t();
    CHECK_THAT(t.flatten(), tensor_equal(nested({0, 2, 4, 1, 3, 5})));
    CHECK_THAT(error_message([&] { x.flatten(2, 1); }), Contains("flatten") && Contains("(2, 3, 4, 5)"));
}

TEST_CASE("tensor: contiguous and clone", "[02][tensor][views]") {
    const tt::Tensor x = iota({2, 3});
    const tt::Tensor same = x.contiguous();
    CHECK(same.is_same(x));  // already contiguous: the very same tensor, no copy

    const tt::Tensor t = x.t();
    const tt::Tensor c = t.contiguous();
    CHECK_FALSE(shares_storage(c, t));
    CHECK(c.is_contiguous());
    CHECK(c.strides() == tt::Strides{2, 1});
    CHECK_THAT(c, tensor_equal(nested({{0, 3}, {1, 4}, {2, 5}})));
    CHECK_THAT(padded(iota({2, 3, 2})).contiguous(), tensor_equal(iota({2, 3, 2})));
    CHECK_THAT(strided({1, 2}, {3, 2}, {0, 1}).contiguous(), tensor_equal(nested({{1, 2}, {1, 2}, {1, 2}})));

    const tt::Tensor k = x.clone();
    CHECK_FALSE(shares_storage(k, x));
    CHECK_THAT(k, tensor_equal(x));
    tt::Tensor k2 = k;
    k2.set({0, 0}, 100.0f);
    CHECK(element(x, {0, 0}) == 0.0f);  // the clone has its own memory
    CHECK_THAT(column_major(iota({3, 4})).clone(), tensor_equal(iota({3, 4})));
    CHECK(raw_scalar(2).clone().item() == 2.0f);
    CHECK(strided({0, 1, 2, 3, 4, 5}, {2}, {2}, 1).clone().storage()->data.size() == 2u);  // only the view's elements
    // A contiguous view that starts inside its storage: the fast path must start at the offset.
    const tt::Tensor row = iota({3, 4}).select(0, 2);
    REQUIRE(row.is_contiguous());
    CHECK_THAT(row.clone(), tensor_equal(nested({8, 9, 10, 11})));
    CHECK(row.clone().offset() == 0);
}

TEST_CASE("tensor: views write through to their base", "[02][tensor][views]") {
    tt::Tensor a = iota({2, 3});
    tt::Tensor b = a.transpose(0, 1);
    b.set({0, 1}, 42.0f);
    CHECK(a.at({1, 0}) == 42.0f);
    tt::Tensor row = a.select(0, 1);
    row.fill_(-1.0f);
    CHECK_THAT(a, tensor_equal(nested({{0, 1, 2}, {-1, -1, -1}})));
    tt::Tensor every_other = a.slice(1, 0, 3, 2);
    every_other.mul_(10.0f);
    CHECK_THAT(a, tensor_equal(nested({{0, 1, 20}, {-10, -1, -10}})));
}

TEST_CASE("tensor: in-place ops", "[02][tensor][inplace]") {
    SECTION("fill_ and zero_ touch only the view's elements") {
        tt::Tensor base = iota({3, 4});
        tt::Tensor col = base.slice(1, 1, 4, 2);  // columns 1 and 3
        col.fill_(9.0f);
        CHECK_THAT(base, tensor_equal(nested({{0, 9, 2, 9}, {4, 9, 6, 9}, {8, 9, 10, 9}})));
        col.zero_();
        CHECK_THAT(base, tensor_equal(nested({{0, 0, 2, 0}, {4, 0, 6, 0}, {8, 0, 10, 0}})));
        tt::Tensor s = raw_scalar(3);
        s.fill_(4.0f);
        CHECK(s.item() == 4.0f);
    }
    SECTION("copy_ broadcasts the source") {
        tt::Tensor x = tt::zeros({2, 3});
        x.copy_(nested({1, 2, 3}));
        CHECK_THAT(x, tensor_equal(nested({{1, 2, 3}, {1, 2, 3}})));
        x.copy_(raw_scalar(7));
        CHECK_THAT(x, tensor_equal(nested({{7, 7, 7}, {7, 7, 7}})));
        x.copy_(iota({3, 2}).t());  // non-contiguous source
        CHECK_THAT(x, tensor_equal(nested({{0, 2, 4}, {1, 3, 5}})));
        tt::Tensor y = iota({2, 3}).t();  // non-contiguous destination
        y.copy_(nested({{10, 11}, {12, 13}, {14, 15}}));
        CHECK_THAT(y, tensor_equal(nested({{10, 11}, {12, 13}, {14, 15}})));
        CHECK_THAT(error_message([&] { x.copy_(iota({4})); }), Contains("copy_") && Contains("(2, 3)") && Contains("(4)"));
        CHECK_THAT(error_message([&] { x.copy_(iota({2, 2, 3})); }), Contains("copy_") && Contains("(2, 2, 3)"));
    }
    SECTION("copy_ from an overlapping view of itself") {
        tt::Tensor m = nested({{1, 2}, {3, 4}});
        m.copy_(m.t());
        CHECK_THAT(m, tensor_equal(nested({{1, 3}, {2, 4}})));
    }
    SECTION("add_ with alpha and broadcasting, mul_") {
        tt::Tensor w = nested({{1, 2}, {3, 4}});
        w.add_(nested({10, 20}), 0.5f);
        CHECK_THAT(w, tensor_equal(nested({{6, 12}, {8, 14}})));
        w.add_(nested({{1, 1}, {1, 1}}).t());
        CHECK_THAT(w, tensor_equal(nested({{7, 13}, {9, 15}})));
        w.add_(w);  // aliasing: doubles
        CHECK_THAT(w, tensor_equal(nested({{14, 26}, {18, 30}})));
        w.mul_(0.5f);
        CHECK_THAT(w, tensor_equal(nested({{7, 13}, {9, 15}})));
        tt::Tensor p = padded(nested({{1, 2}, {3, 4}}));
        p.add_(raw_scalar(1)).mul_(2.0f);
        CHECK_THAT(p, tensor_equal(nested({{4, 6}, {8, 10}})));
        CHECK(p.storage()->data[0] == 1e6f);  // the gaps around a strided view are untouched
        CHECK_THAT(error_message([&] { w.add_(iota({3})); }), Contains("add_") && Contains("(2, 2)"));
    }
    SECTION("a leaf that requires grad is protected while grad mode is on") {
        tt::Tensor w = nested({1, 2, 3});
        w.requires_grad_();
        CHECK_THAT(error_message([&] { w.add_(nested({1, 1, 1})); }), Contains("add_") && Contains("NoGradGuard"));
        CHECK_THAT(error_message([&] { w.fill_(0); }), Contains("fill_"));
        CHECK_THAT(error_message([&] { w.zero_(); }), Contains("fill_") || Contains("zero_"));
        CHECK_THAT(error_message([&] { w.copy_(raw_scalar(1)); }), Contains("copy_"));
        CHECK_THAT(error_message([&] { w.mul_(2); }), Contains("mul_"));
        {
            tt::NoGradGuard no_grad;
            w.add_(nested({1, 1, 1}), -1.0f);  // the optimizer's update
        }
        CHECK_THAT(w, tensor_equal(nested({0, 1, 2})));
        tt::Tensor d = w.detach();
        d.mul_(2.0f);  // detach(): same memory, not a leaf that requires grad
        CHECK_THAT(w, tensor_equal(nested({0, 2, 4})));
        CHECK_FALSE(w.grad_fn());  // in-place ops never record
    }
    SECTION("writing into an expanded tensor is refused") {
        tt::Tensor e = nested({1, 2}).expand({3, 2});
        CHECK_THAT(error_message([&] { e.fill_(0); }), Contains("fill_") && Contains("(3, 2)"));
        CHECK_THAT(error_message([&] { e.add_(raw_scalar(1)); }), Contains("add_") && Contains("expanded"));
    }
}
