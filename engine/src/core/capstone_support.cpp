// capstone_support.cpp - the [given] parts of capstone.h: the training Budget and use_fastest_gemm().
//
// The Budget is a stopwatch started when tito hands over the data: cifar_train plans its epochs
// and its learning-rate schedule from elapsed() / seconds(), so the same code does more on a fast
// machine and less on a slow or busy one, and always returns in time. It uses steady_clock, which
// never jumps when the system clock is set (NTP, daylight saving): a wall clock could make a run
// look seconds longer or shorter than it was.
//
// use_fastest_gemm() puts OpenBLAS behind kernels::gemm, the one dispatch point every matmul,
// Linear and conv2d of the engine goes through, so the whole engine gets faster without a change.
// OpenBLAS picks its thread count from OPENBLAS_NUM_THREADS, which tito sets from the competition's
// rules: it is never fixed here.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <utility>

#include "tinytorch/capstone.h"
#include "tinytorch/errors.h"
#include "tinytorch/kernels.h"

// OpenBLAS's C interface (cblas.h), declared here so the engine's headers do not need it.
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                            const float* b, int ldb, float beta, float* c, int ldc);

namespace tt::capstone {

// ---------------------------------------------------------------------------------------------
// Budget
// ---------------------------------------------------------------------------------------------

Budget::Budget(double seconds, std::function<void(const Progress&)> on_progress)
    : seconds_(seconds), start_(std::chrono::steady_clock::now()), on_progress_(std::move(on_progress)) {
    TT_CHECK(seconds > 0.0, "Budget: ", seconds, " seconds; a training budget must be positive");
}

double Budget::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Budget::remaining() const { return std::max(0.0, seconds_ - elapsed()); }

// At most about 5 reports per second reach tito: a training loop may call report() after every
// step (hundreds per second on small batches), and each report is a line tito parses and redraws.
// The first report and any with a new epoch always pass, so the display never misses the start of
// an epoch; the epoch of the last report passed is remembered for that.
void Budget::report(const Progress& progress) const {
    if (!on_progress_) return;
    constexpr auto min_interval = std::chrono::milliseconds(200);
    const auto now = std::chrono::steady_clock::now();
    const bool first = last_report_ == std::chrono::steady_clock::time_point{};
    if (!first && progress.epoch == last_epoch_ && now - last_report_ < min_interval) return;
    last_report_ = now;
    last_epoch_ = progress.epoch;
    on_progress_(progress);
}

// ---------------------------------------------------------------------------------------------
// use_fastest_gemm
// ---------------------------------------------------------------------------------------------

namespace {

// C (M, N) = A (M, K) @ B (K, N), all row-major and contiguous: kernels::gemm's contract, by
// OpenBLAS. cblas_sgemm computes C = alpha * A @ B + beta * C; beta = 0 overwrites C as the
// contract says (OpenBLAS then never reads C, so C may hold NaN garbage from empty()).
void openblas_gemm(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
    if (M == 0 || N == 0) return;  // nothing to write
    if (K == 0) {                  // an empty sum: C = 0 (cblas would reject lda = K = 0)
        std::fill(C, C + M * N, 0.0f);
        return;
    }
    // cblas takes int sizes; a matrix side beyond 2^31 would be 8 GB of floats in one dimension.
    TT_CHECK(M <= INT_MAX && N <= INT_MAX && K <= INT_MAX, "gemm (OpenBLAS): sizes ", M, "x", K, " @ ", K, "x", N,
             " exceed OpenBLAS's 32-bit sizes");
    constexpr int kRowMajor = 101, kNoTrans = 111;  // CblasRowMajor, CblasNoTrans
    const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
    cblas_sgemm(kRowMajor, kNoTrans, kNoTrans, m, n, k, 1.0f, A, k, B, n, 0.0f, C, n);
}

}  // namespace

void use_fastest_gemm() { kernels::set_gemm_override(&openblas_gemm); }

}  // namespace tt::capstone
