// test_inplace.cpp - module 02 grader: fill_, zero_, copy_, add_, mul_ (through views, with
// broadcasting), and the autograd rules for in-place writes.
#include <catch2/catch.hpp>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("fill_ zero_ and mul_ write only the elements of a view", "[points=1]") {
    {  // fill_ and zero_ write only the elements of a view
        tt::Tensor x = iota({3, 4});
        tt::Tensor column(x.storage(), {3}, {4}, 1);  // column 1 of x
        tt::Tensor& r = column.fill_(-1.0f);
        CHECK(&r == &column);
        CHECK(x.storage()->data == std::vector<float>{0, -1, 2, 3, 4, -1, 6, 7, 8, -1, 10, 11});
        tt::Tensor block(x.storage(), {2, 2}, {4, 1}, 6);  // rows 1-2, columns 2-3
        block.zero_();
        CHECK(x.storage()->data == std::vector<float>{0, -1, 2, 3, 4, -1, 0, 0, 8, -1, 0, 0});
        tt::Tensor s = raw_scalar(1.0f);
        s.fill_(3.0f);
        CHECK(element(s, {}) == 3.0f);
    }
    {  // mul_ scales every element of a view
        tt::Tensor x = iota({2, 4});
        tt::Tensor odd(x.storage(), {2, 2}, {4, 2}, 1);  // columns 1 and 3
        tt::Tensor& r = odd.mul_(-2.0f);
        CHECK(&r == &odd);
        CHECK(x.storage()->data == std::vector<float>{0, -2, 2, -6, 4, -10, 6, -14});
    }
}

TEST_CASE("copy_ copies values between tensors of the same shape and any layout", "[points=1]") {
    tt::Tensor dst = iota({2, 3});
    tt::Tensor src = strided({0, 1, 2, 3, 4, 5}, {2, 3}, {1, 2});  // [[0, 2, 4], [1, 3, 5]]
    tt::Tensor& r = dst.copy_(src);
    CHECK(&r == &dst);
    CHECK_THAT(dst, tensor_equal(nested({{0, 2, 4}, {1, 3, 5}})));
    CHECK_FALSE(shares_storage(dst, src));
    // Into a transposed destination: dst_t[i][j] = dst_storage[j * 3 + i].
    tt::Tensor base = raw(std::vector<float>(6, 0.0f), {2, 3});
    tt::Tensor dst_t(base.storage(), {3, 2}, {1, 3}, 0);
    dst_t.copy_(nested({{1, 2}, {3, 4}, {5, 6}}));
    CHECK(base.storage()->data == std::vector<float>{1, 3, 5, 2, 4, 6});
}

TEST_CASE("copy_ broadcasts the source to the destination shape", "[points=1]") {
    tt::Tensor x = iota({2, 3});
    x.copy_(raw_scalar(7.0f));
    CHECK_THAT(x, tensor_equal(nested({{7, 7, 7}, {7, 7, 7}})));
    x.copy_(nested({1, 2, 3}));
    CHECK_THAT(x, tensor_equal(nested({{1, 2, 3}, {1, 2, 3}})));
    x.copy_(nested({{10}, {20}}));
    CHECK_THAT(x, tensor_equal(nested({{10, 10, 10}, {20, 20, 20}})));
    tt::Tensor p = padded(iota({2, 2}));
    p.copy_(nested({5, 6}));
    CHECK_THAT(p, tensor_equal(nested({{5, 6}, {5, 6}})));
    CHECK(p.storage()->data[0] == 1e6f);  // junk outside the view is untouched
}

TEST_CASE("copy_ and add_ with a source that overlaps the destination", "[points=1]") {
    {  // copy_ from an overlapping transposed view of the same storage
        tt::Tensor x = nested({{1, 2}, {3, 4}});
        tt::Tensor xt(x.storage(), {2, 2}, {1, 2}, 0);
        x.copy_(xt);
        CHECK_THAT(x, tensor_equal(nested({{1, 3}, {2, 4}})));
    }
    {  // add_ of a tensor to itself
        tt::Tensor x = nested({1, 2, 3});
        x.add_(x);
        CHECK_THAT(x, tensor_equal(nested({2, 4, 6})));
        tt::Tensor m = nested({{1, 2}, {3, 4}});
        tt::Tensor mt(m.storage(), {2, 2}, {1, 2}, 0);
        m.add_(mt);
        CHECK_THAT(m, tensor_equal(nested({{2, 5}, {5, 8}})));
    }
}

