// test_training_visible.cpp - visible tests of module 10 (training).
//
// `tito test 10` runs these and the hidden tests; hidden tests look like these, with more cases:
// accuracy on any layout and with NaN, evaluate restoring the mode after an exception, the
// progress bar in a log and on a terminal, the checkpoint's exact bytes, every kind of malformed
// file (and every truncation and flipped bit of one), atomic replacement, restoring buffers and
// optimizer state, the Trainer's weights compared bit for bit with the loop written out by hand,
// hooks, early stopping, the best checkpoint and resuming a run.
//
// Expected values never come from your code: they are worked out by hand in the comments, or come
// from modules 04-08 (whose reference is linked while you work on this one).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/data.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optim.h"
#include "tinytorch/training.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

// A scratch file name in the test's working folder, removed at the end.
struct ScratchFile {
    explicit ScratchFile(std::string name) : path(std::move(name)) { std::filesystem::remove(path); }
    ~ScratchFile() {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
    std::vector<uint8_t> bytes() const {
        std::ifstream in(path, std::ios::binary);
        return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    std::string path;
};

// Two points per class on either side of the origin: label 1 when x0 + x1 > 0.
std::shared_ptr<tt::data::TensorDataset> four_points() {
    return std::make_shared<tt::data::TensorDataset>(nested({{-2, -1}, {1, 2}, {-1, -2}, {2, 1}}), nested({0, 1, 0, 1}));
}

}  // namespace

TEST_CASE("accuracy counts the rows whose largest score is the target", "[visible][points=2]") {
    // argmax per row (along dim 1, the classes): 2, 0, 1 - the first of two equal maxima
    const tt::Tensor logits = nested({{0, 1, 3}, {4, 2, 2}, {1, 5, 5}});
    CHECK(tt::accuracy(logits, nested({2, 0, 1})) == 1.0);
    CHECK(tt::accuracy(logits, nested({2, 1, 2})) == Approx(1.0 / 3.0));
    CHECK_THAT(error_message([&] { tt::accuracy(logits, nested({0, 1})); }), Contains("accuracy") && Contains("(2)"));
}

TEST_CASE("evaluate is a mean over examples in eval mode and restores the mode", "[visible][points=2]") {
    // Batches of 3 and 1. The "loss" is the mean of the targets of a batch: 1/3 and 1. Over
    // examples: (0 + 1 + 0 + 1) / 4 = 0.5 - not the mean of the batch means, (1/3 + 1) / 2.
    tt::Linear model(2, 2);
    tt::data::DataLoader loader(four_points(), {.batch_size = 3});
    auto loss = [](const tt::Tensor&, const tt::Tensor& target) { return target.mean(); };
    model.train();
    const tt::Evaluation e = tt::evaluate(model, loader, loss);
    CHECK(e.loss == Approx(0.5));
    CHECK(e.examples == 4);
    CHECK(model.is_training());  // back in the mode it was in
    CHECK(tt::is_grad_enabled());
}

TEST_CASE("ProgressBar eta and a log with one line per 10 percent", "[visible][points=2]") {
    CHECK(tt::ProgressBar::eta(10.0, 1, 4) == "0:30");       // 10 s per step, 3 steps to go
    CHECK(tt::ProgressBar::eta(3723.0, 1, 2) == "1:02:03");  // from one hour on: H:MM:SS
    CHECK(tt::ProgressBar::eta(1.0, 0, 4) == "?");           // no step yet: no pace to go by
    std::ostringstream log;
    tt::ProgressBar bar(100, "epoch 1/5", log, /*interactive=*/false);
    for (int64_t done = 1; done <= 100; ++done) bar.update(done, done * 32);
    bar.finish("loss 0.1234");
    std::istringstream lines(log.str());
    std::vector<std::string> all;
    for (std::string line; std::getline(lines, line);) all.push_back(line);
    REQUIRE(all.size() == 11);  // 1, 10, 20, ..., 90 of 100, then finish()
    CHECK_THAT(all[0], Contains("epoch 1/5") && Contains("1/100") && Contains("img/s") && Contains("ETA"));
    CHECK_THAT(all[10], Contains("100/100") && Contains("loss 0.1234"));
}

TEST_CASE("a checkpoint with one number is the documented bytes", "[visible][points=2]") {
    ScratchFile file("visible.ttckpt");
    tt::Checkpoint c;
    c.numbers["lr"] = 0.5;
    tt::save_checkpoint(file.path, c);
    // magic, version 1, count 1, kind 1, name length 2, "lr", 0.5 as f64 - all little-endian
    std::vector<uint8_t> expected = {'T', 'T', 'C', 'K', 'P', 'T', '\r', '\n', 1, 0, 0, 0, 1, 0, 0, 0,
                                     1, 2, 0, 0, 0, 'l', 'r', 0, 0, 0, 0, 0, 0, 0xe0, 0x3f};
    uint64_t hash = 14695981039346656037ULL;  // FNV-1a of every byte so far
    for (uint8_t b : expected) hash = (hash ^ b) * 1099511628211ULL;
    for (int i = 0; i < 8; ++i) expected.push_back(static_cast<uint8_t>(hash >> (8 * i)));
    CHECK(file.bytes() == expected);
    CHECK(tt::load_checkpoint(file.path).numbers.at("lr") == 0.5);
}

TEST_CASE("a damaged or truncated checkpoint is a tt::Error naming the file", "[visible][points=2]") {
    ScratchFile file("damaged.ttckpt");
    tt::Checkpoint c;
    c.tensors["w"] = nested({1, 2, 3});
    tt::save_checkpoint(file.path, c);
    std::vector<uint8_t> bytes = file.bytes();
    bytes[bytes.size() - 10] ^= 1;  // one bit of the last value
    std::ofstream(file.path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    CHECK_THAT(error_message([&] { tt::load_checkpoint(file.path); }), Contains("damaged.ttckpt") && Contains("damaged"));
    std::ofstream(file.path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 20);
    CHECK_THAT(error_message([&] { tt::load_checkpoint(file.path); }), Contains("damaged.ttckpt") && Contains("truncated"));
}

TEST_CASE("restore_checkpoint brings a model's weights back in place", "[visible][points=2]") {
    tt::Generator a(1), b(2);
    tt::Linear trained(3, 2, true, &a), fresh(3, 2, true, &b);
    const tt::Tensor handle = fresh.weight;
    tt::restore_checkpoint(tt::make_checkpoint(trained), fresh);
    CHECK_THAT(fresh.weight, tensor_equal(trained.weight));
    CHECK_THAT(fresh.bias, tensor_equal(trained.bias));
    CHECK(fresh.weight.is_same(handle));  // copied into the same tensor: an optimizer holding it sees the values
    tt::Linear wider(4, 2);
    CHECK_THAT(error_message([&] { tt::restore_checkpoint(tt::make_checkpoint(wider), fresh); }), Contains("model.weight"));
}

TEST_CASE("the Trainer learns four separable points", "[visible][points=2]") {
    auto model = std::make_shared<tt::Linear>(2, 2);
    tt::data::DataLoader train(four_points(), {.batch_size = 2});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.5f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = 20, .progress = false});
    const tt::History h = trainer.fit(train);
    REQUIRE(h.epochs.size() == 20);
    CHECK(h.epochs.back().train_loss < h.epochs.front().train_loss);
    CHECK(h.epochs.back().train_accuracy == 1.0);
    CHECK(h.epochs[4].epoch == 5);
}
