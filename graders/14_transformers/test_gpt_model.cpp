// test_gpt_model.cpp - module 14 grader: MLP, TransformerBlock and GPT (gpt.cpp): structure,
// initialisation and the forward pass.
// Expected values: transformer_reference.h (the GPT in plain double loops, nanoGPT's layout) and
// PyTorch 1.13 (pytorch_values.h).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "pytorch_values.h"
#include "tinytorch/autograd.h"
#include "tinytorch/transformer.h"
#include "transformer_reference.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = transformer_reference;
namespace torch_values = pytorch_values;

namespace {

std::vector<std::string> child_names(const tt::Module& m) {
    std::vector<std::string> names;
    for (const auto& [name, child] : m.named_children()) names.push_back(name);
    return names;
}

std::vector<std::string> parameter_names(const tt::Module& m) {
    std::vector<std::string> names;
    for (const auto& [name, t] : m.named_parameters()) names.push_back(name);
    return names;
}

tt::Tensor reference_logits(const tt::GPTConfig& config, const std::vector<int64_t>& ids, int64_t B, int64_t T) {
    return ref::as_tensor(ref::gpt_logits(ref::deterministic_weights(config), ids, B, T), {B, T, config.vocab_size});
}

std::vector<int64_t> some_ids(int64_t count, int64_t vocab, int64_t salt = 3) {
    std::vector<int64_t> ids;
    for (int64_t i = 0; i < count; ++i) ids.push_back((i * 5 + salt + i * i) % vocab);
    return ids;
}

// The reference block's output for x (B, T, D) with the block's current weights.
tt::Tensor reference_block(tt::TransformerBlock& block, const tt::Tensor& x, int64_t H) {
    ref::BlockWeights w;
    auto v = [](const tt::Tensor& t) { return t.defined() ? ref::as_values(t) : ref::Values(); };
    w.ln_1_weight = v(block.ln_1->weight), w.ln_1_bias = v(block.ln_1->bias);
    w.qkv_weight = v(block.attention->qkv->weight), w.qkv_bias = v(block.attention->qkv->bias);
    w.attention_proj_weight = v(block.attention->proj->weight), w.attention_proj_bias = v(block.attention->proj->bias);
    w.ln_2_weight = v(block.ln_2->weight), w.ln_2_bias = v(block.ln_2->bias);
    w.fc_weight = v(block.mlp->fc->weight), w.fc_bias = v(block.mlp->fc->bias);
    w.mlp_proj_weight = v(block.mlp->proj->weight), w.mlp_proj_bias = v(block.mlp->proj->bias);
    return ref::as_tensor(ref::block_forward(w, ref::as_values(x), x.size(0), x.size(1), H, x.size(2)), x.shape());
}

// A block with sine weights (non-trivial LayerNorm parameters included).
void sine_block(tt::TransformerBlock& block, int64_t D) {
    tt::GPTConfig c = ref::tiny_config;
    c.embed_dim = D;
    const ref::BlockWeights w = ref::deterministic_weights(c).blocks[1];
    ref::set_values(block.ln_1->weight, w.ln_1_weight);
    ref::set_values(block.ln_1->bias, w.ln_1_bias);
    ref::set_values(block.attention->qkv->weight, w.qkv_weight);
    ref::set_values(block.attention->qkv->bias, w.qkv_bias);
    ref::set_values(block.attention->proj->weight, w.attention_proj_weight);
    ref::set_values(block.attention->proj->bias, w.attention_proj_bias);
    ref::set_values(block.ln_2->weight, w.ln_2_weight);
    ref::set_values(block.ln_2->bias, w.ln_2_bias);
    ref::set_values(block.mlp->fc->weight, w.fc_weight);
    ref::set_values(block.mlp->fc->bias, w.fc_bias);
    ref::set_values(block.mlp->proj->weight, w.mlp_proj_weight);
    ref::set_values(block.mlp->proj->bias, w.mlp_proj_bias);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MLP
// ---------------------------------------------------------------------------------------------

TEST_CASE("MLP children are fc (D -> 4D) then proj (4D -> D) then dropout", "[points=1]") {
    tt::Generator gen(1);
    tt::MLP mlp(6, 0.25f, true, &gen);
    CHECK(child_names(mlp) == std::vector<std::string>{"fc", "proj", "dropout"});
    CHECK(mlp.fc->weight.shape() == tt::Shape{24, 6});
    CHECK(mlp.proj->weight.shape() == tt::Shape{6, 24});
    CHECK(mlp.dropout->p == 0.25f);
    CHECK(parameter_names(mlp) == std::vector<std::string>{"fc.weight", "fc.bias", "proj.weight", "proj.bias"});
    tt::MLP plain(6, 0.0f, false, &gen);
    CHECK(parameter_names(plain) == std::vector<std::string>{"fc.weight", "proj.weight"});
}

TEST_CASE("MLP forward is proj(gelu(fc(x))) with the exact GELU", "[points=3]") {
    tt::Generator gen(2);
    tt::MLP mlp(4, 0.0f, true, &gen);
    // weights large enough that fc's outputs reach |z| ~ 2-3, where the tanh GELU is off by ~1e-3
    ref::set_values(mlp.fc->weight, ref::sines(64, 3, 0.0, 1.2));
    ref::set_values(mlp.fc->bias, ref::sines(16, 4, 0.0, 0.5));
    const tt::Tensor x = random_values({2, 3, 4}, 5, -1.5f, 1.5f);
    ref::Values hidden = ref::linear(ref::as_values(x), 4, ref::as_values(mlp.fc->weight), ref::as_values(mlp.fc->bias), 16);
    for (double& v : hidden) v = ref::gelu(v);
    const ref::Values y = ref::linear(hidden, 16, ref::as_values(mlp.proj->weight), ref::as_values(mlp.proj->bias), 4);
    CHECK_THAT(mlp(x), tensor_near(ref::as_tensor(y, {2, 3, 4}), 1e-5, 1e-5));
}

TEST_CASE("MLP dropout acts on the output in training only", "[points=1]") {
    tt::Generator gen(3);
    tt::MLP mlp(4, 0.5f, true, &gen);
    const tt::Tensor x = random_values({6, 4}, 6);
    mlp.eval();
    const std::vector<float> clean = values_of(mlp(x));
    mlp.train();
    const std::vector<float> dropped = values_of(mlp(x));
    // after proj, each output is either dropped (0) or kept and scaled by 1 / (1 - p) = 2
    int zeros = 0;
    for (size_t i = 0; i < clean.size(); ++i) {
        INFO("element " << i << ": eval " << clean[i] << ", train " << dropped[i]);
        CHECK((dropped[i] == 0.0f || std::abs(dropped[i] - 2 * clean[i]) <= 1e-5f + 1e-5f * std::abs(clean[i])));
        zeros += dropped[i] == 0.0f;
    }
    CHECK(zeros > 0);
    CHECK(zeros < 24);
}

// ---------------------------------------------------------------------------------------------
// TransformerBlock
// ---------------------------------------------------------------------------------------------

TEST_CASE("TransformerBlock children: ln_1; attention; attention_dropout; ln_2; mlp", "[points=1]") {
    tt::Generator gen(4);
    tt::GPTConfig config = ref::tiny_config;
    config.dropout = 0.1f;
    tt::TransformerBlock block(config, &gen);
    CHECK(child_names(block) == std::vector<std::string>{"ln_1", "attention", "attention_dropout", "ln_2", "mlp"});
    CHECK(block.attention->options.embed_dim == 8);
    CHECK(block.attention->options.num_heads == 2);
    CHECK(block.attention->options.causal);
    CHECK(block.attention_dropout->p == 0.1f);
    CHECK(block.mlp->dropout->p == 0.1f);
    CHECK(block.ln_1->dim == 8);
    config.bias = false;
    tt::TransformerBlock plain(config, &gen);
    for (const auto& [name, t] : plain.named_parameters()) CHECK(name.find("bias") == std::string::npos);
}

TEST_CASE("TransformerBlock is pre-LN: x + attention(ln_1(x)); then + mlp(ln_2(.))", "[points=4]") {
    tt::Generator gen(5);
    tt::TransformerBlock block(ref::tiny_config, &gen);
    sine_block(block, 8);
    for (const tt::Shape& shape : std::vector<tt::Shape>{{2, 5, 8}, {1, 3, 8}, {3, 1, 8}}) {
        INFO("x " << shape_text(shape));
        const tt::Tensor x = random_values(shape, 7, -2.0f, 2.0f);
        CHECK_THAT(block(x), tensor_near(reference_block(block, x, 2), 1e-4, 1e-4));
        CHECK_THAT(block.forward(x, nullptr), tensor_near(reference_block(block, x, 2), 1e-4, 1e-4));
    }
}

TEST_CASE("TransformerBlock with silent sub-layers is the identity: the residual stream is x itself", "[points=2]") {
    // proj weights and biases 0: both sub-layers output 0, so the block must return x exactly,
    // not ln(x) or anything normalised
    tt::Generator gen(6);
    tt::TransformerBlock block(ref::tiny_config, &gen);
    sine_block(block, 8);
    ref::set_values(block.attention->proj->weight, ref::Values(64, 0.0));
    ref::set_values(block.attention->proj->bias, ref::Values(8, 0.0));
    ref::set_values(block.mlp->proj->weight, ref::Values(256, 0.0));
    ref::set_values(block.mlp->proj->bias, ref::Values(8, 0.0));
    const tt::Tensor x = random_values({2, 4, 8}, 8, -3.0f, 3.0f);
    CHECK_THAT(block(x), tensor_near(x, 1e-6, 1e-6));
}

TEST_CASE("TransformerBlock gradient check with respect to its input", "[points=2]") {
    tt::Generator gen(7);
    tt::TransformerBlock block(ref::tiny_config, &gen);
    sine_block(block, 8);
    GradientCheckOptions options;
    options.step = 3e-3;
    CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return block(in[0]); }, {random_values({2, 3, 8}, 9, -1.0f, 1.0f)},
                         options));
}

