// optim.h - module 08: turning gradients into better weights.
//
//     tt::optim::Adam optimizer(model->parameters(), {.lr = 1e-3f});
//     tt::optim::CosineAnnealingLR schedule(optimizer, /*t_max=*/epochs * loader.num_batches());
//     for (const tt::data::Batch& batch : loader) {
//         optimizer.zero_grad();                                   // .grad of every parameter: undefined
//         tt::Tensor loss = tt::cross_entropy(model->forward(batch.inputs), batch.targets);
//         loss.backward();                                         // .grad filled (module 06)
//         tt::optim::clip_grad_norm_(model->parameters(), 1.0f);   // optional
//         optimizer.step();                                        // the update, under NoGradGuard
//         schedule.step();                                         // the next learning rate
//     }
//
// Every update here is PyTorch's, formula for formula (torch.optim, version 1.13), so a model
// trained with the same data, initial weights and settings follows the same trajectory. With g the
// gradient of parameter p, t the step number (1 for the first step()):
//
//   SGD       g += wd * p                                   (weight_decay, "L2")
//             momentum: b = g on the first step, else b = momentum * b + (1 - dampening) * g
//                       g = g + momentum * b if nesterov, else g = b
//             p -= lr * g
//   Adam      g += wd * p
//             m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2
//             p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
//   AdamW     p *= 1 - lr * wd    (decoupled weight decay, Loshchilov & Hutter 2019), then Adam's
//             update without the g += wd * p
//
// A parameter whose .grad is undefined (it took no part in the loss) is skipped: it is not moved,
// and its state (momentum, m, v, its own step count) does not advance.
//
// The systems insight: optimizer state is memory. SGD with momentum keeps one extra tensor per
// parameter, Adam two - so training a model with Adam takes about four times the memory of its
// weights (weights, gradients, m, v) before any activation is stored. That is why large models
// shard or quantise optimizer state, and why step() updates in place: a copy per parameter per
// step would double the traffic of the whole update.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tinytorch/tensor.h"

namespace tt::optim {

// What an optimizer needs to resume exactly: named tensors (per-parameter state, by parameter
// index: "0.momentum_buffer", "3.exp_avg", "3.exp_avg_sq") and named numbers (step counts:
// "3.step"; the learning rate: "lr"). Module 10 writes it into checkpoints.
struct OptimizerState {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, double> numbers;
};

class Optimizer {
public:
    // The parameters are the same tensors as the model's (handles, not copies): step() changes the
    // model. Every one must be a defined leaf that requires grad, else tt::Error naming its index;
    // lr must be >= 0.
    Optimizer(std::vector<Tensor> parameters, float lr);
    virtual ~Optimizer() = default;

    // One update of every parameter that has a gradient. Runs under NoGradGuard (the update is
    // not part of any graph) and writes in place.
    virtual void step() = 0;
    // (08) Sets the .grad of every parameter to undefined (as Module::zero_grad).
    void zero_grad();

    // (08) The state to save, and back. state() returns copies (a later step() does not change
    // them). load_state() checks that every tensor has the shape of the parameter it belongs to
    // and names the first one that does not; an entry this optimizer does not know (another
    // optimizer's, a parameter index out of range) is an error too. A parameter with no entries
    // starts afresh (no momentum, step 0).
    virtual OptimizerState state() const = 0;
    virtual void load_state(const OptimizerState& state) = 0;
    virtual std::string name() const = 0;

