// test_sgd.cpp - module 08 grader: SGD, every option and combination, against PyTorch 1.13.
//
// p0 = (1, -2, 3) and the gradients g1 = (0.5, -1, 2), g2 = (1.5, 0.5, -0.5), g3 = (-1, 2, 0.25)
// (optim_testing.h); the expected values are torch.optim.SGD's with the same settings.
#include <catch2/catch.hpp>

#include <vector>

#include "grading.h"
#include "optim_testing.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace tt::testing::optim;
using Catch::Matchers::Contains;

TEST_CASE("SGD without momentum: p -= lr g over three steps", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::SGD optimizer(params, {.lr = 0.1f});
    CHECK(optimizer.name() == "SGD");
    // (1, -2, 3) - 0.1 * (0.5, -1, 2) = (0.95, -1.9, 2.8), and so on.
    run_script(optimizer, params, script3({{0.95f, -1.9f, 2.8f}, {0.8f, -1.95f, 2.85f}, {0.9f, -2.15f, 2.825f}}));
}

TEST_CASE("SGD with weight decay adds wd p to the gradient", "[points=1]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::SGD optimizer(params, {.lr = 0.1f, .weight_decay = 0.5f});
    // step 1: (1, -2, 3) - 0.1 * ((0.5, -1, 2) + 0.5 * (1, -2, 3)) = (0.9, -1.8, 2.65)
    run_script(optimizer, params,
               script3({{0.9f, -1.8f, 2.6500001f}, {0.704999983f, -1.75999999f, 2.56750011f}, {0.769749999f, -1.87199998f, 2.4141252f}}));
}

TEST_CASE("SGD momentum: the buffer starts as the first gradient; then b = momentum b + g", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::SGD optimizer(params, {.lr = 0.1f, .momentum = 0.9f});
    // step 1: b = g1 (not 0.9 * 0 + g1 scaled down: PyTorch copies it), so the step equals plain SGD's.
    // step 2: b = 0.9 * (0.5, -1, 2) + (1.5, 0.5, -0.5) = (1.95, -0.4, 1.3); p = (0.95, -1.9, 2.8) - 0.1 b
    run_script(optimizer, params,
               script3({{0.949999988f, -1.89999998f, 2.79999995f}, {0.754999995f, -1.86000001f, 2.66999984f},
                        {0.679499984f, -2.02399993f, 2.52799988f}}));
}

TEST_CASE("SGD momentum with dampening: (1 - dampening) g from the second step on; not on the first", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::SGD optimizer(params, {.lr = 0.1f, .momentum = 0.9f, .dampening = 0.5f});
    // step 1: b = g1 (undamped); step 2: b = 0.9 * g1 + 0.5 * g2 = (1.2, -0.65, 1.55)
    run_script(optimizer, params,
               script3({{0.949999988f, -1.89999998f, 2.79999995f}, {0.829999983f, -1.83499992f, 2.64499998f},
                        {0.771999955f, -1.87649989f, 2.49300003f}}));
}

TEST_CASE("SGD Nesterov steps with g + momentum b; using the buffer after this step's update", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::SGD optimizer(params, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
    // step 1: b = g1, d = g1 + 0.9 * g1 = 1.9 g1: p = (1, -2, 3) - 0.19 * (0.5, -1, 2) = (0.905, -1.81, 2.62)
    run_script(optimizer, params,
               script3({{0.904999971f, -1.80999994f, 2.61999989f}, {0.57949996f, -1.824f, 2.55299997f},
                        {0.611549973f, -2.1716001f, 2.40019989f}}));
}

TEST_CASE("SGD Nesterov with weight decay: the decay is part of the gradient the momentum averages", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::SGD optimizer(params, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.1f, .nesterov = true});
    run_script(optimizer, params,
               script3({{0.885999978f, -1.77199996f, 2.56299996f}, {0.535565972f, -1.73613191f, 2.42300296f},
                        {0.542973638f, -2.0218122f, 2.18153572f}}));
}

TEST_CASE("SGD momentum with dampening and weight decay together", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::SGD optimizer(params, {.lr = 0.1f, .momentum = 0.8f, .dampening = 0.3f, .weight_decay = 0.2f});
    run_script(optimizer, params,
               script3({{0.930000007f, -1.86000001f, 2.74000001f}, {0.755980015f, -1.75696003f, 2.52864003f},
                        {0.676180303f, -1.78993058f, 2.30665112f}}));
}

