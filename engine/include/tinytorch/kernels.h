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

// [given] Put before a kernel's definition: GCC compiles the function once per x86-64 level -
// baseline (SSE2: 4 floats per vector instruction), x86-64-v3 (AVX2 + FMA: 8) and x86-64-v4
// (AVX-512: 16) - and the program picks the best one for the CPU it runs on when it starts
// (target_clones: the CPU is detected at run time, never assumed at build time). Same source, same
// loops; only the instructions the compiler may use differ. Elsewhere it is empty.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(TT_NO_MULTIVERSION)
#define TT_CPU_DISPATCH __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define TT_CPU_DISPATCH
#endif

// (02) The reference kernel: three plain loops.
void gemm_naive(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C);

}  // namespace tt::kernels
