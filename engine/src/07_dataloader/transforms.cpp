// transforms.cpp - module 07: changing each image as its batch is made.
//
// A transform works on one image (C, H, W) of float pixels in place, through an ImageView:
//
//     pixel (c, y, x) = data[(c * H + y) * W + x]        channel planes, each H rows of W pixels
//
// Two kinds:
//   - Normalize is fixed arithmetic: the same image always gives the same result. It centres each
//     channel near 0 with a spread near 1, the range the initialisers of module 04 assume.
//   - RandomHorizontalFlip and RandomCrop are *data augmentation*: every epoch shows the network a
//     slightly different version of each training image (mirrored, shifted by a few pixels), so it
//     cannot memorise the exact pixels and must learn what does not change - a cat is a cat facing
//     left or right. On CIFAR-10 these two are worth several points of test accuracy. They draw
//     from their own Generator, in a fixed order, so a seed reproduces a run.
//
// All three are one pass over an image that fits in the L1/L2 cache (a CIFAR image is 12 KB of
// floats): they cost microseconds per batch.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tinytorch/data.h"

namespace tt::data {

// ---------------------------------------------------------------------------------------------
// Normalize: (x - mean[c]) / std[c]
// ---------------------------------------------------------------------------------------------

Normalize::Normalize(std::vector<float> means, std::vector<float> stds) : mean(std::move(means)), std(std::move(stds)) {
    //! BEGIN SOLUTION
    //! HINT: mean and std need the same, non-zero number of values; every std must be > 0 (a std of 0 divides by zero; !(s > 0) also catches NaN).
    //! HINT: name Normalize and the values in the message, e.g. "Normalize: std[1] = 0; every std must be > 0".
    TT_CHECK(!mean.empty() && mean.size() == std.size(), "Normalize: ", mean.size(), " means and ", std.size(),
             " stds; give one mean and one std per channel");
    for (size_t c = 0; c < std.size(); ++c)
        TT_CHECK(std[c] > 0.0f && std::isfinite(std[c]), "Normalize: std[", c, "] = ", std[c], "; every std must be > 0");
    //! END SOLUTION
}

// Channel c is the contiguous block data[c * H * W, (c + 1) * H * W): one tight loop per channel
// with the channel's mean and std held in registers.
void Normalize::apply(const ImageView& image) {
    //! BEGIN SOLUTION
    //! HINT: first check that the image has mean.size() channels (a tt::Error naming Normalize, both counts and the image's (C, H, W)).
    //! HINT: then, for each channel c, every pixel of plane c: (x - mean[c]) / std[c]. Each channel has its own mean and std.
    TT_CHECK(image.channels == static_cast<int64_t>(mean.size()), "Normalize: ", mean.size(), " means and stds for an image of (",
             image.channels, ", ", image.height, ", ", image.width, "), which has ", image.channels,
             " channels; give one mean and one std per channel");
    const int64_t plane = image.height * image.width;
    for (int64_t c = 0; c < image.channels; ++c) {
        const float channel_mean = mean[static_cast<size_t>(c)], channel_std = std[static_cast<size_t>(c)];
        float* pixels = image.data + c * plane;
        for (int64_t i = 0; i < plane; ++i) pixels[i] = (pixels[i] - channel_mean) / channel_std;
    }
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// RandomHorizontalFlip: mirror left to right with probability p
// ---------------------------------------------------------------------------------------------

RandomHorizontalFlip::RandomHorizontalFlip(float p, uint64_t seed) : p(p), gen(seed) {
    //! BEGIN SOLUTION
    //! HINT: p is a probability: refuse anything outside [0, 1] (NaN included) with a tt::Error naming RandomHorizontalFlip and p.
    TT_CHECK(p >= 0.0f && p <= 1.0f, "RandomHorizontalFlip: p = ", p, " is not a probability; use a value in [0, 1]");
    //! END SOLUTION
}

// Mirroring reverses each row: x -> W - 1 - x. Rows stay where they are (that would be a vertical
// flip: an upside-down cat is not a training example the test set will ever show).
void RandomHorizontalFlip::apply(const ImageView& image) {
    //! BEGIN SOLUTION
    //! HINT: exactly one gen.uniform() per image, whatever p is; flip when it is < p (so p = 0 never flips and p = 1 always does).
    //! HINT: to flip, reverse every row of every channel: std::reverse(row, row + W) with row = &image.at(c, y, 0).
    if (gen.uniform() >= p) return;
    for (int64_t c = 0; c < image.channels; ++c)
        for (int64_t y = 0; y < image.height; ++y) {
            float* row = &image.at(c, y, 0);
            std::reverse(row, row + image.width);
        }
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// RandomCrop: pad with zeros, cut a random window of the original size back out
// ---------------------------------------------------------------------------------------------

RandomCrop::RandomCrop(int64_t padding, uint64_t seed) : padding(padding), gen(seed) {
    //! BEGIN SOLUTION
    TT_CHECK(padding >= 0, "RandomCrop: padding = ", padding, " is negative; use 0 or more pixels");
    //! END SOLUTION
}

// With padding P the padded image is (H + 2P, W + 2P) and the window starts at (top, left), each
// in 0..2P. Output pixel (y, x) is padded pixel (y + top, x + left), which is original pixel
// (y + top - P, x + left - P) - or a padding zero when that falls outside the image. So the whole
// image shifts by (top - P, left - P): up to P pixels in every direction, with top = left = P the
// untouched image. The padded image is never built: each output row copies the part of one
// original row that is still in view and fills the rest with zeros.
void RandomCrop::apply(const ImageView& image) {
    //! BEGIN SOLUTION
    //! HINT: draw top = gen.randint(2 * padding + 1) first, then left the same way: always both draws, in that order, even when padding is 0.
    //! HINT: the output overlaps the input (it is the same memory), so copy the image first (a std::vector<float>) and read from the copy.
    //! HINT: output (c, y, x) = original (c, y + top - padding, x + left - padding) when both are inside 0..H-1 and 0..W-1, else 0.
    const auto range = static_cast<uint64_t>(2 * padding + 1);
    const auto top = static_cast<int64_t>(gen.randint(range));
    const auto left = static_cast<int64_t>(gen.randint(range));
    const int64_t shift_y = top - padding, shift_x = left - padding;  // output (y, x) <- original (y + shift_y, x + shift_x)
    if (shift_y == 0 && shift_x == 0) return;

    const int64_t height = image.height, width = image.width;
    const std::vector<float> original(image.data, image.data + image.channels * height * width);
    // The columns x whose source column x + shift_x is inside the image (empty when |shift_x| >= W).
    const int64_t first_x = std::max<int64_t>(0, -shift_x), end_x = std::min<int64_t>(width, width - shift_x);
    for (int64_t c = 0; c < image.channels; ++c)
        for (int64_t y = 0; y < height; ++y) {
            float* out = &image.at(c, y, 0);
            std::fill(out, out + width, 0.0f);
            const int64_t source_y = y + shift_y;
            if (source_y < 0 || source_y >= height) continue;  // a row of padding
            const float* in = original.data() + (c * height + source_y) * width;
            for (int64_t x = first_x; x < end_x; ++x) out[x] = in[x + shift_x];
        }
    //! END SOLUTION
}

}  // namespace tt::data
