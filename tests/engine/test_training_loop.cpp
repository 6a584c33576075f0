// Engine tests of module 10's metrics (accuracy, evaluate), ProgressBar and Trainer: hand-computed
// values, the order of the training loop checked against a hand-written loop bit for bit, train and
// eval modes, early stopping, the best checkpoint, resuming, hooks.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>
#include <thread>

#include "test_training_helpers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optim.h"
#include "tinytorch/training.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

// Sends std::cerr into a string for the lifetime of the object.
class CaptureStderr {
public:
    CaptureStderr() : previous_(std::cerr.rdbuf(buffer_.rdbuf())) {}
    ~CaptureStderr() { std::cerr.rdbuf(previous_); }
    std::string text() const { return buffer_.str(); }

private:
    std::ostringstream buffer_;
    std::streambuf* previous_;
};

// A loss that is cross-entropy while training and reads the next scripted value in evaluation
// (grad mode off), so a test decides what "validation loss" each epoch sees.
struct ScriptedLoss {
    std::shared_ptr<std::vector<double>> script = std::make_shared<std::vector<double>>();
    std::shared_ptr<size_t> next = std::make_shared<size_t>(0);
    tt::Tensor operator()(const tt::Tensor& out, const tt::Tensor& target) const {
        if (tt::is_grad_enabled()) return tt::cross_entropy(out, target);
        const double value = (*script)[std::min(*next, script->size() - 1)];
        ++*next;
        return raw_scalar(static_cast<float>(value));
    }
};

// The seconds of "ETA M:SS" in a progress line; -1 when there is none. (Parsed by hand: std::regex
// trips GCC 12's -Wmaybe-uninitialized in the sanitizer build.)
int eta_seconds(const std::string& line) {
    const size_t at = line.find("ETA ");
    if (at == std::string::npos) return -1;
    int minutes = 0, seconds = 0;
    char colon = 0;
    std::istringstream in(line.substr(at + 4));
    if (!(in >> minutes >> colon >> seconds) || colon != ':') return -1;
    return 60 * minutes + seconds;
}

// True when the number before " img/s" is written with thousands separators: "1,234,567".
bool rate_has_separators(const std::string& text) {
    const size_t end = text.find(" img/s");
    if (end == std::string::npos) return false;
    size_t begin = end;
    while (begin > 0 && (std::isdigit(static_cast<unsigned char>(text[begin - 1])) || text[begin - 1] == ',')) --begin;
    const std::string number = text.substr(begin, end - begin);
    const size_t first_comma = number.find(',');
    if (first_comma == std::string::npos || first_comma == 0 || first_comma > 3) return false;
    for (size_t i = first_comma; i < number.size(); i += 4)  // ",ddd" groups to the end
        if (number[i] != ',' || i + 4 > number.size()) return false;
    return true;
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

// ---------------------------------------------------------------------------------------------
// accuracy and evaluate
// ---------------------------------------------------------------------------------------------

TEST_CASE("accuracy: hand-computed, first maximum on ties, NaN counts as the largest", "[training][metrics]") {
    // argmax per row: 2, 0, 1 (first of the tied 5s), 0
    const tt::Tensor logits = nested({{0, 1, 3}, {4, 2, 2}, {1, 5, 5}, {9, -1, 0}});
    CHECK(tt::accuracy(logits, nested({2, 0, 1, 0})) == 1.0);
    CHECK(tt::accuracy(logits, nested({2, 0, 2, 1})) == 0.5);
    CHECK(tt::accuracy(logits, nested({0, 1, 0, 2})) == 0.0);
    CHECK(tt::accuracy(padded(logits), padded(nested({2, 1, 1, 1}))) == 0.5);  // any layout
    // More rows than classes, and more classes than rows: the classes are dim 1.
    CHECK(tt::accuracy(nested({{1, 0}, {0, 1}, {1, 0}}), nested({0, 1, 1})) == Approx(2.0 / 3.0));
    CHECK(tt::accuracy(nested({{0, 0, 0, 1}, {0, 2, 0, 0}}), nested({3, 1})) == 1.0);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(tt::accuracy(nested({{1, nan, 3}, {nan, 0, 0}}), nested({1, 0})) == 1.0);
    CHECK(tt::accuracy(nested({{1, nan, 3}}), nested({2})) == 0.0);
}

TEST_CASE("accuracy: shapes and labels that do not fit are tt::Errors", "[training][metrics]") {
    CHECK_THAT(error_message([] { tt::accuracy(nested({1, 2}), nested({0, 1})); }), Contains("accuracy") && Contains("(2)"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({0, 1, 1})); }),
               Contains("accuracy") && Contains("(3)") && Contains("(2, 2)"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({{0}, {1}})); }), Contains("(2, 1)"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({0, 2})); }), Contains("target 2"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({0, 0.5f})); }), Contains("0.5"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({-1, 0})); }), Contains("-1"));
    CHECK(std::isnan(tt::accuracy(raw({}, {0, 3}), raw({}, {0}))));
}

