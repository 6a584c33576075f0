// test_zero_size.cpp - module 06 grader: backward through tensors with a size of 0. PyTorch gives
// such a leaf a gradient of its own shape (all zeros when it has elements, none when it has none);
// the backward must not divide by zero, infer a -1 next to a 0, or refuse to write into it.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

struct Case {
    const char* name;
    tt::Shape leaf_shape;
    std::function<tt::Tensor(const tt::Tensor&)> op;
};

// f(x) is applied twice and both sums are added: the leaf gets two contributions, so the second
// one is added in place into a gradient with no elements.
void check_zero_gradients(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
        INFO(c.name << " with a leaf of shape " << shape_text(c.leaf_shape));
        tt::Tensor x = tt::testing::leaf(raw(std::vector<float>(static_cast<size_t>(count_of(c.leaf_shape)), 0.5f), c.leaf_shape));
        std::string problem;
        try {
            (tt::sum(c.op(x)) + tt::sum(c.op(x))).backward();
        } catch (const std::exception& e) {
            problem = e.what();
        }
        INFO("backward threw: " << problem);
        REQUIRE(problem.empty());
        REQUIRE(x.grad().defined());
        CHECK_THAT(x.grad(), tensor_equal(raw(std::vector<float>(static_cast<size_t>(count_of(c.leaf_shape)), 0.0f), c.leaf_shape)));
    }
}

}  // namespace

TEST_CASE("matmul backward with an inner or outer dimension of 0", "[points=1]") {
    INFO("(2, 3, 0) @ (0, 4) is a (2, 3, 4) of zeros: every gradient is empty or zero. Reshaping to (-1, K) with K = 0 "
         "is ambiguous (an error): spell the row count out");
    check_zero_gradients({
        {"ones(2, 3, 0) @ x", {0, 4}, [](const tt::Tensor& x) { return tt::matmul(tt::ones({2, 3, 0}), x); }},
        {"x @ ones(0, 4)", {2, 3, 0}, [](const tt::Tensor& x) { return tt::matmul(x, tt::ones({0, 4})); }},
        {"ones(2, 3, 4) @ x", {4, 0}, [](const tt::Tensor& x) { return tt::matmul(tt::ones({2, 3, 4}), x); }},
        {"x @ ones(4, 0)", {2, 3, 4}, [](const tt::Tensor& x) { return tt::matmul(x, tt::ones({4, 0})); }},
        {"x @ ones(3, 2)", {0, 3}, [](const tt::Tensor& x) { return tt::matmul(x, tt::ones({3, 2})); }},
        {"x @ x^T", {2, 0}, [](const tt::Tensor& x) { return tt::matmul(x, x.t()); }},
        {"x @ ones(2, 0, 4)", {3, 0}, [](const tt::Tensor& x) { return tt::matmul(x, tt::ones({2, 0, 4})); }},
    });
}

TEST_CASE("views and broadcasting backward into leaves without elements", "[points=1]") {
    check_zero_gradients({
        {"x + x", {2, 0}, [](const tt::Tensor& x) { return x + x; }},
        {"x * ones(2, 3, 0)", {0}, [](const tt::Tensor& x) { return x * tt::ones({2, 3, 0}); }},
        {"x + ones(4, 1)", {1, 0}, [](const tt::Tensor& x) { return x + tt::ones({4, 1}); }},
        {"slice", {3, 0}, [](const tt::Tensor& x) { return x.slice(0, 1, 3); }},
        {"empty slice of a leaf with elements", {3, 4}, [](const tt::Tensor& x) { return x.slice(1, 3, 1); }},
        {"select", {3, 0}, [](const tt::Tensor& x) { return x.select(0, -1); }},
        {"reshape", {2, 0, 3}, [](const tt::Tensor& x) { return x.reshape({3, -1}); }},
        {"permute", {2, 0, 3}, [](const tt::Tensor& x) { return x.permute({2, 0, 1}); }},
        {"expand (1,) to (0,)", {1}, [](const tt::Tensor& x) { return x.expand({0}); }},
        {"expand (1, 0) to (3, 0)", {1, 0}, [](const tt::Tensor& x) { return x.expand({3, 0}); }},
        {"clone of transpose", {2, 0}, [](const tt::Tensor& x) { return x.t().clone(); }},
    });
    INFO("sum_to_shape of a gradient with no elements is zeros of the target shape (a sum of nothing is 0)");
    CHECK_THAT(tt::sum_to_shape(raw({}, {2, 3, 0}), {0}), tensor_equal(raw({}, {0})));
    CHECK_THAT(tt::sum_to_shape(raw({}, {4, 0, 3}), {1, 3}), tensor_equal(nested({{0, 0, 0}})));
}

TEST_CASE("reductions activations and losses backward on tensors without elements", "[points=1]") {
    check_zero_gradients({
        {"sum", {2, 0}, [](const tt::Tensor& x) { return tt::sum(x); }},
        {"sum along the empty dim", {2, 0}, [](const tt::Tensor& x) { return tt::sum(x, 1, true); }},
        {"mean along the other dim", {2, 0}, [](const tt::Tensor& x) { return tt::mean(x, 0); }},
        {"max along the non-empty dim", {2, 0}, [](const tt::Tensor& x) { return tt::max(x, 0); }},
        {"mul exp log sqrt pow", {0, 3}, [](const tt::Tensor& x) { return x * tt::exp(x) + tt::log(x) * tt::sqrt(x) + tt::pow(x, x); }},
        {"div by itself", {0, 2}, [](const tt::Tensor& x) { return x / (x + 1.0f); }},
        {"relu sigmoid tanh", {0, 3}, [](const tt::Tensor& x) { return tt::relu(x) + tt::sigmoid(x) * tt::tanh(x); }},
        {"leaky_relu gelu", {3, 0}, [](const tt::Tensor& x) { return tt::leaky_relu(x) + tt::gelu(x); }},
        {"softmax along either dim", {3, 0}, [](const tt::Tensor& x) { return tt::softmax(x, 0) + tt::softmax(x, 1); }},
        {"log_softmax along either dim", {0, 3}, [](const tt::Tensor& x) { return tt::log_softmax(x, 0) + tt::log_softmax(x, 1); }},
        {"cross_entropy of no examples", {0, 3},
         [](const tt::Tensor& x) { return tt::cross_entropy(x, raw({}, {0}), tt::Reduction::sum); }},
        {"binary cross-entropy of nothing", {0},
         [](const tt::Tensor& x) { return tt::binary_cross_entropy(x, raw({}, {0}), tt::Reduction::none); }},
        {"with logits", {2, 0},
         [](const tt::Tensor& x) { return tt::binary_cross_entropy_with_logits(x, raw({}, {2, 0}), tt::Reduction::sum); }},
    });
}
