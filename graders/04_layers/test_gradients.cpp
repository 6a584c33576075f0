// test_gradients.cpp - module 04 grader: gradients flow through the layers to every parameter.
// Linear's gradients are checked against their closed form computed with plain loops
// (dW = g^T x, db = sum of g over the batch), and against finite differences taken by nudging the
// parameters' own storage; inputs are checked with grading.h's gradient_check.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "layer_helpers.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace layer_helpers;

namespace {

// L = sum(w * model(x)) for fixed weights w, evaluated without recording a graph, in double.
double weighted_loss(tt::Module& model, const tt::Tensor& x, const std::vector<float>& w) {
    tt::NoGradGuard no_grad;
    const std::vector<float> y = values_of(model(x));
    double total = 0;
    for (size_t i = 0; i < y.size() && i < w.size(); ++i) total += static_cast<double>(w[i]) * y[i];
    return total;
}

// Compares every parameter's .grad (after backward of sum(w * model(x))) with central finite
// differences of the same loss, nudging the parameter's elements in its own storage.
void check_parameter_gradients(tt::Module& model, const tt::Tensor& x, uint64_t seed) {
    tt::Tensor y = model(x);
    const tt::Tensor w = random_values(y.shape(), seed);
    const std::vector<float> wv = values_of(w);
    model.zero_grad();
    tt::sum(tt::mul(y, w)).backward();
    for (const auto& [name, p] : model.named_parameters()) {
        INFO("parameter " << name << " " << shape_text(p.shape()));
        REQUIRE(p.grad().defined());
        REQUIRE(p.grad().shape() == p.shape());
        const std::vector<float> analytic = values_of(p.grad());
        std::vector<float> numeric(analytic.size());
        std::vector<int64_t> index(p.shape().size(), 0);
        size_t j = 0;
        do {
            float& cell = p.storage()->data[static_cast<size_t>(storage_index(p, index))];
            const float original = cell;
            const float up = original + 1e-2f, down = original - 1e-2f;
            cell = up;
            const double plus = weighted_loss(model, x, wv);
            cell = down;
            const double minus = weighted_loss(model, x, wv);
            cell = original;
            numeric[j++] = static_cast<float>((plus - minus) / (static_cast<double>(up) - down));
        } while (next_index(index, p.shape()));
        CHECK_THAT(p.grad(), tensor_near(raw(numeric, p.shape()), 2e-3, 2e-2));
    }
}

}  // namespace

TEST_CASE("backward through Linear gives the weight gradient g transposed times x and the bias gradient sum of g", "[points=2]") {
    tt::Generator gen(441);
    tt::Linear layer(3, 2, true, &gen);
    const tt::Tensor x = random_values({4, 3}, 442);
    const tt::Tensor g = random_values({4, 2}, 443);  // d(loss)/dy
    tt::sum(tt::mul(layer(x), g)).backward();
    REQUIRE(layer.weight.grad().defined());
    REQUIRE(layer.bias.grad().defined());
    // dW[j, i] = sum_n g[n, j] x[n, i];  db[j] = sum_n g[n, j]
    std::vector<float> dw(6, 0.0f), db(2, 0.0f);
    for (int64_t n = 0; n < 4; ++n)
        for (int64_t j = 0; j < 2; ++j) {
            db[static_cast<size_t>(j)] += element(g, {n, j});
            for (int64_t i = 0; i < 3; ++i) dw[static_cast<size_t>(j * 3 + i)] += element(g, {n, j}) * element(x, {n, i});
        }
    CHECK_THAT(layer.weight.grad(), tensor_near(raw(dw, {2, 3}), 1e-5, 1e-5));
    CHECK_THAT(layer.bias.grad(), tensor_near(raw(db, {2}), 1e-5, 1e-5));
}

TEST_CASE("backward through Linear of one 1-d example without bias gives the outer product", "[points=1]") {
    tt::Linear layer(3, 2, false);
    assign(layer.weight, {1, 2, 3, 4, 5, 6});
    const tt::Tensor x = nested({1, -2, 0.5f});
    tt::sum(tt::mul(layer(x), nested({3, -1}))).backward();
    REQUIRE(layer.weight.grad().defined());
    CHECK_THAT(layer.weight.grad(), tensor_near(nested({{3, -6, 1.5f}, {-1, 2, -0.5f}}), 1e-6, 1e-6));
}

TEST_CASE("gradient_check of Linear with respect to 1-d 2-d and 3-d inputs", "[points=2]") {
    tt::Generator gen(444);
    tt::Linear layer(4, 3, true, &gen);
    for (const tt::Shape& shape : {tt::Shape{4}, tt::Shape{5, 4}, tt::Shape{2, 3, 4}}) {
        INFO("x of shape " << shape_text(shape));
        CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return layer(in[0]); }, {random_values(shape, 445)}));
    }
}

TEST_CASE("gradients reach every parameter of a Sequential MLP and match finite differences", "[points=2]") {
    tt::Generator gen(446);
    tt::Sequential model{std::make_shared<tt::Linear>(3, 4, true, &gen), std::make_shared<tt::Tanh>(),
                         std::make_shared<tt::Linear>(4, 2, true, &gen)};
    const tt::Tensor x = random_values({5, 3}, 447, -2.0f, 2.0f);
    check_parameter_gradients(model, x, 448);
    CHECK(gradient_check([&](const std::vector<tt::Tensor>& in) { return model(in[0]); }, {x}));
}

TEST_CASE("zero_grad between two backward passes stops the gradients from accumulating", "[points=1]") {
    tt::Generator gen(449);
    tt::Linear layer(2, 2, true, &gen);
    const tt::Tensor x = nested({{1, 2}, {-1, 0.5f}});
    auto step = [&] { tt::sum(layer(x)).backward(); };
    step();
    const tt::Tensor once = raw_copy(layer.weight.grad());
    step();
    CHECK_THAT(layer.weight.grad(), tensor_near(reference_unary(once, [](float v) { return 2 * v; }), 1e-6, 1e-6));
    layer.zero_grad();
    step();
    CHECK_THAT(layer.weight.grad(), tensor_near(once, 1e-6, 1e-6));
    CHECK_THAT(layer.bias.grad(), tensor_near(nested({2, 2}), 1e-6, 1e-6));
}
