// test_metrics.cpp - module 10 grader: accuracy() and evaluate() (metrics.cpp).
//
// accuracy: the class of each row is the first largest score along dim 1, whatever the layout.
// evaluate: eval mode and no graph while it runs, the caller's mode afterwards (also after an
// exception), and a mean over examples - not over batches.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "tinytorch/spatial.h"
#include "training_grading.h"

using namespace tt::testing;
using namespace training_grading;
using Catch::Matchers::Contains;

namespace {

// A ProbeModel whose Linear is the identity on 2 features: its output is its input.
std::shared_ptr<ProbeModel> identity_probe() {
    auto model = std::make_shared<ProbeModel>(2, 2, 1);
    tt::NoGradGuard no_grad;
    model->linear->weight.copy_(nested({{1, 0}, {0, 1}}));
    model->linear->bias.copy_(nested({0, 0}));
    return model;
}

// Linear(2, 3), BatchNorm2d(3) over (N, 3, 1, 1), Linear(3, 2): a model with buffers.
class NormalizedNet : public tt::Module {
public:
    explicit NormalizedNet(uint64_t seed) {
        tt::Generator gen(seed);
        first = register_module("first", std::make_shared<tt::Linear>(2, 3, true, &gen));
        norm = register_module("norm", std::make_shared<tt::BatchNorm2d>(3));
        last = register_module("last", std::make_shared<tt::Linear>(3, 2, true, &gen));
    }
    tt::Tensor forward(const tt::Tensor& x) override {
        const tt::Tensor h = (*first)(x);  // (N, 3)
        return (*last)((*norm)(h.reshape({h.size(0), 3, 1, 1})).reshape({h.size(0), 3}));
    }
    std::string name() const override { return "NormalizedNet"; }
    std::shared_ptr<tt::Linear> first, last;
    std::shared_ptr<tt::BatchNorm2d> norm;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// accuracy
// ---------------------------------------------------------------------------------------------

TEST_CASE("accuracy of hand-computed logits is the fraction of rows whose argmax is the target", "[points=2]") {
    // argmax per row: 2, 0, 1, 0
    const tt::Tensor logits = nested({{0, 1, 3}, {4, 2, 2.5f}, {1, 5, -5}, {9, -1, 0}});
    CHECK(tt::accuracy(logits, nested({2, 0, 1, 0})) == 1.0);
    CHECK(tt::accuracy(logits, nested({2, 0, 2, 1})) == 0.5);
    CHECK(tt::accuracy(logits, nested({2, 1, 1, 2})) == 0.5);
    CHECK(tt::accuracy(logits, nested({0, 1, 0, 2})) == 0.0);
    CHECK(tt::accuracy(nested({{-3, -1}}), nested({1})) == 1.0);  // negative scores: the largest is -1
}

TEST_CASE("accuracy searches the classes along dim 1 - more rows than classes and more classes than rows", "[points=2]") {
    INFO("logits are (N, C): the prediction of row i is the argmax over its C scores (dim 1), not over a column");
    CHECK(tt::accuracy(nested({{1, 0}, {0, 1}, {1, 0}}), nested({0, 1, 1})) == Approx(2.0 / 3.0));
    CHECK(tt::accuracy(nested({{0, 0, 0, 1, 0}, {0, 2, 0, 0, 0}}), nested({3, 1})) == 1.0);
    CHECK(tt::accuracy(nested({{5, 1, 0}, {4, 0, 9}, {0, 3, 2}, {1, 2, 3}, {0, 7, 1}}), nested({0, 2, 1, 2, 1})) == 1.0);
    CHECK(tt::accuracy(nested({{2}, {7}}), nested({0, 0})) == 1.0);  // one class: always right
}

TEST_CASE("accuracy takes the first maximum on ties and counts NaN as the largest", "[points=1]") {
    CHECK(tt::accuracy(nested({{1, 5, 5}, {2, 2, 2}}), nested({1, 0})) == 1.0);
    CHECK(tt::accuracy(nested({{1, 5, 5}, {2, 2, 2}}), nested({2, 2})) == 0.0);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    INFO("as PyTorch's argmax: a NaN score wins (a model that outputs NaN must not look right by accident)");
    CHECK(tt::accuracy(nested({{1, nan, 3}, {nan, 0, 0}}), nested({1, 0})) == 1.0);
    CHECK(tt::accuracy(nested({{1, nan, 3}}), nested({2})) == 0.0);
}

TEST_CASE("accuracy reads any layout of logits and targets", "[points=2]") {
    const tt::Tensor logits = nested({{0, 1, 3}, {4, 2, 2.5f}, {1, 5, -5}, {9, -1, 0}});
    CHECK(tt::accuracy(padded(logits), padded(nested({2, 1, 1, 2}))) == 0.5);
    CHECK(tt::accuracy(column_major(logits), nested({2, 0, 1, 1})) == 0.75);
    // The transpose of a (3, 4) is a (4, 3) whose rows are strided.
    const tt::Tensor transposed = nested({{0, 4, 1, 9}, {1, 2, 5, -1}, {3, 2.5f, -5, 0}}).transpose(0, 1);
    CHECK(tt::accuracy(transposed, nested({2, 0, 1, 0})) == 1.0);
}

TEST_CASE("accuracy rejects shapes that do not fit with a tt::Error naming them", "[points=1]") {
    CHECK_THAT(error_message([] { tt::accuracy(nested({1, 2}), nested({0, 1})); }), Contains("accuracy") && Contains("(2)"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({0, 1, 1})); }),
               Contains("accuracy") && Contains("(3)") && Contains("(2, 2)"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({{0}, {1}})); }),
               Contains("accuracy") && Contains("(2, 1)"));
}

