// test_gpt_inference.cpp - module 20 grader, gpt track: gpt_load and GptInference (gpt_inference.cpp).
// The competition scores tokens/s only when the numbers are the GPT's: logits within round-off of
// the GPT's forward pass (the perplexity gate) and greedy text identical to the reference's. Every
// expected value here comes from module 14's GPT (the reference engine, not the code under test)
// through capstone_fixtures.h, on a random model saved to a temporary checkpoint.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "capstone_fixtures.h"
#include "grading.h"
#include "tinytorch/capstone.h"
#include "tinytorch/errors.h"
#include "tinytorch/transformer.h"

using namespace capstone_fixtures;
using Catch::Matchers::Contains;
using tt::capstone::GptInference;

namespace {

// Small enough to run the slow greedy loop in a grader, big enough to have several heads and layers.
const tt::GPTConfig small{.vocab_size = 13, .context_length = 12, .num_layers = 2, .num_heads = 2, .embed_dim = 16};
// The gpt milestone's vocabulary (tiny-shakespeare's 65 characters) and heads, a shorter context.
const tt::GPTConfig medium{.vocab_size = 65, .context_length = 24, .num_layers = 3, .num_heads = 4, .embed_dim = 32};

// The model saved with save_gpt and loaded back through the code under test.
struct Loaded {
    std::shared_ptr<tt::GPT> model;
    TemporaryFile file;
    std::unique_ptr<GptInference> gpt;
    Loaded(const tt::GPTConfig& config, uint64_t seed, const std::string& name) : model(random_gpt(config, seed)), file(name) {
        tt::save_gpt(file.path, *model);
        gpt = tt::capstone::gpt_load(file.path);
        REQUIRE(gpt != nullptr);
    }
};

// Logits equal within float round-off: |a - b| <= 1e-4 * max(1, |b|) for every element.
void check_logits(const std::vector<float>& got, const std::vector<float>& want) {
    REQUIRE(got.size() == want.size());
    size_t worst = 0;
    float worst_excess = -INFINITY;
    for (size_t i = 0; i < got.size(); ++i) {
        const float excess = std::fabs(got[i] - want[i]) - 1e-4f * std::max(1.0f, std::fabs(want[i]));
        if (!(excess <= worst_excess)) {
            worst_excess = excess;
            worst = i;
        }
    }
    INFO("worst element " << worst << ": got " << got[worst] << ", the GPT's forward gives " << want[worst]);
    CHECK(worst_excess <= 0.0f);
}

// A prompt of `length` ids spread over the vocabulary.
std::vector<int64_t> prompt_of(int64_t length, int64_t V, int64_t shift = 0) {
    std::vector<int64_t> ids;
    for (int64_t i = 0; i < length; ++i) ids.push_back((7 * i + 3 + shift) % V);
    return ids;
}

}  // namespace

TEST_CASE("gpt_load reads the checkpoint's sizes: vocab_size and context_length", "[points=4]") {
    Loaded a(small, 1, "sizes_small");
    CHECK(a.gpt->vocab_size() == 13);
    CHECK(a.gpt->context_length() == 12);
    Loaded b(medium, 2, "sizes_medium");
    CHECK(b.gpt->vocab_size() == 65);
    CHECK(b.gpt->context_length() == 24);
}

TEST_CASE("gpt_load names the file it cannot load", "[points=4]") {
    const std::string missing = (std::filesystem::temp_directory_path() / "tt_capstone_no_such_checkpoint.ttc").string();
    CHECK_THROWS_WITH(tt::capstone::gpt_load(missing), Contains("tt_capstone_no_such_checkpoint.ttc"));
    TemporaryFile garbage("garbage");
    std::ofstream(garbage.path) << "not a checkpoint at all";
    CHECK_THROWS_WITH(tt::capstone::gpt_load(garbage.path), Contains(garbage.path));
}

TEST_CASE("logits of one token equal the GPT's forward", "[points=8]") {
    Loaded loaded(medium, 3, "one_token");
    for (int64_t id : {0, 17, 64}) {
        INFO("token " << id);
        check_logits(loaded.gpt->logits({id}), forward_logits(*loaded.model, {id}));
    }
}

TEST_CASE("logits of every position equal the GPT's forward up to the full context", "[points=10]") {
    Loaded loaded(medium, 4, "all_positions");
    for (int64_t T : {2, 7, 24}) {
        INFO("T = " << T);
        const std::vector<int64_t> ids = prompt_of(T, 65);
        const std::vector<float> got = loaded.gpt->logits(ids);
        CHECK(got.size() == static_cast<size_t>(T * 65));
        check_logits(got, forward_logits(*loaded.model, ids));
    }
}

TEST_CASE("logits of a GPT without biases and with an untied head equal its forward", "[points=6]") {
    const tt::GPTConfig plain{.vocab_size = 9, .context_length = 10, .num_layers = 2, .num_heads = 4, .embed_dim = 16,
                              .bias = false, .tie_weights = false};
    Loaded loaded(plain, 5, "untied");
    const std::vector<int64_t> ids = prompt_of(10, 9);
    check_logits(loaded.gpt->logits(ids), forward_logits(*loaded.model, ids));
}

TEST_CASE("inference ignores the checkpoint's dropout (eval mode)", "[points=6]") {
    tt::GPTConfig with_dropout = medium;
    with_dropout.dropout = 0.5f;
    Loaded loaded(with_dropout, 6, "dropout");
    const std::vector<int64_t> ids = prompt_of(16, 65);
    const std::vector<float> want = forward_logits(*loaded.model, ids);  // eval mode: no dropout
    check_logits(loaded.gpt->logits(ids), want);
    check_logits(loaded.gpt->logits(ids), want);  // and again: nothing random
}

