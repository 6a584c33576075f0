// test_gpt_training.cpp - module 14 grader: the GPT's loss and gradients (gpt.cpp with the
// backward of layer_norm.cpp), and that it learns.
// Expected values: PyTorch 1.13 (pytorch_values.h), transformer_reference.h, finite differences.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "grading.h"
#include "pytorch_values.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/optim.h"
#include "tinytorch/transformer.h"
#include "transformer_reference.h"

using namespace tt::testing;
namespace ref = transformer_reference;
namespace torch_values = pytorch_values;

TEST_CASE("GPT next-token loss matches PyTorch", "[points=2]") {
    auto model = ref::model_with_sines(ref::tiny_config);
    const tt::Tensor loss = ref::model_loss(*model, ref::tiny_ids, ref::tiny_targets, 2, 5);
    CHECK(loss.item() == Approx(torch_values::gpt_loss).margin(1e-4));
}

TEST_CASE("GPT gradients of the tied embedding and the positions match PyTorch", "[points=2]") {
    // the tied table gets two contributions: the input lookup and the output head
    auto model = ref::model_with_sines(ref::tiny_config);
    ref::model_loss(*model, ref::tiny_ids, ref::tiny_targets, 2, 5).backward();
    CHECK_THAT(model->token_embedding->weight.grad(),
               tensor_near(ref::as_tensor(torch_values::gpt_d_token_embedding, {7, 8}), 1e-5, 1e-3));
    CHECK_THAT(model->position_embedding->weight.grad(),
               tensor_near(ref::as_tensor(torch_values::gpt_d_position_embedding, {5, 8}), 1e-5, 1e-3));
}

TEST_CASE("GPT gradients inside the blocks and of ln_f match PyTorch", "[points=2]") {
    auto model = ref::model_with_sines(ref::tiny_config);
    ref::model_loss(*model, ref::tiny_ids, ref::tiny_targets, 2, 5).backward();
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

TEST_CASE("every parameter of a tiny tied GPT gets the gradient finite differences give", "[points=3]") {
    auto model = ref::model_with_sines(ref::tiny_config);
    ref::model_loss(*model, ref::tiny_ids, ref::tiny_targets, 2, 5).backward();
    const std::string problems = ref::finite_difference_problems(*model, ref::tiny_ids, ref::tiny_targets, 2, 5);
    INFO(problems);
    CHECK(problems.empty());
}

TEST_CASE("every parameter of a tiny untied GPT without bias gets the right gradient", "[points=2]") {
    tt::GPTConfig config = ref::tiny_config;
    config.tie_weights = false;
    config.bias = false;
    config.num_heads = 4;
    auto model = ref::model_with_sines(config);
    ref::model_loss(*model, ref::tiny_ids, ref::tiny_targets, 2, 5).backward();
    const std::string problems = ref::finite_difference_problems(*model, ref::tiny_ids, ref::tiny_targets, 2, 5);
    INFO(problems);
    CHECK(problems.empty());
}

TEST_CASE("a small GPT learns a repeating sequence with AdamW", "[points=2]") {
    tt::Generator gen(3);
    tt::GPT model({.vocab_size = 6, .context_length = 8, .num_layers = 2, .num_heads = 2, .embed_dim = 16}, &gen);
    // "0 1 2 3 4 5 0 1 2 ..." shifted per row: the next token is always (t + 1) mod 6
    std::vector<int64_t> ids, targets;
    for (int64_t b = 0; b < 4; ++b)
        for (int64_t t = 0; t < 8; ++t) {
            ids.push_back((b + t) % 6);
            targets.push_back((b + t + 1) % 6);
        }
    tt::optim::AdamW optimizer(model.parameters(), {.lr = 1e-2f, .weight_decay = 0.0f});
    float first = 0.0f, last = 0.0f;
    for (int step = 0; step < 60; ++step) {
        optimizer.zero_grad();
        tt::Tensor loss = ref::model_loss(model, ids, targets, 4, 8);
        loss.backward();
        optimizer.step();
        (step == 0 ? first : last) = loss.item();
    }
    INFO("loss " << first << " -> " << last);
    CHECK(first == Approx(std::log(6.0)).margin(0.1));  // GPT-2's small initialisation: nearly uniform logits
    CHECK(last < 0.1f);
}
