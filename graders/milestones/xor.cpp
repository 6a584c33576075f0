// xor.cpp - milestone 1969 (and 1986): XOR, solved by backpropagation.
//
// In 1969 Minsky and Papert's "Perceptrons" proved that a single-layer perceptron cannot compute
// XOR, and interest in neural networks collapsed for a decade. A hidden layer solves it - the
// hidden units carve the plane into regions a final line can separate - but needs a way to train
// the hidden weights: backpropagation, popularised by Rumelhart, Hinton and Williams in 1986, which
// is exactly what module 06 built. This milestone trains a two-layer network with the student's
// own tensors (02), activations (03), layers (04), loss (05) and autograd (06) on XOR from several
// random starts, and a single-layer model on the same data for contrast.
//
//     x: (4, 2), y: (4, 1);  model: Linear(2, 8) -> ReLU -> Linear(8, 1);  loss: BCE with logits
#include <algorithm>
#include <vector>

#include "milestone.h"
#include "tinytorch/tinytorch.h"

namespace {

float accuracy(tt::Module& model, const tt::Tensor& x, const tt::Tensor& y) {
    tt::NoGradGuard no_grad;
    return tt::eq(tt::gt(model(x), tt::scalar(0.0f)), y).mean().item();
}

// Full-batch gradient descent: the four points every step. Stops early once every point is right
// and the loss is small. Returns the final loss.
float train(tt::Module& model, const tt::Tensor& x, const tt::Tensor& y, int max_epochs, float lr, const nlohmann::json& label,
            milestone::Reporter& report) {
    float loss_value = 0.0f;
    for (int epoch = 1; epoch <= max_epochs; ++epoch) {
        tt::Tensor loss = tt::binary_cross_entropy_with_logits(model(x), y);  // ()
        model.zero_grad();
        loss.backward();
        {
            tt::NoGradGuard no_grad;  // the update itself must not become part of the graph
            for (tt::Tensor& p : model.parameters())
                if (p.grad().defined()) p.add_(p.grad(), -lr);
        }
        loss_value = loss.item();
        const bool done = loss_value < 0.05f && accuracy(model, x, y) == 1.0f;
        if (epoch % 100 == 0 || done || epoch == max_epochs) {
            nlohmann::json fields = label;
            fields.update({{"epoch", epoch}, {"epochs", max_epochs}, {"loss", loss_value}, {"accuracy", accuracy(model, x, y)}});
            report.progress(fields);
        }
        if (done) break;
    }
    return loss_value;
}

}  // namespace

int main() {
    return milestone::run([](milestone::Reporter& report) {
        const tt::Tensor x = tt::tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}});
        const tt::Tensor y = tt::from_vector({0, 1, 1, 0}, {4, 1});

        report.log("Two-layer network, Linear(2, 8) -> ReLU -> Linear(8, 1), trained by backpropagation from 5 random starts.");
        std::vector<float> accuracies;
        for (uint64_t seed = 1; seed <= 5; ++seed) {
            tt::Generator gen(seed);
            tt::Sequential model({std::make_shared<tt::Linear>(2, 8, true, &gen), std::make_shared<tt::ReLU>(),
                                  std::make_shared<tt::Linear>(8, 1, true, &gen)});
            train(model, x, y, 5000, 0.5f, {{"model", "two-layer"}, {"seed", seed}}, report);
            accuracies.push_back(accuracy(model, x, y));
        }

        report.log("Single layer, Linear(2, 1), the perceptron's architecture, trained the same way:");
        tt::Generator gen(1969);
        tt::Linear single(2, 1, true, &gen);
        train(single, x, y, 2000, 0.5f, {{"model", "single-layer"}}, report);

        report.metrics({{"min_accuracy", *std::min_element(accuracies.begin(), accuracies.end())},
                        {"accuracies", accuracies},
                        {"single_layer_accuracy", accuracy(single, x, y)}});
    });
}
