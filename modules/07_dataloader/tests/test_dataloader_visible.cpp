// test_dataloader_visible.cpp - visible tests of module 07 (data).
//
// `tito test 07` runs these and the hidden tests; hidden tests look like these, with more cases:
// TensorDataset on views of any layout, the default get_batch, ImageDataset with transforms (once
// per image, in order), Normalize / RandomHorizontalFlip / RandomCrop against the header's exact
// random draws, the DataLoader's epochs against the header's Fisher-Yates, drop_last, and the
// readers on small idx and CIFAR-10 files written byte by byte - including truncated files, wrong
// magic numbers and labels out of range, which must be a tt::Error naming the file.
//
// Expected values never come from your code: they are worked out by hand in the comments, or drawn
// from a tt::Generator seeded like yours (random.h is given, so its numbers are the same for
// everyone). Helpers: nested({{1, 2}, {3, 4}}) builds a tensor without your code, tensor_equal /
// tensor_near compare shape and every value, error_message([&] { ... }) returns the message of
// the tt::Error the code throws.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grading.h"
#include "tinytorch/data.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace data = tt::data;

TEST_CASE("TensorDataset get returns row i and get_batch gathers rows", "[visible][points=2]") {
    data::TensorDataset d(nested({{0, 1}, {2, 3}, {4, 5}}), nested({7, 8, 9}));
    CHECK(d.size() == 3);
    CHECK_THAT(d.get(1).input, tensor_equal(nested({2, 3})));
    CHECK_THAT(d.get(1).target, tensor_equal(raw_scalar(8)));  // shape (): a 0-d tensor
    const data::Batch b = d.get_batch({2, 0});
    CHECK_THAT(b.inputs, tensor_equal(nested({{4, 5}, {0, 1}})));
    CHECK_THAT(b.targets, tensor_equal(nested({9, 7})));
    CHECK_THAT(error_message([&] { d.get(3); }), Contains("3"));
}

TEST_CASE("Normalize subtracts each channel's mean and divides by its std", "[visible][points=2]") {
    // Two channels of 1x2 pixels: [[0.5, 1.0]], [[0.2, 0.4]]
    std::vector<float> pixels = {0.5f, 1.0f, 0.2f, 0.4f};
    data::Normalize normalize({0.5f, 0.3f}, {0.25f, 0.1f});
    normalize.apply({pixels.data(), 2, 1, 2});
    // (0.5 - 0.5) / 0.25 = 0, (1 - 0.5) / 0.25 = 2; (0.2 - 0.3) / 0.1 = -1, (0.4 - 0.3) / 0.1 = 1
    CHECK_THAT(raw(pixels, {2, 1, 2}), tensor_near(nested({{{0, 2}}, {{-1, 1}}}), 1e-5, 1e-5));
}

TEST_CASE("RandomHorizontalFlip with p = 1 mirrors each row", "[visible][points=1]") {
    std::vector<float> pixels = {1, 2, 3, 4, 5, 6};  // one channel, 2 rows of 3
    data::RandomHorizontalFlip flip(1.0f);
    flip.apply({pixels.data(), 1, 2, 3});
    CHECK(pixels == std::vector<float>{3, 2, 1, 6, 5, 4});
}

TEST_CASE("ImageDataset turns bytes into floats byte / 255 and labels into float targets", "[visible][points=2]") {
    // Two 1x2x2 images: bytes [0, 255, 51, 102] and [255, 255, 0, 0], labels 3 and 7.
    data::ImageDataset d({0, 255, 51, 102, 255, 255, 0, 0}, {3, 7}, 1, 2, 2);
    CHECK(d.size() == 2);
    CHECK_THAT(d.get(0).input, tensor_near(nested({{{0.0f, 1.0f}, {0.2f, 0.4f}}}), 1e-6, 1e-6));
    const data::Batch b = d.get_batch({1, 0});
    CHECK(b.inputs.shape() == tt::Shape{2, 1, 2, 2});  // (B, C, H, W)
    CHECK_THAT(b.targets, tensor_equal(nested({7, 3})));
}

TEST_CASE("DataLoader serves batches in order with a short last one", "[visible][points=2]") {
    auto d = std::make_shared<data::TensorDataset>(tt::testing::iota({5, 1}), tt::testing::iota({5}));
    data::DataLoader loader(d, {.batch_size = 2});
    CHECK(loader.num_batches() == 3);
    std::vector<std::vector<float>> seen;
    for (const data::Batch& batch : loader) seen.push_back(values_of(batch.targets));
    CHECK(seen == std::vector<std::vector<float>>{{0, 1}, {2, 3}, {4}});
}

TEST_CASE("a shuffled epoch is the header's Fisher-Yates from the loader's generator", "[visible][points=2]") {
    auto d = std::make_shared<data::TensorDataset>(tt::testing::iota({6, 1}), tt::testing::iota({6}));
    data::DataLoader loader(d, {.batch_size = 6, .shuffle = true, .seed = 3});
    // The same draws by hand, from a Generator seeded alike.
    tt::Generator gen(3);
    std::vector<int64_t> expected = {0, 1, 2, 3, 4, 5};
    for (int64_t i = 5; i >= 1; --i) std::swap(expected[i], expected[gen.randint(i + 1)]);
    CHECK(loader.next_epoch_order() == expected);
    CHECK(loader.next_epoch_order() != expected);  // the next epoch: a new permutation
}

TEST_CASE("read_idx_labels reads a big-endian header and refuses a truncated file", "[visible][points=2]") {
    // magic 0x00000801, count 3 (00 00 00 03), then the labels 4, 0, 9
    const std::vector<unsigned char> bytes = {0, 0, 8, 1, 0, 0, 0, 3, 4, 0, 9};
    const std::string path = "visible-labels-idx1-ubyte";
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    CHECK(data::read_idx_labels(path) == std::vector<uint8_t>{4, 0, 9});
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 10);  // one label missing
    CHECK_THAT(error_message([&] { data::read_idx_labels(path); }), Contains(path));
    std::remove(path.c_str());
}
