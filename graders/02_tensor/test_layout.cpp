// test_layout.cpp - module 02 grader: strides, contiguity, broadcasting shapes, element access.
//
// Inputs are built straight from storage (grading.h: raw, nested, strided, padded) and results are
// read straight from storage, so nothing here depends on the student's factories, at() or
// to_vector() except where those are the function under test.
#include <catch2/catch.hpp>

#include "grading.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("contiguous_strides of 1-d 2-d 3-d and 0-d shapes", "[points=1]") {
    CHECK(tt::contiguous_strides({5}) == tt::Strides{1});
    CHECK(tt::contiguous_strides({2, 3}) == tt::Strides{3, 1});
    CHECK(tt::contiguous_strides({2, 3, 4}) == tt::Strides{12, 4, 1});
    CHECK(tt::contiguous_strides({4, 1, 3}) == tt::Strides{3, 3, 1});
    CHECK(tt::contiguous_strides({2, 3, 4, 5}) == tt::Strides{60, 20, 5, 1});
    CHECK(tt::contiguous_strides({}).empty());
}

TEST_CASE("broadcast_shapes aligns on the right and stretches sizes of 1 also for 0-d and size-0 shapes", "[points=1]") {
    {  // broadcast_shapes aligns on the right and stretches sizes of 1
        CHECK(tt::broadcast_shapes({3, 1}, {1, 4}) == tt::Shape{3, 4});
        CHECK(tt::broadcast_shapes({4, 1, 3}, {2, 1}) == tt::Shape{4, 2, 3});
        CHECK(tt::broadcast_shapes({2, 1}, {4, 1, 3}) == tt::Shape{4, 2, 3});
        CHECK(tt::broadcast_shapes({2, 3, 4}, {4}) == tt::Shape{2, 3, 4});
        CHECK(tt::broadcast_shapes({5}, {2, 3, 1}) == tt::Shape{2, 3, 5});
        CHECK(tt::broadcast_shapes({2, 3}, {2, 3}) == tt::Shape{2, 3});
        CHECK(tt::broadcast_shapes({1, 1}, {1}) == tt::Shape{1, 1});
    }
    {  // broadcast_shapes with a 0-d shape and with size 0
        CHECK(tt::broadcast_shapes({}, {2, 3}) == tt::Shape{2, 3});
        CHECK(tt::broadcast_shapes({2, 3}, {}) == tt::Shape{2, 3});
        CHECK(tt::broadcast_shapes({}, {}).empty());
        CHECK(tt::broadcast_shapes({0, 3}, {1, 3}) == tt::Shape{0, 3});
        CHECK(tt::broadcast_shapes({1}, {0}) == tt::Shape{0});
    }
}

TEST_CASE("broadcast_shapes rejects mismatched sizes naming the op and both shapes", "[points=1]") {
    CHECK_THAT(error_message([] { tt::broadcast_shapes({2, 3}, {4, 3}, "add"); }),
               Contains("add") && Contains("(2, 3)") && Contains("(4, 3)"));
    CHECK_THAT(error_message([] { tt::broadcast_shapes({3}, {2, 4}, "mul"); }),
               Contains("mul") && Contains("(3)") && Contains("(2, 4)"));
    CHECK_THAT(error_message([] { tt::broadcast_shapes({2, 0}, {2, 3}, "sub"); }), Contains("sub"));
}

TEST_CASE("is_contiguous of row-major and scattered layouts ignoring strides of size-1 dims", "[points=1]") {
    {  // is_contiguous of row-major and of scattered layouts
        CHECK(raw({0, 1, 2, 3, 4, 5}, {2, 3}).is_contiguous());
        CHECK(raw({7}, {}).is_contiguous());
        // Row-major but starting at offset 2: still contiguous (offset does not matter).
        CHECK(strided({9, 9, 0, 1, 2, 3}, {2, 2}, {2, 1}, 2).is_contiguous());
        // The transpose of a (2, 3): strides (1, 3).
        CHECK_FALSE(strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3}).is_contiguous());
        // Every other column of a (2, 6): strides (6, 2).
        CHECK_FALSE(strided(std::vector<float>(12, 0.0f), {2, 3}, {6, 2}).is_contiguous());
        // Rows with a gap between them: strides (4, 1) for rows of 3.
        CHECK_FALSE(strided(std::vector<float>(8, 0.0f), {2, 3}, {4, 1}).is_contiguous());
        // An expanded (broadcast) tensor: stride 0.
        CHECK_FALSE(strided({1, 2, 3}, {4, 3}, {0, 1}).is_contiguous());
        CHECK_FALSE(padded(iota({2, 3, 4})).is_contiguous());
    }
    {  // is_contiguous ignores the strides of size-1 dimensions
        CHECK(strided({0, 1, 2}, {1, 3}, {100, 1}).is_contiguous());
        CHECK(strided({0, 1, 2}, {3, 1}, {1, 7}).is_contiguous());
        CHECK(strided({0, 1, 2, 3, 4, 5}, {2, 1, 3}, {3, 0, 1}).is_contiguous());
        CHECK(strided({5}, {1, 1}, {42, 13}).is_contiguous());
    }
}

