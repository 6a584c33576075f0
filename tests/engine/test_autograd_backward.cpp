// test_autograd_backward.cpp - module 06: Tensor::backward, accumulate_grad, sum_to_shape, zero_grad
// (engine/src/06_autograd/backward.cpp): seeding, topological order, accumulation, grad mode,
// detach, retain_grad and the release of intermediate gradients.
#include <catch2/catch.hpp>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {
tt::Tensor leaf(const Nested& values) {
    tt::Tensor t = nested(values);
    t.requires_grad_();
    return t;
}
}  // namespace

TEST_CASE("autograd: backward of a one-element tensor seeds 1", "[06][autograd][backward]") {
    tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
    tt::Tensor loss = (x * x).sum();  // x used twice: two contributions, 2x
    CHECK(loss.grad_fn() != nullptr);
    loss.backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({{2, 4, 6}, {8, 10, 12}})));
    CHECK_FALSE(x.grad().requires_grad());  // gradients are plain numbers, not graph nodes
    CHECK(x.grad().grad_fn() == nullptr);
    CHECK(tt::is_grad_enabled());           // backward turned grad mode off only while it ran

    tt::Tensor y = leaf({3});
    (y * 4.0f).backward();  // (1,) is one element too
    CHECK_THAT(y.grad(), tensor_equal(nested({4})));
}

TEST_CASE("autograd: backward errors", "[06][autograd][backward]") {
    tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
    const tt::Tensor y = x * 2.0f;
    CHECK_THAT(error_message([&] { y.backward(); }), Contains("backward") && Contains("(2, 3)"));
    CHECK_THAT(error_message([&] { y.backward(tt::ones({3, 2})); }), Contains("backward") && Contains("(3, 2)") && Contains("(2, 3)"));
    const tt::Tensor c = nested({1, 2}) * 2.0f;
    CHECK_THAT(error_message([&] { c.sum().backward(); }), Contains("backward") && Contains("does not require grad"));
    CHECK_FALSE(x.grad().defined());  // a failed backward changed nothing
}

TEST_CASE("autograd: backward with an explicit gradient", "[06][autograd][backward]") {
    tt::Tensor x = leaf({{1, 2}, {3, 4}});
    const tt::Tensor y = x * 3.0f;
    y.backward(nested({{1, 0}, {0.5f, -1}}));
    CHECK_THAT(x.grad(), tensor_equal(nested({{3, 0}, {1.5f, -3}})));
    CHECK_FALSE(y.grad().defined());  // an intermediate's gradient is released after use

    tt::Tensor z = leaf({1, 2});
    z.backward(nested({5, 6}));  // a leaf as the root: its gradient is the seed
    CHECK_THAT(z.grad(), tensor_equal(nested({5, 6})));
}

TEST_CASE("autograd: gradients accumulate across backward calls; zero_grad clears", "[06][autograd][backward]") {
    tt::Tensor x = leaf({1, 2, 3});
    (x * 2.0f).sum().backward();
    const tt::Tensor first = x.grad();
    CHECK_THAT(first, tensor_equal(nested({2, 2, 2})));
    (x * x).sum().backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({4, 6, 8})));
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());
    (x * 1.0f).sum().backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({1, 1, 1})));
}

TEST_CASE("autograd: a diamond graph adds both paths, each node runs once", "[06][autograd][backward]") {
    tt::Tensor x = leaf({1, 2});
    const tt::Tensor a = x * 2.0f;
    const tt::Tensor b = x * 3.0f;
    const tt::Tensor c = a * b;             // 6 x^2
    const tt::Tensor d = c + a;             // a reaches d twice: directly and through c
    d.sum().backward();                     // d' = 12 x + 2
    CHECK_THAT(x.grad(), tensor_equal(nested({14, 26})));

    tt::Tensor w = leaf({2});
    tt::Tensor h = w;
    for (int i = 0; i < 4; ++i) h = h * h;  // w^16, each square uses the previous result twice
    h.sum().backward();                     // 16 w^15 = 16 * 32768
    CHECK_THAT(w.grad(), tensor_equal(nested({524288})));
}

TEST_CASE("autograd: broadcast inputs get gradients of their own shape", "[06][autograd][backward][broadcast]") {
    tt::Tensor col = leaf({{1}, {2}, {3}});      // (3, 1)
    tt::Tensor row = leaf({{10, 20, 30, 40}});   // (1, 4)
    tt::Tensor s = leaf(2);                      // 0-d
    (col * row + s).sum().backward();
    CHECK_THAT(col.grad(), tensor_equal(nested({{100}, {100}, {100}})));  // each col[i] met all of row
    CHECK_THAT(row.grad(), tensor_equal(nested({{6, 6, 6, 6}})));
    CHECK(s.grad().dim() == 0);
    CHECK(s.grad().item() == 12.0f);
}

TEST_CASE("autograd: NoGradGuard, detach and constants", "[06][autograd][backward]") {
    tt::Tensor x = leaf({1, 2});
    {
        tt::NoGradGuard no_grad;
        const tt::Tensor y = x * 2.0f;
        CHECK_FALSE(y.requires_grad());
        CHECK(y.grad_fn() == nullptr);
        {
            tt::NoGradGuard nested_guard;
        }
        CHECK_FALSE(tt::is_grad_enabled());  // the inner guard restored "off", not "on"
    }
    CHECK(tt::is_grad_enabled());

    const tt::Tensor d = x.detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(shares_storage(d, x));
    (x * d).sum().backward();  // d is a constant: d(x * d)/dx = d, not 2x
    CHECK_THAT(x.grad(), tensor_equal(nested({1, 2})));

    const tt::Tensor c = nested({5, 7});
    tt::Tensor z = leaf({1, 1});
    (c * z).sum().backward();
    CHECK_FALSE(c.grad().defined());  // inputs that do not require grad get nothing
    CHECK_THAT(z.grad(), tensor_equal(nested({5, 7})));
}

