// test_transformer_sampling.cpp - engine tests of module 14's sample_token.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "../../graders/14_transformers/transformer_reference.h"
#include "grading.h"
#include "tinytorch/random.h"
#include "tinytorch/transformer.h"

using namespace tt::testing;
using Catch::Contains;
namespace ref = transformer_reference;

TEST_CASE("transformers: greedy sampling takes the first maximum and draws nothing", "[14][transformers][sampling]") {
    tt::Generator gen(5), fresh(5);
    CHECK(tt::sample_token(nested({0.5f, 2, -1, 2}), {.temperature = 0.0f}, gen) == 1);
    CHECK(tt::sample_token(nested({0.5f, 2, -1, 3}), {.temperature = 0.0f, .top_k = 1}, gen) == 3);
    CHECK(gen.uniform() == fresh.uniform());  // the generator did not move
}

TEST_CASE("transformers: one draw picks the token whose running sum passes u", "[14][transformers][sampling]") {
    // logits log(1), log(2), log(3), log(4): probabilities 0.1, 0.2, 0.3, 0.4 in id order
    const tt::Tensor logits = nested({0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)});
    for (uint64_t seed = 0; seed < 50; ++seed) {
        tt::Generator gen(seed), copy(seed), after(seed);
        const float u = copy.uniform();
        const int64_t want = u < 0.1f ? 0 : u < 0.3f ? 1 : u < 0.6f ? 2 : 3;
        INFO("seed " << seed << " u " << u);
        CHECK(tt::sample_token(logits, {}, gen) == want);
        after.uniform();
        CHECK(gen.uniform() == after.uniform());  // exactly one draw
    }
}

TEST_CASE("transformers: temperature, top-k and top-p follow the procedure", "[14][transformers][sampling]") {
    const tt::Tensor logits = nested({1.0f, 3.0f, 3.0f, -2.0f, 0.5f, 2.0f, 2.0f, -1.0f});
    const std::vector<float> values = values_of(logits);
    const std::vector<tt::SamplingOptions> cases = {
        {}, {.temperature = 0.5f}, {.temperature = 2.0f}, {.top_k = 1}, {.top_k = 2}, {.top_k = 3},
        {.top_k = 8}, {.top_k = 20}, {.top_p = 0.5f}, {.top_p = 0.9f}, {.temperature = 0.7f, .top_k = 5, .top_p = 0.8f},
    };
    for (const tt::SamplingOptions& options : cases) {
        for (uint64_t seed = 0; seed < 40; ++seed) {
            tt::Generator gen(seed), mine(seed);
            INFO("temperature " << options.temperature << " top_k " << options.top_k << " top_p " << options.top_p << " seed " << seed);
            CHECK(tt::sample_token(logits, options, gen) == ref::sample(values, options, mine));
        }
    }
    // top_k = 2 keeps both tokens tied for first place, and nothing else
    for (uint64_t seed = 0; seed < 30; ++seed) {
        tt::Generator gen(seed);
        const int64_t id = tt::sample_token(logits, {.top_k = 2}, gen);
        CHECK((id == 1 || id == 2));
    }
    // top_k = 3: the third highest is 2 (twice): ids 1, 2, 5, 6 stay
    for (uint64_t seed = 0; seed < 30; ++seed) {
        tt::Generator gen(seed);
        const int64_t id = tt::sample_token(logits, {.top_k = 3}, gen);
        CHECK((id == 1 || id == 2 || id == 5 || id == 6));
    }
}

TEST_CASE("transformers: top-p keeps the tokens whose preceding mass is below p", "[14][transformers][sampling]") {
    // probabilities 0.5, 0.3, 0.2 (ids 2, 0, 1): top_p 0.5 keeps id 2 only; 0.51 and 0.75 keep 2 and 0; 0.85 all.
    const tt::Tensor logits = nested({std::log(0.3f), std::log(0.2f), std::log(0.5f)});
    auto seen = [&](float p) {
        std::vector<int> hits(3, 0);
        for (uint64_t seed = 0; seed < 300; ++seed) {
            tt::Generator gen(seed);
            ++hits[static_cast<size_t>(tt::sample_token(logits, {.top_p = p}, gen))];
        }
        return hits;
    };
    const std::vector<int> half = seen(0.5f), more = seen(0.51f), most = seen(0.75f), all = seen(0.85f);
    CHECK((half[0] == 0 && half[1] == 0 && half[2] == 300));
    CHECK((more[0] > 0 && more[1] == 0 && more[2] > 0));
    CHECK((most[0] > 0 && most[1] == 0 && most[2] > 0));
    CHECK((all[0] > 0 && all[1] > 0 && all[2] > 0));
}

TEST_CASE("transformers: sample_token errors", "[14][transformers][sampling][errors]") {
    tt::Generator gen(1);
    CHECK_THAT(error_message([&] { tt::sample_token(nested({{1, 2}}), {}, gen); }), Contains("sample_token") && Contains("(1, 2)"));
    CHECK_THAT(error_message([&] { tt::sample_token(raw({}, {0}), {}, gen); }), Contains("sample_token"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1.0f, std::nanf("")}), {}, gen); }), Contains("NaN"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1, 2}), {.temperature = -1}, gen); }), Contains("temperature"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1, 2}), {.top_k = -1}, gen); }), Contains("top_k"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1, 2}), {.top_p = 0}, gen); }), Contains("top_p"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1, 2}), {.top_p = 1.5f}, gen); }), Contains("top_p"));
}