TEST_CASE("TransformerBlock dropout: the attention output is dropped in training; nothing in eval", "[points=1]") {
    tt::Generator gen(8);
    tt::GPTConfig config = ref::tiny_config;
    config.dropout = 0.5f;
    tt::TransformerBlock block(config, &gen);
    sine_block(block, 8);
    const tt::Tensor x = random_values({2, 5, 8}, 10, -1.0f, 1.0f);
    block.eval();
    CHECK_THAT(block(x), tensor_near(reference_block(block, x, 2), 1e-4, 1e-4));
    block.train();
    CHECK_FALSE(tensor_near(reference_block(block, x, 2), 1e-3, 1e-3).match(block(x)));
}

// ---------------------------------------------------------------------------------------------
// GPT: structure
// ---------------------------------------------------------------------------------------------

TEST_CASE("GPT children; blocks and their names; in order", "[points=1]") {
    tt::Generator gen(9);
    tt::GPTConfig config = ref::tiny_config;
    config.num_layers = 3;
    tt::GPT model(config, &gen);
    CHECK(child_names(model) == std::vector<std::string>{"token_embedding", "position_embedding", "dropout", "blocks", "ln_f", "lm_head"});
    REQUIRE(model.blocks->size() == 3);
    CHECK(child_names(*model.blocks) == std::vector<std::string>{"0", "1", "2"});
    CHECK(model.token_embedding->weight.shape() == tt::Shape{7, 8});
    CHECK(model.position_embedding->weight.shape() == tt::Shape{5, 8});
    CHECK(model.lm_head->weight.shape() == tt::Shape{7, 8});
    CHECK_FALSE(model.lm_head->bias.defined());
    CHECK(model.ln_f->dim == 8);
    const std::vector<std::string> names = parameter_names(model);
    REQUIRE(names.size() >= 4);
    CHECK(names[0] == "token_embedding.weight");
    CHECK(names[1] == "position_embedding.weight");
    CHECK(names[2] == "blocks.0.ln_1.weight");
    CHECK(names[4] == "blocks.0.attention.qkv.weight");
    CHECK(names[names.size() - 2] == "ln_f.weight");
    CHECK(names.back() == "ln_f.bias");
    {
        tt::Generator gen(14);
        tt::GPT model(ref::tiny_config, &gen);
        CHECK(model.extra_repr() ==
              "vocab_size=7, context_length=5, num_layers=2, num_heads=2, embed_dim=8, dropout=0, bias=true, tie_weights=true");
    }
}

