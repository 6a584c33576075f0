// test_accumulate.cpp - module 06 grader: sum_to_shape and accumulate_grad (backward.cpp), called
// directly. sum_to_shape undoes broadcasting: every position an input element was broadcast to
// contributed to the output, so its gradient is the sum over those positions.
#include <catch2/catch.hpp>

#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

// g[a, b, c] = 6a + 3b + c: every sum below can be checked by hand.
tt::Tensor g432() { return iota({4, 2, 3}); }

}  // namespace

TEST_CASE("sum_to_shape sums away the leading dimensions broadcasting added", "[points=1]") {
    CHECK_THAT(tt::sum_to_shape(g432(), {2, 3}), tensor_equal(nested({{36, 40, 44}, {48, 52, 56}})));  // 36 + 12b + 4c
    CHECK_THAT(tt::sum_to_shape(g432(), {3}), tensor_equal(nested({84, 92, 100})));                     // 84 + 8c
    CHECK_THAT(tt::sum_to_shape(iota({2, 3}), {3}), tensor_equal(nested({3, 5, 7})));
    CHECK_THAT(tt::sum_to_shape(g432(), {4, 2, 3}), tensor_equal(g432()));  // nothing to undo
}

TEST_CASE("sum_to_shape keeps the size-1 dimensions that broadcasting stretched", "[points=2]") {
    INFO("a dimension of size 1 in the target shape stays, with size 1 (sum with keepdim)");
    CHECK_THAT(tt::sum_to_shape(iota({2, 3}), {2, 1}), tensor_equal(nested({{3}, {12}})));
    CHECK_THAT(tt::sum_to_shape(iota({2, 3}), {1, 3}), tensor_equal(nested({{3, 5, 7}})));
    CHECK_THAT(tt::sum_to_shape(iota({2, 3}), {1, 1}), tensor_equal(nested({{15}})));
    // (4, 2, 3) -> (2, 1): dim 0 added, dim 2 stretched. 120 + 36b
    CHECK_THAT(tt::sum_to_shape(g432(), {2, 1}), tensor_equal(nested({{120}, {156}})));
    CHECK_THAT(tt::sum_to_shape(g432(), {1, 2, 1}), tensor_equal(nested({{{120}, {156}}})));
    CHECK_THAT(tt::sum_to_shape(g432(), {4, 1, 3}),
               tensor_equal(nested({{{3, 5, 7}}, {{15, 17, 19}}, {{27, 29, 31}}, {{39, 41, 43}}})));  // 12a + 2c + 3
    CHECK_THAT(tt::sum_to_shape(g432(), {4, 1, 1}), tensor_equal(nested({{{15}}, {{51}}, {{87}}, {{123}}})));
}

TEST_CASE("sum_to_shape to a 0-d or one-element shape sums everything", "[points=1]") {
    CHECK_THAT(tt::sum_to_shape(g432(), {}), tensor_equal(raw_scalar(276)));
    CHECK_THAT(tt::sum_to_shape(g432(), {1}), tensor_equal(nested({276})));
    CHECK_THAT(tt::sum_to_shape(raw_scalar(7), {}), tensor_equal(raw_scalar(7)));
}

TEST_CASE("sum_to_shape of a transposed padded or expanded gradient", "[points=1]") {
    // The gradients that reach sum_to_shape are often views: a transposed matmul result, or the
    // stride-0 expansion that SumBackward makes.
    CHECK_THAT(tt::sum_to_shape(g432().transpose(0, 2), {2, 1}), tensor_equal(nested({{120}, {156}})));  // (3, 2, 4)
    CHECK_THAT(tt::sum_to_shape(padded(iota({2, 3})), {3}), tensor_equal(nested({3, 5, 7})));
    CHECK_THAT(tt::sum_to_shape(strided({2}, {2, 3}, {0, 0}), {3}), tensor_equal(nested({4, 4, 4})));
    CHECK_THAT(tt::sum_to_shape(strided({1, 2, 3}, {4, 3}, {0, 1}), {4, 1}), tensor_equal(nested({{6}, {6}, {6}, {6}})));
    CHECK_THAT(tt::sum_to_shape(raw({}, {0, 3}), {1, 3}), tensor_equal(nested({{0, 0, 0}})));  // nothing summed: 0
}

