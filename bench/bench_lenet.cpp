// bench_lenet - one training epoch of LeNet-5 on MNIST (batch 64, Adam), the reference engine
// beside PyTorch with the same model, batch and thread count.
//
//     build/bin/bench_lenet [--epochs N] [--threads T] [--limit IMAGES] [--only naive|openblas|pytorch]
//
// The engine runs twice: with module 02's naive gemm behind kernels::gemm (what a student's code
// runs until module 15), and with OpenBLAS behind the same dispatch point (T threads). PyTorch
// runs bench/pytorch/lenet_epoch.py with torch.set_num_threads(T) when python3 can import torch.
// The numbers that matter are the ratios engine/PyTorch, measured in this one run.
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bench_support.h"
#include "tinytorch/tinytorch.h"

namespace {

std::shared_ptr<tt::Sequential> lenet(tt::Generator& gen) {
    auto conv = [&gen](int64_t in, int64_t out, int64_t padding) {
        return std::make_shared<tt::Conv2d>(tt::Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 5, .padding = padding},
                                            &gen);
    };
    return std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
        conv(1, 6, 2), std::make_shared<tt::ReLU>(), std::make_shared<tt::MaxPool2d>(2),
        conv(6, 16, 0), std::make_shared<tt::ReLU>(), std::make_shared<tt::MaxPool2d>(2),
        std::make_shared<tt::Flatten>(),
        std::make_shared<tt::Linear>(400, 120, true, &gen), std::make_shared<tt::ReLU>(),
        std::make_shared<tt::Linear>(120, 84, true, &gen), std::make_shared<tt::ReLU>(),
        std::make_shared<tt::Linear>(84, 10, true, &gen)});
}

// Seconds for `epochs` passes of training over `train` (zero_grad, forward, loss, backward, step).
double train_seconds(const std::shared_ptr<tt::data::ImageDataset>& train, int epochs) {
    tt::Generator gen(1998);
    auto model = lenet(gen);
    tt::optim::Adam optimizer(model->parameters(), {.lr = 1e-3f});
    tt::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 1});
    const double start = bench::now_seconds();
    for (int epoch = 0; epoch < epochs; ++epoch) {
        for (const tt::data::Batch& batch : loader) {
            optimizer.zero_grad();
            tt::Tensor loss = tt::cross_entropy(model->forward(batch.inputs), batch.targets);
            loss.backward();
            optimizer.step();
        }
    }
    return (bench::now_seconds() - start) / epochs;
}

}  // namespace

int main(int argc, char** argv) {
    bench::ensure_openblas_kernels(argv);
    int epochs = 1, threads = 2;
    int64_t limit = 0;
    std::string only;  // run one of the three (for profiling)
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--epochs")) epochs = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--limit")) limit = std::atoll(argv[i + 1]);
        if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    }
    const std::string folder = tt::data::find_dataset("mnist");
    auto train = tt::data::load_mnist(folder, tt::data::Split::train,
                                      {std::make_shared<tt::data::Normalize>(std::vector<float>{0.1307f}, std::vector<float>{0.3081f})});
    if (limit > 0) train = train->head(limit);
    std::printf("LeNet-5, one epoch of %lld MNIST images, batch 64, Adam (mean of %d epochs)\n\n",
                static_cast<long long>(train->size()), epochs);

    auto wanted = [&only](const char* what) { return only.empty() || only == what; };
    bench::use_backend("naive", threads);
    const double naive = wanted("naive") ? train_seconds(train, epochs) : 0.0;
    bench::use_backend("openblas", threads);
    const double blas = wanted("openblas") ? train_seconds(train, epochs) : 0.0;
    bench::use_backend("naive", threads);

    double torch_seconds = 0.0;
    const std::string out = !wanted("pytorch") ? "" : bench::run_pytorch(bench::pytorch_script("lenet_epoch.py"),
                                               folder + " " + std::to_string(threads) + " " + std::to_string(train->size()) + " " +
                                                   std::to_string(epochs));
    if (!out.empty()) torch_seconds = nlohmann::json::parse(out).at("seconds").get<double>();

    const double images = static_cast<double>(train->size());
    std::printf("%-32s %10s %12s %16s\n", "", "s/epoch", "images/s", "engine/PyTorch");
    auto row = [&](const char* name, double seconds, bool engine) {
        if (seconds <= 0) return;
        std::printf("%-32s %10.2f %12.0f", name, seconds, images / seconds);
        if (engine && torch_seconds > 0) std::printf(" %16.2f", seconds / torch_seconds);
        std::printf("\n");
    };
    row("engine, naive gemm", naive, true);
    row(("engine, OpenBLAS (" + std::to_string(threads) + " threads)").c_str(), blas, true);
    if (torch_seconds > 0) {
        row(("PyTorch (" + std::to_string(threads) + " threads)").c_str(), torch_seconds, false);
    } else {
        std::printf("PyTorch: not measured (python3 cannot import torch; on Debian: apt-get install python3-torch)\n");
    }
    std::printf("\npeak resident memory of this process: %.0f MB\n", static_cast<double>(tt::peak_memory_bytes()) / 1e6);
    return 0;
}
