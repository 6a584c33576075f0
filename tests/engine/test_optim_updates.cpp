// test_optim_updates.cpp - engine tests of module 08's updates (engine/src/08_optimizers/optimizers.cpp):
// SGD, Adam, AdamW and clip_grad_norm_.
//
// Three kinds of check:
//   - hand-computed steps and numbers from PyTorch 1.13 (torch.optim with the hyperparameters
//     rounded to float32 first, as the engine holds them);
//   - a differential test over every option combination: the engine's update against a plain
//     double-precision transcription of the formulas in optim.h, on random parameters and
//     gradients, some parameters skipping some steps;
//   - errors, layouts, and training a small problem to convergence.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optim.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

using Values = std::vector<float>;

// Sets the gradient of `p`, or clears it for nullopt.
void set_gradient(tt::Tensor& p, const std::optional<Values>& g) { p.set_grad(g ? raw(*g, p.shape()) : tt::Tensor()); }

// ---- a double-precision transcription of optim.h's formulas, the oracle of the differential tests ----

struct ReferenceSGD {
    tt::optim::SGDOptions o;
    std::vector<std::vector<double>> buffers;  // empty: not created yet

    void step(std::vector<std::vector<double>>& params, const std::vector<std::optional<std::vector<double>>>& grads, double lr) {
        buffers.resize(params.size());
        for (size_t i = 0; i < params.size(); ++i) {
            if (!grads[i]) continue;
            std::vector<double>& p = params[i];
            std::vector<double> d = *grads[i];
            for (size_t j = 0; j < p.size(); ++j) d[j] += o.weight_decay * p[j];
            if (o.momentum != 0.0f) {
                std::vector<double>& b = buffers[i];
                if (b.empty()) {
                    b = d;
                } else {
                    for (size_t j = 0; j < p.size(); ++j) b[j] = o.momentum * b[j] + (1.0 - o.dampening) * d[j];
                }
                for (size_t j = 0; j < p.size(); ++j) d[j] = o.nesterov ? d[j] + o.momentum * b[j] : b[j];
            }
            for (size_t j = 0; j < p.size(); ++j) p[j] -= lr * d[j];
        }
    }
};

struct ReferenceAdam {
    tt::optim::AdamOptions o;
    bool decoupled = false;
    std::vector<std::vector<double>> m, v;
    std::vector<int> t;

    void step(std::vector<std::vector<double>>& params, const std::vector<std::optional<std::vector<double>>>& grads, double lr) {
        m.resize(params.size());
        v.resize(params.size());
        t.resize(params.size(), 0);
        for (size_t i = 0; i < params.size(); ++i) {
            if (!grads[i]) continue;
            std::vector<double>& p = params[i];
            if (m[i].empty()) m[i] = v[i] = std::vector<double>(p.size(), 0.0);
            const int step = ++t[i];
            const double c1 = 1 - std::pow(double(o.beta1), step), c2 = 1 - std::pow(double(o.beta2), step);
            for (size_t j = 0; j < p.size(); ++j) {
                double g = (*grads[i])[j];
                if (decoupled) p[j] *= 1 - lr * o.weight_decay;
                else g += o.weight_decay * p[j];
                m[i][j] = o.beta1 * m[i][j] + (1 - double(o.beta1)) * g;
                v[i][j] = o.beta2 * v[i][j] + (1 - double(o.beta2)) * g * g;
                p[j] -= lr / c1 * m[i][j] / (std::sqrt(v[i][j]) / std::sqrt(c2) + o.eps);
            }
        }
    }
};

// Runs `steps` steps of the engine's optimizer and of the reference on three random parameters of
// different shapes; parameter k has no gradient on the steps where (step + k) % 4 == 3 (so each
// misses a different step). Compares all of them after every step.
template <class Reference>
void differential(const std::string& what, tt::optim::Optimizer& optimizer, std::vector<tt::Tensor>& params, Reference reference,
                  int steps = 6) {
    std::vector<std::vector<double>> expected;
    for (const tt::Tensor& p : params) {
        const Values values = values_of(p);
        expected.emplace_back(values.begin(), values.end());
    }
    tt::Generator gen(99);
    for (int step = 0; step < steps; ++step) {
        std::vector<std::optional<std::vector<double>>> grads;
        for (size_t k = 0; k < params.size(); ++k) {
            if ((step + static_cast<int>(k)) % 4 == 3) {
                grads.emplace_back(std::nullopt);
                set_gradient(params[k], std::nullopt);
                continue;
            }
            Values g(static_cast<size_t>(params[k].numel()));
            for (float& x : g) x = gen.uniform(-2.0f, 2.0f);
            grads.emplace_back(std::vector<double>(g.begin(), g.end()));
            set_gradient(params[k], g);
        }
        optimizer.step();
        reference.step(expected, grads, optimizer.lr);
        for (size_t k = 0; k < params.size(); ++k) {
            INFO(what << ": step " << step + 1 << ", parameter " << k);
            Values as_float(expected[k].begin(), expected[k].end());
            CHECK_THAT(params[k], tensor_near(raw(as_float, params[k].shape()), 1e-5, 1e-5));
        }
    }
}

