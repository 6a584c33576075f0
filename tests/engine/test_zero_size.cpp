// test_zero_size.cpp - tensors with a size of 0, forward and backward, through every op of
// tensor.h and the activations and losses (modules 02, 03, 05, 06). Expected results are
// PyTorch 1.13's: shapes, strides, values (0 for a sum over nothing, nan for a mean over nothing)
// and the same refusals (max over nothing, item, a size-0 dim that meets a size-3 one).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

const float kNan = std::nanf("");

tt::Tensor empty_leaf(const tt::Shape& shape) { return tt::zeros(shape).requires_grad_(); }

}  // namespace

TEST_CASE("zero-size: factories and layout", "[02][tensor][zero_size]") {
    CHECK(tt::zeros({2, 0}).strides() == tt::Strides{1, 1});  // torch.zeros(2, 0).stride()
    CHECK(tt::ones({0, 3}).strides() == tt::Strides{3, 1});
    CHECK(tt::empty({2, 0, 3}).strides() == tt::Strides{3, 3, 1});
    CHECK(tt::full({0}, 1.0f).strides() == tt::Strides{1});
    CHECK(tt::from_vector({}, {0, 3}).shape() == tt::Shape{0, 3});
    CHECK(tt::rand({0, 2}).shape() == tt::Shape{0, 2});
    CHECK(tt::randn({2, 0}).numel() == 0);
    CHECK(tt::zeros_like(tt::zeros({2, 0})).strides() == tt::Strides{1, 1});
    CHECK(tt::arange(0).shape() == tt::Shape{0});
    CHECK(tt::arange(3, 3).shape() == tt::Shape{0});
    const tt::Tensor x = tt::zeros({2, 0});
    CHECK(x.is_contiguous());
    CHECK(x.to_vector().empty());
    CHECK_THAT(x.to_string(), Contains("shape=(2, 0)"));
    CHECK_THAT(error_message([&] { (void)x.item(); }), Contains("item") && Contains("(2, 0)"));
    CHECK_THAT(error_message([&] { (void)x.at({0, 0}); }), Contains("at"));
}

TEST_CASE("zero-size: in-place ops write nothing and accept any source that broadcasts", "[02][tensor][zero_size][inplace]") {
    tt::Tensor x = tt::zeros({2, 0});
    CHECK_NOTHROW(x.fill_(1.0f));
    CHECK_NOTHROW(x.zero_());
    CHECK_NOTHROW(x.copy_(tt::zeros({2, 0})));
    CHECK_NOTHROW(x.copy_(tt::ones({1})));  // (1,) broadcasts to (2, 0)
    CHECK_NOTHROW(x.add_(tt::ones({2, 0}), 2.0f));
    CHECK_NOTHROW(x.mul_(3.0f));
    CHECK(x.version() == 6);  // each call counts as a write, as in PyTorch
    CHECK_THAT(error_message([&] { x.copy_(tt::zeros({2, 3})); }), Contains("copy_") && Contains("(2, 3)"));
    // Views of no elements, expanded ones included, are fine too: nothing shares memory.
    tt::Tensor wide = tt::zeros({0}).expand({2, 0});
    CHECK(wide.strides() == tt::Strides{0, 1});  // torch.zeros(0).expand(2, 0).stride()
    CHECK_NOTHROW(wide.fill_(1.0f));
    tt::Tensor base = tt::ones({3, 4});
    tt::Tensor none = base.slice(1, 2, 2);  // (3, 0) inside a tensor that has elements
    none.fill_(7.0f);
    CHECK_THAT(base, tensor_equal(raw(std::vector<float>(12, 1.0f), {3, 4})));
}

TEST_CASE("zero-size: elementwise ops and broadcasting", "[02][tensor][zero_size][elementwise]") {
    const tt::Tensor a = tt::zeros({2, 0});
    CHECK((a + a).shape() == tt::Shape{2, 0});
    CHECK((a * tt::ones({1})).shape() == tt::Shape{2, 0});
    CHECK((tt::scalar(2.0f) - a).shape() == tt::Shape{2, 0});
    CHECK(tt::div(tt::ones({1, 0}), tt::ones({3, 1})).shape() == tt::Shape{3, 0});
    CHECK(tt::pow(a, 2.0f).strides() == tt::Strides{1, 1});
    CHECK(tt::pow(a, tt::ones({2, 1})).shape() == tt::Shape{2, 0});
    for (const tt::Tensor& out : {tt::neg(a), tt::exp(a), tt::log(a), tt::sqrt(a), tt::eq(a, a), tt::lt(a, tt::scalar(1.0f))})
        CHECK(out.shape() == tt::Shape{2, 0});
    CHECK(tt::add(tt::zeros({0, 3}), tt::ones({3})).shape() == tt::Shape{0, 3});
    CHECK_THAT(error_message([&] { tt::add(a, tt::zeros({2, 3})); }), Contains("add") && Contains("(2, 0)") && Contains("(2, 3)"));
}