TEST_CASE("evaluate: a mean over examples, not batches; accuracy; eval mode and no graph", "[training][metrics]") {
    // 5 examples in batches of 2, 2, 1. The "loss" is the mean of column 0 of the output, so the
    // right answer is the mean of column 0 over all five rows: (1 + 2 + 3 + 4 + 10) / 5 = 4.
    // Averaging the three batch means as equals would give (1.5 + 3.5 + 10) / 3 = 5.
    auto model = std::make_shared<ProbeModel>(2, 2, 1);
    {
        tt::NoGradGuard no_grad;
        model->linear->weight.copy_(nested({{1, 0}, {0, 1}}));  // the identity
        model->linear->bias.zero_();
    }
    const tt::Tensor inputs = nested({{1, 0}, {2, 5}, {3, 1}, {4, 9}, {10, 2}});
    const tt::Tensor targets = nested({0, 1, 0, 0, 1});  // argmax per row: 0, 1, 0, 1, 0 -> 3 of 5 right
    tt::data::DataLoader loader(std::make_shared<tt::data::TensorDataset>(inputs, targets), {.batch_size = 2});
    std::vector<bool> output_requires_grad;
    auto loss = [&](const tt::Tensor& out, const tt::Tensor&) {
        output_requires_grad.push_back(out.requires_grad());
        return out.select(1, 0).mean();
    };
    model->train();
    const tt::Evaluation e = tt::evaluate(*model, loader, loss);
    CHECK(e.loss == Approx(4.0));
    CHECK(e.accuracy == Approx(0.6));
    CHECK(e.examples == 5);
    CHECK(model->training_modes == std::vector<bool>{false, false, false});
    CHECK(model->grad_modes == std::vector<bool>{false, false, false});
    CHECK(output_requires_grad == std::vector<bool>{false, false, false});
    CHECK(model->is_training());  // put back
    CHECK(tt::is_grad_enabled());

    model->eval();
    tt::evaluate(*model, loader, loss);
    CHECK_FALSE(model->is_training());  // left as it was found
}

TEST_CASE("evaluate: the training mode and grad mode come back when the loss throws", "[training][metrics]") {
    auto model = std::make_shared<ProbeModel>(2, 2, 1);
    tt::data::DataLoader loader(blobs(6, 1), {.batch_size = 2});
    int calls = 0;
    auto failing = [&](const tt::Tensor& out, const tt::Tensor& target) {
        if (++calls == 2) throw tt::Error("test: the second batch fails");
        return tt::cross_entropy(out, target);
    };
    for (bool training : {true, false}) {
        model->train(training);
        calls = 0;
        CHECK_THROWS_WITH(tt::evaluate(*model, loader, failing), Contains("second batch"));
        CHECK(model->is_training() == training);
        CHECK(model->linear->is_training() == training);
        CHECK(tt::is_grad_enabled());
    }
}

