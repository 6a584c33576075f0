// optimizers.cpp - module 08: turning gradients into better weights. SGD (with momentum, Nesterov
// and weight decay), Adam, AdamW, gradient clipping, and the state a checkpoint saves.
//
// Every optimizer here is one loop over the parameters, and for each one a loop over its numbers:
//
//     for each parameter p with a gradient g:            // skipped when p.grad() is undefined
//         (update the optimizer's state for p: momentum buffer, or Adam's m and v)
//         p[j] -= lr * (what the state says about g[j])  // in place, j = 0 .. numel - 1
//
// Three things decide how the code looks:
//
// 1. Exactly PyTorch's formulas (torch.optim, 1.13; optim.h lists them). A model trained with the
//    same data, initial weights and settings then follows the same trajectory as in PyTorch, and
//    the tests can compare numbers computed there.
// 2. In place. The parameters are the model's own tensors (handles): writing into p.data() changes
//    the model. An update that built new tensors (p = p - lr * g) would allocate and fill a full
//    copy of every parameter, every step - twice the memory traffic of the whole update - and the
//    model would still hold the old ones. After writing, p.bump_version(): autograd then knows the
//    values changed (a graph built before the step refuses to run backward with the new weights).
// 3. One pass over memory. An update is a few FLOPs per number (SGD: 2-5, Adam: ~12) but reads and
//    writes every parameter, gradient and state tensor: it is memory-bound. One fused loop reads
//    each float once; the same update written as tensor ops (m.mul_(b1); m.add_(g, 1 - b1); ...)
//    would walk all of them once per op, 6-8 times over.
//
// Memory, the systems insight of the module: SGD keeps nothing per parameter, SGD with momentum one
// tensor the size of the parameter, Adam two (m and v). Weights + gradients + Adam state is 4x the
// weights before a single activation is stored.
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "tinytorch/autograd.h"
#include "tinytorch/optim.h"

