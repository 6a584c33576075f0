// test_image_dataset.cpp - module 07 grader: ImageDataset (bytes / 255, the right image and label
// for each index, batches of any indices, transforms once per image and in order, head, errors).
#include <catch2/catch.hpp>

#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "data_helpers.h"
#include "grading.h"
#include "tinytorch/data.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace data_helpers;
using Catch::Matchers::Contains;
namespace data = tt::data;

namespace {

// N images of (C, H, W) with seeded bytes (0 and 255 included) and labels 10 + i.
struct Images {
    int64_t n, c, h, w;
    Bytes pixels, labels;
    Images(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed) : n(n), c(c), h(h), w(w) {
        pixels = random_bytes(static_cast<size_t>(n * c * h * w), seed);
        pixels[0] = 0;
        pixels[1] = 255;
        for (int64_t i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(10 + i));
    }
    size_t image_bytes() const { return static_cast<size_t>(c * h * w); }
    // Image i as the floats the data set must make (before transforms).
    std::vector<float> floats(int64_t i) const { return scaled(pixels.data() + static_cast<size_t>(i) * image_bytes(), image_bytes()); }
    // Images `indices` stacked: (B, C, H, W).
    tt::Tensor batch(const std::vector<int64_t>& indices) const {
        std::vector<float> all;
        for (int64_t i : indices) {
            const std::vector<float> one = floats(i);
            all.insert(all.end(), one.begin(), one.end());
        }
        return raw(all, {static_cast<int64_t>(indices.size()), c, h, w});
    }
};

// Records every image it sees (dims and values), then adds `add` to every pixel and multiplies by `scale`.
struct Recorder : data::Transform {
    float add, scale;
    std::vector<std::vector<float>> seen;
    std::vector<std::vector<int64_t>> dims;
    Recorder(float add, float scale) : add(add), scale(scale) {}
    void apply(const data::ImageView& image) override {
        const int64_t n = image.channels * image.height * image.width;
        seen.emplace_back(image.data, image.data + n);
        dims.push_back({image.channels, image.height, image.width});
        for (int64_t i = 0; i < n; ++i) image.data[i] = (image.data[i] + add) * scale;
    }
    std::string name() const override { return "Recorder"; }
};

}  // namespace

TEST_CASE("ImageDataset get turns image i's bytes into floats byte / 255 of shape C H W", "[points=3]") {
    // Bytes chosen by hand: 0 -> 0, 255 -> 1, 51 -> 0.2, 1 -> 1/255.
    Bytes pixels = {0, 255, 51, 1, 128, 204,    // image 0: (1, 2, 3)
                    255, 0, 102, 153, 17, 34};  // image 1
    data::ImageDataset d(pixels, {4, 9}, 1, 2, 3);
    CHECK(d.size() == 2);
    const data::Example e = d.get(0);
    CHECK_THAT(e.input, tensor_near(nested({{{0.0f, 1.0f, 0.2f}, {1.0f / 255.0f, 128.0f / 255.0f, 0.8f}}}), 1e-7, 1e-6));
    CHECK_THAT(e.target, tensor_equal(raw_scalar(4)));
    CHECK_THAT(d.get(1).input, tensor_near(nested({{{1.0f, 0.0f, 0.4f}, {0.6f, 17.0f / 255.0f, 34.0f / 255.0f}}}), 1e-7, 1e-6));
    CHECK_THAT(d.get(1).target, tensor_equal(raw_scalar(9)));
}

TEST_CASE("ImageDataset get returns the image and label of the index asked for with every pixel in place", "[points=3]") {
    const Images images(7, 3, 4, 5, 41);
    data::ImageDataset d(images.pixels, images.labels, 3, 4, 5);
    CHECK(d.size() == 7);
    CHECK(d.channels() == 3);
    CHECK(d.height() == 4);
    CHECK(d.width() == 5);
    for (int64_t i : {0, 1, 6, 3}) {
        INFO("get(" << i << ")");
        const data::Example e = d.get(i);
        CHECK_THAT(e.input, tensor_near(raw(images.floats(i), {3, 4, 5}), 1e-7, 1e-6));
        CHECK_THAT(e.target, tensor_equal(raw_scalar(static_cast<float>(10 + i))));
    }
}

