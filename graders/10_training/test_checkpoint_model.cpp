// test_checkpoint_model.cpp - module 10 grader: make_checkpoint and restore_checkpoint
// (checkpoint.cpp): a model's parameters and buffers and an optimizer's state into a Checkpoint
// and back, in place; a checkpoint of another model is refused before anything changes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tinytorch/spatial.h"
#include "training_grading.h"

using namespace tt::testing;
using namespace training_grading;
using Catch::Matchers::Contains;

namespace {

// A module with a parameter and a buffer of its own, and a child.
class WithBuffer : public tt::Module {
public:
    explicit WithBuffer(uint64_t seed, int64_t width = 3) {
        tt::Generator gen(seed);
        scale = register_parameter("scale", random_values({width}, seed));
        running = register_buffer("running", random_values({width}, seed + 1));
        child = register_module("child", std::make_shared<tt::Linear>(width, 2, true, &gen));
    }
    tt::Tensor forward(const tt::Tensor& x) override { return (*child)(x * scale); }
    std::string name() const override { return "WithBuffer"; }
    tt::Tensor scale, running;
    std::shared_ptr<tt::Linear> child;
};

// One step of training on `model` with a seeded batch.
void train_step(tt::Module& model, tt::optim::Optimizer& optimizer, uint64_t seed) {
    optimizer.zero_grad();
    model(random_values({4, 3}, seed)).sum().backward();
    optimizer.step();
}

std::vector<std::string> keys(const std::map<std::string, tt::Tensor>& tensors) {
    std::vector<std::string> out;
    for (const auto& [name, t] : tensors) out.push_back(name);
    return out;
}

}  // namespace

TEST_CASE("make_checkpoint holds every parameter and buffer as model.<name>", "[points=2]") {
    WithBuffer model(1);
    const tt::Checkpoint c = tt::make_checkpoint(model);
    CHECK(keys(c.tensors) == std::vector<std::string>{"model.child.bias", "model.child.weight", "model.running", "model.scale"});
    CHECK_THAT(c.tensors.at("model.scale"), tensor_equal(model.scale));
    CHECK_THAT(c.tensors.at("model.running"), tensor_equal(model.running));
    CHECK_THAT(c.tensors.at("model.child.weight"), tensor_equal(model.child->weight));
    CHECK(c.texts.at("model") == model.to_string());
    CHECK(c.numbers.empty());
    CHECK(c.texts.count("optimizer") == 0);
}

TEST_CASE("make_checkpoint holds copies - training on does not change it", "[points=2]") {
    WithBuffer model(1);
    tt::optim::SGD optimizer(model.parameters(), {.lr = 0.1f});
    const tt::Checkpoint c = tt::make_checkpoint(model, &optimizer);
    const std::vector<float> saved = values_of(c.tensors.at("model.child.weight"));
    const std::vector<float> saved_running = values_of(c.tensors.at("model.running"));
    CHECK_FALSE(shares_storage(c.tensors.at("model.scale"), model.scale));
    CHECK_FALSE(c.tensors.at("model.scale").requires_grad());  // detached: no graph in a checkpoint
    train_step(model, optimizer, 2);
    {
        tt::NoGradGuard no_grad;
        model.running.copy_(nested({9, 9, 9}));
    }
    INFO("a checkpoint must hold the values of the moment it was made: clone, do not keep the model's tensors");
    CHECK(values_of(c.tensors.at("model.child.weight")) == saved);
    CHECK(values_of(c.tensors.at("model.running")) == saved_running);
}

TEST_CASE("make_checkpoint holds the optimizer state as optimizer.<key> and its name", "[points=2]") {
    WithBuffer model(1);
    tt::optim::SGD optimizer(model.parameters(), {.lr = 0.1f, .momentum = 0.9f});
    train_step(model, optimizer, 3);
    const tt::Checkpoint c = tt::make_checkpoint(model, &optimizer);
    const tt::optim::OptimizerState state = optimizer.state();
    for (const auto& [key, tensor] : state.tensors) {
        INFO("optimizer." << key);
        REQUIRE(c.tensors.count("optimizer." + key) == 1);
        CHECK_THAT(c.tensors.at("optimizer." + key), tensor_equal(tensor));
    }
    for (const auto& [key, value] : state.numbers) {
        INFO("optimizer." << key);
        REQUIRE(c.numbers.count("optimizer." + key) == 1);
        CHECK(c.numbers.at("optimizer." + key) == value);
    }
    CHECK(c.tensors.size() == 4 + state.tensors.size());
    CHECK(c.numbers.size() == state.numbers.size());
    CHECK(c.texts.at("optimizer") == "SGD");
}

