// test_elementwise.cpp - module 02 grader: arithmetic, math functions and comparisons, with
// broadcasting, on contiguous and non-contiguous inputs. Expected values come from plain loops
// over raw storage (grading.h: reference_binary, reference_unary).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>

#include "grading.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

using BinaryOp = std::function<tt::Tensor(const tt::Tensor&, const tt::Tensor&)>;
using Combine = std::function<float(float, float)>;

struct NamedBinary {
    const char* name;
    BinaryOp op;
    Combine combine;
};

// The four arithmetic ops with the float arithmetic they must perform.
std::vector<NamedBinary> arithmetic() {
    return {
        {"add", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::add(a, b); }, [](float x, float y) { return x + y; }},
        {"sub", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::sub(a, b); }, [](float x, float y) { return x - y; }},
        {"mul", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::mul(a, b); }, [](float x, float y) { return x * y; }},
        {"div", [](const tt::Tensor& a, const tt::Tensor& b) { return tt::div(a, b); }, [](float x, float y) { return x / y; }},
    };
}

// The result must be a new row-major tensor that does not alias either input.
void check_fresh_result(const tt::Tensor& out, const tt::Tensor& a, const tt::Tensor& b) {
    REQUIRE_FALSE(layout_problem(out).has_value());
    CHECK(out.strides() == row_major_strides(out.shape()));
    CHECK_FALSE(shares_storage(out, a));
    CHECK_FALSE(shares_storage(out, b));
}

// Values without zeros, so div is well defined.
tt::Tensor nonzero_values(const tt::Shape& shape, uint64_t seed) {
    std::vector<float> v = values_of(random_values(shape, seed, 0.5f, 2.0f));
    for (size_t i = 0; i < v.size(); ++i)
        if (i % 3 == 1) v[i] = -v[i];
    return raw(v, shape);
}

}  // namespace

TEST_CASE("add sub mul div of two contiguous tensors of the same shape", "[points=1]") {
    const tt::Tensor a = nonzero_values({3, 4}, 1), b = nonzero_values({3, 4}, 2);
    for (const NamedBinary& op : arithmetic()) {
        INFO(op.name << " of a = " << describe_tensor(a) << " and b = " << describe_tensor(b));
        tt::Tensor out = op.op(a, b);
        check_fresh_result(out, a, b);
        CHECK_THAT(out, tensor_near(reference_binary(a, b, op.combine), 0.0, 1e-6));
    }
}

TEST_CASE("add sub mul div of transposed and padded non-contiguous operands", "[points=2]") {
    const tt::Tensor a = column_major(nonzero_values({2, 3, 4}, 3));
    const tt::Tensor b = padded(nonzero_values({2, 3, 4}, 4));
    const tt::Tensor c = strided(values_of(nonzero_values({4, 3, 2}, 5)), {2, 3, 4}, {1, 2, 6});  // a permuted layout
    for (const NamedBinary& op : arithmetic()) {
        INFO(op.name << " of a = " << describe_tensor(a) << " and b = " << describe_tensor(b));
        CHECK_THAT(op.op(a, b), tensor_near(reference_binary(a, b, op.combine), 0.0, 1e-6));
        CHECK_THAT(op.op(b, c), tensor_near(reference_binary(b, c, op.combine), 0.0, 1e-6));
        CHECK_THAT(op.op(c, a), tensor_near(reference_binary(c, a, op.combine), 0.0, 1e-6));
    }
}

TEST_CASE("broadcasting a 3x1 column with a 1x4 row", "[points=1]") {
    const tt::Tensor column = nested({{1}, {2}, {3}});
    const tt::Tensor row = nested({{10, 20, 30, 40}});
    tt::Tensor sum = tt::add(column, row);
    CHECK_THAT(sum, tensor_equal(nested({{11, 21, 31, 41}, {12, 22, 32, 42}, {13, 23, 33, 43}})));
    CHECK_THAT(tt::sub(row, column), tensor_equal(nested({{9, 19, 29, 39}, {8, 18, 28, 38}, {7, 17, 27, 37}})));
    for (const NamedBinary& op : arithmetic()) {
        INFO(op.name);
        CHECK_THAT(op.op(column, row), tensor_near(reference_binary(column, row, op.combine), 0.0, 1e-6));
        CHECK_THAT(op.op(row, column), tensor_near(reference_binary(row, column, op.combine), 0.0, 1e-6));
    }
}

