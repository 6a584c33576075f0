// kernels.h - the one dispatch point for matrix multiplication.
//
// Every matrix product in the engine (matmul, Linear, and later conv via im2col and attention)
// ends up in kernels::gemm. Module 02 writes the simplest correct kernel, gemm_naive; module 15
// adds faster backends (blocked + vectorised, OpenBLAS) behind the same function, so code written
// earlier gets faster without a change.
//
// Layout: row-major, contiguous. A is (M, K), B is (K, N), C is (M, N); C = A @ B (C is
// overwritten, not accumulated).
#pragma once

#include <cstdint>

namespace tt::kernels {

// [given] Dispatches to the selected backend (only "naive" until module 15).
void gemm(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C);

// (02) The reference kernel: three plain loops.
void gemm_naive(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C);

}  // namespace tt::kernels
