// test_capstone_visible.cpp - visible tests of module 20 (capstone).
//
// `tito test 20` runs these and the hidden tests; hidden tests look like these, with more cases.
// gpt track: logits() against module 14's GPT forward (one token, several lengths up to the full
// context, a model without biases and with an untied head, a checkpoint with dropout), greedy text
// against a greedy loop over the forward pass (prompts of several lengths, up to the full context),
// ties to the smallest id, calls that start fresh sequences, errors (too long, empty prompt, ids
// outside the vocabulary, a missing or broken checkpoint named in the message).
// cifar track, on synthetic images whose class is their colour: cifar_train returns within short
// budgets and learns (held-out accuracy), cifar_predict gives one label in 0-9 per image for B = 1
// and B = 250, and an image's label does not depend on the other images of its batch.
//
// Nothing here needs real data: the GPT is random and saved to a temporary file, the images are made up.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/capstone.h"
#include "tinytorch/transformer.h"

using namespace tt::testing;

namespace {

// A random GPT saved to a temporary checkpoint, and its forward pass computed by module 14.
struct SavedGpt {
    tt::GPTConfig config{.vocab_size = 11, .context_length = 8, .num_layers = 2, .num_heads = 2, .embed_dim = 16};
    std::shared_ptr<tt::GPT> model;
    // one file per process: tests run in parallel, each in its own process
    std::string path =
        (std::filesystem::temp_directory_path() / ("tt_capstone_visible_" + std::to_string(::getpid()) + ".ttc")).string();
    SavedGpt() {
        tt::manual_seed(20);
        model = std::make_shared<tt::GPT>(config);
        tt::save_gpt(path, *model);
    }
    ~SavedGpt() { std::filesystem::remove(path); }
    std::vector<float> forward(const std::vector<int64_t>& ids) {
        tt::NoGradGuard no_grad;
        model->eval();
        std::vector<float> values(ids.begin(), ids.end());
        return values_of((*model)(raw(values, {1, static_cast<int64_t>(ids.size())})));
    }
};

}  // namespace

TEST_CASE("gpt: logits equal the GPT's forward pass", "[visible][points=1]") {
    SavedGpt saved;
    auto gpt = tt::capstone::gpt_load(saved.path);
    CHECK(gpt->vocab_size() == 11);
    CHECK(gpt->context_length() == 8);
    const std::vector<int64_t> ids = {3, 1, 4, 1, 5};
    const std::vector<float> want = saved.forward(ids), got = gpt->logits(ids);
    REQUIRE(got.size() == want.size());  // T * V
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-4));
}

TEST_CASE("gpt: greedy decoding appends the largest logit's id", "[visible][points=1]") {
    SavedGpt saved;
    auto gpt = tt::capstone::gpt_load(saved.path);
    std::vector<int64_t> sequence = {2, 7};
    const std::vector<int64_t> got = gpt->generate_greedy(sequence, 3);
    for (int64_t step = 0; step < 3; ++step) {  // the slow way: the whole forward pass per token
        const std::vector<float> logits = saved.forward(sequence);
        const size_t last = (sequence.size() - 1) * 11;
        int64_t best = 0;
        for (int64_t v = 1; v < 11; ++v)
            if (logits[last + v] > logits[last + best]) best = v;
        sequence.push_back(best);
    }
    CHECK(got == std::vector<int64_t>(sequence.begin() + 2, sequence.end()));
}

TEST_CASE("cifar: train within the budget then one label in 0-9 per image", "[visible][points=1]") {
    // 20 made-up images of two colours, a budget of one second
    std::vector<uint8_t> pixels, labels;
    for (int n = 0; n < 20; ++n) {
        labels.push_back(static_cast<uint8_t>(n % 2));
        for (int i = 0; i < 3 * 32 * 32; ++i) pixels.push_back(n % 2 ? 230 : 25);
    }
    auto train_set = std::make_shared<tt::data::ImageDataset>(pixels, labels, 3, 32, 32);
    const auto start = std::chrono::steady_clock::now();
    tt::capstone::Budget budget(1.0);
    std::shared_ptr<tt::Module> model = tt::capstone::cifar_train(train_set, budget);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <= 1.5);
    REQUIRE(model != nullptr);
    const std::vector<int64_t> predicted = tt::capstone::cifar_predict(*model, raw(std::vector<float>(3 * 3 * 32 * 32, 0.5f), {3, 3, 32, 32}));
    REQUIRE(predicted.size() == 3);
    for (int64_t label : predicted) CHECK((label >= 0 && label <= 9));
}
