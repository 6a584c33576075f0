// training.h - module 10: the training loop, written once, with everything a real run needs.
//
//     tt::optim::Adam optimizer(model->parameters(), {.lr = 1e-3f});
//     tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{},
//                         {.epochs = 10, .patience = 3, .checkpoint_path = "best.ttckpt"});
//     tt::History history = trainer.fit(train_loader, &validation_loader);
//     history.save("history.json", "curves.svg");
//
// fit() runs, for each epoch: train() mode and one pass over the training batches (zero_grad,
// forward, loss, backward, optional gradient clipping, step, the scheduler's step), then eval()
// mode and a pass over the validation batches under NoGradGuard; it records an EpochRecord (loss,
// accuracy, learning rate, time, images/s, peak memory), calls the epoch hooks, keeps the best
// model in a checkpoint and stops early when validation stops improving.
//
// The systems insight: a training loop is a pipeline - read a batch, compute, update - and its
// speed is set by its slowest stage. images/s, seconds per epoch and peak memory are recorded for
// every epoch because they are how you find that stage (module 19 profiles inside it). Peak memory
// is the process's high-water mark of resident memory (VmHWM): what decides whether a run fits on
// a machine at all.
//
// Who writes what: everything here is module 10 except what is marked [given].
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/data.h"
#include "tinytorch/layers.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

namespace tt {

// output, target -> a 0-d loss: tt::CrossEntropyLoss{}, tt::MSELoss{}, or any lambda.
using LossFunction = std::function<Tensor(const Tensor& output, const Tensor& target)>;

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

// The fraction of rows of logits (N, C) whose largest entry (the first, on ties) is at the index
// held by targets (N,) - a number in [0, 1]. tt::Error when the shapes do not fit.
double accuracy(const Tensor& logits, const Tensor& targets);

struct Evaluation {
    double loss = 0.0;      // mean over the examples (each batch's mean loss weighted by its size)
    double accuracy = 0.0;  // over the examples; NaN when the outputs are not class scores (N, C)
    int64_t examples = 0;
};

// One pass over `loader` in eval() mode under NoGradGuard; the model's training mode is restored
// afterwards (also when an exception leaves).
Evaluation evaluate(Module& model, data::DataLoader& loader, const LossFunction& loss);

// [given] The process's peak resident memory so far, in bytes (VmHWM of /proc/self/status; 0
// where that does not exist).
int64_t peak_memory_bytes();

// ---------------------------------------------------------------------------------------------
// History [given]: what fit() measured, as JSON and as an SVG plot
// ---------------------------------------------------------------------------------------------

struct EpochRecord {
    int64_t epoch = 0;  // 1, 2, ...
    double train_loss = 0.0, train_accuracy = 0.0;
    double val_loss = 0.0, val_accuracy = 0.0;  // NaN without validation
    double learning_rate = 0.0;                 // at the end of the epoch
    double seconds = 0.0;                       // the whole epoch, validation included
    double examples_per_second = 0.0;           // training examples / training time
    int64_t peak_memory_bytes = 0;              // peak_memory_bytes() at the end of the epoch
};

struct History {
    std::vector<EpochRecord> epochs;
    int64_t best_epoch = 0;    // the epoch with the lowest validation loss (0: none yet)
    bool stopped_early = false;

    // {"best_epoch": 3, "stopped_early": false, "epochs": [{"epoch": 1, "train_loss": ...}, ...]};
    // NaN is written as null.
    std::string to_json() const;
    // A self-contained SVG (no scripts, no external files): loss curves (train, validation) on the
    // left, accuracy curves on the right, with axes, ticks and a legend; the best epoch marked.
    std::string to_svg(const std::string& title = "") const;
    // Writes to_json() and to_svg() atomically (either may be "" to skip it).
    void save(const std::string& json_path, const std::string& svg_path, const std::string& title = "") const;
};

// ---------------------------------------------------------------------------------------------
// Progress on a terminal
// ---------------------------------------------------------------------------------------------

// "epoch 2/10  [#########.......]  412/938  1,930 img/s  ETA 0:27  loss 0.3121" redrawn in place on
// a terminal; without one (a log file, CI) one plain line at every 10% instead, so logs stay short.
class ProgressBar {
public:
    // total steps; `out` is where it draws; interactive: redraw in place (on a terminal).
    ProgressBar(int64_t total, std::string label, std::ostream& out, bool interactive);
    // `done` steps so far, `examples` processed so far (for the rate), and a status text.
    void update(int64_t done, int64_t examples, const std::string& status = "");
    // The final line (always printed, also in a log).
    void finish(const std::string& status = "");

