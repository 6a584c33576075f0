// test_elementwise_activations.cpp - module 03 grader: relu, leaky_relu, sigmoid, tanh and gelu on
// hand-computed values, random values of any shape, and non-contiguous inputs. Expected values are
// literals or come from activation_reference.h (double precision, plain loops over raw storage).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "activation_reference.h"
#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
namespace ref = activation_reference;

namespace {

struct Elementwise {
    const char* name;
    std::function<tt::Tensor(const tt::Tensor&)> op;
    std::function<float(double)> expected;
};

// Every elementwise activation, with the formula it must follow.
std::vector<Elementwise> elementwise() {
    using T = const tt::Tensor&;
    return {
        {"relu", [](T x) { return tt::relu(x); }, [](double v) { return ref::relu(v); }},
        {"leaky_relu (default slope 0.01)", [](T x) { return tt::leaky_relu(x); }, [](double v) { return ref::leaky_relu(v, 0.01); }},
        {"leaky_relu (slope 0.2)", [](T x) { return tt::leaky_relu(x, 0.2f); }, [](double v) { return ref::leaky_relu(v, 0.2); }},
        {"sigmoid", [](T x) { return tt::sigmoid(x); }, [](double v) { return ref::sigmoid(v); }},
        {"tanh", [](T x) { return tt::tanh(x); }, [](double v) { return ref::tanh(v); }},
        {"gelu (exact)", [](T x) { return tt::gelu(x, tt::GeluApproximation::none); }, [](double v) { return ref::gelu_exact(v); }},
        {"gelu (tanh approximation)", [](T x) { return tt::gelu(x, tt::GeluApproximation::tanh); },
         [](double v) { return ref::gelu_tanh(v); }},
    };
}

template <class F>
tt::Tensor expected_of(const tt::Tensor& x, F f) {
    return reference_unary(x, [&](float v) { return f(static_cast<double>(v)); });
}

}  // namespace

TEST_CASE("relu keeps positive values and zeroes negative ones", "[points=2]") {
    const tt::Tensor x = nested({{-2, -0.5f, 0}, {0.25f, 3, -7}});
    CHECK_THAT(tt::relu(x), tensor_equal(nested({{0, 0, 0}, {0.25f, 3, 0}})));
    CHECK_THAT(tt::relu(nested({5, -5, 1e-30f, -1e-30f})), tensor_equal(nested({5, 0, 1e-30f, 0})));
}

TEST_CASE("leaky_relu multiplies negative values by the default slope 0.01", "[points=2]") {
    const tt::Tensor x = nested({-100, -2, -0.5f, 0, 1.5f, 100});
    CHECK_THAT(tt::leaky_relu(x), tensor_near(nested({-1, -0.02f, -0.005f, 0, 1.5f, 100}), 1e-7, 1e-6));
}

TEST_CASE("leaky_relu uses the slope it is given", "[points=2]") {
    const tt::Tensor x = nested({{-10, -1, 2}, {0, -0.5f, 4}});
    INFO("negative_slope 0.2");
    CHECK_THAT(tt::leaky_relu(x, 0.2f), tensor_near(nested({{-2, -0.2f, 2}, {0, -0.1f, 4}}), 1e-7, 1e-6));
    INFO("negative_slope 0 is relu, 1 is the identity, 3 makes negatives steeper");
    CHECK_THAT(tt::leaky_relu(x, 0.0f), tensor_equal(nested({{0, 0, 2}, {0, 0, 4}})));
    CHECK_THAT(tt::leaky_relu(x, 1.0f), tensor_equal(x));
    CHECK_THAT(tt::leaky_relu(x, 3.0f), tensor_near(nested({{-30, -3, 2}, {0, -1.5f, 4}}), 1e-6, 1e-6));
}

TEST_CASE("sigmoid on hand-computed values", "[points=2]") {
    // sigmoid(0) = 1/2; sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4; sigmoid(-ln 3) = 1/4
    const float ln3 = std::log(3.0f);
    CHECK_THAT(tt::sigmoid(nested({0, ln3, -ln3})), tensor_near(nested({0.5f, 0.75f, 0.25f}), 1e-6, 1e-6));
    CHECK_THAT(tt::sigmoid(nested({{1, -1}, {2, -2}, {3, -3}})),
               tensor_near(nested({{0.7310586f, 0.2689414f}, {0.8807971f, 0.1192029f}, {0.9525741f, 0.04742587f}}), 1e-6, 1e-5));
}

TEST_CASE("sigmoid of x and of -x add up to 1", "[points=1]") {
    const tt::Tensor x = random_values({4, 5}, 301, -8.0f, 8.0f);
    const std::vector<float> plus = values_of(tt::sigmoid(x));
    const std::vector<float> minus = values_of(tt::sigmoid(reference_unary(x, [](float v) { return -v; })));
    REQUIRE(plus.size() == 20);
    REQUIRE(minus.size() == 20);
    for (size_t i = 0; i < plus.size(); ++i) {
        INFO("x = " << values_of(x)[i] << ": sigmoid(x) = " << plus[i] << ", sigmoid(-x) = " << minus[i]);
        CHECK(std::fabs(plus[i] + minus[i] - 1.0f) < 2e-6f);
    }
    CHECK_THAT(tt::sigmoid(x), tensor_near(expected_of(x, ref::sigmoid), 1e-6, 1e-5));
}

TEST_CASE("tanh on hand-computed values", "[points=2]") {
    // tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 3/5
    const float ln2 = std::log(2.0f);
    CHECK_THAT(tt::tanh(nested({0, ln2, -ln2})), tensor_near(nested({0, 0.6f, -0.6f}), 1e-6, 1e-6));
    CHECK_THAT(tt::tanh(nested({{1, -1}, {2, -3}})), tensor_near(nested({{0.7615942f, -0.7615942f}, {0.9640276f, -0.9950548f}}), 1e-6, 1e-5));
    const tt::Tensor x = random_values({3, 7}, 302, -5.0f, 5.0f);
    CHECK_THAT(tt::tanh(x), tensor_near(expected_of(x, ref::tanh), 1e-6, 1e-5));
}

