// test_backward.cpp - module 06 grader: Tensor::backward and zero_grad (backward.cpp): the seed,
// the topological walk, accumulation, errors, the release of intermediate gradients, retain_grad,
// NoGradGuard and detach.
//
// These tests build their graphs from test-local ops whose backward nodes are written here, so
// they grade backward.cpp on its own: they pass before any node of nodes_tensor.cpp is written.
// Every test node writes its label into a trace when it runs, so the tests can check that each
// node runs exactly once, and only after every node that uses its output.
#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

using Trace = std::vector<std::string>;

// out = a * b, a + b, k * a or sum(a), with a backward node written in the test:
//     mul: da += g * b, db += g * a     add: da += g, db += g     scale: da += k g     sum: da += g
// A node refuses to run a second time: correct backward() calls each node once, after all the
// contributions to its output's gradient have arrived.
struct TestNode : tt::Node {
    enum class Kind { mul, add, scale, sum };
    TestNode(Kind kind, float k, std::string label, Trace* trace) : kind(kind), k(k), label(std::move(label)), trace(trace) {}
    const char* name() const override { return "TestNode"; }
    void backward(const tt::Tensor& g) override {
        if (++runs > 1)
            throw std::logic_error("the node of '" + label +
                                   "' was called a second time: backward() must call each node exactly once, with its "
                                   "output's complete gradient (walk a topological order, do not follow every path)");
        if (trace) trace->push_back(label);
        grad_mode_when_run = tt::is_grad_enabled();
        switch (kind) {
            case Kind::mul:
                tt::accumulate_grad(inputs[0], g * inputs[1]);
                tt::accumulate_grad(inputs[1], g * inputs[0]);
                break;
            case Kind::add:
                tt::accumulate_grad(inputs[0], g);
                tt::accumulate_grad(inputs[1], g);
                break;
            case Kind::scale: tt::accumulate_grad(inputs[0], g * k); break;
            case Kind::sum: tt::accumulate_grad(inputs[0], g.expand(inputs[0].shape())); break;
        }
    }
    Kind kind;
    float k;
    std::string label;
    Trace* trace;
    int runs = 0;
    bool grad_mode_when_run = false;
};

tt::Tensor make(TestNode::Kind kind, const tt::Tensor& a, const tt::Tensor& b, float k, const std::string& label, Trace* trace) {
    tt::Tensor out;
    {
        tt::NoGradGuard no_grad;  // only the test node is recorded
        switch (kind) {
            case TestNode::Kind::mul: out = a * b; break;
            case TestNode::Kind::add: out = a + b; break;
            case TestNode::Kind::scale: out = a * k; break;
            case TestNode::Kind::sum: out = tt::sum(a); break;
        }
    }
    if (b.defined()) return tt::record<TestNode>(out, {a, b}, kind, k, label, trace);
    return tt::record<TestNode>(out, {a}, kind, k, label, trace);
}

tt::Tensor times(const tt::Tensor& a, const tt::Tensor& b, const std::string& label = "a * b", Trace* trace = nullptr) {
    return make(TestNode::Kind::mul, a, b, 0.0f, label, trace);
}
tt::Tensor plus(const tt::Tensor& a, const tt::Tensor& b, const std::string& label = "a + b", Trace* trace = nullptr) {
    return make(TestNode::Kind::add, a, b, 0.0f, label, trace);
}
tt::Tensor scale(const tt::Tensor& a, float k, const std::string& label = "k * a", Trace* trace = nullptr) {
    return make(TestNode::Kind::scale, a, tt::Tensor(), k, label, trace);
}
tt::Tensor total(const tt::Tensor& a, const std::string& label = "sum(a)", Trace* trace = nullptr) {
    return make(TestNode::Kind::sum, a, tt::Tensor(), 0.0f, label, trace);
}

// out = x (a new handle on the same memory); dx += g. The cheapest op there is, for deep chains.
struct IdentityNode : tt::Node {
    const char* name() const override { return "IdentityNode"; }
    void backward(const tt::Tensor& g) override { tt::accumulate_grad(inputs[0], g); }
};