TEST_CASE("at reads through strides and offset with negative indices", "[points=1]") {
    // logical (3, 2) = transpose of [[0, 1, 2], [3, 4, 5]] stored from offset 1.
    tt::Tensor x = strided({-1, 0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3}, 1);
    INFO("x = " << describe_tensor(x));
    CHECK(x.at({0, 0}) == 0.0f);
    CHECK(x.at({0, 1}) == 3.0f);
    CHECK(x.at({2, 0}) == 2.0f);
    CHECK(x.at({2, 1}) == 5.0f);
    CHECK(x.at({-1, -1}) == 5.0f);
    CHECK(x.at({-3, 1}) == 3.0f);
    CHECK(x.at({1, -2}) == 1.0f);
    tt::Tensor y = padded(iota({2, 3, 4}));
    CHECK(y.at({1, 2, 3}) == 23.0f);
    CHECK(y.at({-1, 0, -4}) == 12.0f);
    CHECK(raw_scalar(3.5f).at({}) == 3.5f);
}

TEST_CASE("set writes exactly one storage element through strides and offset", "[points=1]") {
    tt::Tensor x = strided({-1, 0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3}, 1);
    x.set({2, 0}, 20.0f);
    x.set({-1, -1}, 50.0f);
    x.set({0, -1}, 30.0f);
    INFO("x = " << describe_tensor(x));
    CHECK(x.storage()->data == std::vector<float>{-1, 0, 1, 20, 30, 4, 50});
    tt::Tensor s = raw_scalar(1.0f);
    s.set({}, 2.0f);
    CHECK(element(s, {}) == 2.0f);
}

TEST_CASE("at and set reject out-of-range indices and wrong index lengths", "[points=1]") {
    tt::Tensor x = iota({2, 3});
    CHECK_THAT(error_message([&] { (void)x.at({2, 0}); }), Contains("at"));
    CHECK_THAT(error_message([&] { (void)x.at({0, -4}); }), Contains("at"));
    CHECK_THAT(error_message([&] { (void)x.at({0}); }), Contains("at"));
    CHECK_THAT(error_message([&] { (void)x.at({0, 0, 0}); }), Contains("at"));
    CHECK_THAT(error_message([&] { x.set({0, 3}, 1.0f); }), Contains("set"));
    CHECK_THAT(error_message([&] { x.set({-3, 0}, 1.0f); }), Contains("set"));
    CHECK(x.storage()->data == std::vector<float>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("item of one-element tensors of any layout and the error for several elements", "[points=1]") {
    {  // item of one-element tensors with any layout
        CHECK(raw_scalar(4.5f).item() == 4.5f);
        CHECK(raw({-2.0f}, {1, 1, 1}).item() == -2.0f);
        CHECK(strided({0, 0, 7, 0}, {1}, {1}, 2).item() == 7.0f);
        CHECK(strided({0, 9}, {}, {}, 1).item() == 9.0f);
    }
    {  // item of a tensor with several elements is an error naming item and the shape
        CHECK_THAT(error_message([] { (void)iota({2, 3}).item(); }), Contains("item") && Contains("(2, 3)"));
        CHECK_THAT(error_message([] { (void)raw({}, {0}).item(); }), Contains("item"));
    }
}

TEST_CASE("to_vector gives row-major order for strided 0-d and empty tensors", "[points=2]") {
    {  // to_vector gives row-major order for contiguous and strided tensors
        CHECK(raw({0, 1, 2, 3, 4, 5}, {2, 3}).to_vector() == std::vector<float>{0, 1, 2, 3, 4, 5});
        // transpose of [[0, 1, 2], [3, 4, 5]]
        CHECK(strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3}).to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
        // contiguous block that starts at an offset
        CHECK(strided({9, 9, 1, 2, 3}, {3}, {1}, 2).to_vector() == std::vector<float>{1, 2, 3});
        std::vector<float> expected(24);
        for (int i = 0; i < 24; ++i) expected[i] = static_cast<float>(i);
        CHECK(padded(iota({2, 3, 4})).to_vector() == expected);
        CHECK(column_major(iota({2, 3, 4})).to_vector() == expected);
        // expanded: a row re-read three times
        CHECK(strided({1, 2}, {3, 2}, {0, 1}).to_vector() == std::vector<float>{1, 2, 1, 2, 1, 2});
    }
    {  // to_vector of a 0-d tensor and of an empty tensor
        CHECK(strided({0, 0, 6}, {}, {}, 2).to_vector() == std::vector<float>{6});
        CHECK(raw({}, {0, 3}).to_vector().empty());
        CHECK(strided({1, 2, 3}, {2, 0}, {1, 1}).to_vector().empty());
    }
}
