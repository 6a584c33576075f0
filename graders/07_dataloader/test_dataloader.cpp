// test_dataloader.cpp - module 07 grader: the DataLoader. Batches in order with a short last one,
// drop_last, num_batches, the header's Fisher-Yates from the loader's Generator (checked against
// data_helpers::fisher_yates with a tt::Generator seeded alike), a new permutation every epoch,
// the same sequence for the same seed, batch(order, k), errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "data_helpers.h"
#include "grading.h"
#include "tinytorch/data.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace data_helpers;
using Catch::Matchers::Contains;
namespace data = tt::data;

namespace {

// N examples: input i is [i, -i], target i. A batch's targets are the indices it holds.
std::shared_ptr<data::TensorDataset> numbered(int64_t n) {
    std::vector<float> inputs;
    for (int64_t i = 0; i < n; ++i) {
        inputs.push_back(static_cast<float>(i));
        inputs.push_back(-static_cast<float>(i));
    }
    return std::make_shared<data::TensorDataset>(raw(inputs, {n, 2}), iota({n}));
}

std::vector<int64_t> indices_of(const data::Batch& batch) {
    std::vector<int64_t> out;
    for (float v : values_of(batch.targets)) out.push_back(static_cast<int64_t>(v));
    return out;
}

// Every batch of one epoch (one range-for), as lists of example indices.
std::vector<std::vector<int64_t>> epoch(data::DataLoader& loader) {
    std::vector<std::vector<int64_t>> batches;
    for (const data::Batch& batch : loader) {
        batches.push_back(indices_of(batch));
        // The inputs must belong to the same examples as the targets.
        const std::vector<float> inputs = values_of(batch.inputs);
        for (size_t k = 0; k < batches.back().size(); ++k) {
            REQUIRE(inputs[2 * k] == static_cast<float>(batches.back()[k]));
            REQUIRE(inputs[2 * k + 1] == -static_cast<float>(batches.back()[k]));
        }
    }
    return batches;
}

std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& batches) {
    std::vector<int64_t> out;
    for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
    return out;
}

std::vector<std::vector<int64_t>> chunks(const std::vector<int64_t>& order, size_t size, bool drop_last) {
    std::vector<std::vector<int64_t>> out;
    for (size_t start = 0; start < order.size(); start += size) {
        const size_t stop = std::min(order.size(), start + size);
        if (drop_last && stop - start < size) break;
        out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start), order.begin() + static_cast<std::ptrdiff_t>(stop));
    }
    return out;
}

}  // namespace

TEST_CASE("num_batches is ceil(N / B) or floor(N / B) with drop_last", "[points=2]") {
    struct Case {
        int64_t n, batch_size;
        int64_t expected, expected_drop_last;
    };
    for (const Case& c : std::vector<Case>{{10, 4, 3, 2}, {8, 4, 2, 2}, {3, 5, 1, 0}, {1, 1, 1, 1}, {64, 64, 1, 1},
                                           {65, 64, 2, 1}, {0, 4, 0, 0}, {1000, 7, 143, 142}}) {
        INFO("N = " << c.n << ", batch_size = " << c.batch_size);
        CHECK(data::DataLoader(numbered(c.n), {.batch_size = c.batch_size}).num_batches() == c.expected);
        CHECK(data::DataLoader(numbered(c.n), {.batch_size = c.batch_size, .drop_last = true}).num_batches() ==
              c.expected_drop_last);
    }
}

