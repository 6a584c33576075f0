// test_tensor_layout.cpp - module 02: strides, broadcasting shapes, element access, factories
// (engine/src/02_tensor/tensor.cpp). Expected values come from grading.h's raw-storage helpers,
// never from the code under test.
#include <catch2/catch.hpp>

#include <cmath>

#include "grading.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

TEST_CASE("tensor: contiguous_strides are row-major", "[02][tensor][layout]") {
    CHECK(tt::contiguous_strides({2, 3, 4}) == tt::Strides{12, 4, 1});
    CHECK(tt::contiguous_strides({5}) == tt::Strides{1});
    CHECK(tt::contiguous_strides({}) == tt::Strides{});
    CHECK(tt::contiguous_strides({3, 1, 2}) == tt::Strides{2, 2, 1});
    // A size of 0 counts as 1, as in PyTorch (torch.zeros(2, 0, 3).stride() == (3, 3, 1)): a stride
    // of 0 would make the tensor look expanded, and in-place writes into it would be refused.
    CHECK(tt::contiguous_strides({2, 0, 3}) == tt::Strides{3, 3, 1});
    CHECK(tt::contiguous_strides({2, 0}) == tt::Strides{1, 1});
    CHECK(tt::contiguous_strides({0, 3}) == tt::Strides{3, 1});
    CHECK(tt::contiguous_strides({0}) == tt::Strides{1});
    CHECK(tt::zeros({2, 0}).strides() == tt::Strides{1, 1});
}

TEST_CASE("tensor: broadcast_shapes aligns on the right", "[02][tensor][layout][broadcast]") {
    CHECK(tt::broadcast_shapes({4, 1, 3}, {2, 1}) == tt::Shape{4, 2, 3});
    CHECK(tt::broadcast_shapes({3, 1}, {1, 4}) == tt::Shape{3, 4});
    CHECK(tt::broadcast_shapes({}, {2, 3}) == tt::Shape{2, 3});   // 0-d with n-d
    CHECK(tt::broadcast_shapes({2, 3}, {}) == tt::Shape{2, 3});
    CHECK(tt::broadcast_shapes({}, {}) == tt::Shape{});
    CHECK(tt::broadcast_shapes({1}, {0}) == tt::Shape{0});        // size 1 stretches to 0 too
    CHECK(tt::broadcast_shapes({5, 1, 1}, {1, 1}) == tt::Shape{5, 1, 1});

    SECTION("a mismatch names the op and both shapes") {
        CHECK_THAT(error_message([] { tt::broadcast_shapes({2, 3}, {4, 3}, "add"); }),
                   Contains("add") && Contains("(2, 3)") && Contains("(4, 3)"));
        CHECK_THAT(error_message([] { tt::broadcast_shapes({3}, {2, 4}); }), Contains("(3)") && Contains("(2, 4)"));
    }
}

TEST_CASE("tensor: is_contiguous ignores strides of size-1 dims", "[02][tensor][layout]") {
    CHECK(raw({1, 2, 3, 4, 5, 6}, {2, 3}).is_contiguous());
    CHECK_FALSE(strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3}).is_contiguous());  // a transpose
    CHECK(strided({0, 1, 2}, {3, 1}, {1, 7}).is_contiguous());                 // size-1 dim, odd stride
    CHECK(strided({0, 1, 2}, {1, 3}, {42, 1}).is_contiguous());
    CHECK_FALSE(strided({0, 1, 2, 3, 4, 5}, {3}, {2}).is_contiguous());        // every other element
    CHECK(strided({0, 1, 2, 3}, {2}, {1}, 2).is_contiguous());                 // an offset is fine
    CHECK_FALSE(strided({7}, {3}, {0}).is_contiguous());                       // expanded
    CHECK(raw_scalar(3).is_contiguous());
}

