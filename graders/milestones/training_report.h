// training_report.h - a Trainer's progress, reported to tito while a milestone trains.
//
// tito draws the progress bar; the milestone program only measures and reports, through the
// result channel (milestone.h):
//     {"estimate": {"seconds": 212}}   once, after the first batches: how long the run will take
//     {"progress": {...}}              a few times a second: epoch, batch/batches, loss, images/s, ETA
//     {"log": "..."}                   one line per finished epoch
#pragma once


#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "milestone.h"
#include "tinytorch/training.h"

namespace milestone {

class TrainingReport {
public:
    // epochs and batches of the training set; eval_examples: how many examples each epoch's
    // validation pass evaluates (a forward pass costs about a third of a training step).
    TrainingReport(Reporter& report, int64_t epochs, int64_t batches, int64_t batch_size, int64_t eval_examples)
        : report_(report), epochs_(epochs), batches_(batches), batch_size_(batch_size), eval_examples_(eval_examples) {}

    void attach(tt::Trainer& trainer) {
        start_ = last_batch_ = epoch_start_ = Clock::now();
        trainer.options.progress = false;  // tito draws the bar
        trainer.batch_hooks.push_back([this](const tt::BatchRecord& b) { on_batch(b); });
        trainer.epoch_hooks.push_back([this](const tt::EpochRecord& e) { on_epoch(e); });
    }

    // Seconds from the first batch to now.
    double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    using Clock = std::chrono::steady_clock;

    // Seconds left, from the pace so far: training batches at the measured rate, plus a validation
    // pass per remaining epoch at a third of the cost per example.
    double remaining(int64_t done) const {
        const double per_batch = train_seconds_ / static_cast<double>(done);
        const double per_example_eval = per_batch / static_cast<double>(batch_size_) / 3.0;
        const int64_t epochs_left_after_this = epochs_ - epoch_;
        const double batches_left = static_cast<double>(epochs_ * batches_ - done);
        return batches_left * per_batch + static_cast<double>(epochs_left_after_this + 1) * eval_examples_ * per_example_eval;
    }

    void on_batch(const tt::BatchRecord& b) {
        const auto now = Clock::now();
        if (b.epoch != epoch_) {
            epoch_ = b.epoch;
            loss_sum_ = 0.0;
            loss_count_ = 0;
            epoch_start_ = last_batch_;
        }
        loss_sum_ += b.loss;
        ++loss_count_;
        train_seconds_ += std::chrono::duration<double>(now - last_batch_).count();  // this batch
        last_batch_ = now;
        ++done_;
        // The estimate: once ~20 batches (or 3 seconds) have set the pace.
        if (!estimated_ && (done_ >= 20 || elapsed() > 3.0)) {
            estimated_ = true;
            report_.estimate(elapsed() + remaining(done_));
        }
        if (std::chrono::duration<double>(now - last_report_).count() < 0.25 && b.batch != b.batches) return;
        last_report_ = now;
        const double epoch_seconds = std::chrono::duration<double>(now - epoch_start_).count();
        nlohmann::json fields = {{"phase", "train"},
                                 {"epoch", b.epoch},
                                 {"epochs", epochs_},
                                 {"step", b.batch},
                                 {"steps", b.batches},
                                 {"loss", loss_sum_ / static_cast<double>(loss_count_)},
                                 {"images_per_second", epoch_seconds > 0 ? b.batch * batch_size_ / epoch_seconds : 0.0}};
        fields["eta_seconds"] = remaining(done_);
        report_.progress(fields);
    }

    void on_epoch(const tt::EpochRecord& e) {
        char line[256];
        std::snprintf(line, sizeof line, "epoch %lld/%lld: loss %.4f, train %.2f%%, test %.2f%%, %.0f s, %.0f images/s, peak memory %.0f MB",
                      static_cast<long long>(e.epoch), static_cast<long long>(epochs_), e.train_loss, 100.0 * e.train_accuracy,
                      100.0 * e.val_accuracy, e.seconds, e.examples_per_second, e.peak_memory_bytes / 1e6);
        report_.log(line);
        // The validation pass is over: it does not count as training time.
        last_batch_ = Clock::now();
    }

