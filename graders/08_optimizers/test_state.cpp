// test_state.cpp - module 08 grader: state() and load_state(), what a checkpoint (module 10) saves
// so that a run can resume exactly where it stopped.
//
// Keys (optim.h): tensors "<i>.momentum_buffer" (SGD), "<i>.exp_avg" and "<i>.exp_avg_sq" (Adam);
// numbers "lr" and "<i>.step" (Adam). The values after two steps of the "skip" script (parameter 1
// has no gradient in step 2) are PyTorch's optimizer.state_dict()['state'].
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "grading.h"
#include "optim_testing.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace tt::testing::optim;
using Catch::Matchers::Contains;

namespace {

std::set<std::string> tensor_keys(const tt::optim::OptimizerState& state) {
    std::set<std::string> keys;
    for (const auto& [key, tensor] : state.tensors) keys.insert(key);
    return keys;
}

std::set<std::string> number_keys(const tt::optim::OptimizerState& state) {
    std::set<std::string> keys;
    for (const auto& [key, value] : state.numbers) keys.insert(key);
    return keys;
}

// Steps 1 and 2 of the skip script, gradients set by hand.
void two_skip_steps(tt::optim::Optimizer& optimizer, std::vector<tt::Tensor>& params) {
    for (int step = 1; step <= 2; ++step) {
        const auto grads = skip_grads(step);
        for (size_t k = 0; k < params.size(); ++k) params[k].set_grad(grads[k] ? raw(*grads[k], params[k].shape()) : tt::Tensor());
        optimizer.step();
    }
}

// Steps 3 and 4 of the skip script, checked against PyTorch (whose run never stopped).
std::vector<Step> sgd_steps_3_4() {
    return {{skip_grads(3), {{0.754999995f, -1.86000001f, 2.66999984f}, {0.109999992f, 0.389999986f}}},
            {skip_grads(4), {{0.679499984f, -2.02399993f, 2.52799988f}, {-0.0510000251f, 0.325999975f}}}};
}
std::vector<Step> adam_steps_3_4() {
    return {{skip_grads(3), {{0.808221877f, -1.87336624f, 2.85305333f}, {0.303481787f, 0.376633704f}}},
            {skip_grads(4), {{0.782431483f, -1.91909945f, 2.80932999f}, {0.261472851f, 0.349364012f}}}};
}

}  // namespace

TEST_CASE("SGD's state: lr and one momentum buffer per parameter that has one", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::SGD optimizer(params, {.lr = 0.1f, .momentum = 0.9f});
    const tt::optim::OptimizerState fresh = optimizer.state();
    CHECK(fresh.tensors.empty());  // no step yet: no buffer
    CHECK(number_keys(fresh) == std::set<std::string>{"lr"});
    two_skip_steps(optimizer, params);
    const tt::optim::OptimizerState state = optimizer.state();
    CHECK(tensor_keys(state) == std::set<std::string>{"0.momentum_buffer", "1.momentum_buffer"});
    CHECK(number_keys(state) == std::set<std::string>{"lr"});
    CHECK(state.numbers.at("lr") == Approx(0.1));
    REQUIRE(tensor_keys(state).size() == 2);
    CHECK_THAT(state.tensors.at("0.momentum_buffer"), tensor_near(nested({1.95000005f, -0.399999976f, 1.29999995f}), 1e-6, 1e-6));
    CHECK_THAT(state.tensors.at("1.momentum_buffer"), tensor_near(nested({1, -1}), 1e-6, 1e-6));  // not advanced in step 2

    std::vector<tt::Tensor> plain_params = make_parameters({kStart});
    tt::optim::SGD plain(plain_params, {.lr = 0.1f});
    plain_params[0].set_grad(raw(kGrads[0], {3}));
    plain.step();
    CHECK(plain.state().tensors.empty());  // SGD without momentum keeps nothing
}

