// bench_conv - Conv2d forward + backward on a CIFAR-sized batch, the engine beside PyTorch.
//
//     build/bin/bench_conv [--threads T] [--repeats R] [--only naive|openblas]
//
// x: (64, 3, 32, 32) -> Conv2d(3, 32, 3, padding 1) -> (64, 32, 32, 32); backward for x, weight and
// bias from a fixed upstream gradient. 2 * 64 * 32 * 27 * 1024 = 113 MFLOP forward, twice that
// backward. The engine runs with the naive gemm and with OpenBLAS behind the dispatch point;
// PyTorch (bench/pytorch/conv.py) with the same thread count. Median of R runs after a warm-up.
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "bench_support.h"
#include "tinytorch/tinytorch.h"

int main(int argc, char** argv) {
    bench::ensure_openblas_kernels(argv);
    int threads = 2, repeats = 9;
    std::string only;  // one engine backend, no PyTorch (for profiling)
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    }
    tt::Generator gen(7);
    const tt::Tensor x = tt::randn({64, 3, 32, 32}, &gen).requires_grad_();
    tt::Conv2d conv(tt::Conv2dOptions{.in_channels = 3, .out_channels = 32, .kernel_size = 3, .padding = 1}, &gen);
    const tt::Tensor upstream = tt::randn({64, 32, 32, 32}, &gen);
    auto step = [&] {
        x.impl().grad.reset();
        conv.zero_grad();
        conv.forward(x).backward(upstream);
    };
    auto forward_only = [&] {
        tt::NoGradGuard no_grad;
        conv.forward(x);
    };
    std::printf("Conv2d(3, 32, 3, padding 1) on (64, 3, 32, 32): forward, and forward + backward (median of %d)\n\n", repeats);
    std::printf("%-30s %12s %16s %14s %10s\n", "", "forward ms", "fwd+bwd ms", "engine/PyTorch", "GFLOP/s");
    double torch_forward = 0.0, torch_step = 0.0;
    const std::string out = !only.empty() ? "" : bench::run_pytorch(bench::pytorch_script("conv.py"), std::to_string(threads) + " " + std::to_string(repeats));
    if (!out.empty()) {
        const nlohmann::json j = nlohmann::json::parse(out);
        torch_forward = j.at("forward").get<double>();
        torch_step = j.at("step").get<double>();
    }
    const double flops = 3.0 * 2.0 * 64 * 32 * 27 * 1024;  // forward + two backward products
    for (const std::string backend : {"naive", "openblas"}) {
        if (!only.empty() && only != backend) continue;
        bench::use_backend(backend, threads);
        const double f = bench::median_seconds(forward_only, repeats);
        const double s = bench::median_seconds(step, repeats);
        const std::string name = backend == "naive" ? "engine, naive gemm" : "engine, OpenBLAS (" + std::to_string(threads) + " threads)";
        std::printf("%-30s %12.2f %16.2f", name.c_str(), 1e3 * f, 1e3 * s);
        if (torch_step > 0) std::printf(" %14.2f", s / torch_step); else std::printf(" %14s", "-");
        std::printf(" %10.1f\n", flops / s / 1e9);
    }
    bench::use_backend("naive", threads);
    if (torch_step > 0) {
        std::printf("%-30s %12.2f %16.2f %14s %10.1f\n", ("PyTorch (" + std::to_string(threads) + " threads)").c_str(), 1e3 * torch_forward,
                    1e3 * torch_step, "1.00", flops / torch_step / 1e9);
    } else {
        std::printf("PyTorch: not measured (python3 cannot import torch; on Debian: apt-get install python3-torch)\n");
    }
    return 0;
}
