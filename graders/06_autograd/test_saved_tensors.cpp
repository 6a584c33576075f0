// test_saved_tensors.cpp - module 06 grader: what Tensor::backward (backward.cpp) must refuse, as
// PyTorch does. Each node's checks live in the given Node::apply (autograd.h); your backward() has
// to call grad_fn->apply(grad, retain_graph) for every node instead of grad_fn->backward(grad):
//   - a tensor a node saved and that was modified in place since the forward: an error naming the
//     node, the tensor and both versions, instead of a silently wrong gradient;
//   - a second backward() through nodes that saved tensors: an error, unless the first backward()
//     passed retain_graph = true.
// Most graphs here are made of test-local ops whose nodes are written below, so these tests grade
// backward.cpp on its own.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

// out = a * b: da += g * b, db += g * a. Saves (reads) both inputs, like every node whose type does
// not say otherwise (Node::saved_inputs is SavedInputs::all).
struct ProductNode : tt::Node {
    const char* name() const override { return "ProductNode"; }
    void backward(const tt::Tensor& g) override {
        ++runs;
        tt::accumulate_grad(inputs[0], g * inputs[1]);
        tt::accumulate_grad(inputs[1], g * inputs[0]);
    }
    int runs = 0;
};

// out = sum(a): da += g, expanded. Reads no input value, saves nothing: it may run again.
struct TotalNode : tt::Node {
    static constexpr tt::SavedInputs saved_inputs = tt::SavedInputs::none;
    const char* name() const override { return "TotalNode"; }
    void backward(const tt::Tensor& g) override {
        ++runs;
        tt::accumulate_grad(inputs[0], g.expand(inputs[0].shape()));
    }
    int runs = 0;
};

// out = e^a, saving out (a tensor passed to the node's constructor): da += g * out.
struct ExpNode : tt::Node {
    explicit ExpNode(tt::Tensor out) : out(std::move(out)) {}
    static constexpr tt::SavedInputs saved_inputs = tt::SavedInputs::none;
    const char* name() const override { return "ExpNode"; }
    void backward(const tt::Tensor& g) override { tt::accumulate_grad(inputs[0], g * out); }
    tt::Tensor out;
};

tt::Tensor product(const tt::Tensor& a, const tt::Tensor& b) {
    tt::Tensor out;
    {
        tt::NoGradGuard no_grad;
        out = a * b;
    }
    return tt::record<ProductNode>(out, {a, b});
}

tt::Tensor total(const tt::Tensor& a) {
    tt::Tensor out;
    {
        tt::NoGradGuard no_grad;
        out = tt::sum(a);
    }
    return tt::record<TotalNode>(out, {a});
}

tt::Tensor exponential(const tt::Tensor& a) {
    tt::Tensor out;
    {
        tt::NoGradGuard no_grad;
        out = tt::exp(a);
    }
    return tt::record<ExpNode>(out, {a}, out.detach());
}

int runs_of(const tt::Tensor& t) {
    if (auto* node = dynamic_cast<ProductNode*>(t.grad_fn().get())) return node->runs;
    if (auto* node = dynamic_cast<TotalNode*>(t.grad_fn().get())) return node->runs;
    return -1;
}

}  // namespace

TEST_CASE("backward refuses a node whose saved input was modified in place and names it", "[points=2]") {
    INFO("call grad_fn->apply(grad, retain_graph) for each node, not grad_fn->backward(grad): apply() checks that "
         "what the node saved is unchanged, so a wrong gradient becomes an error");
    {
        tt::Tensor x = nested({1, 2, 3}).requires_grad_();
        tt::Tensor w = nested({4, 5, 6});
        const tt::Tensor y = product(x, w);
        const tt::Tensor loss = total(y);
        w.mul_(2.0f);  // dx would now be computed with the new w
        const std::string message = error_message([&] { loss.backward(); });
        CHECK_THAT(message, Contains("ProductNode") && Contains("input 1") && Contains("(3)"));
        CHECK_THAT(message, Contains("version 1") && Contains("expected version 0"));
        CHECK_FALSE(x.grad().defined());
        CHECK(runs_of(y) == 0);
        INFO("backward() must leave grad mode as it found it, also when a node refuses to run (use NoGradGuard)");
        CHECK(tt::is_grad_enabled());
    }
    {  // a saved output changed through a view of it
        tt::Tensor x = nested({{1, 2}, {3, 4}}).requires_grad_();
        tt::Tensor e = exponential(x);
        const tt::Tensor loss = total(e);
        e.select(0, 1).fill_(0.0f);
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("ExpNode") && Contains("(2, 2)"));
    }
    {  // with the library's own ops: a parameter updated between the forward and the backward
        tt::Tensor w = nested({{1, 2}, {3, 4}}).requires_grad_();
        const tt::Tensor loss = tt::sum(tt::matmul(w, w));
        {
            tt::NoGradGuard no_grad;
            w.add_(nested({{1, 1}, {1, 1}}), -0.5f);
        }
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("MatmulBackward"));
        CHECK_FALSE(w.grad().defined());
    }
}

