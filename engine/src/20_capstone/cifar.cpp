// cifar.cpp - module 20, the cifar track: train the best CIFAR-10 classifier you can in a fixed
// wall-clock budget, on your own engine.
//
// The race is against the clock, not a number of epochs, so everything is planned in *time*:
//
//     fraction = budget.elapsed() / training_seconds          0 at the start, 1 when time is up
//     lr       = peak * (0.1 + 0.9 * fraction / warmup)        while fraction < warmup (0.15)
//              = peak * (1 - fraction) / (1 - warmup)          after it (down to 0 at the end)
//
// A schedule by step or by epoch has to guess how many steps fit; a schedule by time cannot miss:
// on a fast machine the same code runs more epochs, on a busy one fewer, and both end with the
// learning rate at 0 - where the weights are averaged over the noise of the last steps and the
// accuracy is highest - just before the budget runs out. Stop a little early: tito records a run
// that returns after the budget as a failed attempt, and the last step must finish too.
//
// Where the time goes. One training step of the net below costs about 3 x 30 MFLOP per image -
// the forward, then the two products of the backward - all of it in the convolutions' matrix
// products (kernels::gemm, made fast by use_fastest_gemm(): OpenBLAS). With OpenBLAS these take
// only about half of the time (perf record); the rest goes to the layers around them - batch
// norm, ReLU, pooling, im2col - whose cost follows the number of activations, not the FLOPs. The
// first block, at the full 32 x 32, is cheap in FLOPs (3 input channels) but has the most
// activations; every later block halves the image and doubles the channels, so each costs about
// the same FLOPs while its activations shrink. So: a narrow first layer, wide late ones.
//
//     x: (B, 3, 32, 32), normalised per channel
//     [Conv2d 3x3 pad 1 (no bias) -> BatchNorm2d -> ReLU -> MaxPool2d(2)] x 4:  32, 64, 128, 256 channels
//                                           (B, 32, 16, 16) (B, 64, 8, 8) (B, 128, 4, 4) (B, 256, 2, 2)
//     Flatten (B, 1024) -> Linear(1024, 10)
//     SGD with Nesterov momentum 0.9, weight decay 5e-4, batch 128, label smoothing 0.1;
//     augmentation: random crops (padding 2) and mirror images; prediction averages the logits of
//     each image and its mirror image (test-time augmentation: a cat facing left is still a cat).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/capstone.h"
#include "tinytorch/data.h"
#include "tinytorch/errors.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optim.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

