// test_trainer.cpp - module 10 grader: Trainer::train_epoch and Trainer::fit (trainer.cpp).
//
// The weights after fit() are compared bit for bit with the training loop written out in
// training_grading.h (HandLoop) with modules 04-08: any change of order - zero_grad after
// backward or never, clipping after the step, the scheduler before the optimizer - changes them.
// Validation losses come from a script (ScriptedLoss), so early stopping and the best checkpoint
// are checked against epochs decided here.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "training_grading.h"

using namespace tt::testing;
using namespace training_grading;
using Catch::Matchers::Contains;

namespace {

using Weights = std::vector<std::vector<float>>;

tt::TrainerOptions quiet(tt::TrainerOptions options) {
    options.progress = false;
    return options;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The loop itself
// ---------------------------------------------------------------------------------------------

TEST_CASE("fit with plain SGD gives the weights of the hand-written loop bit for bit", "[points=3]") {
    const tt::data::DataLoaderOptions loading{.batch_size = 8, .shuffle = true, .seed = 11};
    auto model = small_mlp(7);
    tt::data::DataLoader train(blobs(50, 4), loading);
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.3f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 3}));
    const tt::History h = trainer.fit(train);

    auto expected_model = small_mlp(7);
    tt::data::DataLoader expected_train(blobs(50, 4), loading);
    tt::optim::SGD expected_optimizer(expected_model->parameters(), {.lr = 0.3f});
    const std::vector<double> losses = HandLoop{}.run(*expected_model, expected_optimizer, expected_train, 3);

    INFO("per batch: zero_grad, forward, loss, backward, step - gradients must not accumulate across steps");
    CHECK(weights_of(*model) == weights_of(*expected_model));
    REQUIRE(h.epochs.size() == 3);
    for (size_t e = 0; e < 3; ++e) CHECK(h.epochs[e].train_loss == Approx(losses[e]).epsilon(1e-9));
}

TEST_CASE("fit with momentum and gradient clipping and a per-batch schedule matches the hand-written loop", "[points=3]") {
    const tt::data::DataLoaderOptions loading{.batch_size = 8, .shuffle = true, .seed = 3};
    auto model = small_mlp(8);
    tt::data::DataLoader train(blobs(50, 5), loading);
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.5f, .momentum = 0.9f});
    tt::optim::StepLR schedule(optimizer, 5, 0.5f);
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 2, .clip_grad_norm = 0.5f}), &schedule);
    const tt::History h = trainer.fit(train);

    auto expected_model = small_mlp(8);
    tt::data::DataLoader expected_train(blobs(50, 5), loading);
    tt::optim::SGD expected_optimizer(expected_model->parameters(), {.lr = 0.5f, .momentum = 0.9f});
    tt::optim::StepLR expected_schedule(expected_optimizer, 5, 0.5f);
    HandLoop{.clip = 0.5f, .scheduler = &expected_schedule}.run(*expected_model, expected_optimizer, expected_train, 2);

    INFO("clip_grad_norm_ after backward and before step; scheduler.step() after optimizer.step(), once per batch");
    CHECK(weights_of(*model) == weights_of(*expected_model));
    REQUIRE(h.epochs.size() == 2);
    // 7 batches per epoch: 7 and 14 scheduler steps, lr = 0.5 * 0.5^floor(steps / 5)
    CHECK(h.epochs[0].learning_rate == Approx(0.25));
    CHECK(h.epochs[1].learning_rate == Approx(0.125));
}

TEST_CASE("fit clips the gradient norm only when clip_grad_norm is set", "[points=2]") {
    // A large learning rate and a tight clip: with clipping every step moves the weights by at
    // most lr * 0.01 in norm.
    const tt::data::DataLoaderOptions loading{.batch_size = 10};
    auto model = small_mlp(2);
    tt::data::DataLoader train(blobs(20, 1), loading);
    tt::optim::SGD optimizer(model->parameters(), {.lr = 1.0f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 1, .clip_grad_norm = 0.01f}));
    trainer.fit(train);
    auto expected_model = small_mlp(2);
    tt::data::DataLoader expected_train(blobs(20, 1), loading);
    tt::optim::SGD expected_optimizer(expected_model->parameters(), {.lr = 1.0f});
    HandLoop{.clip = 0.01f}.run(*expected_model, expected_optimizer, expected_train, 1);
    CHECK(weights_of(*model) == weights_of(*expected_model));
}