TEST_CASE("accuracy rejects a target that is not a class index", "[points=1]") {
    INFO("a label of 2 with 2 classes means the data and the model disagree: a tt::Error, not a wrong prediction");
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({0, 2})); }), Contains("accuracy"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({-1, 0})); }), Contains("accuracy"));
    CHECK_THAT(error_message([] { tt::accuracy(nested({{1, 2}, {3, 4}}), nested({0, 0.5f})); }), Contains("accuracy"));
}

// ---------------------------------------------------------------------------------------------
// evaluate
// ---------------------------------------------------------------------------------------------

TEST_CASE("evaluate averages over examples - not over batches", "[points=2]") {
    // 5 examples in batches of 2, 2, 1; the "loss" is the mean of column 0 of the output (the
    // input: the model is the identity). Over examples: (1 + 2 + 3 + 4 + 10) / 5 = 4. The three
    // batch means averaged as equals would give (1.5 + 3.5 + 10) / 3 = 5.
    auto model = identity_probe();
    tt::data::DataLoader loader(dataset(nested({{1, 0}, {2, 5}, {3, 1}, {4, 9}, {10, 2}}), nested({0, 1, 0, 0, 1})),
                                {.batch_size = 2});
    auto loss = [](const tt::Tensor& out, const tt::Tensor&) { return out.select(1, 0).mean(); };
    const tt::Evaluation e = tt::evaluate(*model, loader, loss);
    CHECK(e.loss == Approx(4.0));
    CHECK(e.examples == 5);
    // argmax per row: 0, 1, 0, 1, 0 against 0, 1, 0, 0, 1: 3 of 5, also weighted by example
    CHECK(e.accuracy == Approx(0.6));
}

TEST_CASE("evaluate gives the loss and accuracy of the whole data set with a real loss", "[points=2]") {
    auto model = small_mlp(5);
    auto data = blobs(23, 4);
    tt::data::DataLoader loader(data, {.batch_size = 5});
    const tt::Tensor inputs = data->get_batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}).inputs;
    const tt::Tensor targets = data->get_batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}).targets;
    double expected_loss, expected_accuracy = 0;
    {
        tt::NoGradGuard no_grad;
        model->eval();
        const tt::Tensor out = (*model)(inputs);
        expected_loss = tt::cross_entropy(out, targets).item();
        const std::vector<float> o = values_of(out), t = values_of(targets);
        for (size_t i = 0; i < t.size(); ++i) expected_accuracy += (o[2 * i + 1] > o[2 * i]) == (t[i] == 1.0f);
        expected_accuracy /= static_cast<double>(t.size());
        model->train();
    }
    const tt::Evaluation e = tt::evaluate(*model, loader, tt::CrossEntropyLoss{});
    CHECK(e.loss == Approx(expected_loss).epsilon(1e-5));
    CHECK(e.accuracy == Approx(expected_accuracy));
    CHECK(e.examples == 23);
}

