// trainer.cpp - module 10: the training loop, written once and right.
//
// Every training script ever written contains this loop. Its order is not a matter of taste; each
// line depends on the one before:
//
//     model.train()                      Dropout drops, BatchNorm uses the batch's statistics
//     for each batch (inputs, targets):
//         zero_grad()                    gradients accumulate (module 06): clear last step's first
//         out  = model(inputs)           forward: records the graph, keeps the activations
//         loss = loss_fn(out, targets)   one number
//         loss.backward()                fills .grad of every parameter, frees the graph
//         clip_grad_norm_(...)           optional: after backward (it scales .grad), before step
//         optimizer.step()               the update, from .grad
//         scheduler.step()               the learning rate of the *next* step
//     model.eval(), evaluate on the validation set under NoGradGuard
//
// Swap two lines and training still runs, only worse or not at all: zero_grad after backward throws
// the gradients away before the step uses them; no zero_grad adds every step's gradient to all the
// previous ones (the "learning rate" grows with every step); the scheduler before the optimizer
// skips the first learning rate; no train() after a validation pass trains the rest of the run
// with Dropout off. The tests of this module check each of these.
//
// The Trainer adds what a real run needs around the loop: a record per epoch (History), the best
// model kept in a checkpoint, early stopping when validation stops improving, hooks for anything
// that wants to watch, and a progress bar.
//
// The systems view: a step is a pipeline - make the batch (module 07), forward, backward, update -
// and the run goes as fast as its slowest stage. examples/s and seconds per epoch are recorded so
// that a change (a bigger batch, a faster gemm in module 15) shows up as a number, and peak memory
// because it decides whether a run fits at all. Evaluating is cheaper than training: no backward
// (about 2/3 of a step's FLOPs) and no saved activations.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "tinytorch/autograd.h"
#include "tinytorch/training.h"

namespace tt {

namespace {

[[maybe_unused]] double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "0.3121" and "91.20%" for the progress lines. ([[maybe_unused]]: the template does not call them yet.)
[[maybe_unused]] std::string four_decimals(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", value);
    return text;
}

[[maybe_unused]] std::string percent(double fraction) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f%%", 100.0 * fraction);
    return text;
}

}  // namespace

Trainer::Trainer(std::shared_ptr<Module> model, optim::Optimizer& optimizer, LossFunction loss, TrainerOptions options,
                 optim::LRScheduler* scheduler)
    : options(std::move(options)), model_(std::move(model)), optimizer_(optimizer), loss_(std::move(loss)), scheduler_(scheduler) {
    TT_CHECK(model_ != nullptr, "Trainer: the model is null; pass a std::shared_ptr to it (std::make_shared<...>)");
    TT_CHECK(loss_ != nullptr, "Trainer: the loss function is empty; pass one, e.g. tt::CrossEntropyLoss{}");
}

