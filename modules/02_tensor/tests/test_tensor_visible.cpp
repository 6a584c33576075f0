// test_tensor_visible.cpp - visible tests of module 02 (tensor).
//
// `tito test 02` runs these and the hidden tests; hidden tests look like these, with more cases
// (other shapes, negative dims, non-contiguous inputs, errors). A failure shows the test's name,
// the expected and actual tensors and the INFO lines.
//
// The helpers come from the grader's grading.h. They never call your code to get an expected value:
//     nested({{1, 2}, {3, 4}})       a (2, 2) tensor built directly from tt::Storage
//     strided(storage, shape, strides, offset)   any layout you like, e.g. a transpose
//     tensor_equal(t) / tensor_near(t, atol, rtol)   compare shape and every value, read through
//                                    the result's own strides and offset (not your to_vector)
//     error_message([&] { ... })     the message of the tt::Error the code throws
#include <catch2/catch.hpp>

#include "grading.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("zeros has the requested shape and row-major strides", "[visible][points=2]") {
    tt::Tensor z = tt::zeros({2, 3, 4});
    CHECK(z.shape() == tt::Shape{2, 3, 4});
    CHECK(z.strides() == tt::Strides{12, 4, 1});  // one step along dim 0 skips a whole (3, 4) block
    CHECK(z.offset() == 0);
    CHECK(z.is_contiguous());
    CHECK_THAT(z, tensor_equal(raw(std::vector<float>(24, 0.0f), {2, 3, 4})));
}

TEST_CASE("at reads element i j of a transposed layout", "[visible][points=1]") {
    // Storage [0 1 2 3 4 5] read with shape (3, 2) and strides (1, 3): the transpose of
    // [[0, 1, 2], [3, 4, 5]], so element [i, j] is storage[i * 1 + j * 3].
    tt::Tensor t = strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3});
    CHECK(t.at({0, 1}) == 3.0f);
    CHECK(t.at({2, 0}) == 2.0f);
    CHECK(t.at({-1, -1}) == 5.0f);  // negative indices count from the end
}

TEST_CASE("transpose is a view that shares storage", "[visible][points=2]") {
    tt::Tensor x = nested({{1, 2, 3}, {4, 5, 6}});
    tt::Tensor t = x.transpose(0, 1);
    CHECK(t.shape() == tt::Shape{3, 2});
    CHECK(t.strides() == tt::Strides{1, 3});
    CHECK(t.storage() == x.storage());  // no copy
    CHECK_THAT(t, tensor_equal(nested({{1, 4}, {2, 5}, {3, 6}})));
    t.set({0, 1}, 40.0f);  // writing through the view changes x
    CHECK_THAT(x, tensor_equal(nested({{1, 2, 3}, {40, 5, 6}})));
}

TEST_CASE("add broadcasts a 3x1 column with a 1x3 row", "[visible][points=2]") {
    tt::Tensor column = nested({{1}, {2}, {3}});   // (3, 1)
    tt::Tensor row = nested({{10, 20, 30}});       // (1, 3)
    CHECK_THAT(tt::add(column, row), tensor_equal(nested({{11, 21, 31}, {12, 22, 32}, {13, 23, 33}})));
}

TEST_CASE("sum over a dimension with and without keepdim", "[visible][points=2]") {
    tt::Tensor x = nested({{1, 2, 3}, {4, 5, 6}});
    CHECK_THAT(tt::sum(x, 0), tensor_equal(nested({5, 7, 9})));             // (3,)
    CHECK_THAT(tt::sum(x, 1, true), tensor_equal(nested({{6}, {15}})));     // (2, 1)
    CHECK_THAT(tt::sum(x), tensor_equal(raw_scalar(21.0f)));                 // () a 0-d tensor
}

TEST_CASE("matmul of a 2x3 and a 3x2 matrix", "[visible][points=2]") {
    tt::Tensor a = nested({{1, 2, 3}, {4, 5, 6}});
    tt::Tensor b = nested({{7, 8}, {9, 10}, {11, 12}});
    // [1*7 + 2*9 + 3*11, 1*8 + 2*10 + 3*12] = [58, 64], and [139, 154] for the second row
    CHECK_THAT(tt::matmul(a, b), tensor_equal(nested({{58, 64}, {139, 154}})));
}

TEST_CASE("matmul reports mismatched inner dimensions", "[visible][points=1]") {
    tt::Tensor a = tt::zeros({2, 3});
    tt::Tensor b = tt::zeros({4, 5});
    CHECK_THAT(error_message([&] { tt::matmul(a, b); }), Contains("matmul") && Contains("(2, 3)") && Contains("(4, 5)"));
}
