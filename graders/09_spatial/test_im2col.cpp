// test_im2col.cpp - module 09 grader: im2col and col2im on plain buffers (conv.cpp).
//     im2col: image (C, H, W) -> columns (C*k*k, H'*W'), row (c*k + i)*k + j, column y*W' + x
//     col2im: the adjoint - every entry ADDED back onto the pixel it came from, padding dropped
// Buffers start full of a junk value, so an entry im2col forgets to write (a padding position
// left as it was) shows up, and col2im's image starts non-zero, so overwriting instead of adding
// shows up.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "grading.h"
#include "spatial_reference.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
namespace ref = spatial_reference;

namespace {

// The columns im2col writes for `image` (C, H, W), as an (R, P) tensor; the buffer starts at 7.
tt::Tensor columns_of(const tt::Tensor& image, int64_t k, int64_t s, int64_t p) {
    const tt::Conv2dGeometry g{image.shape()[0], image.shape()[1], image.shape()[2], k, s, p};
    const int64_t rows = g.channels * k * k, cols = g.out_height() * g.out_width();
    std::vector<float> columns(static_cast<size_t>(rows * cols), 7.0f);
    const std::vector<float> pixels = values_of(image);
    tt::im2col(pixels.data(), g, columns.data());
    return raw(columns, {rows, cols});
}

// col2im of `columns` (R, P) into an image (C, H, W) that starts at `start`.
tt::Tensor image_of(const tt::Tensor& columns, const tt::Shape& image_shape, int64_t k, int64_t s, int64_t p, float start) {
    const tt::Conv2dGeometry g{image_shape[0], image_shape[1], image_shape[2], k, s, p};
    std::vector<float> image(static_cast<size_t>(count_of(image_shape)), start);
    const std::vector<float> values = values_of(columns);
    tt::col2im(values.data(), g, image.data());
    return raw(image, image_shape);
}

struct Geometry {
    tt::Shape image;
    int64_t k, s, p;
};

std::string describe(const Geometry& c) {
    return "image " + shape_text(c.image) + ", k " + std::to_string(c.k) + ", s " + std::to_string(c.s) + ", p " + std::to_string(c.p);
}

}  // namespace

TEST_CASE("im2col copies each 2x2 window of a 3x3 image into a column", "[points=2]") {
    const tt::Tensor image = nested({{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}});  // (1, 3, 3)
    // row = kernel tap (i, j), column = output position (y, x): entry image[y + i, x + j]
    CHECK_THAT(columns_of(image, 2, 1, 0), tensor_equal(nested({{1, 2, 4, 5}, {2, 3, 5, 6}, {4, 5, 7, 8}, {5, 6, 8, 9}})));
    // a 3x4 image: the column index is y * W' + x, with W' = 3
    const tt::Tensor wide = nested({{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}});
    CHECK_THAT(columns_of(wide, 2, 1, 0), tensor_equal(nested({{1, 2, 3, 5, 6, 7},
                                                                {2, 3, 4, 6, 7, 8},
                                                                {5, 6, 7, 9, 10, 11},
                                                                {6, 7, 8, 10, 11, 12}})));
}

TEST_CASE("im2col orders its rows by channel then kernel row then kernel column", "[points=2]") {
    // Two channels: rows 0-3 are channel 0's taps (0,0) (0,1) (1,0) (1,1), rows 4-7 channel 1's.
    const tt::Tensor image = nested({{{1, 2}, {3, 4}}, {{10, 20}, {30, 40}}});  // (2, 2, 2), k 2: one window
    CHECK_THAT(columns_of(image, 2, 1, 0), tensor_equal(nested({{1}, {2}, {3}, {4}, {10}, {20}, {30}, {40}})));
    const tt::Tensor bigger = random_values({3, 4, 5}, 1);
    CHECK_THAT(columns_of(bigger, 3, 1, 0), tensor_equal(ref::im2col(bigger, 3, 1, 0)));
}

TEST_CASE("im2col writes zeros where a window covers the padding", "[points=2]") {
    const tt::Tensor image = nested({{{1, 2}, {3, 4}}});  // k 2, s 1, p 1: 3x3 outputs
    CHECK_THAT(columns_of(image, 2, 1, 1), tensor_equal(nested({{0, 0, 0, 0, 1, 2, 0, 3, 4},
                                                                {0, 0, 0, 1, 2, 0, 3, 4, 0},
                                                                {0, 1, 2, 0, 3, 4, 0, 0, 0},
                                                                {1, 2, 0, 3, 4, 0, 0, 0, 0}})));
    // padding 2 with a 3x3 kernel: some windows are all padding but one pixel
    const tt::Tensor other = random_values({2, 3, 4}, 2, 1.0f, 2.0f);
    CHECK_THAT(columns_of(other, 3, 1, 2), tensor_equal(ref::im2col(other, 3, 1, 2)));
}