TEST_CASE("copy_ and add_ reject a source that does not broadcast to the destination", "[points=1]") {
    tt::Tensor x = iota({2, 3});
    CHECK_THAT(error_message([&] { x.copy_(iota({3, 2})); }), Contains("copy_") && Contains("(3, 2)"));
    // A source may broadcast to the destination, never the other way round.
    CHECK_THAT(error_message([&] { x.copy_(iota({4, 2, 3})); }), Contains("copy_") && Contains("(4, 2, 3)"));
    CHECK_THAT(error_message([&] { x.add_(iota({2, 2})); }), Contains("add_") && Contains("(2, 2)"));
    CHECK_THAT(x, tensor_equal(iota({2, 3})));
}

TEST_CASE("add_ adds alpha times a broadcast operand in place", "[points=1]") {
    tt::Tensor x = iota({2, 3});
    tt::Tensor& r = x.add_(nested({{10, 20, 30}, {40, 50, 60}}));
    CHECK(&r == &x);
    CHECK_THAT(x, tensor_equal(nested({{10, 21, 32}, {43, 54, 65}})));
    x.add_(nested({1, 2, 3}), -2.0f);
    CHECK_THAT(x, tensor_equal(nested({{8, 17, 26}, {41, 50, 59}})));
    x.add_(raw_scalar(0.5f), 2.0f);
    CHECK_THAT(x, tensor_equal(nested({{9, 18, 27}, {42, 51, 60}})));
    // into a non-contiguous destination, from a non-contiguous operand
    tt::Tensor p = padded(iota({2, 3}));
    p.add_(column_major(nested({{1, 1, 1}, {2, 2, 2}})), 10.0f);
    CHECK_THAT(p, tensor_equal(nested({{10, 11, 12}, {23, 24, 25}})));
}

TEST_CASE("in-place ops on a leaf that requires grad are refused with grad mode on and work under NoGradGuard", "[points=2]") {
    {  // in-place ops on a leaf that requires grad are refused while grad mode is on
        tt::Tensor w = nested({1, 2, 3}).requires_grad_();
        CHECK_THAT(error_message([&] { w.fill_(0.0f); }), Contains("fill_"));
        CHECK_THAT(error_message([&] { w.zero_(); }), Contains("leaf") || Contains("requires grad") || Contains("requires_grad"));
        CHECK_THAT(error_message([&] { w.copy_(nested({4, 5, 6})); }), Contains("copy_"));
        CHECK_THAT(error_message([&] { w.add_(nested({1, 1, 1})); }), Contains("add_"));
        CHECK_THAT(error_message([&] { w.mul_(2.0f); }), Contains("mul_"));
        CHECK_THAT(w, tensor_equal(nested({1, 2, 3})));
    }
    {  // in-place ops on a leaf that requires grad work under NoGradGuard
        tt::Tensor w = nested({1, 2, 3}).requires_grad_();
        {
            tt::NoGradGuard no_grad;
            w.add_(nested({1, 1, 1}), -0.5f);  // an optimizer step
            w.mul_(2.0f);
        }
        CHECK_THAT(w, tensor_equal(nested({1, 3, 5})));
        CHECK(w.requires_grad());
        CHECK(w.is_leaf());
        // The detached view of a parameter may also be written with grad mode on.
        tt::Tensor d = w.detach();
        d.fill_(0.0f);
        CHECK_THAT(w, tensor_equal(nested({0, 0, 0})));
    }
}

TEST_CASE("in-place ops never record a grad_fn", "[points=1]") {
    tt::Tensor x = nested({1, 2, 3});
    tt::Tensor g = nested({1, 1, 1}).requires_grad_();
    x.add_(g);
    CHECK(x.grad_fn() == nullptr);
    CHECK_FALSE(x.requires_grad());
    x.copy_(g);
    CHECK(x.grad_fn() == nullptr);
    CHECK_THAT(x, tensor_equal(nested({1, 1, 1})));
}