Evaluation Trainer::train_epoch(data::DataLoader& train, int64_t epoch) {
    Evaluation result;
    //! BEGIN SOLUTION
    //! HINT: model_->train() first: the validation pass of the previous epoch left the model in eval mode (evaluate restores the mode it found, and the first epoch may start from a model in eval mode).
    //! HINT: per batch, in this order: model_->zero_grad(), out = (*model_)(batch.inputs), loss = loss_(out, batch.targets), loss.backward(), clip_grad_norm_(model_->parameters(), options.clip_grad_norm) when it is > 0, optimizer_.step(), scheduler_->step() when there is a scheduler.
    //! HINT: measure as evaluate() does: the loss weighted by batch size, accuracy only for (N, C) outputs with (N,) targets (NaN otherwise), and count the examples.
    //! HINT: after each step call every batch hook, in order, with a BatchRecord{epoch, k (from 1), train.num_batches(), loss, batch size, seconds since the epoch started}.
    //! HINT: with options.progress: a ProgressBar(train.num_batches(), "epoch 2/10", std::cerr, isatty(STDERR_FILENO)); update() after each batch, finish() at the end.
    model_->train();
    const int64_t batches = train.num_batches();
    std::optional<ProgressBar> bar;
    if (options.progress)
        bar.emplace(batches, "epoch " + std::to_string(epoch) + "/" + std::to_string(options.epochs), std::cerr,
                    ::isatty(STDERR_FILENO) == 1);
    const std::vector<Tensor> parameters = model_->parameters();  // for clipping: once, not per batch
    const double start = now_seconds();
    double loss_sum = 0.0, correct = 0.0;
    bool class_scores = true;
    int64_t k = 0;
    for (const data::Batch& batch : train) {
        ++k;
        model_->zero_grad();  // .grad undefined: the backward below allocates fresh ones
        const Tensor out = (*model_)(batch.inputs);
        const Tensor loss = loss_(out, batch.targets);
        TT_CHECK(loss.numel() == 1, "Trainer: the loss function returned shape ", shape_str(loss.shape()),
                 ", not one number; use a mean or sum reduction");
        loss.backward();
        if (options.clip_grad_norm > 0.0f) optim::clip_grad_norm_(parameters, options.clip_grad_norm);
        optimizer_.step();
        if (scheduler_) scheduler_->step();

        const int64_t size = batch.size();
        const double value = loss.item();
        loss_sum += value * static_cast<double>(size);
        class_scores = class_scores && out.dim() == 2 && batch.targets.dim() == 1 && out.size(0) == batch.targets.size(0);
        if (class_scores && size > 0) correct += accuracy(out, batch.targets) * static_cast<double>(size);
        result.examples += size;

        const BatchRecord record{epoch, k, batches, value, size, now_seconds() - start};
        for (const auto& hook : batch_hooks) hook(record);
        if (bar) bar->update(k, result.examples, "loss " + four_decimals(loss_sum / static_cast<double>(result.examples)));
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    result.loss = result.examples > 0 ? loss_sum / static_cast<double>(result.examples) : nan;
    result.accuracy = result.examples > 0 && class_scores ? correct / static_cast<double>(result.examples) : nan;
    if (bar) {
        std::string status = "loss " + four_decimals(result.loss);
        if (!std::isnan(result.accuracy)) status += "  accuracy " + percent(result.accuracy);
        bar->finish(status);
    }
    //! END SOLUTION
    return result;
}

History Trainer::fit(data::DataLoader& train, data::DataLoader* validation) {
    History history;
    TT_CHECK(options.epochs >= 0, "Trainer: epochs = ", options.epochs, "; it must be >= 0");
    TT_CHECK(options.patience >= 0 && options.min_delta >= 0.0, "Trainer: patience (", options.patience, ") and min_delta (",
             options.min_delta, ") must be >= 0");
    TT_CHECK(options.patience == 0 || validation != nullptr, "Trainer: early stopping (patience ", options.patience,
             ") watches the validation loss: pass a validation loader to fit(), or set patience = 0");
    //! BEGIN SOLUTION
    //! HINT: per epoch (counted from 1): time it; train_epoch(); with validation, evaluate(*model_, *validation, loss_); fill an EpochRecord (NaN for the validation fields without validation; learning_rate = optimizer_.lr after the epoch; seconds = the whole epoch; examples_per_second = training examples / training time only; peak_memory_bytes()).
    //! HINT: improved = val_loss < best_loss - options.min_delta (best_loss starts at +infinity; NaN never improves). On improvement: remember best_loss and history.best_epoch, reset the count of epochs without improvement; otherwise count one more.
    //! HINT: checkpoint (when options.checkpoint_path is not empty): save_checkpoint(path, make_checkpoint(*model_, &optimizer_)) on every improvement - and after every epoch when there is no validation. Never on a worse epoch: the file must hold the best model.
    //! HINT: push the record, call every epoch hook in order, then stop (history.stopped_early = true) when patience > 0 and the count reached patience before the last epoch.
    //! HINT: after the loop: when options.restore_best and the checkpoint holds another epoch than the last one trained, restore_checkpoint(load_checkpoint(path), *model_, &optimizer_).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    double best_loss = std::numeric_limits<double>::infinity();
    int64_t epochs_without_improvement = 0, saved_epoch = 0, last_epoch = 0;
    for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
        const double start = now_seconds();
        const Evaluation trained = train_epoch(train, epoch);
        const double training_seconds = now_seconds() - start;

        EpochRecord record;
        record.epoch = epoch;
        record.train_loss = trained.loss;
        record.train_accuracy = trained.accuracy;
        record.val_loss = record.val_accuracy = nan;
        if (validation) {
            const Evaluation validated = evaluate(*model_, *validation, loss_);
            record.val_loss = validated.loss;
            record.val_accuracy = validated.accuracy;
        }
        record.learning_rate = optimizer_.lr;
        record.seconds = now_seconds() - start;
        record.examples_per_second = training_seconds > 0 ? static_cast<double>(trained.examples) / training_seconds : 0.0;
        record.peak_memory_bytes = peak_memory_bytes();
        last_epoch = epoch;

        // Improvement by more than min_delta, or every epoch when nothing is validated.
        const bool improved = !validation || record.val_loss < best_loss - options.min_delta;
        if (validation && improved) {
            best_loss = record.val_loss;
            history.best_epoch = epoch;
            epochs_without_improvement = 0;
        } else if (validation) {
            ++epochs_without_improvement;
        }
        if (improved && !options.checkpoint_path.empty()) {
            Checkpoint checkpoint = make_checkpoint(*model_, &optimizer_);
            checkpoint.numbers["epoch"] = static_cast<double>(epoch);
            if (validation) checkpoint.numbers["val_loss"] = record.val_loss;
            save_checkpoint(options.checkpoint_path, checkpoint);
            saved_epoch = epoch;
        }
        if (options.progress && validation)
            std::cerr << "epoch " << epoch << "/" << options.epochs << "  validation loss " << four_decimals(record.val_loss)
                      << (std::isnan(record.val_accuracy) ? "" : "  accuracy " + percent(record.val_accuracy))
                      << (improved ? "  (best so far)" : "") << '\n';

        history.epochs.push_back(record);
        for (const auto& hook : epoch_hooks) hook(history.epochs.back());

        if (options.patience > 0 && epochs_without_improvement >= options.patience && epoch < options.epochs) {
            history.stopped_early = true;
            if (options.progress)
                std::cerr << "stopping early: the validation loss has not improved for " << options.patience
                          << " epochs (best: epoch " << history.best_epoch << ")\n";
            break;
        }
    }
    if (options.restore_best && saved_epoch > 0 && saved_epoch != last_epoch)
        restore_checkpoint(load_checkpoint(options.checkpoint_path), *model_, &optimizer_);
    //! END SOLUTION
    return history;
}

}  // namespace tt