std::vector<tt::Tensor> three_parameters() {
    return {leaf(random_values({2, 3}, 1)), leaf(random_values({4}, 2)), leaf(random_values({}, 3))};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SGD
// ---------------------------------------------------------------------------------------------

TEST_CASE("optim: SGD steps computed by hand") {
    tt::Tensor w = leaf(nested({{1, 2}, {3, 4}}));
    tt::optim::SGD sgd({w}, {.lr = 0.5f});
    w.set_grad(nested({{1, 0}, {-2, 0.5f}}));
    sgd.step();
    CHECK_THAT(w, tensor_equal(nested({{0.5f, 2}, {4, 3.75f}})));
    sgd.step();  // the same gradient again: the update does not consume it
    CHECK_THAT(w, tensor_equal(nested({{0, 2}, {5, 3.5f}})));

    tt::Tensor u = leaf(nested({2, -4}));
    tt::optim::SGD momentum({u}, {.lr = 0.25f, .momentum = 0.5f, .dampening = 0.5f});
    u.set_grad(nested({4, 4}));
    momentum.step();  // b = (4, 4): 2 - 1, -4 - 1
    CHECK_THAT(u, tensor_equal(nested({1, -5})));
    momentum.step();  // b = 0.5 * 4 + 0.5 * 4 = 4
    CHECK_THAT(u, tensor_equal(nested({0, -6})));
}

TEST_CASE("optim: SGD matches PyTorch with momentum, Nesterov and weight decay") {
    // torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1), p = (1, -2, 3),
    // gradients (0.5, -1, 2), (1.5, 0.5, -0.5), (-1, 2, 0.25)
    tt::Tensor p = leaf(nested({1, -2, 3}));
    tt::optim::SGD sgd({p}, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.1f, .nesterov = true});
    const std::vector<Values> grads = {{0.5f, -1, 2}, {1.5f, 0.5f, -0.5f}, {-1, 2, 0.25f}};
    const std::vector<Values> expected = {{0.885999978f, -1.77199996f, 2.56299996f},
                                          {0.535565972f, -1.73613191f, 2.42300296f},
                                          {0.542973638f, -2.0218122f, 2.18153572f}};
    for (size_t s = 0; s < 3; ++s) {
        p.set_grad(raw(grads[s], {3}));
        sgd.step();
        CHECK_THAT(p, tensor_near(raw(expected[s], {3}), 1e-6, 1e-6));
    }
}

TEST_CASE("optim: SGD agrees with the formulas for every option combination") {
    for (float momentum : {0.0f, 0.9f}) {
        for (float dampening : {0.0f, 0.3f}) {
            for (bool nesterov : {false, true}) {
                if (nesterov && (momentum == 0.0f || dampening != 0.0f)) continue;
                for (float weight_decay : {0.0f, 0.05f}) {
                    const tt::optim::SGDOptions options{.lr = 0.07f, .momentum = momentum, .dampening = dampening,
                                                        .weight_decay = weight_decay, .nesterov = nesterov};
                    std::vector<tt::Tensor> params = three_parameters();
                    tt::optim::SGD sgd(params, options);
                    std::ostringstream what;
                    what << "SGD momentum=" << momentum << " dampening=" << dampening << " nesterov=" << nesterov
                         << " weight_decay=" << weight_decay;
                    differential(what.str(), sgd, params, ReferenceSGD{options, {}});
                }
            }
        }
    }
}

