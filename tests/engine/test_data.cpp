// test_data.cpp - module 07 on small synthetic data: data sets, batches, transforms, the loader,
// the idx and CIFAR-10 readers, and the [given] file helpers (read_bytes, read_text,
// find_dataset). Every file problem must be a tt::Error naming the path - never a crash.
// (test_data_real.cpp checks the real MNIST and CIFAR-10 files.)
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../../graders/07_dataloader/data_helpers.h"
#include "grading.h"
#include "tinytorch/data.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace data_helpers;
using Catch::Matchers::Contains;
namespace data = tt::data;

namespace {

// Sets (or, with nullopt, unsets) an environment variable for the life of the object.
class EnvOverride {
public:
    EnvOverride(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) old_ = old;
        if (value) ::setenv(name_.c_str(), value->c_str(), 1);
        else ::unsetenv(name_.c_str());
    }
    ~EnvOverride() {
        if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
        else ::unsetenv(name_.c_str());
    }

private:
    std::string name_;
    std::optional<std::string> old_;
};

std::vector<float> targets_of(const data::Batch& batch) { return values_of(batch.targets); }

std::shared_ptr<data::TensorDataset> numbered(int64_t n) {
    return std::make_shared<data::TensorDataset>(iota({n, 2}), iota({n}));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// [given] read_bytes, read_text, find_dataset
// ---------------------------------------------------------------------------------------------

TEST_CASE("read_bytes returns a plain file as it is and decompresses gzip by its magic number", "[data][files]") {
    Folder folder;
    const Bytes content = random_bytes(100000, 1);
    CHECK(data::read_bytes(folder.write("plain.bin", content)) == content);
    CHECK(data::read_bytes(folder.write("packed.gz", gzip(content))) == content);
    CHECK(data::read_bytes(folder.write("packed-without-extension", gzip(content))) == content);
    // A ".gz" name on bytes that are not gzip (a browser unpacked it): read as they are.
    CHECK(data::read_bytes(folder.write("unpacked.gz", content)) == content);
    // Two gzip members one after the other (what `cat a.gz b.gz` makes) are one stream.
    Bytes two = gzip(Bytes(content.begin(), content.begin() + 500));
    const Bytes second = gzip(Bytes(content.begin() + 500, content.end()));
    two.insert(two.end(), second.begin(), second.end());
    CHECK(data::read_bytes(folder.write("two-members.gz", two)) == content);
    CHECK(data::read_bytes(folder.write("empty", {})).empty());
    CHECK(data::read_bytes(folder.write("empty.gz", gzip({}))).empty());
}

TEST_CASE("read_bytes names the path and the problem for missing, damaged and truncated files", "[data][files]") {
    Folder folder;
    const Bytes packed = gzip(random_bytes(50000, 2));
    const std::string missing = folder.file("nope.bin");
    CHECK_THAT(error_message([&] { data::read_bytes(missing); }), Contains(missing) && Contains("no such file"));
    CHECK_THAT(error_message([&] { data::read_bytes(folder.str()); }), Contains(folder.str()) && Contains("folder"));

    const std::string truncated = folder.write("truncated.gz", Bytes(packed.begin(), packed.begin() + packed.size() / 2));
    CHECK_THAT(error_message([&] { data::read_bytes(truncated); }), Contains(truncated) && Contains("truncated"));
    const std::string header_only = folder.write("header.gz", Bytes(packed.begin(), packed.begin() + 12));
    CHECK_THAT(error_message([&] { data::read_bytes(header_only); }), Contains(header_only) && Contains("truncated"));

    Bytes damaged = packed;
    for (size_t i = 100; i < 200; ++i) damaged[i] ^= 0x5a;
    const std::string corrupt = folder.write("corrupt.gz", damaged);
    CHECK_THAT(error_message([&] { data::read_bytes(corrupt); }), Contains(corrupt) && Contains("corrupt"));

    Bytes trailing = packed;
    trailing.insert(trailing.end(), {'j', 'u', 'n', 'k'});
    const std::string junk = folder.write("junk.gz", trailing);
    CHECK_THAT(error_message([&] { data::read_bytes(junk); }), Contains(junk) && Contains("after the end"));
    // Nothing but the two magic bytes.
    const std::string magic_only = folder.write("magic.gz", {0x1f, 0x8b});
    CHECK_THAT(error_message([&] { data::read_bytes(magic_only); }), Contains(magic_only));
}

TEST_CASE("read_text returns the file's characters without decompressing", "[data][files]") {
    Folder folder;
    CHECK(data::read_text(folder.write("a.txt", {'F', 'i', 'r', 's', 't', '\n', 0, 'x'})) == std::string("First\n\0x", 8));
    const Bytes packed = gzip({'a', 'b'});
    CHECK(data::read_text(folder.write("b.gz", packed)) == std::string(packed.begin(), packed.end()));
    const std::string missing = folder.file("input.txt");
    CHECK_THAT(error_message([&] { data::read_text(missing); }), Contains(missing) && Contains("no such file"));
}

TEST_CASE("find_dataset looks in TITO_DATA_DIR, then the user cache, then /usr/share/datasets", "[data][files]") {
    Folder data_dir, home;
    fs::create_directories(data_dir.path() / "mnist");
    fs::create_directories(data_dir.path() / "cifar10" / "cifar-10-batches-bin");
    fs::create_directories(home.path() / ".cache" / "tinytorch" / "datasets" / "mnist");
    fs::create_directories(home.path() / ".cache" / "tinytorch" / "datasets" / "tinyshakespeare");
    fs::create_directories(home.path() / ".cache" / "tinytorch" / "datasets" / "cifar10");  // without its inner folder

    EnvOverride home_env("HOME", home.str());
    {
        EnvOverride dir("TITO_DATA_DIR", data_dir.str());
        CHECK(data::find_dataset("mnist") == (data_dir.path() / "mnist").string());
        CHECK(data::find_dataset("cifar10") == (data_dir.path() / "cifar10" / "cifar-10-batches-bin").string());
        CHECK(data::find_dataset("tinyshakespeare") ==
              (home.path() / ".cache" / "tinytorch" / "datasets" / "tinyshakespeare").string());
    }
    {
        EnvOverride dir("TITO_DATA_DIR", std::nullopt);
        CHECK(data::find_dataset("mnist") == (home.path() / ".cache" / "tinytorch" / "datasets" / "mnist").string());
        // cifar10/ without cifar-10-batches-bin/ inside is not CIFAR-10's binary version.
        if (!fs::is_directory("/usr/share/datasets/cifar10/cifar-10-batches-bin")) {
            const std::string message = error_message([] { data::find_dataset("cifar10"); });
            CHECK_THAT(message, Contains("cifar10") && Contains("tito data fetch cifar10") && Contains("TITO_DATA_DIR") &&
                                    Contains((home.path() / ".cache" / "tinytorch" / "datasets").string()) &&
                                    Contains("/usr/share/datasets"));
        }
    }
    {
        EnvOverride dir("TITO_DATA_DIR", data_dir.str());
        // Debian's dataset-fashion-mnist package installs /usr/share/datasets/fashion-mnist.
        if (fs::is_directory("/usr/share/datasets/fashion-mnist"))
            CHECK(data::find_dataset("fashion-mnist") == "/usr/share/datasets/fashion-mnist");
        else
            CHECK_THAT(error_message([] { data::find_dataset("fashion-mnist"); }),
                       Contains("tito data fetch fashion-mnist") && Contains((data_dir.path() / "fashion-mnist").string()));
    }
    CHECK_THAT(error_message([] { data::find_dataset("minst"); }), Contains("minst") && Contains("mnist, fashion-mnist"));
}

// ---------------------------------------------------------------------------------------------
// Data sets and batches
// ---------------------------------------------------------------------------------------------

TEST_CASE("TensorDataset gives rows as examples and gathers rows into batches", "[data]") {
    const tt::Tensor inputs = iota({5, 3});
    data::TensorDataset d(padded(inputs), nested({10, 11, 12, 13, 14}));
    CHECK(d.size() == 5);
    const data::Example e = d.get(3);
    CHECK_THAT(e.input, tensor_equal(nested({9, 10, 11})));
    CHECK_THAT(e.target, tensor_equal(raw_scalar(13)));
    const data::Batch b = d.get_batch({4, 0, 4});
    CHECK(b.size() == 3);
    CHECK_THAT(b.inputs, tensor_equal(nested({{12, 13, 14}, {0, 1, 2}, {12, 13, 14}})));
    CHECK_THAT(b.targets, tensor_equal(nested({14, 10, 14})));
    CHECK(d.get_batch({}).size() == 0);
    CHECK(d.get_batch({}).inputs.shape() == tt::Shape{0, 3});

    CHECK_THAT(error_message([&] { d.get(5); }), Contains("TensorDataset") && Contains("index 5") && Contains("5 examples"));
    CHECK_THAT(error_message([&] { d.get(-1); }), Contains("index -1"));
    CHECK_THAT(error_message([&] { d.get_batch({0, 7}); }), Contains("index 7"));
    CHECK_THAT(error_message([] { data::TensorDataset(iota({4, 2}), iota({3})); }),
               Contains("TensorDataset") && Contains("(4, 2)") && Contains("(3)"));
    CHECK_THAT(error_message([] { data::TensorDataset(raw_scalar(1), raw_scalar(2)); }), Contains("TensorDataset"));
}

namespace {
// Example i: input (2, 3) = 10 i + [[0, 2, 4], [1, 3, 5]], stored column-major; target (2,) = [i, -i].
struct Computed : data::Dataset {
    int64_t size() const override { return 4; }
    data::Example get(int64_t i) const override {
        const float f = 10.0f * static_cast<float>(i);
        const std::vector<float> t = {static_cast<float>(i), -static_cast<float>(i)};
        return {column_major(raw({f, f + 2, f + 4, f + 1, f + 3, f + 5}, {2, 3})), raw(t, {2})};  // non-contiguous
    }
};
}  // namespace

TEST_CASE("the default get_batch stacks get() results whatever their layout", "[data]") {
    const Computed d;
    const data::Batch b = d.get_batch({2, 0});
    CHECK_THAT(b.inputs, tensor_equal(nested({{{20, 22, 24}, {21, 23, 25}}, {{0, 2, 4}, {1, 3, 5}}})));
    CHECK_THAT(b.targets, tensor_equal(nested({{2, -2}, {0, 0}})));
    CHECK(d.get_batch({}).size() == 0);

    struct Ragged : data::Dataset {
        int64_t size() const override { return 2; }
        data::Example get(int64_t i) const override { return {iota({i + 2}), raw_scalar(0)}; }
    } ragged;
    CHECK_THAT(error_message([&] { ragged.get_batch({0, 1}); }), Contains("get_batch") && Contains("(2)") && Contains("(3)"));
}

TEST_CASE("ImageDataset keeps bytes and makes floats per batch, with the transforms in order", "[data]") {
    // Two 2x2x3 images (C, H, W) = (2, 2, 3) bytes, labels 7 and 3.
    Bytes pixels(24);
    std::iota(pixels.begin(), pixels.end(), uint8_t{0});
    pixels[23] = 255;
    data::ImageDataset d(pixels, {7, 3}, 2, 2, 3);
    CHECK(d.size() == 2);
    CHECK(d.pixels() == pixels);
    const data::Example e = d.get(1);
    CHECK_THAT(e.input, tensor_equal(raw(scaled(pixels.data() + 12, 12), {2, 2, 3})));
    CHECK(element(e.input, {1, 1, 2}) == 1.0f);
    CHECK_THAT(e.target, tensor_equal(raw_scalar(3)));

    const data::Batch b = d.get_batch({1, 0, 1});
    std::vector<float> expected = scaled(pixels.data() + 12, 12);
    const std::vector<float> first = scaled(pixels.data(), 12);
    expected.insert(expected.end(), first.begin(), first.end());
    const std::vector<float> again(expected.begin(), expected.begin() + 12);
    expected.insert(expected.end(), again.begin(), again.end());
    CHECK_THAT(b.inputs, tensor_equal(raw(expected, {3, 2, 2, 3})));
    CHECK_THAT(b.targets, tensor_equal(nested({3, 7, 3})));

    // Normalize after RandomCrop: the zeros the crop brings in are normalised too.
    data::ImageDataset shifted(pixels, {7, 3}, 2, 2, 3,
                               {std::make_shared<data::RandomCrop>(5, 11),
                                std::make_shared<data::Normalize>(std::vector<float>{0.5f, 0.25f}, std::vector<float>{0.5f, 2.0f})});
    tt::Generator gen(11);
    const auto top = static_cast<int64_t>(gen.randint(11)), left = static_cast<int64_t>(gen.randint(11));
    Image image{2, 2, 3, scaled(pixels.data(), 12)};
    image = reference_crop(image, 5, top, left);
    for (size_t i = 0; i < 12; ++i) image.pixels[i] = i < 6 ? (image.pixels[i] - 0.5f) / 0.5f : (image.pixels[i] - 0.25f) / 2.0f;
    CHECK_THAT(shifted.get(0).input, tensor_near(tensor_of(image), 1e-6, 1e-6));

    const auto first_one = d.head(1);
    CHECK(first_one->size() == 1);
    CHECK(first_one->pixels() == Bytes(pixels.begin(), pixels.begin() + 12));
    CHECK(first_one->labels() == Bytes{7});
    CHECK(d.head(0)->size() == 0);
    CHECK_THAT(error_message([&] { d.head(3); }), Contains("head") && Contains("3"));

    CHECK_THAT(error_message([&] { d.get(2); }), Contains("ImageDataset") && Contains("index 2"));
    CHECK_THAT(error_message([&] { d.get_batch({0, -1}); }), Contains("index -1"));
    CHECK_THAT(error_message([&] { data::ImageDataset(pixels, {1, 2, 3}, 2, 2, 3); }),
               Contains("ImageDataset") && Contains("24") && Contains("36"));
    CHECK_THAT(error_message([&] { data::ImageDataset({}, {}, 0, 2, 3); }), Contains("ImageDataset"));
    CHECK_THAT(error_message([&] { data::ImageDataset(pixels, {1, 2}, 2, 2, 3, {nullptr}); }), Contains("null"));
}

// ---------------------------------------------------------------------------------------------
// Transforms
// ---------------------------------------------------------------------------------------------

TEST_CASE("Normalize subtracts each channel's mean and divides by its std", "[data][transforms]") {
    Image image = labelled_image(3, 2, 2);
    data::Normalize normalize({1, 2, 3}, {2, 4, 0.5f});
    normalize.apply(image.view());
    // channel 0: (1 - 1) / 2 = 0, (2 - 1) / 2 = 0.5, (11 - 1) / 2 = 5, (12 - 1) / 2 = 5.5
    // channel 1: (101 - 2) / 4 = 24.75 ...; channel 2: (201 - 3) / 0.5 = 396 ...
    CHECK_THAT(tensor_of(image), tensor_near(nested({{{0, 0.5f}, {5, 5.5f}}, {{24.75f, 25}, {27.25f, 27.5f}}, {{396, 398}, {416, 418}}})));
    CHECK(normalize.name() == "Normalize");

    CHECK_THAT(error_message([] { data::Normalize({0.5f}, {0.5f, 0.5f}); }), Contains("Normalize"));
    CHECK_THAT(error_message([] { data::Normalize({}, {}); }), Contains("Normalize"));
    CHECK_THAT(error_message([] { data::Normalize({0.5f, 0.5f}, {0.5f, 0.0f}); }), Contains("Normalize") && Contains("std[1]"));
    CHECK_THAT(error_message([] { data::Normalize({0.5f}, {-1.0f}); }), Contains("std[0]"));
    Image rgb = labelled_image(3, 2, 2);
    data::Normalize gray({0.1307f}, {0.3081f});
    CHECK_THAT(error_message([&] { gray.apply(rgb.view()); }), Contains("Normalize") && Contains("(3, 2, 2)"));
}

TEST_CASE("RandomHorizontalFlip mirrors columns with probability p, one draw per image", "[data][transforms]") {
    const Image original = labelled_image(2, 3, 4);
    data::RandomHorizontalFlip always(1.0f);
    Image image = original;
    always.apply(image.view());
    CHECK_THAT(tensor_of(image), tensor_equal(tensor_of(reference_flip(original))));
    CHECK(element(tensor_of(image), {1, 2, 0}) == 124.0f);

    data::RandomHorizontalFlip half(0.3f, 5);
    tt::Generator gen(5);
    int flips = 0;
    for (int i = 0; i < 200; ++i) {
        Image copy = original;
        half.apply(copy.view());
        const bool flip = gen.uniform() < 0.3f;
        flips += flip;
        INFO("image " << i);
        REQUIRE(copy.pixels == (flip ? reference_flip(original) : original).pixels);
    }
    CHECK(flips > 30);
    CHECK(flips < 90);
    CHECK_THAT(error_message([] { data::RandomHorizontalFlip(1.5f); }), Contains("RandomHorizontalFlip") && Contains("1.5"));
    CHECK_THAT(error_message([] { data::RandomHorizontalFlip(-0.1f); }), Contains("RandomHorizontalFlip"));
}

TEST_CASE("RandomCrop shifts the image by up to padding pixels, zeros coming in", "[data][transforms]") {
    const Image original = labelled_image(2, 5, 7);
    // By hand: padding 1, top 0, left 2 -> output (y, x) = original (y - 1, x + 1).
    const Image by_hand = reference_crop(original, 1, 0, 2);
    CHECK(by_hand.at(0, 0, 0) == 0.0f);  // from the padding row above
    CHECK(by_hand.at(0, 1, 0) == original.at(0, 0, 1));
    CHECK(by_hand.at(1, 4, 6) == 0.0f);  // from the padding column on the right
    CHECK(by_hand.at(1, 4, 5) == original.at(1, 3, 6));

    for (int64_t padding : {0, 1, 2, 8}) {
        data::RandomCrop crop(padding, 21);
        tt::Generator gen(21);
        std::set<std::pair<int64_t, int64_t>> seen;
        for (int i = 0; i < 100; ++i) {
            const auto top = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(2 * padding + 1)));
            const auto left = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(2 * padding + 1)));
            seen.insert({top, left});
            Image image = original;
            crop.apply(image.view());
            INFO("padding " << padding << ", image " << i << ": top " << top << ", left " << left);
            REQUIRE(image.pixels == reference_crop(original, padding, top, left).pixels);
        }
        if (padding == 1) CHECK(seen.size() == 9);  // every offset happens
    }
    CHECK_THAT(error_message([] { data::RandomCrop(-1); }), Contains("RandomCrop") && Contains("-1"));
}

