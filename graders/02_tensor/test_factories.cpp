// test_factories.cpp - module 02 grader: every factory (shapes, strides, values, randomness).
#include <catch2/catch.hpp>

#include <cmath>

#include "grading.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

// What every factory promises: fresh row-major storage of exactly the right size, offset 0,
// no autograd state.
void check_fresh(const tt::Tensor& t, const tt::Shape& shape) {
    REQUIRE(t.defined());
    CHECK(t.shape() == shape);
    CHECK(t.strides() == row_major_strides(shape));  // a size of 0 counts as 1: (2, 0) -> (1, 1), as in PyTorch
    CHECK(t.offset() == 0);
    REQUIRE(t.storage() != nullptr);
    CHECK(static_cast<int64_t>(t.storage()->data.size()) >= count_of(shape));
    CHECK_FALSE(t.requires_grad());
    CHECK(t.grad_fn() == nullptr);
}

}  // namespace

TEST_CASE("zeros and empty make zero-filled row-major tensors also with size-0 dims", "[points=1]") {
    {  // zeros and empty make row-major tensors filled with 0
        for (const tt::Shape& shape : {tt::Shape{4}, tt::Shape{2, 3}, tt::Shape{2, 1, 3, 2}, tt::Shape{}}) {
            CAPTURE(shape);
            tt::Tensor z = tt::zeros(shape);
            check_fresh(z, shape);
            CHECK_THAT(z, tensor_equal(raw(std::vector<float>(count_of(shape), 0.0f), shape)));
            tt::Tensor e = tt::empty(shape);
            check_fresh(e, shape);
        }
    }
    {  // factories accept a size of 0
        check_fresh(tt::zeros({0}), {0});
        check_fresh(tt::ones({2, 0, 3}), {2, 0, 3});
        check_fresh(tt::full({0, 4}, 2.0f), {0, 4});
    }
}

TEST_CASE("ones full and scalar fill every element", "[points=1]") {
    {  // ones and full fill every element
        tt::Tensor o = tt::ones({2, 3});
        check_fresh(o, {2, 3});
        CHECK_THAT(o, tensor_equal(nested({{1, 1, 1}, {1, 1, 1}})));
        tt::Tensor f = tt::full({3, 1, 2}, -2.5f);
        check_fresh(f, {3, 1, 2});
        CHECK_THAT(f, tensor_equal(raw(std::vector<float>(6, -2.5f), {3, 1, 2})));
        CHECK_THAT(tt::full({}, 7.0f), tensor_equal(raw_scalar(7.0f)));
    }
    {  // scalar makes a 0-d tensor with one element
        tt::Tensor s = tt::scalar(3.25f);
        check_fresh(s, {});
        CHECK(s.dim() == 0);
        CHECK_THAT(s, tensor_equal(raw_scalar(3.25f)));
    }
}

TEST_CASE("from_vector copies values in row-major order and rejects a size mismatch", "[points=1]") {
    {  // from_vector copies the values in row-major order
        std::vector<float> values = {1, 2, 3, 4, 5, 6};
        tt::Tensor x = tt::from_vector(values, {3, 2});
        check_fresh(x, {3, 2});
        CHECK_THAT(x, tensor_equal(nested({{1, 2}, {3, 4}, {5, 6}})));
        values[0] = 100.0f;  // the tensor owns a copy
        CHECK(element(x, {0, 0}) == 1.0f);
        CHECK_THAT(tt::from_vector({8}, {}), tensor_equal(raw_scalar(8.0f)));
    }
    {  // from_vector rejects a size mismatch naming the shape
        CHECK_THAT(error_message([] { tt::from_vector({1, 2, 3, 4, 5}, {2, 3}); }), Contains("from_vector") && Contains("(2, 3)"));
        CHECK_THAT(error_message([] { tt::from_vector({1, 2}, {}); }), Contains("from_vector"));
    }
}

TEST_CASE("tensor builds 1-d and 2-d tensors from braces and rejects ragged rows", "[points=1]") {
    {  // tensor builds 1-d and 2-d tensors from braces
        tt::Tensor v = tt::tensor({1.5f, -2.0f, 3.0f});
        check_fresh(v, {3});
        CHECK_THAT(v, tensor_equal(nested({1.5f, -2.0f, 3.0f})));
        tt::Tensor m = tt::tensor({{1, 2, 3}, {4, 5, 6}});
        check_fresh(m, {2, 3});
        CHECK_THAT(m, tensor_equal(nested({{1, 2, 3}, {4, 5, 6}})));
        tt::Tensor row = tt::tensor({{1, 2, 3, 4}});
        check_fresh(row, {1, 4});
        CHECK_THAT(row, tensor_equal(nested({{1, 2, 3, 4}})));
    }
    {  // tensor rejects rows of different lengths
        CHECK_THAT(error_message([] { tt::tensor({{1, 2, 3}, {4, 5}}); }), Contains("tensor") && Contains("row"));
    }
}

