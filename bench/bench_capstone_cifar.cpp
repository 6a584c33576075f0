// bench_capstone_cifar - the reference solution of the capstone's cifar track, run as
// `tito submit --competition cifar` runs it: cifar_train on the CIFAR-10 training set under a
// wall-clock Budget, then cifar_predict on the 10,000 test images in batches of 500. Beside it,
// PyTorch trains a 5-layer conv-BatchNorm-ReLU net on the same files with the same thread count
// (bench/pytorch/cifar_capstone.py), unless --no-pytorch.
//
//     TITO_DATA_DIR=../shared/datasets build/bin/bench_capstone_cifar [--budget S] [--threads T]
//                   [--limit IMAGES] [--pytorch-epochs E] [--no-pytorch]
//
// --limit trains on the first IMAGES training images only (quick checks); the test set is always
// the full 10,000. Prints the test accuracy, training and prediction seconds and images/s.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_support.h"
#include "tinytorch/capstone.h"
#include "tinytorch/tinytorch.h"

namespace {

struct Options {
    double budget = 240.0;
    int threads = 2;
    int64_t limit = 0;
    int pytorch_epochs = 4;
    bool pytorch = true;
};

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--no-pytorch") {
            options.pytorch = false;
        } else if (arg == "--budget" && has_value) {
            options.budget = std::atof(argv[++i]);
        } else if (arg == "--threads" && has_value) {
            options.threads = std::atoi(argv[++i]);
        } else if (arg == "--limit" && has_value) {
            options.limit = std::atoll(argv[++i]);
        } else if (arg == "--pytorch-epochs" && has_value) {
            options.pytorch_epochs = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr,
                         "usage: bench_capstone_cifar [--budget S] [--threads T] [--limit IMAGES] [--pytorch-epochs E] "
                         "[--no-pytorch]\n");
            std::exit(2);
        }
    }
    if (options.budget <= 0 || options.threads < 1 || options.limit < 0 || options.pytorch_epochs < 1) {
        std::fprintf(stderr, "bench_capstone_cifar: --budget, --threads and --pytorch-epochs must be positive\n");
        std::exit(2);
    }
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    bench::ensure_openblas_kernels(argv);
    const Options options = parse(argc, argv);
    // tito sets OPENBLAS_NUM_THREADS from the competition's rules; the benchmark sets it directly.
    openblas_set_num_threads(options.threads);
    try {
        const std::string folder = tt::data::find_dataset("cifar10");
        std::shared_ptr<tt::data::ImageDataset> train = tt::data::load_cifar10(folder, tt::data::Split::train);
        const std::shared_ptr<tt::data::ImageDataset> test = tt::data::load_cifar10(folder, tt::data::Split::test);
        if (options.limit > 0 && options.limit < train->size()) train = train->head(options.limit);
        std::printf("cifar capstone: %lld training images, %lld test images, budget %.0f s, %d threads (OpenBLAS %s)\n",
                    static_cast<long long>(train->size()), static_cast<long long>(test->size()), options.budget,
                    options.threads, openblas_get_corename());
        std::fflush(stdout);

        // Progress: one line per epoch and every 15 s, as tito would show it.
        double last_line = -1e9;
        int64_t last_epoch = 0;
        tt::capstone::Progress last;
        tt::capstone::Budget budget(options.budget, [&](const tt::capstone::Progress& p) {
            last = p;
            const double t = bench::now_seconds();
            if (p.epoch == last_epoch && t - last_line < 15.0) return;
            last_line = t;
            last_epoch = p.epoch;
            std::printf("  epoch %lld/%lld  step %lld/%lld  loss %.3f  %s\n", static_cast<long long>(p.epoch),
                        static_cast<long long>(p.epochs), static_cast<long long>(p.step), static_cast<long long>(p.steps),
                        p.loss, p.note.c_str());
            std::fflush(stdout);
        });
        std::shared_ptr<tt::Module> model = tt::capstone::cifar_train(train, budget);
        const double train_seconds = budget.elapsed();

        // Prediction as tito asks for it: batches of 500 images in [0, 1], no transforms.
        const double predict_start = bench::now_seconds();
        int64_t correct = 0;
        for (int64_t start = 0; start < test->size(); start += 500) {
            std::vector<int64_t> indices;
            for (int64_t i = start; i < std::min(start + 500, test->size()); ++i) indices.push_back(i);
            const tt::data::Batch batch = test->get_batch(indices);
            const std::vector<int64_t> labels = tt::capstone::cifar_predict(*model, batch.inputs);
            if (labels.size() != indices.size()) {
                std::fprintf(stderr, "cifar_predict returned %zu labels for %zu images\n", labels.size(), indices.size());
                return 1;
            }
            for (size_t i = 0; i < labels.size(); ++i)
                correct += labels[i] == static_cast<int64_t>(batch.targets.data()[i]);
        }
        const double predict_seconds = bench::now_seconds() - predict_start;
        const double accuracy = static_cast<double>(correct) / static_cast<double>(test->size());

        std::printf("\nengine (reference capstone)   accuracy %.2f%%   training %.1f s of %.0f (%lld epochs; last report: %s)\n",
                    100.0 * accuracy, train_seconds, options.budget, static_cast<long long>(last.epoch), last.note.c_str());
        std::printf("                              prediction %.2f s (%.0f images/s), %lld parameters, peak memory %.0f MiB\n",
                    predict_seconds, static_cast<double>(test->size()) / predict_seconds,
                    static_cast<long long>(model->parameter_count()), static_cast<double>(tt::peak_memory_bytes()) / (1 << 20));
        std::fflush(stdout);

        if (!options.pytorch) return 0;
        char args[1024];
        std::snprintf(args, sizeof args, "--data %s --threads %d --epochs %d --budget %g", folder.c_str(), options.threads,
                      options.pytorch_epochs, options.budget);
        const std::string output = bench::run_pytorch(bench::pytorch_script("cifar_capstone.py"), args);
        if (output.empty()) {
            std::printf("pytorch: not available (python3 cannot import torch, or the script failed)\n");
            return 0;
        }
        const nlohmann::json result = nlohmann::json::parse(output.substr(output.rfind('{')));
        std::printf("pytorch (5-layer conv-BN-ReLU) accuracy %.2f%%   training %.1f s (%d epochs), %lld parameters\n",
                    100.0 * result.at("accuracy").get<double>(), result.at("train_seconds").get<double>(),
                    result.at("epochs").get<int>(), result.at("parameters").get<long long>());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_capstone_cifar: %s\n", e.what());
        return 1;
    }
    return 0;
}