    const std::vector<Tensor>& parameters() const { return parameters_; }
    float lr;  // read by step(); the schedulers below set it

protected:
    std::vector<Tensor> parameters_;
};

struct SGDOptions {
    float lr = 0.01f;
    float momentum = 0.0f;
    float dampening = 0.0f;
    float weight_decay = 0.0f;
    bool nesterov = false;  // needs momentum > 0 and dampening == 0 (checked, as PyTorch)
    // Also checked, as PyTorch: lr, momentum and weight_decay >= 0.
};

class SGD : public Optimizer {
public:
    SGD(std::vector<Tensor> parameters, SGDOptions options = {});
    void step() override;
    OptimizerState state() const override;
    void load_state(const OptimizerState& state) override;
    std::string name() const override { return "SGD"; }
    SGDOptions options;

private:
    std::vector<Tensor> momentum_buffers_;  // undefined until a parameter's first step with momentum
};

struct AdamOptions {
    float lr = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.0f;  // L2 (added to the gradient); AdamW decouples it
    // Checked, as PyTorch: lr, eps and weight_decay >= 0, 0 <= beta1, beta2 < 1.
};

class Adam : public Optimizer {
public:
    Adam(std::vector<Tensor> parameters, AdamOptions options = {});
    void step() override;
    OptimizerState state() const override;
    void load_state(const OptimizerState& state) override;
    std::string name() const override { return "Adam"; }
    AdamOptions options;

protected:
    // The update of parameter i, shared by Adam and AdamW. `decoupled` selects AdamW's decay.
    void update(size_t i, bool decoupled);
    std::vector<Tensor> exp_avg_, exp_avg_sq_;  // m and v, undefined until the first step
    std::vector<int64_t> steps_;                // t of each parameter
};

// Adam with decoupled weight decay; PyTorch's default weight_decay for AdamW is 0.01.
class AdamW : public Adam {
public:
    AdamW(std::vector<Tensor> parameters, AdamOptions options = {.lr = 1e-3f, .weight_decay = 0.01f});
    void step() override;
    std::string name() const override { return "AdamW"; }
};

// Scales every gradient by max_norm / (total_norm + 1e-6) when the total norm is larger than
// max_norm, where total_norm is the 2-norm of all the gradients together, as one long vector
// (PyTorch's clip_grad_norm_). Parameters without a gradient are ignored. Returns total_norm
// (before clipping): worth logging - a spike says a step went wrong. max_norm must be >= 0.
float clip_grad_norm_(const std::vector<Tensor>& parameters, float max_norm);

// ---------------------------------------------------------------------------------------------
// Learning-rate schedules. A schedule sets optimizer.lr = lr_at(step) where the step counts the
// calls of step() (0 at construction). base_lr is the optimizer's lr when the schedule was made.
// Call schedule.step() after optimizer.step(), once per batch or once per epoch - its unit is
// whatever you count. Each constructor checks its settings (step_size > 0; t_max > 0;
// warmup_steps >= 0 with 0 < start_factor <= 1; total_steps > warmup_steps) and throws tt::Error
// naming the schedule.
// ---------------------------------------------------------------------------------------------

class LRScheduler {
public:
    // [given] Remembers the optimizer and base_lr = optimizer.lr. (It cannot set the first lr
    // itself: lr_at is not callable before the derived schedule exists; each derived constructor
    // calls start() instead.)
    explicit LRScheduler(Optimizer& optimizer);
    virtual ~LRScheduler() = default;
    // [given] Advances one step and sets the optimizer's lr.
    void step();
    // The learning rate after `step` steps.
    virtual float lr_at(int64_t step) const = 0;
    int64_t steps() const { return steps_; }
    float base_lr() const { return base_lr_; }

protected:
    // [given] Called by derived constructors once their settings are stored: sets lr = lr_at(0).
    void start();
    Optimizer& optimizer_;
    float base_lr_;
    int64_t steps_ = 0;
};

// base_lr * gamma^floor(step / step_size)   (PyTorch's StepLR)
class StepLR : public LRScheduler {
public:
    StepLR(Optimizer& optimizer, int64_t step_size, float gamma = 0.1f);
    float lr_at(int64_t step) const override;
    int64_t step_size;
    float gamma;
};

// eta_min + (base_lr - eta_min) * (1 + cos(pi * step / t_max)) / 2 for step <= t_max, eta_min
// after (PyTorch's CosineAnnealingLR in closed form, without restarts).
class CosineAnnealingLR : public LRScheduler {
public:
    CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, float eta_min = 0.0f);
    float lr_at(int64_t step) const override;
    int64_t t_max;
    float eta_min;
};

// Linear warm-up: base_lr * (start_factor + (1 - start_factor) * min(step, warmup_steps) /
// warmup_steps), i.e. from start_factor * base_lr up to base_lr, then constant (PyTorch's LinearLR
// with end_factor 1). Large learning rates with Adam are unstable while m and v are still
// estimates from a few batches: warming up avoids the early blow-up.
class LinearWarmupLR : public LRScheduler {
public:
    LinearWarmupLR(Optimizer& optimizer, int64_t warmup_steps, float start_factor = 1.0f / 3.0f);
    float lr_at(int64_t step) const override;
    int64_t warmup_steps;
    float start_factor;
};

// Warm-up then cosine, the schedule of most transformer training (GPT, module 14): linear from
// base_lr / warmup_steps at step 0 to base_lr at step warmup_steps, then cosine from base_lr down
// to min_lr at total_steps, then min_lr.
//     step < warmup:  base_lr * (step + 1) / warmup_steps
//     else:           min_lr + (base_lr - min_lr) * (1 + cos(pi * min(1, (step - warmup) / (total - warmup)))) / 2
class WarmupCosineLR : public LRScheduler {
public:
    WarmupCosineLR(Optimizer& optimizer, int64_t warmup_steps, int64_t total_steps, float min_lr = 0.0f);
    float lr_at(int64_t step) const override;
    int64_t warmup_steps, total_steps;
    float min_lr;
};

}  // namespace tt::optim