tt::Tensor identity(const tt::Tensor& x) { return tt::record<IdentityNode>(x.detach(), {x}); }

// Lets every test node behind `root` run once more (for tests that call backward() twice).
void allow_another_pass(const tt::Tensor& root) {
    std::vector<tt::Tensor> pending{root};
    while (!pending.empty()) {
        const tt::Tensor t = pending.back();
        pending.pop_back();
        if (auto* node = dynamic_cast<TestNode*>(t.grad_fn().get())) {
            node->runs = 0;
            for (const tt::Tensor& input : node->inputs) pending.push_back(input);
        }
    }
}

tt::Tensor leaf(const Nested& values) { return nested(values).requires_grad_(); }

std::string trace_text(const Trace& trace) {
    std::string text = "nodes ran in this order:";
    for (const std::string& label : trace) text += " [" + label + "]";
    return text;
}

// Position of `label` in the trace, or -1.
long position(const Trace& trace, const std::string& label) {
    auto it = std::find(trace.begin(), trace.end(), label);
    return it == trace.end() ? -1 : static_cast<long>(it - trace.begin());
}

}  // namespace

TEST_CASE("backward of a 0-d loss seeds the gradient 1", "[points=1]") {
    tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
    tt::Tensor loss = total(scale(x, 3.0f));  // () = sum(3x): d/dx = 3 everywhere
    REQUIRE(loss.dim() == 0);
    loss.backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({{3, 3, 3}, {3, 3, 3}})));
    {  // a one-element tensor of shape (1,) or (1, 1) is seeded with 1 too
        tt::Tensor y = leaf({2});
        scale(y, 4.0f).backward();
        CHECK_THAT(y.grad(), tensor_equal(nested({4})));
        tt::Tensor z = leaf({{2}});
        scale(z, -1.5f).backward();
        CHECK_THAT(z.grad(), tensor_equal(nested({{-1.5f}})));
    }
}

TEST_CASE("backward with an explicit gradient weights each output element", "[points=1]") {
    tt::Tensor x = leaf({{1, 2}, {3, 4}});
    const tt::Tensor y = scale(x, 3.0f);
    y.backward(nested({{1, 0}, {0.5f, -1}}));  // d(sum(w * 3x))/dx = 3w
    CHECK_THAT(x.grad(), tensor_equal(nested({{3, 0}, {1.5f, -3}})));
    {  // a leaf as the root: its gradient is the one passed in (a copy of it)
        tt::Tensor z = leaf({1, 2});
        tt::Tensor seed = nested({5, 6});
        z.backward(seed);
        CHECK_THAT(z.grad(), tensor_equal(nested({5, 6})));
        z.backward(seed);  // accumulates into z.grad, never into the caller's tensor
        CHECK_THAT(z.grad(), tensor_equal(nested({10, 12})));
        CHECK_THAT(seed, tensor_equal(nested({5, 6})));
    }
}

TEST_CASE("backward of a tensor with several elements needs a gradient of its shape", "[points=1]") {
    tt::Tensor x = leaf({{1, 2, 3}, {4, 5, 6}});
    const tt::Tensor y = scale(x, 2.0f);  // (2, 3): which gradient to start from is ambiguous
    INFO("the error must be a tt::Error (TT_CHECK) naming backward and the shapes");
    CHECK_THAT(error_message([&] { y.backward(); }), Contains("backward") && Contains("(2, 3)"));
    CHECK_THAT(error_message([&] { y.backward(tt::ones({3, 2})); }),
               Contains("backward") && Contains("(3, 2)") && Contains("(2, 3)"));
    CHECK_FALSE(x.grad().defined());  // a failed backward changed nothing
    y.backward(tt::ones({2, 3}));     // and the right gradient still works
    CHECK_THAT(x.grad(), tensor_equal(nested({{2, 2, 2}, {2, 2, 2}})));
}

