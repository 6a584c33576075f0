// bench_support.h - what the benchmarks share: timing, OpenBLAS behind the engine's gemm dispatch
// point, and running the same workload in PyTorch (when python3 with torch is installed) so that
// every speed is reported as a ratio measured in one run on one machine.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

#include "tinytorch/kernels.h"

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                            const float* b, int ldb, float beta, float* c, int ldc);

namespace bench {

inline double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The median of `repeats` timed runs after one warm-up run.
inline double median_seconds(const std::function<void()>& work, int repeats) {
    work();
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
        const double start = now_seconds();
        work();
        times.push_back(now_seconds() - start);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// OpenBLAS on a virtual machine may not recognise the CPU and fall back to slow Prescott (SSE3)
// kernels. Then re-run this program with OPENBLAS_CORETYPE set from the features the CPU reports
// at run time (never assumed), and say so.
inline void ensure_openblas_kernels(char** argv) {
    const std::string core = openblas_get_corename();
    if (std::getenv("OPENBLAS_CORETYPE") != nullptr || core != "Prescott") return;
    const char* better = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
    if (!better) return;
    std::printf("OpenBLAS chose Prescott kernels on this CPU; re-running with OPENBLAS_CORETYPE=%s\n", better);
    std::fflush(stdout);
    setenv("OPENBLAS_CORETYPE", better, 1);
    execv("/proc/self/exe", argv);
}

// C (M, N) = A (M, K) @ B (K, N), row-major: the engine's gemm contract, by OpenBLAS.
inline void openblas_gemm(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
    constexpr int kRowMajor = 101, kNoTrans = 111;
    cblas_sgemm(kRowMajor, kNoTrans, kNoTrans, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), 1.0f, A,
                static_cast<int>(K), B, static_cast<int>(N), 0.0f, C, static_cast<int>(N));
}

// The engine's gemm: "naive" (module 02's kernel) or "openblas" (with `threads` threads).
inline void use_backend(const std::string& backend, int threads) {
    openblas_set_num_threads(threads);
    tt::kernels::set_gemm_override(backend == "openblas" ? &openblas_gemm : nullptr);
}

// Runs `python3 <script> <args>` when python3 can import torch; returns its stdout ("" when
// PyTorch is not installed or the script failed - the caller says so).
inline std::string run_pytorch(const std::string& script, const std::string& args) {
    const char* python = std::getenv("TT_PYTHON");
    const std::string interpreter = python ? python : "/usr/bin/python3";
    if (std::system((interpreter + " -c 'import torch' > /dev/null 2>&1").c_str()) != 0) return "";
    std::string output;
    FILE* pipe = popen((interpreter + " " + script + " " + args + " 2>/dev/null").c_str(), "r");
    if (!pipe) return "";
    char buffer[4096];
    while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    return pclose(pipe) == 0 ? output : "";
}

// The folder of this executable's sources' scripts (bench/pytorch), from the build's definition.
inline std::string pytorch_script(const std::string& name) { return std::string(TT_BENCH_DIR) + "/pytorch/" + name; }

}  // namespace bench
