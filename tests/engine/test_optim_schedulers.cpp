// test_optim_schedulers.cpp - engine tests of module 08's learning-rate schedules
// (engine/src/08_optimizers/schedulers.cpp) and the given LRScheduler base (engine/src/core/).
// StepLR, CosineAnnealingLR and LinearWarmupLR against PyTorch 1.13's StepLR, CosineAnnealingLR
// and LinearLR with lr = 0.1; WarmupCosineLR against its formula.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "grading.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

struct Fixture {
    tt::Tensor w = leaf(nested({1}));
    tt::optim::SGD optimizer{{w}, {.lr = 0.1f}};
};

// The lr the optimizer holds after construction and after each of expected.size() - 1 steps.
void check_lrs(tt::optim::LRScheduler& schedule, const tt::optim::Optimizer& optimizer, const std::vector<double>& expected) {
    for (size_t s = 0; s < expected.size(); ++s) {
        INFO("step " << s);
        if (s > 0) schedule.step();
        CHECK(schedule.steps() == static_cast<int64_t>(s));
        CHECK(optimizer.lr == Approx(expected[s]).epsilon(1e-6).margin(1e-10));
        CHECK(schedule.lr_at(static_cast<int64_t>(s)) == optimizer.lr);
    }
}

}  // namespace

TEST_CASE("schedulers: StepLR matches PyTorch") {
    Fixture f;
    tt::optim::StepLR schedule(f.optimizer, 3, 0.5f);
    check_lrs(schedule, f.optimizer, {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025});
    CHECK(schedule.lr_at(300) == Approx(0.1 * std::pow(0.5, 100)).epsilon(1e-5));  // tiny, not 0 and not NaN
}

TEST_CASE("schedulers: CosineAnnealingLR matches PyTorch up to t_max and stays at eta_min after") {
    Fixture f;
    tt::optim::CosineAnnealingLR schedule(f.optimizer, 8, 0.01f);
    check_lrs(schedule, f.optimizer,
              {0.1, 0.0965745822, 0.0868198052, 0.0722207576, 0.055, 0.0377792455, 0.0231801942, 0.013425421, 0.01, 0.01, 0.01});
    CHECK(schedule.lr_at(1000000) == 0.01f);
    Fixture g;
    tt::optim::CosineAnnealingLR long_run(g.optimizer, 1000000);
    CHECK(long_run.lr_at(999999) > 0.0f);  // double arithmetic: the last steps do not round to 0 early
    CHECK(long_run.lr_at(999999) < 1e-12f);
}

TEST_CASE("schedulers: LinearWarmupLR matches PyTorch's LinearLR") {
    Fixture f;
    tt::optim::LinearWarmupLR schedule(f.optimizer, 4, 0.25f);
    check_lrs(schedule, f.optimizer, {0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1});
    Fixture g;
    tt::optim::LinearWarmupLR defaults(g.optimizer, 3);
    check_lrs(defaults, g.optimizer, {0.1 / 3, 0.1 * 5 / 9, 0.1 * 7 / 9, 0.1, 0.1});
    Fixture h;
    tt::optim::LinearWarmupLR none(h.optimizer, 0);
    check_lrs(none, h.optimizer, {0.1, 0.1});
}

TEST_CASE("schedulers: WarmupCosineLR follows its formula") {
    Fixture f;
    tt::optim::WarmupCosineLR schedule(f.optimizer, 3, 8, 0.01f);
    std::vector<double> expected;
    for (int s = 0; s <= 10; ++s) {
        if (s < 3) {
            expected.push_back(0.1 * (s + 1) / 3);
        } else {
            const double progress = std::min(1.0, (s - 3) / 5.0);
            expected.push_back(0.01 + 0.09 * (1 + std::cos(std::numbers::pi * progress)) / 2);
        }
    }
    check_lrs(schedule, f.optimizer, expected);
    CHECK(expected[3] == Approx(0.1));  // the end of the warm-up is the start of the cosine
}

TEST_CASE("schedulers: settings are checked and a refused schedule changes nothing") {
    Fixture f;
    CHECK_THAT(error_message([&] { tt::optim::StepLR(f.optimizer, 0); }), Contains("StepLR") && Contains("step_size"));
    CHECK_THAT(error_message([&] { tt::optim::CosineAnnealingLR(f.optimizer, -3); }), Contains("CosineAnnealingLR") && Contains("-3"));
    CHECK_THAT(error_message([&] { tt::optim::LinearWarmupLR(f.optimizer, -1); }), Contains("warmup_steps"));
    CHECK_THAT(error_message([&] { tt::optim::LinearWarmupLR(f.optimizer, 2, 0.0f); }), Contains("start_factor"));
    CHECK_THAT(error_message([&] { tt::optim::LinearWarmupLR(f.optimizer, 2, 2.0f); }), Contains("start_factor"));
    CHECK_THAT(error_message([&] { tt::optim::WarmupCosineLR(f.optimizer, 5, 5); }), Contains("WarmupCosineLR") && Contains("total_steps"));
    CHECK_THAT(error_message([&] { tt::optim::WarmupCosineLR(f.optimizer, -1, 5); }), Contains("warmup_steps"));
    CHECK(f.optimizer.lr == 0.1f);
}

TEST_CASE("schedulers: base_lr is the lr at construction; the schedule sets the lr step() uses") {
    tt::Tensor w = leaf(nested({0}));
    tt::optim::SGD sgd({w}, {.lr = 1.0f});
    tt::optim::StepLR schedule(sgd, 1, 0.5f);
    CHECK(schedule.base_lr() == 1.0f);
    for (int i = 0; i < 4; ++i) {
        w.set_grad(nested({1}));
        sgd.step();  // 1, 0.5, 0.25, 0.125
        schedule.step();
    }
    CHECK_THAT(w, tensor_equal(nested({-1.875f})));
    CHECK(sgd.lr == 0.0625f);
}
