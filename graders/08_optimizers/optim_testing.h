// optim_testing.h - module 08 grader helpers: run an optimizer over a scripted sequence of
// gradients and compare every parameter after every step with numbers computed by PyTorch 1.13.
//
// The gradients are set by hand (set_grad), not computed by backward(), so each test exercises the
// update alone: the expected values depend on nothing but the optimizer's formulas. The numbers
// came from torch.optim with the same settings, the hyperparameters rounded to float32 first
// (lr=0.1 is the float 0.100000001...), exactly as the engine holds them, e.g.:
//
//     p = torch.tensor([1., -2., 3.], requires_grad=True)
//     opt = torch.optim.SGD([p], lr=f32(0.1), momentum=f32(0.9))
//     for g in G3: p.grad = torch.tensor(g); opt.step(); print(p)
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

namespace tt::testing::optim {

using Values = std::vector<float>;

// The parameter and gradients most tests use: p0 = (1, -2, 3), then g1, g2, g3.
inline const Values kStart = {1, -2, 3};
inline const std::vector<Values> kGrads = {{0.5f, -1, 2}, {1.5f, 0.5f, -0.5f}, {-1, 2, 0.25f}};

// A second parameter (0.5, 0.25) for the "no gradient on some steps" scripts below.
inline const Values kStart2 = {0.5f, 0.25f};

// One step of a script: the gradient of each parameter (nullopt: no gradient this step, .grad
// undefined) and every parameter's expected values after the step.
struct Step {
    std::vector<std::optional<Values>> grads;
    std::vector<Values> expected;
};

// kGrads on parameter 0, (1, -1), none, (2, 0.5), (-1, 1) on parameter 1: parameter 0 has no
// gradient on step 3 and parameter 1 none on step 2, so their step counts differ.
inline std::vector<std::optional<Values>> skip_grads(int step) {
    switch (step) {
        case 1: return {kGrads[0], Values{1, -1}};
        case 2: return {kGrads[1], std::nullopt};
        case 3: return {std::nullopt, Values{2, 0.5f}};
        default: return {kGrads[2], Values{-1, 1}};
    }
}

// Fresh leaves (own storage, requires_grad) holding `starts`.
inline std::vector<Tensor> make_parameters(const std::vector<Values>& starts) {
    std::vector<Tensor> params;
    for (const Values& values : starts) params.push_back(leaf(raw(values, {static_cast<int64_t>(values.size())})));
    return params;
}

// Runs the script and checks every parameter after every step. Stops at the first wrong step (the
// later ones would only repeat the error). Tolerance: a few float32 roundings of numbers ~1.
inline void run_script(tt::optim::Optimizer& optimizer, std::vector<Tensor>& params, const std::vector<Step>& script,
                       double tolerance = 2e-6) {
    for (size_t s = 0; s < script.size(); ++s) {
        const Step& step = script[s];
        for (size_t k = 0; k < params.size(); ++k) {
            const std::optional<Values>& g = step.grads[k];
            params[k].set_grad(g ? raw(*g, params[k].shape()) : Tensor());
        }
        optimizer.step();
        bool all_ok = true;
        for (size_t k = 0; k < params.size(); ++k) {
            INFO("after step " << s + 1 << " of " << script.size() << ", parameter " << k
                               << (step.grads[k] ? "" : " (which had no gradient in this step)"));
            const Tensor expected = raw(step.expected[k], params[k].shape());
            const bool ok = TensorNear(expected, tolerance, tolerance).match(params[k]);
            CHECK_THAT(params[k], tensor_near(expected, tolerance, tolerance));
            all_ok = all_ok && ok;
        }
        if (!all_ok) return;
    }
}

// Scripts of one parameter with kGrads: expected values after steps 1, 2, 3.
inline std::vector<Step> script3(const std::vector<Values>& expected) {
    std::vector<Step> script;
    for (size_t s = 0; s < expected.size(); ++s) script.push_back({{kGrads[s]}, {expected[s]}});
    return script;
}

// ---------------------------------------------------------------------------------------------
// A small model, for end-to-end checks: Linear(3, 4) -> Tanh -> Linear(4, 2), fixed weights, MSE
// on 5 fixed examples. The expected weights after 3 steps come from the same model in PyTorch.
// ---------------------------------------------------------------------------------------------

inline void set_values(Tensor& t, const Tensor& values) {
    NoGradGuard no_grad;
    t.copy_(values);
}

inline std::shared_ptr<Sequential> small_model() {
    auto first = std::make_shared<Linear>(3, 4);
    auto second = std::make_shared<Linear>(4, 2);
    set_values(first->weight, nested({{0.77f, -0.15f, -1.09f}, {0.28f, -0.54f, -0.7f}, {0.2f, 0.42f, -0.36f}, {-0.2f, -0.3f, 0.09f}}));
    set_values(first->bias, nested({-0.43f, 0.55f, -0.54f, 0.06f}));
    set_values(second->weight, nested({{-0.28f, 0.19f, -0.45f, -0.75f}, {0.19f, 0.73f, 0.47f, 0.39f}}));
    set_values(second->bias, nested({0.1f, 0.63f}));
    return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{first, std::make_shared<Tanh>(), second});
}

inline Tensor small_inputs() {
    return nested({{-1.29f, -0.79f, -0.02f}, {-0.72f, 0.52f, -1.31f}, {0.19f, 0.54f, -2.22f}, {0.26f, -1.03f, -0.5f}, {0.27f, -0.92f, -0.04f}});
}

inline Tensor small_targets() {
    return nested({{0.29f, -0.01f}, {-0.91f, -1.09f}, {-0.27f, 0.19f}, {-0.22f, 2.06f}, {-0.04f, 0.06f}});
}

// Three steps of zero_grad, forward, MSE, backward, step. Returns the three losses.
inline std::vector<float> train_small_model(Module& model, tt::optim::Optimizer& optimizer) {
    std::vector<float> losses;
    const Tensor x = small_inputs(), y = small_targets();
    for (int step = 0; step < 3; ++step) {
        optimizer.zero_grad();
        Tensor loss = mse_loss(model.forward(x), y);
        loss.backward();
        optimizer.step();
        losses.push_back(values_of(loss)[0]);
    }
    return losses;
}

}  // namespace tt::testing::optim
