// test_optimizer_base.cpp - module 08 grader: what every optimizer must do whatever its formula.
// It holds the model's own tensors (not copies), checks what it is given, clears gradients to
// undefined, updates in place under no-grad without touching .grad, reads the lr a schedule sets,
// and follows strides.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "grading.h"
#include "optim_testing.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/optim.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace tt::testing::optim;
using Catch::Matchers::Contains;

namespace {

// Every optimizer of the module, built on `params` with a large-enough lr to see a move.
std::vector<std::unique_ptr<tt::optim::Optimizer>> every_optimizer(const std::vector<tt::Tensor>& params) {
    std::vector<std::unique_ptr<tt::optim::Optimizer>> all;
    all.push_back(std::make_unique<tt::optim::SGD>(params, tt::optim::SGDOptions{.lr = 0.1f}));
    all.push_back(std::make_unique<tt::optim::SGD>(params, tt::optim::SGDOptions{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.1f}));
    all.push_back(std::make_unique<tt::optim::Adam>(params, tt::optim::AdamOptions{.lr = 0.1f, .weight_decay = 0.1f}));
    all.push_back(std::make_unique<tt::optim::AdamW>(params, tt::optim::AdamOptions{.lr = 0.1f, .weight_decay = 0.1f}));
    return all;
}

}  // namespace

TEST_CASE("step() moves the model's own weights: the optimizer holds handles; not copies", "[points=2]") {
    auto model = small_model();
    const std::vector<tt::Tensor> params = model->parameters();
    const std::vector<float> before = values_of(params[0]);
    tt::optim::SGD optimizer(model->parameters(), {.lr = 0.1f});
    INFO("parameters() must return the very tensors it was given (is_same), in the same order");
    REQUIRE(optimizer.parameters().size() == params.size());
    for (size_t i = 0; i < params.size(); ++i) CHECK(optimizer.parameters()[i].is_same(params[i]));
    for (const tt::Tensor& p : params) {
        tt::Tensor handle = p;
        handle.set_grad(tt::testing::raw(std::vector<float>(static_cast<size_t>(count_of(p.shape())), 1.0f), p.shape()));
    }
    optimizer.step();
    INFO("after one SGD step with gradient 1 everywhere, the model's first weight should be 0.1 smaller");
    std::vector<float> expected = before;
    for (float& v : expected) v -= 0.1f;
    CHECK_THAT(params[0], tensor_near(raw(expected, params[0].shape())));
}

TEST_CASE("the constructor rejects what cannot be a parameter and names its position", "[points=2]") {
    {  // an undefined tensor
        const std::vector<tt::Tensor> params = {leaf(nested({1, 2})), tt::Tensor(), leaf(nested({3}))};
        CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = 0.1f}); }), Contains("parameter 1"));
        CHECK_THAT(error_message([&] { tt::optim::Adam(params, {}); }), Contains("parameter 1"));
    }
    {  // a tensor computed from a parameter (not a leaf)
        tt::Tensor w = leaf(nested({1, 2}));
        const tt::Tensor doubled = w * 2.0f;  // has a grad_fn: backward() keeps no gradient for it
        REQUIRE_FALSE(doubled.is_leaf());
        CHECK_THAT(error_message([&] { tt::optim::SGD({w, leaf(nested({3})), doubled}, {.lr = 0.1f}); }), Contains("parameter 2"));
        CHECK_THAT(error_message([&] { tt::optim::AdamW({doubled}, {}); }), Contains("parameter 0"));
    }
    {  // a tensor that does not require grad
        const tt::Tensor constant = nested({1, 2, 3});  // would never receive a gradient
        CHECK_THAT(error_message([&] { tt::optim::SGD({leaf(nested({3})), constant}, {.lr = 0.1f}); }), Contains("parameter 1"));
        CHECK_THAT(error_message([&] { tt::optim::Adam({constant}, {}); }), Contains("parameter 0"));
    }
}