TEST_CASE("evaluate: regression outputs give NaN accuracy; no batches give NaN and 0 examples", "[training][metrics]") {
    tt::Linear model(2, 1);
    const tt::Tensor x = random_values({6, 2}, 1), y = random_values({6, 1}, 2);
    tt::data::DataLoader loader(std::make_shared<tt::data::TensorDataset>(x, y), {.batch_size = 4});
    const tt::Evaluation e = tt::evaluate(model, loader, tt::MSELoss{});
    tt::Tensor expected;
    {
        tt::NoGradGuard no_grad;
        expected = tt::mse_loss(model(x), y);
    }
    CHECK(e.loss == Approx(expected.item()).epsilon(1e-5));
    CHECK(std::isnan(e.accuracy));
    CHECK(e.examples == 6);

    tt::data::DataLoader empty(std::make_shared<tt::data::TensorDataset>(raw({}, {0, 2}), raw({}, {0, 1})));
    const tt::Evaluation none = tt::evaluate(model, empty, tt::MSELoss{});
    CHECK(std::isnan(none.loss));
    CHECK(std::isnan(none.accuracy));
    CHECK(none.examples == 0);
}

// ---------------------------------------------------------------------------------------------
// ProgressBar
// ---------------------------------------------------------------------------------------------

TEST_CASE("ProgressBar::eta: remaining time at the average pace, M:SS or H:MM:SS", "[training][progress]") {
    CHECK(tt::ProgressBar::eta(10.0, 1, 4) == "0:30");
    CHECK(tt::ProgressBar::eta(10.0, 2, 4) == "0:10");
    CHECK(tt::ProgressBar::eta(59.6, 1, 2) == "1:00");
    CHECK(tt::ProgressBar::eta(125.0, 1, 2) == "2:05");
    CHECK(tt::ProgressBar::eta(3723.0, 1, 2) == "1:02:03");
    CHECK(tt::ProgressBar::eta(45296.0, 1, 2) == "12:34:56");
    CHECK(tt::ProgressBar::eta(3599.4, 1, 2) == "59:59");
    CHECK(tt::ProgressBar::eta(5.0, 10, 10) == "0:00");
    CHECK(tt::ProgressBar::eta(0.0, 0, 10) == "?");
    CHECK(tt::ProgressBar::eta(3.0, 0, 10) == "?");
    CHECK(tt::ProgressBar::eta(std::numeric_limits<double>::quiet_NaN(), 3, 10) == "?");
}

TEST_CASE("ProgressBar in a log: one line per 10%, then the final line", "[training][progress]") {
    std::ostringstream out;
    tt::ProgressBar bar(1000, "epoch 2/10", out, false);
    for (int64_t done = 1; done <= 1000; ++done) bar.update(done, done * 64, "loss 0.5");
    bar.finish("loss 0.25");
    const std::string text = out.str();
    CHECK(text.find('\r') == std::string::npos);
    CHECK(text.find('\x1b') == std::string::npos);
    const std::vector<std::string> lines = lines_of(text);
    REQUIRE(lines.size() == 11);  // 0%, 10%, ..., 90%, and finish()
    CHECK_THAT(lines[0], Contains("epoch 2/10") && Contains("1/1000") && Contains("img/s") && Contains("ETA") && Contains("loss 0.5"));
    CHECK_THAT(lines[1], Contains("100/1000"));
    CHECK_THAT(lines[9], Contains("900/1000"));
    CHECK_THAT(lines[10], Contains("1000/1000") && Contains("loss 0.25") && Contains("[####################]"));
    CHECK(text.back() == '\n');
}