TEST_CASE("restore_checkpoint copies the values into the model in place", "[points=2]") {
    WithBuffer trained(1), fresh(99);
    tt::optim::SGD sgd(trained.parameters(), {.lr = 0.1f});
    train_step(trained, sgd, 4);
    const tt::Tensor weight_handle = fresh.child->weight;
    tt::restore_checkpoint(tt::make_checkpoint(trained), fresh);
    CHECK(weights_of(fresh) == weights_of(trained));
    INFO("in place (copy_): the optimizer and anything else that holds the model's tensors must see the new values");
    CHECK(fresh.child->weight.is_same(weight_handle));
    CHECK(fresh.child->weight.requires_grad());
    CHECK_THAT(fresh.running, tensor_equal(trained.running));
}

TEST_CASE("restore_checkpoint restores buffers - BatchNorm running statistics", "[points=2]") {
    tt::BatchNorm2d trained(3);
    trained.train();
    trained(random_values({4, 3, 2, 2}, 3, 0.0f, 5.0f));  // moves the running statistics
    tt::BatchNorm2d fresh(3);
    tt::restore_checkpoint(tt::make_checkpoint(trained), fresh);
    INFO("buffers are part of the model: without them an eval-mode BatchNorm uses mean 0, variance 1");
    CHECK_THAT(fresh.running_mean, tensor_equal(trained.running_mean));
    CHECK_THAT(fresh.running_var, tensor_equal(trained.running_var));
}

TEST_CASE("restore_checkpoint restores the optimizer state - the next step is the same", "[points=2]") {
    Folder folder;
    WithBuffer trained(1);
    tt::optim::Adam adam(trained.parameters(), {.lr = 0.01f});
    for (uint64_t step = 0; step < 3; ++step) train_step(trained, adam, 10 + step);
    tt::save_checkpoint(folder.file("c.ttckpt"), tt::make_checkpoint(trained, &adam));

    WithBuffer fresh(99);
    tt::optim::Adam fresh_adam(fresh.parameters(), {.lr = 0.5f});
    tt::restore_checkpoint(tt::load_checkpoint(folder.file("c.ttckpt")), fresh, &fresh_adam);
    CHECK(weights_of(fresh) == weights_of(trained));
    CHECK(fresh_adam.lr == adam.lr);
    train_step(trained, adam, 50);
    train_step(fresh, fresh_adam, 50);
    INFO("Adam's moments and step count came back: one more step gives the same weights, bit for bit");
    CHECK(weights_of(fresh) == weights_of(trained));
}

TEST_CASE("restore_checkpoint refuses a tensor of another shape - naming it and both shapes", "[points=2]") {
    WithBuffer model(1, 3);
    const auto before = weights_of(model);
    const std::vector<float> running_before = values_of(model.running);
    const tt::Checkpoint other = tt::make_checkpoint(WithBuffer(2, 4));
    const std::string message = error_message([&] { tt::restore_checkpoint(other, model); });
    CHECK_THAT(message, Contains("model.") && Contains("(4)") && Contains("(3)"));
    INFO("everything is checked before anything is written: a refused checkpoint changes nothing");
    CHECK(weights_of(model) == before);
    CHECK(values_of(model.running) == running_before);
}

TEST_CASE("restore_checkpoint refuses a missing or an unexpected entry - naming it", "[points=2]") {
    WithBuffer model(1);
    const auto before = weights_of(model);
    tt::Checkpoint missing = tt::make_checkpoint(WithBuffer(2));
    missing.tensors.erase("model.running");
    CHECK_THAT(error_message([&] { tt::restore_checkpoint(missing, model); }), Contains("model.running"));
    tt::Checkpoint extra = tt::make_checkpoint(WithBuffer(2));
    extra.tensors["model.extra.weight"] = nested({1, 2});
    CHECK_THAT(error_message([&] { tt::restore_checkpoint(extra, model); }), Contains("model.extra.weight"));
    tt::Checkpoint no_parameter = tt::make_checkpoint(WithBuffer(2));
    no_parameter.tensors.erase("model.child.bias");
    CHECK_THAT(error_message([&] { tt::restore_checkpoint(no_parameter, model); }), Contains("model.child.bias"));
    CHECK(weights_of(model) == before);
}

TEST_CASE("restore_checkpoint refuses the state of another optimizer", "[points=1]") {
    WithBuffer model(1);
    tt::optim::SGD sgd(model.parameters(), {.lr = 0.1f});
    tt::optim::Adam adam(model.parameters());
    const auto before = weights_of(model);
    CHECK_THAT(error_message([&] { tt::restore_checkpoint(tt::make_checkpoint(WithBuffer(2), &sgd), model, &adam); }),
               Contains("SGD") && Contains("Adam"));
    CHECK_THAT(error_message([&] { tt::restore_checkpoint(tt::make_checkpoint(WithBuffer(2)), model, &adam); }),
               Contains("optimizer"));
    CHECK(weights_of(model) == before);
}
