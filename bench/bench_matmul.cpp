// bench_matmul - the engine's matrix multiply beside OpenBLAS sgemm, on one core.
//
//     build/bin/bench_matmul [sizes...]        default: 256 512 1024
//
// For each square size n it times C = A @ B (2 n^3 floating-point operations) with
//   naive     tt::kernels::gemm_naive, the module-02 reference kernel (three loops, i-k-j order)
//   matmul    tt::matmul, the public op (shape checks, dispatch, allocation of the output)
//   openblas  cblas_sgemm with one thread
// and prints the median of several runs as GFLOP/s and the ratio to OpenBLAS measured in the same
// run, so the numbers stay comparable on a noisy machine.
//
// OpenBLAS picks its kernels from the CPU's family and model numbers. Virtual machines often report
// a generic "Intel Xeon Processor" that it does not recognise, and it falls back to 2004-era
// Prescott (SSE3) kernels, 5x slower than this machine can do. When that happens on a CPU with
// AVX-512 or AVX2 we re-run ourselves with OPENBLAS_CORETYPE set, and say so.
#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "tinytorch/tinytorch.h"

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);

namespace {

double median_seconds(const std::function<void()>& work, int repeats) {
    work();  // warm-up: page in the buffers, fill the caches
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
        auto start = std::chrono::steady_clock::now();
        work();
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const std::string core = openblas_get_corename();
    if (std::getenv("OPENBLAS_CORETYPE") == nullptr && core == "Prescott") {
        const char* better = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
        if (better) {
            std::printf("OpenBLAS did not recognise this CPU and chose Prescott kernels; re-running with OPENBLAS_CORETYPE=%s\n", better);
            std::fflush(stdout);
            setenv("OPENBLAS_CORETYPE", better, 1);
            execv("/proc/self/exe", argv);
        }
    }
    std::vector<int64_t> sizes = {256, 512, 1024};
    if (argc > 1) {
        sizes.clear();
        for (int i = 1; i < argc; ++i) sizes.push_back(std::atoll(argv[i]));
    }
    openblas_set_num_threads(1);
    std::printf("matmul, float32, one core, OpenBLAS kernels: %s; median of several runs\n\n", openblas_get_corename());
    std::printf("%6s  %12s  %12s  %12s  %14s  %10s\n", "n", "naive GF/s", "matmul GF/s", "openblas GF/s", "naive/openblas", "max |diff|");
    for (int64_t n : sizes) {
        tt::Generator gen(42);
        tt::Tensor a = tt::randn({n, n}, &gen), b = tt::randn({n, n}, &gen);
        std::vector<float> c_naive(n * n), c_blas(n * n);
        const int repeats = n <= 256 ? 15 : n <= 512 ? 7 : 3;
        const double flops = 2.0 * n * n * n;

        double naive = median_seconds([&] { tt::kernels::gemm_naive(n, n, n, a.data(), b.data(), c_naive.data()); }, repeats);
        double matmul = median_seconds([&] { tt::Tensor c = tt::matmul(a, b); }, repeats);
        double blas = median_seconds(
            [&] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                            c_blas.data(), n);
            },
            repeats);
        float max_diff = 0;
        for (int64_t i = 0; i < n * n; ++i) max_diff = std::max(max_diff, std::fabs(c_naive[i] - c_blas[i]));
        std::printf("%6lld  %12.2f  %12.2f  %12.2f  %13.1f%%  %10.2g\n", static_cast<long long>(n), flops / naive / 1e9,
                    flops / matmul / 1e9, flops / blas / 1e9, 100.0 * blas / naive, max_diff);
    }
    return 0;
}