TEST_CASE("zero-size: views", "[02][tensor][zero_size][views]") {
    const tt::Tensor x = tt::zeros({2, 0, 3});
    CHECK(x.view({0, 5}).strides() == tt::Strides{5, 1});
    CHECK(x.view({-1}).shape() == tt::Shape{0});
    CHECK(x.reshape({3, -1}).shape() == tt::Shape{3, 0});
    CHECK_THAT(error_message([&] { x.view({-1, 0}); }), Contains("view"));  // -1 could be anything
    CHECK(x.flatten(1).shape() == tt::Shape{2, 0});
    CHECK(x.transpose(0, 2).shape() == tt::Shape{3, 0, 2});
    CHECK(x.permute({1, 2, 0}).shape() == tt::Shape{0, 3, 2});
    CHECK(x.slice(1, 0, 5).shape() == tt::Shape{2, 0, 3});
    CHECK(x.slice(2, 1, 3).shape() == tt::Shape{2, 0, 2});
    CHECK(x.select(0, 1).shape() == tt::Shape{0, 3});
    CHECK_THAT(error_message([&] { x.select(1, 0); }), Contains("select"));
    CHECK(tt::zeros({1, 0}).squeeze().shape() == tt::Shape{0});
    CHECK(x.unsqueeze(1).shape() == tt::Shape{2, 1, 0, 3});
    CHECK(tt::zeros({1}).expand({0}).shape() == tt::Shape{0});  // a size 1 may shrink to 0
    CHECK(tt::zeros({1, 0}).expand({3, 0}).shape() == tt::Shape{3, 0});
    CHECK(x.contiguous().shape() == x.shape());
    CHECK(x.clone().strides() == tt::Strides{3, 3, 1});
}

TEST_CASE("zero-size: reductions", "[02][tensor][zero_size][reductions]") {
    const tt::Tensor x = tt::zeros({2, 0});
    CHECK_THAT(tt::sum(x), tensor_equal(raw_scalar(0.0f)));
    CHECK_THAT(tt::sum(x, 1), tensor_equal(nested({0, 0})));
    CHECK_THAT(tt::sum(x, 1, true), tensor_equal(nested({{0}, {0}})));
    CHECK(tt::sum(x, 0).shape() == tt::Shape{0});
    CHECK_THAT(tt::mean(x), tensor_equal(raw_scalar(kNan)));  // 0 / 0, as torch.mean
    CHECK_THAT(tt::mean(x, 1), tensor_equal(nested({kNan, kNan})));
    CHECK(tt::mean(x, 0).shape() == tt::Shape{0});
    CHECK(tt::max(x, 0).shape() == tt::Shape{0});  // reducing a size-2 dim of nothing
    CHECK(tt::argmax(tt::zeros({3, 0}), 0, true).shape() == tt::Shape{1, 0});
    CHECK_THAT(error_message([&] { tt::max(x); }), Contains("max") && Contains("(2, 0)"));
    CHECK_THAT(error_message([&] { tt::max(x, 1); }), Contains("max") && Contains("(2, 0)"));
    CHECK_THAT(error_message([&] { tt::argmax(x); }), Contains("argmax"));
}

TEST_CASE("zero-size: matmul with M, N or K of 0", "[02][tensor][zero_size][matmul]") {
    CHECK(tt::matmul(tt::zeros({0, 3}), tt::ones({3, 2})).shape() == tt::Shape{0, 2});
    CHECK(tt::matmul(tt::ones({2, 3}), tt::zeros({3, 0})).shape() == tt::Shape{2, 0});
    CHECK_THAT(tt::matmul(tt::zeros({2, 0}), tt::zeros({0, 3})), tensor_equal(raw(std::vector<float>(6, 0.0f), {2, 3})));
    CHECK_THAT(tt::matmul(tt::zeros({2, 3, 0}), tt::zeros({0, 4})), tensor_equal(raw(std::vector<float>(24, 0.0f), {2, 3, 4})));
    CHECK(tt::matmul(tt::zeros({0, 2, 3}), tt::ones({3, 4})).shape() == tt::Shape{0, 2, 4});
    CHECK(tt::matmul(tt::ones({2, 3}), tt::zeros({0, 3, 4})).shape() == tt::Shape{0, 2, 4});
}