TEST_CASE("backward on a tensor that does not require grad is an error", "[points=1]") {
    const tt::Tensor c = nested({1, 2});  // no requires_grad_() anywhere: there is no graph
    const tt::Tensor s = tt::sum(c);
    CHECK_FALSE(s.requires_grad());
    INFO("the error must be a tt::Error (TT_CHECK) naming backward");
    CHECK_THAT(error_message([&] { s.backward(); }), Contains("backward"));
    CHECK_THAT(error_message([&] { c.backward(nested({1, 1})); }), Contains("backward"));
    {  // the same after computing under NoGradGuard
        tt::Tensor x = leaf({1, 2});
        tt::Tensor y;
        {
            tt::NoGradGuard no_grad;
            y = x * 2.0f;
        }
        CHECK_THAT(error_message([&] { tt::sum(y).backward(); }), Contains("backward"));
        CHECK_FALSE(x.grad().defined());
    }
}

TEST_CASE("a tensor used twice receives both contributions", "[points=2]") {
    {  // x * x: the node hands g * x to its first input and g * x to its second, both x
        tt::Tensor x = leaf({1, -2, 3});
        total(times(x, x)).backward();
        INFO("d(x * x)/dx = 2x: accumulate_grad must add the second contribution, not overwrite the first");
        CHECK_THAT(x.grad(), tensor_equal(nested({2, -4, 6})));
    }
    {  // x + x + x
        tt::Tensor x = leaf({{1, 2}});
        total(plus(plus(x, x), x)).backward();
        CHECK_THAT(x.grad(), tensor_equal(nested({{3, 3}})));
    }
    {  // the same leaf in two different places of a larger graph
        tt::Tensor x = leaf({1, 2});
        tt::Tensor w = leaf({3, 5});
        total(plus(times(x, w), scale(x, 10.0f))).backward();  // d/dx = w + 10, d/dw = x
        CHECK_THAT(x.grad(), tensor_equal(nested({13, 15})));
        CHECK_THAT(w.grad(), tensor_equal(nested({1, 2})));
    }
}

TEST_CASE("a diamond graph runs each node once after every use of its output", "[points=2]") {
    Trace trace;
    tt::Tensor x = leaf({1, 2});
    const tt::Tensor a = scale(x, 2.0f, "a = 2x", &trace);
    const tt::Tensor b = scale(x, 3.0f, "b = 3x", &trace);
    const tt::Tensor c = times(a, b, "c = a * b", &trace);  // 6 x^2
    const tt::Tensor d = plus(c, a, "d = c + a", &trace);   // a reaches d directly and through c
    const tt::Tensor loss = total(d, "loss = sum(d)", &trace);
    loss.backward();  // d(6x^2 + 2x)/dx = 12x + 2
    INFO(trace_text(trace));
    CHECK_THAT(x.grad(), tensor_equal(nested({14, 26})));
    REQUIRE(trace.size() == 5);
    for (const char* label : {"a = 2x", "b = 3x", "c = a * b", "d = c + a", "loss = sum(d)"}) {
        INFO("node " << label);
        CHECK(position(trace, label) >= 0);
    }
    // a node runs only once every node using its output has run (then its gradient is complete)
    CHECK(position(trace, "loss = sum(d)") == 0);
    CHECK(position(trace, "d = c + a") < position(trace, "c = a * b"));
    CHECK(position(trace, "c = a * b") < position(trace, "a = 2x"));
    CHECK(position(trace, "c = a * b") < position(trace, "b = 3x"));
}

TEST_CASE("repeated squaring and residual chains get every path through the graph", "[points=1]") {
    {  // w^16 by four squarings: each square uses the previous result twice
        tt::Tensor w = leaf({2});
        tt::Tensor h = w;
        for (int i = 0; i < 4; ++i) h = times(h, h, "square " + std::to_string(i));
        total(h).backward();  // 16 w^15 = 16 * 32768
        CHECK_THAT(w.grad(), tensor_equal(nested({524288})));
    }
    {  // a residual chain h = h + 0.5 h, five times: (1.5)^5
        tt::Tensor x = leaf({1, 2});
        tt::Tensor h = x;
        for (int i = 0; i < 5; ++i) h = plus(h, scale(h, 0.5f, "half " + std::to_string(i)), "residual " + std::to_string(i));
        total(h).backward();
        CHECK_THAT(x.grad(), tensor_near(nested({7.59375f, 7.59375f})));
    }
}

