// test_transforms.cpp - module 07 grader: Normalize (per channel, std not variance, errors),
// RandomHorizontalFlip (columns not rows, exactly one draw per image, probability p) and RandomCrop
// (the header's draws, zeros coming in from every side, padding wider than the image). Expected
// images come from the reference functions in data_helpers.h and a tt::Generator seeded alike.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "data_helpers.h"
#include "grading.h"
#include "tinytorch/data.h"
#include "tinytorch/random.h"

using namespace tt::testing;
using namespace data_helpers;
using Catch::Matchers::Contains;
namespace data = tt::data;

namespace {

// Normalises with the formula, in double, for comparison.
Image reference_normalize(Image image, const std::vector<float>& mean, const std::vector<float>& std) {
    const int64_t plane = image.height * image.width;
    for (int64_t c = 0; c < image.channels; ++c)
        for (int64_t i = 0; i < plane; ++i) {
            float& v = image.pixels[static_cast<size_t>(c * plane + i)];
            v = static_cast<float>((static_cast<double>(v) - mean[static_cast<size_t>(c)]) / std[static_cast<size_t>(c)]);
        }
    return image;
}

}  // namespace

TEST_CASE("Normalize of a one-channel image computes (x - mean) / std", "[points=2]") {
    Image image{1, 2, 3, {0.0f, 0.1307f, 1.0f, 0.5f, 0.25f, 0.75f}};
    data::Normalize normalize({0.1307f}, {0.3081f});
    normalize.apply(image.view());
    // (0 - 0.1307) / 0.3081 = -0.424213, 0, (1 - 0.1307) / 0.3081 = 2.821487, ...
    CHECK_THAT(tensor_of(image),
               tensor_near(nested({{{-0.4242129f, 0.0f, 2.8214865f}, {1.1986368f, 0.3872119f, 2.0100617f}}}), 1e-5, 1e-5));
    CHECK(normalize.mean == std::vector<float>{0.1307f});
    CHECK(normalize.std == std::vector<float>{0.3081f});
}

TEST_CASE("Normalize uses each channel's own mean and std (the std not the variance)", "[points=3]") {
    const std::vector<float> mean = {0.5f, 0.25f, 0.75f}, std = {0.5f, 0.2f, 4.0f};
    const Image original = labelled_image(3, 2, 3, -100.0f);  // values -99 .. 123, different per channel
    Image image = original;
    data::Normalize normalize(mean, std);
    normalize.apply(image.view());
    CHECK_THAT(tensor_of(image), tensor_near(tensor_of(reference_normalize(original, mean, std)), 1e-5, 1e-5));
    // One pixel by hand: channel 2, (y, x) = (1, 2): 100*2 + 10 + 2 + 1 - 100 = 113 -> (113 - 0.75) / 4 = 28.0625
    CHECK(image.at(2, 1, 2) == Approx(28.0625f).epsilon(1e-6));
    // The same transform applied to a second image gives the same arithmetic (nothing accumulates).
    Image again = original;
    normalize.apply(again.view());
    CHECK(again.pixels == image.pixels);
}

TEST_CASE("Normalize refuses mismatched sizes and a std that is not positive and an image with another channel count",
          "[points=2]") {
    CHECK_THAT(error_message([] { data::Normalize({0.5f}, {0.5f, 0.5f}); }), Contains("Normalize"));
    CHECK_THAT(error_message([] { data::Normalize({0.5f, 0.5f}, {0.5f, 0.0f}); }), Contains("Normalize"));
    CHECK_THAT(error_message([] { data::Normalize({0.5f}, {-0.3f}); }), Contains("Normalize"));
    CHECK_THAT(error_message([] { data::Normalize({0.5f}, {std::nanf("")}); }), Contains("Normalize"));
    Image rgb = labelled_image(3, 2, 2);
    data::Normalize gray({0.1307f}, {0.3081f});
    CHECK_THAT(error_message([&] { gray.apply(rgb.view()); }), Contains("Normalize") && Contains("3"));
    Image single = labelled_image(1, 2, 2);
    data::Normalize colour({0.1f, 0.2f, 0.3f}, {1.0f, 1.0f, 1.0f});
    CHECK_THAT(error_message([&] { colour.apply(single.view()); }), Contains("Normalize"));
}

TEST_CASE("RandomHorizontalFlip with p = 1 mirrors every row left to right", "[points=2]") {
    const Image original = labelled_image(2, 3, 4);  // not square: rows and columns cannot be confused
    data::RandomHorizontalFlip flip(1.0f, 3);
    Image image = original;
    flip.apply(image.view());
    CHECK_THAT(tensor_of(image), tensor_equal(tensor_of(reference_flip(original))));
    // pixel (1, 2, 0) comes from (1, 2, 3): 100 + 20 + 3 + 1
    CHECK(image.at(1, 2, 0) == 124.0f);
    // Odd width: the middle column stays.
    const Image odd = labelled_image(1, 2, 5);
    Image odd_image = odd;
    flip.apply(odd_image.view());
    CHECK_THAT(tensor_of(odd_image), tensor_equal(tensor_of(reference_flip(odd))));
    CHECK(flip.name() == "RandomHorizontalFlip");
}

TEST_CASE("RandomHorizontalFlip flips exactly the images whose one uniform draw is below p", "[points=3]") {
    const Image original = labelled_image(1, 2, 3);
    for (float p : {0.5f, 0.2f, 0.9f}) {
        data::RandomHorizontalFlip flip(p, 77);
        tt::Generator gen(77);
        int flipped = 0;
        for (int i = 0; i < 300; ++i) {
            Image image = original;
            flip.apply(image.view());
            const bool expected = gen.uniform() < p;  // the header's rule: one gen.uniform() per image
            flipped += expected;
            INFO("p = " << p << ", image " << i << ": expected " << (expected ? "flipped" : "unchanged"));
            REQUIRE(image.pixels == (expected ? reference_flip(original) : original).pixels);
        }
        CHECK(std::abs(flipped - 300 * p) < 60);
    }
}