namespace tt::optim {

namespace {

// [given] Helpers for state() and load_state() ([[maybe_unused]]: the template, which does not call
// them yet, compiles without warnings).
//
// State keys are "<parameter index>.<name>": "3.exp_avg" -> {3, "exp_avg"}. No index
// (e.g. "lr") or a malformed one ("x.exp_avg", "-1.step") -> nullopt.
struct StateKey {
    size_t index;
    std::string name;
};

[[maybe_unused]] std::optional<StateKey> parse_state_key(const std::string& key) {
    const size_t dot = key.find('.');
    if (dot == 0 || dot == std::string::npos || dot + 1 == key.size()) return std::nullopt;
    size_t index = 0;
    for (size_t i = 0; i < dot; ++i) {
        if (key[i] < '0' || key[i] > '9' || i >= 9) return std::nullopt;  // at most 9 digits: no overflow
        index = index * 10 + static_cast<size_t>(key[i] - '0');
    }
    return StateKey{index, key.substr(dot + 1)};
}

// [given] The key of parameter `index`'s entry `name`: state_key(3, "exp_avg") == "3.exp_avg".
[[maybe_unused]] std::string state_key(size_t index, const char* name) { return std::to_string(index) + "." + name; }

//! BEGIN SOLUTION
//! HINT: load_state() must refuse a tensor whose shape is not its parameter's (a checkpoint of another model) before it changes anything: a helper that checks one entry, used by SGD and Adam, saves writing the message twice.
//! HINT: the message names the optimizer, the entry's key and both shapes, e.g. "SGD.load_state: '0.momentum_buffer' has shape (3), but parameter 0 has shape (2, 2)".
// One tensor entry of a saved state: defined, and the shape of the parameter it belongs to.
void check_state_tensor(const std::string& optimizer, const std::string& key, const Tensor& tensor, const Tensor& parameter,
                        size_t index) {
    TT_CHECK(tensor.defined(), optimizer, ".load_state: '", key, "' is an undefined tensor");
    TT_CHECK(tensor.shape() == parameter.shape(), optimizer, ".load_state: '", key, "' has shape ", shape_str(tensor.shape()),
             ", but parameter ", index, " has shape ", shape_str(parameter.shape()),
             ": this state belongs to another model (or the parameters are in another order)");
}
//! END SOLUTION

}  // namespace

// ---------------------------------------------------------------------------------------------
// Optimizer: what every optimizer shares
// ---------------------------------------------------------------------------------------------

// The optimizer keeps handles, not copies: parameters_[i] and the model's weight are one tensor, so
// step() moves the model. A mistake here is silent - training "runs", the loss never moves - so the
// constructor refuses anything that cannot be a parameter, naming its position in the list.
Optimizer::Optimizer(std::vector<Tensor> parameters, float lr) : lr(lr), parameters_(std::move(parameters)) {
    //! BEGIN SOLUTION
    //! HINT: TT_CHECK(lr >= 0.0f, ...): a NaN fails that comparison too, as it should.
    //! HINT: for each parameter i: defined(); is_leaf() (a tensor computed from the weights, e.g. w * 2, is not a parameter: its grad is never kept); requires_grad() (else backward() never gives it a gradient). Each message names parameter i, its shape when it has one, and what to pass instead (model->parameters()).
    TT_CHECK(lr >= 0.0f, "optimizer: the learning rate must be >= 0, got lr=", lr);
    for (size_t i = 0; i < parameters_.size(); ++i) {
        const Tensor& p = parameters_[i];
        TT_CHECK(p.defined(), "optimizer: parameter ", i, " is an undefined tensor; pass model->parameters()");
        TT_CHECK(p.is_leaf(), "optimizer: parameter ", i, " of shape ", shape_str(p.shape()), " is not a leaf (it was computed by ",
                 p.grad_fn()->name(), "): backward() keeps no gradient for it. Pass the model's own tensors (model->parameters())");
        TT_CHECK(p.requires_grad(), "optimizer: parameter ", i, " of shape ", shape_str(p.shape()),
                 " does not require grad, so it would never get a gradient; call requires_grad_() on it "
                 "(register_parameter does) or leave it out");
    }
    //! END SOLUTION
}

// As Module::zero_grad: undefined, not zero-filled. No memory is held between steps, and
// backward() allocates each gradient again on its first contribution.
void Optimizer::zero_grad() {
    //! BEGIN SOLUTION
    //! HINT: Tensor::zero_grad() (module 06) makes one tensor's .grad undefined. parameters_ holds handles: calling it on an element of the vector clears the model's gradient.
    for (Tensor& p : parameters_) p.zero_grad();
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// SGD
//
// Plain SGD steps straight down the gradient: p -= lr * g. Two things go wrong with it on real
// loss surfaces. In a long narrow valley the gradient points mostly across the valley, so steps
// bounce from wall to wall and crawl along it; and mini-batch gradients are noisy. Momentum fixes
// both with a running average of the gradients, the "velocity" b:
//
//     b = momentum * b + (1 - dampening) * g        (b = g on the first step)
//     p -= lr * b
//
// Across the valley the gradients alternate in sign and cancel in b; along it they agree and add
// up: with momentum 0.9 a steady gradient builds up to b = g / (1 - 0.9) = 10 g, a tenfold step.
// PyTorch starts b at g itself, not at 0 (which would make the first steps 10x too small).
//
// Nesterov looks ahead: it steps with g + momentum * b (the gradient plus the *new* velocity), the
// direction the momentum is about to carry the weights in - a correction that damps overshooting.
//
// Weight decay ("L2") adds wd * p to the gradient: the gradient of (wd / 2) * |p|^2, pulling every
// weight towards 0 a little each step. It is added before momentum, so it is averaged like g.
// ---------------------------------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> parameters, SGDOptions options) : Optimizer(std::move(parameters), options.lr), options(options) {
    //! BEGIN SOLUTION
    //! HINT: check momentum >= 0 and weight_decay >= 0, and that nesterov has momentum > 0 and dampening == 0 (as PyTorch: Nesterov's formula assumes an undamped velocity). Name SGD and the values in each message.
    //! HINT: momentum_buffers_ needs one (undefined) entry per parameter: the buffer is created on a parameter's first step.
    TT_CHECK(options.momentum >= 0.0f, "SGD: momentum must be >= 0, got momentum=", options.momentum);
    TT_CHECK(options.weight_decay >= 0.0f, "SGD: weight_decay must be >= 0, got weight_decay=", options.weight_decay);
    TT_CHECK(!options.nesterov || (options.momentum > 0.0f && options.dampening == 0.0f),
             "SGD: nesterov needs momentum > 0 and dampening == 0, got momentum=", options.momentum,
             ", dampening=", options.dampening, " (as in PyTorch)");
    momentum_buffers_.resize(parameters_.size());
    //! END SOLUTION
}

// For every parameter p with a gradient g (elementwise, in place):
//     d = g + weight_decay * p
//     momentum > 0:  b = d on p's first step, else b = momentum * b + (1 - dampening) * d
//                    d = d + momentum * b  (Nesterov)  or  d = b
//     p -= lr * d
void SGD::step() {
    //! BEGIN SOLUTION
    //! HINT: the whole update under a tt::NoGradGuard: it is not part of any graph (and add_/copy_ refuse to write into a parameter while grad mode is on).
    //! HINT: read the learning rate from the member `lr`, not options.lr: the schedules change `lr`.
    //! HINT: skip a parameter whose grad() is undefined: it is not moved, and its momentum buffer is neither created nor advanced.
    //! HINT: one loop over the elements does everything: p.data(), grad.data() and the buffer's data() are plain arrays once contiguous() (free when the layout already is; a parameter that is a strided view must then be written back with copy_).
    //! HINT: the first step of a parameter with momentum: b = d exactly (no dampening, no momentum * 0).
    //! HINT: writes through data() are invisible to autograd's version counter: call bump_version() on the parameter afterwards (copy_ does it for you).
    NoGradGuard no_grad;
    const float momentum = options.momentum, dampening = options.dampening, weight_decay = options.weight_decay;
    const bool nesterov = options.nesterov;
    for (size_t i = 0; i < parameters_.size(); ++i) {
        Tensor& param = parameters_[i];
        const Tensor grad_tensor = param.grad();
        if (!grad_tensor.defined()) continue;  // took no part in the loss: no move, no state change

        Tensor weights = param.contiguous();  // param itself, unless it is a strided view (then a copy)
        const Tensor grad = grad_tensor.contiguous();
        float* w = weights.data();
        const float* g = grad.data();
        const int64_t n = param.numel();

        if (momentum == 0.0f) {
            for (int64_t j = 0; j < n; ++j) w[j] -= lr * (g[j] + weight_decay * w[j]);
        } else {
            Tensor& buffer = momentum_buffers_[i];
            const bool first_step = !buffer.defined();
            if (first_step) buffer = empty(param.shape());
            float* b = buffer.data();
            for (int64_t j = 0; j < n; ++j) {
                const float d = g[j] + weight_decay * w[j];
                b[j] = first_step ? d : momentum * b[j] + (1.0f - dampening) * d;
                w[j] -= lr * (nesterov ? d + momentum * b[j] : b[j]);
            }
        }

        if (weights.is_same(param)) {
            param.bump_version();  // we wrote through data(): tell autograd the values changed
        } else {
            param.copy_(weights);  // a strided parameter: write back through its strides (bumps the version)
        }
    }
    //! END SOLUTION
}

// "lr" and "<i>.momentum_buffer" for every parameter that has one (copies).
OptimizerState SGD::state() const {
    OptimizerState state;
    //! BEGIN SOLUTION
    //! HINT: state.numbers["lr"] = lr; state.tensors[state_key(i, "momentum_buffer")] = a clone() of each defined buffer (a copy: the next step() must not change what was saved).
    state.numbers["lr"] = lr;
    for (size_t i = 0; i < momentum_buffers_.size(); ++i)
        if (momentum_buffers_[i].defined()) state.tensors[state_key(i, "momentum_buffer")] = momentum_buffers_[i].clone();
    //! END SOLUTION
    return state;
}

void SGD::load_state(const OptimizerState& state) {
    //! BEGIN SOLUTION
    //! HINT: check every entry before changing anything, so a refused state leaves the optimizer as it was: build the new buffers in a local vector, then move it into momentum_buffers_.
    //! HINT: parse_state_key(key) splits "2.momentum_buffer" into {2, "momentum_buffer"}. Refuse (naming the key) an entry with another name or an index >= parameters_.size(), and a tensor whose shape is not parameter i's.
    //! HINT: store clone()s (the caller may reuse its tensors); a parameter without an entry gets an undefined buffer (its next step starts b = d). numbers: "lr" sets lr; any other number is an error.
    std::vector<Tensor> buffers(parameters_.size());
    for (const auto& [key, tensor] : state.tensors) {
        const std::optional<StateKey> entry = parse_state_key(key);
        TT_CHECK(entry && entry->name == "momentum_buffer" && entry->index < parameters_.size(), "SGD.load_state: unexpected entry '",
                 key, "': SGD saves '<i>.momentum_buffer' for its ", parameters_.size(),
                 " parameters (i from 0). Is this the state of another optimizer or model?");
        check_state_tensor("SGD", key, tensor, parameters_[entry->index], entry->index);
        buffers[entry->index] = tensor.clone();
    }
    for (const auto& [key, value] : state.numbers)
        TT_CHECK(key == "lr", "SGD.load_state: unexpected number '", key, "': SGD saves only 'lr'. Is this the state of another optimizer?");
    momentum_buffers_ = std::move(buffers);
    if (auto it = state.numbers.find("lr"); it != state.numbers.end()) lr = static_cast<float>(it->second);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Adam and AdamW
//
// Adam keeps two running averages per parameter element: m of the gradient (momentum, as above)
// and v of the squared gradient (how large g is, whatever its sign). The step is m / sqrt(v): about
// lr in size for every weight, whatever the scale of its gradient. A weight whose gradients are
// tiny (a rarely used embedding row) moves as fast as one with huge gradients - no per-layer tuning
// of the learning rate.
//
// Bias correction: m and v start at 0, so after t steps m = (1 - beta1) * (g_t + beta1 g_{t-1} + ...)
// has seen a total weight of only 1 - beta1^t: at t = 1 with beta1 = 0.9, m = 0.1 g. Dividing by
// (1 - beta1^t) (and v by 1 - beta2^t) gives an unbiased average from the first step. Without it,
// v (beta2 = 0.999: 1 - beta2^t = 0.001 at t = 1) is 1000x too small early on and the first steps
// are several times too large. Each parameter counts its own t: one that skipped steps (no
// gradient) has seen fewer gradients, and its correction must say so.
//
// eps sits outside the square root, added to sqrt(v_hat): it only matters where v is ~0 (it keeps
// 0 / 0 from happening); PyTorch, and so the tests, put it exactly there.
//
// AdamW (Loshchilov & Hutter, 2019): with Adam, L2 decay (g += wd * p) goes through m / sqrt(v) and
// is rescaled per weight like everything else - weights with large gradients are barely decayed.
// AdamW decays the weights directly, p *= 1 - lr * wd, independent of the gradients. That is the
// optimizer of nearly every transformer.
// ---------------------------------------------------------------------------------------------

Adam::Adam(std::vector<Tensor> parameters, AdamOptions options) : Optimizer(std::move(parameters), options.lr), options(options) {
    //! BEGIN SOLUTION
    //! HINT: check 0 <= beta1 < 1, 0 <= beta2 < 1 (beta = 1 would make the bias correction divide by 0), eps >= 0 and weight_decay >= 0, naming the optimizer (name() is not usable in a constructor: write "Adam") and the value.
    //! HINT: size exp_avg_ and exp_avg_sq_ (undefined entries) and steps_ (zeros) to one per parameter.
    TT_CHECK(options.beta1 >= 0.0f && options.beta1 < 1.0f, "Adam: beta1 must be in [0, 1), got beta1=", options.beta1);
    TT_CHECK(options.beta2 >= 0.0f && options.beta2 < 1.0f, "Adam: beta2 must be in [0, 1), got beta2=", options.beta2);
    TT_CHECK(options.eps >= 0.0f, "Adam: eps must be >= 0, got eps=", options.eps);
    TT_CHECK(options.weight_decay >= 0.0f, "Adam: weight_decay must be >= 0, got weight_decay=", options.weight_decay);
    exp_avg_.resize(parameters_.size());
    exp_avg_sq_.resize(parameters_.size());
    steps_.assign(parameters_.size(), 0);
    //! END SOLUTION
}

// For parameter i with gradient g, at its own step t (1 on its first update):
//     AdamW:  p *= 1 - lr * weight_decay                 Adam: g = g + weight_decay * p
//     m = beta1 * m + (1 - beta1) * g                    v = beta2 * v + (1 - beta2) * g^2
//     p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
void Adam::update(size_t i, bool decoupled) {
    //! BEGIN SOLUTION
    //! HINT: no grad: return before touching anything (steps_[i] does not advance).
    //! HINT: create m and v as zeros on the first update, then t = ++steps_[i] - this parameter's own count.
    //! HINT: compute the bias corrections once per parameter, not per element, in double: 1 - 0.999^t in float keeps only 3-4 correct digits at t = 1.
    //! HINT: as PyTorch: step_size = lr / (1 - beta1^t), denominator = sqrt(v) / sqrt(1 - beta2^t) + eps, p -= step_size * (m / denominator). eps outside the sqrt.
    //! HINT: AdamW multiplies p by (1 - lr * weight_decay) before the update and does not add weight_decay * p to g; Adam adds it to g (when weight_decay != 0) and does not decay p.
    Tensor& param = parameters_[i];
    const Tensor grad_tensor = param.grad();
    if (!grad_tensor.defined()) return;  // not moved, state not advanced
    if (!exp_avg_[i].defined()) {
        exp_avg_[i] = zeros(param.shape());
        exp_avg_sq_[i] = zeros(param.shape());
    }
    const int64_t t = ++steps_[i];

    const float beta1 = options.beta1, beta2 = options.beta2, eps = options.eps, weight_decay = options.weight_decay;
    const double bias_correction1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
    const double bias_correction2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
    const auto step_size = static_cast<float>(lr / bias_correction1);
    const auto bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
    const auto decay = static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay);  // AdamW's factor
    const bool l2 = !decoupled && weight_decay != 0.0f;

    Tensor weights = param.contiguous();
    const Tensor grad = grad_tensor.contiguous();
    float* w = weights.data();
    const float* g = grad.data();
    float* m = exp_avg_[i].data();
    float* v = exp_avg_sq_[i].data();
    const int64_t n = param.numel();
    for (int64_t j = 0; j < n; ++j) {
        float gj = g[j];
        if (decoupled) w[j] *= decay;
        if (l2) gj += weight_decay * w[j];
        m[j] = beta1 * m[j] + (1.0f - beta1) * gj;
        v[j] = beta2 * v[j] + (1.0f - beta2) * (gj * gj);
        const float denominator = std::sqrt(v[j]) / bias_correction2_sqrt + eps;
        w[j] -= step_size * (m[j] / denominator);
    }

    if (weights.is_same(param)) {
        param.bump_version();
    } else {
        param.copy_(weights);
    }
    //! END SOLUTION
}

void Adam::step() {
    //! BEGIN SOLUTION
    //! HINT: under a NoGradGuard, update(i, /*decoupled=*/false) for every parameter.
    NoGradGuard no_grad;
    for (size_t i = 0; i < parameters_.size(); ++i) update(i, /*decoupled=*/false);
    //! END SOLUTION
}

// "lr"; for every parameter that has taken a step: "<i>.exp_avg", "<i>.exp_avg_sq" (copies) and
// "<i>.step".
OptimizerState Adam::state() const {
    OptimizerState state;
    //! BEGIN SOLUTION
    //! HINT: as SGD::state, with three entries per parameter whose steps_[i] > 0. The step count is a number: static_cast<double>(steps_[i]).
    state.numbers["lr"] = lr;
    for (size_t i = 0; i < parameters_.size(); ++i) {
        if (steps_[i] == 0) continue;
        state.tensors[state_key(i, "exp_avg")] = exp_avg_[i].clone();
        state.tensors[state_key(i, "exp_avg_sq")] = exp_avg_sq_[i].clone();
        state.numbers[state_key(i, "step")] = static_cast<double>(steps_[i]);
    }
    //! END SOLUTION
    return state;
}

void Adam::load_state(const OptimizerState& state) {
    //! BEGIN SOLUTION
    //! HINT: as SGD::load_state: everything checked into local vectors first, then moved in.
    //! HINT: tensors: "<i>.exp_avg" and "<i>.exp_avg_sq" (shape of parameter i); numbers: "lr" and "<i>.step" (a whole number >= 1). Anything else names the key in the error.
    //! HINT: the three entries of a parameter come together: all present (it resumes at its step) or all absent (it starts afresh). One without the others is an error naming the parameter.
    const std::string who = name();  // "Adam" or "AdamW"
    const size_t count = parameters_.size();
    std::vector<Tensor> exp_avg(count), exp_avg_sq(count);
    std::vector<int64_t> steps(count, 0);
    for (const auto& [key, tensor] : state.tensors) {
        const std::optional<StateKey> entry = parse_state_key(key);
        const bool known = entry && entry->index < count && (entry->name == "exp_avg" || entry->name == "exp_avg_sq");
        TT_CHECK(known, who, ".load_state: unexpected entry '", key, "': ", who, " saves '<i>.exp_avg' and '<i>.exp_avg_sq' for its ",
                 count, " parameters (i from 0). Is this the state of another optimizer or model?");
        check_state_tensor(who, key, tensor, parameters_[entry->index], entry->index);
        (entry->name == "exp_avg" ? exp_avg : exp_avg_sq)[entry->index] = tensor.clone();
    }
    for (const auto& [key, value] : state.numbers) {
        if (key == "lr") continue;
        const std::optional<StateKey> entry = parse_state_key(key);
        TT_CHECK(entry && entry->index < count && entry->name == "step", who, ".load_state: unexpected number '", key, "': ", who,
                 " saves 'lr' and '<i>.step' for its ", count, " parameters. Is this the state of another optimizer or model?");
        TT_CHECK(value >= 1.0 && value == std::floor(value) && value < 9e15, who, ".load_state: '", key, "' is ", value,
                 ", not a step count (a whole number >= 1)");
        steps[entry->index] = static_cast<int64_t>(value);
    }
    for (size_t i = 0; i < count; ++i) {
        const bool has_m = exp_avg[i].defined(), has_v = exp_avg_sq[i].defined(), has_step = steps[i] > 0;
        TT_CHECK(has_m == has_v && has_v == has_step, who, ".load_state: parameter ", i, " has ", has_m ? "" : "no ", "'",
                 state_key(i, "exp_avg"), "', ", has_v ? "" : "no ", "'", state_key(i, "exp_avg_sq"), "' and ", has_step ? "" : "no ",
                 "'", state_key(i, "step"), "': the three come together");
    }
    exp_avg_ = std::move(exp_avg);
    exp_avg_sq_ = std::move(exp_avg_sq);
    steps_ = std::move(steps);
    if (auto it = state.numbers.find("lr"); it != state.numbers.end()) lr = static_cast<float>(it->second);
    //! END SOLUTION
}

AdamW::AdamW(std::vector<Tensor> parameters, AdamOptions options) : Adam(std::move(parameters), options) {}

void AdamW::step() {
    //! BEGIN SOLUTION
    //! HINT: Adam::step with decoupled weight decay.
    NoGradGuard no_grad;
    for (size_t i = 0; i < parameters_.size(); ++i) update(i, /*decoupled=*/true);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Gradient clipping
//
// One bad batch (an outlier, a loss spike in a transformer) can produce a gradient a thousand times
// larger than usual, and one step along it throws the weights somewhere training never recovers
// from. Clipping rescales the gradient when its norm is too large: the direction is kept, only the
// length is capped. The norm is over *all* gradients together, as one long vector, so the relative
// sizes of the layers' gradients are kept too (clipping each tensor on its own would change the
// direction).
// ---------------------------------------------------------------------------------------------

float clip_grad_norm_(const std::vector<Tensor>& parameters, float max_norm) {
    //! BEGIN SOLUTION
    //! HINT: check max_norm >= 0 (tt::Error naming clip_grad_norm_).
    //! HINT: total_norm = sqrt(sum of g^2 over the elements of every defined gradient) - accumulate in double: millions of squares summed in float lose the small ones.
    //! HINT: coefficient = max_norm / (total_norm + 1e-6); when it is < 1, multiply every gradient by it in place (mul_ on the .grad tensor: the parameters' gradients must change, not a copy). Return total_norm from before the clipping.
    TT_CHECK(max_norm >= 0.0f, "clip_grad_norm_: max_norm must be >= 0, got ", max_norm);
    NoGradGuard no_grad;
    double sum_of_squares = 0.0;
    for (const Tensor& p : parameters) {
        const Tensor grad = p.grad();
        if (!grad.defined()) continue;
        const Tensor g = grad.contiguous();
        const float* data = g.data();
        for (int64_t j = 0, n = g.numel(); j < n; ++j) sum_of_squares += static_cast<double>(data[j]) * data[j];
    }
    const double total_norm = std::sqrt(sum_of_squares);
    const double coefficient = max_norm / (total_norm + 1e-6);
    if (coefficient < 1.0) {
        for (const Tensor& p : parameters) {
            Tensor grad = p.grad();
            if (grad.defined()) grad.mul_(static_cast<float>(coefficient));
        }
    }
    return static_cast<float>(total_norm);
    //! END SOLUTION
}

}  // namespace tt::optim
