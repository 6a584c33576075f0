// test_optim_state.cpp - engine tests of module 08's OptimizerState: what state() saves, that a
// run resumed from it continues exactly, and what load_state() refuses (with the optimizer left
// unchanged).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

// Step `step` of a fixed script: parameter k has no gradient when (step + k) % 3 == 2.
void set_script_grads(std::vector<tt::Tensor>& params, int step) {
    for (size_t k = 0; k < params.size(); ++k) {
        if ((step + static_cast<int>(k)) % 3 == 2) {
            params[k].set_grad(tt::Tensor());
        } else {
            params[k].set_grad(random_values(params[k].shape(), static_cast<uint64_t>(100 * step + k)));
        }
    }
}

std::vector<tt::Tensor> fresh_parameters() { return {leaf(random_values({2, 2}, 1)), leaf(random_values({3}, 2))}; }

std::vector<tt::Tensor> copies(const std::vector<tt::Tensor>& params) {
    std::vector<tt::Tensor> out;
    for (const tt::Tensor& p : params) out.push_back(leaf(raw_copy(p)));
    return out;
}

// Runs `make` twice: one optimizer for 6 steps straight, one stopped after 3, saved, rebuilt over
// copies of the weights, loaded, and run 3 more. Both must end with the same weights, bit for bit.
template <class Make>
void check_resume(Make make) {
    std::vector<tt::Tensor> straight = fresh_parameters();
    std::unique_ptr<tt::optim::Optimizer> a = make(straight);
    for (int step = 0; step < 6; ++step) {
        set_script_grads(straight, step);
        a->step();
    }
    std::vector<tt::Tensor> first = fresh_parameters();
    std::unique_ptr<tt::optim::Optimizer> b = make(first);
    for (int step = 0; step < 3; ++step) {
        set_script_grads(first, step);
        b->step();
    }
    const tt::optim::OptimizerState saved = b->state();
    std::vector<tt::Tensor> second = copies(first);
    std::unique_ptr<tt::optim::Optimizer> c = make(second);
    c->lr = 12345.0f;  // the saved lr wins
    c->load_state(saved);
    for (int step = 3; step < 6; ++step) {
        set_script_grads(second, step);
        c->step();
    }
    INFO(a->name());
    for (size_t k = 0; k < straight.size(); ++k) CHECK_THAT(second[k], tensor_equal(straight[k]));
}

}  // namespace

TEST_CASE("optim state: the keys and values SGD and Adam save") {
    std::vector<tt::Tensor> params = fresh_parameters();
    tt::optim::SGD sgd(params, {.lr = 0.1f, .momentum = 0.9f});
    params[0].set_grad(nested({{1, 2}, {3, 4}}));
    sgd.step();
    const tt::optim::OptimizerState s = sgd.state();
    REQUIRE(s.tensors.size() == 1);  // parameter 1 has not stepped: no buffer
    CHECK_THAT(s.tensors.at("0.momentum_buffer"), tensor_equal(nested({{1, 2}, {3, 4}})));
    CHECK(s.numbers.size() == 1);
    CHECK(s.numbers.at("lr") == Approx(0.1));

    tt::optim::Adam adam(params, {.lr = 0.1f});
    adam.step();
    params[1].set_grad(nested({1, 1, 1}));
    adam.step();
    const tt::optim::OptimizerState a = adam.state();
    CHECK(a.tensors.size() == 4);
    CHECK(a.numbers.at("0.step") == 2);
    CHECK(a.numbers.at("1.step") == 1);
    CHECK_THAT(a.tensors.at("1.exp_avg"), tensor_near(nested({0.1f, 0.1f, 0.1f})));
    CHECK_THAT(a.tensors.at("1.exp_avg_sq"), tensor_near(nested({1.0f - 0.999f, 1.0f - 0.999f, 1.0f - 0.999f}), 1e-9, 1e-5));
    CHECK_THAT(a.tensors.at("0.exp_avg"), tensor_near(nested({{0.19f, 0.38f}, {0.57f, 0.76f}})));  // 0.1 g + 0.09 g
}