    // "0:27", "1:02:03": the remaining time when `done` of `total` steps took `elapsed` seconds,
    // assuming the rest goes at the same rate; "?" before the first step.
    static std::string eta(double elapsed, int64_t done, int64_t total);

private:
    int64_t total_;
    std::string label_;
    std::ostream& out_;
    bool interactive_;
    double start_;
    int64_t last_decile_ = -1;
};

// ---------------------------------------------------------------------------------------------
// Checkpoints: a documented binary file
// ---------------------------------------------------------------------------------------------
//
// Layout, all numbers little-endian:
//     magic        8 bytes  "TTCKPT\r\n"  (the \r\n catches a file mangled by a text-mode copy)
//     version      u32      1
//     count        u32      number of entries
//     entries      each:    kind u8 (0 tensor, 1 number, 2 text), name_length u32, name bytes,
//                           then for a tensor: ndim u32, ndim sizes i64, numel f32 values (row-major)
//                                a number:  f64
//                                a text:    length u32, bytes
//     checksum     u64      FNV-1a (64-bit) of every byte before it
// A reader refuses, naming the file: a missing file, a wrong magic ("not a TinyTorch checkpoint"),
// a version newer than it knows, a file that ends early or has bytes left over ("truncated" /
// "trailing bytes"), a checksum mismatch ("damaged"), or an absurd size (a tensor larger than the
// file). Writes are atomic: a temporary file in the same folder, fsync, rename - a run killed
// while saving leaves the previous checkpoint intact.
struct Checkpoint {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, double> numbers;
    std::map<std::string, std::string> texts;
};

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
Checkpoint load_checkpoint(const std::string& path);

// The model's parameters and buffers as "model.<name>" tensors, and the optimizer's state (when
// given) as "optimizer.<name>" tensors and numbers, plus texts "model" (model.to_string()) and
// "optimizer" (its name()).
Checkpoint make_checkpoint(const Module& model, const optim::Optimizer* optimizer = nullptr);
// Copies the checkpoint's values into the model (and optimizer) in place. tt::Error naming the
// first difference when a parameter or buffer is missing, unexpected, or of another shape - a
// checkpoint of a different model must not load silently.
void restore_checkpoint(const Checkpoint& checkpoint, Module& model, optim::Optimizer* optimizer = nullptr);

// ---------------------------------------------------------------------------------------------
// The Trainer
// ---------------------------------------------------------------------------------------------

struct TrainerOptions {
    int64_t epochs = 10;
    // Early stopping: stop when the validation loss has not improved by more than min_delta for
    // `patience` epochs in a row (0: never stop early). Needs validation data.
    int64_t patience = 0;
    double min_delta = 0.0;
    // Where the best model so far (lowest validation loss; the last epoch without validation) is
    // saved, with the optimizer's state; "" for none. fit() restores the best weights at the end
    // when restore_best and a checkpoint was written.
    std::string checkpoint_path = "";
    bool restore_best = true;
    float clip_grad_norm = 0.0f;  // > 0: clip_grad_norm_ before every step
    bool progress = true;         // draw a ProgressBar on stderr (in place when it is a terminal)
};

// What one training step measured, for the batch hooks.
struct BatchRecord {
    int64_t epoch = 0, batch = 0, batches = 0;  // batch counts from 1
    double loss = 0.0;
    int64_t examples = 0;  // in this batch
    double elapsed = 0.0;  // seconds since the epoch started
};

class Trainer {
public:
    // scheduler (optional) is stepped once per training batch.
    Trainer(std::shared_ptr<Module> model, optim::Optimizer& optimizer, LossFunction loss, TrainerOptions options = {},
            optim::LRScheduler* scheduler = nullptr);

    // Trains for options.epochs (or until early stopping) and returns what it measured.
    History fit(data::DataLoader& train, data::DataLoader* validation = nullptr);
    // One epoch of training; returns its mean loss and accuracy (as evaluate() does).
    Evaluation train_epoch(data::DataLoader& train, int64_t epoch);

    // Called after every training batch / every epoch, in the order added: progress reports,
    // profilers (module 19), anything that watches a run.
    std::vector<std::function<void(const BatchRecord&)>> batch_hooks;
    std::vector<std::function<void(const EpochRecord&)>> epoch_hooks;

    Module& model() { return *model_; }
    TrainerOptions options;

private:
    std::shared_ptr<Module> model_;
    optim::Optimizer& optimizer_;
    LossFunction loss_;
    optim::LRScheduler* scheduler_;
};

}  // namespace tt