TEST_CASE("autograd: retain_grad keeps an intermediate's gradient", "[06][autograd][backward]") {
    tt::Tensor x = leaf({1, 2, 3});
    tt::Tensor h = x * 2.0f;
    tt::Tensor k = h * h;  // not retained
    h.retain_grad();
    const tt::Tensor loss = k.sum();
    loss.backward(tt::Tensor(), /*retain_graph=*/true);  // k's MulBackward saved h: keep it runnable
    CHECK_THAT(h.grad(), tensor_equal(nested({4, 8, 12})));  // 2h
    CHECK_FALSE(k.grad().defined());                         // released once its node had run
    CHECK_FALSE(loss.grad().defined());
    CHECK_THAT(x.grad(), tensor_equal(nested({8, 16, 24})));  // 8x

    // A second backward: the retained gradient accumulates, but is not propagated twice.
    loss.backward();
    CHECK_THAT(h.grad(), tensor_equal(nested({8, 16, 24})));
    CHECK_THAT(x.grad(), tensor_equal(nested({16, 32, 48})));

    tt::Tensor r = x * 1.0f;
    r.retain_grad();
    r.backward(nested({1, 2, 3}));  // a retained root keeps its seed
    CHECK_THAT(r.grad(), tensor_equal(nested({1, 2, 3})));
}

TEST_CASE("autograd: a very deep graph does not overflow the stack", "[06][autograd][backward]") {
    tt::Tensor x = leaf({1});
    tt::Tensor y = x;
    const int depth = 20000;
    for (int i = 0; i < depth; ++i) y = y + 1.0f;
    y.backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({1})));
    CHECK(y.item() == 1.0f + depth);
}

TEST_CASE("autograd: sum_to_shape undoes broadcasting", "[06][autograd][sum_to_shape]") {
    const tt::Tensor g = iota({4, 2, 3});
    const tt::Tensor same = tt::sum_to_shape(g, {4, 2, 3});
    CHECK(same.is_same(g));  // nothing to do: no copy
    // (4, 2, 3) -> (2, 1): sum over dim 0 (added) and dim 2 (stretched)
    // g[a, b, c] = 6a + 3b + c
    CHECK_THAT(tt::sum_to_shape(g, {2, 1}), tensor_equal(nested({{120}, {156}})));  // 120 + 36b
    CHECK_THAT(tt::sum_to_shape(g, {3}), tensor_equal(nested({84, 92, 100})));       // 84 + 8c
    CHECK_THAT(tt::sum_to_shape(g, {1, 2, 1}), tensor_equal(nested({{{120}, {156}}})));
    CHECK_THAT(tt::sum_to_shape(g, {4, 1, 3}),
               tensor_equal(nested({{{3, 5, 7}}, {{15, 17, 19}}, {{27, 29, 31}}, {{39, 41, 43}}})));  // 12a + 2c + 3
    CHECK(tt::sum_to_shape(g, {}).item() == 276.0f);  // to a 0-d tensor: everything
    CHECK(tt::sum_to_shape(g, {1}).shape() == tt::Shape{1});
    CHECK_THAT(tt::sum_to_shape(g.transpose(0, 2), {2, 1}), tensor_equal(nested({{120}, {156}})));  // non-contiguous grad
    CHECK_THAT(tt::sum_to_shape(raw_scalar(2).expand({2, 3}), {3}), tensor_equal(nested({4, 4, 4})));
    CHECK_THAT(tt::sum_to_shape(raw({}, {0, 3}), {1, 3}), tensor_equal(nested({{0, 0, 0}})));
    CHECK_THAT(error_message([&] { tt::sum_to_shape(g, {3, 3}); }), Contains("sum_to_shape") && Contains("(4, 2, 3)") && Contains("(3, 3)"));
}

TEST_CASE("autograd: accumulate_grad copies the first contribution and adds the rest", "[06][autograd][accumulate]") {
    tt::Tensor x = leaf({{1, 2}, {3, 4}});
    tt::Tensor g = nested({{1, 1}, {1, 1}});
    tt::accumulate_grad(x, g);
    CHECK_FALSE(shares_storage(x.grad(), g));  // never an alias: later contributions add in place
    tt::accumulate_grad(x, nested({{10, 20}, {10, 20}}));
    CHECK_THAT(x.grad(), tensor_equal(nested({{11, 21}, {11, 21}})));
    CHECK_THAT(g, tensor_equal(nested({{1, 1}, {1, 1}})));  // the contribution itself is untouched
    tt::accumulate_grad(x, iota({3, 2, 2}));                // a batch: summed down to (2, 2)
    CHECK_THAT(x.grad(), tensor_equal(nested({{11 + 12, 21 + 15}, {11 + 18, 21 + 21}})));

    const tt::Tensor constant = nested({1, 2});
    tt::accumulate_grad(constant, nested({1, 1}));
    CHECK_FALSE(constant.grad().defined());  // does not require grad: nothing happens

    tt::Tensor s = leaf(1);
    tt::accumulate_grad(s, iota({2, 3}));
    CHECK(s.grad().item() == 15.0f);
    CHECK(s.grad().dim() == 0);
}

TEST_CASE("autograd: a graph a million ops deep is freed without overflowing the stack") {
    tt::Tensor x = tt::ones({1}).requires_grad_();
    {
        tt::Tensor total = x;
        for (int i = 0; i < 1000000; ++i) total = total + 1.0f;
        CHECK(total.item() == 1000001.0f);
    }  // the chain total -> AddBackward -> ... -> x is destroyed here
    CHECK(x.grad_fn() == nullptr);
}
