// test_tensor_elementwise.cpp - module 02: broadcasting elementwise ops and comparisons
// (engine/src/02_tensor/elementwise.cpp). Every op is run on contiguous, transposed, padded,
// sliced-with-a-step and expanded inputs; the expected values come from grading.h's plain-loop
// reference_binary / reference_unary.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "grading.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

struct BinaryCase {
    const char* name;
    std::function<tt::Tensor(const tt::Tensor&, const tt::Tensor&)> op;
    std::function<float(float, float)> reference;
};

const std::vector<BinaryCase>& binary_ops() {
    static const std::vector<BinaryCase> ops = {
        {"add", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::add(a, b); }, [](float x, float y) { return x + y; }},
        {"sub", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::sub(a, b); }, [](float x, float y) { return x - y; }},
        {"mul", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::mul(a, b); }, [](float x, float y) { return x * y; }},
        {"div", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::div(a, b); }, [](float x, float y) { return x / y; }},
        {"pow", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::pow(a, b); },
         [](float x, float y) { return std::pow(x, y); }},
        {"eq", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::eq(a, b); }, [](float x, float y) { return x == y ? 1.0f : 0.0f; }},
        {"ne", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::ne(a, b); }, [](float x, float y) { return x != y ? 1.0f : 0.0f; }},
        {"lt", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::lt(a, b); }, [](float x, float y) { return x < y ? 1.0f : 0.0f; }},
        {"le", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::le(a, b); }, [](float x, float y) { return x <= y ? 1.0f : 0.0f; }},
        {"gt", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::gt(a, b); }, [](float x, float y) { return x > y ? 1.0f : 0.0f; }},
        {"ge", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::ge(a, b); }, [](float x, float y) { return x >= y ? 1.0f : 0.0f; }},
    };
    return ops;
}

// The same values in several layouts: what every kernel must be indifferent to.
std::vector<std::pair<std::string, tt::Tensor>> layouts_of(const tt::Tensor& x) {
    std::vector<std::pair<std::string, tt::Tensor>> out = {{"contiguous", x}, {"padded", padded(x)}};
    if (x.dim() >= 2) out.push_back({"column-major", column_major(x)});
    if (x.dim() >= 1) {
        // Every other element of a tensor twice as long along dim 0 (a slice with step 2).
        tt::Shape doubled = x.shape();
        doubled[0] *= 2;
        std::vector<float> values = values_of(x), big(static_cast<size_t>(count_of(doubled)), 1e6f);
        const int64_t row = x.shape()[0] == 0 ? 0 : count_of(x.shape()) / x.shape()[0];
        for (int64_t r = 0; r < x.shape()[0]; ++r)
            for (int64_t j = 0; j < row; ++j) big[static_cast<size_t>(2 * r * row + j)] = values[static_cast<size_t>(r * row + j)];
        out.push_back({"stepped", raw(big, doubled).slice(0, 0, doubled[0], 2)});
    }
    return out;
}

}  // namespace