TEST_CASE("RandomHorizontalFlip with p = 0 never flips and p outside 0..1 is an error", "[points=1]") {
    const Image original = labelled_image(2, 2, 3);
    data::RandomHorizontalFlip never(0.0f, 1);
    for (int i = 0; i < 50; ++i) {
        Image image = original;
        never.apply(image.view());
        REQUIRE(image.pixels == original.pixels);
    }
    // p = 0 still draws once per image: its generator moves on exactly like one with p = 0.5.
    tt::Generator gen(1);
    for (int i = 0; i < 50; ++i) gen.uniform();
    CHECK(never.gen.uniform() == gen.uniform());
    CHECK_THAT(error_message([] { data::RandomHorizontalFlip(1.5f); }), Contains("RandomHorizontalFlip"));
    CHECK_THAT(error_message([] { data::RandomHorizontalFlip(-0.25f); }), Contains("RandomHorizontalFlip"));
}

TEST_CASE("RandomCrop moves the image by top - padding rows and left - padding columns with zeros coming in", "[points=3]") {
    const Image original = labelled_image(2, 5, 7);
    for (int64_t padding : {1, 2, 3}) {
        data::RandomCrop crop(padding, 123);
        tt::Generator gen(123);
        std::set<std::pair<int64_t, int64_t>> offsets;
        for (int i = 0; i < 120; ++i) {
            const auto range = static_cast<uint64_t>(2 * padding + 1);
            const auto top = static_cast<int64_t>(gen.randint(range));  // the header's draws: top, then left
            const auto left = static_cast<int64_t>(gen.randint(range));
            offsets.insert({top, left});
            Image image = original;
            crop.apply(image.view());
            INFO("padding " << padding << ", image " << i << ": top " << top << ", left " << left
                            << " (shift by " << top - padding << " rows, " << left - padding << " columns)");
            REQUIRE_THAT(tensor_of(image), tensor_equal(tensor_of(reference_crop(original, padding, top, left))));
        }
        if (padding == 1) CHECK(offsets.size() == 9);
    }
}

TEST_CASE("RandomCrop brings zeros in from each of the four sides", "[points=2]") {
    // Find, with the crop's own draws replayed, an image shifted each way, and check the zero border.
    const Image original = labelled_image(1, 4, 4);
    data::RandomCrop crop(2, 9);
    tt::Generator gen(9);
    bool seen_top = false, seen_bottom = false, seen_left = false, seen_right = false;
    for (int i = 0; i < 200; ++i) {
        const auto top = static_cast<int64_t>(gen.randint(5));
        const auto left = static_cast<int64_t>(gen.randint(5));
        Image image = original;
        crop.apply(image.view());
        REQUIRE(image.pixels == reference_crop(original, 2, top, left).pixels);
        if (top == 0) seen_top = seen_top || (image.at(0, 0, 2) == 0.0f && image.at(0, 1, 2) == 0.0f);   // 2 rows of zeros above
        if (top == 4) seen_bottom = seen_bottom || (image.at(0, 3, 2) == 0.0f && image.at(0, 2, 2) == 0.0f);
        if (left == 0) seen_left = seen_left || (image.at(0, 2, 0) == 0.0f && image.at(0, 2, 1) == 0.0f);
        if (left == 4) seen_right = seen_right || (image.at(0, 2, 3) == 0.0f && image.at(0, 2, 2) == 0.0f);
    }
    CHECK(seen_top);
    CHECK(seen_bottom);
    CHECK(seen_left);
    CHECK(seen_right);
}

TEST_CASE("RandomCrop with padding 0 leaves the image unchanged but still draws twice", "[points=1]") {
    const Image original = labelled_image(3, 2, 2);
    data::RandomCrop crop(0, 5);
    for (int i = 0; i < 10; ++i) {
        Image image = original;
        crop.apply(image.view());
        REQUIRE(image.pixels == original.pixels);
    }
    tt::Generator gen(5);
    for (int i = 0; i < 20; ++i) gen.randint(1);
    CHECK(crop.gen.next_u64() == gen.next_u64());
    CHECK(crop.name() == "RandomCrop");
    CHECK_THAT(error_message([] { data::RandomCrop(-1); }), Contains("RandomCrop"));
}

TEST_CASE("RandomCrop with padding wider than the image stays inside the image's memory", "[points=1]") {
    // Shifts of up to 6 pixels on a 3x2 image: most outputs are all zeros, none reads outside.
    const Image original = labelled_image(2, 3, 2);
    data::RandomCrop crop(6, 31);
    tt::Generator gen(31);
    for (int i = 0; i < 100; ++i) {
        const auto top = static_cast<int64_t>(gen.randint(13));
        const auto left = static_cast<int64_t>(gen.randint(13));
        std::vector<float> memory(original.pixels.size() + 64, -7.0f);  // a guard zone after the image
        std::copy(original.pixels.begin(), original.pixels.end(), memory.begin() + 32);
        crop.apply({memory.data() + 32, 2, 3, 2});
        const Image expected = reference_crop(original, 6, top, left);
        INFO("image " << i << ": top " << top << ", left " << left);
        REQUIRE(std::vector<float>(memory.begin() + 32, memory.begin() + 32 + 12) == expected.pixels);
        for (size_t g = 0; g < 32; ++g) REQUIRE(memory[g] == -7.0f);
        for (size_t g = 44; g < memory.size(); ++g) REQUIRE(memory[g] == -7.0f);
    }
}
