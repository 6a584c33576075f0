// test_transformer_gpt.cpp - engine tests of module 14's MLP, TransformerBlock, GPT, generate and
// checkpoints.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../../graders/14_transformers/pytorch_values.h"
#include "../../graders/14_transformers/transformer_reference.h"
#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/training.h"
#include "tinytorch/transformer.h"

using namespace tt::testing;
using Catch::Contains;
namespace ref = transformer_reference;
namespace torch_values = pytorch_values;

using ref::generating;
using ref::model_with_sines;
using ref::std_of;
const tt::GPTConfig& tiny = ref::tiny_config;
const std::vector<int64_t>& tiny_ids = ref::tiny_ids;
const std::vector<int64_t>& tiny_targets = ref::tiny_targets;

TEST_CASE("transformers: MLP is fc, exact GELU, proj", "[14][transformers][gpt]") {
    tt::Generator gen(3);
    tt::MLP mlp(4, 0.0f, true, &gen);
    const auto children = mlp.named_children();
    REQUIRE(children.size() == 3);
    CHECK((children[0].first == "fc" && children[1].first == "proj" && children[2].first == "dropout"));
    CHECK(mlp.fc->weight.shape() == tt::Shape{16, 4});
    CHECK(mlp.proj->weight.shape() == tt::Shape{4, 16});
    const tt::Tensor x = random_values({2, 3, 4}, 9, -2.0f, 2.0f);
    ref::Values hidden = ref::linear(ref::as_values(x), 4, ref::as_values(mlp.fc->weight), ref::as_values(mlp.fc->bias), 16);
    for (double& v : hidden) v = ref::gelu(v);
    const ref::Values want = ref::linear(hidden, 16, ref::as_values(mlp.proj->weight), ref::as_values(mlp.proj->bias), 4);
    CHECK_THAT(mlp(x), tensor_near(ref::as_tensor(want, {2, 3, 4}), 1e-5, 1e-4));
    CHECK(tt::MLP(4, 0.0f, false, &gen).parameters().size() == 2);
}

TEST_CASE("transformers: GPT structure, names, tying and parameter count", "[14][transformers][gpt]") {
    tt::Generator gen(1);
    tt::GPT model(tiny, &gen);
    std::vector<std::string> children;
    for (const auto& [name, child] : model.named_children()) children.push_back(name);
    CHECK(children == std::vector<std::string>{"token_embedding", "position_embedding", "dropout", "blocks", "ln_f", "lm_head"});
    std::vector<std::string> block_children;
    for (const auto& [name, child] : model.block(0).named_children()) block_children.push_back(name);
    CHECK(block_children == std::vector<std::string>{"ln_1", "attention", "attention_dropout", "ln_2", "mlp"});
    CHECK(model.lm_head->weight.is_same(model.token_embedding->weight));
    CHECK_FALSE(model.lm_head->bias.defined());
    const auto params = model.named_parameters();
    CHECK(params.front().first == "token_embedding.weight");
    CHECK(params[2].first == "blocks.0.ln_1.weight");
    CHECK(params.back().first == "ln_f.bias");
    for (const auto& [name, t] : params) CHECK(name != "lm_head.weight");
    const int64_t V = 7, C = 5, L = 2, D = 8;
    CHECK(model.parameter_count() == V * D + C * D + L * (12 * D * D + 13 * D) + 2 * D);
    tt::GPTConfig untied = tiny;
    untied.tie_weights = false;
    untied.bias = false;
    tt::GPT other(untied, &gen);
    CHECK_FALSE(other.lm_head->weight.is_same(other.token_embedding->weight));
    CHECK(other.parameter_count() == 2 * V * D + C * D + L * (12 * D * D + 2 * D) + D);
    CHECK(model.extra_repr() ==
          "vocab_size=7, context_length=5, num_layers=2, num_heads=2, embed_dim=8, dropout=0, bias=true, tie_weights=true");
    CHECK(tt::GPT(tt::GPTConfig{}, &gen).parameter_count() == 809856);  // the milestone's model, as the lesson says
}

TEST_CASE("transformers: GPT-2 initialisation", "[14][transformers][gpt]") {
    tt::Generator gen(2);
    tt::GPT model({.vocab_size = 50, .context_length = 32, .num_layers = 2, .num_heads = 2, .embed_dim = 64}, &gen);
    CHECK(std_of(model.token_embedding->weight) == Approx(0.02).epsilon(0.1));
    CHECK(std_of(model.position_embedding->weight) == Approx(0.02).epsilon(0.1));
    CHECK(std_of(model.block(1).attention->qkv->weight) == Approx(0.02).epsilon(0.1));
    CHECK(std_of(model.block(0).mlp->fc->weight) == Approx(0.02).epsilon(0.1));
    CHECK(std_of(model.block(0).attention->proj->weight) == Approx(0.01).epsilon(0.1));  // 0.02 / sqrt(2 * 2)
    CHECK(std_of(model.block(1).mlp->proj->weight) == Approx(0.01).epsilon(0.1));
    CHECK_THAT(model.block(0).mlp->fc->bias, tensor_equal(raw(std::vector<float>(256, 0.0f), {256})));
    CHECK_THAT(model.ln_f->weight, tensor_equal(raw(std::vector<float>(64, 1.0f), {64})));
    tt::Generator same(2);
    tt::GPT twin({.vocab_size = 50, .context_length = 32, .num_layers = 2, .num_heads = 2, .embed_dim = 64}, &same);
    CHECK_THAT(twin.block(1).mlp->proj->weight, tensor_equal(model.block(1).mlp->proj->weight));
}