TEST_CASE("tensor: elementwise hand-computed values", "[02][tensor][elementwise]") {
    const tt::Tensor a = nested({{1, 2, 3}, {4, 5, 6}});
    const tt::Tensor b = nested({10, 20, 30});
    CHECK_THAT(tt::add(a, b), tensor_equal(nested({{11, 22, 33}, {14, 25, 36}})));
    CHECK_THAT(tt::sub(a, b), tensor_equal(nested({{-9, -18, -27}, {-6, -15, -24}})));
    CHECK_THAT(tt::mul(a, b), tensor_equal(nested({{10, 40, 90}, {40, 100, 180}})));
    CHECK_THAT(tt::div(b, a), tensor_near(nested({{10, 10, 10}, {2.5f, 4, 5}})));
    CHECK_THAT(tt::neg(a), tensor_equal(nested({{-1, -2, -3}, {-4, -5, -6}})));
    CHECK_THAT(tt::pow(a, 2.0f), tensor_equal(nested({{1, 4, 9}, {16, 25, 36}})));
    CHECK_THAT(tt::pow(nested({4, 9}), 0.5f), tensor_near(nested({2, 3})));
    CHECK_THAT(tt::pow(nested({2, 3}), nested({3, 2})), tensor_near(nested({8, 9})));
    CHECK_THAT(tt::exp(nested({0, 1})), tensor_near(nested({1, 2.7182817f})));
    CHECK_THAT(tt::log(nested({1, 2.7182817f})), tensor_near(nested({0, 1})));
    CHECK_THAT(tt::sqrt(nested({0, 4, 2.25f})), tensor_near(nested({0, 2, 1.5f})));
    CHECK_THAT(tt::gt(nested({1, 5, 3}), nested({2, 2, 3})), tensor_equal(nested({0, 1, 0})));
    CHECK_THAT(tt::ge(nested({1, 5, 3}), nested({2, 2, 3})), tensor_equal(nested({0, 1, 1})));
    CHECK_THAT(tt::eq(nested({1, 5, 3}), raw_scalar(3)), tensor_equal(nested({0, 0, 1})));

    SECTION("the [given] operators with floats") {
        CHECK_THAT(a * 2.0f + 1.0f, tensor_equal(nested({{3, 5, 7}, {9, 11, 13}})));
        CHECK_THAT(1.0f - a, tensor_equal(nested({{0, -1, -2}, {-3, -4, -5}})));
        CHECK_THAT(6.0f / a, tensor_near(nested({{6, 3, 2}, {1.5f, 1.2f, 1}})));
        CHECK_THAT(-a / 2.0f, tensor_near(nested({{-0.5f, -1, -1.5f}, {-2, -2.5f, -3}})));
        CHECK_THAT(a > raw_scalar(3), tensor_equal(nested({{0, 0, 0}, {1, 1, 1}})));
    }
    SECTION("IEEE-754 special values pass through") {
        const tt::Tensor q = tt::div(nested({1, -1, 0}), nested({0, 0, 0}));
        CHECK(std::isinf(q.at({0})));
        CHECK(q.at({1}) < 0);
        CHECK(std::isnan(q.at({2})));
        CHECK(std::isnan(tt::log(nested({-1})).at({0})));
        CHECK(std::isnan(tt::sqrt(nested({-4})).at({0})));
    }
    SECTION("results are new contiguous tensors and never record a graph for comparisons") {
        const tt::Tensor s = tt::add(a.t(), raw_scalar(1));
        CHECK(s.is_contiguous());
        CHECK_FALSE(shares_storage(s, a));
        tt::Tensor w = nested({1, 2});
        w.requires_grad_();
        CHECK_FALSE(tt::lt(w, raw_scalar(2)).requires_grad());
        CHECK(tt::add(w, raw_scalar(2)).requires_grad());
    }
}

TEST_CASE("tensor: broadcasting edge cases", "[02][tensor][elementwise][broadcast]") {
    const tt::Tensor col = nested({{1}, {2}, {3}});  // (3, 1)
    const tt::Tensor row = nested({{10, 20, 30, 40}});  // (1, 4)
    CHECK_THAT(tt::add(col, row), tensor_equal(nested({{11, 21, 31, 41}, {12, 22, 32, 42}, {13, 23, 33, 43}})));
    CHECK_THAT(tt::sub(row, col), tensor_equal(reference_binary(row, col, [](float x, float y) { return x - y; })));

    CHECK_THAT(tt::mul(raw_scalar(2), iota({2, 3})), tensor_equal(nested({{0, 2, 4}, {6, 8, 10}})));  // 0-d with n-d
    CHECK_THAT(tt::mul(iota({2, 3}), raw_scalar(2)), tensor_equal(nested({{0, 2, 4}, {6, 8, 10}})));
    CHECK(tt::add(raw_scalar(1), raw_scalar(2)).dim() == 0);  // 0-d with 0-d
    CHECK(tt::add(raw_scalar(1), raw_scalar(2)).item() == 3.0f);
    CHECK(tt::add(raw({1}, {1}), raw_scalar(2)).shape() == tt::Shape{1});
    CHECK(tt::add(raw({1}, {1, 1, 1}), nested({1, 2})).shape() == tt::Shape{1, 1, 2});
    CHECK(tt::add(raw({}, {0, 3}), nested({1, 2, 3})).shape() == tt::Shape{0, 3});  // empty results
    CHECK(tt::add(raw({}, {2, 0}), raw({5, 6}, {2, 1})).numel() == 0);

    const tt::Tensor a3 = random_values({4, 1, 3}, 1), b2 = random_values({2, 1}, 2);
    CHECK_THAT(tt::mul(a3, b2), tensor_near(reference_binary(a3, b2, [](float x, float y) { return x * y; })));
    CHECK(tt::mul(a3, b2).shape() == tt::Shape{4, 2, 3});

    SECTION("a mismatch names the op and both shapes") {
        CHECK_THAT(error_message([] { tt::add(iota({2, 3}), iota({4, 3})); }),
                   Contains("add") && Contains("(2, 3)") && Contains("(4, 3)"));
        CHECK_THAT(error_message([] { tt::mul(iota({3}), iota({4})); }), Contains("mul") && Contains("(3)") && Contains("(4)"));
        CHECK_THAT(error_message([] { tt::lt(iota({2, 2}), iota({3, 1})); }), Contains("lt") && Contains("(3, 1)"));
        CHECK_THAT(error_message([] { tt::pow(iota({2}), iota({3})); }), Contains("pow"));
    }
}

