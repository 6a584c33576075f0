// test_adam.cpp - module 08 grader: Adam and AdamW against PyTorch 1.13: bias correction at
// t = 1, 2, 3 and 10, L2 vs decoupled weight decay, where eps goes, and each parameter's own step
// count when some parameters have no gradient on some steps.
//
// p0 = (1, -2, 3) and the gradients g1, g2, g3 of optim_testing.h, unless a test says otherwise.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grading.h"
#include "optim_testing.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace tt::testing::optim;
using Catch::Matchers::Contains;

TEST_CASE("Adam's first step moves every element by lr in the direction of -g (bias correction at t = 1)", "[points=2]") {
    // t = 1: m = 0.1 g, v = 0.001 g^2; m / (1 - 0.9) = g and v / (1 - 0.999) = g^2, so the step is
    // lr * g / (|g| + eps): lr * sign(g), whatever the size of g. A zero gradient moves nothing.
    tt::Tensor w = leaf(nested({1, -2, 3, 4}));
    w.set_grad(nested({0.001f, -50, 2, 0}));
    tt::optim::Adam optimizer({w}, {.lr = 0.1f});
    CHECK(optimizer.name() == "Adam");
    optimizer.step();
    CHECK_THAT(w, tensor_near(nested({0.9f, -1.9f, 2.9f, 4}), 1e-5, 1e-5));
}

TEST_CASE("Adam over three steps (bias correction at t = 1 to 3)", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::Adam optimizer(params, {.lr = 0.1f});
    run_script(optimizer, params,
               script3({{0.899999976f, -1.89999998f, 2.9000001f}, {0.808221877f, -1.87336624f, 2.85305333f},
                        {0.782431483f, -1.91909945f, 2.80932999f}}));
}

TEST_CASE("Adam after ten steps (bias correction at t = 10)", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::Adam optimizer(params, {.lr = 0.1f});
    for (int t = 0; t < 10; ++t) {
        params[0].set_grad(raw(kGrads[static_cast<size_t>(t % 3)], {3}));
        optimizer.step();
    }
    CHECK_THAT(params[0], tensor_near(nested({0.528184891f, -2.1199224f, 2.44674373f}), 1e-5, 1e-5));
}

TEST_CASE("Adam with weight decay adds wd p to the gradient before the moments (L2)", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::Adam optimizer(params, {.lr = 0.1f, .weight_decay = 0.1f});
    run_script(optimizer, params,
               script3({{0.899999976f, -1.89999998f, 2.9000001f}, {0.806727529f, -1.85374725f, 2.84004164f},
                        {0.773728073f, -1.88636315f, 2.78048301f}}));
}

TEST_CASE("Adam with other betas and with gradients as small as eps: eps is added to sqrt(v_hat) outside the square root", "[points=2]") {
    // With eps = 0.1 the first step is lr * |g| / (|g| + 0.1): 0.05 * 0.5 / 0.6 = 0.041667 for g = 0.5.
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::Adam optimizer(params, {.lr = 0.05f, .beta1 = 0.8f, .beta2 = 0.9f, .eps = 0.1f});
    run_script(optimizer, params,
               script3({{0.958333313f, -1.9545455f, 2.9523809f}, {0.915816188f, -1.94505405f, 2.93232465f},
                        {0.906871617f, -1.96970487f, 2.91366434f}}));
    {  // gradients as small as eps
        // g = 1e-6: sqrt(v_hat) = 1e-6 is only 100 eps, so the step is lr * 1e-6 / (1e-6 + 1e-8) = 0.099.
        std::vector<tt::Tensor> params = make_parameters({kStart});
        tt::optim::Adam optimizer(params, {.lr = 0.1f});
        const std::vector<Step> script = {
            {{Values{1e-6f, -2e-7f, 0}}, {{0.900990129f, -1.90476191f, 3}}},
            {{Values{5e-7f, 1e-6f, -1e-7f}}, {{0.808936715f, -1.96377909f, 3.0651958f}}},
        };
        run_script(optimizer, params, script);
    }
}

TEST_CASE("Adam counts steps per parameter: one without gradient is skipped and its t does not advance", "[points=3]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::Adam optimizer(params, {.lr = 0.1f});
    // Parameter 1 has no gradient in step 2: in step 3 it takes its own second step (t = 2), whose
    // bias correction differs from the optimizer's third. Parameter 0 skips step 3 (t = 3 at step 4).
    const std::vector<Step> script = {
        {skip_grads(1), {{0.899999976f, -1.89999998f, 2.9000001f}, {0.400000006f, 0.349999994f}}},
        {skip_grads(2), {{0.808221877f, -1.87336624f, 2.85305333f}, {0.400000006f, 0.349999994f}}},
        {skip_grads(3), {{0.808221877f, -1.87336624f, 2.85305333f}, {0.303481787f, 0.376633704f}}},
        {skip_grads(4), {{0.782431483f, -1.91909945f, 2.80932999f}, {0.261472851f, 0.349364012f}}},
    };
    run_script(optimizer, params, script);
    {  // a parameter whose first gradient comes late takes its first step (t = 1) then
        std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
        tt::optim::Adam optimizer(params, {.lr = 0.1f});
        const std::vector<Step> script = {
            {{kGrads[0], std::nullopt}, {{0.899999976f, -1.89999998f, 2.9000001f}, kStart2}},
            {{kGrads[1], std::nullopt}, {{0.808221877f, -1.87336624f, 2.85305333f}, kStart2}},
            {{kGrads[2], Values{2, -4}}, {{0.782431483f, -1.91909945f, 2.80932999f}, {0.4f, 0.35f}}},  // lr * sign(g)
        };
        run_script(optimizer, params, script);
    }
}

