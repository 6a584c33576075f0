// test_generate.cpp - module 14 grader: generate (sampling.cpp).
// Expected tokens: transformer_reference.h's generate(), which runs the reference GPT (double
// precision) and the reference sampler with its own Generator(seed), step by step.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/transformer.h"
#include "transformer_reference.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = transformer_reference;
using ref::generating;
using ref::sampling_with;

namespace {

const tt::GPTConfig small{.vocab_size = 7, .context_length = 6, .num_layers = 2, .num_heads = 2, .embed_dim = 8};

std::string text_of(const std::vector<int64_t>& tokens) {
    std::string s;
    for (int64_t t : tokens) s += std::to_string(t) + " ";
    return s;
}

}  // namespace

TEST_CASE("generate greedily appends the likeliest next token", "[points=2]") {
    auto model = ref::model_with_sines(small);
    const ref::GPTWeights w = ref::deterministic_weights(small);
    const tt::Generated out = tt::generate(*model, {3, 1}, generating(4, sampling_with(0.0f)));
    const std::vector<int64_t> want = ref::generate(w, {3, 1}, 4, sampling_with(0.0f), true, 0);
    INFO("generated " << text_of(out.tokens) << "\nexpected  " << text_of(want));
    CHECK(out.tokens == want);
    CHECK(out.new_tokens == 4);
    CHECK(out.stop_reason.empty());
}

TEST_CASE("generate samples with its own generator seeded by options.seed", "[points=2]") {
    auto model = ref::model_with_sines(small);
    const ref::GPTWeights w = ref::deterministic_weights(small);
    for (uint64_t seed : {0, 5, 99}) {
        const tt::SamplingOptions warm = sampling_with(1.3f, 5, 0.95f);
        const tt::Generated out = tt::generate(*model, {2}, generating(5, warm, tt::ContextPolicy::slide, seed));
        const std::vector<int64_t> want = ref::generate(w, {2}, 5, warm, true, seed);
        INFO("seed " << seed << ": generated " << text_of(out.tokens) << "\nexpected  " << text_of(want));
        CHECK(out.tokens == want);
    }
    // the same seed gives the same text, whatever the default generator does in between
    const tt::Generated a = tt::generate(*model, {4, 4}, generating(5, sampling_with(1.5f), tt::ContextPolicy::slide, 11));
    tt::manual_seed(12345);
    const tt::Generated b = tt::generate(*model, {4, 4}, generating(5, sampling_with(1.5f), tt::ContextPolicy::slide, 11));
    CHECK(a.tokens == b.tokens);
}

TEST_CASE("generate with slide feeds the last context_length tokens once the context is full", "[points=2]") {
    auto model = ref::model_with_sines(small);
    const ref::GPTWeights w = ref::deterministic_weights(small);
    // a prompt of 4, 7 new tokens: the sequence grows to 11 > 6
    const tt::Generated out = tt::generate(*model, {1, 2, 3, 4}, generating(7, sampling_with(0.9f), tt::ContextPolicy::slide, 3));
    const std::vector<int64_t> want = ref::generate(w, {1, 2, 3, 4}, 7, sampling_with(0.9f), true, 3);
    INFO("generated " << text_of(out.tokens) << "\nexpected  " << text_of(want));
    CHECK(out.tokens == want);
    CHECK(out.new_tokens == 7);
    CHECK(out.stop_reason.empty());
    // a prompt longer than the context is cropped too
    const tt::Generated long_prompt = tt::generate(*model, {0, 1, 2, 3, 4, 5, 6, 5}, generating(2, sampling_with(0.0f)));
    CHECK(long_prompt.tokens == ref::generate(w, {0, 1, 2, 3, 4, 5, 6, 5}, 2, sampling_with(0.0f), true, 0));
}

