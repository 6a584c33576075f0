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

// [given] A kernel with gemm's contract. set_gemm_override(f) makes gemm() call f instead of
// gemm_naive (nullptr: back to gemm_naive) - how the benchmarks put OpenBLAS behind the dispatch
// point to compare; module 15 turns this into backends students write and choose.
using GemmFunction = void (*)(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C);
void set_gemm_override(GemmFunction function);
GemmFunction gemm_override();

// (02) The reference kernel: three plain loops.
void gemm_naive(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C);

}  // namespace tt::kernels