TEST_CASE("ImageDataset get_batch stacks the images at the indices and their labels", "[points=3]") {
    const Images images(6, 2, 3, 4, 42);
    data::ImageDataset d(images.pixels, images.labels, 2, 3, 4);
    const std::vector<int64_t> indices = {5, 0, 3, 3, 1};
    const data::Batch b = d.get_batch(indices);
    CHECK(b.size() == 5);
    CHECK_THAT(b.inputs, tensor_near(images.batch(indices), 1e-7, 1e-6));
    CHECK_THAT(b.targets, tensor_equal(nested({15, 10, 13, 13, 11})));
    const data::Batch one = d.get_batch({2});
    CHECK_THAT(one.inputs, tensor_near(images.batch({2}), 1e-7, 1e-6));
    CHECK_THAT(one.targets, tensor_equal(nested({12})));
}

TEST_CASE("ImageDataset runs each transform once per image in order on that image alone", "[points=3]") {
    const Images images(4, 2, 2, 3, 43);
    auto first = std::make_shared<Recorder>(1.0f, 1.0f);   // x + 1
    auto second = std::make_shared<Recorder>(0.0f, 2.0f);  // then * 2: (x + 1) * 2, not x * 2 + 1
    data::ImageDataset d(images.pixels, images.labels, 2, 2, 3, {first, second});
    const std::vector<int64_t> indices = {3, 1, 2};
    const data::Batch b = d.get_batch(indices);
    REQUIRE(first->seen.size() == 3);
    REQUIRE(second->seen.size() == 3);
    for (size_t k = 0; k < indices.size(); ++k) {
        INFO("image " << k << " of the batch (index " << indices[k] << ")");
        CHECK(first->dims[k] == std::vector<int64_t>{2, 2, 3});
        CHECK_THAT(raw(first->seen[k], {2, 2, 3}), tensor_near(raw(images.floats(indices[k]), {2, 2, 3}), 1e-7, 1e-6));
        std::vector<float> after_first = images.floats(indices[k]);
        for (float& v : after_first) v += 1.0f;
        CHECK_THAT(raw(second->seen[k], {2, 2, 3}), tensor_near(raw(after_first, {2, 2, 3}), 1e-6, 1e-6));
    }
    std::vector<float> expected;
    for (int64_t i : indices)
        for (float v : images.floats(i)) expected.push_back((v + 1.0f) * 2.0f);
    CHECK_THAT(b.inputs, tensor_near(raw(expected, {3, 2, 2, 3}), 1e-6, 1e-6));
    CHECK_THAT(b.targets, tensor_equal(nested({13, 11, 12})));

    // get() runs them too.
    const data::Example e = d.get(0);
    CHECK(first->seen.size() == 4);
    std::vector<float> zero = images.floats(0);
    for (float& v : zero) v = (v + 1.0f) * 2.0f;
    CHECK_THAT(e.input, tensor_near(raw(zero, {2, 2, 3}), 1e-6, 1e-6));
    // The bytes themselves never change.
    CHECK(d.pixels() == images.pixels);
}

TEST_CASE("ImageDataset with a RandomCrop listed before Normalize normalises the zeros it brings in", "[points=2]") {
    const Images images(3, 2, 3, 3, 44);
    const std::vector<float> mean = {0.5f, 0.25f}, std = {0.5f, 0.125f};
    data::ImageDataset crop_first(images.pixels, images.labels, 2, 3, 3,
                                  {std::make_shared<data::RandomCrop>(2, 8), std::make_shared<data::Normalize>(mean, std)});
    data::ImageDataset normalize_first(images.pixels, images.labels, 2, 3, 3,
                                       {std::make_shared<data::Normalize>(mean, std), std::make_shared<data::RandomCrop>(2, 8)});
    tt::Generator gen(8);
    const data::Batch a = crop_first.get_batch({0, 1, 2});
    const data::Batch b = normalize_first.get_batch({0, 1, 2});
    std::vector<float> expected_a, expected_b;
    for (int64_t i = 0; i < 3; ++i) {
        const auto top = static_cast<int64_t>(gen.randint(5)), left = static_cast<int64_t>(gen.randint(5));
        Image cropped = reference_crop(Image{2, 3, 3, images.floats(i)}, 2, top, left);
        Image normalized{2, 3, 3, images.floats(i)};
        for (size_t p = 0; p < 18; ++p) {
            const size_t c = p / 9;
            cropped.pixels[p] = (cropped.pixels[p] - mean[c]) / std[c];
            normalized.pixels[p] = (normalized.pixels[p] - mean[c]) / std[c];
        }
        normalized = reference_crop(normalized, 2, top, left);
        expected_a.insert(expected_a.end(), cropped.pixels.begin(), cropped.pixels.end());
        expected_b.insert(expected_b.end(), normalized.pixels.begin(), normalized.pixels.end());
    }
    CHECK_THAT(a.inputs, tensor_near(raw(expected_a, {3, 2, 3, 3}), 1e-5, 1e-5));
    CHECK_THAT(b.inputs, tensor_near(raw(expected_b, {3, 2, 3, 3}), 1e-5, 1e-5));
}