TEST_CASE("train_epoch returns the loss and accuracy weighted by batch size", "[points=2]") {
    auto model = small_mlp(2);
    tt::data::DataLoader train(blobs(10, 1), {.batch_size = 4});  // batches of 4, 4, 2
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.05f});
    std::vector<double> losses;
    std::vector<double> correct;
    auto loss = [&](const tt::Tensor& out, const tt::Tensor& target) {
        tt::Tensor l = tt::cross_entropy(out, target);
        losses.push_back(l.item());
        const std::vector<float> o = values_of(out), t = values_of(target);
        double right = 0;
        for (size_t i = 0; i < t.size(); ++i) right += (o[2 * i + 1] > o[2 * i]) == (t[i] == 1.0f);
        correct.push_back(right);
        return l;
    };
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 1}));
    const tt::Evaluation e = trainer.train_epoch(train, 1);
    REQUIRE(losses.size() == 3);
    CHECK(e.examples == 10);
    INFO("the last batch has 2 examples: it counts 2/10, not 1/3");
    CHECK(e.loss == Approx((4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10).epsilon(1e-9));
    CHECK(e.accuracy == Approx((correct[0] + correct[1] + correct[2]) / 10));
}

TEST_CASE("fit trains in train mode every epoch and validates in eval mode without gradients", "[points=2]") {
    auto model = std::make_shared<ProbeModel>(2, 2, 3);
    model->eval();  // fit must switch to training itself
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 4});
    tt::data::DataLoader validation(blobs(6, 2), {.batch_size = 3});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 2}));
    trainer.fit(train, &validation);
    INFO("per epoch: 2 training batches (train mode, gradients on), then 2 validation batches (eval, no grad)");
    CHECK(model->training_modes == std::vector<bool>{true, true, false, false, true, true, false, false});
    CHECK(model->grad_modes == std::vector<bool>{true, true, false, false, true, true, false, false});
}

TEST_CASE("fit records validation results equal to evaluate on the trained model", "[points=2]") {
    auto model = small_mlp(1);
    tt::data::DataLoader train(blobs(60, 1), {.batch_size = 16, .shuffle = true, .seed = 3});
    tt::data::DataLoader validation(blobs(30, 2), {.batch_size = 7});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f, .momentum = 0.9f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 2}));
    const tt::History h = trainer.fit(train, &validation);
    REQUIRE(h.epochs.size() == 2);
    // The reference evaluation: the whole validation set in one batch, eval mode, no grad.
    const tt::Tensor x = validation.dataset().get_batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                                          21, 22, 23, 24, 25, 26, 27, 28, 29}).inputs;
    const tt::Tensor y = validation.dataset().get_batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                                          21, 22, 23, 24, 25, 26, 27, 28, 29}).targets;
    tt::NoGradGuard no_grad;
    model->eval();
    const tt::Tensor out = (*model)(x);
    const std::vector<float> o = values_of(out), t = values_of(y);
    double right = 0;
    for (size_t i = 0; i < t.size(); ++i) right += (o[2 * i + 1] > o[2 * i]) == (t[i] == 1.0f);
    CHECK(h.epochs.back().val_loss == Approx(tt::cross_entropy(out, y).item()).epsilon(1e-5));
    CHECK(h.epochs.back().val_accuracy == Approx(right / 30));
    CHECK(h.epochs.back().val_accuracy > 0.9);  // and the network learned the blobs
}

TEST_CASE("fit fills every field of the epoch records", "[points=2]") {
    auto model = small_mlp(1);
    tt::data::DataLoader train(blobs(40, 1), {.batch_size = 8});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 3}));
    const tt::History h = trainer.fit(train);
    REQUIRE(h.epochs.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        const tt::EpochRecord& e = h.epochs[i];
        INFO("epoch record " << i);
        CHECK(e.epoch == static_cast<int64_t>(i + 1));
        CHECK(std::isfinite(e.train_loss));
        CHECK(e.train_accuracy >= 0.0);
        CHECK(e.train_accuracy <= 1.0);
        CHECK(std::isnan(e.val_loss));  // no validation data: NaN, not 0
        CHECK(std::isnan(e.val_accuracy));
        CHECK(e.learning_rate == Approx(0.1));
        CHECK(e.seconds > 0);
        CHECK(e.examples_per_second > 0);
        CHECK(e.peak_memory_bytes > 0);
    }
    CHECK(h.best_epoch == 0);  // no validation: no best epoch
    CHECK_FALSE(h.stopped_early);
}