TEST_CASE("a negative learning rate is rejected", "[points=1]") {
    const std::vector<tt::Tensor> params = {leaf(nested({1, 2}))};
    CHECK_THAT(error_message([&] { tt::optim::SGD(params, {.lr = -0.1f}); }), Contains("lr") || Contains("learning rate"));
    CHECK_THAT(error_message([&] { tt::optim::Adam(params, {.lr = -1e-3f}); }), Contains("lr") || Contains("learning rate"));
    tt::optim::SGD zero(params, {.lr = 0.0f});  // lr = 0 is allowed (a warm-up may start there)
    CHECK(zero.lr == 0.0f);
}

TEST_CASE("zero_grad makes every gradient undefined; not zero-filled", "[points=1]") {
    auto model = small_model();
    tt::optim::Adam optimizer(model->parameters(), {});
    tt::Tensor loss = tt::mse_loss(model->forward(small_inputs()), small_targets());
    loss.backward();
    for (const tt::Tensor& p : model->parameters()) REQUIRE(p.grad().defined());
    optimizer.zero_grad();
    INFO("as Module::zero_grad and PyTorch's zero_grad(set_to_none=True): .grad becomes undefined, holding no memory");
    for (const tt::Tensor& p : model->parameters()) CHECK_FALSE(p.grad().defined());
    optimizer.zero_grad();  // nothing to clear: fine
    for (const tt::Tensor& p : model->parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("step() leaves the gradients untouched (weight decay goes into a local value; not into .grad)", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    for (auto& optimizer : every_optimizer(params)) {
        INFO(optimizer->name() << " (weight decay and momentum where it has them)");
        tt::Tensor g = raw(kGrads[0], {3});
        params[0].set_grad(g);
        optimizer->step();
        optimizer->step();  // with the same .grad: a second step must see the same gradient
        REQUIRE(params[0].grad().defined());
        CHECK(params[0].grad().is_same(g));
        CHECK_THAT(params[0].grad(), tensor_equal(raw(kGrads[0], {3})));
    }
}

TEST_CASE("step() runs without recording a graph and restores grad mode", "[points=1]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    for (auto& optimizer : every_optimizer(params)) {
        INFO(optimizer->name());
        params[0].set_grad(raw(kGrads[0], {3}));
        REQUIRE(tt::is_grad_enabled());
        optimizer->step();
        CHECK(tt::is_grad_enabled());  // a NoGradGuard restores grad mode when step() returns
        CHECK(params[0].is_leaf());    // the update recorded no node into the parameter
        CHECK(params[0].requires_grad());
        {
            tt::NoGradGuard no_grad;
            optimizer->step();
            CHECK_FALSE(tt::is_grad_enabled());  // and leaves it off when it was off
        }
    }
}

TEST_CASE("step() writes in place and counts as an in-place write for autograd", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    const auto storage = params[0].storage();
    for (auto& optimizer : every_optimizer(params)) {
        INFO(optimizer->name());
        params[0].set_grad(raw(kGrads[0], {3}));
        const int64_t version = params[0].version();
        optimizer->step();
        CHECK(params[0].storage() == storage);  // the same memory was updated, not replaced
        INFO("writes through data() are invisible to autograd: call bump_version() after them");
        CHECK(params[0].version() > version);
    }
    // What the version is for: a graph that saved the old weights refuses to use the new ones.
    tt::Tensor w = leaf(nested({1, 2}));
    tt::Tensor u = leaf(nested({5, 6}));
    const tt::Tensor uses_w = (u * w).sum();  // MulBackward saves w, to compute du = g * w
    w.set_grad(nested({1, 1}));
    tt::optim::SGD optimizer({w}, {.lr = 0.1f});
    optimizer.step();
    CHECK_THAT(error_message([&] { uses_w.backward(); }), Contains("version") || Contains("modified"));
}

TEST_CASE("step() uses the current lr; which a schedule may have changed since construction", "[points=2]") {
    std::vector<tt::Tensor> params = make_parameters({kStart});
    tt::optim::SGD sgd(params, {.lr = 0.1f});
    sgd.lr = 0.5f;
    params[0].set_grad(nested({1, 1, 1}));
    sgd.step();
    CHECK_THAT(params[0], tensor_near(nested({0.5f, -2.5f, 2.5f})));
    INFO("Adam's first step moves each element by lr (bias-corrected m / sqrt(v) = sign(g))");
    std::vector<tt::Tensor> more = make_parameters({kStart});
    tt::optim::Adam adam(more, {.lr = 0.1f});
    adam.lr = 0.25f;
    more[0].set_grad(nested({1, -1, 1}));
    adam.step();
    CHECK_THAT(more[0], tensor_near(nested({0.75f, -1.75f, 2.75f})));
    {
        INFO("SGD with momentum: the first step is lr * g whatever the buffer");
        std::vector<tt::Tensor> params = make_parameters({kStart});
        tt::optim::SGD momentum(params, {.lr = 0.1f, .momentum = 0.9f});
        momentum.lr = 0.5f;
        params[0].set_grad(nested({1, 1, 1}));
        momentum.step();
        CHECK_THAT(params[0], tensor_near(nested({0.5f, -2.5f, 2.5f})));
    }
    {
        INFO("AdamW: the decay factor is 1 - lr * weight_decay with the current lr too: (1, -2, 3) * (1 - 0.2 * 0.5) - 0.2 * sign(g)");
        std::vector<tt::Tensor> params = make_parameters({kStart});
        tt::optim::AdamW adamw(params, {.lr = 0.1f, .weight_decay = 0.5f});
        adamw.lr = 0.2f;
        params[0].set_grad(nested({1, -1, 1}));
        adamw.step();
        CHECK_THAT(params[0], tensor_near(nested({0.7f, -1.6f, 2.5f})));
    }
}

TEST_CASE("a strided parameter and a strided gradient are read and written through their strides", "[points=1]") {
    // Weights (2, 3) = [[1, 2, 3], [4, 5, 6]] stored with gaps and an offset; junk cells hold 1e6.
    for (int which = 0; which < 3; ++which) {
        tt::Tensor w = padded(nested({{1, 2, 3}, {4, 5, 6}}));
        w.requires_grad_();
        const tt::Tensor g = column_major(nested({{1, 0, -1}, {2, -2, 0.5f}}));  // the transpose's layout
        w.set_grad(g);
        std::unique_ptr<tt::optim::Optimizer> optimizer;
        tt::Tensor expected;
        if (which == 0) {
            optimizer = std::make_unique<tt::optim::SGD>(std::vector<tt::Tensor>{w}, tt::optim::SGDOptions{.lr = 0.5f});
            expected = nested({{0.5f, 2, 3.5f}, {3, 6, 5.75f}});
        } else if (which == 1) {
            optimizer = std::make_unique<tt::optim::SGD>(std::vector<tt::Tensor>{w},
                                                         tt::optim::SGDOptions{.lr = 0.5f, .momentum = 0.9f});
            expected = nested({{0.5f, 2, 3.5f}, {3, 6, 5.75f}});  // first step: b = g
        } else {
            optimizer = std::make_unique<tt::optim::Adam>(std::vector<tt::Tensor>{w}, tt::optim::AdamOptions{.lr = 0.5f});
            expected = nested({{0.5f, 2, 3.5f}, {3.5f, 5.5f, 5.5f}});  // first step: lr * sign(g), 0 stays
        }
        INFO(optimizer->name() << (which == 1 ? " with momentum" : ""));
        optimizer->step();
        CHECK_THAT(w, tensor_near(expected, 1e-5, 1e-5));
        INFO("the gaps between the elements (1e6) must stay untouched");
        const std::vector<float>& storage = w.storage()->data;
        int junk = 0;
        for (float v : storage) junk += v == 1e6f;
        CHECK(junk == static_cast<int>(storage.size()) - 6);
    }
}

TEST_CASE("an optimizer over no parameters or over an empty tensor steps without error", "[points=1]") {
    tt::optim::SGD none({}, {.lr = 0.1f, .momentum = 0.9f});
    none.step();
    none.zero_grad();
    tt::Tensor empty = leaf(raw({}, {0, 3}));
    empty.set_grad(raw({}, {0, 3}));
    tt::Tensor w = leaf(nested({1, 2}));
    w.set_grad(nested({1, 1}));
    tt::optim::Adam adam({empty, w}, {.lr = 0.1f});
    adam.step();
    CHECK(empty.shape() == tt::Shape{0, 3});
    CHECK_THAT(w, tensor_near(nested({0.9f, 1.9f})));
}
