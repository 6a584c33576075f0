// test_sampling.cpp - module 14 grader: sample_token (sampling.cpp).
// The procedure is fixed by transformer.h so that a seed gives the same token everywhere:
// greedy draws nothing; scores = logits / temperature; top_k keeps scores >= the k-th highest;
// top_p keeps, in order of probability (ties by id), each token while the mass before it is <
// top_p; one uniform u, and the first id (in id order) whose running sum exceeds u * total.
// Expected values: by hand, and transformer_reference.h's sample() with its own Generator.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/random.h"
#include "tinytorch/transformer.h"
#include "transformer_reference.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = transformer_reference;
using ref::sampling_with;

namespace {

// The same sample as the reference for every seed in [0, seeds).
void check_against_reference(const tt::Tensor& logits, const tt::SamplingOptions& options, uint64_t seeds = 200) {
    const std::vector<float> values = values_of(logits);
    int wrong = 0;
    for (uint64_t seed = 0; seed < seeds; ++seed) {
        tt::Generator gen(seed), mine(seed);
        const int64_t got = tt::sample_token(logits, options, gen);
        const int64_t want = ref::sample(values, options, mine);
        if (got != want && wrong++ < 3) {
            INFO("temperature " << options.temperature << ", top_k " << options.top_k << ", top_p " << options.top_p
                                << ", seed " << seed << ": sampled " << got << ", expected " << want);
            CHECK(got == want);
        }
    }
    CHECK(wrong == 0);
}

// How often each id comes out over `draws` seeds.
std::vector<int> histogram(const tt::Tensor& logits, const tt::SamplingOptions& options, int draws = 400) {
    std::vector<int> hits(static_cast<size_t>(logits.numel()), 0);
    for (int seed = 0; seed < draws; ++seed) {
        tt::Generator gen(static_cast<uint64_t>(seed) + 1000);
        const int64_t id = tt::sample_token(logits, options, gen);
        if (id >= 0 && id < logits.numel()) ++hits[static_cast<size_t>(id)];
    }
    return hits;
}

// logits log(p) for probabilities p
tt::Tensor from_probabilities(const std::vector<double>& p) {
    std::vector<double> logits;
    for (double v : p) logits.push_back(std::log(v));
    return ref::as_tensor(logits, {static_cast<int64_t>(p.size())});
}

}  // namespace

TEST_CASE("greedy sampling takes the first highest logit", "[points=1]") {
    tt::Generator gen(1);
    CHECK(tt::sample_token(nested({0.5f, 2, -1, 2}), sampling_with(0.0f), gen) == 1);
    CHECK(tt::sample_token(nested({-3, -2, -2.5f}), sampling_with(0.0f), gen) == 1);
    CHECK(tt::sample_token(nested({7}), sampling_with(0.0f), gen) == 0);
    CHECK(tt::sample_token(nested({1, 5, 5, 5}), sampling_with(0.0f, 2, 0.5f), gen) == 1);
}

TEST_CASE("greedy sampling draws nothing from the generator", "[points=1]") {
    tt::Generator gen(2), untouched(2);
    for (int i = 0; i < 3; ++i) tt::sample_token(nested({0.1f, 0.3f, 0.2f}), sampling_with(0.0f), gen);
    CHECK(gen.next_u64() == untouched.next_u64());
}

TEST_CASE("sampling draws exactly one uniform number per token", "[points=1]") {
    for (const tt::SamplingOptions& options : {sampling_with(1.0f), sampling_with(0.5f, 2), sampling_with(1.0f, 0, 0.3f)}) {
        tt::Generator gen(3), expected(3);
        tt::sample_token(nested({1, 2, 3, 0.5f}), options, gen);
        expected.uniform();
        CHECK(gen.next_u64() == expected.next_u64());
    }
}