TEST_CASE("ProgressBar on a terminal: redrawn in place, a newline only at the end", "[training][progress]") {
    std::ostringstream out;
    tt::ProgressBar bar(4, "epoch 1/1", out, true);
    for (int64_t done = 1; done <= 4; ++done) bar.update(done, done * 1000000000LL, "");
    const std::string drawn = out.str();
    CHECK(drawn.find('\n') == std::string::npos);
    CHECK(std::count(drawn.begin(), drawn.end(), '\r') == 4);
    CHECK_THAT(drawn, Contains("[#####...............]  1/4"));
    // A huge rate shows its thousands separators: "1,234,567,890 img/s".
    CHECK(rate_has_separators(drawn));
    bar.finish("done");
    const std::string finished = out.str();
    CHECK(finished.back() == '\n');
    CHECK(std::count(finished.begin(), finished.end(), '\n') == 1);
    CHECK_THAT(finished, Contains("4/4") && Contains("done"));
}

TEST_CASE("ProgressBar: the ETA follows the average pace of all steps so far", "[training][progress]") {
    std::ostringstream out;
    tt::ProgressBar bar(100, "x", out, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    bar.update(1, 1);  // 0.2 s for 1 step: 99 more take about 20 s
    bar.update(10, 10);  // 10 steps in 0.2 s: 90 more take about 1.8 s
    const std::vector<std::string> lines = lines_of(out.str());
    REQUIRE(lines.size() == 2);
    const int first = eta_seconds(lines[0]), second = eta_seconds(lines[1]);
    CHECK(first >= 19);  // 99 steps at >= 0.2 s each
    CHECK(second >= 0);
    CHECK(second * 4 < first);  // about a tenth: 10 steps in the time the first one took
}

// ---------------------------------------------------------------------------------------------
// Trainer
// ---------------------------------------------------------------------------------------------

TEST_CASE("Trainer: a small network learns two separable blobs", "[training][trainer]") {
    auto model = small_mlp(1);
    tt::data::DataLoader train(blobs(200, 1), {.batch_size = 16, .shuffle = true, .seed = 3});
    tt::data::DataLoader validation(blobs(100, 2), {.batch_size = 50});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f, .momentum = 0.9f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = 8, .progress = false});
    const tt::History h = trainer.fit(train, &validation);
    REQUIRE(h.epochs.size() == 8);
    CHECK(h.epochs.back().val_accuracy > 0.97);
    CHECK(h.epochs.back().train_accuracy > 0.95);
    CHECK(h.epochs.back().train_loss < h.epochs.front().train_loss);
    for (size_t i = 0; i < h.epochs.size(); ++i) {
        const tt::EpochRecord& e = h.epochs[i];
        CHECK(e.epoch == static_cast<int64_t>(i + 1));
        CHECK(std::isfinite(e.val_loss));
        CHECK(e.learning_rate == Approx(0.1));
        CHECK(e.seconds > 0);
        CHECK(e.examples_per_second > 0);
        CHECK(e.peak_memory_bytes > 0);
    }
    CHECK(h.best_epoch >= 1);
    CHECK_FALSE(h.stopped_early);
    // The last validation result is what evaluate() reports now.
    const tt::Evaluation now = tt::evaluate(*model, validation, tt::CrossEntropyLoss{});
    CHECK(now.loss == Approx(h.epochs.back().val_loss));
    CHECK(now.accuracy == Approx(h.epochs.back().val_accuracy));
}