TEST_CASE("zero-size: activations and losses", "[03][05][zero_size]") {
    for (const tt::Shape& shape : {tt::Shape{0, 3}, tt::Shape{3, 0}}) {
        const tt::Tensor x = tt::zeros(shape);
        INFO("shape " << shape_text(shape));
        for (const tt::Tensor& out : {tt::relu(x), tt::leaky_relu(x), tt::sigmoid(x), tt::tanh(x), tt::gelu(x),
                                      tt::gelu(x, tt::GeluApproximation::tanh), tt::softmax(x, -1), tt::softmax(x, 0),
                                      tt::log_softmax(x, -1), tt::log_softmax(x, 0)})
            CHECK(out.shape() == shape);
    }
    const tt::Tensor logits = tt::zeros({0, 3}), targets = tt::zeros({0});
    CHECK_THAT(tt::cross_entropy(logits, targets), tensor_equal(raw_scalar(kNan)));
    CHECK_THAT(tt::cross_entropy(logits, targets, tt::Reduction::sum), tensor_equal(raw_scalar(0.0f)));
    CHECK(tt::cross_entropy(logits, targets, tt::Reduction::none).shape() == tt::Shape{0});
    CHECK_THAT(tt::mse_loss(tt::zeros({2, 0}), tt::zeros({2, 0})), tensor_equal(raw_scalar(kNan)));
    CHECK_THAT(tt::mse_loss(tt::zeros({2, 0}), tt::zeros({2, 0}), tt::Reduction::sum), tensor_equal(raw_scalar(0.0f)));
    CHECK_THAT(tt::binary_cross_entropy(tt::zeros({0}), tt::zeros({0})), tensor_equal(raw_scalar(kNan)));
    CHECK_THAT(tt::binary_cross_entropy_with_logits(tt::zeros({0}), tt::zeros({0}), tt::Reduction::sum),
               tensor_equal(raw_scalar(0.0f)));
}

