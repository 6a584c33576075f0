// mlp.cpp - milestone 1986: a multi-layer perceptron reads handwritten digits.
//
// Rumelhart, Hinton and Williams' "Learning representations by back-propagating errors" (1986)
// trained networks with hidden layers by gradient descent with momentum - the recipe of every
// network since. This milestone trains one on MNIST's 60,000 handwritten digits with the student's
// data pipeline (07: the idx reader, Normalize, a shuffling DataLoader) and optimizer (08: SGD
// with momentum), on top of everything before: tensors, activations, Linear, cross-entropy and
// backpropagation.
//
//     x: (64, 1, 28, 28) -> Flatten (64, 784) -> Linear 256 -> ReLU -> Linear 128 -> ReLU -> Linear 10
//     loss: cross-entropy;  SGD, lr 0.05, momentum 0.9, cosine decay;  5 epochs (--quick: 1 epoch of 10,000 images)
#include <memory>

#include "milestone.h"
#include "tinytorch/tinytorch.h"
#include "training_report.h"

int main(int argc, char** argv) {
    return milestone::run([&](milestone::Reporter& report) {
        const milestone::Options options = milestone::parse_options(argc, argv);
        const std::string folder = tt::data::find_dataset("mnist");
        const std::vector<std::shared_ptr<tt::data::Transform>> normalize = {
            std::make_shared<tt::data::Normalize>(std::vector<float>{0.1307f}, std::vector<float>{0.3081f})};
        std::shared_ptr<tt::data::ImageDataset> train = tt::data::load_mnist(folder, tt::data::Split::train, normalize);
        std::shared_ptr<tt::data::ImageDataset> test = tt::data::load_mnist(folder, tt::data::Split::test, normalize);
        if (options.quick) {
            train = train->head(10000);
            test = test->head(1000);
        }
        const int64_t batch_size = 64, epochs = options.quick ? 1 : 5;
        tt::data::DataLoader train_loader(train, {.batch_size = batch_size, .shuffle = true, .seed = 1986});
        tt::data::DataLoader test_loader(test, {.batch_size = 1000});

        tt::Generator gen(1986);
        auto model = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
            std::make_shared<tt::Flatten>(),                      // (N, 1, 28, 28) -> (N, 784)
            std::make_shared<tt::Linear>(784, 256, true, &gen),  //                -> (N, 256)
            std::make_shared<tt::ReLU>(),
            std::make_shared<tt::Linear>(256, 128, true, &gen),  //                -> (N, 128)
            std::make_shared<tt::ReLU>(),
            std::make_shared<tt::Linear>(128, 10, true, &gen)});  //               -> (N, 10)
        report.log("MNIST: " + std::to_string(train->size()) + " training and " + std::to_string(test->size()) +
                   " test images. Model: 784-256-128-10 with ReLU, " + std::to_string(model->parameter_count()) +
                   " parameters; SGD with momentum 0.9 and cosine decay, batch 64, " + std::to_string(epochs) + " epochs.");

        tt::optim::SGD optimizer(model->parameters(), {.lr = 0.05f, .momentum = 0.9f});
        tt::optim::CosineAnnealingLR schedule(optimizer, epochs * train_loader.num_batches());
        tt::Trainer trainer(model, optimizer, tt::CrossEntropyLoss{}, {.epochs = epochs}, &schedule);
        milestone::TrainingReport progress(report, epochs, train_loader.num_batches(), batch_size, test->size());
        const double gradient_error = milestone::check_gradients(report, *model, *train);
        progress.attach(trainer);
        const tt::History history = trainer.fit(train_loader, &test_loader);
        history.save("history.json", "curves.svg", "mlp (1986): MNIST, 784-256-128-10, SGD with momentum");

        milestone::report_metrics(report, history, progress, train, batch_size, gradient_error);
    });
}
