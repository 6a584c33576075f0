// test_schedulers.cpp - module 08 grader: the learning-rate schedules, step by step. StepLR,
// CosineAnnealingLR (up to t_max) and LinearWarmupLR match PyTorch's StepLR, CosineAnnealingLR and
// LinearLR (end_factor 1) with lr = 0.1; WarmupCosineLR is worked out from its formula in optim.h.
//
// A schedule is read twice: lr_at(step) directly, and optimizer.lr after construction (step 0)
// and after each schedule.step().
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grading.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

// Checks lr_at(s) and the optimizer's lr after s calls of step(), for s = 0 .. expected.size() - 1.
void check_schedule(tt::optim::LRScheduler& schedule, tt::optim::Optimizer& optimizer, const std::vector<float>& expected) {
    for (size_t s = 0; s < expected.size(); ++s) {
        INFO("step " << s);
        CHECK(schedule.lr_at(static_cast<int64_t>(s)) == Approx(expected[s]).epsilon(1e-5).margin(1e-9));
    }
    INFO("at construction the optimizer's lr must already be lr_at(0): call start() in the constructor");
    CHECK(optimizer.lr == Approx(expected[0]).epsilon(1e-5).margin(1e-9));
    for (size_t s = 1; s < expected.size(); ++s) {
        schedule.step();
        INFO("after " << s << " calls of step()");
        CHECK(schedule.steps() == static_cast<int64_t>(s));
        CHECK(optimizer.lr == Approx(expected[s]).epsilon(1e-5).margin(1e-9));
    }
}

struct Fixture {
    tt::Tensor w = leaf(nested({1, 2}));
    tt::optim::SGD optimizer{{w}, {.lr = 0.1f}};
};

}  // namespace

TEST_CASE("StepLR multiplies lr by gamma every step_size steps", "[points=2]") {
    Fixture f;
    tt::optim::StepLR schedule(f.optimizer, /*step_size=*/3, /*gamma=*/0.5f);
    CHECK(schedule.base_lr() == 0.1f);
    check_schedule(schedule, f.optimizer, {0.1f, 0.1f, 0.1f, 0.05f, 0.05f, 0.05f, 0.025f, 0.025f, 0.025f, 0.0125f});
}

TEST_CASE("CosineAnnealingLR goes from base_lr to eta_min along half a cosine; then stays at eta_min", "[points=2]") {
    Fixture f;
    tt::optim::CosineAnnealingLR schedule(f.optimizer, /*t_max=*/8, /*eta_min=*/0.01f);
    check_schedule(schedule, f.optimizer,
                   {0.1f, 0.0965745822f, 0.0868198052f, 0.0722207576f, 0.055f, 0.0377792455f, 0.0231801942f, 0.013425421f, 0.01f,
                    0.01f, 0.01f});
    {  // the default eta_min is 0; halfway the lr is base_lr / 2
        Fixture f;
        tt::optim::CosineAnnealingLR schedule(f.optimizer, /*t_max=*/4);
        check_schedule(schedule, f.optimizer, {0.1f, 0.0853553414f, 0.05f, 0.014644661f, 0.0f, 0.0f});
    }
}

TEST_CASE("LinearWarmupLR rises from start_factor base_lr to base_lr in warmup_steps; then stays", "[points=2]") {
    Fixture f;
    tt::optim::LinearWarmupLR schedule(f.optimizer, /*warmup_steps=*/4, /*start_factor=*/0.25f);
    check_schedule(schedule, f.optimizer, {0.025f, 0.04375f, 0.0625f, 0.08125f, 0.1f, 0.1f, 0.1f});
}

TEST_CASE("LinearWarmupLR's default start factor is 1/3; and 0 warm-up steps mean none", "[points=1]") {
    Fixture f;
    tt::optim::LinearWarmupLR schedule(f.optimizer, /*warmup_steps=*/3);
    check_schedule(schedule, f.optimizer, {0.0333333351f, 0.055555556f, 0.0777777806f, 0.1f, 0.1f});
    Fixture g;
    tt::optim::LinearWarmupLR none(g.optimizer, /*warmup_steps=*/0, 0.5f);
    check_schedule(none, g.optimizer, {0.1f, 0.1f, 0.1f});
}

