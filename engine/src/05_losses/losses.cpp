// losses.cpp - module 05: one number that says how wrong the model is.
//
// Training minimises the loss, so everything downstream - the gradients, the optimizer, whether
// the run converges at all - depends on it being right *and finite*. Three ideas carry the module:
//
// 1. Work with logits, not probabilities. softmax then log loses everything below e^-104 (a float
//    underflows to 0 and log(0) = -inf); the log-sum-exp form never leaves log space:
//        -log softmax(x)[k] = log(sum_j e^(x_j - m)) - (x_k - m)        m = max_j x_j
//    Same for two classes: log(sigmoid(x)) is written with log1p(e^-|x|), never log(1/(1+e^-x)).
// 2. Fuse the gradient. d(cross_entropy)/d(logits) is simply softmax(x) - onehot(k): the forward
//    saves the probabilities it computed anyway, and CrossEntropyBackward is one subtraction per
//    element, instead of a chain of log, exp, sum and division nodes, each with its own (N, C)
//    temporary to store and to differentiate through.
// 3. Validate the data. Class indices arrive as floats (every tensor holds floats): 2.5, -1 or C
//    would read outside a row or pick a wrong class silently; the check costs one compare per
//    example and names the bad value.
//
// Shapes (N: batch, C: classes). Reduction::mean averages over examples (cross_entropy: N) or
// elements (the others: numel), Reduction::sum adds them, Reduction::none returns them:
//     cross_entropy(logits (N, C), targets (N,)) -> () or (N,);  logits (C,) with a 0-d target -> ()
//     mse_loss / binary_cross_entropy(_with_logits)(input, target of the same shape) -> () or that shape
//
// Targets are data: the backward nodes give them no gradient (they are passed to the graph
// detached). mse_loss is the exception: it is built from module-02 ops, so its gradient flows into
// both arguments, as in PyTorch (useful when both are model outputs).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] An elementwise loss compares element i of input with element i of target. Broadcasting
// would "work" and be wrong: predictions (N, 1) against targets (N,) broadcast to (N, N), a loss over
// every pair, a classic silent bug. So the shapes must match exactly.
void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
    TT_CHECK(input.shape() == target.shape(), op, ": input ", shape_str(input.shape()), " and target ",
             shape_str(target.shape()), " must have the same shape (no broadcasting in a loss); reshape one of them, e.g. ",
             "target.view(input.shape())");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Mean squared error: regression
// ---------------------------------------------------------------------------------------------

// (input - target)^2, averaged or summed. input, target: same shape -> () or that shape (none).
// Built from module-02 ops, so it needs no backward node: autograd differentiates through sub, mul
// and mean, giving d/d(input) = 2 (input - target) / n for the mean.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    check_same_shape("mse_loss", input, target);
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: tensor ops only (-, *, mean, sum): each records its own node, so backward works with no code of yours.
    const Tensor diff = input - target;
    const Tensor squared = diff * diff;  // one multiply per element; pow(diff, 2) reads the same
    if (reduction == Reduction::none) {
        out = squared;
    } else if (reduction == Reduction::sum) {
        out = sum(squared);
    } else {
        out = mean(squared);
    }
    //! END SOLUTION
    return out;
}

// ---------------------------------------------------------------------------------------------
// Cross-entropy: C classes, from logits
// ---------------------------------------------------------------------------------------------

