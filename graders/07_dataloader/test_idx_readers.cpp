// test_idx_readers.cpp - module 07 grader: the idx readers and load_mnist on small synthetic files
// written here byte by byte (big-endian headers; plain and gzipped), and every kind of bad file:
// wrong magic, truncated header, truncated or extra pixels, mismatched counts, missing files.
// Every problem must be a tt::Error that names the file.
#include <catch2/catch.hpp>

#include <memory>
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

TEST_CASE("read_idx_images reads count rows and cols from a big-endian header and then the pixels", "[points=3]") {
    Folder folder;
    const Bytes pixels = random_bytes(3 * 2 * 5, 1);
    const data::IdxImages images = data::read_idx_images(folder.write("images", idx_images(3, 2, 5, pixels)));
    CHECK(images.count == 3);
    CHECK(images.rows == 2);  // rows first, then cols
    CHECK(images.cols == 5);
    CHECK(images.pixels == pixels);
}

TEST_CASE("read_idx_images uses all four bytes of each header number", "[points=2]") {
    // 300 = 0x0000012c and 258 = 0x00000102: a reader that looks at one byte, or reads
    // little-endian, gets these wrong.
    Folder folder;
    const Bytes pixels = random_bytes(300 * 1 * 258, 2);
    const data::IdxImages images = data::read_idx_images(folder.write("big", idx_images(300, 1, 258, pixels)));
    CHECK(images.count == 300);
    CHECK(images.rows == 1);
    CHECK(images.cols == 258);
    CHECK(images.pixels == pixels);
    const Bytes tall = random_bytes(2 * 260 * 1, 3);
    CHECK(data::read_idx_images(folder.write("tall", idx_images(2, 260, 1, tall))).rows == 260);
}

TEST_CASE("read_idx_labels reads a big-endian count and that many labels", "[points=2]") {
    Folder folder;
    CHECK(data::read_idx_labels(folder.write("labels", idx_labels({3, 1, 4, 1, 5, 9}))) == Bytes{3, 1, 4, 1, 5, 9});
    const Bytes many = random_bytes(1000, 4);
    CHECK(data::read_idx_labels(folder.write("many", idx_labels(many))) == many);
    CHECK(data::read_idx_labels(folder.write("none", idx_labels({}))).empty());
}

TEST_CASE("the idx readers read gzipped files (through read_bytes)", "[points=2]") {
    Folder folder;
    const Bytes pixels = random_bytes(4 * 3 * 3, 5);
    const data::IdxImages images = data::read_idx_images(folder.write("images.gz", gzip(idx_images(4, 3, 3, pixels))));
    CHECK(images.count == 4);
    CHECK(images.pixels == pixels);
    CHECK(data::read_idx_labels(folder.write("labels.gz", gzip(idx_labels({7, 8, 9, 0})))) == Bytes{7, 8, 9, 0});
}