TEST_CASE("Trainer: the same weights, bit for bit, as the hand-written loop in its documented order", "[training][trainer]") {
    // SGD with momentum, gradient clipping and a per-batch schedule: every line of the loop matters.
    auto run_trainer = [] {
        auto model = small_mlp(7);
        tt::data::DataLoader train(blobs(50, 4), {.batch_size = 8, .shuffle = true, .seed = 11});
        tt::optim::SGD optimizer(model->parameters(), {.lr = 0.5f, .momentum = 0.9f});
        tt::optim::StepLR schedule(optimizer, 5, 0.5f);
        tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = 2, .clip_grad_norm = 0.5f, .progress = false},
                            &schedule);
        const tt::History h = trainer.fit(train);
        return std::make_pair(weights_of(*model), h);
    };
    auto run_by_hand = [] {
        auto model = small_mlp(7);
        tt::data::DataLoader train(blobs(50, 4), {.batch_size = 8, .shuffle = true, .seed = 11});
        tt::optim::SGD optimizer(model->parameters(), {.lr = 0.5f, .momentum = 0.9f});
        tt::optim::StepLR schedule(optimizer, 5, 0.5f);
        std::vector<double> epoch_losses;
        for (int epoch = 0; epoch < 2; ++epoch) {
            model->train();
            double sum = 0;
            int64_t n = 0;
            for (const tt::data::Batch& batch : train) {
                optimizer.zero_grad();
                tt::Tensor loss = tt::cross_entropy((*model)(batch.inputs), batch.targets);
                loss.backward();
                tt::optim::clip_grad_norm_(model->parameters(), 0.5f);
                optimizer.step();
                schedule.step();
                sum += loss.item() * static_cast<double>(batch.size());
                n += batch.size();
            }
            epoch_losses.push_back(sum / static_cast<double>(n));
        }
        return std::make_pair(weights_of(*model), epoch_losses);
    };
    const auto [trained, history] = run_trainer();
    const auto [by_hand, losses] = run_by_hand();
    CHECK(trained == by_hand);
    REQUIRE(history.epochs.size() == 2);
    CHECK(history.epochs[0].train_loss == Approx(losses[0]).epsilon(1e-12));
    CHECK(history.epochs[1].train_loss == Approx(losses[1]).epsilon(1e-12));
    // 7 batches per epoch, 14 scheduler steps: 0.5 * 0.5^floor(14 / 5) = 0.125
    CHECK(history.epochs[1].learning_rate == Approx(0.125));
    CHECK(history.epochs[0].learning_rate == Approx(0.25));  // after 7 steps
    CHECK(std::isnan(history.epochs[0].val_loss));
    CHECK(std::isnan(history.epochs[0].val_accuracy));
    CHECK(history.best_epoch == 0);
}

TEST_CASE("Trainer: train mode for every training batch, eval mode and no grad for validation", "[training][trainer]") {
    auto model = std::make_shared<ProbeModel>(2, 2, 3);
    model->eval();  // fit must switch it to training itself
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 4});
    tt::data::DataLoader validation(blobs(6, 2), {.batch_size = 3});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = 2, .progress = false});
    trainer.fit(train, &validation);
    // per epoch: 2 training batches, then 2 validation batches
    CHECK(model->training_modes == std::vector<bool>{true, true, false, false, true, true, false, false});
    CHECK(model->grad_modes == std::vector<bool>{true, true, false, false, true, true, false, false});
}

TEST_CASE("Trainer: hooks are called in order with what each step and epoch measured", "[training][trainer]") {
    auto model = small_mlp(2);
    tt::data::DataLoader train(blobs(10, 1), {.batch_size = 4});  // batches of 4, 4, 2
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.05f});
    std::vector<double> losses_returned;
    auto loss = [&](const tt::Tensor& out, const tt::Tensor& target) {
        tt::Tensor l = tt::cross_entropy(out, target);
        if (tt::is_grad_enabled()) losses_returned.push_back(l.item());
        return l;
    };
    tt::Trainer trainer(model, optimizer, loss, {.epochs = 2, .progress = false});
    std::vector<std::string> calls;
    std::vector<tt::BatchRecord> batches;
    trainer.batch_hooks.push_back([&](const tt::BatchRecord& b) {
        calls.push_back("a" + std::to_string(b.epoch) + "." + std::to_string(b.batch));
        batches.push_back(b);
    });
    trainer.batch_hooks.push_back([&](const tt::BatchRecord& b) { calls.push_back("b" + std::to_string(b.batch)); });
    trainer.epoch_hooks.push_back([&](const tt::EpochRecord& e) { calls.push_back("epoch" + std::to_string(e.epoch)); });
    const tt::History h = trainer.fit(train);
    CHECK(calls == std::vector<std::string>{"a1.1", "b1", "a1.2", "b2", "a1.3", "b3", "epoch1", "a2.1", "b1", "a2.2", "b2",
                                            "a2.3", "b3", "epoch2"});
    REQUIRE(batches.size() == 6);
    for (size_t i = 0; i < batches.size(); ++i) {
        CHECK(batches[i].batches == 3);
        CHECK(batches[i].examples == (i % 3 == 2 ? 2 : 4));
        CHECK(batches[i].loss == losses_returned[i]);
        CHECK(batches[i].elapsed >= 0);
        if (i % 3) CHECK(batches[i].elapsed >= batches[i - 1].elapsed);
    }
    // The epoch's loss is the batch losses weighted by batch size.
    CHECK(h.epochs[0].train_loss ==
          Approx((4 * losses_returned[0] + 4 * losses_returned[1] + 2 * losses_returned[2]) / 10).epsilon(1e-12));
}