TEST_CASE("arange with an end only and with start end and step", "[points=1]") {
    tt::Tensor a = tt::arange(5.0f);
    check_fresh(a, {5});
    CHECK_THAT(a, tensor_equal(nested({0, 1, 2, 3, 4})));
    CHECK_THAT(tt::arange(2.0f, 6.0f), tensor_equal(nested({2, 3, 4, 5})));
    CHECK_THAT(tt::arange(1.0f, 10.0f, 3.0f), tensor_equal(nested({1, 4, 7})));
    CHECK_THAT(tt::arange(1.0f, 11.0f, 3.0f), tensor_equal(nested({1, 4, 7, 10})));  // ceil(10 / 3) = 4
    CHECK_THAT(tt::arange(0.0f, 2.0f, 0.5f), tensor_equal(nested({0, 0.5f, 1, 1.5f})));
    CHECK_THAT(tt::arange(5.0f, 0.0f, -2.0f), tensor_equal(nested({5, 3, 1})));
    tt::Tensor none = tt::arange(3.0f, 3.0f);
    check_fresh(none, {0});
}

TEST_CASE("arange with a fractional step has ceil((end - start) / step) values and rejects step 0", "[points=1]") {
    {  // arange with a fractional step has ceil((end - start) / step) values of start + i times step
        tt::Tensor a = tt::arange(0.0f, 1.0f, 0.1f);
        REQUIRE(a.shape() == tt::Shape{10});
        std::vector<float> expected;
        for (int i = 0; i < 10; ++i) expected.push_back(static_cast<float>(0.0 + i * static_cast<double>(0.1f)));
        CHECK_THAT(a, tensor_near(raw(expected, {10}), 1e-6, 1e-6));
        tt::Tensor b = tt::arange(-1.0f, 1.0f, 0.25f);
        CHECK_THAT(b, tensor_equal(nested({-1, -0.75f, -0.5f, -0.25f, 0, 0.25f, 0.5f, 0.75f})));
    }
    {  // arange rejects a zero step
        CHECK_THAT(error_message([] { tt::arange(0.0f, 3.0f, 0.0f); }), Contains("arange"));
    }
}

TEST_CASE("arange counts ceil((end - start) / step) values in double as torch.arange", "[points=1]") {
    INFO("torch.arange(0, 0.3, 0.1) has 3 values: (0.3 - 0) / 0.1 = 2.9999999999999996 in double");
    CHECK_THAT(tt::arange(0, 0.3, 0.1), tensor_equal(nested({0, 0.1f, 0.2f})));
    INFO("torch.arange(0, 1, 0.1) has 10 values; adding 0.1 until reaching 1 gives 11 (0.1 * 10 summed is 0.9999999)");
    CHECK(tt::arange(0, 1, 0.1).shape() == tt::Shape{10});
    CHECK(tt::arange(0, 2.2, 0.2).shape() == tt::Shape{11});  // 2.2 / 0.2 = 11.000000000000002
    CHECK(tt::arange(1, 0, -0.1).shape() == tt::Shape{10});
    CHECK(tt::arange(0.5, 10).shape() == tt::Shape{10});
    INFO("float arguments are converted exactly: 0.3f / 0.1f = 3.0000000745 in double, so 4 values (torch.arange on "
         "float32 tensors agrees)");
    CHECK(tt::arange(0.0f, 0.3f, 0.1f).shape() == tt::Shape{4});
}

TEST_CASE("arange of thousands of fractional steps computes each value as start plus i times step", "[points=1]") {
    // Value i is start + i * step, rounded to float once. A running float total drifts: after 20000
    // additions of 0.1f it is off by about 0.2 (rounding error ~1e-4 per value is fine).
    INFO("compute value i as start + i * step; adding the step to a running total accumulates rounding errors");
    const tt::Tensor a = tt::arange(-500, 1500, 0.1);
    REQUIRE(a.shape() == tt::Shape{20000});
    std::vector<float> expected(20000);
    for (int i = 0; i < 20000; ++i) expected[i] = static_cast<float>(-500.0 + i * 0.1);
    CHECK_THAT(a, tensor_near(raw(expected, {20000}), 2e-4, 1e-6));
    const tt::Tensor c = tt::arange(100, -100, -0.01);
    REQUIRE(c.shape() == tt::Shape{20000});
    std::vector<float> expected_c(20000);
    for (int i = 0; i < 20000; ++i) expected_c[i] = static_cast<float>(100.0 - i * 0.01);
    CHECK_THAT(c, tensor_near(raw(expected_c, {20000}), 2e-4, 1e-6));
    const tt::Tensor b = tt::arange(0, 3000, 0.75);  // 0.75 is exact in binary, and so is every value
    std::vector<float> expected_b(4000);
    for (int i = 0; i < 4000; ++i) expected_b[i] = static_cast<float>(i * 0.75);
    CHECK_THAT(b, tensor_equal(raw(expected_b, {4000})));
}