TEST_CASE("GPT ties lm_head to the token embedding: one tensor; listed once", "[points=3]") {
    tt::Generator gen(10);
    tt::GPT model(ref::tiny_config, &gen);
    CHECK(model.lm_head->weight.is_same(model.token_embedding->weight));
    for (const auto& [name, t] : model.lm_head->named_parameters()) {
        INFO("lm_head." << name);
        CHECK(t.is_same(model.token_embedding->weight));  // the head's own entry, if any, is the table too
    }
    int listed = 0;
    for (const auto& [name, t] : model.named_parameters()) {
        CHECK(name != "lm_head.weight");
        listed += t.storage() == model.token_embedding->weight.storage();
    }
    CHECK(listed == 1);  // an optimizer steps it once
    const int64_t V = 7, C = 5, L = 2, D = 8;
    CHECK(model.parameter_count() == V * D + C * D + L * (12 * D * D + 13 * D) + 2 * D);
}

TEST_CASE("GPT without tying has its own head weight", "[points=1]") {
    tt::Generator gen(11);
    tt::GPTConfig config = ref::tiny_config;
    config.tie_weights = false;
    tt::GPT model(config, &gen);
    CHECK_FALSE(model.lm_head->weight.is_same(model.token_embedding->weight));
    CHECK(parameter_names(model).back() == "lm_head.weight");
    CHECK(model.parameter_count() == 2 * 7 * 8 + 5 * 8 + 2 * (12 * 64 + 13 * 8) + 2 * 8);
}