TEST_CASE("broadcasting a 0-d tensor with an n-d tensor on either side", "[points=1]") {
    const tt::Tensor s = raw_scalar(2.0f);
    const tt::Tensor x = padded(nested({{1, 2, 3}, {4, 5, 6}}));
    CHECK_THAT(tt::mul(x, s), tensor_equal(nested({{2, 4, 6}, {8, 10, 12}})));
    CHECK_THAT(tt::sub(s, x), tensor_equal(nested({{1, 0, -1}, {-2, -3, -4}})));
    CHECK_THAT(tt::div(x, s), tensor_equal(nested({{0.5f, 1, 1.5f}, {2, 2.5f, 3}})));
    CHECK_THAT(tt::div(s, x), tensor_near(nested({{2, 1, 2.0f / 3}, {0.5f, 0.4f, 2.0f / 6}}), 0.0, 1e-6));
    CHECK_THAT(tt::add(s, raw_scalar(3.0f)), tensor_equal(raw_scalar(5.0f)));
    // A 0-d tensor stored at an offset.
    const tt::Tensor t = strided({0, 0, 10}, {}, {}, 2);
    CHECK_THAT(tt::add(x, t), tensor_equal(nested({{11, 12, 13}, {14, 15, 16}})));
    const tt::Tensor c = nested({{1, 2, 3}, {4, 5, 6}});  // contiguous this time
    CHECK_THAT(tt::add(c, t), tensor_equal(nested({{11, 12, 13}, {14, 15, 16}})));
    CHECK_THAT(tt::sub(t, c), tensor_equal(nested({{9, 8, 7}, {6, 5, 4}})));
    const tt::Tensor one = strided({0, 0, 0, 4}, {1, 1}, {1, 1}, 3);  // a (1, 1) at offset 3
    CHECK_THAT(tt::mul(c, one), tensor_equal(nested({{4, 8, 12}, {16, 20, 24}})));
    CHECK_THAT(tt::div(one, c), tensor_near(nested({{4, 2, 4.0f / 3}, {1, 0.8f, 4.0f / 6}}), 0.0, 1e-6));
}

TEST_CASE("broadcasting across different ranks and trailing or leading size-1 dims", "[points=2]") {
    const tt::Tensor a = nonzero_values({2, 3, 4}, 11);
    const tt::Tensor v = nonzero_values({4}, 12);
    const tt::Tensor lead = nonzero_values({1, 3, 4}, 13);
    const tt::Tensor trail = nonzero_values({2, 3, 1}, 14);
    const tt::Tensor mid = nonzero_values({3, 1}, 15);
    const tt::Tensor both = nonzero_values({2, 1, 4}, 16);
    const auto mul = [](float x, float y) { return x * y; };
    const auto sub = [](float x, float y) { return x - y; };
    CHECK_THAT(tt::mul(a, v), tensor_near(reference_binary(a, v, mul), 0.0, 1e-6));
    CHECK_THAT(tt::sub(v, a), tensor_near(reference_binary(v, a, sub), 0.0, 1e-6));
    CHECK_THAT(tt::sub(a, lead), tensor_near(reference_binary(a, lead, sub), 0.0, 1e-6));
    CHECK_THAT(tt::sub(trail, a), tensor_near(reference_binary(trail, a, sub), 0.0, 1e-6));
    CHECK_THAT(tt::mul(mid, both), tensor_near(reference_binary(mid, both, mul), 0.0, 1e-6));  // -> (2, 3, 4)
    CHECK_THAT(tt::sub(both, trail), tensor_near(reference_binary(both, trail, sub), 0.0, 1e-6));
    CHECK(tt::add(mid, both).shape() == tt::Shape{2, 3, 4});
}