TEST_CASE("a second backward through the same graph is refused unless retain_graph", "[points=2]") {
    INFO("pass retain_graph on to apply(): a node that saved tensors runs once per graph unless the backward() that "
         "ran it was called with retain_graph = true (as in PyTorch)");
    {
        tt::Tensor x = nested({1, 2}).requires_grad_();
        const tt::Tensor y = product(x, x);
        const tt::Tensor loss = total(y);
        loss.backward();
        CHECK_THAT(x.grad(), tensor_equal(nested({2, 4})));
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("ProductNode") && Contains("second time"));
        CHECK_THAT(x.grad(), tensor_equal(nested({2, 4})));
        CHECK(runs_of(y) == 1);
    }
    {  // the library's ops: exp saves its output
        tt::Tensor x = nested({0, 1}).requires_grad_();
        const tt::Tensor loss = tt::sum(tt::exp(x));
        loss.backward();
        CHECK_THAT(error_message([&] { loss.backward(); }), Contains("ExpBackward") && Contains("retain_graph"));
    }
    {  // two losses sharing a part of the graph
        tt::Tensor x = nested({1, 2}).requires_grad_();
        const tt::Tensor shared = product(x, nested({3, 4}));
        const tt::Tensor first = total(shared), second = total(product(shared, nested({1, 1})));
        first.backward();
        CHECK_THAT(error_message([&] { second.backward(); }), Contains("ProductNode"));
    }
}

TEST_CASE("retain_graph keeps the graph for another backward and the gradients add up", "[points=1]") {
    tt::Tensor x = nested({1, 2, 3}).requires_grad_();
    const tt::Tensor w = nested({2, 0, -1});
    const tt::Tensor y = product(x, w);
    const tt::Tensor loss = total(y);
    loss.backward(tt::Tensor(), /*retain_graph=*/true);
    loss.backward(tt::Tensor(), /*retain_graph=*/true);
    loss.backward();  // the last pass may release the graph
    CHECK_THAT(x.grad(), tensor_equal(nested({6, 0, -3})));
    CHECK(runs_of(y) == 3);
    CHECK_THAT(error_message([&] { loss.backward(); }), Contains("ProductNode"));
    {  // the library's ops
        tt::Tensor a = nested({0.5f, 1}).requires_grad_();
        const tt::Tensor l = tt::sum(tt::exp(a) * a);
        l.backward(tt::Tensor(), true);
        const tt::Tensor first = raw_copy(a.grad());
        l.backward();
        CHECK_THAT(a.grad(), tensor_near(reference_unary(first, [](float v) { return 2 * v; })));
    }
}

TEST_CASE("nodes that saved nothing may run again and writes no node reads are no error", "[points=1]") {
    {
        tt::Tensor x = nested({1, 2}).requires_grad_();
        const tt::Tensor t = total(x);
        t.backward();
        t.backward();  // TotalNode saved nothing: PyTorch allows (x + 1).sum() twice as well
        CHECK_THAT(x.grad(), tensor_equal(nested({2, 2})));
        CHECK(runs_of(t) == 2);
    }
    {  // add and the views keep no values: writing into their inputs changes no gradient
        tt::Tensor x = nested({1, 2, 3}).requires_grad_();
        tt::Tensor c = nested({5, 5, 5});
        const tt::Tensor loss = tt::sum((x + c).view({3, 1}).t()) + tt::sum(tt::mul(x, nested({1, 2, 3})));
        c.fill_(-1.0f);
        loss.backward();
        CHECK_THAT(x.grad(), tensor_equal(nested({2, 3, 4})));
    }
}