// For one example with logits x (C,) and class k, with q the target distribution (one-hot(k), or
// smoothed: 1 - s on k plus s / C on every class) and log p = log_softmax(x):
//     loss = -sum_c q_c log p_c = (1 - s) * (-log p_k) + s * mean_c(-log p_c)
//     -log p_c = lse - (x_c - m),   lse = log(sum_j e^(x_j - m)),   m = max_j x_j
// logits (N, C), targets (N,) -> () for mean (over N) / sum, (N,) for none; logits (C,), target ().
//
// The softmax probabilities are a by-product (e^(x_c - m) / sum, computed for lse anyway) and are
// all CrossEntropyBackward needs. Storing them costs N * C floats, so they are kept only when a
// backward can follow (grad mode on, logits requiring grad); evaluation under NoGradGuard pays nothing.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, Reduction reduction, float label_smoothing) {
    TT_CHECK(logits.dim() == 1 || logits.dim() == 2, "cross_entropy: expects logits (N, C), or (C,) for one example, got ",
             shape_str(logits.shape()));
    TT_CHECK(logits.size(-1) > 0, "cross_entropy: logits ", shape_str(logits.shape()), " have no classes (C = 0)");
    const Shape target_shape = logits.dim() == 2 ? Shape{logits.size(0)} : Shape{};
    TT_CHECK(targets.shape() == target_shape, "cross_entropy: logits ", shape_str(logits.shape()), " need targets of shape ",
             shape_str(target_shape), " (one class index per example), got ", shape_str(targets.shape()));
    TT_CHECK(label_smoothing >= 0.0f && label_smoothing <= 1.0f,
             "cross_entropy: label_smoothing must be in [0, 1] (as in PyTorch), got ", label_smoothing);
    Tensor out, probabilities;
    //! BEGIN SOLUTION
    //! HINT: one loop over the N rows of logits.detach().contiguous() (C floats each): the max m, then sum of e^(x - m), then the loss of that row.
    //! HINT: check each target before using it as an index: a whole number in [0, C); the error names the op, the shapes and the bad value.
    //! HINT: allocate probabilities (logits' shape) only when is_grad_enabled() && logits.requires_grad(); fill them with e^(x - m) / sum on the way.
    //! HINT: with label smoothing, mean_c(-log p_c) = lse - mean_c(x_c - m). Skip that term when s = 0: 0 * (-inf) would be NaN.
    const Tensor x = logits.detach().contiguous();  // (N, C)
    const Tensor t = targets.detach().contiguous();  // (N,)
    const int64_t C = logits.size(-1), N = t.numel();
    const double s = label_smoothing;
    if (is_grad_enabled() && logits.requires_grad()) probabilities = empty(logits.shape());
    Tensor losses = empty(targets.shape());  // (N,), or () for one example
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) {
        const float* row = x.data() + n * C;  // (C,)
        const float target = t.data()[n];
        TT_CHECK(target >= 0.0f && target < static_cast<float>(C) && std::floor(target) == target,
                 "cross_entropy: targets[", n, "] = ", target, " is not a class index; logits ", shape_str(logits.shape()),
                 " have classes 0 to ", C - 1, ", so targets ", shape_str(targets.shape()),
                 " must hold whole numbers in [0, ", C, ")");
        const int64_t k = static_cast<int64_t>(target);

        float m = -std::numeric_limits<float>::infinity();
        for (int64_t c = 0; c < C; ++c) m = row[c] > m ? row[c] : m;
        // x - m, with 0 for the entries equal to m: a row of all -inf is then uniform, as in log_softmax.
        auto shifted = [m](float v) { return v == m ? 0.0f : v - m; };
        float* p = probabilities.defined() ? probabilities.data() + n * C : nullptr;  // (C,) or none
        double sum_exp = 0.0, sum_shifted = 0.0;
        for (int64_t c = 0; c < C; ++c) {
            const float shift = shifted(row[c]);
            const float e = std::exp(shift);  // in [0, 1]: cannot overflow
            sum_exp += e;
            sum_shifted += shift;
            if (p) p[c] = e;
        }
        const double lse = std::log(sum_exp);  // in [0, log C]: the sum is >= e^0 = 1
        double loss = lse - shifted(row[k]);   // -log p_k
        if (s > 0.0) loss = (1.0 - s) * loss + s * (lse - sum_shifted / static_cast<double>(C));
        losses.data()[n] = static_cast<float>(loss);
        total += loss;
        if (p) {
            const float inverse = static_cast<float>(1.0 / sum_exp);
            for (int64_t c = 0; c < C; ++c) p[c] *= inverse;
        }
    }
    if (reduction == Reduction::none) {
        out = losses;
    } else {
        out = scalar(static_cast<float>(reduction == Reduction::mean ? total / static_cast<double>(N) : total));
    }
    //! END SOLUTION
    return record<CrossEntropyBackward>(out, {logits}, probabilities, targets.detach(), reduction, label_smoothing);
}