TEST_CASE("WarmupCosineLR: (step + 1) / warmup of base_lr then a cosine down to min_lr then min_lr", "[points=2]") {
    Fixture f;
    tt::optim::WarmupCosineLR schedule(f.optimizer, /*warmup_steps=*/3, /*total_steps=*/8, /*min_lr=*/0.01f);
    // warm-up: 0.1 * 1/3, 0.1 * 2/3, 0.1 * 3/3; then 0.01 + 0.09 * (1 + cos(pi * (s - 3) / 5)) / 2
    check_schedule(schedule, f.optimizer,
                   {0.0333333351f, 0.0666666701f, 0.1f, 0.1f, 0.0914057642f, 0.0689057633f, 0.0410942361f, 0.0185942352f, 0.01f,
                    0.01f, 0.01f});
    {  // without warm-up: a cosine, to 0 by default
        Fixture f;
        tt::optim::WarmupCosineLR schedule(f.optimizer, /*warmup_steps=*/0, /*total_steps=*/4);
        check_schedule(schedule, f.optimizer, {0.1f, 0.0853553414f, 0.05f, 0.014644661f, 0.0f, 0.0f});
    }
}

TEST_CASE("lr_at is a pure function of the step; computed from the lr at construction", "[points=1]") {
    Fixture f;
    f.optimizer.lr = 0.4f;
    tt::optim::StepLR schedule(f.optimizer, 2, 0.5f);
    CHECK(schedule.base_lr() == 0.4f);
    CHECK(schedule.lr_at(5) == Approx(0.1f));
    CHECK(schedule.lr_at(5) == Approx(0.1f));  // asking twice changes nothing
    CHECK(schedule.lr_at(1) == Approx(0.4f));  // nor does asking out of order
    CHECK(schedule.steps() == 0);
    CHECK(f.optimizer.lr == Approx(0.4f));
    f.optimizer.lr = 123.0f;  // the optimizer's current lr is not the base: the schedule remembers its own
    schedule.step();
    schedule.step();
    CHECK(f.optimizer.lr == Approx(0.2f));
}

TEST_CASE("a schedule drives the optimizer's steps", "[points=2]") {
    tt::Tensor w = leaf(nested({1, 1}));
    tt::optim::SGD optimizer({w}, {.lr = 0.1f});
    tt::optim::StepLR schedule(optimizer, /*step_size=*/1, /*gamma=*/0.5f);
    for (int i = 0; i < 3; ++i) {
        w.set_grad(nested({1, -1}));
        optimizer.step();  // lr 0.1, then 0.05, then 0.025
        schedule.step();
    }
    CHECK_THAT(w, tensor_near(nested({0.825f, 1.175f}), 1e-6, 1e-6));
    tt::Tensor v = leaf(nested({1, 1}));
    tt::optim::Adam adam({v}, {.lr = 0.2f});
    tt::optim::LinearWarmupLR warmup(adam, /*warmup_steps=*/2, /*start_factor=*/0.5f);
    for (int i = 0; i < 3; ++i) {
        v.set_grad(nested({1, -1}));  // a constant gradient: every Adam step is lr * sign(g)
        adam.step();                  // lr 0.1, 0.15, 0.2
        warmup.step();
    }
    CHECK_THAT(v, tensor_near(nested({0.55f, 1.45f}), 1e-5, 1e-5));
}

TEST_CASE("schedules reject settings that make no sense; naming the schedule", "[points=1]") {
    Fixture f;
    CHECK_THAT(error_message([&] { tt::optim::StepLR(f.optimizer, 0); }), Contains("StepLR"));
    CHECK_THAT(error_message([&] { tt::optim::CosineAnnealingLR(f.optimizer, 0); }), Contains("CosineAnnealingLR"));
    CHECK_THAT(error_message([&] { tt::optim::LinearWarmupLR(f.optimizer, -1); }), Contains("LinearWarmupLR"));
    CHECK_THAT(error_message([&] { tt::optim::LinearWarmupLR(f.optimizer, 5, 0.0f); }), Contains("LinearWarmupLR"));
    CHECK_THAT(error_message([&] { tt::optim::LinearWarmupLR(f.optimizer, 5, 1.5f); }), Contains("LinearWarmupLR"));
    CHECK_THAT(error_message([&] { tt::optim::WarmupCosineLR(f.optimizer, 10, 10); }), Contains("WarmupCosineLR"));
    CHECK_THAT(error_message([&] { tt::optim::WarmupCosineLR(f.optimizer, -1, 10); }), Contains("WarmupCosineLR"));
    CHECK(f.optimizer.lr == 0.1f);  // a refused schedule leaves the lr alone
}
