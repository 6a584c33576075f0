// losses.h - module 05: how wrong is the model? One number to minimise.
//
//     mse_loss                            regression: mean((input - target)^2)
//     cross_entropy                       classification with C classes, from raw scores (logits)
//     binary_cross_entropy                two classes, from probabilities in (0, 1)
//     binary_cross_entropy_with_logits    two classes, from logits (stable: prefer this one)
//
// Shapes (N: batch, C: classes):
//     cross_entropy: logits (N, C), targets (N,) holding class indices 0..C-1 as floats -> ()
//     the others:    input and target of the same shape                                -> ()
// With Reduction::none the per-example losses are returned instead: (N,) for cross_entropy, the
// input's shape for the others.
//
// Stability is the point of this module: cross_entropy never computes softmax and then log
// (softmax underflows to 0 and log(0) = -inf); it uses log-sum-exp. BCE-with-logits never computes
// sigmoid then log for the same reason.
#pragma once

#include "tinytorch/tensor.h"

namespace tt {

enum class Reduction { mean, sum, none };

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);

// label_smoothing in [0, 1]: the target distribution puts 1 - s on the true class and s / C on
// every class (the true one included), as PyTorch does (s = 1: the uniform distribution).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, Reduction reduction = Reduction::mean,
                     float label_smoothing = 0.0f);

// -(y log p + (1 - y) log(1 - p)); each log is clamped at -100 (as PyTorch) so p = 0 or 1 is finite.
Tensor binary_cross_entropy(const Tensor& probabilities, const Tensor& targets, Reduction reduction = Reduction::mean);

// The same loss on sigmoid(logits), computed as max(x, 0) - x y + log(1 + e^-|x|).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets,
                                        Reduction reduction = Reduction::mean);

// [given] The loss objects of a training loop: a loss function with its settings.
//     tt::CrossEntropyLoss criterion;  Tensor loss = criterion(model(x), y);
struct MSELoss {
    Reduction reduction = Reduction::mean;
    Tensor operator()(const Tensor& input, const Tensor& target) const { return mse_loss(input, target, reduction); }
};
struct CrossEntropyLoss {
    Reduction reduction = Reduction::mean;
    float label_smoothing = 0.0f;
    Tensor operator()(const Tensor& logits, const Tensor& targets) const {
        return cross_entropy(logits, targets, reduction, label_smoothing);
    }
};
struct BCELoss {
    Reduction reduction = Reduction::mean;
    Tensor operator()(const Tensor& probabilities, const Tensor& targets) const {
        return binary_cross_entropy(probabilities, targets, reduction);
    }
};
struct BCEWithLogitsLoss {
    Reduction reduction = Reduction::mean;
    Tensor operator()(const Tensor& logits, const Tensor& targets) const {
        return binary_cross_entropy_with_logits(logits, targets, reduction);
    }
};

}  // namespace tt