TEST_CASE("tensor: binary ops on every layout", "[02][tensor][elementwise][layout]") {
    // Positive inputs keep pow and div well away from nan and inf.
    const tt::Tensor a = random_values({3, 4}, 11, 0.5f, 2.0f);
    const tt::Tensor b = random_values({3, 4}, 12, 0.5f, 2.0f);
    const tt::Tensor b_row = random_values({4}, 13, 0.5f, 2.0f);
    const tt::Tensor b_col = random_values({3, 1}, 14, 0.5f, 2.0f);
    for (const BinaryCase& op : binary_ops()) {
        for (const auto& [a_name, a_layout] : layouts_of(a)) {
            for (const auto& [b_name, b_layout] : layouts_of(b)) {
                INFO(op.name << "(" << a_name << ", " << b_name << ")");
                CHECK_THAT(op.op(a_layout, b_layout), tensor_near(reference_binary(a, b, op.reference)));
            }
            INFO(op.name << "(" << a_name << ", broadcast)");
            CHECK_THAT(op.op(a_layout, b_row), tensor_near(reference_binary(a, b_row, op.reference)));
            CHECK_THAT(op.op(b_col, a_layout), tensor_near(reference_binary(b_col, a, op.reference)));
            CHECK_THAT(op.op(a_layout, raw_scalar(1.5f)), tensor_near(reference_binary(a, raw_scalar(1.5f), op.reference)));
            CHECK_THAT(op.op(raw_scalar(0.75f), a_layout), tensor_near(reference_binary(raw_scalar(0.75f), a, op.reference)));
            // An expanded (stride 0) input: b_col.expand is (3, 4) with strides (1, 0).
            CHECK_THAT(op.op(a_layout, b_col.expand({3, 4})), tensor_near(reference_binary(a, b_col, op.reference)));
            // A one-element input that is not 0-d, broadcast over a batch dim.
            CHECK_THAT(op.op(raw({1.25f}, {1, 1, 1}), a_layout),
                       tensor_near(reference_binary(raw({1.25f}, {1, 1, 1}), a, op.reference)));
        }
    }
}

TEST_CASE("tensor: unary ops on every layout", "[02][tensor][elementwise][layout]") {
    const tt::Tensor x = random_values({2, 3, 4}, 21, 0.1f, 3.0f);
    struct UnaryCase {
        const char* name;
        std::function<tt::Tensor(const tt::Tensor&)> op;
        std::function<float(float)> reference;
    };
    const std::vector<UnaryCase> ops = {
        {"neg", [](const tt::Tensor& t) { return tt::neg(t); }, [](float v) { return -v; }},
        {"exp", [](const tt::Tensor& t) { return tt::exp(t); }, [](float v) { return std::exp(v); }},
        {"log", [](const tt::Tensor& t) { return tt::log(t); }, [](float v) { return std::log(v); }},
        {"sqrt", [](const tt::Tensor& t) { return tt::sqrt(t); }, [](float v) { return std::sqrt(v); }},
        {"pow 2", [](const tt::Tensor& t) { return tt::pow(t, 2.0f); }, [](float v) { return v * v; }},
        {"pow 3", [](const tt::Tensor& t) { return tt::pow(t, 3.0f); }, [](float v) { return v * v * v; }},
        {"pow -1.5", [](const tt::Tensor& t) { return tt::pow(t, -1.5f); }, [](float v) { return std::pow(v, -1.5f); }},
        {"pow 0", [](const tt::Tensor& t) { return tt::pow(t, 0.0f); }, [](float) { return 1.0f; }},
    };
    for (const UnaryCase& op : ops) {
        for (const auto& [name, layout] : layouts_of(x)) {
            INFO(op.name << "(" << name << ")");
            CHECK_THAT(op.op(layout), tensor_near(reference_unary(x, op.reference)));
        }
        INFO(op.name << " on 0-d, expanded and empty tensors");
        CHECK_THAT(op.op(raw_scalar(2)), tensor_near(reference_unary(raw_scalar(2), op.reference)));
        CHECK_THAT(op.op(raw({0.5f, 2}, {2}).expand({3, 2})),
                   tensor_near(reference_unary(raw({0.5f, 2, 0.5f, 2, 0.5f, 2}, {3, 2}), op.reference)));
        CHECK(op.op(raw({}, {0, 2})).shape() == tt::Shape{0, 2});
    }
}

TEST_CASE("tensor: elementwise on a large tensor", "[02][tensor][elementwise]") {
    // Big enough that a fast path and the general path both run many full inner loops.
    const tt::Tensor a = random_values({64, 257}, 31), b = random_values({257}, 32);
    CHECK_THAT(tt::add(a, b), tensor_near(reference_binary(a, b, [](float x, float y) { return x + y; })));
    CHECK_THAT(tt::mul(column_major(a), a), tensor_near(reference_binary(a, a, [](float x, float y) { return x * y; })));
}