TEST_CASE("ImageDataset get_batch of one index equals get of that index with random transforms too", "[points=1]") {
    const Images images(5, 1, 4, 4, 45);
    data::ImageDataset by_batch(images.pixels, images.labels, 1, 4, 4,
                                {std::make_shared<data::RandomHorizontalFlip>(0.5f, 3), std::make_shared<data::RandomCrop>(1, 4)});
    data::ImageDataset by_get(images.pixels, images.labels, 1, 4, 4,
                              {std::make_shared<data::RandomHorizontalFlip>(0.5f, 3), std::make_shared<data::RandomCrop>(1, 4)});
    for (int64_t i : {4, 0, 2, 2, 1, 3}) {
        INFO("index " << i);
        const data::Batch b = by_batch.get_batch({i});
        const data::Example e = by_get.get(i);
        CHECK_THAT(b.inputs, tensor_equal(raw(values_of(e.input), {1, 1, 4, 4})));
        CHECK_THAT(b.targets, tensor_equal(raw({static_cast<float>(10 + i)}, {1})));
    }
}

TEST_CASE("ImageDataset get and get_batch refuse indices outside 0..N-1", "[points=2]") {
    const Images images(4, 1, 2, 2, 46);
    data::ImageDataset d(images.pixels, images.labels, 1, 2, 2);
    CHECK_THAT(error_message([&] { d.get(4); }), Contains("4"));
    CHECK_THAT(error_message([&] { d.get(-1); }), Contains("-1"));
    CHECK_THAT(error_message([&] { d.get_batch({0, 4}); }), Contains("4"));
    CHECK_THAT(error_message([&] { d.get_batch({-2}); }), Contains("-2"));
    CHECK_THAT(error_message([&] { d.get(1 << 20); }), Contains(std::to_string(1 << 20)));
}

TEST_CASE("ImageDataset refuses pixel and label counts that disagree and empty image sizes", "[points=1]") {
    const Images images(3, 1, 2, 2, 47);
    CHECK_THAT(error_message([&] { data::ImageDataset(images.pixels, {1, 2}, 1, 2, 2); }), Contains("ImageDataset"));
    CHECK_THAT(error_message([&] { data::ImageDataset(images.pixels, {1, 2, 3, 4}, 1, 2, 2); }), Contains("ImageDataset"));
    CHECK_THAT(error_message([&] { data::ImageDataset(images.pixels, images.labels, 1, 2, 3); }), Contains("ImageDataset"));
    CHECK_THAT(error_message([&] { data::ImageDataset({}, {}, 1, 0, 2); }), Contains("ImageDataset"));
    data::ImageDataset empty({}, {}, 3, 2, 2);
    CHECK(empty.size() == 0);
}

TEST_CASE("ImageDataset head copies the first images and labels into a data set of its own", "[points=2]") {
    const Images images(6, 2, 2, 2, 48);
    auto transform = std::make_shared<Recorder>(0.0f, 1.0f);
    data::ImageDataset d(images.pixels, images.labels, 2, 2, 2, {transform});
    const std::shared_ptr<data::ImageDataset> first = d.head(4);
    REQUIRE(first != nullptr);
    CHECK(first->size() == 4);
    CHECK(first->channels() == 2);
    CHECK(first->height() == 2);
    CHECK(first->width() == 2);
    CHECK(first->pixels() == Bytes(images.pixels.begin(), images.pixels.begin() + 32));
    CHECK(first->labels() == Bytes{10, 11, 12, 13});
    CHECK(first->pixels().data() != d.pixels().data());
    CHECK(first->transforms.size() == 1);
    CHECK_THAT(first->get_batch({3}).inputs, tensor_near(images.batch({3}), 1e-7, 1e-6));
    CHECK(d.head(6)->size() == 6);
    CHECK(d.head(0)->size() == 0);
    CHECK_THAT(error_message([&] { d.head(7); }), Contains("7"));
    CHECK_THAT(error_message([&] { d.head(-1); }), Contains("-1"));
}