TEST_CASE("Trainer: early stopping, the best checkpoint, and the best weights restored", "[training][trainer]") {
    ScratchDir dir;
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(16, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});  // one batch: one scripted value per epoch
    tt::optim::Adam optimizer(model->parameters(), {.lr = 0.01f});
    ScriptedLoss loss;
    *loss.script = {1.0, 0.5, 0.6, 0.7, 0.4, 0.3};  // improves at 1 and 2, then not for 2 epochs: stop after 4
    tt::Trainer trainer(model, optimizer, loss, {.epochs = 6, .patience = 2, .checkpoint_path = dir.file("best.ttckpt"), .progress = false});
    std::vector<std::vector<std::vector<float>>> weights_after;  // per epoch
    trainer.epoch_hooks.push_back([&](const tt::EpochRecord&) { weights_after.push_back(weights_of(*model)); });
    const tt::History h = trainer.fit(train, &validation);

    REQUIRE(h.epochs.size() == 4);
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 2);
    CHECK(h.epochs[2].val_loss == Approx(0.6));
    CHECK(weights_after[1] != weights_after[3]);
    CHECK(weights_of(*model) == weights_after[1]);  // restored: epoch 2's weights
    const tt::Checkpoint best = tt::load_checkpoint(dir.file("best.ttckpt"));
    CHECK(best.numbers.at("epoch") == 2);
    CHECK(values_of(best.tensors.at("model.0.weight")) == weights_after[1][0]);
    CHECK(best.texts.at("optimizer") == "Adam");
    CHECK(dir.names() == std::vector<std::string>{"best.ttckpt"});
}

TEST_CASE("Trainer: a worse epoch never overwrites the best checkpoint; restore_best = false keeps the last weights", "[training][trainer]") {
    ScratchDir dir;
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(16, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    ScriptedLoss loss;
    *loss.script = {1.0, 0.5, 0.9};
    tt::Trainer trainer(model, optimizer, loss,
                        {.epochs = 3, .checkpoint_path = dir.file("best.ttckpt"), .restore_best = false, .progress = false});
    std::vector<std::vector<std::vector<float>>> weights_after;
    trainer.epoch_hooks.push_back([&](const tt::EpochRecord&) { weights_after.push_back(weights_of(*model)); });
    const tt::History h = trainer.fit(train, &validation);
    CHECK(h.epochs.size() == 3);
    CHECK_FALSE(h.stopped_early);
    CHECK(h.best_epoch == 2);
    CHECK(weights_of(*model) == weights_after[2]);  // not restored
    CHECK(values_of(tt::load_checkpoint(dir.file("best.ttckpt")).tensors.at("model.2.bias")) == weights_after[1][3]);
}

TEST_CASE("Trainer: min_delta - an improvement must be larger than min_delta to count", "[training][trainer]") {
    auto model = small_mlp(3);
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 8});
    tt::data::DataLoader validation(blobs(4, 2), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    ScriptedLoss loss;
    *loss.script = {1.0, 0.95, 0.91, 0.5, 0.45, 0.42};
    tt::Trainer trainer(model, optimizer, loss, {.epochs = 6, .patience = 2, .min_delta = 0.1, .progress = false});
    const tt::History h = trainer.fit(train, &validation);
    CHECK(h.epochs.size() == 3);  // 0.95 and 0.91 are within 0.1 of 1.0
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 1);

    // No early stopping without validation data: an error, not a silent run without it.
    tt::Trainer impatient(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = 2, .patience = 1, .progress = false});
    CHECK_THAT(error_message([&] { impatient.fit(train); }), Contains("patience") && Contains("validation"));
}