TEST_CASE("tensor: item, at and set", "[02][tensor][layout]") {
    CHECK(raw_scalar(2.5f).item() == 2.5f);
    CHECK(raw({7}, {1, 1}).item() == 7.0f);
    CHECK(strided({9, 8, 7}, {}, {}, 2).item() == 7.0f);  // 0-d with an offset

    const tt::Tensor t = strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3});  // [[0, 3], [1, 4], [2, 5]]
    CHECK(t.at({0, 1}) == 3.0f);
    CHECK(t.at({2, 0}) == 2.0f);
    CHECK(t.at({-1, -1}) == 5.0f);  // negative indices count from the end
    CHECK(t.at({-3, 1}) == 3.0f);

    tt::Tensor u = t;  // a handle to the same memory
    u.set({1, 1}, 40.0f);
    CHECK(t.at({1, 1}) == 40.0f);
    CHECK(t.storage()->data[4] == 40.0f);  // written through the strides
    u.set({-1, 0}, -2.0f);
    CHECK(t.storage()->data[2] == -2.0f);

    SECTION("errors name the op and the shape") {
        CHECK_THAT(error_message([&] { t.item(); }), Contains("item") && Contains("(3, 2)"));
        CHECK_THAT(error_message([&] { t.at({3, 0}); }), Contains("at") && Contains("(3, 2)"));
        CHECK_THAT(error_message([&] { t.at({0, -3}); }), Contains("at") && Contains("(3, 2)"));
        CHECK_THAT(error_message([&] { t.at({0}); }), Contains("at") && Contains("(3, 2)"));
        CHECK_THAT(error_message([&] { u.set({0, 2}, 1.0f); }), Contains("set") && Contains("(3, 2)"));
    }
}

TEST_CASE("tensor: to_vector reads row-major whatever the layout", "[02][tensor][layout]") {
    CHECK(raw({1, 2, 3, 4}, {2, 2}).to_vector() == std::vector<float>{1, 2, 3, 4});
    CHECK(strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3}).to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
    CHECK(strided({5}, {2, 3}, {0, 0}).to_vector() == std::vector<float>(6, 5.0f));  // expanded
    CHECK(raw_scalar(4).to_vector() == std::vector<float>{4});
    CHECK(raw({}, {0, 3}).to_vector().empty());
    const tt::Tensor x = iota({2, 3, 4});
    CHECK(padded(x).to_vector() == values_of(x));
    CHECK(column_major(x).to_vector() == values_of(x));
}

TEST_CASE("tensor: factories", "[02][tensor][factories]") {
    const tt::Tensor z = tt::zeros({2, 3});
    CHECK(z.shape() == tt::Shape{2, 3});
    CHECK(z.strides() == tt::Strides{3, 1});
    CHECK(z.offset() == 0);
    CHECK_FALSE(z.requires_grad());
    CHECK_THAT(z, tensor_equal(raw(std::vector<float>(6, 0.0f), {2, 3})));
    CHECK_THAT(tt::ones({3}), tensor_equal(nested({1, 1, 1})));
    CHECK_THAT(tt::full({2, 2}, -1.5f), tensor_equal(nested({{-1.5f, -1.5f}, {-1.5f, -1.5f}})));
    CHECK(tt::empty({4, 0}).numel() == 0);
    CHECK(tt::empty({4, 5}).storage()->data.size() == 20u);

    const tt::Tensor s = tt::scalar(3.0f);
    CHECK(s.dim() == 0);
    CHECK(s.numel() == 1);
    CHECK(s.item() == 3.0f);

    CHECK_THAT(tt::from_vector({1, 2, 3, 4, 5, 6}, {3, 2}), tensor_equal(nested({{1, 2}, {3, 4}, {5, 6}})));
    CHECK_THAT(tt::tensor({1, 2, 3}), tensor_equal(nested({1, 2, 3})));
    CHECK_THAT(tt::tensor({{1, 2, 3}, {4, 5, 6}}), tensor_equal(nested({{1, 2, 3}, {4, 5, 6}})));

    const tt::Tensor x = raw({1, 2, 3, 4, 5, 6}, {2, 3}).t();  // *_like take the shape, not the layout
    CHECK_THAT(tt::zeros_like(x), tensor_equal(raw(std::vector<float>(6, 0.0f), {3, 2})));
    CHECK_THAT(tt::ones_like(x), tensor_equal(raw(std::vector<float>(6, 1.0f), {3, 2})));
    CHECK_THAT(tt::full_like(x, 7.0f), tensor_equal(raw(std::vector<float>(6, 7.0f), {3, 2})));
    CHECK(tt::ones_like(x).is_contiguous());

    SECTION("errors") {
        CHECK_THAT(error_message([] { tt::from_vector({1, 2, 3}, {2, 2}); }), Contains("from_vector") && Contains("(2, 2)"));
        CHECK_THAT(error_message([] { tt::empty({2, -1}); }), Contains("empty") && Contains("(2, -1)"));
        CHECK_THAT(error_message([] { tt::tensor({{1, 2}, {3}}); }), Contains("tensor") && Contains("row 1"));
    }
}