TEST_CASE("GPT without bias has none anywhere", "[points=1]") {
    tt::Generator gen(12);
    tt::GPTConfig config = ref::tiny_config;
    config.bias = false;
    tt::GPT model(config, &gen);
    for (const auto& [name, t] : model.named_parameters()) CHECK(name.find("bias") == std::string::npos);
    CHECK_FALSE(model.ln_f->bias.defined());
    CHECK(model.parameter_count() == 7 * 8 + 5 * 8 + 2 * (12 * 64 + 2 * 8) + 8);
}

TEST_CASE("GPT refuses configurations that cannot work; naming the setting", "[points=2]") {
    auto error_for = [](auto change) {
        tt::GPTConfig c = ref::tiny_config;
        change(c);
        return error_message([&] { tt::GPT model(c); });
    };
    CHECK_THAT(error_for([](tt::GPTConfig& c) { c.vocab_size = 0; }), Contains("vocab_size"));
    CHECK_THAT(error_for([](tt::GPTConfig& c) { c.context_length = -1; }), Contains("context_length"));
    CHECK_THAT(error_for([](tt::GPTConfig& c) { c.num_layers = 0; }), Contains("num_layers"));
    CHECK_THAT(error_for([](tt::GPTConfig& c) { c.num_heads = 0; }), Contains("num_heads"));
    CHECK_THAT(error_for([](tt::GPTConfig& c) { c.embed_dim = 0; }), Contains("embed_dim"));
    CHECK_THAT(error_for([](tt::GPTConfig& c) { c.num_heads = 3; }), Contains("embed_dim") && Contains("num_heads"));
    CHECK_THAT(error_for([](tt::GPTConfig& c) { c.dropout = 1.0f; }), Contains("dropout"));
    CHECK_THAT(error_for([](tt::GPTConfig& c) { c.dropout = -0.1f; }), Contains("dropout"));
}

// ---------------------------------------------------------------------------------------------
// GPT: initialisation
// ---------------------------------------------------------------------------------------------