TEST_CASE("fit measures examples per second over the training pass only", "[points=1]") {
    // Validation sleeps 0.3 s per epoch; 40 examples of training take milliseconds.
    auto model = small_mlp(1);
    tt::data::DataLoader train(blobs(40, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    auto slow_validation = [](const tt::Tensor& out, const tt::Tensor& target) {
        if (!tt::is_grad_enabled()) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return tt::cross_entropy(out, target);
    };
    tt::Trainer trainer(model, optimizer, slow_validation, quiet({.epochs = 1}));
    const tt::History h = trainer.fit(train, &validation);
    REQUIRE(h.epochs.size() == 1);
    INFO("seconds covers the whole epoch (validation included); examples_per_second the training pass alone");
    CHECK(h.epochs[0].seconds >= 0.3);
    CHECK(h.epochs[0].examples_per_second > 2.0 * 40.0 / h.epochs[0].seconds);
}

TEST_CASE("fit calls batch hooks and epoch hooks in order with what each step measured", "[points=2]") {
    auto model = small_mlp(2);
    tt::data::DataLoader train(blobs(10, 1), {.batch_size = 4});  // batches of 4, 4, 2
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.05f});
    std::vector<double> losses_returned;
    auto loss = [&](const tt::Tensor& out, const tt::Tensor& target) {
        tt::Tensor l = tt::cross_entropy(out, target);
        if (tt::is_grad_enabled()) losses_returned.push_back(l.item());
        return l;
    };
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 2}));
    std::vector<std::string> calls;
    std::vector<tt::BatchRecord> batches;
    trainer.batch_hooks.push_back([&](const tt::BatchRecord& b) {
        calls.push_back("a" + std::to_string(b.epoch) + "." + std::to_string(b.batch));
        batches.push_back(b);
    });
    trainer.batch_hooks.push_back([&](const tt::BatchRecord& b) { calls.push_back("b" + std::to_string(b.batch)); });
    trainer.epoch_hooks.push_back([&](const tt::EpochRecord& e) { calls.push_back("e" + std::to_string(e.epoch)); });
    trainer.epoch_hooks.push_back([&](const tt::EpochRecord& e) { calls.push_back("f" + std::to_string(e.epoch)); });
    trainer.fit(train);
    CHECK(calls == std::vector<std::string>{"a1.1", "b1", "a1.2", "b2", "a1.3", "b3", "e1", "f1", "a2.1", "b1", "a2.2", "b2",
                                            "a2.3", "b3", "e2", "f2"});
    REQUIRE(batches.size() == 6);
    for (size_t i = 0; i < batches.size(); ++i) {
        INFO("batch record " << i);
        CHECK(batches[i].batches == 3);
        CHECK(batches[i].examples == (i % 3 == 2 ? 2 : 4));
        CHECK(batches[i].loss == losses_returned[i]);
        CHECK(batches[i].elapsed >= 0);
        if (i % 3) CHECK(batches[i].elapsed >= batches[i - 1].elapsed);
    }
}

TEST_CASE("the epoch hook sees the record already in the history", "[points=1]") {
    auto model = small_mlp(2);
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 4});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.05f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 2}));
    std::vector<tt::EpochRecord> seen;
    trainer.epoch_hooks.push_back([&](const tt::EpochRecord& e) { seen.push_back(e); });
    const tt::History h = trainer.fit(train, &validation);
    REQUIRE(seen.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        CHECK(seen[i].epoch == h.epochs[i].epoch);
        CHECK(seen[i].train_loss == h.epochs[i].train_loss);
        CHECK(seen[i].val_loss == h.epochs[i].val_loss);
        CHECK(std::isfinite(seen[i].val_loss));
    }
}

// ---------------------------------------------------------------------------------------------
// Early stopping and the best checkpoint
// ---------------------------------------------------------------------------------------------

TEST_CASE("fit stops early after patience epochs without improvement of the validation loss", "[points=2]") {
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(16, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});  // one batch: one scripted value per epoch
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.01f});
    ScriptedLoss loss;
    *loss.script = {1.0, 0.5, 0.6, 0.7, 0.4, 0.3};  // improves at 1 and 2, then not for 2 epochs: stop after 4
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 6, .patience = 2}));
    const tt::History h = trainer.fit(train, &validation);
    INFO("validation losses 1.0, 0.5, 0.6, 0.7: two epochs without improvement after epoch 2");
    CHECK(h.epochs.size() == 4);
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 2);
    CHECK(h.epochs.back().val_loss == Approx(0.7));
}

