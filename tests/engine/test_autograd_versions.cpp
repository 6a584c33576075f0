// test_autograd_versions.cpp - module 06: what backward() refuses, as PyTorch does (autograd.h,
// Node::apply): values a node saved that were modified in place since the forward, and a second
// backward through a graph whose nodes saved tensors, unless the first passed retain_graph.
#include <catch2/catch.hpp>

#include <string>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {
tt::Tensor leaf_of(const Nested& values) { return nested(values).requires_grad_(); }
}  // namespace

TEST_CASE("versions: every in-place write through the API bumps the storage's version", "[02][tensor][version]") {
    tt::Tensor x = nested({{1, 2}, {3, 4}});
    CHECK(x.version() == 0);
    x.set({0, 0}, 5.0f);
    CHECK(x.version() == 1);
    x.fill_(1.0f);
    x.zero_();
    x.copy_(nested({1, 2}));
    x.add_(nested({1, 1}), 2.0f);
    x.mul_(3.0f);
    CHECK(x.version() == 6);
    tt::Tensor row = x.select(0, 1);  // a view shares the storage, so the count too
    row.fill_(0.0f);
    CHECK(x.version() == 7);
    CHECK(x.detach().version() == 7);
    CHECK(x.clone().version() == 0);  // a copy starts afresh
    (void)x.at({0, 0});               // reads do not count
    (void)(x + 1.0f);
    CHECK(x.version() == 7);
    CHECK_THROWS(x.copy_(iota({3, 3})));  // a refused write changes nothing
    CHECK(x.version() == 7);
}

TEST_CASE("versions: modifying a saved input in place is an error at backward naming the node", "[06][autograd][version]") {
    {  // the example of autograd.h: MulBackward keeps w to compute dx = g * w
        tt::Tensor x = leaf_of({1, 2, 3});
        tt::Tensor w = nested({4, 5, 6});
        const tt::Tensor loss = (x * w).sum();
        w.mul_(2.0f);
        const std::string message = error_message([&] { loss.backward(); });
        CHECK_THAT(message, Contains("MulBackward") && Contains("input 1") && Contains("(3)"));
        CHECK_THAT(message, Contains("version 1") && Contains("expected version 0"));
        CHECK_THAT(message, Contains("modified by an inplace operation") && Contains("clone()") && Contains("NoGradGuard"));
        CHECK_FALSE(x.grad().defined());
    }
    {  // a parameter updated under NoGradGuard between the forward and the backward
        tt::Tensor w = leaf_of({{1, 2}, {3, 4}});
        const tt::Tensor x = nested({{1, 0}, {0, 1}});
        const tt::Tensor loss = tt::matmul(x, w).sum() + tt::matmul(w, w).sum();
        {
            tt::NoGradGuard no_grad;
            w.add_(nested({{1, 1}, {1, 1}}), -0.1f);
        }
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("MatmulBackward") && Contains("(2, 2)"));
    }
    {  // through a view: the view's base shares the storage
        tt::Tensor x = leaf_of({1, 2, 3, 4});
        tt::Tensor c = nested({{1, 2}, {3, 4}});
        const tt::Tensor loss = tt::log(x.view({2, 2}) * c).sum();
        c.select(0, 0).fill_(9.0f);
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("MulBackward") && Contains("input 1"));
    }
    {  // set() counts too
        tt::Tensor x = leaf_of({1, 2});
        tt::Tensor h = x * 1.0f;  // a non-leaf: in-place writes are allowed with grad mode on
        const tt::Tensor loss = tt::log(h).sum();
        h.set({0}, 5.0f);
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("LogBackward") && Contains("input 0"));
    }
}

TEST_CASE("versions: modifying a saved output in place is an error naming the saved tensor", "[06][autograd][version]") {
    using Op = tt::Tensor (*)(const tt::Tensor&);
    const std::vector<std::pair<const char*, Op>> ops = {
        {"ExpBackward", [](const tt::Tensor& x) { return tt::exp(x); }},
        {"SqrtBackward", [](const tt::Tensor& x) { return tt::sqrt(x); }},
        {"SigmoidBackward", [](const tt::Tensor& x) { return tt::sigmoid(x); }},
        {"TanhBackward", [](const tt::Tensor& x) { return tt::tanh(x); }},
        {"SoftmaxBackward", [](const tt::Tensor& x) { return tt::softmax(x, -1); }},
        {"LogSoftmaxBackward", [](const tt::Tensor& x) { return tt::log_softmax(x, 0); }},
    };
    for (const auto& [node, op] : ops) {
        INFO(node);
        tt::Tensor x = leaf_of({1, 2, 3});
        tt::Tensor y = op(x);
        const tt::Tensor loss = (y * nested({1, 2, 3})).sum();
        y.add_(nested({1, 1, 1}));  // y is not a leaf: allowed, but its node saved it
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains(node) && Contains("saved") && Contains("(3)"));
    }
    {  // max over everything keeps x to share the gradient among ties
        tt::Tensor x = leaf_of({1, 5, 5});
        tt::Tensor h = x * 1.0f;
        const tt::Tensor loss = tt::max(h);
        h.set({1}, 0.0f);
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("MaxBackward"));
    }
}

