// lenet.cpp - milestone 1998: LeNet-5 reads handwritten digits with convolutions.
//
// LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to document recognition"
// (1998). Instead of one weight per pixel and hidden unit, a convolution slides one small filter
// over the whole image: the same 5x5 weights look for the same stroke everywhere, so the network
// has few weights (61,706 here, against 235,146 for the 1986 MLP) and tolerates a digit written a
// little to the left. Pooling halves the resolution after each convolution, so deeper filters see
// larger parts of the digit. This milestone trains it with the student's Conv2d and MaxPool2d
// (09) on top of modules 02-08.
//
//     x: (64, 1, 28, 28)
//     Conv2d(1, 6, 5, padding 2) -> ReLU -> MaxPool2d(2)     (64, 6, 14, 14)
//     Conv2d(6, 16, 5)           -> ReLU -> MaxPool2d(2)     (64, 16, 5, 5)
//     Flatten -> Linear(400, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10)
//     loss: cross-entropy;  Adam, lr 2e-3 with cosine decay;  4 epochs (--quick: 1 epoch of 8,000)
//
// --dataset fashion-mnist trains the same network on Zalando's Fashion-MNIST (same format, ten
// kinds of clothing), a harder problem: LeNet gets about 89% there.
#include <memory>

#include "milestone.h"
#include "tinytorch/tinytorch.h"
#include "training_report.h"

int main(int argc, char** argv) {
    return milestone::run([&](milestone::Reporter& report) {
        const milestone::Options options = milestone::parse_options(argc, argv);
        const std::string name = options.dataset.empty() ? "mnist" : options.dataset;
        if (name != "mnist" && name != "fashion-mnist")
            throw tt::Error("lenet trains on mnist or fashion-mnist, not '" + name + "'");
        // The mean and standard deviation of each training set's pixels in [0, 1].
        const bool fashion = name == "fashion-mnist";
        const std::vector<std::shared_ptr<tt::data::Transform>> normalize = {std::make_shared<tt::data::Normalize>(
            std::vector<float>{fashion ? 0.2860f : 0.1307f}, std::vector<float>{fashion ? 0.3530f : 0.3081f})};
        const std::string folder = tt::data::find_dataset(name);
        std::shared_ptr<tt::data::ImageDataset> train = tt::data::load_mnist(folder, tt::data::Split::train, normalize);
        std::shared_ptr<tt::data::ImageDataset> test = tt::data::load_mnist(folder, tt::data::Split::test, normalize);
        if (options.quick) {
            train = train->head(8000);
            test = test->head(1000);
        }
        const int64_t batch_size = 64, epochs = options.quick ? 1 : 4;
        tt::data::DataLoader train_loader(train, {.batch_size = batch_size, .shuffle = true, .seed = 1998});
        tt::data::DataLoader test_loader(test, {.batch_size = 500});

        tt::Generator gen(1998);
        auto conv = [&gen](int64_t in, int64_t out, int64_t padding) {
            return std::make_shared<tt::Conv2d>(
                tt::Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 5, .padding = padding}, &gen);
        };
        auto model = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
            conv(1, 6, 2), std::make_shared<tt::ReLU>(), std::make_shared<tt::MaxPool2d>(2),   // (N, 6, 14, 14)
            conv(6, 16, 0), std::make_shared<tt::ReLU>(), std::make_shared<tt::MaxPool2d>(2),  // (N, 16, 5, 5)
            std::make_shared<tt::Flatten>(),                                                 // (N, 400)
            std::make_shared<tt::Linear>(400, 120, true, &gen), std::make_shared<tt::ReLU>(),
            std::make_shared<tt::Linear>(120, 84, true, &gen), std::make_shared<tt::ReLU>(),
            std::make_shared<tt::Linear>(84, 10, true, &gen)});
        report.log(std::string(fashion ? "Fashion-MNIST" : "MNIST") + ": " + std::to_string(train->size()) + " training and " +
                   std::to_string(test->size()) + " test images. Model: LeNet-5, " + std::to_string(model->parameter_count()) +
                   " parameters; Adam, batch 64, " + std::to_string(epochs) + " epochs.");

        tt::optim::Adam optimizer(model->parameters(), {.lr = 2e-3f});
        tt::optim::CosineAnnealingLR schedule(optimizer, epochs * train_loader.num_batches());
        tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = epochs}, &schedule);
        milestone::TrainingReport progress(report, epochs, train_loader.num_batches(), batch_size, test->size());
        const double gradient_error = milestone::check_gradients(report, *model, *train);
        progress.attach(trainer);
        const tt::History history = trainer.fit(train_loader, &test_loader);
        history.save("history.json", "curves.svg", std::string("lenet (1998): LeNet-5 on ") + (fashion ? "Fashion-MNIST" : "MNIST"));

        milestone::report_metrics(report, history, progress, train, batch_size, gradient_error);
    });
}