TEST_CASE("an improvement resets the count of epochs without improvement", "[points=2]") {
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.01f});
    ScriptedLoss loss;
    *loss.script = {1.0, 1.1, 0.9, 0.95, 0.8, 0.85, 0.9, 0.7};  // never 2 bad epochs in a row until 6, 7
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 10, .patience = 2}));
    const tt::History h = trainer.fit(train, &validation);
    CHECK(h.epochs.size() == 7);
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 5);
}

TEST_CASE("fit does not report an early stop when patience runs out in the last epoch", "[points=1]") {
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.01f});
    ScriptedLoss loss;
    *loss.script = {1.0, 1.1, 1.2};
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 3, .patience = 2}));
    const tt::History h = trainer.fit(train, &validation);
    CHECK(h.epochs.size() == 3);
    CHECK_FALSE(h.stopped_early);
    CHECK(h.best_epoch == 1);
}

TEST_CASE("an improvement must be larger than min_delta to count", "[points=2]") {
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    ScriptedLoss loss;
    *loss.script = {1.0, 0.95, 0.91, 0.5, 0.45, 0.42};
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 6, .patience = 2, .min_delta = 0.1}));
    const tt::History h = trainer.fit(train, &validation);
    INFO("0.95 and 0.91 are within min_delta = 0.1 of the best (1.0): not improvements");
    CHECK(h.epochs.size() == 3);
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 1);
}

TEST_CASE("fit keeps the best model in the checkpoint and restores its weights at the end", "[points=2]") {
    Folder folder;
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(16, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::Adam optimizer(model->parameters(), {.lr = 0.01f});
    ScriptedLoss loss;
    *loss.script = {1.0, 0.5, 0.6, 0.7, 0.4};
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 5, .patience = 2, .checkpoint_path = folder.file("best.ttckpt")}));
    std::vector<Weights> weights_after;
    trainer.epoch_hooks.push_back([&](const tt::EpochRecord&) { weights_after.push_back(weights_of(*model)); });
    const tt::History h = trainer.fit(train, &validation);
    REQUIRE(h.epochs.size() == 4);
    REQUIRE(weights_after.size() == 4);
    CHECK(weights_after[1] != weights_after[3]);
    INFO("restore_best: the model ends with the weights of the best epoch (2), not the last one (4)");
    CHECK(weights_of(*model) == weights_after[1]);
    // The file, read by this grader's own parser: epoch 2's weights and Adam's state.
    const Parsed best = parse(folder.read("best.ttckpt"));
    CHECK(best.tensors.at("model.0.weight").bits == float_bits(weights_after[1][0]));
    CHECK(best.tensors.at("model.2.bias").bits == float_bits(weights_after[1][3]));
    CHECK(best.texts.at("optimizer") == "Adam");
    CHECK(folder.names() == std::vector<std::string>{"best.ttckpt"});
}

TEST_CASE("a worse epoch never overwrites the best checkpoint", "[points=2]") {
    Folder folder;
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(16, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    ScriptedLoss loss;
    *loss.script = {1.0, 0.5, 0.9};
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 3, .checkpoint_path = folder.file("best.ttckpt"), .restore_best = false}));
    std::vector<Weights> weights_after;
    trainer.epoch_hooks.push_back([&](const tt::EpochRecord&) { weights_after.push_back(weights_of(*model)); });
    const tt::History h = trainer.fit(train, &validation);
    CHECK(h.epochs.size() == 3);
    CHECK(h.best_epoch == 2);
    REQUIRE(weights_after.size() == 3);
    const Parsed best = parse(folder.read("best.ttckpt"));
    CHECK(best.tensors.at("model.0.weight").bits == float_bits(weights_after[1][0]));
    INFO("restore_best = false: the model keeps the last epoch's weights");
    CHECK(weights_of(*model) == weights_after[2]);
}