TEST_CASE("broadcasting with non-contiguous and expanded operands", "[points=2]") {
    const tt::Tensor a = column_major(nonzero_values({3, 4}, 21));
    const tt::Tensor row = strided({9, 1, 9, 2, 9, 3, 9, 4}, {4}, {2}, 1);  // [1, 2, 3, 4], stride 2
    const tt::Tensor expanded = strided({5, 6, 7}, {2, 3, 4}, {0, 1, 0});  // (3, 1) expanded
    const auto add = [](float x, float y) { return x + y; };
    const auto div = [](float x, float y) { return x / y; };
    CHECK_THAT(tt::add(a, row), tensor_near(reference_binary(a, row, add), 0.0, 1e-6));
    CHECK_THAT(tt::div(row, a), tensor_near(reference_binary(row, a, div), 0.0, 1e-6));
    CHECK_THAT(tt::add(expanded, a), tensor_near(reference_binary(expanded, a, add), 0.0, 1e-6));
    CHECK_THAT(tt::div(a, expanded), tensor_near(reference_binary(a, expanded, div), 0.0, 1e-6));
}

TEST_CASE("broadcasting with empty tensors gives empty results", "[points=1]") {
    tt::Tensor a = raw({}, {0, 3});
    tt::Tensor out = tt::add(a, nested({{1, 2, 3}}));
    CHECK(out.shape() == tt::Shape{0, 3});
    tt::Tensor out2 = tt::mul(raw({}, {2, 0}), raw_scalar(3.0f));
    CHECK(out2.shape() == tt::Shape{2, 0});
    CHECK(tt::exp(raw({}, {0})).shape() == tt::Shape{0});
}

TEST_CASE("elementwise ops reject shapes that do not broadcast naming the op and both shapes", "[points=1]") {
    const tt::Tensor a = iota({2, 3}), b = iota({4, 3}), c = iota({3, 2});
    CHECK_THAT(error_message([&] { tt::add(a, b); }), Contains("add") && Contains("(2, 3)") && Contains("(4, 3)"));
    CHECK_THAT(error_message([&] { tt::sub(a, c); }), Contains("sub") && Contains("(2, 3)") && Contains("(3, 2)"));
    CHECK_THAT(error_message([&] { tt::mul(iota({2}), a); }), Contains("mul") && Contains("(2)") && Contains("(2, 3)"));
    CHECK_THAT(error_message([&] { tt::div(iota({2, 3, 4}), iota({3, 3})); }), Contains("div") && Contains("(2, 3, 4)"));
    CHECK_THAT(error_message([&] { tt::eq(a, b); }), Contains("eq") && Contains("(4, 3)"));
    CHECK_THAT(error_message([&] { tt::pow(a, b); }), Contains("pow") && Contains("(4, 3)"));
}

TEST_CASE("neg exp log sqrt and div match the C library including inf and nan", "[points=1]") {
    {  // neg exp log and sqrt match the C library element by element
        const tt::Tensor x = nonzero_values({2, 5}, 31);
        const tt::Tensor positive = random_values({2, 5}, 32, 0.01f, 10.0f);
        CHECK_THAT(tt::neg(x), tensor_equal(reference_unary(x, [](float v) { return -v; })));
        CHECK_THAT(tt::exp(x), tensor_near(reference_unary(x, [](float v) { return std::exp(v); }), 1e-6, 1e-6));
        CHECK_THAT(tt::log(positive), tensor_near(reference_unary(positive, [](float v) { return std::log(v); }), 1e-6, 1e-6));
        CHECK_THAT(tt::sqrt(positive), tensor_near(reference_unary(positive, [](float v) { return std::sqrt(v); }), 1e-6, 1e-6));
        tt::Tensor out = tt::exp(x);
        check_fresh_result(out, x, x);
    }
    {  // division by zero and log of zero follow IEEE-754
        const float inf = std::numeric_limits<float>::infinity();
        const float nan = std::numeric_limits<float>::quiet_NaN();
        CHECK_THAT(tt::div(nested({1, -1, 0}), raw_scalar(0.0f)), tensor_equal(nested({inf, -inf, nan})));
        CHECK_THAT(tt::log(nested({0, 1})), tensor_equal(nested({-inf, 0})));
        CHECK_THAT(tt::sqrt(nested({-1})), tensor_equal(nested({nan})));
    }
}