TEST_CASE("SGD skips a parameter without gradient: no move and no decay and its momentum neither created nor advanced",
          "[points=3]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::SGD optimizer(params, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.1f});
    // Parameter 1 has no gradient in step 2 (it keeps its values although its buffer exists), and
    // parameter 0 none in step 3; each buffer continues where it was when the gradient comes back.
    const std::vector<Step> script = {
        {skip_grads(1), {{0.939999998f, -1.88f, 2.76999998f}, {0.395000011f, 0.347499996f}}},
        {skip_grads(2), {{0.726599991f, -1.80320001f, 2.58529997f}, {0.395000011f, 0.347499996f}}},
        {skip_grads(3), {{0.726599991f, -1.80320001f, 2.58529997f}, {0.0965500101f, 0.381774992f}}},
        {skip_grads(4), {{0.627273977f, -1.91604805f, 2.36821699f}, {-0.073020488f, 0.30880475f}}},
    };
    run_script(optimizer, params, script);
    {  // a parameter whose first gradient comes late starts its buffer then, as that gradient
        std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
        tt::optim::SGD optimizer(params, {.lr = 0.1f, .momentum = 0.9f, .dampening = 0.5f});
        // Parameter 1: no gradient in steps 1-2; in step 3 its buffer is created as (2, 4) itself.
        const std::vector<Step> script = {
            {{kGrads[0], std::nullopt}, {{0.949999988f, -1.89999998f, 2.79999995f}, kStart2}},
            {{kGrads[1], std::nullopt}, {{0.829999983f, -1.83499992f, 2.64499998f}, kStart2}},
            {{kGrads[2], Values{2, 4}}, {{0.771999955f, -1.87649989f, 2.49300003f}, {0.3f, -0.15f}}},
            {{std::nullopt, Values{1, 1}}, {{0.771999955f, -1.87649989f, 2.49300003f}, {0.07f, -0.56f}}},  // b = 0.9 b + 0.5
        };
        run_script(optimizer, params, script);
    }
}

TEST_CASE("SGD with Nesterov momentum and weight decay trains a small model exactly as PyTorch", "[points=2]") {
    auto model = small_model();
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f, .nesterov = true});
    const std::vector<float> losses = train_small_model(*model, optimizer);
    CHECK_THAT(raw(losses, {3}), tensor_near(nested({1.12151456f, 0.785615623f, 0.580248058f}), 1e-5, 1e-5));
    const auto named = model->named_parameters();
    REQUIRE(named.size() == 4);
    CHECK_THAT(named[0].second, tensor_near(nested({{0.774324536f, -0.172908902f, -1.09406483f}, {0.403484464f, -0.562573552f, -0.529734373f},
                                                    {0.268796742f, 0.312017739f, -0.171101511f}, {-0.155472502f, -0.38882342f, 0.120337337f}}),
                                            1e-5, 1e-5));
    CHECK_THAT(named[1].second, tensor_near(nested({-0.406676024f, 0.374205768f, -0.632646799f, 0.0866617411f}), 1e-5, 1e-5));
    CHECK_THAT(named[2].second, tensor_near(nested({{-0.385169655f, -0.0397117399f, -0.383697391f, -0.74108094f},
                                                    {0.0680499598f, 0.368258655f, 0.455816209f, 0.454779893f}}),
                                            1e-5, 1e-5));
    CHECK_THAT(named[3].second, tensor_near(nested({-0.195318311f, 0.121904045f}), 1e-5, 1e-5));
}

TEST_CASE("SGD rejects Nesterov without momentum or with dampening; and negative momentum or weight decay", "[points=1]") {
    const std::vector<tt::Tensor> params = {leaf(nested({1, 2}))};
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f, .nesterov = true}); }), Contains("nesterov") || Contains("Nesterov"));
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f, .momentum = 0.9f, .dampening = 0.1f, .nesterov = true}); }),
               Contains("nesterov") || Contains("Nesterov"));
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f, .momentum = -0.9f}); }), Contains("momentum"));
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f, .weight_decay = -0.1f}); }), Contains("weight_decay"));
    tt::optim::SGD fine(params, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true});  // the valid combination
    CHECK(fine.options.nesterov);
}