TEST_CASE("tensor: arange", "[02][tensor][factories]") {
    CHECK_THAT(tt::arange(4), tensor_equal(nested({0, 1, 2, 3})));
    CHECK_THAT(tt::arange(2, 5), tensor_equal(nested({2, 3, 4})));
    CHECK_THAT(tt::arange(1, 2, 0.25f), tensor_equal(nested({1, 1.25f, 1.5f, 1.75f})));
    CHECK_THAT(tt::arange(5, 0, -2), tensor_equal(nested({5, 3, 1})));
    CHECK(tt::arange(0).numel() == 0);
    CHECK(tt::arange(0, 1, 0.1f).numel() == 10);
    // start + i * step, not repeated addition: the last of 1000 steps of 0.1 is still accurate.
    CHECK(tt::arange(0, 100, 0.1f).at({-1}) == Approx(99.9f).epsilon(1e-6));
    // The count is ceil((end - start) / step) in double, as torch.arange: 3 values for (0, 0.3, 0.1),
    // 10 for (0, 1, 0.1) (a running double total 0.1 + 0.1 + ... stays below 1 after 10 steps: 11).
    CHECK_THAT(tt::arange(0, 0.3, 0.1), tensor_equal(nested({0, 0.1f, 0.2f})));
    CHECK(tt::arange(0.0f, 0.3f, 0.1f).numel() == 4);  // float arguments: 0.3f / 0.1f > 3, as torch on float32
    CHECK(tt::arange(0, 1, 0.1).numel() == 10);
    CHECK(tt::arange(1, 0, -0.1).numel() == 10);
    CHECK(tt::arange(-1, 1, 0.5).numel() == 4);
    {  // value i is start + i * step, rounded once: exact to the float nearest, over 30000 values
        const tt::Tensor a = tt::arange(-1000, 2000, 0.1);
        REQUIRE(a.numel() == 30000);
        std::vector<float> expected(30000);
        for (int i = 0; i < 30000; ++i) expected[i] = static_cast<float>(-1000.0 + i * 0.1);
        CHECK_THAT(a, tensor_equal(raw(expected, {30000})));
    }
    CHECK_THAT(error_message([] { tt::arange(0, 1, 0); }), Contains("arange") && Contains("step"));
    CHECK_THAT(error_message([] { tt::arange(5, 0, 1); }), Contains("arange"));
}

TEST_CASE("tensor: rand and randn follow the generator", "[02][tensor][factories][random]") {
    tt::Generator g1(42), g2(42);
    const tt::Tensor a = tt::rand({3, 4}, &g1);
    std::vector<float> expected;
    for (int i = 0; i < 12; ++i) expected.push_back(g2.uniform());
    CHECK(a.to_vector() == expected);  // one draw per element, row-major
    for (float v : a.to_vector()) CHECK((v >= 0.0f && v < 1.0f));

    tt::Generator g3(7), g4(7);
    const tt::Tensor n = tt::randn({5}, &g3);
    for (int i = 0; i < 5; ++i) CHECK(n.at({i}) == g4.normal());

    tt::manual_seed(3);
    const tt::Tensor d1 = tt::randn({4});
    tt::manual_seed(3);
    const tt::Tensor d2 = tt::randn({4});
    CHECK(d1.to_vector() == d2.to_vector());  // the default generator when none is passed

    tt::Generator big(0);
    const std::vector<float> values = tt::randn({4000}, &big).to_vector();
    double mean = 0, square = 0;
    for (float v : values) {
        mean += v;
        square += v * v;
    }
    mean /= values.size();
    CHECK(std::fabs(mean) < 0.1);
    CHECK(square / values.size() == Approx(1.0).epsilon(0.1));
}