TEST_CASE("generate with stop ends when the context is full and says why", "[points=2]") {
    auto model = ref::model_with_sines(small);
    const ref::GPTWeights w = ref::deterministic_weights(small);
    const tt::Generated out = tt::generate(*model, {5, 0}, generating(10, sampling_with(1.0f), tt::ContextPolicy::stop, 8));
    CHECK(out.tokens.size() == 6);
    CHECK(out.new_tokens == 4);
    CHECK(out.tokens == ref::generate(w, {5, 0}, 10, sampling_with(1.0f), false, 8));
    CHECK_THAT(out.stop_reason, Contains("4") && Contains("6"));
    // a prompt that fills the context exactly: nothing new
    const tt::Generated full = tt::generate(*model, {1, 1, 1, 1, 1, 1}, generating(3, sampling_with(0.0f), tt::ContextPolicy::stop));
    CHECK(full.new_tokens == 0);
    CHECK(full.tokens.size() == 6);
    CHECK_FALSE(full.stop_reason.empty());
    // enough room: no stop reason
    const tt::Generated room = tt::generate(*model, {1}, generating(3, sampling_with(0.0f), tt::ContextPolicy::stop));
    CHECK(room.new_tokens == 3);
    CHECK(room.stop_reason.empty());
}

TEST_CASE("generate runs in eval mode: no dropout while writing", "[points=2]") {
    tt::GPTConfig config = small;
    config.dropout = 0.5f;
    auto model = ref::model_with_sines(config);
    const ref::GPTWeights w = ref::deterministic_weights(config);
    model->train();
    const tt::Generated out = tt::generate(*model, {6, 2, 0}, generating(3, sampling_with(0.0f)));
    CHECK(out.tokens == ref::generate(w, {6, 2, 0}, 3, sampling_with(0.0f), true, 0));
}

TEST_CASE("generate gives the model back in the training mode it had; with grad mode on", "[points=2]") {
    auto model = ref::model_with_sines(small);
    model->train();
    tt::generate(*model, {1}, generating(2));
    CHECK(model->is_training());
    CHECK(model->block(0).attention_dropout->is_training());
    model->eval();
    tt::generate(*model, {1}, generating(2));
    CHECK_FALSE(model->is_training());
    CHECK_FALSE(model->block(1).mlp->dropout->is_training());
    CHECK(tt::is_grad_enabled());
    // also when generation fails half-way (a NaN in the weights makes sample_token throw)
    model->train();
    ref::set_values(model->ln_f->weight, ref::Values(8, std::nan("")));
    CHECK_THROWS(tt::generate(*model, {1}, generating(2)));
    CHECK(model->is_training());
    CHECK(tt::is_grad_enabled());
}

TEST_CASE("generate records no graph and leaves the gradients alone", "[points=1]") {
    auto model = ref::model_with_sines(small);
    const tt::Generated out = tt::generate(*model, {1, 2}, generating(3));
    CHECK(out.tokens.size() == 5);
    for (const auto& [name, p] : model->named_parameters()) {
        INFO(name);
        CHECK_FALSE(p.grad().defined());
    }
}

TEST_CASE("generate errors: empty prompt; unknown token; a prompt longer than the context with stop", "[points=2]") {
    auto model = ref::model_with_sines(small);
    CHECK_THAT(error_message([&] { tt::generate(*model, {}, generating(2)); }), Contains("generate") && Contains("empty"));
    CHECK_THAT(error_message([&] { tt::generate(*model, {1, 7}, generating(2)); }), Contains("generate") && Contains("7"));
    CHECK_THAT(error_message([&] { tt::generate(*model, {-1}, generating(2)); }), Contains("generate") && Contains("-1"));
    CHECK_THAT(error_message([&] { tt::generate(*model, {1, 2, 3, 4, 5, 6, 0}, generating(2, {}, tt::ContextPolicy::stop)); }),
               Contains("generate") && Contains("6"));
    CHECK_THAT(error_message([&] { tt::generate(*model, {1}, generating(-1)); }), Contains("max_new_tokens"));
    {
        auto model = ref::model_with_sines(small);
        const tt::Generated out = tt::generate(*model, {3, 2, 1}, generating(0));
        CHECK(out.tokens == std::vector<int64_t>{3, 2, 1});
        CHECK(out.new_tokens == 0);
        CHECK(out.stop_reason.empty());
    }
}