TEST_CASE("GPT-2 initialisation: weights of std 0.02 and biases 0 and LayerNorms at 1 and 0", "[points=2]") {
    tt::Generator gen(15);
    tt::GPT model({.vocab_size = 64, .context_length = 32, .num_layers = 2, .num_heads = 2, .embed_dim = 64}, &gen);
    CHECK(ref::std_of(model.token_embedding->weight) == Approx(0.02).epsilon(0.1));
    CHECK(ref::std_of(model.position_embedding->weight) == Approx(0.02).epsilon(0.1));
    for (int64_t i = 0; i < 2; ++i) {
        INFO("block " << i);
        CHECK(ref::std_of(model.block(i).attention->qkv->weight) == Approx(0.02).epsilon(0.1));
        CHECK(ref::std_of(model.block(i).mlp->fc->weight) == Approx(0.02).epsilon(0.1));
        CHECK_THAT(model.block(i).attention->qkv->bias, tensor_equal(raw(std::vector<float>(192, 0.0f), {192})));
        CHECK_THAT(model.block(i).attention->proj->bias, tensor_equal(raw(std::vector<float>(64, 0.0f), {64})));
        CHECK_THAT(model.block(i).mlp->fc->bias, tensor_equal(raw(std::vector<float>(256, 0.0f), {256})));
        CHECK_THAT(model.block(i).mlp->proj->bias, tensor_equal(raw(std::vector<float>(64, 0.0f), {64})));
        CHECK_THAT(model.block(i).ln_1->weight, tensor_equal(raw(std::vector<float>(64, 1.0f), {64})));
        CHECK_THAT(model.block(i).ln_2->bias, tensor_equal(raw(std::vector<float>(64, 0.0f), {64})));
    }
    const double mean = [&] {
        double s = 0;
        for (double v : ref::as_values(model.token_embedding->weight)) s += v;
        return s / (64 * 64);
    }();
    CHECK(std::abs(mean) < 0.002);
}

TEST_CASE("GPT-2 initialisation scales the residual projections by 1 / sqrt(2 L)", "[points=2]") {
    tt::Generator gen(16);
    tt::GPT model({.vocab_size = 16, .context_length = 8, .num_layers = 8, .num_heads = 2, .embed_dim = 64}, &gen);
    for (int64_t i = 0; i < 8; i += 3) {
        INFO("block " << i);
        CHECK(ref::std_of(model.block(i).attention->proj->weight) == Approx(0.005).epsilon(0.1));  // 0.02 / sqrt(16)
        CHECK(ref::std_of(model.block(i).mlp->proj->weight) == Approx(0.005).epsilon(0.1));
        CHECK(ref::std_of(model.block(i).mlp->fc->weight) == Approx(0.02).epsilon(0.1));
    }
}

TEST_CASE("GPT initialisation comes from the generator it is given", "[points=1]") {
    tt::Generator a(17), b(17), c(18);
    tt::GPT first(ref::tiny_config, &a), second(ref::tiny_config, &b), third(ref::tiny_config, &c);
    CHECK_THAT(second.token_embedding->weight, tensor_equal(first.token_embedding->weight));
    CHECK_THAT(second.block(1).mlp->proj->weight, tensor_equal(first.block(1).mlp->proj->weight));
    CHECK_FALSE(tensor_equal(first.token_embedding->weight).match(third.token_embedding->weight));
    // without a generator: the default one, so tt::manual_seed reproduces a model
    tt::manual_seed(5);
    tt::GPT fourth(ref::tiny_config);
    tt::manual_seed(5);
    tt::GPT fifth(ref::tiny_config);
    tt::manual_seed(6);
    tt::GPT sixth(ref::tiny_config);
    CHECK_THAT(fifth.block(0).attention->qkv->weight, tensor_equal(fourth.block(0).attention->qkv->weight));
    CHECK_FALSE(tensor_equal(fourth.block(0).attention->qkv->weight).match(sixth.block(0).attention->qkv->weight));
}

// ---------------------------------------------------------------------------------------------
// GPT: forward
// ---------------------------------------------------------------------------------------------

TEST_CASE("GPT logits match PyTorch for the tiny model", "[points=4]") {
    auto model = ref::model_with_sines(ref::tiny_config);
    const tt::Tensor logits = (*model)(ref::ids_of(ref::tiny_ids, 2, 5));
    CHECK(logits.shape() == tt::Shape{2, 5, 7});
    CHECK_THAT(logits, tensor_near(ref::as_tensor(torch_values::gpt_logits, {2, 5, 7}), 1e-4, 1e-4));
}

TEST_CASE("GPT logits match the reference for more layers and heads; shorter sequences", "[points=2]") {
    const tt::GPTConfig config{.vocab_size = 11, .context_length = 6, .num_layers = 3, .num_heads = 4, .embed_dim = 8};
    auto model = ref::model_with_sines(config);
    for (int64_t T : {6, 3, 1}) {
        INFO("T = " << T);
        const std::vector<int64_t> ids = some_ids(2 * T, 11);
        CHECK_THAT((*model)(ref::ids_of(ids, 2, T)), tensor_near(reference_logits(config, ids, 2, T), 1e-4, 1e-4));
    }
}