    Reporter& report_;
    int64_t epochs_, batches_, batch_size_, eval_examples_;
    bool estimated_ = false;
    Clock::time_point start_{}, epoch_start_{}, last_batch_{}, last_report_{};
    int64_t epoch_ = 0, done_ = 0, loss_count_ = 0;
    double loss_sum_ = 0.0, train_seconds_ = 0.0;
};

// Does the loader serve the data in a new order every epoch? 1 when the first batch of a second
// epoch differs from the first batch of the first (with a shuffling loader over thousands of
// examples it always does), else 0. A loader that never reshuffles still trains on MNIST, so
// this is checked directly: SGD's assumption of fresh random batches is what module 07 delivers.
inline double epochs_differ(std::shared_ptr<const tt::data::Dataset> dataset, int64_t batch_size) {
    tt::data::DataLoader probe(std::move(dataset), {.batch_size = batch_size, .shuffle = true, .seed = 20260101});
    auto first_batch = [&probe] {
        for (const tt::data::Batch& batch : probe) return batch.targets.to_vector();  // ends the epoch early
        return std::vector<float>{};
    };
    const std::vector<float> first = first_batch();
    const std::vector<float> second = first_batch();
    return !first.empty() && first != second ? 1.0 : 0.0;
}

// Before minutes of training: are the model's gradients right? For every parameter tensor p, the
// gradient backward() computed is compared with the loss's own change along one direction v
// (entries +-1), by central differences:
//     analytic = h * sum_j grad_j * v_j        numeric = (loss(p + h v) - loss(p - h v)) / 2
// with a step h that changes the loss by about 1e-4 (see below). Returns the largest relative
// difference |analytic - numeric| / max(|analytic|, |numeric|) over the tensors: 0.1-6% for
// correct code (float32 rounding, ReLU and max-pool kinks), 0.7 to 2 for a gradient that is
// missing, has the wrong sign, or comes from one image of the batch. Accuracy alone misses some of
// these: a LeNet whose conv filters never learn still reads 97% of the digits with its Linear layers.
// The caller chooses the mode (eval: no dropout, so every loss is the same function of p).
struct GradientError {
    double worst = 0.0;
    std::string parameter;  // where it is worst: "3.weight (16, 6, 5, 5)"
};

inline GradientError gradient_error(tt::Module& model, const tt::Tensor& inputs, const tt::Tensor& targets) {
    model.zero_grad();
    tt::cross_entropy(model.forward(inputs), targets).backward();
    tt::Generator gen(1234);
    GradientError result;
    tt::NoGradGuard no_grad;
    for (auto& [name, p] : model.named_parameters()) {
        if (p.numel() == 0) continue;
        tt::Tensor values = p.contiguous();  // p itself for every parameter the layers make
        if (!values.is_same(p)) continue;
        float* w = values.data();
        const auto n = static_cast<size_t>(p.numel());
        const std::vector<float> saved(w, w + n);
        const tt::Tensor grad = p.grad();
        const std::vector<float> g = grad.defined() ? grad.to_vector() : std::vector<float>(n, 0.0f);

        // The direction: the sign of each gradient entry (a random sign where it is 0), so the
        // loss changes as much as possible for the size of the step.
        std::vector<float> v(n);
        double analytic = 0.0, squares = 0.0;
        for (size_t j = 0; j < n; ++j) {
            v[j] = g[j] > 0.0f ? 1.0f : g[j] < 0.0f ? -1.0f : (gen.randint(2) == 0 ? -1.0f : 1.0f);
            analytic += static_cast<double>(g[j]) * v[j];  // = sum |g_j|
            squares += static_cast<double>(saved[j]) * saved[j];
        }
        // The step: small enough that the loss is nearly linear along it (a step that changes the
        // loss by about 1e-4), large enough that float32 rounding (~1e-7 of the loss) stays small,
        // and never more than a few percent of the parameter's scale. A gradient of exactly zero
        // (missing) gets a step of 1% of that scale: any real slope then shows.
        const double scale = std::max(std::sqrt(squares / static_cast<double>(n)), 0.1);
        const double step = analytic > 0.0 ? std::min(1e-4 / analytic, 0.05 * scale) : 0.01 * scale;
        const auto h = static_cast<float>(step);
        analytic *= h;
        auto loss_at = [&](float sign) {
            for (size_t j = 0; j < n; ++j) w[j] = saved[j] + sign * h * v[j];
            p.bump_version();
            return static_cast<double>(tt::cross_entropy(model.forward(inputs), targets).item());
        };
        const double numeric = (loss_at(1.0f) - loss_at(-1.0f)) / 2.0;
        std::copy(saved.begin(), saved.end(), w);
        p.bump_version();
        // Below 1e-5 both are rounding noise: this parameter does not move this loss.
        const double size = std::max(std::fabs(analytic), std::fabs(numeric));
        double error = size > 1e-5 ? std::fabs(analytic - numeric) / size : 0.0;
        if (std::isnan(analytic) || std::isnan(numeric)) error = 1e30;  // NaN: as bad as it gets
        if (error > result.worst) result = {error, name + " " + tt::shape_str(p.shape())};
    }
    model.zero_grad();
    return result;
}

// The largest gradient_error a correct engine shows on these milestones is about 0.06 (a conv
// bias whose few values sit next to max-pool and ReLU kinks); the bugs it is there for give 0.7 to
// 2. The pass condition in configs/milestones.json uses the same bound.
constexpr double kGradientTolerance = 0.25;

// gradient_error on the first 64 training examples, in eval mode (no dropout; BatchNorm uses its
// running statistics), reported as a log line; the model is left in training mode.

inline double check_gradients(Reporter& report, tt::Module& model, const tt::data::Dataset& train) {
    std::vector<int64_t> first(static_cast<size_t>(std::min<int64_t>(64, train.size())));
    for (size_t i = 0; i < first.size(); ++i) first[i] = static_cast<int64_t>(i);
    const tt::data::Batch batch = train.get_batch(first);
    model.eval();
    const GradientError error = gradient_error(model, batch.inputs, batch.targets);
    model.train();
    char line[256];
    std::snprintf(line, sizeof line, "gradient check on %zu training images: largest relative error %.1e, at %s (backward vs finite differences)%s",
                  first.size(), error.worst, error.parameter.c_str(),
                  error.worst > kGradientTolerance ? " - a backward is wrong: `tito test` the module of that layer" : "");
    report.log(line);
    return error.worst;
}

// The metrics every training milestone reports at the end (tito checks its pass conditions on
// them), plus `extra` ones of its own.
inline void report_metrics(Reporter& report, const tt::History& history, const TrainingReport& progress,
                           std::shared_ptr<const tt::data::Dataset> train, int64_t batch_size, double gradient_error,
                           nlohmann::json extra = nlohmann::json::object()) {
    const tt::EpochRecord& last = history.epochs.back();
    extra.update({{"test_accuracy", last.val_accuracy},
                  {"train_accuracy", last.train_accuracy},
                  {"test_loss", last.val_loss},
                  {"epochs_differ", epochs_differ(std::move(train), batch_size)},
                  {"gradient_error", gradient_error},
                  {"seconds", progress.elapsed()},
                  {"images_per_second", last.examples_per_second},
                  {"peak_memory_mb", static_cast<double>(tt::peak_memory_bytes()) / 1e6}});
    report.metrics(extra);
}

}  // namespace milestone