TEST_CASE("the idx readers refuse a wrong magic number and name the file", "[points=2]") {
    Folder folder;
    const std::string labels = folder.write("labels-file", idx_labels({1, 2, 3}));
    const std::string images = folder.write("images-file", idx_images(2, 1, 2, {1, 2, 3, 4}));
    const std::string other = folder.write("other-file", idx_images(2, 1, 2, {1, 2, 3, 4}, 0x00000802));
    const std::string text = folder.write("text-file", Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!', '!'});
    CHECK_THAT(error_message([&] { data::read_idx_images(labels); }), Contains("labels-file"));
    CHECK_THAT(error_message([&] { data::read_idx_images(other); }), Contains("other-file"));
    CHECK_THAT(error_message([&] { data::read_idx_images(text); }), Contains("text-file"));
    CHECK_THAT(error_message([&] { data::read_idx_labels(images); }), Contains("images-file"));
    CHECK_THAT(error_message([&] { data::read_idx_labels(text); }), Contains("text-file"));
}

TEST_CASE("read_idx_images refuses files shorter or longer than their header says", "[points=3]") {
    Folder folder;
    const Bytes pixels = random_bytes(3 * 2 * 2, 6);
    const std::string short_file = folder.write("short-pixels", idx_images(4, 2, 2, pixels));  // 4 images announced, 3 present
    CHECK_THAT(error_message([&] { data::read_idx_images(short_file); }), Contains("short-pixels"));
    const std::string one_byte_short = folder.write("one-byte-short", idx_images(3, 2, 2, Bytes(pixels.begin(), pixels.end() - 1)));
    CHECK_THAT(error_message([&] { data::read_idx_images(one_byte_short); }), Contains("one-byte-short"));
    const std::string long_file = folder.write("long-pixels", idx_images(2, 2, 2, pixels));  // 2 announced, 3 present
    CHECK_THAT(error_message([&] { data::read_idx_images(long_file); }), Contains("long-pixels"));
    const std::string header_cut = folder.write("cut-header", Bytes{0, 0, 8, 3, 0, 0, 0, 3, 0, 0});
    CHECK_THAT(error_message([&] { data::read_idx_images(header_cut); }), Contains("cut-header"));
    const std::string empty = folder.write("empty-file", {});
    CHECK_THAT(error_message([&] { data::read_idx_images(empty); }), Contains("empty-file"));
    // A header whose count * rows * cols is astronomically large must not wrap around or allocate it.
    const std::string huge = folder.write("huge-header", idx_images(0x7fffffffu, 0x10000u, 0x10000u, pixels));
    CHECK_THAT(error_message([&] { data::read_idx_images(huge); }), Contains("huge-header"));
    // 3 * 2 * (2^31 + 2) = 3 * 2^32 + 12: in 32-bit arithmetic that is the 12 bytes present.
    const std::string wrapped = folder.write("wrapped-header", idx_images(3, 2, 0x80000002u, pixels));
    CHECK_THAT(error_message([&] { data::read_idx_images(wrapped); }), Contains("wrapped-header"));
}

TEST_CASE("read_idx_labels refuses truncated and oversized files", "[points=2]") {
    Folder folder;
    const std::string few = folder.write("few-labels", idx_labels_with_count(5, {1, 2, 3}));
    CHECK_THAT(error_message([&] { data::read_idx_labels(few); }), Contains("few-labels"));
    const std::string many = folder.write("many-labels", idx_labels_with_count(2, {1, 2, 3}));
    CHECK_THAT(error_message([&] { data::read_idx_labels(many); }), Contains("many-labels"));
    const std::string cut = folder.write("cut-labels", Bytes{0, 0, 8, 1, 0});
    CHECK_THAT(error_message([&] { data::read_idx_labels(cut); }), Contains("cut-labels"));
    CHECK_THAT(error_message([&] { data::read_idx_labels(folder.file("missing-labels")); }), Contains("missing-labels"));
}

namespace {

// Writes an MNIST-style folder: train (5 images of 4x3) and t10k (2 images), plain or gzipped.
struct MnistFolder {
    Folder folder;
    Bytes train_pixels = random_bytes(5 * 4 * 3, 7), test_pixels = random_bytes(2 * 4 * 3, 8);
    Bytes train_labels = {5, 0, 4, 1, 9}, test_labels = {7, 2};
    explicit MnistFolder(bool gzipped) {
        const std::string gz = gzipped ? ".gz" : "";
        auto pack = [&](const Bytes& b) { return gzipped ? gzip(b) : b; };
        folder.write("train-images-idx3-ubyte" + gz, pack(idx_images(5, 4, 3, train_pixels)));
        folder.write("train-labels-idx1-ubyte" + gz, pack(idx_labels(train_labels)));
        folder.write("t10k-images-idx3-ubyte" + gz, pack(idx_images(2, 4, 3, test_pixels)));
        folder.write("t10k-labels-idx1-ubyte" + gz, pack(idx_labels(test_labels)));
    }
};

}  // namespace

TEST_CASE("load_mnist reads the train split's two files into one-channel images of rows x cols and labels", "[points=3]") {
    const MnistFolder mnist(false);
    const auto train = data::load_mnist(mnist.folder.str(), data::Split::train);
    REQUIRE(train != nullptr);
    CHECK(train->size() == 5);
    CHECK(train->channels() == 1);
    CHECK(train->height() == 4);  // rows
    CHECK(train->width() == 3);   // cols
    CHECK(train->labels() == mnist.train_labels);
    CHECK(train->pixels() == mnist.train_pixels);
    CHECK_THAT(train->get(3).input, tensor_near(raw(scaled(mnist.train_pixels.data() + 36, 12), {1, 4, 3}), 1e-7, 1e-6));
    CHECK_THAT(train->get(3).target, tensor_equal(raw_scalar(1)));
}

TEST_CASE("load_mnist reads the test split from the t10k files", "[points=2]") {
    const MnistFolder mnist(false);
    const auto test = data::load_mnist(mnist.folder.str(), data::Split::test);
    CHECK(test->size() == 2);
    CHECK(test->labels() == mnist.test_labels);
    CHECK(test->pixels() == mnist.test_pixels);
}

TEST_CASE("load_mnist finds the official gzipped names (.gz) as well", "[points=2]") {
    const MnistFolder mnist(true);
    const auto train = data::load_mnist(mnist.folder.str(), data::Split::train);
    CHECK(train->size() == 5);
    CHECK(train->pixels() == mnist.train_pixels);
    const auto test = data::load_mnist(mnist.folder.str(), data::Split::test);
    CHECK(test->labels() == mnist.test_labels);
}

TEST_CASE("load_mnist passes the transforms on to the data set", "[points=1]") {
    const MnistFolder mnist(true);
    const auto test = data::load_mnist(mnist.folder.str(), data::Split::test,
                                       {std::make_shared<data::Normalize>(std::vector<float>{0.5f}, std::vector<float>{0.25f})});
    REQUIRE(test->transforms.size() == 1);
    std::vector<float> expected = scaled(mnist.test_pixels.data(), 12);
    for (float& v : expected) v = (v - 0.5f) / 0.25f;
    CHECK_THAT(test->get(0).input, tensor_near(raw(expected, {1, 4, 3}), 1e-5, 1e-5));
}

TEST_CASE("load_mnist refuses image and label files with different counts and names both", "[points=1]") {
    MnistFolder mnist(false);
    mnist.folder.write("t10k-labels-idx1-ubyte", idx_labels({7, 2, 1}));
    CHECK_THAT(error_message([&] { data::load_mnist(mnist.folder.str(), data::Split::test); }),
               Contains("t10k-images-idx3-ubyte") && Contains("t10k-labels-idx1-ubyte"));
}

TEST_CASE("load_mnist names the folder and the file when a file is missing", "[points=1]") {
    Folder empty;
    CHECK_THAT(error_message([&] { data::load_mnist(empty.str(), data::Split::train); }),
               Contains(empty.str()) && Contains("train-images-idx3-ubyte"));
    MnistFolder mnist(true);
    fs::remove(mnist.folder.path() / "t10k-labels-idx1-ubyte.gz");
    CHECK(data::load_mnist(mnist.folder.str(), data::Split::train)->size() == 5);  // the train split is complete
    CHECK_THAT(error_message([&] { data::load_mnist(mnist.folder.str(), data::Split::test); }), Contains("t10k-labels-idx1-ubyte"));
}