TEST_CASE("versions: writes into tensors no backward reads are fine, as in PyTorch", "[06][autograd][version]") {
    {  // add, sub, neg, sum, mean and the views need only g
        tt::Tensor x = leaf_of({1, 2, 3});
        tt::Tensor c = nested({4, 5, 6});
        tt::Tensor h = x * 1.0f;
        const tt::Tensor loss = (h + c).sum() + (c - h).mean() + (-h).sum() + h.view({3, 1}).t().sum() +
                                h.slice(0, 1, 3).sum() + h.expand({2, 3}).sum() + tt::max(h, 0);
        c.fill_(0.0f);
        h.fill_(7.0f);
        loss.backward();
        // per term: 1, -1/3, -1, 1, [0, 1, 1], 2, [0, 0, 1] (max along dim 0 picked index 2)
        const float common = 1 - 1.0f / 3 - 1 + 1 + 2;
        CHECK_THAT(x.grad(), tensor_near(nested({common, common + 1, common + 2})));
    }
    {  // a * b when b does not require grad: a's own value is not needed (db is not computed)
        tt::Tensor a = leaf_of({1, 2, 3});
        const tt::Tensor b = nested({4, 5, 6});
        const tt::Tensor loss = (a * b).sum();
        {
            tt::NoGradGuard no_grad;
            a.mul_(2.0f);
        }
        loss.backward();
        CHECK_THAT(a.grad(), tensor_equal(nested({4, 5, 6})));
    }
    {  // writes before the forward, and after the backward, are none of autograd's business
        tt::Tensor w = leaf_of({1, 2});
        {
            tt::NoGradGuard no_grad;
            w.mul_(3.0f);
        }
        const tt::Tensor loss = (w * w).sum();
        loss.backward();
        {
            tt::NoGradGuard no_grad;
            w.add_(w.grad(), -0.1f);  // the optimizer step
        }
        CHECK_THAT(w.grad(), tensor_equal(nested({6, 12})));
    }
}

TEST_CASE("versions: a second backward through nodes that saved tensors needs retain_graph", "[06][autograd][retain_graph]") {
    {
        tt::Tensor x = leaf_of({1, 2, 3});
        const tt::Tensor loss = (x * x).sum();
        loss.backward();
        const std::string message = error_message([&] { loss.backward(); });
        CHECK_THAT(message, Contains("MulBackward") && Contains("second time") && Contains("retain_graph"));
        CHECK_THAT(x.grad(), tensor_equal(nested({2, 4, 6})));  // the refused pass added nothing
    }
    {  // retain_graph = true keeps the graph usable: gradients add up
        tt::Tensor x = leaf_of({1, 2, 3});
        const tt::Tensor loss = tt::exp(x).sum();
        loss.backward(tt::Tensor(), true);
        loss.backward(tt::Tensor(), true);
        loss.backward();  // the last one may release it
        CHECK_THAT(x.grad(), tensor_near(nested({3 * std::exp(1.0f), 3 * std::exp(2.0f), 3 * std::exp(3.0f)})));
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("ExpBackward") && Contains("second time"));
    }
    {  // nodes that saved nothing may run again (PyTorch: y = (x + 1).sum(); y.backward(); y.backward())
        tt::Tensor x = leaf_of({1, 2});
        const tt::Tensor loss = ((x + x) - x.view({2, 1}).t().sum(0)).mean();
        loss.backward();
        loss.backward();
        CHECK_THAT(x.grad(), tensor_near(nested({1, 1})));
    }
    {  // two losses sharing part of a graph: the shared nodes ran for the first one
        tt::Tensor x = leaf_of({1, 2});
        const tt::Tensor h = tt::exp(x);
        const tt::Tensor first = h.sum(), second = (h * 2.0f).sum();
        first.backward();
        CHECK_THAT(error_message([&] { second.backward(); }), Contains("ExpBackward") && Contains("retain_graph"));
    }
    {  // a node that refused to run is not marked as used; one that ran is
        tt::Tensor x = leaf_of({1, 2});
        tt::Tensor c = nested({3, 4});
        const tt::Tensor product = x * c;
        const tt::Tensor loss = product.sum();
        c.mul_(2.0f);
        CHECK_THROWS_AS(loss.backward(), tt::Error);
        CHECK_FALSE(product.grad_fn()->released());
        CHECK(loss.grad_fn()->released());
    }
}

TEST_CASE("versions: losses and activations check what they saved", "[06][autograd][version]") {
    {
        tt::Tensor logits = leaf_of({{1, 2, 3}, {0, 1, 0}});
        tt::Tensor targets = nested({2, 0});
        const tt::Tensor loss = tt::cross_entropy(logits, targets);
        targets.fill_(1.0f);  // the node reads the targets to build q
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("CrossEntropyBackward"));
    }
    {
        tt::Tensor p = leaf_of({0.25f, 0.5f});
        tt::Tensor y = nested({1, 0});
        const tt::Tensor loss = tt::binary_cross_entropy(p, y);
        y.fill_(0.5f);
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("BCEBackward") && Contains("input 1"));
    }
    {
        tt::Tensor x = leaf_of({-1, 2});
        tt::Tensor h = x * 1.0f;
        const tt::Tensor loss = tt::relu(h).sum();
        h.fill_(1.0f);  // relu' = (x > 0) would change from [0, 1] to [1, 1]
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("ReluBackward"));
    }
}