TEST_CASE("evaluate runs the model in eval mode and without recording a graph", "[points=2]") {
    auto model = identity_probe();
    tt::data::DataLoader loader(blobs(6, 1), {.batch_size = 2});
    std::vector<bool> output_requires_grad;
    auto loss = [&](const tt::Tensor& out, const tt::Tensor& target) {
        output_requires_grad.push_back(out.requires_grad());
        return tt::cross_entropy(out, target);
    };
    model->train();
    tt::evaluate(*model, loader, loss);
    INFO("eval(): Dropout off, BatchNorm on its running statistics; NoGradGuard: no graph, no saved activations");
    CHECK(model->training_modes == std::vector<bool>{false, false, false});
    CHECK(model->grad_modes == std::vector<bool>{false, false, false});
    CHECK(output_requires_grad == std::vector<bool>{false, false, false});
}

TEST_CASE("evaluate puts the model back in the mode it found it in", "[points=2]") {
    auto model = identity_probe();
    tt::data::DataLoader loader(blobs(4, 1), {.batch_size = 2});
    model->train();
    tt::evaluate(*model, loader, tt::CrossEntropyLoss{});
    CHECK(model->is_training());
    CHECK(model->linear->is_training());  // the whole tree, not only the top module
    CHECK(tt::is_grad_enabled());
    model->eval();
    tt::evaluate(*model, loader, tt::CrossEntropyLoss{});
    INFO("a model that was in eval mode stays in eval mode (do not always call train() at the end)");
    CHECK_FALSE(model->is_training());
    CHECK_FALSE(model->linear->is_training());
}

TEST_CASE("evaluate restores the training mode and grad mode when the loss throws", "[points=2]") {
    auto model = identity_probe();
    tt::data::DataLoader loader(blobs(6, 1), {.batch_size = 2});
    int calls = 0;
    auto failing = [&](const tt::Tensor& out, const tt::Tensor& target) {
        if (++calls == 2) throw tt::Error("grader: the second batch fails");
        return tt::cross_entropy(out, target);
    };
    for (bool training : {true, false}) {
        model->train(training);
        calls = 0;
        CHECK_THROWS_WITH(tt::evaluate(*model, loader, failing), Contains("second batch"));
        INFO("an exception must not leave the model in eval mode or gradients switched off (use guards: RAII)");
        CHECK(model->is_training() == training);
        CHECK(tt::is_grad_enabled());
    }
}

TEST_CASE("evaluate changes no parameter or gradient or BatchNorm statistic", "[points=2]") {
    auto model = std::make_shared<NormalizedNet>(3);
    tt::data::DataLoader loader(blobs(10, 2), {.batch_size = 4});
    const auto weights = weights_of(*model);
    std::vector<std::vector<float>> buffers;
    for (const auto& [name, tensor] : model->named_buffers()) buffers.push_back(values_of(tensor));
    REQUIRE_FALSE(buffers.empty());
    tt::evaluate(*model, loader, tt::CrossEntropyLoss{});
    CHECK(weights_of(*model) == weights);
    std::vector<std::vector<float>> after;
    for (const auto& [name, tensor] : model->named_buffers()) after.push_back(values_of(tensor));
    INFO("in eval mode BatchNorm uses and keeps its running statistics");
    CHECK(after == buffers);
    for (const tt::Tensor& p : model->parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("evaluate gives NaN accuracy for outputs that are not class scores - NaN for no data", "[points=1]") {
    tt::Linear model(2, 1);
    const tt::Tensor x = random_values({6, 2}, 1), y = random_values({6, 1}, 2);
    tt::data::DataLoader loader(dataset(x, y), {.batch_size = 4});
    const tt::Evaluation e = tt::evaluate(model, loader, tt::MSELoss{});
    tt::Tensor expected;
    {
        tt::NoGradGuard no_grad;
        expected = tt::mse_loss(model(x), y);
    }
    CHECK(e.loss == Approx(expected.item()).epsilon(1e-5));
    CHECK(std::isnan(e.accuracy));
    CHECK(e.examples == 6);

    tt::data::DataLoader empty(dataset(raw({}, {0, 2}), raw({}, {0, 1})));
    const tt::Evaluation none = tt::evaluate(model, empty, tt::MSELoss{});
    CHECK(std::isnan(none.loss));
    CHECK(std::isnan(none.accuracy));
    CHECK(none.examples == 0);
}