TEST_CASE("unary ops on non-contiguous inputs keep the logical order", "[points=1]") {
    const tt::Tensor x = column_major(random_values({3, 4}, 41, 0.1f, 3.0f));
    const tt::Tensor y = padded(random_values({2, 2, 3}, 42, 0.1f, 3.0f));
    const tt::Tensor z = strided({1, 4, 9}, {2, 3}, {0, 1});
    for (const tt::Tensor& t : {x, y, z}) {
        INFO("input " << describe_tensor(t));
        CHECK_THAT(tt::neg(t), tensor_equal(reference_unary(t, [](float v) { return -v; })));
        CHECK_THAT(tt::exp(t), tensor_near(reference_unary(t, [](float v) { return std::exp(v); }), 1e-6, 1e-6));
        CHECK_THAT(tt::log(t), tensor_near(reference_unary(t, [](float v) { return std::log(v); }), 1e-6, 1e-6));
        CHECK_THAT(tt::sqrt(t), tensor_near(reference_unary(t, [](float v) { return std::sqrt(v); }), 1e-6, 1e-6));
        CHECK_THAT(tt::pow(t, 3.0f), tensor_near(reference_unary(t, [](float v) { return v * v * v; }), 1e-6, 1e-5));
        CHECK(tt::sqrt(t).strides() == row_major_strides(t.shape()));
    }
}

TEST_CASE("pow with a number exponent including 2 0.5 0 and negative exponents", "[points=1]") {
    const tt::Tensor x = nested({{1, 2, 3}, {0.5f, 4, 9}});
    CHECK_THAT(tt::pow(x, 2.0f), tensor_near(nested({{1, 4, 9}, {0.25f, 16, 81}})));
    CHECK_THAT(tt::pow(x, 0.5f), tensor_near(nested({{1, std::sqrt(2.0f), std::sqrt(3.0f)}, {std::sqrt(0.5f), 2, 3}})));
    CHECK_THAT(tt::pow(x, 0.0f), tensor_equal(nested({{1, 1, 1}, {1, 1, 1}})));
    CHECK_THAT(tt::pow(x, -1.0f), tensor_near(nested({{1, 0.5f, 1.0f / 3}, {2, 0.25f, 1.0f / 9}})));
    CHECK_THAT(tt::pow(nested({-2, -1, 3}), 3.0f), tensor_near(nested({-8, -1, 27})));
    CHECK_THAT(tt::pow(raw_scalar(3.0f), 2.0f), tensor_near(raw_scalar(9.0f)));
}

TEST_CASE("pow with a broadcast tensor exponent", "[points=1]") {
    const tt::Tensor base = nested({{1, 2, 3}, {4, 5, 6}});
    const tt::Tensor exponent = nested({{2}, {0.5f}});
    CHECK_THAT(tt::pow(base, exponent),
               tensor_near(nested({{1, 4, 9}, {2, std::sqrt(5.0f), std::sqrt(6.0f)}}), 1e-6, 1e-5));
    const tt::Tensor per_column = nested({0, 1, 3});
    CHECK_THAT(tt::pow(column_major(base), per_column), tensor_near(nested({{1, 2, 27}, {1, 5, 216}}), 1e-6, 1e-5));
    CHECK_THAT(tt::pow(raw_scalar(2.0f), nested({0, 1, 10})), tensor_near(nested({1, 2, 1024})));
}

TEST_CASE("comparisons give 1 where true and 0 where false", "[points=1]") {
    const tt::Tensor a = nested({{1, 2, 3}, {4, 5, 6}});
    const tt::Tensor b = nested({{3, 2, 1}, {4, 0, 7}});
    CHECK_THAT(tt::eq(a, b), tensor_equal(nested({{0, 1, 0}, {1, 0, 0}})));
    CHECK_THAT(tt::ne(a, b), tensor_equal(nested({{1, 0, 1}, {0, 1, 1}})));
    CHECK_THAT(tt::lt(a, b), tensor_equal(nested({{1, 0, 0}, {0, 0, 1}})));
    CHECK_THAT(tt::le(a, b), tensor_equal(nested({{1, 1, 0}, {1, 0, 1}})));
    CHECK_THAT(tt::gt(a, b), tensor_equal(nested({{0, 0, 1}, {0, 1, 0}})));
    CHECK_THAT(tt::ge(a, b), tensor_equal(nested({{0, 1, 1}, {1, 1, 0}})));
}