TEST_CASE("gelu exact is x times the normal CDF on hand-computed values", "[points=2]") {
    // gelu(x) = x/2 (1 + erf(x / sqrt 2)): gelu(1) = Phi(1) = 0.8413447, gelu(-1) = -(1 - Phi(1))
    const tt::Tensor x = nested({-3, -2, -1, -0.5f, 0, 0.5f, 1, 2, 3});
    const tt::Tensor expected = nested({-0.004049694f, -0.04550026f, -0.1586553f, -0.1542688f, 0, 0.3457312f, 0.8413447f,
                                        1.9545f, 2.99595f});
    CHECK_THAT(tt::gelu(x, tt::GeluApproximation::none), tensor_near(expected, 2e-6, 1e-5));
    INFO("gelu(x) without a second argument is the exact form");
    CHECK_THAT(tt::gelu(x), tensor_near(expected, 2e-6, 1e-5));
}

TEST_CASE("gelu tanh approximation on hand-computed values", "[points=2]") {
    // x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the GPT-2 formula
    const tt::Tensor x = nested({-3, -2, -1, -0.5f, 0, 0.5f, 1, 2, 3});
    const tt::Tensor expected = nested({-0.003637392f, -0.04540231f, -0.158808f, -0.154286f, 0, 0.345714f, 0.841192f,
                                        1.954598f, 2.996363f});
    CHECK_THAT(tt::gelu(x, tt::GeluApproximation::tanh), tensor_near(expected, 2e-6, 1e-5));
}

TEST_CASE("gelu exact and its tanh approximation differ by the documented amount", "[points=2]") {
    // The two forms agree to about 4e-4: a test tolerance of 2e-6 tells them apart, so each
    // approximate= setting must compute its own formula.
    const tt::Tensor x = random_values({5, 8}, 303, -4.0f, 4.0f);
    const tt::Tensor exact = tt::gelu(x, tt::GeluApproximation::none);
    const tt::Tensor approx = tt::gelu(x, tt::GeluApproximation::tanh);
    CHECK_THAT(exact, tensor_near(expected_of(x, ref::gelu_exact), 2e-6, 1e-5));
    CHECK_THAT(approx, tensor_near(expected_of(x, ref::gelu_tanh), 2e-6, 1e-5));
    // At x = 3 the approximation is 4.12e-4 above the exact value.
    const float at3_exact = values_of(tt::gelu(nested({3}), tt::GeluApproximation::none))[0];
    const float at3_tanh = values_of(tt::gelu(nested({3}), tt::GeluApproximation::tanh))[0];
    CAPTURE(at3_exact, at3_tanh);
    CHECK(at3_tanh - at3_exact == Approx(4.123e-4).margin(2e-5));
}

TEST_CASE("every elementwise activation matches the formula on random 3-d inputs", "[points=2]") {
    const tt::Tensor x = random_values({2, 3, 5}, 304, -6.0f, 6.0f);
    for (const Elementwise& a : elementwise()) {
        INFO(a.name << " of " << describe_tensor(x));
        CHECK_THAT(a.op(x), tensor_near(expected_of(x, a.expected), 2e-6, 1e-5));
    }
}

TEST_CASE("elementwise activations read non-contiguous inputs in logical order", "[points=3]") {
    const tt::Tensor transposed = column_major(random_values({3, 4}, 305, -4.0f, 4.0f));
    const tt::Tensor with_gaps = padded(random_values({2, 2, 3}, 306, -4.0f, 4.0f));
    const tt::Tensor expanded = strided({-1.5f, 0.5f, 2.5f}, {2, 3}, {0, 1});        // a row read twice
    const tt::Tensor with_offset = strided({9, 9, -2, 1, -3, 4}, {2, 2}, {1, 2}, 2);  // transposed, offset 2
    for (const tt::Tensor& x : {transposed, with_gaps, expanded, with_offset}) {
        for (const Elementwise& a : elementwise()) {
            INFO(a.name << " of " << describe_tensor(x));
            const tt::Tensor out = a.op(x);
            CHECK_THAT(out, tensor_near(expected_of(x, a.expected), 2e-6, 1e-5));
            CHECK(out.strides() == row_major_strides(x.shape()));
        }
    }
}

TEST_CASE("elementwise activations return a new tensor and leave the input unchanged", "[points=1]") {
    for (const Elementwise& a : elementwise()) {
        INFO(a.name);
        tt::Tensor x = nested({{-1, 2, -3}, {4, -5, 0.5f}});
        const tt::Tensor before = raw_copy(x);
        const tt::Tensor out = a.op(x);
        CHECK_THAT(x, tensor_equal(before));
        CHECK_FALSE(shares_storage(out, x));
        CHECK_THAT(out, tensor_near(expected_of(before, a.expected), 2e-6, 1e-5));
    }
}

TEST_CASE("elementwise activations of a 0-d tensor and of an empty tensor", "[points=1]") {
    for (const Elementwise& a : elementwise()) {
        INFO(a.name);
        const tt::Tensor scalar = raw_scalar(-0.75f);
        CHECK_THAT(a.op(scalar), tensor_near(raw_scalar(a.expected(-0.75)), 2e-6, 1e-5));
        const tt::Tensor empty = raw({}, {0, 4});
        const tt::Tensor out = a.op(empty);
        CHECK(out.shape() == tt::Shape{0, 4});
    }
}