TEST_CASE("sum_to_shape rejects a shape that does not broadcast to the gradient", "[points=1]") {
    INFO("the error must be a tt::Error naming sum_to_shape and both shapes");
    CHECK_THAT(error_message([&] { tt::sum_to_shape(g432(), {3, 3}); }),
               Contains("sum_to_shape") && Contains("(4, 2, 3)") && Contains("(3, 3)"));
    CHECK_THAT(error_message([&] { tt::sum_to_shape(iota({2, 3}), {5, 2, 3}); }), Contains("sum_to_shape"));
}

TEST_CASE("accumulate_grad copies the first contribution and adds the later ones", "[points=2]") {
    tt::Tensor x = leaf(nested({{1, 2}, {3, 4}}));
    tt::Tensor g = nested({{1, 1}, {1, 1}});
    tt::accumulate_grad(x, g);
    CHECK_THAT(x.grad(), tensor_equal(nested({{1, 1}, {1, 1}})));
    INFO("the first contribution must be copied: later ones are added in place, and the same tensor is often handed to "
         "two inputs (AddBackward) or still used by the caller");
    CHECK_FALSE(shares_storage(x.grad(), g));
    tt::accumulate_grad(x, nested({{10, 20}, {10, 20}}));
    CHECK_THAT(x.grad(), tensor_equal(nested({{11, 21}, {11, 21}})));
    CHECK_THAT(g, tensor_equal(nested({{1, 1}, {1, 1}})));  // the contribution itself is untouched
    CHECK(x.grad().shape() == tt::Shape{2, 2});
    {  // one tensor handed to two inputs, as AddBackward does, then more for the first
        tt::Tensor a = leaf(nested({0, 0})), b = leaf(nested({0, 0}));
        const tt::Tensor shared = nested({1, 2});
        tt::accumulate_grad(a, shared);
        tt::accumulate_grad(b, shared);
        tt::accumulate_grad(a, nested({100, 100}));
        CHECK_THAT(a.grad(), tensor_equal(nested({101, 102})));
        CHECK_THAT(b.grad(), tensor_equal(nested({1, 2})));
        CHECK_THAT(shared, tensor_equal(nested({1, 2})));
    }
    {  // a first contribution that is a stride-0 view gets memory of its own before anything is added
        tt::Tensor c = leaf(nested({0, 0, 0}));
        tt::accumulate_grad(c, strided({1}, {3}, {0}));
        tt::accumulate_grad(c, nested({1, 2, 3}));
        CHECK_THAT(c.grad(), tensor_equal(nested({2, 3, 4})));
    }
}

TEST_CASE("accumulate_grad reduces a broadcast contribution to the input's shape", "[points=1]") {
    tt::Tensor bias = leaf(nested({0, 0}));
    tt::accumulate_grad(bias, iota({3, 2}));  // a bias used by a batch of 3
    CHECK_THAT(bias.grad(), tensor_equal(nested({6, 9})));
    tt::accumulate_grad(bias, iota({2, 2, 2}));  // and again: summed down, then added
    CHECK_THAT(bias.grad(), tensor_equal(nested({6 + 12, 9 + 16})));
    tt::Tensor s = leaf(raw_scalar(1));
    tt::accumulate_grad(s, iota({2, 3}));
    CHECK_THAT(s.grad(), tensor_equal(raw_scalar(15)));
    tt::Tensor column = leaf(nested({{0}, {0}}));
    tt::accumulate_grad(column, iota({2, 3}));
    CHECK_THAT(column.grad(), tensor_equal(nested({{3}, {12}})));
}

TEST_CASE("accumulate_grad ignores tensors that do not require grad", "[points=1]") {
    const tt::Tensor constant = nested({1, 2});
    tt::accumulate_grad(constant, nested({1, 1}));
    CHECK_FALSE(constant.grad().defined());
    tt::Tensor x = leaf(nested({1, 2}));  // and does the work for one that does
    tt::accumulate_grad(x, nested({3, 4}));
    CHECK_THAT(x.grad(), tensor_equal(nested({3, 4})));
}