TEST_CASE("optim: SGD options are checked") {
    const std::vector<tt::Tensor> params = {leaf(nested({1}))};
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f, .nesterov = true}); }), Contains("SGD") && Contains("nesterov"));
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f, .momentum = 0.5f, .dampening = 0.5f, .nesterov = true}); }),
               Contains("dampening"));
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f, .momentum = -1}); }), Contains("SGD") && Contains("momentum"));
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f, .weight_decay = -1}); }), Contains("weight_decay"));
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = -1}); }), Contains("learning rate") && Contains("-1"));
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = std::nanf("")}); }), Contains("learning rate"));
}

// ---------------------------------------------------------------------------------------------
// Adam and AdamW
// ---------------------------------------------------------------------------------------------

TEST_CASE("optim: Adam's first step is lr * sign(g), bias correction included") {
    tt::Tensor w = leaf(nested({0, 0, 0, 0}));
    tt::optim::Adam adam({w}, {.lr = 0.01f});
    w.set_grad(nested({1e-3f, -1e3f, 0, 5}));
    adam.step();
    CHECK_THAT(w, tensor_near(nested({-0.01f, 0.01f, 0, -0.01f}), 1e-7, 1e-4));
}

TEST_CASE("optim: Adam and AdamW match PyTorch") {
    const std::vector<Values> grads = {{0.5f, -1, 2}, {1.5f, 0.5f, -0.5f}, {-1, 2, 0.25f}};
    SECTION("Adam(lr=0.1), steps 1, 2, 3") {
        tt::Tensor p = leaf(nested({1, -2, 3}));
        tt::optim::Adam adam({p}, {.lr = 0.1f});
        const std::vector<Values> expected = {{0.899999976f, -1.89999998f, 2.9000001f},
                                              {0.808221877f, -1.87336624f, 2.85305333f},
                                              {0.782431483f, -1.91909945f, 2.80932999f}};
        for (size_t s = 0; s < 3; ++s) {
            p.set_grad(raw(grads[s], {3}));
            adam.step();
            CHECK_THAT(p, tensor_near(raw(expected[s], {3}), 1e-6, 1e-6));
        }
    }
    SECTION("Adam(lr=0.1) at t = 10") {
        tt::Tensor p = leaf(nested({1, -2, 3}));
        tt::optim::Adam adam({p}, {.lr = 0.1f});
        for (size_t s = 0; s < 10; ++s) {
            p.set_grad(raw(grads[s % 3], {3}));
            adam.step();
        }
        CHECK_THAT(p, tensor_near(nested({0.528184891f, -2.1199224f, 2.44674373f}), 1e-6, 1e-6));
    }
    SECTION("Adam(lr=0.05, betas=(0.8, 0.9), eps=0.1)") {
        tt::Tensor p = leaf(nested({1, -2, 3}));
        tt::optim::Adam adam({p}, {.lr = 0.05f, .beta1 = 0.8f, .beta2 = 0.9f, .eps = 0.1f});
        for (size_t s = 0; s < 3; ++s) {
            p.set_grad(raw(grads[s], {3}));
            adam.step();
        }
        CHECK_THAT(p, tensor_near(nested({0.906871617f, -1.96970487f, 2.91366434f}), 1e-6, 1e-6));
    }
    SECTION("AdamW(lr=0.1, weight_decay=0.5)") {
        tt::Tensor p = leaf(nested({1, -2, 3}));
        tt::optim::AdamW adamw({p}, {.lr = 0.1f, .weight_decay = 0.5f});
        const std::vector<Values> expected = {{0.849999964f, -1.79999995f, 2.75f},
                                              {0.715721846f, -1.68336618f, 2.56555319f},
                                              {0.65414536f, -1.64493108f, 2.39355206f}};
        for (size_t s = 0; s < 3; ++s) {
            p.set_grad(raw(grads[s], {3}));
            adamw.step();
            CHECK_THAT(p, tensor_near(raw(expected[s], {3}), 1e-6, 1e-6));
        }
    }
}

TEST_CASE("optim: Adam and AdamW agree with the formulas, each parameter counting its own steps") {
    for (bool decoupled : {false, true}) {
        for (float weight_decay : {0.0f, 0.1f}) {
            for (float eps : {1e-8f, 0.05f}) {
                const tt::optim::AdamOptions options{.lr = 0.03f, .beta1 = 0.85f, .beta2 = 0.99f, .eps = eps, .weight_decay = weight_decay};
                std::vector<tt::Tensor> params = three_parameters();
                std::unique_ptr<tt::optim::Optimizer> optimizer;
                if (decoupled) optimizer = std::make_unique<tt::optim::AdamW>(params, options);
                else optimizer = std::make_unique<tt::optim::Adam>(params, options);
                std::ostringstream what;
                what << optimizer->name() << " weight_decay=" << weight_decay << " eps=" << eps;
                differential(what.str(), *optimizer, params, ReferenceAdam{options, decoupled, {}, {}, {}}, 12);
            }
        }
    }
}