// ---------------------------------------------------------------------------------------------
// DataLoader
// ---------------------------------------------------------------------------------------------

TEST_CASE("DataLoader cuts an epoch into batches in order, the last one short unless drop_last", "[data][loader]") {
    data::DataLoader loader(numbered(10), {.batch_size = 4});
    CHECK(loader.num_batches() == 3);
    std::vector<std::vector<float>> seen;
    for (const data::Batch& batch : loader) seen.push_back(targets_of(batch));
    CHECK(seen == std::vector<std::vector<float>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
    CHECK(loader.epochs_started() == 1);

    data::DataLoader dropping(numbered(10), {.batch_size = 4, .drop_last = true});
    CHECK(dropping.num_batches() == 2);
    seen.clear();
    for (const data::Batch& batch : dropping) seen.push_back(targets_of(batch));
    CHECK(seen == std::vector<std::vector<float>>{{0, 1, 2, 3}, {4, 5, 6, 7}});

    CHECK(data::DataLoader(numbered(8), {.batch_size = 4, .drop_last = true}).num_batches() == 2);
    CHECK(data::DataLoader(numbered(3), {.batch_size = 5}).num_batches() == 1);
    CHECK(data::DataLoader(numbered(3), {.batch_size = 5, .drop_last = true}).num_batches() == 0);
    data::DataLoader empty(numbered(0), {.batch_size = 2});
    int count = 0;
    for (const data::Batch& batch : empty) count += static_cast<int>(batch.size()) + 1;
    CHECK(count == 0);

    CHECK_THAT(error_message([&] { loader.batch(loader.next_epoch_order(), 3); }), Contains("batch 3") && Contains("3 batches"));
    CHECK_THAT(error_message([] { data::DataLoader(numbered(3), {.batch_size = 0}); }), Contains("DataLoader") && Contains("batch_size"));
    CHECK_THAT(error_message([] { data::DataLoader(nullptr); }), Contains("DataLoader") && Contains("null"));
}

TEST_CASE("a shuffling DataLoader draws Fisher-Yates permutations, new each epoch, the same for a seed", "[data][loader]") {
    data::DataLoader loader(numbered(1000), {.batch_size = 64, .shuffle = true, .seed = 42});
    data::DataLoader twin(numbered(1000), {.batch_size = 64, .shuffle = true, .seed = 42});
    tt::Generator gen(42);
    std::vector<int64_t> previous;
    for (int epoch = 0; epoch < 3; ++epoch) {
        const std::vector<int64_t> expected = fisher_yates(1000, gen);
        std::vector<float> served;
        for (const data::Batch& batch : loader) {
            const std::vector<float> t = targets_of(batch);
            served.insert(served.end(), t.begin(), t.end());
        }
        REQUIRE(served.size() == 1000);
        for (size_t i = 0; i < 1000; ++i) REQUIRE(served[i] == static_cast<float>(expected[i]));
        CHECK(twin.next_epoch_order() == expected);
        CHECK(expected != previous);
        previous = expected;
    }
    CHECK(loader.epochs_started() == 3);
    data::DataLoader other(numbered(1000), {.batch_size = 64, .shuffle = true, .seed = 43});
    tt::Generator first(42);
    CHECK(other.next_epoch_order() != fisher_yates(1000, first));
}

// ---------------------------------------------------------------------------------------------
// idx and CIFAR-10 readers
// ---------------------------------------------------------------------------------------------

TEST_CASE("read_idx_images and read_idx_labels read big-endian headers, plain or gzipped", "[data][readers]") {
    Folder folder;
    const Bytes pixels = random_bytes(3 * 2 * 4, 3);
    const std::string plain = folder.write("images", idx_images(3, 2, 4, pixels));
    const data::IdxImages images = data::read_idx_images(plain);
    CHECK(images.count == 3);
    CHECK(images.rows == 2);
    CHECK(images.cols == 4);
    CHECK(images.pixels == pixels);
    CHECK(data::read_idx_images(folder.write("images.gz", gzip(idx_images(3, 2, 4, pixels)))).pixels == pixels);
    // Counts above 255 need every byte of the header in the right order.
    const Bytes many = random_bytes(300 * 257, 4);
    const data::IdxImages big = data::read_idx_images(folder.write("big", idx_images(300, 1, 257, many)));
    CHECK(big.count == 300);
    CHECK(big.cols == 257);
    const Bytes labels = random_bytes(70000, 5);
    CHECK(data::read_idx_labels(folder.write("labels.gz", gzip(idx_labels(labels)))) == labels);
}

TEST_CASE("the idx readers refuse wrong magic numbers, truncated and oversized files, naming the path", "[data][readers]") {
    Folder folder;
    const Bytes pixels = random_bytes(3 * 2 * 4, 6);
    const std::string labels_file = folder.write("labels", idx_labels({1, 2, 3}));
    CHECK_THAT(error_message([&] { data::read_idx_images(labels_file); }),
               Contains(labels_file) && Contains("magic") && Contains("0x00000801") && Contains("label file"));
    const std::string images_file = folder.write("images", idx_images(3, 2, 4, pixels));
    CHECK_THAT(error_message([&] { data::read_idx_labels(images_file); }), Contains(images_file) && Contains("magic"));
    const std::string little = folder.write("little", idx_images(3, 2, 4, pixels, 0x03080000));
    CHECK_THAT(error_message([&] { data::read_idx_images(little); }), Contains(little) && Contains("big-endian"));

    const std::string short_pixels = folder.write("short", idx_images(4, 2, 4, pixels));
    CHECK_THAT(error_message([&] { data::read_idx_images(short_pixels); }), Contains(short_pixels) && Contains("truncated"));
    const std::string long_pixels = folder.write("long", idx_images(2, 2, 4, pixels));
    CHECK_THAT(error_message([&] { data::read_idx_images(long_pixels); }), Contains(long_pixels) && Contains("header"));
    const std::string header_cut = folder.write("cut", Bytes{0, 0, 8, 3, 0, 0, 0});
    CHECK_THAT(error_message([&] { data::read_idx_images(header_cut); }), Contains(header_cut) && Contains("truncated"));
    const std::string no_rows = folder.write("no-rows", idx_images(3, 0, 4, {}));
    CHECK_THAT(error_message([&] { data::read_idx_images(no_rows); }), Contains(no_rows));
    // A count so large that count * rows * cols overflows 64 bits must not wrap around to the file size.
    const std::string huge = folder.write("huge", idx_images(0xffffffffu, 0xffffffffu, 0xffffffffu, pixels));
    CHECK_THAT(error_message([&] { data::read_idx_images(huge); }), Contains(huge));
    const std::string few_labels = folder.write("few", idx_labels_with_count(5, {1, 2, 3}));
    CHECK_THAT(error_message([&] { data::read_idx_labels(few_labels); }), Contains(few_labels) && Contains("truncated"));
    const std::string empty = folder.write("empty", {});
    CHECK_THAT(error_message([&] { data::read_idx_labels(empty); }), Contains(empty) && Contains("truncated"));
    CHECK_THAT(error_message([&] { data::read_idx_labels(folder.file("missing")); }), Contains(folder.file("missing")));
}

TEST_CASE("load_mnist reads the split's two files under their official names, gzipped or not", "[data][readers]") {
    Folder folder;
    const Bytes train_pixels = random_bytes(5 * 4 * 3, 7), test_pixels = random_bytes(2 * 4 * 3, 8);
    folder.write("train-images-idx3-ubyte.gz", gzip(idx_images(5, 4, 3, train_pixels)));
    folder.write("train-labels-idx1-ubyte.gz", gzip(idx_labels({0, 1, 2, 3, 9})));
    folder.write("t10k-images-idx3-ubyte", idx_images(2, 4, 3, test_pixels));
    folder.write("t10k-labels-idx1-ubyte", idx_labels({8, 4}));
    const auto train = data::load_mnist(folder.str(), data::Split::train);
    CHECK(train->size() == 5);
    CHECK(train->channels() == 1);
    CHECK(train->height() == 4);
    CHECK(train->width() == 3);
    CHECK(train->labels() == Bytes{0, 1, 2, 3, 9});
    CHECK_THAT(train->get(4).input, tensor_equal(raw(scaled(train_pixels.data() + 48, 12), {1, 4, 3})));
    const auto test = data::load_mnist(folder.str(), data::Split::test, {std::make_shared<data::Normalize>(std::vector<float>{0.5f}, std::vector<float>{0.5f})});
    CHECK(test->size() == 2);
    CHECK(test->transforms.size() == 1);
    CHECK(element(test->get(0).input, {0, 0, 0}) == Approx(static_cast<float>(test_pixels[0]) / 255.0f * 2 - 1).margin(1e-6));

    folder.write("t10k-labels-idx1-ubyte", idx_labels({8, 4, 1}));
    CHECK_THAT(error_message([&] { data::load_mnist(folder.str(), data::Split::test); }),
               Contains("t10k-images-idx3-ubyte") && Contains("t10k-labels-idx1-ubyte") && Contains("2 images") && Contains("3 labels"));
    Folder empty;
    CHECK_THAT(error_message([&] { data::load_mnist(empty.str(), data::Split::train); }),
               Contains(empty.str()) && Contains("train-images-idx3-ubyte") && Contains("tito data fetch"));
}

TEST_CASE("load_cifar10 reads records of a label and three colour planes, and checks them", "[data][readers]") {
    Folder folder;
    // Train: 5 files of 1 or 2 records, labels 0..8 in file order; test: 3 records.
    Bytes all_labels;
    Bytes all_pixels;
    for (int file = 1; file <= 5; ++file) {
        const int records = file % 2 + 1;
        Bytes labels, pixels = random_bytes(static_cast<size_t>(records) * 3072, static_cast<uint64_t>(file));
        for (int r = 0; r < records; ++r) labels.push_back(static_cast<uint8_t>(all_labels.size() + static_cast<size_t>(r)));
        folder.write("data_batch_" + std::to_string(file) + ".bin", cifar_records(labels, pixels));
        all_labels.insert(all_labels.end(), labels.begin(), labels.end());
        all_pixels.insert(all_pixels.end(), pixels.begin(), pixels.end());
    }
    const auto train = data::load_cifar10(folder.str(), data::Split::train);
    CHECK(train->size() == 8);
    CHECK(train->labels() == all_labels);
    CHECK(train->pixels() == all_pixels);

    Bytes planes(3 * 3072);
    for (size_t i = 0; i < planes.size(); ++i) planes[i] = static_cast<uint8_t>(i / 1024 * 100 + i % 7);  // R 0.., G 100.., B 200..
    folder.write("test_batch.bin", cifar_records({9, 0, 5}, planes));
    const auto test = data::load_cifar10(folder.str(), data::Split::test);
    REQUIRE(test->size() == 3);
    CHECK(test->channels() == 3);
    CHECK(test->height() == 32);
    CHECK(test->width() == 32);
    const tt::Tensor image = test->get(1).input;
    CHECK(element(image, {0, 0, 0}) == Approx(static_cast<float>(planes[3072]) / 255.0f).margin(1e-6));
    CHECK(element(image, {1, 0, 0}) == Approx(static_cast<float>(planes[3072 + 1024]) / 255.0f).margin(1e-6));
    CHECK(element(image, {2, 31, 31}) == Approx(static_cast<float>(planes[3072 + 3071]) / 255.0f).margin(1e-6));
    CHECK_THAT(test->get(1).target, tensor_equal(raw_scalar(0)));

    const Bytes records = cifar_records({9, 0, 5}, planes);
    const std::string cut = folder.write("test_batch.bin", Bytes(records.begin(), records.end() - 1));
    CHECK_THAT(error_message([&] { data::load_cifar10(folder.str(), data::Split::test); }), Contains(cut) && Contains("3073"));
    const std::string bad_label = folder.write("test_batch.bin", cifar_records({9, 10, 5}, planes));
    CHECK_THAT(error_message([&] { data::load_cifar10(folder.str(), data::Split::test); }),
               Contains(bad_label) && Contains("record 1") && Contains("label 10"));
    const std::string empty = folder.write("test_batch.bin", {});
    CHECK_THAT(error_message([&] { data::load_cifar10(folder.str(), data::Split::test); }), Contains(empty));
    fs::remove(folder.path() / "data_batch_5.bin");
    CHECK_THAT(error_message([&] { data::load_cifar10(folder.str(), data::Split::train); }),
               Contains("data_batch_5.bin") && Contains("tito data fetch cifar10"));
}