TEST_CASE("an unshuffled DataLoader serves the examples in order with a short last batch", "[points=3]") {
    data::DataLoader loader(numbered(10), {.batch_size = 4});
    const auto batches = epoch(loader);
    CHECK(batches == std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
    // The same again next epoch.
    CHECK(epoch(loader) == batches);
    data::DataLoader whole(numbered(3), {.batch_size = 8});
    CHECK(epoch(whole) == std::vector<std::vector<int64_t>>{{0, 1, 2}});
    data::DataLoader ones(numbered(3), {.batch_size = 1});
    CHECK(epoch(ones) == std::vector<std::vector<int64_t>>{{0}, {1}, {2}});
}

TEST_CASE("drop_last drops only a short last batch", "[points=2]") {
    data::DataLoader short_last(numbered(10), {.batch_size = 4, .drop_last = true});
    CHECK(epoch(short_last) == std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}});
    data::DataLoader full_last(numbered(8), {.batch_size = 4, .drop_last = true});
    CHECK(epoch(full_last) == std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}});
    data::DataLoader too_small(numbered(3), {.batch_size = 4, .drop_last = true});
    CHECK(epoch(too_small).empty());
    data::DataLoader shuffled(numbered(11), {.batch_size = 3, .shuffle = true, .drop_last = true, .seed = 4});
    const auto batches = epoch(shuffled);
    CHECK(batches.size() == 3);
    for (const auto& b : batches) CHECK(b.size() == 3);
}

TEST_CASE("an empty data set gives no batches", "[points=1]") {
    data::DataLoader loader(numbered(0), {.batch_size = 4, .shuffle = true});
    CHECK(loader.num_batches() == 0);
    CHECK(epoch(loader).empty());
    CHECK(loader.next_epoch_order().empty());
}

TEST_CASE("next_epoch_order is the header's Fisher-Yates drawn from the loader's Generator", "[points=3]") {
    for (int64_t n : {2, 10, 1000}) {
        for (uint64_t seed : {0u, 1u, 2024u}) {
            data::DataLoader loader(numbered(n), {.batch_size = 7, .shuffle = true, .seed = seed});
            tt::Generator gen(seed);
            for (int e = 0; e < 3; ++e) {
                INFO("N = " << n << ", seed " << seed << ", epoch " << e);
                REQUIRE(loader.next_epoch_order() == fisher_yates(n, gen));
            }
        }
    }
}

TEST_CASE("a shuffling DataLoader serves each epoch's permutation batch after batch", "[points=3]") {
    data::DataLoader loader(numbered(23), {.batch_size = 5, .shuffle = true, .seed = 99});
    tt::Generator gen(99);
    for (int e = 0; e < 4; ++e) {
        INFO("epoch " << e);
        const std::vector<int64_t> order = fisher_yates(23, gen);
        CHECK(epoch(loader) == chunks(order, 5, false));
    }
    CHECK(loader.epochs_started() == 4);
}

TEST_CASE("every shuffled epoch is a permutation of 0..N-1 and differs from the one before", "[points=2]") {
    data::DataLoader loader(numbered(200), {.batch_size = 16, .shuffle = true, .seed = 3});
    std::vector<int64_t> identity(200);
    std::iota(identity.begin(), identity.end(), 0);
    std::vector<int64_t> previous;
    std::set<std::vector<int64_t>> distinct;
    for (int e = 0; e < 6; ++e) {
        const std::vector<int64_t> order = flatten(epoch(loader));
        std::vector<int64_t> sorted = order;
        std::sort(sorted.begin(), sorted.end());
        INFO("epoch " << e);
        CHECK(sorted == identity);  // each example exactly once
        CHECK(order != identity);
        CHECK(order != previous);
        distinct.insert(order);
        previous = order;
    }
    CHECK(distinct.size() == 6);
}

TEST_CASE("two loaders with the same seed serve the same epochs; another seed serves others", "[points=2]") {
    data::DataLoader a(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 5});
    data::DataLoader b(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 5});
    data::DataLoader c(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 6});
    for (int e = 0; e < 3; ++e) {
        const auto first = epoch(a);
        CHECK(epoch(b) == first);
        CHECK(epoch(c) != first);
    }
    // A loader's epochs do not depend on the default generator or on other loaders.
    data::DataLoader d(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 5});
    tt::manual_seed(12345);
    tt::default_generator().next_u64();
    data::DataLoader e(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 5});
    CHECK(epoch(d) == epoch(e));
}