TEST_CASE("sampling at temperature 1 follows the softmax; summed in id order", "[points=3]") {
    // probabilities 0.1, 0.2, 0.3, 0.4: u < 0.1 gives 0, u < 0.3 gives 1, u < 0.6 gives 2, else 3
    const tt::Tensor logits = from_probabilities({0.1, 0.2, 0.3, 0.4});
    for (uint64_t seed = 0; seed < 60; ++seed) {
        tt::Generator gen(seed), copy(seed);
        const float u = copy.uniform();
        const int64_t want = u < 0.1f ? 0 : u < 0.3f ? 1 : u < 0.6f ? 2 : 3;
        INFO("seed " << seed << ", u = " << u);
        CHECK(tt::sample_token(logits, sampling_with(1.0f), gen) == want);
    }
    check_against_reference(nested({2, -1, 0.5f, 3, 3, -4, 1}), sampling_with(1.0f));
}

TEST_CASE("temperature divides the logits", "[points=2]") {
    const tt::Tensor logits = nested({1.0f, 2.5f, -0.5f, 2.0f, 0.0f});
    check_against_reference(logits, sampling_with(0.5f));
    check_against_reference(logits, sampling_with(2.0f));
    check_against_reference(logits, sampling_with(0.05f));
    // a low temperature makes the best token nearly certain, a high one spreads the draws
    CHECK(histogram(logits, sampling_with(0.05f))[1] >= 395);
    CHECK(histogram(logits, sampling_with(5.0f))[2] > 30);
}

TEST_CASE("top_k keeps exactly the k highest logits", "[points=2]") {
    const tt::Tensor logits = nested({0.3f, 2.0f, -1.0f, 1.5f, 0.9f, 1.0f});
    for (int64_t k : {1, 2, 3, 5, 6}) check_against_reference(logits, sampling_with(1.0f, k));
    const std::vector<int> two = histogram(logits, sampling_with(1.0f, 2));
    CHECK((two[0] == 0 && two[2] == 0 && two[4] == 0 && two[5] == 0));
    CHECK((two[1] > 0 && two[3] > 0));
    CHECK(histogram(logits, sampling_with(1.0f, 1))[1] == 400);
    {
        const tt::Tensor logits = nested({0.5f, 0.1f, 0.3f});
        for (uint64_t seed = 0; seed < 50; ++seed) {
            tt::Generator a(seed), b(seed);
            CHECK(tt::sample_token(logits, sampling_with(1.0f, 10), a) == tt::sample_token(logits, sampling_with(1.0f), b));
        }
    }
}

TEST_CASE("top_k keeps every logit tied with the k-th", "[points=2]") {
    // the 2nd highest is 1.0, held by ids 1, 3 and 4: all of them stay with k = 2
    const tt::Tensor logits = nested({2.0f, 1.0f, 0.0f, 1.0f, 1.0f, -1.0f});
    const std::vector<int> hits = histogram(logits, sampling_with(1.0f, 2));
    CHECK((hits[0] > 0 && hits[1] > 0 && hits[3] > 0 && hits[4] > 0));
    CHECK((hits[2] == 0 && hits[5] == 0));
    check_against_reference(logits, sampling_with(1.0f, 2));
    check_against_reference(logits, sampling_with(0.7f, 3));
}

TEST_CASE("top_p keeps the smallest set of likeliest tokens reaching p", "[points=2]") {
    // probabilities 0.1, 0.4, 0.15, 0.35 (ids by probability: 1, 3, 2, 0)
    const tt::Tensor logits = from_probabilities({0.1, 0.4, 0.15, 0.35});
    // mass before: id 1 -> 0, id 3 -> 0.4, id 2 -> 0.75, id 0 -> 0.9
    const std::vector<int> p3 = histogram(logits, sampling_with(1.0f, 0, 0.3f));  // only id 1
    CHECK((p3[1] == 400));
    const std::vector<int> p5 = histogram(logits, sampling_with(1.0f, 0, 0.5f));  // ids 1 and 3
    CHECK((p5[1] > 0 && p5[3] > 0 && p5[0] == 0 && p5[2] == 0));
    const std::vector<int> p8 = histogram(logits, sampling_with(1.0f, 0, 0.8f));  // ids 1, 3, 2
    CHECK((p8[1] > 0 && p8[3] > 0 && p8[2] > 0 && p8[0] == 0));
    const std::vector<int> p95 = histogram(logits, sampling_with(1.0f, 0, 0.95f));  // all four
    CHECK((p95[0] > 0 && p95[1] > 0 && p95[2] > 0 && p95[3] > 0));
    for (float p : {0.3f, 0.5f, 0.7f, 0.8f, 0.95f}) check_against_reference(logits, sampling_with(1.0f, 0, p));
}

