// schedulers.cpp - module 08: learning-rate schedules.
//
// One learning rate is rarely right for a whole run. Early on, large steps cover ground fast; near
// a minimum they overshoot it, bouncing around at a loss floor set by lr (SGD's noise is about
// lr * gradient variance). Decaying lr lowers that floor: the last epochs of a run at a tenth of
// the rate typically gain several points of accuracy.
//
//     StepLR             lr ------+                  cut by gamma every step_size steps
//                                 +------+           (ResNet: 0.1 at epochs 30, 60, 90)
//                                        +-----
//     CosineAnnealingLR  lr ---..__              from base_lr to eta_min along half a cosine:
//                                   ``--..__     flat at both ends, steepest in the middle
//     LinearWarmupLR     /-------------------    from start_factor * base_lr up to base_lr
//     WarmupCosineLR     /---..__                warm-up, then cosine (GPT)
//                                 ``--..__
//
// Warm-up exists because of Adam: in the first steps its v is an average over a handful of
// gradients and can be tiny, making m / sqrt(v) steps huge; a large lr then throws the weights off
// before the statistics settle. Ramping lr up over the first few hundred or thousand steps avoids it.
//
// Every schedule is a pure function of the step count (lr_at), computed in closed form from
// base_lr (the optimizer's lr when the schedule was made): the given LRScheduler::step() (in
// engine/src/core/lr_scheduler.cpp) counts the steps and sets optimizer.lr = lr_at(steps()). The
// arithmetic is done in double and rounded to float once: a cosine near its end is a small
// difference of numbers close to 1.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "tinytorch/optim.h"

namespace tt::optim {

// ---------------------------------------------------------------------------------------------
// StepLR: base_lr * gamma^floor(step / step_size)
// ---------------------------------------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, float gamma)
    : LRScheduler(optimizer), step_size(step_size), gamma(gamma) {
    //! BEGIN SOLUTION
    //! HINT: check step_size > 0 (TT_CHECK naming StepLR and the value), then call start(): it sets the optimizer's lr to lr_at(0).
    TT_CHECK(step_size > 0, "StepLR: step_size must be > 0 (the number of steps between two decays), got step_size=", step_size);
    start();
    //! END SOLUTION
}

float StepLR::lr_at(int64_t step) const {
    //! BEGIN SOLUTION
    //! HINT: step / step_size in integers is already the floor (steps are >= 0). std::pow in double, then one cast to float.
    const auto decays = static_cast<double>(step / step_size);
    return static_cast<float>(base_lr_ * std::pow(static_cast<double>(gamma), decays));
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// CosineAnnealingLR: eta_min + (base_lr - eta_min) * (1 + cos(pi * step / t_max)) / 2, then eta_min
// ---------------------------------------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, float eta_min)
    : LRScheduler(optimizer), t_max(t_max), eta_min(eta_min) {
    //! BEGIN SOLUTION
    //! HINT: check t_max > 0, then start().
    TT_CHECK(t_max > 0, "CosineAnnealingLR: t_max must be > 0 (the number of steps from base_lr down to eta_min), got t_max=", t_max);
    start();
    //! END SOLUTION
}

float CosineAnnealingLR::lr_at(int64_t step) const {
    //! BEGIN SOLUTION
    //! HINT: at step 0 the cosine is 1 (lr = base_lr), at t_max it is -1 (lr = eta_min); past t_max stay at eta_min (a cosine would climb back up). std::numbers::pi is pi in double.
    //! HINT: divide in double: step / t_max in integers is 0 until the very end.
    if (step >= t_max) return eta_min;
    const double progress = static_cast<double>(step) / static_cast<double>(t_max);  // 0 -> 1
    const double low = eta_min, high = base_lr_;
    return static_cast<float>(low + (high - low) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0);
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// LinearWarmupLR: base_lr * (start_factor + (1 - start_factor) * min(step, warmup) / warmup)
// ---------------------------------------------------------------------------------------------

LinearWarmupLR::LinearWarmupLR(Optimizer& optimizer, int64_t warmup_steps, float start_factor)
    : LRScheduler(optimizer), warmup_steps(warmup_steps), start_factor(start_factor) {
    //! BEGIN SOLUTION
    //! HINT: check warmup_steps >= 0 and 0 < start_factor <= 1 (as PyTorch's LinearLR), then start().
    TT_CHECK(warmup_steps >= 0, "LinearWarmupLR: warmup_steps must be >= 0, got warmup_steps=", warmup_steps);
    TT_CHECK(start_factor > 0.0f && start_factor <= 1.0f, "LinearWarmupLR: start_factor must be in (0, 1], got start_factor=",
             start_factor, " (the first lr is start_factor * base_lr)");
    start();
    //! END SOLUTION
}

float LinearWarmupLR::lr_at(int64_t step) const {
    //! BEGIN SOLUTION
    //! HINT: step 0 gives start_factor * base_lr, step warmup_steps and after give base_lr. warmup_steps == 0 means no warm-up at all (base_lr from step 0; do not divide by 0).
    if (step >= warmup_steps) return base_lr_;
    const double progress = static_cast<double>(step) / static_cast<double>(warmup_steps);  // 0 -> 1
    return static_cast<float>(base_lr_ * (start_factor + (1.0 - start_factor) * progress));
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// WarmupCosineLR: base_lr * (step + 1) / warmup during the warm-up, then a cosine to min_lr
// ---------------------------------------------------------------------------------------------

WarmupCosineLR::WarmupCosineLR(Optimizer& optimizer, int64_t warmup_steps, int64_t total_steps, float min_lr)
    : LRScheduler(optimizer), warmup_steps(warmup_steps), total_steps(total_steps), min_lr(min_lr) {
    //! BEGIN SOLUTION
    //! HINT: check warmup_steps >= 0 and total_steps > warmup_steps (the cosine part needs at least one step), then start().
    TT_CHECK(warmup_steps >= 0, "WarmupCosineLR: warmup_steps must be >= 0, got warmup_steps=", warmup_steps);
    TT_CHECK(total_steps > warmup_steps, "WarmupCosineLR: total_steps must be greater than warmup_steps, got total_steps=",
             total_steps, " and warmup_steps=", warmup_steps);
    start();
    //! END SOLUTION
}

float WarmupCosineLR::lr_at(int64_t step) const {
    //! BEGIN SOLUTION
    //! HINT: the warm-up is step + 1 (not step) over warmup_steps: step 0 already trains, with base_lr / warmup_steps, and step warmup_steps - 1 reaches base_lr.
    //! HINT: after it, progress = (step - warmup_steps) / (total_steps - warmup_steps), capped at 1, goes into the same half cosine as CosineAnnealingLR, from base_lr down to min_lr.
    if (step < warmup_steps) return static_cast<float>(base_lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup_steps));
    const double progress =
        std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps));
    const double low = min_lr, high = base_lr_;
    return static_cast<float>(low + (high - low) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0);
    //! END SOLUTION
}

}  // namespace tt::optim
