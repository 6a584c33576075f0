// cifar.cpp - the cifar competition: train on CIFAR-10 within a time budget, then label the test
// images. Linked with the student's code (module 20's cifar_train / cifar_predict on their engine)
// and run by `tito submit --competition cifar` (cli/competitions.cpp), which takes the time and
// computes the accuracy itself: this program only does the work and says when each step is done.
//
//     cifar --train-folder DIR --budget SECONDS --requests DIR
//
//   1. loads the training set from --train-folder (data_batch_1.bin ... data_batch_5.bin, nothing
//      else: tito links the real files there, or writes a subset for --quick) and reports
//      {"phase": "loaded", "identity": {...}, "train_images": N};
//   2. starts the Budget and calls cifar_train; its progress becomes {"phase": "training", ...}
//      reports; on return reports {"phase": "trained", "parameters": P, "model_bytes": B};
//   3. waits for tito's test_images.bin in --requests (competition.h has its format) - tito writes
//      it only after "trained", and starts the prediction clock then;
//   4. labels them in batches of at most 500 and reports each batch as
//      {"predictions": [labels...], "offset": first image}, then {"phase": "done"}.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "competition.h"
#include "tinytorch/capstone.h"
#include "tinytorch/tinytorch.h"

namespace {

struct Arguments {
    std::string train_folder, requests;
    double budget = 0.0;
};

Arguments parse_arguments(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--train-folder") {
            args.train_folder = value;
        } else if (flag == "--budget") {
            args.budget = std::atof(value.c_str());
        } else if (flag == "--requests") {
            args.requests = value;
        } else {
            throw tt::Error("unknown argument '" + flag + "' (the cifar program takes --train-folder DIR --budget S --requests DIR)");
        }
    }
    if (args.train_folder.empty() || args.requests.empty() || args.budget <= 0)
        throw tt::Error("the cifar program needs --train-folder DIR --budget SECONDS --requests DIR (tito passes them)");
    return args;
}

int64_t count_elements(const std::vector<tt::Tensor>& tensors) {
    int64_t total = 0;
    for (const tt::Tensor& t : tensors) total += t.numel();
    return total;
}

// How many images cifar_predict gets at once (capstone.h promises at most this many).
constexpr int64_t kBatch = 500;

}  // namespace

int main(int argc, char** argv) {
    return competition::run([&](competition::Reporter& reporter) {
        const Arguments args = parse_arguments(argc, argv);
        const nlohmann::json identity = competition::identity();

        // 1. The training set, no transforms: what to add is the student's decision (capstone.h).
        std::shared_ptr<tt::data::ImageDataset> train_set = tt::data::load_cifar10(args.train_folder, tt::data::Split::train);
        reporter.send({{"phase", "loaded"}, {"identity", identity}, {"train_images", train_set->size()}});

        // 2. Training. The Budget starts now; tito's clock started at the "loaded" report above.
        tt::capstone::Budget budget(args.budget, [&reporter](const tt::capstone::Progress& p) {
            reporter.send({{"phase", "training"}, {"epoch", p.epoch}, {"epochs", p.epochs}, {"step", p.step},
                           {"steps", p.steps}, {"loss", p.loss}, {"note", p.note}});
        });
        std::shared_ptr<tt::Module> model = tt::capstone::cifar_train(train_set, budget);
        if (!model) throw tt::Error("cifar_train returned no model (a null pointer)");
        std::vector<tt::Tensor> buffers;
        for (const auto& [name, buffer] : model->named_buffers()) buffers.push_back(buffer);
        const int64_t parameters = count_elements(model->parameters());
        const int64_t model_bytes = 4 * (parameters + count_elements(buffers));  // float32
        reporter.send({{"phase", "trained"}, {"parameters", parameters}, {"model_bytes", model_bytes}});
        train_set.reset();  // the training images are not needed any more: give their memory back

        // 3. The test images, once tito has them ready.
        const auto path = competition::wait_for_request(args.requests, "test_images.bin");
        const competition::ImagesFile images = competition::parse_images(tt::data::read_bytes(path.string()));
        const int64_t C = images.channels, H = images.height, W = images.width, n = images.count;

        // 4. Predictions, batch by batch, at the training set's scale ([0, 1], capstone.h).
        tt::NoGradGuard no_grad;
        for (int64_t start = 0; start < n; start += kBatch) {
            const int64_t B = std::min(kBatch, n - start);
            tt::Tensor batch = tt::empty({B, C, H, W});
            float* x = batch.data();
            const uint8_t* pixels = images.pixels.data() + start * C * H * W;
            for (int64_t i = 0; i < B * C * H * W; ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
            const std::vector<int64_t> labels = tt::capstone::cifar_predict(*model, batch);
            if (static_cast<int64_t>(labels.size()) != B)
                throw tt::Error("cifar_predict returned " + std::to_string(labels.size()) + " labels for a batch of " + std::to_string(B) +
                                " images: it must return exactly one label per image");
            reporter.send({{"predictions", labels}, {"offset", start}});
        }
        reporter.send({{"phase", "done"}});
    });
}