TEST_CASE("batch(order k) returns the examples order from k times B to k times B + B and refuses a k out of range", "[points=2]") {
    data::DataLoader loader(numbered(10), {.batch_size = 4});
    const std::vector<int64_t> order = {9, 3, 0, 7, 1, 8, 2, 6, 4, 5};
    CHECK(indices_of(loader.batch(order, 0)) == std::vector<int64_t>{9, 3, 0, 7});
    CHECK(indices_of(loader.batch(order, 1)) == std::vector<int64_t>{1, 8, 2, 6});
    CHECK(indices_of(loader.batch(order, 2)) == std::vector<int64_t>{4, 5});
    const data::Batch b = loader.batch(order, 2);
    CHECK_THAT(b.inputs, tensor_equal(nested({{4, -4}, {5, -5}})));
    CHECK_THAT(error_message([&] { loader.batch(order, 3); }), Contains("3"));
    CHECK_THAT(error_message([&] { loader.batch(order, -1); }), Contains("-1"));
    data::DataLoader dropping(numbered(10), {.batch_size = 4, .drop_last = true});
    CHECK(indices_of(dropping.batch(order, 1)) == std::vector<int64_t>{1, 8, 2, 6});
    CHECK_THAT(error_message([&] { dropping.batch(order, 2); }), Contains("2"));
}

TEST_CASE("an epoch is counted when it starts and without shuffle every order is 0..N-1", "[points=1]") {
    data::DataLoader loader(numbered(6), {.batch_size = 4, .shuffle = true, .seed = 8});
    CHECK(loader.epochs_started() == 0);
    for (const data::Batch& batch : loader) {
        (void)batch;
        break;  // an epoch abandoned after one batch still counts
    }
    CHECK(loader.epochs_started() == 1);
    loader.next_epoch_order();
    CHECK(loader.epochs_started() == 2);
    epoch(loader);
    CHECK(loader.epochs_started() == 3);
    data::DataLoader plain(numbered(6), {.batch_size = 4});
    const std::vector<int64_t> identity = {0, 1, 2, 3, 4, 5};
    CHECK(plain.next_epoch_order() == identity);
    CHECK(plain.next_epoch_order() == identity);
}

TEST_CASE("DataLoader refuses a batch_size below 1 and a null data set", "[points=1]") {
    CHECK_THAT(error_message([] { data::DataLoader(numbered(3), {.batch_size = 0}); }), Contains("batch_size"));
    CHECK_THAT(error_message([] { data::DataLoader(numbered(3), {.batch_size = -4}); }), Contains("batch_size"));
    CHECK_THAT(error_message([] { data::DataLoader(nullptr, {.batch_size = 2}); }), Contains("DataLoader"));
}

TEST_CASE("a DataLoader over an ImageDataset serves image batches with their own labels", "[points=2]") {
    // Image i is filled with the byte 10 i and labelled i: each batch's images must match its labels.
    Bytes pixels, labels;
    for (int i = 0; i < 13; ++i) {
        for (int p = 0; p < 2 * 3 * 2; ++p) pixels.push_back(static_cast<uint8_t>(10 * i));
        labels.push_back(static_cast<uint8_t>(i));
    }
    auto images = std::make_shared<data::ImageDataset>(pixels, labels, 2, 3, 2);
    data::DataLoader loader(images, {.batch_size = 5, .shuffle = true, .seed = 17});
    tt::Generator gen(17);
    const std::vector<int64_t> order = fisher_yates(13, gen);
    int64_t k = 0;
    for (const data::Batch& batch : loader) {
        const int64_t size = k < 2 ? 5 : 3;
        REQUIRE(batch.inputs.shape() == tt::Shape{size, 2, 3, 2});
        REQUIRE(batch.targets.shape() == tt::Shape{size});
        for (int64_t b = 0; b < size; ++b) {
            const int64_t index = order[static_cast<size_t>(k * 5 + b)];
            INFO("batch " << k << ", row " << b);
            CHECK(element(batch.targets, {b}) == static_cast<float>(index));
            CHECK(element(batch.inputs, {b, 1, 2, 1}) == Approx(static_cast<float>(10 * index) / 255.0f).margin(1e-6));
        }
        ++k;
    }
    CHECK(k == 3);
}
