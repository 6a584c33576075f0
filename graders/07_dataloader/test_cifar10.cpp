// test_cifar10.cpp - module 07 grader: load_cifar10 on small synthetic files in CIFAR-10's binary
// layout (records of 1 label byte + 3,072 pixel bytes: the red 32x32 plane, then green, then blue).
// Record boundaries, channel planes (not interleaved RGB), the five training files in order, and
// bad files: sizes that are not whole records, labels above 9, missing files.
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

namespace {

// Image r's pixel (c, y, x) = (40 c + 3 y + 7 x + 11 r) mod 256: every plane, row and record differs.
uint8_t pixel(int r, int c, int y, int x) { return static_cast<uint8_t>((40 * c + 3 * y + 7 * x + 11 * r) % 256); }

Bytes planes_of(int records, int first_record = 0) {
    Bytes out;
    for (int r = 0; r < records; ++r)
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < 32; ++y)
                for (int x = 0; x < 32; ++x) out.push_back(pixel(first_record + r, c, y, x));
    return out;
}

// The five training files with 2, 1, 3, 1, 2 records (9 in all), labels 0..8 in file order, and a
// test file of 4 records.
struct CifarFolder {
    Folder folder;
    CifarFolder() {
        const int counts[5] = {2, 1, 3, 1, 2};
        int record = 0;
        for (int file = 0; file < 5; ++file) {
            Bytes labels;
            for (int r = 0; r < counts[file]; ++r) labels.push_back(static_cast<uint8_t>(record + r));
            folder.write("data_batch_" + std::to_string(file + 1) + ".bin", cifar_records(labels, planes_of(counts[file], record)));
            record += counts[file];
        }
        folder.write("test_batch.bin", cifar_records({9, 0, 3, 9}, planes_of(4, 100)));
    }
};

}  // namespace

TEST_CASE("load_cifar10 reads each record's label and its three colour planes as images of 3x32x32", "[points=3]") {
    const CifarFolder cifar;
    const auto test = data::load_cifar10(cifar.folder.str(), data::Split::test);
    REQUIRE(test != nullptr);
    REQUIRE(test->size() == 4);
    CHECK(test->channels() == 3);
    CHECK(test->height() == 32);
    CHECK(test->width() == 32);
    CHECK(test->labels() == Bytes{9, 0, 3, 9});
    for (int r : {0, 1, 3}) {
        INFO("record " << r);
        const data::Example e = test->get(r);
        REQUIRE(e.input.shape() == tt::Shape{3, 32, 32});
        // Spot checks by hand, then the whole image.
        CHECK(element(e.input, {0, 0, 0}) == Approx(static_cast<float>(pixel(100 + r, 0, 0, 0)) / 255.0f).margin(1e-6));
        CHECK(element(e.input, {1, 0, 0}) == Approx(static_cast<float>(pixel(100 + r, 1, 0, 0)) / 255.0f).margin(1e-6));  // green plane, not pixel 1's red
        CHECK(element(e.input, {2, 5, 9}) == Approx(static_cast<float>(pixel(100 + r, 2, 5, 9)) / 255.0f).margin(1e-6));
        CHECK(element(e.input, {0, 31, 31}) == Approx(static_cast<float>(pixel(100 + r, 0, 31, 31)) / 255.0f).margin(1e-6));
        const Bytes expected = planes_of(1, 100 + r);
        CHECK_THAT(e.input, tensor_near(raw(scaled(expected.data(), 3072), {3, 32, 32}), 1e-7, 1e-6));
    }
}

TEST_CASE("load_cifar10 keeps the pixel bytes in the file's channels-first order", "[points=2]") {
    const CifarFolder cifar;
    const auto test = data::load_cifar10(cifar.folder.str(), data::Split::test);
    CHECK(test->pixels() == planes_of(4, 100));  // the label bytes are not among the pixels
}

TEST_CASE("load_cifar10 train concatenates data_batch_1 to data_batch_5 in order", "[points=3]") {
    const CifarFolder cifar;
    const auto train = data::load_cifar10(cifar.folder.str(), data::Split::train);
    REQUIRE(train->size() == 9);
    CHECK(train->labels() == Bytes{0, 1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(train->pixels() == planes_of(9, 0));
    const data::Batch b = train->get_batch({8, 2});
    CHECK_THAT(b.targets, tensor_equal(nested({8, 2})));
    CHECK(element(b.inputs, {0, 2, 31, 0}) == Approx(static_cast<float>(pixel(8, 2, 31, 0)) / 255.0f).margin(1e-6));
}

TEST_CASE("load_cifar10 passes the transforms on to the data set", "[points=1]") {
    const CifarFolder cifar;
    const auto test = data::load_cifar10(cifar.folder.str(), data::Split::test,
                                         {std::make_shared<data::RandomHorizontalFlip>(1.0f, 0)});
    REQUIRE(test->transforms.size() == 1);
    CHECK(element(test->get(2).input, {1, 4, 0}) == Approx(static_cast<float>(pixel(102, 1, 4, 31)) / 255.0f).margin(1e-6));
}

TEST_CASE("load_cifar10 refuses a file that is not a whole number of 3073-byte records", "[points=2]") {
    for (long cut : {1L, 3072L, 3074L}) {
        CifarFolder cifar;
        const Bytes whole = cifar_records({1, 2}, planes_of(2));
        cifar.folder.write("test_batch.bin", Bytes(whole.begin(), whole.end() - cut));
        INFO(cut << " bytes cut from the end");
        CHECK_THAT(error_message([&] { data::load_cifar10(cifar.folder.str(), data::Split::test); }), Contains("test_batch.bin"));
    }
    CifarFolder cifar;
    Bytes longer = cifar_records({1}, planes_of(1));
    longer.push_back(0);
    cifar.folder.write("data_batch_3.bin", longer);
    CHECK_THAT(error_message([&] { data::load_cifar10(cifar.folder.str(), data::Split::train); }), Contains("data_batch_3.bin"));
}

TEST_CASE("load_cifar10 refuses a label above 9 and names the file", "[points=2]") {
    CifarFolder cifar;
    cifar.folder.write("test_batch.bin", cifar_records({3, 10, 4}, planes_of(3)));
    CHECK_THAT(error_message([&] { data::load_cifar10(cifar.folder.str(), data::Split::test); }), Contains("test_batch.bin"));
    cifar.folder.write("data_batch_5.bin", cifar_records({0, 255}, planes_of(2)));
    CHECK_THAT(error_message([&] { data::load_cifar10(cifar.folder.str(), data::Split::train); }), Contains("data_batch_5.bin"));
}

TEST_CASE("load_cifar10 names the missing file", "[points=1]") {
    CifarFolder cifar;
    fs::remove(cifar.folder.path() / "data_batch_4.bin");
    CHECK_THAT(error_message([&] { data::load_cifar10(cifar.folder.str(), data::Split::train); }), Contains("data_batch_4.bin"));
    CHECK(data::load_cifar10(cifar.folder.str(), data::Split::test)->size() == 4);
    Folder empty;
    CHECK_THAT(error_message([&] { data::load_cifar10(empty.str(), data::Split::test); }), Contains("test_batch.bin"));
}