TEST_CASE("top_p with a token exactly at the boundary and ties", "[points=2]") {
    // four equal logits: 0.25 each. With p = 0.5 the mass before the third token is exactly 0.5,
    // which is not < 0.5: ids 0 and 1 stay (ties go by id), 2 and 3 are dropped
    const tt::Tensor even = nested({0.0f, 0.0f, 0.0f, 0.0f});
    const std::vector<int> hits = histogram(even, sampling_with(1.0f, 0, 0.5f));
    CHECK((hits[0] > 0 && hits[1] > 0 && hits[2] == 0 && hits[3] == 0));
    // with p = 0.25 only id 0; with p = 0.5001 three tokens
    CHECK(histogram(even, sampling_with(1.0f, 0, 0.25f))[0] == 400);
    const std::vector<int> more = histogram(even, sampling_with(1.0f, 0, 0.5001f));
    CHECK((more[2] > 0 && more[3] == 0));
    check_against_reference(nested({1.0f, 1.0f, 1.0f, 0.0f}), sampling_with(1.0f, 0, 0.6f));
}

TEST_CASE("top_k and top_p and temperature together", "[points=1]") {
    const tt::Tensor logits = nested({1.2f, -0.3f, 2.2f, 0.7f, 2.0f, -1.5f, 0.1f, 1.9f});
    check_against_reference(logits, sampling_with(0.8f, 5, 0.7f));
    check_against_reference(logits, sampling_with(1.5f, 3, 0.9f));
    check_against_reference(logits, sampling_with(0.3f, 0, 0.99f));
}

TEST_CASE("sampling frequencies follow the kept probabilities", "[points=1]") {
    // top_k 2 of {0.5, 0.3, 0.2}: renormalised 0.625 and 0.375
    const tt::Tensor logits = from_probabilities({0.5, 0.3, 0.2});
    const std::vector<int> hits = histogram(logits, sampling_with(1.0f, 2), 2000);
    CHECK(hits[2] == 0);
    CHECK(hits[0] == Approx(1250).margin(90));
    CHECK(hits[1] == Approx(750).margin(90));
}

TEST_CASE("sampling never picks a token whose logit is -inf", "[points=1]") {
    // masked tokens (logit -inf) have probability 0: never drawn, and no NaN from inf - inf
    const float masked = -std::numeric_limits<float>::infinity();
    const tt::Tensor logits = nested({masked, 1.0f, masked, 2.0f, 0.5f});
    for (const tt::SamplingOptions& options : {sampling_with(1.0f), sampling_with(0.7f, 2), sampling_with(1.0f, 0, 0.9f)}) {
        const std::vector<int> hits = histogram(logits, options);
        CHECK((hits[0] == 0 && hits[2] == 0));
        check_against_reference(logits, options, 100);
    }
    tt::Generator gen(5);
    CHECK(tt::sample_token(logits, sampling_with(0.0f), gen) == 3);
}

TEST_CASE("sample_token errors name what is wrong", "[points=1]") {
    tt::Generator gen(4);
    CHECK_THAT(error_message([&] { tt::sample_token(nested({{1, 2}, {3, 4}}), {}, gen); }),
               Contains("sample_token") && Contains("(2, 2)"));
    CHECK_THAT(error_message([&] { tt::sample_token(raw({}, {0}), {}, gen); }), Contains("sample_token"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1.0f, std::nanf("")}), {}, gen); }), Contains("NaN"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1, 2}), sampling_with(-0.5f), gen); }), Contains("temperature"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1, 2}), sampling_with(1.0f, -2), gen); }), Contains("top_k"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1, 2}), sampling_with(1.0f, 0, 0.0f), gen); }), Contains("top_p"));
    CHECK_THAT(error_message([&] { tt::sample_token(nested({1, 2}), sampling_with(1.0f, 0, 1.2f), gen); }), Contains("top_p"));
}
