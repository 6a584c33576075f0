// metrics.cpp - module 10: how good is the model? accuracy() on one batch, evaluate() on a data set.
//
// The loss is what training minimises; accuracy is what people ask about. Both are measured on
// data the model did not train on (the validation set), in *evaluation mode*:
//
//     model.eval()       Dropout passes everything through, BatchNorm uses its running statistics
//                        instead of the batch's: the prediction for an image no longer depends on
//                        which other images share its batch
//     NoGradGuard        no graph is recorded: no node per op, no saved activations. Evaluation
//                        needs no gradients, and a graph would keep every activation of the batch
//                        alive - for a big model that is most of the memory training uses
//
// and afterwards the model goes back to the mode it was in, because the next thing the Trainer does
// is train. A mean over a data set is a mean over *examples*: the last batch is often smaller
// (10,000 images in batches of 64: 156 of 64 and one of 16), and averaging the batch means as
// equals would count each of those 16 images four times as much as the others.
#include <cmath>
#include <cstdint>
#include <limits>

#include "tinytorch/autograd.h"
#include "tinytorch/training.h"

namespace tt {

// logits (N, C), targets (N,) class indices -> fraction of rows whose first largest score is the target.
double accuracy(const Tensor& logits, const Tensor& targets) {
    //! BEGIN SOLUTION
    //! HINT: check the shapes first (tt::Error naming both): logits 2-D (N, C) with C >= 1, targets (N,).
    //! HINT: the prediction of row i is the class of its largest score, searched along dim 1 (the classes), the first one on ties; read the values through contiguous().data(), row i starts at i * C.
    //! HINT: a target must be a whole number in [0, C): a label of 10 with 10 classes means the data and the model disagree - throw, do not count it as wrong.
    //! HINT: PyTorch's argmax counts a NaN as the largest value; do the same (a model whose scores are NaN is not right by accident).
    TT_CHECK(logits.dim() == 2 && logits.size(1) >= 1, "accuracy: logits must be (N, C) class scores, got shape ",
             shape_str(logits.shape()));
    const int64_t n = logits.size(0), classes = logits.size(1);
    TT_CHECK(targets.dim() == 1 && targets.size(0) == n, "accuracy: targets must be (N,) = (", n,
             ") class indices for logits of shape ", shape_str(logits.shape()), ", got shape ", shape_str(targets.shape()));
    if (n == 0) return std::numeric_limits<double>::quiet_NaN();  // no examples: no accuracy (0 / 0)

    const Tensor scores = logits.contiguous(), labels = targets.contiguous();
    const float* row = scores.data();
    const float* label = labels.data();
    int64_t correct = 0;
    for (int64_t i = 0; i < n; ++i, row += classes) {
        int64_t best = 0;  // the first maximum; a NaN wins and stays
        for (int64_t c = 1; c < classes && !std::isnan(row[best]); ++c)
            if (row[c] > row[best] || std::isnan(row[c])) best = c;
        const float target = label[i];
        TT_CHECK(target >= 0 && target < static_cast<float>(classes) && target == std::floor(target), "accuracy: target ",
                 target, " of row ", i, " is not a class index in [0, ", classes, ")");
        if (best == static_cast<int64_t>(target)) ++correct;
    }
    return static_cast<double>(correct) / static_cast<double>(n);
    //! END SOLUTION
}

namespace {
// Puts a module back into the mode it was in when the guard was made - also when an exception
// leaves the scope (a batch of the wrong shape, a NaN check, Ctrl-C turned into an exception).
class TrainingModeGuard {
public:
    explicit TrainingModeGuard(Module& model) : model_(model), was_training_(model.is_training()) {}
    ~TrainingModeGuard() { model_.train(was_training_); }
    TrainingModeGuard(const TrainingModeGuard&) = delete;
    TrainingModeGuard& operator=(const TrainingModeGuard&) = delete;

private:
    Module& model_;
    bool was_training_;
};
}  // namespace

Evaluation evaluate(Module& model, data::DataLoader& loader, const LossFunction& loss) {
    Evaluation result;
    //! BEGIN SOLUTION
    //! HINT: TrainingModeGuard mode(model) (above) restores the mode whatever happens; then model.eval() and a tt::NoGradGuard, both for the whole loop.
    //! HINT: for each batch: out = model(batch.inputs), l = loss(out, batch.targets); add l.item() * batch.size() to a total and batch.size() to the count - a mean over examples, not over batches.
    //! HINT: accuracy only means something for class scores: out (N, C) and targets (N,). Otherwise (regression, BCE's (N, 1)) the result's accuracy is NaN (std::numeric_limits<double>::quiet_NaN()).
    //! HINT: no batches at all: loss and accuracy are NaN, examples 0.
    TrainingModeGuard mode(model);
    model.eval();
    NoGradGuard no_grad;
    double loss_sum = 0.0, correct = 0.0;
    bool class_scores = true;
    for (const data::Batch& batch : loader) {
        const Tensor out = model(batch.inputs);
        const int64_t size = batch.size();
        loss_sum += static_cast<double>(loss(out, batch.targets).item()) * static_cast<double>(size);
        class_scores = class_scores && out.dim() == 2 && batch.targets.dim() == 1 && out.size(0) == batch.targets.size(0);
        if (class_scores && size > 0) correct += accuracy(out, batch.targets) * static_cast<double>(size);
        result.examples += size;
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    result.loss = result.examples > 0 ? loss_sum / static_cast<double>(result.examples) : nan;
    result.accuracy = result.examples > 0 && class_scores ? correct / static_cast<double>(result.examples) : nan;
    //! END SOLUTION
    return result;
}

}  // namespace tt