TEST_CASE("AdamW decays the weights directly (p times 1 - lr wd) and not through the gradient", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::AdamW optimizer(params, {.lr = 0.1f, .weight_decay = 0.5f});
    CHECK(optimizer.name() == "AdamW");
    // step 1: (1, -2, 3) * (1 - 0.05) - 0.1 * sign(g1) = (0.85, -1.8, 2.75)
    run_script(optimizer, params,
               script3({{0.849999964f, -1.79999995f, 2.75f}, {0.715721846f, -1.68336618f, 2.56555319f},
                        {0.65414536f, -1.64493108f, 2.39355206f}}));
}

TEST_CASE("AdamW's default weight decay is 0.01; as PyTorch's", "[points=1]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::AdamW optimizer(params, {.lr = 0.1f, .weight_decay = 0.01f});
    CHECK(optimizer.options.weight_decay == 0.01f);
    tt::optim::AdamW defaults(params);
    CHECK(defaults.options.weight_decay == 0.01f);
    CHECK(defaults.lr == 1e-3f);
    run_script(optimizer, params,
               script3({{0.898999989f, -1.898f, 2.89700007f}, {0.806322873f, -1.86946833f, 2.84715629f},
                        {0.779726148f, -1.9133321f, 2.80058575f}}));
}

TEST_CASE("AdamW skips a parameter without gradient: no decay either; and its own step count", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::AdamW optimizer(params, {.lr = 0.1f, .weight_decay = 0.5f});
    const std::vector<Step> script = {
        {skip_grads(1), {{0.849999964f, -1.79999995f, 2.75f}, {0.375f, 0.337500006f}}},
        {skip_grads(2), {{0.715721846f, -1.68336618f, 2.56555319f}, {0.375f, 0.337500006f}}},
        {skip_grads(3), {{0.715721846f, -1.68336618f, 2.56555319f}, {0.25973177f, 0.347258717f}}},
        {skip_grads(4), {{0.65414536f, -1.64493108f, 2.39355206f}, {0.204736248f, 0.302626073f}}},
    };
    run_script(optimizer, params, script);
}

TEST_CASE("Adam and AdamW train a small model exactly as PyTorch", "[points=2]") {
    auto model = small_model();
    tt::optim::Adam optimizer(model->parameters(), {.lr = 0.05f});
    const std::vector<float> losses = train_small_model(*model, optimizer);
    CHECK_THAT(raw(losses, {3}), tensor_near(nested({1.12151456f, 0.90809834f, 0.730384707f}), 1e-5, 1e-5));
    const auto named = model->named_parameters();
    REQUIRE(named.size() == 4);
    CHECK_THAT(named[0].second, tensor_near(nested({{0.841827214f, -0.240245372f, -1.1012665f}, {0.42986691f, -0.684030652f, -0.549991608f},
                                                    {0.346027464f, 0.276022732f, -0.213289022f}, {-0.0511619747f, -0.423864633f, 0.217338651f}}),
                                            1e-5, 1e-5));
    CHECK_THAT(named[1].second, tensor_near(nested({-0.29273656f, 0.400292397f, -0.688304543f, 0.0696763992f}), 1e-5, 1e-5));
    CHECK_THAT(named[2].second, tensor_near(nested({{-0.429809481f, 0.0443128496f, -0.303658992f, -0.762485206f},
                                                    {0.0481026806f, 0.583319247f, 0.497752845f, 0.53806299f}}),
                                            1e-5, 1e-5));
    CHECK_THAT(named[3].second, tensor_near(nested({-0.0473884866f, 0.481610298f}), 1e-5, 1e-5));
    {  // AdamW
        auto model = small_model();
        tt::optim::AdamW optimizer(model->parameters(), {.lr = 0.05f, .weight_decay = 0.1f});
        const std::vector<float> losses = train_small_model(*model, optimizer);
        CHECK_THAT(raw(losses, {3}), tensor_near(nested({1.12151456f, 0.902140975f, 0.722360551f}), 1e-5, 1e-5));
        const auto named = model->named_parameters();
        REQUIRE(named.size() == 4);
        CHECK_THAT(named[0].second, tensor_near(nested({{0.829884827f, -0.237742215f, -1.08550858f}, {0.424903274f, -0.674929619f, -0.540309429f},
                                                        {0.34225297f, 0.270551741f, -0.208893448f}, {-0.048902344f, -0.419120967f, 0.214166224f}}),
                                                1e-5, 1e-5));
        CHECK_THAT(named[3].second, tensor_near(nested({-0.0480624326f, 0.473070264f}), 1e-5, 1e-5));
    }
}

TEST_CASE("Adam rejects betas outside 0 <= beta < 1 and negative eps or weight decay", "[points=1]") {
    const std::vector<tt::Tensor> params = {leaf(nested({1, 2}))};
    CHECK_THAT(error_message([&] { tt::optim::Adam(params, {.beta1 = 1.0f}); }), Contains("beta1"));
    CHECK_THAT(error_message([&] { tt::optim::Adam(params, {.beta1 = -0.1f}); }), Contains("beta1"));
    CHECK_THAT(error_message([&] { tt::optim::Adam(params, {.beta2 = 1.5f}); }), Contains("beta2"));
    CHECK_THAT(error_message([&] { tt::optim::AdamW(params, {.eps = -1e-8f}); }), Contains("eps"));
    CHECK_THAT(error_message([&] { tt::optim::Adam(params, {.weight_decay = -0.01f}); }), Contains("weight_decay"));
    tt::optim::Adam fine(params, {.beta1 = 0.0f, .beta2 = 0.0f, .eps = 0.0f});  // the edges that are allowed
    CHECK(fine.options.beta1 == 0.0f);
}