TEST_CASE("optim: Adam options are checked") {
    const std::vector<tt::Tensor> params = {leaf(nested({1}))};
    CHECK_THAT(error_message([&] { tt::optim::Adam(params, {.beta1 = 1}); }), Contains("Adam") && Contains("beta1"));
    CHECK_THAT(error_message([&] { tt::optim::Adam(params, {.beta2 = -0.5f}); }), Contains("beta2"));
    CHECK_THAT(error_message([&] { tt::optim::AdamW(params, {.eps = -1}); }), Contains("eps"));
    CHECK_THAT(error_message([&] { tt::optim::AdamW(params, {.weight_decay = -1}); }), Contains("weight_decay"));
    CHECK_THAT(error_message([&] { tt::optim::Adam(params, {.lr = -1e-3f}); }), Contains("learning rate"));
}

// ---------------------------------------------------------------------------------------------
// What every optimizer shares
// ---------------------------------------------------------------------------------------------

TEST_CASE("optim: the constructor names the parameter it refuses") {
    tt::Tensor w = leaf(nested({1, 2}));
    CHECK_THAT(error_message([&] { tt::optim::SGD({w, tt::Tensor()}, {}); }), Contains("parameter 1") && Contains("undefined"));
    CHECK_THAT(error_message([&] { tt::optim::SGD({w * 2.0f}, {}); }),
               Contains("parameter 0") && Contains("(2)") && Contains("MulBackward"));
    CHECK_THAT(error_message([&] { tt::optim::Adam({w, w.detach(), w}, {}); }),
               Contains("parameter 1") && Contains("requires_grad"));
}

TEST_CASE("optim: updates are in place, bump the version, leave .grad and grad mode alone") {
    tt::Tensor w = leaf(nested({1, 2}));
    tt::Tensor u = leaf(nested({3, 4}));
    const tt::Tensor saved = (w * u).sum();  // MulBackward saved w (for du)
    const tt::Tensor g = nested({1, 1});
    w.set_grad(g);
    const float* memory = w.data();
    const int64_t version = w.version();
    tt::optim::AdamW adamw({w, u}, {.lr = 0.1f});
    adamw.step();
    CHECK(w.data() == memory);
    CHECK(w.version() == version + 1);
    CHECK(w.grad().is_same(g));
    CHECK_THAT(g, tensor_equal(nested({1, 1})));
    CHECK(tt::is_grad_enabled());
    CHECK(w.is_leaf());
    CHECK_FALSE(u.grad().defined());  // u had no gradient: untouched, no version change
    CHECK(u.version() == 0);
    CHECK_THAT(error_message([&] { saved.backward(); }), Contains("MulBackward") && Contains("version"));
}

TEST_CASE("optim: strided parameters and gradients") {
    tt::Tensor w = padded(nested({{1, 2, 3}, {4, 5, 6}}));
    w.requires_grad_();
    w.set_grad(nested({{1, 1, 1}, {2, 2, 2}}).t().contiguous().t());  // (2, 3) with column-major strides
    const int64_t version = w.version();
    tt::optim::SGD sgd({w}, {.lr = 1.0f, .momentum = 0.5f});
    sgd.step();
    CHECK_THAT(w, tensor_equal(nested({{0, 1, 2}, {2, 3, 4}})));
    CHECK(w.version() > version);
    for (float v : w.storage()->data) CHECK((v == 1e6f || v < 10.0f));  // the gaps are untouched
    sgd.step();  // b = 0.5 * g + g
    CHECK_THAT(w, tensor_equal(nested({{-1.5f, -0.5f, 0.5f}, {-1, 0, 1}})));
}

TEST_CASE("optim: zero_grad, and optimizers over nothing or empty tensors") {
    tt::Tensor a = leaf(nested({1})), b = leaf(raw({}, {0}));
    a.set_grad(nested({1}));
    b.set_grad(raw({}, {0}));
    tt::optim::Adam adam({a, b}, {});
    adam.step();
    adam.zero_grad();
    CHECK_FALSE(a.grad().defined());
    CHECK_FALSE(b.grad().defined());
    tt::optim::SGD nothing({}, {.lr = 0.1f, .momentum = 0.9f});
    nothing.step();
    nothing.zero_grad();
    CHECK(nothing.state().tensors.empty());
}