TEST_CASE("GPT logits match the reference without bias and without tying", "[points=2]") {
    const tt::GPTConfig plain{.vocab_size = 5, .context_length = 4, .num_layers = 1, .num_heads = 1, .embed_dim = 6, .bias = false};
    const tt::GPTConfig untied{.vocab_size = 9, .context_length = 7, .num_layers = 2, .num_heads = 2, .embed_dim = 4,
                               .tie_weights = false};
    for (const tt::GPTConfig& config : {plain, untied}) {
        auto model = ref::model_with_sines(config);
        const std::vector<int64_t> ids = some_ids(3 * config.context_length, config.vocab_size);
        INFO(model->extra_repr());
        CHECK_THAT((*model)(ref::ids_of(ids, 3, config.context_length)),
                   tensor_near(reference_logits(config, ids, 3, config.context_length), 1e-4, 1e-4));
    }
}

TEST_CASE("GPT adds the position embedding of position t to token t", "[points=1]") {
    auto model = ref::model_with_sines(ref::tiny_config);
    // one token repeated: only the positions tell the rows apart, and position 0 comes first
    const std::vector<int64_t> ids = {4, 4, 4, 4, 4};
    CHECK_THAT((*model)(ref::ids_of(ids, 1, 5)), tensor_near(reference_logits(ref::tiny_config, ids, 1, 5), 1e-4, 1e-4));
    // a 1-token sequence sees position 0
    CHECK_THAT((*model)(ref::ids_of({2}, 1, 1)), tensor_near(reference_logits(ref::tiny_config, {2}, 1, 1), 1e-4, 1e-4));
}

TEST_CASE("GPT is causal and treats the sequences of a batch independently", "[points=2]") {
    auto model = ref::model_with_sines(ref::tiny_config);
    const std::vector<float> base = values_of((*model)(ref::ids_of({1, 2, 3, 4, 5}, 1, 5)));
    const std::vector<float> changed = values_of((*model)(ref::ids_of({1, 2, 3, 4, 0}, 1, 5)));
    for (size_t i = 0; i < 4 * 7; ++i) CHECK(changed[i] == Approx(base[i]).margin(1e-6));  // positions 0..3 unchanged
    const std::vector<float> batched = values_of((*model)(ref::ids_of({1, 2, 3, 4, 5, 6, 6, 6, 6, 6}, 2, 5)));
    for (size_t i = 0; i < base.size(); ++i) CHECK(batched[i] == Approx(base[i]).margin(1e-5));
}

TEST_CASE("GPT in eval mode drops nothing; in training it drops", "[points=2]") {
    tt::GPTConfig config = ref::tiny_config;
    config.dropout = 0.3f;
    auto model = ref::model_with_sines(config);
    const tt::Tensor ids = ref::ids_of(ref::tiny_ids, 2, 5);
    const tt::Tensor clean = ref::as_tensor(torch_values::gpt_logits, {2, 5, 7});
    model->eval();
    CHECK_THAT((*model)(ids), tensor_near(clean, 1e-4, 1e-4));
    model->train();
    CHECK_FALSE(tensor_near(clean, 1e-3, 1e-3).match((*model)(ids)));
    {
        tt::Generator gen(13);
        tt::GPTConfig config = ref::tiny_config;
        config.dropout = 0.2f;
        tt::GPT model(config, &gen);
        CHECK(model.dropout->p == 0.2f);
        for (int64_t i = 0; i < 2; ++i) {
            CHECK(model.block(i).attention_dropout->p == 0.2f);
            CHECK(model.block(i).mlp->dropout->p == 0.2f);
        }
    }
}

TEST_CASE("GPT forward errors name T and the context length; or the shape", "[points=1]") {
    auto model = ref::model_with_sines(ref::tiny_config);
    CHECK_THAT(error_message([&] { (*model)(ref::ids_of(some_ids(6, 7), 1, 6)); }), Contains("6") && Contains("5"));
    CHECK_THAT(error_message([&] { (*model)(nested({1, 2, 3})); }), Contains("GPT") && Contains("(3)"));
    CHECK_THAT(error_message([&] { (*model)(raw({1, 2, 3, 4}, {1, 2, 2})); }), Contains("(1, 2, 2)"));
}