TEST_CASE("generate_greedy writes what a greedy loop over the GPT's forward writes", "[points=12]") {
    Loaded loaded(medium, 15, "greedy");
    struct Case {
        std::vector<int64_t> prompt;
        int64_t new_tokens;
    };
    const std::vector<Case> cases = {{{5}, 10}, {prompt_of(6, 65, 1), 9}, {prompt_of(4, 65, 2), 20}};  // the last fills the context
    for (const Case& c : cases) {
        const Greedy want = greedy_by_forward(*loaded.model, c.prompt, c.new_tokens);
        REQUIRE(want.smallest_gap > 1e-3f);  // the case itself is sound: no choice hinges on round-off
        const std::vector<int64_t> got = loaded.gpt->generate_greedy(c.prompt, c.new_tokens);
        INFO("prompt " << ids_text(c.prompt) << "\ngenerated " << ids_text(got) << "\nexpected  " << ids_text(want.tokens));
        CHECK(got == want.tokens);
    }
}

TEST_CASE("generate_greedy returns only the new ids; 0 new tokens gives none", "[points=4]") {
    Loaded loaded(small, 8, "new_only");
    const std::vector<int64_t> prompt = {1, 2, 3};
    const std::vector<int64_t> got = loaded.gpt->generate_greedy(prompt, 4);
    CHECK(got == greedy_by_forward(*loaded.model, prompt, 4).tokens);
    CHECK(loaded.gpt->generate_greedy(prompt, 0).empty());
    CHECK(loaded.gpt->generate_greedy({12}, 11).size() == 11);  // 1 + 11 = the whole context
}

TEST_CASE("greedy ties go to the smallest id", "[points=6]") {
    // A tied head whose rows 2 and 5 are the same vector e and every other row is 0.5 e: the
    // logits of 2 and 5 are the same number, and either they are the largest (the answer is 2) or
    // all the 0.5 e rows are, tied among themselves (the answer is 0). Either way there is a tie.
    auto model = random_gpt(small, 9);
    std::vector<float> table = tt::testing::values_of(model->token_embedding->weight);  // (V, D)
    const int64_t D = small.embed_dim;
    for (int64_t v = 0; v < small.vocab_size; ++v)
        for (int64_t c = 0; c < D; ++c) table[v * D + c] = (v == 2 || v == 5 ? 1.0f : 0.5f) * table[2 * D + c];
    tt::testing::set_values(model->token_embedding->weight, table);
    TemporaryFile file("ties");
    tt::save_gpt(file.path, *model);
    auto gpt = tt::capstone::gpt_load(file.path);
    for (const std::vector<int64_t>& prompt : {std::vector<int64_t>{1}, std::vector<int64_t>{4, 0, 7}, std::vector<int64_t>{2, 5}}) {
        const std::vector<float> logits = forward_logits(*model, prompt);
        const size_t last = (prompt.size() - 1) * small.vocab_size;
        const int64_t best = first_argmax(logits, last, small.vocab_size);
        int64_t tied = 0;
        for (int64_t v = 0; v < small.vocab_size; ++v) tied += logits[last + v] == logits[last + best];
        REQUIRE(tied >= 2);  // the case is a tie
        INFO("prompt " << ids_text(prompt) << ": " << tied << " ids share the largest logit; the smallest is " << best);
        const std::vector<int64_t> got = gpt->generate_greedy(prompt, 1);
        REQUIRE(got.size() == 1);
        CHECK(got[0] == best);
    }
}

TEST_CASE("calls do not leak into each other: each starts a new sequence", "[points=6]") {
    Loaded loaded(medium, 11, "independent");
    const std::vector<int64_t> first = prompt_of(5, 65, 3), second = prompt_of(8, 65, 11);
    const std::vector<int64_t> want_first = greedy_by_forward(*loaded.model, first, 6).tokens;
    const std::vector<int64_t> want_second = greedy_by_forward(*loaded.model, second, 6).tokens;
    CHECK(loaded.gpt->generate_greedy(first, 6) == want_first);
    CHECK(loaded.gpt->generate_greedy(second, 6) == want_second);
    CHECK(loaded.gpt->generate_greedy(first, 6) == want_first);
    check_logits(loaded.gpt->logits(second), forward_logits(*loaded.model, second));
    CHECK(loaded.gpt->generate_greedy(second, 6) == want_second);
}

TEST_CASE("generate_greedy and logits refuse what does not fit with a tt::Error", "[points=6]") {
    Loaded loaded(small, 11, "errors");
    REQUIRE(loaded.gpt->generate_greedy({1, 2}, 10).size() == 10);  // 12 = the context: allowed
    CHECK_THROWS_AS(loaded.gpt->generate_greedy({1, 2}, 11), tt::Error);  // 13 positions
    CHECK_THROWS_AS(loaded.gpt->generate_greedy(prompt_of(13, 13), 0), tt::Error);
    CHECK_THROWS_AS(loaded.gpt->generate_greedy({}, 3), tt::Error);
    CHECK_THROWS_AS(loaded.gpt->generate_greedy({1, 13}, 3), tt::Error);  // outside the vocabulary
    CHECK_THROWS_AS(loaded.gpt->generate_greedy({-1}, 3), tt::Error);
    CHECK_THROWS_AS(loaded.gpt->logits({}), tt::Error);
    CHECK_THROWS_AS(loaded.gpt->logits(prompt_of(13, 13)), tt::Error);
    CHECK_THROWS_AS(loaded.gpt->logits({0, 99}), tt::Error);
    // and an error leaves the engine usable
    CHECK(loaded.gpt->generate_greedy({1, 2}, 3) == greedy_by_forward(*loaded.model, {1, 2}, 3).tokens);
}