TEST_CASE("Trainer: resuming from a checkpoint gives the weights of the uninterrupted run, bit for bit", "[training][trainer]") {
    ScratchDir dir;
    const tt::data::DataLoaderOptions loading{.batch_size = 8, .shuffle = true, .seed = 5};
    // Uninterrupted: 4 epochs.
    auto straight = small_mlp(4);
    tt::data::DataLoader straight_loader(blobs(40, 3), loading);
    tt::optim::Adam straight_adam(straight->parameters(), {.lr = 0.02f});
    tt::Trainer(straight, straight_adam, tt::CrossEntropyLoss{}, {.epochs = 4, .progress = false}).fit(straight_loader);

    // Interrupted after 2 epochs (the checkpoint holds the last epoch: there is no validation)...
    tt::data::DataLoader loader(blobs(40, 3), loading);
    {
        auto first = small_mlp(4);
        tt::optim::Adam adam(first->parameters(), {.lr = 0.02f});
        tt::Trainer(first, adam, tt::CrossEntropyLoss{}, {.epochs = 2, .checkpoint_path = dir.file("run.ttckpt"), .progress = false})
            .fit(loader);
    }
    // ...and resumed in a new model and optimizer (other initial weights, other lr) from the file.
    auto resumed = small_mlp(99);
    tt::optim::Adam adam(resumed->parameters(), {.lr = 0.5f});
    tt::restore_checkpoint(tt::load_checkpoint(dir.file("run.ttckpt")), *resumed, &adam);
    tt::Trainer(resumed, adam, tt::CrossEntropyLoss{}, {.epochs = 2, .progress = false}).fit(loader);  // the loader is at epoch 3
    CHECK(weights_of(*resumed) == weights_of(*straight));
}

TEST_CASE("Trainer: the progress bar goes to stderr, a few lines per epoch in a log", "[training][trainer]") {
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
    CHECK_THAT(text, Contains("epoch 1/2") && Contains("epoch 2/2") && Contains("100/100") && Contains("validation loss"));
    if (!::isatty(STDERR_FILENO)) CHECK(lines_of(text).size() <= 2 * 12);  // not one line per batch

    tt::Trainer quiet(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = 1, .progress = false});
    CaptureStderr capture;
    quiet.fit(train, &validation);
    CHECK(capture.text().empty());
}

TEST_CASE("Trainer: a loss that is not one number, and settings that make no sense, are tt::Errors", "[training][trainer]") {
    auto model = small_mlp(1);
    tt::data::DataLoader train(blobs(8, 1), {.batch_size = 4});
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.05f});
    tt::Trainer per_example(model, optimizer, tt::CrossEntropyLoss{.reduction = tt::Reduction::none}, {.epochs = 1, .progress = false});
    CHECK_THAT(error_message([&] { per_example.fit(train); }), Contains("(4)"));
    tt::Trainer negative(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = -1, .progress = false});
    CHECK_THAT(error_message([&] { negative.fit(train); }), Contains("epochs"));
    CHECK_THAT(error_message([&] { tt::Trainer(nullptr, optimizer, tt::CrossEntropyLoss{}); }), Contains("null"));
}