// ---------------------------------------------------------------------------------------------
// Binary cross-entropy: two classes, one probability (or logit) per element
// ---------------------------------------------------------------------------------------------

// -(y log p + (1 - y) log(1 - p)) per element; y may be any value in [0, 1] (soft labels).
// p = 0 or 1 makes a log -inf, and 0 * -inf = NaN; clamping each log at -100 (as PyTorch does)
// keeps the loss finite and large (100 per confidently wrong element). log(1 - p) is computed as
// log1p(-p), which stays accurate when p is tiny (1 - p would round to exactly 1 below p ~ 6e-8).
// probabilities, targets: same shape -> () for mean (over every element) / sum, that shape for none.
Tensor binary_cross_entropy(const Tensor& probabilities, const Tensor& targets, Reduction reduction) {
    check_same_shape("binary_cross_entropy", probabilities, targets);
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: loop over the elements of contiguous copies; check 0 <= p <= 1 first (a NaN fails that check too) and name the bad value.
    //! HINT: std::max(std::log(p), -100.0f) is the clamp.
    const Tensor p = probabilities.detach().contiguous(), y = targets.detach().contiguous();
    Tensor losses = empty(p.shape());
    const int64_t n = p.numel();
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const float pi = p.data()[i], yi = y.data()[i];
        TT_CHECK(pi >= 0.0f && pi <= 1.0f, "binary_cross_entropy: input element ", i, " (row-major) of input ",
                 shape_str(probabilities.shape()), " is ", pi, ", not a probability in [0, 1]; pass sigmoid(logits), or "
                 "better, the logits to binary_cross_entropy_with_logits");
        const float log_p = std::max(std::log(pi), -100.0f);
        const float log_not_p = std::max(std::log1p(-pi), -100.0f);
        const float loss = -(yi * log_p + (1.0f - yi) * log_not_p);
        losses.data()[i] = loss;
        total += loss;
    }
    if (reduction == Reduction::none) {
        out = losses;
    } else {
        out = scalar(static_cast<float>(reduction == Reduction::mean ? total / static_cast<double>(n) : total));
    }
    //! END SOLUTION
    return record<BCEBackward>(out, {probabilities, targets.detach()}, reduction);
}

// The same loss on p = sigmoid(x), from the logits x. Expanding the logs of the sigmoid:
//     -(y log s(x) + (1 - y) log(1 - s(x))) = max(x, 0) - x y + log(1 + e^-|x|)
// where e^-|x| is in (0, 1]: nothing overflows for any x, and log1p keeps the last term exact when
// e^-|x| is tiny. Cheaper and more accurate than sigmoid followed by binary_cross_entropy: there
// sigmoid(x) underflows to 0 below x ~ -104 and the log hits the clamp, so with y = 1 the logits
// -200 and -1000 both cost 100, where the true losses (this formula's) are 200 and 1000.
// logits, targets: same shape -> () for mean / sum, that shape for none.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, Reduction reduction) {
    check_same_shape("binary_cross_entropy_with_logits", logits, targets);
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: the same loop and reductions as binary_cross_entropy, with the stable formula above; no input check is needed: any logit is valid.
    const Tensor x = logits.detach().contiguous(), y = targets.detach().contiguous();
    Tensor losses = empty(x.shape());
    const int64_t n = x.numel();
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const float xi = x.data()[i], yi = y.data()[i];
        const float loss = std::max(xi, 0.0f) - xi * yi + std::log1p(std::exp(-std::fabs(xi)));
        losses.data()[i] = loss;
        total += loss;
    }
    if (reduction == Reduction::none) {
        out = losses;
    } else {
        out = scalar(static_cast<float>(reduction == Reduction::mean ? total / static_cast<double>(n) : total));
    }
    //! END SOLUTION
    return record<BCEWithLogitsBackward>(out, {logits, targets.detach()}, reduction);
}

}  // namespace tt