TEST_CASE("backward time grows with the number of nodes not the number of paths", "[points=1]") {
    // h = h + h, 24 times: 2^24 paths from the loss to x but only 25 nodes. Following every path
    // (calling a node once per incoming contribution) would call nodes 16 million times; the test
    // nodes stop that at the second call of any node.
    tt::Tensor x = leaf({1});
    tt::Tensor h = x;
    for (int i = 0; i < 24; ++i) h = plus(h, h, "level " + std::to_string(i));
    total(h).backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({16777216})));  // 2^24
}

TEST_CASE("gradients accumulate across backward calls", "[points=2]") {
    tt::Tensor x = leaf({1, 2, 3});
    total(scale(x, 2.0f)).backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({2, 2, 2})));
    total(times(x, x)).backward();  // a second graph: + 2x
    INFO("x.grad must be the sum of both backward passes (+=): optimizers rely on zero_grad to reset it");
    CHECK_THAT(x.grad(), tensor_equal(nested({4, 6, 8})));
    {  // the same graph twice (retain_graph): twice the gradient
        tt::Tensor w = leaf({1, -1});
        const tt::Tensor h = scale(w, 3.0f, "h = 3w");
        const tt::Tensor loss = total(times(h, w, "h * w"));  // 3 w^2: d/dw = 6w
        loss.backward(tt::Tensor(), /*retain_graph=*/true);
        CHECK_THAT(w.grad(), tensor_equal(nested({6, -6})));
        allow_another_pass(loss);
        loss.backward();
        INFO("a second backward of the same graph adds the same gradient again (a non-leaf's gradient from the first "
             "pass must not be propagated again)");
        CHECK_THAT(w.grad(), tensor_equal(nested({12, -12})));
    }
}

TEST_CASE("zero_grad clears a gradient to undefined", "[points=1]") {
    tt::Tensor x = leaf({1, 2, 3});
    total(scale(x, 5.0f)).backward();
    REQUIRE(x.grad().defined());
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());  // undefined, not zeros: the next backward allocates it again
    total(scale(x, 2.0f)).backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({2, 2, 2})));
    tt::Tensor fresh = leaf({1});
    fresh.zero_grad();  // no gradient yet: nothing to do, no error
    CHECK_FALSE(fresh.grad().defined());
}

TEST_CASE("intermediate gradients are released once used and leaves keep theirs", "[points=1]") {
    tt::Tensor x = leaf({1, 2, 3});
    const tt::Tensor h = scale(x, 2.0f);
    const tt::Tensor k = times(h, h);
    const tt::Tensor loss = total(k);
    loss.backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({8, 16, 24})));  // loss = 4x^2
    INFO("a non-leaf's gradient is only needed until its node has run; keeping it would hold a gradient for every "
         "activation of the network in memory (and a second backward would propagate it again)");
    CHECK_FALSE(h.grad().defined());
    CHECK_FALSE(k.grad().defined());
    CHECK_FALSE(loss.grad().defined());
    CHECK(x.is_leaf());
}

TEST_CASE("retain_grad keeps the gradient of an intermediate tensor", "[points=1]") {
    tt::Tensor x = leaf({1, 2, 3});
    tt::Tensor h = scale(x, 2.0f);
    const tt::Tensor k = times(h, h);  // not retained
    h.retain_grad();
    const tt::Tensor loss = total(k);
    loss.backward();
    CHECK_THAT(h.grad(), tensor_equal(nested({4, 8, 12})));  // 2h
    CHECK_FALSE(k.grad().defined());
    CHECK_THAT(x.grad(), tensor_equal(nested({8, 16, 24})));
    {  // a retained root keeps its seed
        tt::Tensor r = scale(x, 1.0f);
        r.retain_grad();
        r.backward(nested({1, 2, 3}));
        CHECK_THAT(r.grad(), tensor_equal(nested({1, 2, 3})));
    }
}