TEST_CASE("transformers: GPT config and input errors", "[14][transformers][gpt][errors]") {
    auto with = [](auto change) {
        tt::GPTConfig c = tiny;
        change(c);
        return error_message([&] { tt::GPT model(c); });
    };
    CHECK_THAT(with([](tt::GPTConfig& c) { c.vocab_size = 0; }), Contains("vocab_size"));
    CHECK_THAT(with([](tt::GPTConfig& c) { c.context_length = 0; }), Contains("context_length"));
    CHECK_THAT(with([](tt::GPTConfig& c) { c.num_layers = 0; }), Contains("num_layers"));
    CHECK_THAT(with([](tt::GPTConfig& c) { c.embed_dim = 6, c.num_heads = 4; }), Contains("embed_dim") && Contains("num_heads"));
    CHECK_THAT(with([](tt::GPTConfig& c) { c.dropout = 1.0f; }), Contains("dropout"));
    tt::GPT model(tiny);
    CHECK_THAT(error_message([&] { model(ref::ids_of({1, 2, 3, 4, 5, 6}, 1, 6)); }), Contains("6") && Contains("5"));
    CHECK_THAT(error_message([&] { model(nested({1, 2})); }), Contains("GPT") && Contains("(2)"));
}

TEST_CASE("transformers: a tiny GPT against PyTorch: logits, loss and gradients", "[14][transformers][gpt][pytorch]") {
    auto model = model_with_sines(tiny);
    const tt::Tensor logits = (*model)(ref::ids_of(tiny_ids, 2, 5));
    CHECK_THAT(logits, tensor_near(ref::as_tensor(torch_values::gpt_logits, {2, 5, 7}), 1e-4, 1e-4));
    const tt::Tensor loss = ref::model_loss(*model, tiny_ids, tiny_targets, 2, 5);
    CHECK(loss.item() == Approx(torch_values::gpt_loss).margin(1e-4));
    loss.backward();
    CHECK_THAT(model->token_embedding->weight.grad(),
               tensor_near(ref::as_tensor(torch_values::gpt_d_token_embedding, {7, 8}), 1e-5, 1e-3));
    CHECK_THAT(model->position_embedding->weight.grad(),
               tensor_near(ref::as_tensor(torch_values::gpt_d_position_embedding, {5, 8}), 1e-5, 1e-3));
    CHECK_THAT(model->block(0).ln_1->weight.grad(),
               tensor_near(ref::as_tensor(torch_values::gpt_d_blocks_0_ln_1_weight, {8}), 1e-5, 1e-3));
    CHECK_THAT(model->block(0).attention->qkv->bias.grad(),
               tensor_near(ref::as_tensor(torch_values::gpt_d_blocks_0_qkv_bias, {24}), 1e-5, 1e-3));
    CHECK_THAT(model->block(1).attention->proj->bias.grad(),
               tensor_near(ref::as_tensor(torch_values::gpt_d_blocks_1_attention_proj_bias, {8}), 1e-5, 1e-3));
    CHECK_THAT(model->block(1).mlp->fc->bias.grad(),
               tensor_near(ref::as_tensor(torch_values::gpt_d_blocks_1_fc_bias, {32}), 1e-5, 1e-3));
    CHECK_THAT(model->ln_f->weight.grad(), tensor_near(ref::as_tensor(torch_values::gpt_d_ln_f_weight, {8}), 1e-5, 1e-3));
}

TEST_CASE("transformers: GPT forward matches the reference for other configurations", "[14][transformers][gpt]") {
    for (const tt::GPTConfig& config :
         {tt::GPTConfig{.vocab_size = 11, .context_length = 6, .num_layers = 3, .num_heads = 4, .embed_dim = 8},
          tt::GPTConfig{.vocab_size = 5, .context_length = 4, .num_layers = 1, .num_heads = 1, .embed_dim = 6, .bias = false},
          tt::GPTConfig{.vocab_size = 9, .context_length = 7, .num_layers = 2, .num_heads = 2, .embed_dim = 4, .tie_weights = false}}) {
        auto model = model_with_sines(config);
        std::vector<int64_t> ids;
        const int64_t B = 2, T = config.context_length - 1;
        for (int64_t i = 0; i < B * T; ++i) ids.push_back((i * 5 + 3) % config.vocab_size);
        INFO(model->extra_repr());
        CHECK_THAT((*model)(ref::ids_of(ids, B, T)),
                   tensor_near(ref::as_tensor(ref::gpt_logits(ref::deterministic_weights(config), ids, B, T),
                                              {B, T, config.vocab_size}), 1e-4, 1e-4));
    }
}