namespace tt::capstone {

namespace {

// [given] Per-channel mean and standard deviation of CIFAR-10's training pixels in [0, 1]: the
// same numbers normalise the training images (a transform) and the images cifar_predict gets.
const std::vector<float> kCifarMean = {0.4914f, 0.4822f, 0.4465f};
const std::vector<float> kCifarStd = {0.2470f, 0.2435f, 0.2616f};

// [given] images (B, 3, H, W) in [0, 1] -> a new tensor, normalised per channel as the training set.
[[maybe_unused]] Tensor normalize_images(const Tensor& images) {
    Tensor out = images.detach().contiguous().clone();
    const int64_t B = out.size(0), C = out.size(1), plane = out.size(2) * out.size(3);
    float* data = out.data();
    for (int64_t n = 0; n < B; ++n)
        for (int64_t c = 0; c < C; ++c) {
            float* p = data + (n * C + c) * plane;
            const float mean = kCifarMean[c], inverse_std = 1.0f / kCifarStd[c];
            for (int64_t i = 0; i < plane; ++i) p[i] = (p[i] - mean) * inverse_std;
        }
    return out;
}

// [given] images (B, C, H, W) -> the same images mirrored left to right (x -> W - 1 - x).
[[maybe_unused]] Tensor mirror_images(const Tensor& images) {
    const Tensor x = images.detach().contiguous();
    Tensor out = empty(x.shape());
    const int64_t rows = x.size(0) * x.size(1) * x.size(2), W = x.size(3);
    for (int64_t r = 0; r < rows; ++r) {
        const float* src = x.data() + r * W;
        float* dst = out.data() + r * W;
        for (int64_t i = 0; i < W; ++i) dst[i] = src[W - 1 - i];
    }
    return out;
}

//! BEGIN SOLUTION
//! HINT: profile first (perf record): with OpenBLAS behind gemm about half the time is in the matrix products; the rest is in the layers around them (batch norm, pooling, im2col), which scale with the number of activations, not with the FLOPs.
//! HINT: conv -> batch norm -> ReLU -> pool blocks train fast and stably (the alexnet milestone's net); widen the channels as the image shrinks, and keep the first layer narrow - it runs on the full 32 x 32 image.
//! HINT: a bias before BatchNorm2d is wasted work: the normalisation subtracts it again (Conv2dOptions .bias = false).
//! HINT: after a short run batch norm's running statistics (momentum 0.1) still remember their start (mean 0, variance 1), and eval mode uses them: measure them again over a few batches at the end (train mode, no gradients).
// The model: four conv-BatchNorm-ReLU-pool blocks, then one linear layer (see the top of the file).
std::shared_ptr<Sequential> make_model(Generator& gen) {
    auto model = std::make_shared<Sequential>();
    int64_t in = 3, side = 32;
    for (int64_t out : {32, 64, 128, 256}) {
        model->push_back(std::make_shared<Conv2d>(
            Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 3, .padding = 1, .bias = false}, &gen));
        model->push_back(std::make_shared<BatchNorm2d>(out));
        model->push_back(std::make_shared<ReLU>());
        model->push_back(std::make_shared<MaxPool2d>(2));
        in = out;
        side /= 2;
    }
    model->push_back(std::make_shared<Flatten>());                          // (B, 256 * 2 * 2)
    model->push_back(std::make_shared<Linear>(in * side * side, 10, true, &gen));
    return model;
}

// The learning rate at `fraction` (0..1) of the training time: a linear warm-up, then a linear
// decay to 0 (the "one-cycle" shape). Momentum SGD is unstable with a large rate while BatchNorm's
// statistics and the momentum buffers still come from a few random batches: hence the warm-up.
float learning_rate_at(double fraction, float peak) {
    constexpr double warmup = 0.15;
    fraction = std::clamp(fraction, 0.0, 1.0);
    const double factor = fraction < warmup ? 0.1 + 0.9 * fraction / warmup : (1.0 - fraction) / (1.0 - warmup);
    return static_cast<float>(peak * factor);
}

// Batch norm's running statistics follow the batches with momentum 0.1: after a short run (a few
// dozen steps) they are still partly the initial mean 0 and variance 1, and evaluation - which
// uses them - goes wrong although training went well. So, at the end, measure them again: the
// average of `batches` batches' statistics in training mode (momentum 1 / (i + 1) makes the
// i-th batch weigh as much as each before it), with the final weights, no gradients.
// Stops early (after at least one batch) when `out_of_time` says so.
void recalibrate_batch_norm(Sequential& model, data::DataLoader& loader, int64_t batches,
                            const std::function<bool()>& out_of_time) {
    std::vector<std::shared_ptr<BatchNorm2d>> norms;
    for (size_t i = 0; i < model.size(); ++i)
        if (auto norm = std::dynamic_pointer_cast<BatchNorm2d>(model[i])) norms.push_back(norm);
    NoGradGuard no_grad;
    model.train();
    const std::vector<int64_t> order = loader.next_epoch_order();
    batches = std::min(batches, loader.num_batches());
    for (int64_t k = 0; k < batches && (k == 0 || !out_of_time()); ++k) {
        for (const auto& norm : norms) norm->momentum = 1.0f / static_cast<float>(k + 1);
        model.forward(loader.batch(order, k).inputs);
    }
    for (const auto& norm : norms) norm->momentum = 0.1f;
    model.eval();
}
//! END SOLUTION

}  // namespace

