// lr_scheduler.cpp - the [given] part of every learning-rate schedule (optim.h): counting steps
// and handing the optimizer its next learning rate. Module 08 writes what each schedule computes
// (lr_at) in engine/src/08_optimizers/schedulers.cpp.
//
// A schedule never keeps a running learning rate that it multiplies step after step (PyTorch's
// "chainable" form): it recomputes lr_at(step) from base_lr in closed form. Resuming a run then
// only needs the step count, and rounding errors cannot pile up over a million steps.
#include "tinytorch/optim.h"

namespace tt::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr) {}

void LRScheduler::start() { optimizer_.lr = lr_at(0); }

void LRScheduler::step() {
    ++steps_;
    optimizer_.lr = lr_at(steps_);
}

}  // namespace tt::optim
