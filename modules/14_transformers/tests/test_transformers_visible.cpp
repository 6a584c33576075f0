// test_transformers_visible.cpp - visible tests of module 14 (transformers).
//
// `tito test 14` runs these and the hidden tests; hidden tests look like these, with more cases:
// layer_norm against its definition and PyTorch (biased variance, eps inside the square root, one
// row = one token, weight and bias per feature, inputs around 1e4, any layout), its gradients
// (PyTorch values and finite differences, with and without weight and bias), the MLP (exact GELU,
// dropout on its output), the pre-LN block (against a reference, and the identity when its
// sub-layers output 0), the GPT's children, parameter names, tied head listed once, parameter
// count, GPT-2 initialisation (0.02, and 0.02 / sqrt(2 L) for the residual projections), its
// logits, loss and gradients against PyTorch for a model with fixed weights, sampling (greedy,
// temperature, top-k with ties, top-p at its boundary, one draw, id order), generation (seeded,
// slide and stop, eval mode, training mode restored) and GPT checkpoints.
//
// The helpers come from the grader's grading.h. They never call your code to get an expected value:
//     nested({{1, 2}, {3, 4}})       a (2, 2) tensor built directly from tt::Storage
//     tensor_near(t, atol, rtol)     compare shape and every value
//     leaf(t)                        t with requires_grad, for gradient tests
//     gradient_check(f, inputs)      backward() against finite differences
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/random.h"
#include "tinytorch/transformer.h"

using namespace tt::testing;

TEST_CASE("layer_norm of two rows by hand", "[visible][points=1]") {
    // {1, 2, 3, 4}: mean 2.5, biased variance 1.25 (divide by D, not D - 1)
    const float s = 1.0f / std::sqrt(1.25f + 1e-5f);
    // {10, 20}, {3, 5}, eps 0: each row on its own -> {-1, 1}; then * weight (2, 3) + bias (1, -1)
    CHECK_THAT(tt::layer_norm(nested({1, 2, 3, 4}), tt::Tensor(), tt::Tensor()),
               tensor_near(nested({-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s})));
    CHECK_THAT(tt::layer_norm(nested({{10, 20}, {5, 3}}), nested({2, 3}), nested({1, -1}), 0.0f),
               tensor_near(nested({{-1, 2}, {3, -4}}), 1e-6, 1e-6));
}

TEST_CASE("layer_norm gradients pass the finite-difference check", "[visible][points=1]") {
    CHECK(gradient_check([](const std::vector<tt::Tensor>& in) { return tt::layer_norm(in[0], in[1], in[2]); },
                         {random_values({3, 4}, 1, -2.0f, 2.0f), random_values({4}, 2, 0.5f, 1.5f), random_values({4}, 3)}));
}

TEST_CASE("a GPT maps ids (B; T) to logits (B; T; V) with a tied head", "[visible][points=1]") {
    tt::Generator gen(0);
    tt::GPT model({.vocab_size = 7, .context_length = 5, .num_layers = 2, .num_heads = 2, .embed_dim = 8}, &gen);
    const tt::Tensor ids = nested({{1, 6, 0}, {5, 2, 2}});  // (B 2, T 3)
    CHECK(model(ids).shape() == tt::Shape{2, 3, 7});
    CHECK(model.lm_head->weight.is_same(model.token_embedding->weight));
    // V D + C D + L (12 D^2 + 13 D) + 2 D: the head adds nothing, it IS the token embedding
    CHECK(model.parameter_count() == 7 * 8 + 5 * 8 + 2 * (12 * 64 + 13 * 8) + 2 * 8);
}

TEST_CASE("greedy sampling takes the first maximum; sampling draws one number", "[visible][points=1]") {
    tt::Generator gen(1), fresh(1);
    tt::SamplingOptions greedy;
    greedy.temperature = 0.0f;
    CHECK(tt::sample_token(nested({0.5f, 2, -1, 2}), greedy, gen) == 1);
    CHECK(gen.next_u64() == fresh.next_u64());  // greedy drew nothing
    // probabilities 0.1, 0.2, 0.3, 0.4 in id order: u picks the first id whose running sum passes it
    const tt::Tensor logits = nested({0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)});
    tt::Generator a(7), copy(7);
    const float u = copy.uniform();
    CHECK(tt::sample_token(logits, {}, a) == (u < 0.1f ? 0 : u < 0.3f ? 1 : u < 0.6f ? 2 : 3));
}

TEST_CASE("generate appends new tokens after the prompt and is reproducible", "[visible][points=1]") {
    tt::Generator gen(2);
    tt::GPT model({.vocab_size = 7, .context_length = 5, .num_layers = 1, .num_heads = 1, .embed_dim = 8}, &gen);
    tt::GenerateOptions options;
    options.max_new_tokens = 8;  // more than the context: slide keeps the last 5
    options.seed = 3;
    const tt::Generated a = tt::generate(model, {1, 2}, options);
    const tt::Generated b = tt::generate(model, {1, 2}, options);
    REQUIRE(a.tokens.size() == 10);
    CHECK(a.tokens[0] == 1);
    CHECK(a.tokens[1] == 2);
    CHECK(a.new_tokens == 8);
    CHECK(a.tokens == b.tokens);
    CHECK(model.is_training());  // generate switched to eval and back
}