TEST_CASE("rand is reproducible with a seeded generator and lies in 0 to 1", "[points=1]") {
    tt::Generator g1(42), g2(42), g3(7);
    tt::Tensor a = tt::rand({50, 40}, &g1);
    tt::Tensor b = tt::rand({50, 40}, &g2);
    tt::Tensor c = tt::rand({50, 40}, &g3);
    check_fresh(a, {50, 40});
    CHECK_THAT(a, tensor_equal(b));
    const std::vector<float> va = values_of(a), vc = values_of(c);
    CHECK(va != vc);
    float low = 1.0f, high = 0.0f;
    double mean = 0.0;
    for (float v : va) {
        low = std::min(low, v);
        high = std::max(high, v);
        mean += v;
    }
    mean /= static_cast<double>(va.size());
    double variance = 0.0;
    for (float v : va) variance += (v - mean) * (v - mean);
    variance /= static_cast<double>(va.size());
    CAPTURE(low, high, mean, variance);
    CHECK(low >= 0.0f);
    CHECK(high < 1.0f);
    CHECK(std::fabs(mean - 0.5) < 0.02);
    CHECK(std::fabs(variance - 1.0 / 12.0) < 0.01);
    // Consecutive calls continue the sequence instead of repeating it.
    tt::Tensor d = tt::rand({50, 40}, &g1);
    CHECK(values_of(d) != va);
}

TEST_CASE("rand and randn draw one value per element in row-major order from the given or default generator", "[points=1]") {
    {  // rand draws one uniform per element in row-major order
        tt::Generator expected_gen(123), gen(123);
        std::vector<float> expected;
        for (int i = 0; i < 12; ++i) expected.push_back(expected_gen.uniform());
        CHECK_THAT(tt::rand({3, 4}, &gen), tensor_equal(raw(expected, {3, 4})));
    }
    {  // randn draws one normal per element in row-major order
        tt::Generator expected_gen(77), gen(77);
        std::vector<float> expected;
        for (int i = 0; i < 10; ++i) expected.push_back(expected_gen.normal());
        CHECK_THAT(tt::randn({2, 5}, &gen), tensor_equal(raw(expected, {2, 5})));
    }
    {  // rand and randn use the default generator when none is given
        tt::manual_seed(99);
        tt::Tensor a = tt::rand({6});
        tt::Tensor b = tt::randn({6});
        tt::Generator gen(99);
        std::vector<float> uniforms, normals;
        for (int i = 0; i < 6; ++i) uniforms.push_back(gen.uniform());
        for (int i = 0; i < 6; ++i) normals.push_back(gen.normal());
        CHECK_THAT(a, tensor_equal(raw(uniforms, {6})));
        CHECK_THAT(b, tensor_equal(raw(normals, {6})));
    }
}

TEST_CASE("randn is reproducible and has mean 0 and variance 1", "[points=1]") {
    tt::Generator g1(5), g2(5);
    tt::Tensor a = tt::randn({100, 200}, &g1);
    tt::Tensor b = tt::randn({100, 200}, &g2);
    check_fresh(a, {100, 200});
    CHECK_THAT(a, tensor_equal(b));
    const std::vector<float> va = values_of(a);
    double mean = 0.0;
    for (float v : va) mean += v;
    mean /= static_cast<double>(va.size());
    double variance = 0.0;
    int beyond_two_sigma = 0;
    for (float v : va) {
        variance += (v - mean) * (v - mean);
        if (std::fabs(v) > 2.0f) ++beyond_two_sigma;
    }
    variance /= static_cast<double>(va.size());
    const double fraction_beyond = static_cast<double>(beyond_two_sigma) / static_cast<double>(va.size());
    CAPTURE(mean, variance, fraction_beyond);
    CHECK(std::fabs(mean) < 0.03);
    CHECK(std::fabs(variance - 1.0) < 0.05);
    CHECK(std::fabs(fraction_beyond - 0.0455) < 0.01);  // a normal, not a uniform with variance 1
}

TEST_CASE("zeros_like ones_like and full_like copy the shape of a strided tensor", "[points=1]") {
    tt::Tensor x = strided(std::vector<float>(20, 3.0f), {3, 2}, {1, 5}, 4);  // non-contiguous (3, 2)
    tt::Tensor z = tt::zeros_like(x), o = tt::ones_like(x), f = tt::full_like(x, -1.5f);
    check_fresh(z, {3, 2});
    check_fresh(o, {3, 2});
    check_fresh(f, {3, 2});
    CHECK_FALSE(shares_storage(z, x));
    CHECK_THAT(z, tensor_equal(nested({{0, 0}, {0, 0}, {0, 0}})));
    CHECK_THAT(o, tensor_equal(nested({{1, 1}, {1, 1}, {1, 1}})));
    CHECK_THAT(f, tensor_equal(nested({{-1.5f, -1.5f}, {-1.5f, -1.5f}, {-1.5f, -1.5f}})));
    tt::Tensor leaf = raw({1, 2}, {2}).requires_grad_();
    CHECK_FALSE(tt::zeros_like(leaf).requires_grad());
}