TEST_CASE("zero-size: backward through every op gives zero-size gradients", "[06][autograd][zero_size]") {
    // Each op is applied twice to the same leaf and both results are summed: the leaf gets two
    // contributions, so accumulate_grad's in-place add into a (2, 0) gradient runs too.
    struct Case {
        const char* name;
        tt::Shape shape;
        std::function<tt::Tensor(const tt::Tensor&)> op;
    };
    const tt::Tensor three_by_zero = tt::zeros({3, 0});
    const std::vector<Case> cases = {
        {"x + x", {2, 0}, [](const tt::Tensor& x) { return x + x; }},
        {"x - 1", {2, 0}, [](const tt::Tensor& x) { return x - 1.0f; }},
        {"x * (2, 1)", {2, 0}, [](const tt::Tensor& x) { return x * tt::ones({2, 1}); }},
        {"1 / x", {2, 0}, [](const tt::Tensor& x) { return 1.0f / x; }},
        {"-x", {2, 0}, [](const tt::Tensor& x) { return -x; }},
        {"x^3", {2, 0}, [](const tt::Tensor& x) { return tt::pow(x, 3.0f); }},
        {"x^x", {2, 0}, [](const tt::Tensor& x) { return tt::pow(x, x); }},
        {"exp log sqrt", {2, 0}, [](const tt::Tensor& x) { return tt::exp(x) + tt::log(x) + tt::sqrt(x); }},
        {"sum(x)", {2, 0}, [](const tt::Tensor& x) { return tt::sum(x); }},
        {"sum(x, 1)", {2, 0}, [](const tt::Tensor& x) { return tt::sum(x, 1); }},
        {"mean(x, 0, keepdim)", {2, 0}, [](const tt::Tensor& x) { return tt::mean(x, 0, true); }},
        {"max(x, 0)", {2, 0}, [](const tt::Tensor& x) { return tt::max(x, 0); }},
        {"(2, 3, 0) @ (0, 4)", {0, 4}, [](const tt::Tensor& x) { return tt::matmul(tt::zeros({2, 3, 0}), x); }},
        {"(2, 3, 0) @ (0, 4), a", {2, 3, 0}, [](const tt::Tensor& x) { return tt::matmul(x, tt::ones({0, 4})); }},
        {"(2, 3, 4) @ (4, 0)", {4, 0}, [](const tt::Tensor& x) { return tt::matmul(tt::ones({2, 3, 4}), x); }},
        {"(2, 3, 4) @ (4, 0), a", {2, 3, 4}, [](const tt::Tensor& x) { return tt::matmul(x, tt::zeros({4, 0})); }},
        {"(0, 3) @ (3, 2)", {0, 3}, [](const tt::Tensor& x) { return tt::matmul(x, tt::ones({3, 2})); }},
        {"(2, 0) @ (0, 3)", {2, 0}, [](const tt::Tensor& x) { return tt::matmul(x, tt::ones({0, 3})); }},
        {"view", {2, 0, 3}, [](const tt::Tensor& x) { return x.view({0, 5}); }},
        {"reshape", {2, 0, 3}, [](const tt::Tensor& x) { return x.reshape({3, -1}); }},
        {"transpose", {2, 0, 3}, [](const tt::Tensor& x) { return x.transpose(0, 2); }},
        {"permute", {2, 0, 3}, [](const tt::Tensor& x) { return x.permute({1, 2, 0}); }},
        {"slice", {3, 0}, [](const tt::Tensor& x) { return x.slice(0, 1, 3); }},
        {"slice to nothing", {3, 4}, [](const tt::Tensor& x) { return x.slice(1, 2, 2); }},
        {"select", {3, 0}, [](const tt::Tensor& x) { return x.select(0, 1); }},
        {"squeeze unsqueeze", {1, 0}, [](const tt::Tensor& x) { return x.squeeze().unsqueeze(0); }},
        {"expand (1,) -> (0,)", {1}, [](const tt::Tensor& x) { return x.expand({0}); }},
        {"expand (1, 0) -> (3, 0)", {1, 0}, [](const tt::Tensor& x) { return x.expand({3, 0}); }},
        {"clone contiguous", {2, 0}, [](const tt::Tensor& x) { return x.clone() + x.t().contiguous().t(); }},
        {"relu leaky_relu", {3, 0}, [](const tt::Tensor& x) { return tt::relu(x) + tt::leaky_relu(x, 0.1f); }},
        {"sigmoid tanh", {0, 3}, [](const tt::Tensor& x) { return tt::sigmoid(x) + tt::tanh(x); }},
        {"gelu", {0, 3}, [](const tt::Tensor& x) { return tt::gelu(x) + tt::gelu(x, tt::GeluApproximation::tanh); }},
        {"softmax", {3, 0}, [](const tt::Tensor& x) { return tt::softmax(x, -1) + tt::softmax(x, 0); }},
        {"log_softmax", {0, 3}, [](const tt::Tensor& x) { return tt::log_softmax(x, -1) + tt::log_softmax(x, 0); }},
        {"cross_entropy", {0, 3}, [](const tt::Tensor& x) { return tt::cross_entropy(x, tt::zeros({0}), tt::Reduction::sum); }},
        {"mse_loss", {2, 0}, [](const tt::Tensor& x) { return tt::mse_loss(x, tt::zeros({2, 0}), tt::Reduction::sum); }},
        {"binary_cross_entropy", {0}, [](const tt::Tensor& x) { return tt::binary_cross_entropy(x, tt::zeros({0}), tt::Reduction::none); }},
        {"bce_with_logits", {0}, [](const tt::Tensor& x) { return tt::binary_cross_entropy_with_logits(x, tt::zeros({0}), tt::Reduction::sum); }},
    };
    for (const Case& c : cases) {
        INFO(c.name << " on a leaf of shape " << shape_text(c.shape));
        tt::Tensor x = empty_leaf(c.shape);
        try {
            const tt::Tensor loss = tt::sum(c.op(x)) + tt::sum(c.op(x));
            loss.backward();
            REQUIRE(x.grad().defined());
            CHECK(x.grad().shape() == c.shape);
            CHECK_THAT(x.grad(), tensor_equal(raw(std::vector<float>(static_cast<size_t>(count_of(c.shape)), 0.0f), c.shape)));
        } catch (const std::exception& e) {
            FAIL("threw: " << e.what());
        }
    }
    {  // a (3, 0) leaf reached through two slices and a select: zeros, never "expanded tensor" errors
        tt::Tensor x = empty_leaf({3, 0});
        (tt::sum(x.slice(0, 0, 2)) + tt::sum(x.slice(0, 1, 3)) + tt::sum(x.select(0, 2))).backward();
        CHECK(x.grad().strides() == tt::Strides{1, 1});
    }
    {  // mean of nothing: the gradient 1/0 reaches no element
        tt::Tensor x = empty_leaf({2, 0});
        tt::mean(x).backward();
        CHECK(x.grad().shape() == tt::Shape{2, 0});
    }
}