TEST_CASE("transformers: the gradient of every parameter of a tiny GPT matches finite differences", "[14][transformers][gpt][backward]") {
    tt::GPTConfig config = tiny;
    config.tie_weights = GENERATE(true, false);
    auto model = model_with_sines(config);
    ref::model_loss(*model, tiny_ids, tiny_targets, 2, 5).backward();
    const std::string problems = ref::finite_difference_problems(*model, tiny_ids, tiny_targets, 2, 5);
    INFO(problems);
    CHECK(problems.empty());
}

TEST_CASE("transformers: dropout acts in training only", "[14][transformers][gpt]") {
    tt::GPTConfig config = tiny;
    config.dropout = 0.3f;
    auto model = model_with_sines(config);
    const tt::Tensor ids = ref::ids_of(tiny_ids, 2, 5);
    const tt::Tensor want = ref::as_tensor(torch_values::gpt_logits, {2, 5, 7});
    model->eval();
    CHECK_THAT((*model)(ids), tensor_near(want, 1e-4, 1e-4));
    model->train();
    CHECK_FALSE(tensor_near(want, 1e-2, 1e-2).match((*model)(ids)));
}

TEST_CASE("transformers: generate follows the reference and restores the mode", "[14][transformers][generate]") {
    tt::GPTConfig config = tiny;
    config.dropout = 0.2f;
    auto model = model_with_sines(config);
    const ref::GPTWeights w = ref::deterministic_weights(config);
    const tt::SamplingOptions greedy{.temperature = 0.0f}, warm{.temperature = 0.9f, .top_k = 5};
    tt::Generated out = tt::generate(*model, {3, 1}, generating(9, greedy));
    CHECK(out.tokens == ref::generate(w, {3, 1}, 9, greedy, true, 0));
    CHECK(out.new_tokens == 9);
    CHECK(out.stop_reason.empty());
    CHECK(model->is_training());
    out = tt::generate(*model, {6, 6, 0, 2, 1, 4}, generating(6, warm, tt::ContextPolicy::slide, 42));
    CHECK(out.tokens == ref::generate(w, {6, 6, 0, 2, 1, 4}, 6, warm, true, 42));
    model->eval();
    out = tt::generate(*model, {2}, generating(10, warm, tt::ContextPolicy::stop, 7));
    CHECK(out.tokens == ref::generate(w, {2}, 10, warm, false, 7));
    CHECK(out.new_tokens == 4);
    CHECK_THAT(out.stop_reason, Contains("4 new tokens") && Contains("context of 5"));
    CHECK_FALSE(model->is_training());
    CHECK(tt::generate(*model, {1, 2}, generating(0)).tokens == std::vector<int64_t>{1, 2});
    CHECK_THAT(error_message([&] { tt::generate(*model, {}); }), Contains("generate") && Contains("empty"));
    CHECK_THAT(error_message([&] { tt::generate(*model, {1, 7}); }), Contains("generate") && Contains("7"));
    CHECK_THAT(error_message([&] { tt::generate(*model, {1, 2, 3, 4, 5, 6}, generating(3, {}, tt::ContextPolicy::stop)); }),
               Contains("generate") && Contains("5"));
    CHECK(tt::is_grad_enabled());
}

TEST_CASE("transformers: save_gpt and load_gpt", "[14][transformers][checkpoint]") {
    const std::string path = (std::filesystem::temp_directory_path() / "tt_test_transformer_gpt.ttckpt").string();
    tt::GPTConfig config = tiny;
    config.bias = false;
    config.dropout = 0.1f;
    auto model = model_with_sines(config);
    tt::save_gpt(path, *model);
    const tt::Checkpoint raw_file = tt::load_checkpoint(path);
    CHECK(raw_file.texts.at("model_type") == "gpt");
    CHECK(raw_file.numbers.at("config.num_heads") == 2.0);
    CHECK(raw_file.numbers.at("config.bias") == 0.0);
    auto loaded = tt::load_gpt(path);
    CHECK(loaded->extra_repr() == model->extra_repr());
    CHECK(loaded->lm_head->weight.is_same(loaded->token_embedding->weight));
    model->eval();
    loaded->eval();
    const tt::Tensor ids = ref::ids_of(tiny_ids, 2, 5);
    CHECK_THAT((*loaded)(ids), tensor_equal((*model)(ids)));

    tt::Linear other(2, 3);
    tt::save_checkpoint(path, tt::make_checkpoint(other));
    CHECK_THAT(error_message([&] { tt::load_gpt(path); }), Contains(path) && Contains("GPT"));
    tt::Checkpoint missing = raw_file;
    missing.numbers.erase("config.embed_dim");
    tt::save_checkpoint(path, missing);
    CHECK_THAT(error_message([&] { tt::load_gpt(path); }), Contains(path) && Contains("embed_dim"));
    std::filesystem::remove(path);
}