TEST_CASE("early stopping watches the validation loss - not the training loss", "[points=2]") {
    // The training loss falls every epoch; the scripted validation loss rises from epoch 2.
    auto model = small_mlp(4);
    tt::data::DataLoader train(blobs(40, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.2f});
    ScriptedLoss loss;
    *loss.script = {0.5, 0.2, 0.3, 0.4, 0.5, 0.6};
    tt::Trainer trainer(model, optimizer, loss, quiet({.epochs = 6, .patience = 1}));
    const tt::History h = trainer.fit(train, &validation);
    CHECK(h.epochs.size() == 3);
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 2);
}

TEST_CASE("without validation the checkpoint holds the last epoch", "[points=2]") {
    Folder folder;
    auto model = small_mlp(5);
    tt::data::DataLoader train(blobs(16, 1), {.batch_size = 8});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f, .momentum = 0.5f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 3, .checkpoint_path = folder.file("last.ttckpt")}));
    trainer.fit(train);
    const Parsed last = parse(folder.read("last.ttckpt"));
    const Weights w = weights_of(*model);
    CHECK(last.tensors.at("model.0.weight").bits == float_bits(w[0]));
    CHECK(last.tensors.at("model.2.weight").bits == float_bits(w[2]));
    CHECK(last.texts.at("optimizer") == "SGD");
}

TEST_CASE("resuming from a checkpoint gives the weights of the uninterrupted run bit for bit", "[points=2]") {
    Folder folder;
    const tt::data::DataLoaderOptions loading{.batch_size = 8, .shuffle = true, .seed = 5};
    auto straight = small_mlp(4);
    tt::data::DataLoader straight_loader(blobs(40, 3), loading);
    tt::optim::Adam straight_adam(straight->parameters(), {.lr = 0.02f});
    HandLoop{}.run(*straight, straight_adam, straight_loader, 4);

    tt::data::DataLoader loader(blobs(40, 3), loading);
    {
        auto first = small_mlp(4);
        tt::optim::Adam adam(first->parameters(), {.lr = 0.02f});
        tt::Trainer(first, adam, tt::CrossEntropyLoss{}, quiet({.epochs = 2, .checkpoint_path = folder.file("run.ttckpt")})).fit(loader);
    }
    auto resumed = small_mlp(99);
    tt::optim::Adam adam(resumed->parameters(), {.lr = 0.5f});
    tt::restore_checkpoint(tt::load_checkpoint(folder.file("run.ttckpt")), *resumed, &adam);
    tt::Trainer(resumed, adam, tt::CrossEntropyLoss{}, quiet({.epochs = 2})).fit(loader);  // the loader is at epoch 3
    INFO("a checkpoint holds the weights and Adam's moments and step: the resumed run is the interrupted run");
    CHECK(weights_of(*resumed) == weights_of(*straight));
}

// ---------------------------------------------------------------------------------------------
// Output and errors
// ---------------------------------------------------------------------------------------------

TEST_CASE("fit draws progress on stderr in a few lines per epoch in a log and nothing when progress is off", "[points=2]") {
    auto model = small_mlp(1);
    tt::data::DataLoader train(blobs(400, 1), {.batch_size = 4});  // 100 batches
    tt::data::DataLoader validation(blobs(10, 2), {.batch_size = 10});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.05f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = 2});
    std::string text;
    {
        CaptureStderr capture;
        trainer.fit(train, &validation);
        text = capture.text();
    }
    CHECK_THAT(text, Contains("epoch 1/2") && Contains("epoch 2/2") && Contains("100/100"));
    INFO("stderr here is not a terminal: one line per 10% of an epoch, not one per batch");
    if (!::isatty(STDERR_FILENO)) CHECK(lines_of(text).size() <= 2 * 13);

    tt::Trainer silent(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = 1, .progress = false});
    CaptureStderr capture;
    silent.fit(train, &validation);
    CHECK(capture.text().empty());
}

TEST_CASE("fit refuses a loss that is not one number and early stopping without validation", "[points=1]") {
    auto model = small_mlp(1);
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.05f});
    tt::Trainer per_example(model, optimizer, tt::CrossEntropyLoss{.reduction = tt::Reduction::none}, quiet({.epochs = 1}));
    CHECK_THAT(error_message([&] { per_example.fit(train); }), Contains("(4)"));
    tt::Trainer impatient(model, optimizer, tt::CrossEntropyLoss{}, quiet({.epochs = 2, .patience = 1}));
    CHECK_THAT(error_message([&] { impatient.fit(train); }), Contains("patience"));
}