TEST_CASE("a retained gradient accumulates across backward calls but is propagated once", "[points=1]") {
    tt::Tensor x = leaf({1, 2, 3});
    tt::Tensor h = scale(x, 2.0f, "h = 2x");
    h.retain_grad();
    const tt::Tensor loss = total(scale(h, 3.0f, "3h"), "sum");  // d/dh = 3, d/dx = 6
    loss.backward(tt::Tensor(), /*retain_graph=*/true);
    allow_another_pass(loss);
    loss.backward();
    CHECK_THAT(h.grad(), tensor_equal(nested({6, 6, 6})));
    INFO("h's node must pass on only this pass's gradient (3), not the retained total (6): x.grad = 6 + 6");
    CHECK_THAT(x.grad(), tensor_equal(nested({12, 12, 12})));
}

TEST_CASE("backward runs the nodes with grad mode off and restores it", "[points=1]") {
    tt::Tensor x = leaf({1, 2, 3});
    const tt::Tensor product = times(x, x);
    const tt::Tensor loss = total(product);
    loss.backward();
    REQUIRE(x.grad().defined());
    INFO("Node::backward runs under NoGradGuard: the gradient arithmetic (g * x) must not record a graph of its own");
    CHECK_FALSE(dynamic_cast<TestNode*>(loss.grad_fn().get())->grad_mode_when_run);
    CHECK_FALSE(dynamic_cast<TestNode*>(product.grad_fn().get())->grad_mode_when_run);
    CHECK(x.grad().grad_fn() == nullptr);
    CHECK_FALSE(x.grad().requires_grad());
    CHECK(tt::is_grad_enabled());  // switched back on afterwards
    {
        tt::NoGradGuard no_grad;  // ... and left off if it was off
        tt::Tensor y = leaf({1});
        y.backward(nested({1}));
        CHECK_FALSE(tt::is_grad_enabled());
    }
}

TEST_CASE("NoGradGuard and detach cut the graph: no gradient flows through them", "[points=1]") {
    {  // a value computed under NoGradGuard is a constant to the graph
        tt::Tensor x = leaf({1, 2});
        tt::Tensor frozen;
        {
            tt::NoGradGuard no_grad;
            frozen = scale(x, 10.0f);
        }
        CHECK(frozen.grad_fn() == nullptr);
        total(times(x, frozen)).backward();  // d(x * c)/dx = c = 10x, not 20x
        CHECK_THAT(x.grad(), tensor_equal(nested({10, 20})));
    }
    {  // detach: same memory, no grad_fn
        tt::Tensor x = leaf({1, 2});
        const tt::Tensor d = x.detach();
        total(times(x, d)).backward();
        CHECK_THAT(x.grad(), tensor_equal(nested({1, 2})));  // d is a constant: not 2x
        CHECK_FALSE(d.grad().defined());
    }
}

TEST_CASE("only tensors that require grad receive a gradient", "[points=1]") {
    const tt::Tensor c = nested({5, 7});
    tt::Tensor z = leaf({1, 1});
    total(times(c, z)).backward();
    CHECK_FALSE(c.grad().defined());
    CHECK_THAT(z.grad(), tensor_equal(nested({5, 7})));
    tt::Tensor frozen = nested({2, 3});  // requires_grad switched off again
    frozen.requires_grad_(true).requires_grad_(false);
    tt::Tensor w = leaf({1, 1});
    total(plus(times(frozen, w), frozen)).backward();
    CHECK_FALSE(frozen.grad().defined());
    CHECK_THAT(w.grad(), tensor_equal(nested({2, 3})));
}

TEST_CASE("a chain forty thousand ops deep does not overflow the stack", "[points=2]") {
    // A recurrent network unrolled over a long sequence makes graphs this deep: walking it by
    // recursion needs one stack frame per op, and 40000 frames overflow the stack.
    tt::Tensor x = leaf({1});
    tt::Tensor y = x;
    for (int i = 0; i < 40000; ++i) y = identity(y);
    y.backward();
    CHECK_THAT(x.grad(), tensor_equal(nested({1})));
}
