// test_grad_fn.cpp - module 02 grader: every op connects its output to the autograd graph
// through record() when (and only when) an input requires grad and grad mode is on.
// Module 02 computes no gradient; these tests only check that the right node is attached.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

struct OpCase {
    const char* node;                                              // expected grad_fn name
    std::function<tt::Tensor(const tt::Tensor&, const tt::Tensor&)> run;  // x: (2, 3) leaf, y: (2, 3)
};

std::vector<OpCase> recorded_ops() {
    using T = const tt::Tensor&;
    return {
        {"AddBackward", [](T x, T y) { return tt::add(x, y); }},
        {"SubBackward", [](T x, T y) { return tt::sub(y, x); }},
        {"MulBackward", [](T x, T y) { return tt::mul(x, y); }},
        {"DivBackward", [](T x, T y) { return tt::div(y, x); }},
        {"NegBackward", [](T x, T) { return tt::neg(x); }},
        {"PowBackward", [](T x, T) { return tt::pow(x, 3.0f); }},
        {"PowTensorBackward", [](T x, T y) { return tt::pow(y, x); }},
        {"ExpBackward", [](T x, T) { return tt::exp(x); }},
        {"LogBackward", [](T x, T) { return tt::log(x); }},
        {"SqrtBackward", [](T x, T) { return tt::sqrt(x); }},
        {"SumBackward", [](T x, T) { return tt::sum(x); }},
        {"SumBackward", [](T x, T) { return tt::sum(x, 1); }},
        {"MeanBackward", [](T x, T) { return tt::mean(x); }},
        {"MeanBackward", [](T x, T) { return tt::mean(x, 0, true); }},
        {"MaxBackward", [](T x, T) { return tt::max(x); }},
        {"MaxBackward", [](T x, T) { return tt::max(x, -1); }},
        {"MatmulBackward", [](T x, T y) { return tt::matmul(x, y.t()); }},
        {"ReshapeBackward", [](T x, T) { return x.view({3, 2}); }},
        {"ReshapeBackward", [](T x, T) { return x.reshape({6}); }},
        {"ReshapeBackward", [](T x, T) { return x.unsqueeze(0); }},
        {"ReshapeBackward", [](T x, T) { return x.squeeze(); }},
        {"ReshapeBackward", [](T x, T) { return x.squeeze(0); }},
        {"ReshapeBackward", [](T x, T) { return x.flatten(); }},
        {"PermuteBackward", [](T x, T) { return x.transpose(0, 1); }},
        {"PermuteBackward", [](T x, T) { return x.t(); }},
        {"PermuteBackward", [](T x, T) { return x.permute({1, 0}); }},
        {"SliceBackward", [](T x, T) { return x.slice(1, 0, 2); }},
        {"SelectBackward", [](T x, T) { return x.select(0, 1); }},
        {"ExpandBackward", [](T x, T) { return x.expand({4, 2, 3}); }},
        {"CloneBackward", [](T x, T) { return x.clone(); }},
        {"CloneBackward", [](T x, T) { return x.t().contiguous(); }},
    };
}

tt::Tensor leaf() { return nested({{1, 2, 3}, {4, 5, 6}}).requires_grad_(); }
tt::Tensor constant() { return nested({{0.5f, 1, 2}, {3, 4, 0.25f}}); }

}  // namespace

TEST_CASE("ops on an input that requires grad record a grad_fn with the op's node name", "[points=2]") {
    for (const OpCase& op : recorded_ops()) {
        tt::Tensor x = leaf();
        tt::Tensor out = op.run(x, constant());
        INFO("expected grad_fn " << op.node << ", got " << (out.grad_fn() ? out.grad_fn()->name() : "none"));
        REQUIRE(out.grad_fn() != nullptr);
        CHECK(std::string(out.grad_fn()->name()) == op.node);
        CHECK(out.requires_grad());
        CHECK_FALSE(out.is_leaf());
        // The node remembers its input (the last op's input: x itself, or x.t() for the last case).
        bool has_x = false;
        for (const tt::Tensor& input : out.grad_fn()->inputs) has_x = has_x || input.is_same(x) || shares_storage(input, x);
        CHECK(has_x);
    }
}

TEST_CASE("ops record nothing when no input requires grad or under NoGradGuard", "[points=1]") {
    {  // ops on inputs that do not require grad record nothing
        for (const OpCase& op : recorded_ops()) {
            INFO("op that would record " << op.node);
            tt::Tensor out = op.run(nested({{1, 2, 3}, {4, 5, 6}}), constant());
            CHECK(out.grad_fn() == nullptr);
            CHECK_FALSE(out.requires_grad());
        }
    }
    {  // ops under NoGradGuard record nothing even when an input requires grad
        tt::NoGradGuard no_grad;
        for (const OpCase& op : recorded_ops()) {
            INFO("op that would record " << op.node);
            tt::Tensor out = op.run(leaf(), constant());
            CHECK(out.grad_fn() == nullptr);
            CHECK_FALSE(out.requires_grad());
        }
    }
}

TEST_CASE("a binary op records when only its second input requires grad", "[points=1]") {
    tt::Tensor y = nested({1, 2}).requires_grad_();
    tt::Tensor out = tt::mul(nested({{1, 2}, {3, 4}}), y);
    REQUIRE(out.grad_fn() != nullptr);
    CHECK(std::string(out.grad_fn()->name()) == "MulBackward");
    REQUIRE(out.grad_fn()->inputs.size() == 2);
    CHECK(out.grad_fn()->inputs[1].is_same(y));
    tt::Tensor m = tt::matmul(nested({{1, 2}}), nested({{1}, {2}}).requires_grad_());
    REQUIRE(m.grad_fn() != nullptr);
    CHECK(std::string(m.grad_fn()->name()) == "MatmulBackward");
}

TEST_CASE("comparisons argmax factories and contiguous of a row-major tensor record no grad_fn", "[points=1]") {
    {  // comparisons argmax and factories never record a grad_fn
        tt::Tensor x = leaf();
        const tt::Tensor y = constant();
        for (const tt::Tensor& out : {tt::eq(x, y), tt::ne(x, y), tt::lt(x, y), tt::le(x, y), tt::gt(x, y), tt::ge(x, y),
                                      tt::argmax(x), tt::argmax(x, 1), tt::zeros_like(x), tt::ones_like(x),
                                      tt::full_like(x, 2.0f)}) {
            CHECK(out.grad_fn() == nullptr);
            CHECK_FALSE(out.requires_grad());
        }
    }
    {  // contiguous of a row-major tensor records no extra node
        tt::Tensor x = leaf();
        tt::Tensor c = x.contiguous();
        CHECK(c.grad_fn() == nullptr);  // it is x itself (or a plain view of it): nothing to record
        CHECK(shares_storage(c, x));
    }
}