TEST_CASE("Adam's state: lr plus exp_avg and exp_avg_sq and step of every parameter that has stepped", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::Adam optimizer(params, {.lr = 0.1f});
    CHECK(optimizer.state().tensors.empty());
    two_skip_steps(optimizer, params);
    const tt::optim::OptimizerState state = optimizer.state();
    CHECK(tensor_keys(state) == std::set<std::string>{"0.exp_avg", "0.exp_avg_sq", "1.exp_avg", "1.exp_avg_sq"});
    CHECK(number_keys(state) == std::set<std::string>{"lr", "0.step", "1.step"});
    REQUIRE(tensor_keys(state).size() == 4);
    REQUIRE(number_keys(state).size() == 3);
    CHECK(state.numbers.at("0.step") == 2);
    CHECK(state.numbers.at("1.step") == 1);  // parameter 1 had no gradient in step 2
    CHECK_THAT(state.tensors.at("0.exp_avg"), tensor_near(nested({0.195000052f, -0.0400000066f, 0.130000025f}), 1e-7, 1e-5));
    CHECK_THAT(state.tensors.at("0.exp_avg_sq"), tensor_near(nested({0.00249971775f, 0.0012489839f, 0.00424594525f}), 1e-8, 1e-5));
    CHECK_THAT(state.tensors.at("1.exp_avg"), tensor_near(nested({0.1f, -0.1f}), 1e-7, 1e-5));
    CHECK_THAT(state.tensors.at("1.exp_avg_sq"), tensor_near(nested({0.000999987125f, 0.000999987125f}), 1e-8, 1e-5));  // (1 - beta2) g^2
}

TEST_CASE("state() returns copies: later steps do not change a saved state", "[points=1]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::Adam adam(params, {.lr = 0.1f});
    two_skip_steps(adam, params);
    const tt::optim::OptimizerState saved = adam.state();
    const std::vector<float> m = values_of(saved.tensors.at("0.exp_avg"));
    params[0].set_grad(raw(kGrads[2], {3}));
    adam.step();
    CHECK_THAT(saved.tensors.at("0.exp_avg"), tensor_equal(raw(m, {3})));
    CHECK(saved.numbers.at("0.step") == 2);

    std::vector<tt::Tensor> more = make_parameters({kStart});
    tt::optim::SGD sgd(more, {.lr = 0.1f, .momentum = 0.9f});
    more[0].set_grad(raw(kGrads[0], {3}));
    sgd.step();
    const tt::optim::OptimizerState sgd_saved = sgd.state();
    more[0].set_grad(raw(kGrads[1], {3}));
    sgd.step();
    CHECK_THAT(sgd_saved.tensors.at("0.momentum_buffer"), tensor_equal(raw(kGrads[0], {3})));
}

TEST_CASE("SGD resumes exactly from a loaded state", "[points=2]") {
    std::vector<tt::Tensor> first = make_parameters({kStart, kStart2});
    tt::optim::SGD original(first, {.lr = 0.1f, .momentum = 0.9f});
    two_skip_steps(original, first);
    // A new optimizer over copies of the weights, as after loading a checkpoint.
    std::vector<tt::Tensor> second = {leaf(raw_copy(first[0])), leaf(raw_copy(first[1]))};
    tt::optim::SGD resumed(second, {.lr = 0.5f, .momentum = 0.9f});
    resumed.load_state(original.state());
    CHECK(resumed.lr == Approx(0.1f));  // "lr" is part of the state
    run_script(resumed, second, sgd_steps_3_4());
}

TEST_CASE("Adam resumes exactly from a loaded state; each parameter at its own step", "[points=2]") {
    std::vector<tt::Tensor> first = make_parameters({kStart, kStart2});
    tt::optim::Adam original(first, {.lr = 0.1f});
    two_skip_steps(original, first);
    std::vector<tt::Tensor> second = {leaf(raw_copy(first[0])), leaf(raw_copy(first[1]))};
    tt::optim::Adam resumed(second, {.lr = 0.1f});
    resumed.load_state(original.state());
    run_script(resumed, second, adam_steps_3_4());
    INFO("the loaded state must be the optimizer's own copy: the original continues unaffected");
    run_script(original, first, adam_steps_3_4());
}

