// perceptron.cpp - milestone 1957: Rosenblatt's perceptron.
//
// Frank Rosenblatt's perceptron learned to separate two classes with a line (a hyperplane in
// general) using a rule with no calculus at all: predict step(w.x + b); when wrong, move w towards
// the example (or away from it). His convergence theorem says that on linearly separable data the
// rule makes finitely many mistakes. This milestone runs it on the student's Tensor (02) and
// Linear (04) - and then on XOR, which no line can separate: the rule never settles, and the best a
// line can do is 3 of the 4 points. That limit, made famous by Minsky and Papert in 1969, is what
// multi-layer networks trained by backpropagation (milestone xor) overcome.
//
//     x: (N, 2) points, y: (N,) labels in {0, 1};  model: Linear(2, 1);  prediction: (model(x) > 0)
#include <cmath>
#include <vector>

#include "milestone.h"
#include "tinytorch/tinytorch.h"

namespace {

// N points in two clusters on either side of the line x0 + x1 = 1 (not through the origin, so the
// bias matters), at least `margin` away from it.
void make_separable(int64_t n, tt::Generator& gen, tt::Tensor& x, tt::Tensor& y) {
    std::vector<float> points, labels;
    while (static_cast<int64_t>(labels.size()) < n) {
        const float a = gen.uniform(-3.0f, 4.0f), b = gen.uniform(-3.0f, 4.0f);
        const float side = a + b - 1.0f;
        if (std::fabs(side) < 0.5f) continue;  // keep a margin around the separating line
        points.insert(points.end(), {a, b});
        labels.push_back(side > 0 ? 1.0f : 0.0f);
    }
    x = tt::from_vector(points, {n, 2});
    y = tt::from_vector(labels, {n});
}

float accuracy(tt::Linear& model, const tt::Tensor& x, const tt::Tensor& y) {
    tt::NoGradGuard no_grad;
    tt::Tensor predicted = tt::gt(model(x).squeeze(1), tt::scalar(0.0f));  // (N,)
    return tt::eq(predicted, y).mean().item();
}

// Rosenblatt's rule, one example at a time: w += lr * (y - y_hat) * x, b += lr * (y - y_hat).
// Returns the epochs used (stops at the first epoch without a mistake).
int train(tt::Linear& model, const tt::Tensor& x, const tt::Tensor& y, int max_epochs, const char* phase,
          milestone::Reporter& report) {
    tt::NoGradGuard no_grad;  // the perceptron rule needs no gradients
    const float lr = 0.1f;
    const int64_t n = x.size(0);
    for (int epoch = 1; epoch <= max_epochs; ++epoch) {
        int mistakes = 0;
        for (int64_t i = 0; i < n; ++i) {
            tt::Tensor xi = x.select(0, i);  // (2,)
            const float predicted = model(xi).item() > 0.0f ? 1.0f : 0.0f;
            const float error = y.at({i}) - predicted;
            if (error == 0.0f) continue;
            ++mistakes;
            model.weight.add_(xi.unsqueeze(0), lr * error);  // weight: (1, 2)
            model.bias.add_(tt::ones({1}), lr * error);
        }
        report.progress({{"phase", phase}, {"epoch", epoch}, {"epochs", max_epochs}, {"mistakes", mistakes},
                         {"accuracy", accuracy(model, x, y)}});
        if (mistakes == 0) return epoch;
    }
    return max_epochs;
}

}  // namespace

int main() {
    return milestone::run([](milestone::Reporter& report) {
        tt::Generator gen(1957);
        tt::Tensor x, y;
        make_separable(200, gen, x, y);
        tt::Linear model(2, 1, true, &gen);
        report.log("Training a perceptron on 200 linearly separable points with Rosenblatt's rule.");
        const int epochs = train(model, x, y, 100, "separable", report);
        const float separable = accuracy(model, x, y);

        // XOR: the four corners of the unit square, labelled by whether the coordinates differ.
        tt::Tensor xor_x = tt::tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}});
        tt::Tensor xor_y = tt::tensor({0, 1, 1, 0});
        tt::Linear xor_model(2, 1, true, &gen);
        report.log("The same rule on XOR, which no single line separates:");
        train(xor_model, xor_x, xor_y, 100, "xor", report);
        const float xor_accuracy = accuracy(xor_model, xor_x, xor_y);

        report.metrics({{"train_accuracy", separable}, {"epochs", epochs}, {"xor_accuracy", xor_accuracy}});
    });
}