std::shared_ptr<Module> cifar_train(std::shared_ptr<data::ImageDataset> train_set, Budget& budget) {
    std::shared_ptr<Module> model;
    //! BEGIN SOLUTION
    //! HINT: use_fastest_gemm() first: nearly all the time goes into the convolutions' matrix products.
    //! HINT: train_set->transforms = {RandomCrop, RandomHorizontalFlip, Normalize(kCifarMean, kCifarStd)}: the network never sees the same picture twice, and normalised inputs train faster.
    //! HINT: plan in time, not in epochs: stop at a fixed fraction of budget.seconds() (keep a margin for the last step), and set the learning rate from budget.elapsed() / that time before every step.
    //! HINT: the data set may be tiny (a grader's few hundred images in a few seconds): a batch size larger than the data set, or a last batch of one image, must not break anything.
    //! HINT: budget.report() after every step with the epoch, the step and the loss: tito shows it live (extra calls are dropped).
    use_fastest_gemm();
    TT_CHECK(train_set && train_set->size() >= 2, "cifar_train: the training set has ",
             train_set ? train_set->size() : 0, " images; at least 2 are needed (batch norm needs a batch)");
    train_set->transforms = {std::make_shared<data::RandomCrop>(2, 20), std::make_shared<data::RandomHorizontalFlip>(0.5f, 20),
                             std::make_shared<data::Normalize>(kCifarMean, kCifarStd)};

    // Training stops at `training_seconds`, 5% of the budget plus a second before the end: time
    // for the step running when it is reached, for measuring batch norm's statistics again, and
    // for the return to tito - even on a machine so busy that a step takes several seconds.
    const double training_seconds = std::max(0.5 * budget.seconds(), 0.95 * budget.seconds() - 1.0);
    const double recalibration_deadline = std::max(0.6 * budget.seconds(), 0.98 * budget.seconds() - 0.5);
    // Batches of 128 on CIFAR-10; smaller ones on a small data set, for more steps in the time.
    const int64_t batch_size = std::clamp<int64_t>(train_set->size() / 10, 2, 128);
    // drop_last: every step sees a full batch (a last batch of 1 image would leave batch norm
    // without statistics); the shuffle moves different images into the dropped rest every epoch.
    data::DataLoader loader(train_set, {.batch_size = batch_size, .shuffle = true, .drop_last = true, .seed = 20});

    Generator gen(20);
    const std::shared_ptr<Sequential> net = make_model(gen);
    model = net;
    model->train();
    // 0.1 for batches of 128, in proportion for smaller ones (the gradient of a smaller batch is
    // noisier: the same rate would take steps as large on a less certain direction).
    const float peak_lr = 0.1f * static_cast<float>(batch_size) / 128.0f;
    optim::SGD optimizer(model->parameters(),
                         {.lr = learning_rate_at(0.0, peak_lr), .momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = true});

    const int64_t steps_per_epoch = loader.num_batches();
    int64_t epoch = 0, images_seen = 0;
    double first_epoch_seconds = 0.0;
    bool done = false;
    while (!done) {
        ++epoch;
        const double epoch_start = budget.elapsed();
        const std::vector<int64_t> order = loader.next_epoch_order();
        for (int64_t k = 0; k < steps_per_epoch; ++k) {
            const double fraction = budget.elapsed() / training_seconds;
            if (fraction >= 1.0) {
                done = true;
                break;
            }
            optimizer.lr = learning_rate_at(fraction, peak_lr);
            const data::Batch batch = loader.batch(order, k);
            model->zero_grad();
            Tensor loss = cross_entropy(model->forward(batch.inputs), batch.targets, Reduction::mean, 0.1f);
            loss.backward();
            optimizer.step();
            images_seen += batch.size();

            // The planned number of epochs (the last one cut short): what the time allows at the
            // speed of the first epoch; 0 (not known yet) during the first.
            const int64_t planned =
                first_epoch_seconds > 0.0
                    ? std::max<int64_t>(epoch, static_cast<int64_t>(std::ceil(training_seconds / first_epoch_seconds)))
                    : 0;
            budget.report({.epoch = epoch,
                           .epochs = planned,
                           .step = k + 1,
                           .steps = steps_per_epoch,
                           .loss = loss.item(),
                           .note = "lr " + std::to_string(optimizer.lr).substr(0, 6) + ", " +
                                   std::to_string(static_cast<int64_t>(images_seen / std::max(budget.elapsed(), 1e-9))) +
                                   " images/s"});
        }
        if (epoch == 1) first_epoch_seconds = budget.elapsed() - epoch_start;
    }
    recalibrate_batch_norm(*net, loader, 20, [&] { return budget.elapsed() >= recalibration_deadline; });
    //! END SOLUTION
    return model;
}

std::vector<int64_t> cifar_predict(Module& model, const Tensor& images) {
    std::vector<int64_t> labels;
    //! BEGIN SOLUTION
    //! HINT: check the input is (B, 3, 32, 32) (a one-line tt::Error naming the shape otherwise).
    //! HINT: model.eval() and a NoGradGuard: batch norm then uses its running statistics, so an image's label does not depend on its batch, and no graph is built.
    //! HINT: normalise the images exactly as the training set was (normalize_images), then take the argmax of the logits of each row.
    //! HINT: mirror_images gives a second view of each image; adding both views' logits is usually worth a little accuracy.
    TT_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) == 32 && images.size(3) == 32,
             "cifar_predict: images of shape ", shape_str(images.shape()), "; expected (B, 3, 32, 32)");
    model.eval();
    NoGradGuard no_grad;
    const Tensor x = normalize_images(images);
    const Tensor logits = (model.forward(x) + model.forward(mirror_images(x))).contiguous();  // (B, 10)
    const int64_t B = logits.size(0), classes = logits.size(1);
    labels.resize(static_cast<size_t>(B));
    for (int64_t n = 0; n < B; ++n) {
        const float* row = logits.data() + n * classes;
        labels[static_cast<size_t>(n)] = std::max_element(row, row + classes) - row;
    }
    //! END SOLUTION
    return labels;
}

}  // namespace tt::capstone