TEST_CASE("comparisons broadcast and read non-contiguous inputs", "[points=1]") {
    const tt::Tensor a = column_major(nested({{1, 2, 3}, {4, 5, 6}}));
    const tt::Tensor threshold = raw_scalar(3.0f);
    const tt::Tensor column = padded(nested({{2}, {5}}));
    CHECK_THAT(tt::gt(a, threshold), tensor_equal(nested({{0, 0, 0}, {1, 1, 1}})));
    CHECK_THAT(tt::le(threshold, a), tensor_equal(nested({{0, 0, 1}, {1, 1, 1}})));
    CHECK_THAT(tt::eq(a, column), tensor_equal(nested({{0, 1, 0}, {0, 1, 0}})));
    CHECK_THAT(tt::ge(a, column), tensor_equal(nested({{0, 1, 1}, {0, 1, 1}})));
    CHECK_THAT(tt::lt(column, a), tensor_equal(nested({{0, 0, 1}, {0, 0, 1}})));
    CHECK_THAT(tt::ne(nested({1, 2, 3}), column), tensor_equal(nested({{1, 0, 1}, {1, 1, 1}})));
}

TEST_CASE("elementwise ops on contiguous views that start at an offset", "[points=1]") {
    INFO("a row or a block of rows of a bigger tensor is contiguous but starts at its offset: a fast path over "
         "contiguous memory must read from data() (storage + offset), not from the start of the storage");
    const tt::Tensor base = iota({4, 3});
    const tt::Tensor rows(base.storage(), {2, 3}, {3, 1}, 6);  // rows 2 and 3: [[6, 7, 8], [9, 10, 11]]
    REQUIRE(rows.is_contiguous());
    const tt::Tensor other = nested({{1, 2, 3}, {4, 5, 6}});
    CHECK_THAT(tt::add(rows, other), tensor_equal(nested({{7, 9, 11}, {13, 15, 17}})));
    CHECK_THAT(tt::sub(other, rows), tensor_equal(nested({{-5, -5, -5}, {-5, -5, -5}})));
    CHECK_THAT(tt::mul(rows, rows), tensor_equal(nested({{36, 49, 64}, {81, 100, 121}})));
    CHECK_THAT(tt::mul(rows, raw_scalar(2.0f)), tensor_equal(nested({{12, 14, 16}, {18, 20, 22}})));
    CHECK_THAT(tt::sub(raw_scalar(1.0f), rows), tensor_equal(nested({{-5, -6, -7}, {-8, -9, -10}})));
    CHECK_THAT(tt::neg(rows), tensor_equal(nested({{-6, -7, -8}, {-9, -10, -11}})));
    CHECK_THAT(tt::sqrt(rows), tensor_near(reference_unary(rows, [](float v) { return std::sqrt(v); }), 1e-6, 1e-6));
    CHECK_THAT(tt::pow(rows, 2.0f), tensor_equal(nested({{36, 49, 64}, {81, 100, 121}})));
    CHECK_THAT(tt::gt(rows, raw_scalar(8.0f)), tensor_equal(nested({{0, 0, 0}, {1, 1, 1}})));
}

TEST_CASE("elementwise results never alias their inputs", "[points=1]") {
    tt::Tensor a = iota({2, 3});
    tt::Tensor b = iota({2, 3});
    tt::Tensor out = tt::add(a, b);
    out.storage()->data[0] = 100.0f;
    CHECK_THAT(a, tensor_equal(iota({2, 3})));
    CHECK_THAT(b, tensor_equal(iota({2, 3})));
    tt::Tensor n = tt::neg(a);
    CHECK_FALSE(shares_storage(n, a));
    tt::Tensor p = tt::pow(a, 1.0f);
    CHECK_FALSE(shares_storage(p, a));
    tt::Tensor s = tt::mul(a, raw_scalar(1.0f));
    CHECK_FALSE(shares_storage(s, a));
}
