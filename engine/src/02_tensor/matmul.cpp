// matmul.cpp - module 02: matrix multiplication, and the one kernel every product funnels into.
//
// Letters: M rows of a, K the shared (inner) dimension, N columns of b.
//     a: (M, K) @ b: (K, N) -> (M, N),  2*M*N*K floating-point operations (a multiply and an add
//     for each of the M*N outputs times K terms), on only M*K + K*N + M*N floats of data.
// That ratio - O(n^3) work on O(n^2) data - is why matmul is the one op worth optimising to the
// bone: it can keep the arithmetic units busy if it reuses what is in cache. Module 15 does that
// behind kernels::gemm; here, matmul() handles shapes and batches and calls gemm once per matrix.
#include <string>

#include "tinytorch/autograd.h"
#include "tinytorch/kernels.h"
#include "tinytorch/tensor.h"

namespace tt {

// a: (..., M, K) @ b: (..., K, N) -> (..., M, N); the leading (batch) dims broadcast:
//     (B, M, K) @ (K, N) -> (B, M, N);   (B, 1, M, K) @ (H, K, N) -> (B, H, M, N)
Tensor matmul(const Tensor& a, const Tensor& b) {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: check the shapes first (at least 2-D each, equal inner dimensions); batch shape = broadcast_shapes of the leading dims.
    //! HINT: make both inputs contiguous (a.detach().contiguous()): then matrix number i of a starts at a.data() + i * M * K.
    //! HINT: a broadcast batch dimension (size 1, or missing) reuses the same matrix for every index: its stride, counted in matrices, is 0.
    TT_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: ", shape_str(a.shape()), " @ ", shape_str(b.shape()),
             ": both inputs need at least 2 dimensions; use unsqueeze(0) for a row vector or unsqueeze(-1) for a column");
    const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
    TT_CHECK(b.size(-2) == K, "matmul: ", shape_str(a.shape()), " @ ", shape_str(b.shape()), ": inner dimensions ", K, " and ",
             b.size(-2), " differ");
    const Shape a_batch(a.shape().begin(), a.shape().end() - 2);
    const Shape b_batch(b.shape().begin(), b.shape().end() - 2);
    const std::string what = "matmul: " + shape_str(a.shape()) + " @ " + shape_str(b.shape()) + ": batch dimensions";
    const Shape batch = broadcast_shapes(a_batch, b_batch, what.c_str());

    Shape out_shape = batch;
    out_shape.push_back(M);
    out_shape.push_back(N);
    out = empty(out_shape);
    // Row-major copies only when needed; detach() because these are internal steps, not graph nodes.
    const Tensor ac = a.detach().contiguous(), bc = b.detach().contiguous();

    if (b.dim() == 2) {
        // (B, M, K) @ (K, N): a's matrices are stacked rows, so this is ONE (B*M, K) @ (K, N)
        // product. One big GEMM instead of B small ones: a Linear layer on (batch, time, features).
        kernels::gemm(numel(batch) * M, N, K, ac.data(), bc.data(), out.data());
    } else {
        // Strides of each input over the result's batch dims, counted in whole matrices; 0 where
        // the input broadcasts, so the same matrix is used again (and never copied).
        const int64_t nd = static_cast<int64_t>(batch.size());
        Strides a_step(nd, 0), b_step(nd, 0);
        const Strides a_strides = contiguous_strides(a_batch), b_strides = contiguous_strides(b_batch);
        for (int64_t d = 0; d < static_cast<int64_t>(a_batch.size()); ++d)
            a_step[nd - static_cast<int64_t>(a_batch.size()) + d] = a_batch[d] == 1 ? 0 : a_strides[d];
        for (int64_t d = 0; d < static_cast<int64_t>(b_batch.size()); ++d)
            b_step[nd - static_cast<int64_t>(b_batch.size()) + d] = b_batch[d] == 1 ? 0 : b_strides[d];

        for (int64_t n = 0; n < numel(batch); ++n) {
            int64_t rest = n, a_matrix = 0, b_matrix = 0;  // which matrix of a and of b result n uses
            for (int64_t d = nd - 1; d >= 0; --d) {
                const int64_t i = rest % batch[d];
                rest /= batch[d];
                a_matrix += i * a_step[d];
                b_matrix += i * b_step[d];
            }
            kernels::gemm(M, N, K, ac.data() + a_matrix * M * K, bc.data() + b_matrix * K * N, out.data() + n * M * N);
        }
    }
    //! END SOLUTION
    return record<MatmulBackward>(out, {a, b});
}

namespace kernels {

// C (M, N) = A (M, K) @ B (K, N), all row-major and contiguous; C is overwritten.
//
// The loop order is i-k-j, not the textbook i-j-k (C[i][j] += A[i][k] * B[k][j] with k innermost).
// With k innermost, B is read down a column: every step jumps N floats ahead, so each load touches
// a new cache line and uses 4 of its 64 bytes. With j innermost, the inner loop is
//     C[i][0..N) += A[i][k] * B[k][0..N)
// a scaled row added to a row: B and C are walked front to back, one cache line serves 16 floats,
// the hardware prefetcher sees the pattern, and the compiler turns the loop into vector
// instructions (4 floats per SSE instruction, 8 with AVX). Same FLOPs; once B outgrows the cache
// (1024 x 1024 is 4 MB) it runs about 6x faster than i-j-k on a typical x86 machine.
// What this still lacks - blocking for cache reuse, register tiling, threads - is module 15.
// TT_CPU_DISPATCH (kernels.h) compiles it for this CPU's widest vectors, chosen when the program
// starts: on an AVX2 machine the same loop then runs about 1.5x faster (8 floats and a fused
// multiply-add per instruction instead of 4 floats and two instructions).
TT_CPU_DISPATCH
void gemm_naive(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
    //! BEGIN SOLUTION
    //! HINT: element [i, j] of a row-major (rows, cols) matrix is at i * cols + j.
    //! HINT: order the loops so the innermost one walks along rows of B and C (unit stride); zero C's row first, since C is overwritten.
    for (int64_t i = 0; i < M; ++i) {
        float* c_row = C + i * N;  // (N,)
        for (int64_t j = 0; j < N; ++j) c_row[j] = 0.0f;
        for (int64_t k = 0; k < K; ++k) {
            const float a_ik = A[i * K + k];  // one scalar, kept in a register for the whole row
            const float* b_row = B + k * N;   // (N,)
            for (int64_t j = 0; j < N; ++j) c_row[j] += a_ik * b_row[j];
        }
    }
    //! END SOLUTION
}

}  // namespace kernels

}  // namespace tt