TEST_CASE("load_state refuses a tensor of the wrong shape: it names the entry and changes nothing", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::Adam optimizer(params, {.lr = 0.1f});
    two_skip_steps(optimizer, params);
    tt::optim::OptimizerState bad = optimizer.state();
    bad.tensors["1.exp_avg_sq"] = nested({0.001f, 0.001f, 0.001f});  // (3,) for a (2,) parameter
    bad.numbers["lr"] = 7.0;
    CHECK_THAT(error_message([&] { optimizer.load_state(bad); }), Contains("1.exp_avg_sq"));
    INFO("a refused state must leave the optimizer exactly as it was");
    CHECK(optimizer.lr == Approx(0.1f));
    run_script(optimizer, params, adam_steps_3_4());

    std::vector<tt::Tensor> sgd_params = make_parameters({kStart, kStart2});
    tt::optim::SGD sgd(sgd_params, {.lr = 0.1f, .momentum = 0.9f});
    two_skip_steps(sgd, sgd_params);
    tt::optim::OptimizerState wrong = sgd.state();
    wrong.tensors["0.momentum_buffer"] = nested({{1, 2, 3}});  // (1, 3) for a (3,) parameter
    CHECK_THAT(error_message([&] { sgd.load_state(wrong); }), Contains("0.momentum_buffer"));
    run_script(sgd, sgd_params, sgd_steps_3_4());
}

TEST_CASE("load_state refuses entries it does not know: another optimizer's; or a parameter that does not exist",
          "[points=1]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::SGD sgd(params, {.lr = 0.1f, .momentum = 0.9f});
    tt::optim::Adam adam(params, {.lr = 0.1f});
    two_skip_steps(adam, params);
    CHECK_THAT(error_message([&] { sgd.load_state(adam.state()); }), Contains("exp_avg"));
    two_skip_steps(sgd, params);
    CHECK_THAT(error_message([&] { adam.load_state(sgd.state()); }), Contains("momentum_buffer"));
    tt::optim::OptimizerState extra = sgd.state();
    extra.tensors["2.momentum_buffer"] = nested({1, 2});  // there are only parameters 0 and 1
    CHECK_THAT(error_message([&] { sgd.load_state(extra); }), Contains("2.momentum_buffer"));
}

TEST_CASE("Adam's load_state refuses a parameter with moments but no step count", "[points=1]") {
    std::vector<tt::Tensor> params = make_parameters({kStart, kStart2});
    tt::optim::Adam adam(params, {.lr = 0.1f});
    two_skip_steps(adam, params);
    tt::optim::OptimizerState incomplete = adam.state();
    incomplete.numbers.erase("1.step");  // exp_avg without its t: the bias correction is unknowable
    CHECK_THAT(error_message([&] { adam.load_state(incomplete); }), Contains("1"));
    CHECK_THAT(error_message([&] { adam.load_state(incomplete); }), Contains("step"));
    run_script(adam, params, adam_steps_3_4());
}

TEST_CASE("load_state starts afresh every parameter the state has no entries for", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::Adam adam(params, {.lr = 0.1f});
    params[0].set_grad(raw(kGrads[0], {3}));
    adam.step();
    adam.load_state({});
    CHECK(adam.state().tensors.empty());
    tt::Tensor w = params[0];
    const std::vector<float> before = values_of(w);
    w.set_grad(nested({1, -1, 1}));
    adam.step();  // t = 1 again: lr * sign(g)
    CHECK_THAT(w, tensor_near(raw({before[0] - 0.1f, before[1] + 0.1f, before[2] - 0.1f}, {3}), 1e-5, 1e-5));

    INFO("SGD: a state without '0.momentum_buffer' leaves parameter 0 with no buffer (its next step starts b = g), "
         "whatever buffer the optimizer had before the load");
    std::vector<tt::Tensor> sgd_params = make_parameters({kStart, kStart2});
    tt::optim::SGD sgd(sgd_params, {.lr = 0.1f, .momentum = 0.9f});
    two_skip_steps(sgd, sgd_params);
    tt::optim::OptimizerState only_second = sgd.state();
    only_second.tensors.erase("0.momentum_buffer");
    sgd.load_state(only_second);
    CHECK(sgd.state().tensors.count("0.momentum_buffer") == 0);
    const std::vector<float> start = values_of(sgd_params[0]);
    sgd_params[0].set_grad(nested({1, 1, 1}));
    sgd_params[1].set_grad(tt::Tensor());
    sgd.step();  // b = g: a plain SGD step
    CHECK_THAT(sgd_params[0], tensor_near(raw({start[0] - 0.1f, start[1] - 0.1f, start[2] - 0.1f}, {3}), 1e-6, 1e-6));
}
