// alexnet.cpp - milestone 2012: a deep convolutional network on colour photos.
//
// Krizhevsky, Sutskever and Hinton's AlexNet (2012) won ImageNet by a wide margin with ideas this
// milestone uses at a size a 2-core machine trains in minutes: stacks of convolutions with ReLU,
// pooling, dropout, and data augmentation (random crops and mirror images, so the network never
// sees the same picture twice). Batch normalisation (Ioffe and Szegedy, 2015) makes the stack
// train fast and stably. CIFAR-10: 50,000 32x32 colour photos of ten classes (airplane ... truck).
// It runs the student's whole training stack: data pipeline and augmentation (07), Adam (08),
// Conv2d, BatchNorm2d and pooling (09), and the Trainer (10).
//
//     x: (64, 3, 32, 32)
//     [Conv2d 3x3 pad 1 (no bias) -> BatchNorm2d -> ReLU -> MaxPool2d(2)] x 3:  16, 32, 64 channels
//                                                            (64, 16, 16, 16) (64, 32, 8, 8) (64, 64, 4, 4)
//     Flatten (64, 1024) -> Dropout(0.25) -> Linear(1024, 10)
//     augmentation: RandomCrop(padding 4), RandomHorizontalFlip; then Normalize per channel
//     loss: cross-entropy;  Adam, lr warmed up to 4e-3 over the first epoch (a quarter of the run), then cosine decay;  4 epochs (--quick: 1 epoch of 2,000)
//
// A deployed model classifies one photo at a time, so in evaluation mode the prediction for an
// image must not depend on the other images in its batch: the milestone checks that too (batch
// norm must use its running statistics in eval mode).
#include <algorithm>
#include <cmath>
#include <memory>

#include "milestone.h"
#include "tinytorch/tinytorch.h"
#include "training_report.h"

namespace {

// The largest difference between the logits of the first 8 test images computed alone and
// computed inside a batch of 200 other images (eval mode). 0 for a correct eval mode.
double batch_dependence(tt::Module& model, const tt::data::Dataset& test) {
    std::vector<int64_t> few(8), many(200);
    for (int64_t i = 0; i < 8; ++i) few[i] = i;
    for (int64_t i = 0; i < 200; ++i) many[i] = i;
    tt::NoGradGuard no_grad;
    model.eval();
    const std::vector<float> alone = model.forward(test.get_batch(few).inputs).to_vector();                       // (8, 10)
    const std::vector<float> together = model.forward(test.get_batch(many).inputs).slice(0, 0, 8).to_vector();  // (8, 10)
    double worst = 0.0;
    for (size_t i = 0; i < alone.size(); ++i) {
        const double difference = std::fabs(static_cast<double>(alone[i]) - together[i]);
        worst = std::isnan(difference) ? 1e30 : std::max(worst, difference);  // NaN: as bad as it gets
    }
    return worst;
}

}  // namespace

int main(int argc, char** argv) {
    return milestone::run([&](milestone::Reporter& report) {
        const milestone::Options options = milestone::parse_options(argc, argv);
        const std::string folder = tt::data::find_dataset("cifar10");
        // Per-channel mean and standard deviation of CIFAR-10's training pixels in [0, 1].
        auto normalize = std::make_shared<tt::data::Normalize>(std::vector<float>{0.4914f, 0.4822f, 0.4465f},
                                                               std::vector<float>{0.2470f, 0.2435f, 0.2616f});
        std::shared_ptr<tt::data::ImageDataset> train = tt::data::load_cifar10(
            folder, tt::data::Split::train,
            {std::make_shared<tt::data::RandomCrop>(4, 2012), std::make_shared<tt::data::RandomHorizontalFlip>(0.5f, 2012), normalize});
        std::shared_ptr<tt::data::ImageDataset> test = tt::data::load_cifar10(folder, tt::data::Split::test, {normalize});
        if (options.quick) {
            train = train->head(2000);
            test = test->head(1000);
        }
        const int64_t batch_size = 64, epochs = options.quick ? 1 : 4;
        tt::data::DataLoader train_loader(train, {.batch_size = batch_size, .shuffle = true, .seed = 2012});
        tt::data::DataLoader test_loader(test, {.batch_size = 500});

        tt::Generator gen(2012);
        std::vector<std::shared_ptr<tt::Module>> layers;
        int64_t in = 3;
        for (int64_t out : {16, 32, 64}) {  // each block halves the image and doubles the channels
            layers.push_back(std::make_shared<tt::Conv2d>(
                tt::Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 3, .padding = 1, .bias = false}, &gen));
            layers.push_back(std::make_shared<tt::BatchNorm2d>(out));
            layers.push_back(std::make_shared<tt::ReLU>());
            layers.push_back(std::make_shared<tt::MaxPool2d>(2));
            in = out;
        }
        tt::Generator dropout_gen(2012);
        layers.push_back(std::make_shared<tt::Flatten>());                            // (N, 64 * 4 * 4)
        layers.push_back(std::make_shared<tt::Dropout>(0.25f, &dropout_gen));
        layers.push_back(std::make_shared<tt::Linear>(1024, 10, true, &gen));
        auto model = std::make_shared<tt::Sequential>();
        for (const auto& layer : layers) model->push_back(layer);
        report.log("CIFAR-10: " + std::to_string(train->size()) + " training and " + std::to_string(test->size()) +
                   " test images, random crops and flips. Model: 3 conv-BatchNorm-ReLU-pool blocks, " +
                   std::to_string(model->parameter_count()) + " parameters; Adam, batch 64, " + std::to_string(epochs) + " epochs.");

        // A large peak learning rate trains faster, but Adam is unstable with it while its moment
        // estimates come from a few batches: warm up over the first quarter of the run, then decay.
        tt::optim::Adam optimizer(model->parameters(), {.lr = 4e-3f});
        tt::optim::WarmupCosineLR schedule(optimizer, epochs * train_loader.num_batches() / 4, epochs * train_loader.num_batches());
        tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = epochs}, &schedule);
        milestone::TrainingReport progress(report, epochs, train_loader.num_batches(), batch_size, test->size());
        const double gradient_error = milestone::check_gradients(report, *model, *train);
        progress.attach(trainer);
        const tt::History history = trainer.fit(train_loader, &test_loader);
        history.save("history.json", "curves.svg", "alexnet (2012): conv-BatchNorm-ReLU on CIFAR-10");

        milestone::report_metrics(report, history, progress, train, batch_size, gradient_error,
                                  {{"eval_batch_dependence", batch_dependence(*model, *test)}});
    });
}