TEST_CASE("optim: each optimizer trains a linear regression to its solution") {
    // y = 2 x0 - 3 x1 + 0.5 on 64 random points: MSE has one minimum, every optimizer must find it.
    tt::Generator gen(5);
    const tt::Tensor x = tt::rand({64, 2}, &gen) * 2.0f - 1.0f;
    const tt::Tensor y = tt::matmul(x, nested({{2}, {-3}})) + 0.5f;
    for (int which = 0; which < 4; ++which) {
        tt::Generator init(7);
        tt::Linear model(2, 1, true, &init);
        std::unique_ptr<tt::optim::Optimizer> optimizer;
        if (which == 0) optimizer = std::make_unique<tt::optim::SGD>(model.parameters(), tt::optim::SGDOptions{.lr = 0.3f});
        if (which == 1)
            optimizer = std::make_unique<tt::optim::SGD>(model.parameters(),
                                                         tt::optim::SGDOptions{.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
        if (which == 2) optimizer = std::make_unique<tt::optim::Adam>(model.parameters(), tt::optim::AdamOptions{.lr = 0.05f});
        if (which == 3) optimizer = std::make_unique<tt::optim::AdamW>(model.parameters(), tt::optim::AdamOptions{.lr = 0.05f, .weight_decay = 0.0f});
        tt::optim::CosineAnnealingLR schedule(*optimizer, 400);
        float loss_value = 0.0f;
        for (int step = 0; step < 400; ++step) {
            optimizer->zero_grad();
            tt::Tensor loss = tt::mse_loss(model.forward(x), y);
            loss.backward();
            tt::optim::clip_grad_norm_(model.parameters(), 10.0f);
            optimizer->step();
            schedule.step();
            loss_value = loss.item();
        }
        INFO(optimizer->name() << " (case " << which << "): final loss " << loss_value << ", weight " << model.weight << ", bias "
                               << model.bias);
        CHECK(loss_value < 1e-4f);
        CHECK_THAT(model.weight, tensor_near(nested({{2, -3}}), 2e-2, 0));
        CHECK_THAT(model.bias, tensor_near(nested({0.5f}), 2e-2, 0));
    }
}

// ---------------------------------------------------------------------------------------------
// clip_grad_norm_
// ---------------------------------------------------------------------------------------------

TEST_CASE("optim: clip_grad_norm_ by hand and its edges") {
    tt::Tensor a = leaf(nested({0, 0})), b = leaf(nested({{0}, {0}})), none = leaf(nested({0}));
    a.set_grad(nested({3, 4}));
    b.set_grad(nested({{12}, {0}}));
    CHECK(tt::optim::clip_grad_norm_({a, none, b}, 1.0f) == Approx(13.0f));
    CHECK_THAT(a.grad(), tensor_near(nested({3.0f / 13, 4.0f / 13}), 1e-6, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(nested({{12.0f / 13}, {0}}), 1e-6, 1e-5));
    CHECK(tt::optim::clip_grad_norm_({a, b}, 1.0f) == Approx(1.0f).epsilon(1e-5));  // the norm is now 1 (less 1e-6)
    CHECK(tt::optim::clip_grad_norm_({none}, 1.0f) == 0.0f);
    CHECK_THAT(error_message([&] { tt::optim::clip_grad_norm_({a}, -0.5f); }), Contains("clip_grad_norm_") && Contains("-0.5"));

    // Large gradients: squares summed in double do not overflow float's range.
    tt::Tensor big = leaf(nested({0, 0}));
    big.set_grad(nested({3e20f, 4e20f}));
    CHECK(tt::optim::clip_grad_norm_({big}, 1.0f) == Approx(5e20f));
    CHECK_THAT(big.grad(), tensor_near(nested({0.6f, 0.8f}), 1e-6, 1e-5));

    tt::Tensor zero = leaf(nested({0, 0}));
    zero.set_grad(nested({0, 0}));
    CHECK(tt::optim::clip_grad_norm_({zero}, 0.0f) == 0.0f);  // 0 / (0 + 1e-6) = 0: zeros stay zeros
    CHECK_THAT(zero.grad(), tensor_equal(nested({0, 0})));
}