TEST_CASE("optim state: a resumed run continues exactly") {
    check_resume([](const std::vector<tt::Tensor>& p) {
        return std::make_unique<tt::optim::SGD>(p, tt::optim::SGDOptions{.lr = 0.1f, .momentum = 0.9f, .dampening = 0.1f, .weight_decay = 0.01f});
    });
    check_resume([](const std::vector<tt::Tensor>& p) {
        return std::make_unique<tt::optim::SGD>(p, tt::optim::SGDOptions{.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
    });
    check_resume([](const std::vector<tt::Tensor>& p) {
        return std::make_unique<tt::optim::Adam>(p, tt::optim::AdamOptions{.lr = 0.1f, .weight_decay = 0.01f});
    });
    check_resume([](const std::vector<tt::Tensor>& p) { return std::make_unique<tt::optim::AdamW>(p, tt::optim::AdamOptions{.lr = 0.1f}); });
}

TEST_CASE("optim state: saved and loaded tensors are copies") {
    std::vector<tt::Tensor> params = fresh_parameters();
    tt::optim::SGD sgd(params, {.lr = 0.1f, .momentum = 0.9f});
    params[0].set_grad(nested({{1, 1}, {1, 1}}));
    sgd.step();
    tt::optim::OptimizerState s = sgd.state();
    sgd.step();
    CHECK_THAT(s.tensors.at("0.momentum_buffer"), tensor_equal(nested({{1, 1}, {1, 1}})));  // not advanced with the optimizer
    sgd.load_state(s);
    s.tensors.at("0.momentum_buffer").fill_(100.0f);  // the caller's tensor changes after the load...
    CHECK_THAT(sgd.state().tensors.at("0.momentum_buffer"), tensor_equal(nested({{1, 1}, {1, 1}})));  // ...the optimizer's does not
}

TEST_CASE("optim state: load_state refuses what does not fit, naming it, and changes nothing") {
    std::vector<tt::Tensor> params = fresh_parameters();
    tt::optim::Adam adam(params, {.lr = 0.1f});
    set_script_grads(params, 0);
    adam.step();
    const tt::optim::OptimizerState good = adam.state();
    auto refused = [&](tt::optim::OptimizerState state) {
        std::string message = error_message([&] { adam.load_state(state); });
        CHECK_THAT(adam.state().tensors.at("0.exp_avg"), tensor_equal(good.tensors.at("0.exp_avg")));
        CHECK(adam.state().numbers == good.numbers);
        return message;
    };
    tt::optim::OptimizerState s = good;
    s.tensors["1.exp_avg"] = nested({1, 2});  // (2) for a (3) parameter
    s.numbers["lr"] = 5;
    CHECK_THAT(refused(s), Contains("Adam.load_state") && Contains("'1.exp_avg'") && Contains("(2)") && Contains("(3)"));
    s = good;
    s.tensors["0.exp_avg"] = tt::Tensor();
    CHECK_THAT(refused(s), Contains("'0.exp_avg'") && Contains("undefined"));
    s = good;
    s.tensors["5.exp_avg"] = nested({1});
    CHECK_THAT(refused(s), Contains("'5.exp_avg'"));
    s = good;
    s.tensors["0.momentum_buffer"] = nested({{1, 2}, {3, 4}});
    CHECK_THAT(refused(s), Contains("'0.momentum_buffer'"));
    s = good;
    s.numbers["0.step"] = 1.5;
    CHECK_THAT(refused(s), Contains("'0.step'") && Contains("1.5"));
    s = good;
    s.numbers["epoch"] = 3;
    CHECK_THAT(refused(s), Contains("'epoch'"));
    s = good;
    s.tensors.erase("1.exp_avg_sq");
    CHECK_THAT(refused(s), Contains("parameter 1") && Contains("1.exp_avg_sq"));

    tt::optim::SGD sgd(params, {.lr = 0.1f, .momentum = 0.9f});
    CHECK_THAT(error_message([&] { sgd.load_state(good); }), Contains("SGD.load_state") && Contains("exp_avg"));
    tt::optim::OptimizerState odd;
    odd.tensors["x.momentum_buffer"] = nested({1});
    CHECK_THAT(error_message([&] { sgd.load_state(odd); }), Contains("'x.momentum_buffer'"));
    odd.tensors.clear();
    odd.numbers["0.step"] = 1;
    CHECK_THAT(error_message([&] { sgd.load_state(odd); }), Contains("'0.step'"));
}