TEST_CASE("im2col with a stride moves the window s pixels at a time", "[points=1]") {
    const tt::Tensor image = nested({{{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, {11, 12, 13, 14, 15}, {16, 17, 18, 19, 20}}});  // (1, 4, 5)
    // k 2, s 2: windows at columns 0 and 2 (the one at 4 would stick out), rows 0 and 2
    CHECK_THAT(columns_of(image, 2, 2, 0), tensor_equal(nested({{1, 3, 11, 13}, {2, 4, 12, 14}, {6, 8, 16, 18}, {7, 9, 17, 19}})));
    // k 1, s 3: every third pixel in each direction
    CHECK_THAT(columns_of(image, 1, 3, 0), tensor_equal(nested({{1, 4, 16, 19}})));
}

TEST_CASE("im2col matches its definition for non-square images strides and padding", "[points=2]") {
    uint64_t seed = 10;
    for (const Geometry& c : std::vector<Geometry>{{{2, 5, 4}, 3, 1, 1}, {{3, 7, 6}, 3, 2, 0}, {{1, 6, 9}, 2, 3, 1}, {{2, 4, 7}, 1, 1, 0},
                                                   {{1, 3, 3}, 5, 1, 2}, {{2, 8, 5}, 4, 3, 2}, {{2, 9, 4}, 3, 2, 1}}) {
        INFO(describe(c));
        const tt::Tensor image = random_values(c.image, ++seed, 1.0f, 2.0f);  // never 0: a missing copy is visible
        CHECK_THAT(columns_of(image, c.k, c.s, c.p), tensor_equal(ref::im2col(image, c.k, c.s, c.p)));
    }
}

TEST_CASE("col2im adds each column entry back onto its pixel", "[points=2]") {
    // 3x3 image, k 2, s 1: the centre pixel lies in all four windows, an edge in two, a corner in one
    const tt::Tensor ones = raw(std::vector<float>(16, 1.0f), {4, 4});
    CHECK_THAT(image_of(ones, {1, 3, 3}, 2, 1, 0, 0.0f), tensor_equal(nested({{{1, 2, 1}, {2, 4, 2}, {1, 2, 1}}})));
    // each entry to its own pixel: row (i, j), column (y, x) -> pixel (y + i, x + j)
    const tt::Tensor columns = nested({{1, 2, 3, 4}, {10, 20, 30, 40}, {100, 200, 300, 400}, {1000, 2000, 3000, 4000}});
    CHECK_THAT(image_of(columns, {1, 3, 3}, 2, 1, 0, 0.0f),
               tensor_equal(nested({{{1, 12, 20}, {103, 1234, 2040}, {300, 3400, 4000}}})));
}

TEST_CASE("col2im adds into the image instead of overwriting it", "[points=1]") {
    const tt::Tensor ones = raw(std::vector<float>(16, 1.0f), {4, 4});
    CHECK_THAT(image_of(ones, {1, 3, 3}, 2, 1, 0, 100.0f), tensor_equal(nested({{{101, 102, 101}, {102, 104, 102}, {101, 102, 101}}})));
}

TEST_CASE("col2im is the adjoint of im2col for padding and strides", "[points=2]") {
    // <im2col(a), b> == <a, col2im(b)> for every image a and columns b: entries from the padding are
    // dropped, and pixels skipped by the stride get nothing.
    uint64_t seed = 20;
    for (const Geometry& c : std::vector<Geometry>{{{2, 5, 4}, 3, 1, 1}, {{3, 7, 6}, 3, 2, 0}, {{1, 6, 9}, 2, 3, 1},
                                                   {{2, 8, 5}, 4, 3, 2}, {{1, 4, 4}, 3, 1, 1}}) {
        INFO(describe(c));
        const tt::Conv2dGeometry g{c.image[0], c.image[1], c.image[2], c.k, c.s, c.p};
        const int64_t rows = g.channels * c.k * c.k, cols = g.out_height() * g.out_width();
        const tt::Tensor columns = random_values({rows, cols}, ++seed);
        // col2im(b) computed from the definition: pixel (c, iy, ix) gets every entry copied from it
        const tt::Tensor probe_columns = ref::im2col(iota(c.image, 1.0f), c.k, c.s, c.p);  // which pixel (1-based) each entry came from
        const std::vector<float> from = values_of(probe_columns), b = values_of(columns);
        std::vector<float> expected(static_cast<size_t>(count_of(c.image)), 0.5f);
        for (size_t e = 0; e < from.size(); ++e)
            if (from[e] > 0) expected[static_cast<size_t>(from[e]) - 1] += b[e];
        CHECK_THAT(image_of(columns, c.image, c.k, c.s, c.p, 0.5f), tensor_near(raw(expected, c.image), 1e-5, 1e-5));
    }
}
