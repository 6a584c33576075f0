// test_gpt_checkpoint.cpp - module 14 grader: save_gpt and load_gpt (gpt.cpp).
// A GPT checkpoint is module 10's checkpoint plus the config as numbers ("config.vocab_size", ...)
// and the text "model_type" = "gpt", so that load_gpt can rebuild the model before loading it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/layers.h"
#include "tinytorch/optim.h"
#include "tinytorch/training.h"
#include "tinytorch/transformer.h"
#include "transformer_reference.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = transformer_reference;

namespace {

// A file in the test's temporary folder, removed at the end of the test.
struct TemporaryFile {
    std::string path;
    explicit TemporaryFile(const std::string& name)
        : path((std::filesystem::temp_directory_path() / ("tt_grader_14_" + name + ".ttckpt")).string()) {}
    ~TemporaryFile() {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
};

const tt::GPTConfig odd{.vocab_size = 9, .context_length = 4, .num_layers = 3, .num_heads = 4, .embed_dim = 8,
                        .dropout = 0.25f, .bias = false, .tie_weights = false};

}  // namespace

TEST_CASE("save_gpt writes the weights; the config numbers and model_type", "[points=2]") {
    TemporaryFile file("contents");
    auto model = ref::model_with_sines(odd);
    tt::save_gpt(file.path, *model);
    const tt::Checkpoint saved = tt::load_checkpoint(file.path);
    REQUIRE(saved.texts.count("model_type") == 1);
    CHECK(saved.texts.at("model_type") == "gpt");
    const std::vector<std::pair<std::string, double>> numbers = {
        {"config.vocab_size", 9}, {"config.context_length", 4}, {"config.num_layers", 3}, {"config.num_heads", 4},
        {"config.embed_dim", 8},  {"config.dropout", 0.25},     {"config.bias", 0},       {"config.tie_weights", 0}};
    for (const auto& [key, value] : numbers) {
        INFO(key);
        REQUIRE(saved.numbers.count(key) == 1);
        CHECK(saved.numbers.at(key) == Approx(value));
    }
    CHECK(saved.tensors.count("model.token_embedding.weight") == 1);
    CHECK(saved.tensors.count("model.lm_head.weight") == 1);
    {
        TemporaryFile file("optimizer");
        auto model = ref::model_with_sines(ref::tiny_config);
        tt::optim::AdamW optimizer(model->parameters());
        ref::model_loss(*model, ref::tiny_ids, ref::tiny_targets, 2, 5).backward();
        optimizer.step();
        tt::save_gpt(file.path, *model, &optimizer);
        const tt::Checkpoint saved = tt::load_checkpoint(file.path);
        CHECK(saved.texts.count("optimizer") == 1);
        CHECK(saved.texts.count("model_type") == 1);
        CHECK(saved.numbers.count("config.embed_dim") == 1);
    }
}

TEST_CASE("load_gpt rebuilds the same model from its file", "[points=2]") {
    TemporaryFile file("round_trip");
    for (const tt::GPTConfig& config : {ref::tiny_config, odd}) {
        auto model = ref::model_with_sines(config);
        tt::save_gpt(file.path, *model);
        const std::shared_ptr<tt::GPT> loaded = tt::load_gpt(file.path);
        REQUIRE(loaded != nullptr);
        CHECK(loaded->config.vocab_size == config.vocab_size);
        CHECK(loaded->config.context_length == config.context_length);
        CHECK(loaded->config.num_layers == config.num_layers);
        CHECK(loaded->config.num_heads == config.num_heads);
        CHECK(loaded->config.embed_dim == config.embed_dim);
        CHECK(loaded->config.dropout == config.dropout);
        CHECK(loaded->config.bias == config.bias);
        CHECK(loaded->config.tie_weights == config.tie_weights);
        CHECK(loaded->lm_head->weight.is_same(loaded->token_embedding->weight) == config.tie_weights);
        model->eval();
        loaded->eval();
        const std::vector<int64_t> ids = {1, 0, 3, 2};
        const tt::Tensor x = ref::ids_of(ids, 1, 4);
        CHECK_THAT((*loaded)(x), tensor_near(ref::as_tensor(ref::gpt_logits(ref::deterministic_weights(config), ids, 1, 4),
                                                            {1, 4, config.vocab_size}), 1e-4, 1e-4));
    }
}

TEST_CASE("load_gpt refuses a checkpoint that is not a GPT's; naming the file", "[points=2]") {
    TemporaryFile file("not_gpt");
    tt::Linear linear(3, 2);
    tt::save_checkpoint(file.path, tt::make_checkpoint(linear));
    CHECK_THAT(error_message([&] { tt::load_gpt(file.path); }), Contains(file.path));
    // model_type of something else
    tt::Checkpoint other = tt::make_checkpoint(linear);
    other.texts["model_type"] = "mlp";
    tt::save_checkpoint(file.path, other);
    CHECK_THAT(error_message([&] { tt::load_gpt(file.path); }), Contains(file.path));
    CHECK_THAT(error_message([&] { tt::load_gpt(file.path + ".missing"); }), Contains(file.path + ".missing"));
    // a GPT's weights and config under another model_type are not a GPT checkpoint either
    auto model = ref::model_with_sines(ref::tiny_config);
    tt::save_gpt(file.path, *model);
    tt::Checkpoint renamed = tt::load_checkpoint(file.path);
    renamed.texts["model_type"] = "bert";
    tt::save_checkpoint(file.path, renamed);
    CHECK_THAT(error_message([&] { tt::load_gpt(file.path); }), Contains(file.path));
    renamed.texts.erase("model_type");
    tt::save_checkpoint(file.path, renamed);
    CHECK_THAT(error_message([&] { tt::load_gpt(file.path); }), Contains(file.path));
}

TEST_CASE("load_gpt refuses a GPT checkpoint with a config number missing", "[points=2]") {
    TemporaryFile file("missing");
    auto model = ref::model_with_sines(ref::tiny_config);
    tt::save_gpt(file.path, *model);
    const tt::Checkpoint saved = tt::load_checkpoint(file.path);
    for (const std::string key : {"config.num_heads", "config.vocab_size", "config.embed_dim"}) {
        tt::Checkpoint damaged = saved;
        damaged.numbers.erase(key);
        tt::save_checkpoint(file.path, damaged);
        INFO(key);
        CHECK_THAT(error_message([&] { tt::load_gpt(file.path); }), Contains(file.path) && Contains(key.substr(7)));
    }
    {
        TemporaryFile file("mismatch");
        auto model = ref::model_with_sines(ref::tiny_config);
        tt::save_gpt(file.path, *model);
        tt::Checkpoint damaged = tt::load_checkpoint(file.path);
        damaged.numbers["config.embed_dim"] = 4;  // the tensors are for D = 8
        tt::save_checkpoint(file.path, damaged);
        CHECK_THAT(error_message([&] { tt::load_gpt(file.path); }), Contains(file.path));
    }
}

