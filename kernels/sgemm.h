// SGEMM on raw device pointers, row-major like the CPU path (Eigen RowMajor):
//
//   C[M, N] = alpha * op(A)[M, K] * op(B)[K, N] + beta * C  (+ bias) (then ReLU)
//
//   op(A) = A      (A stored [M, K], row stride lda)   when trans_a is false
//         = A^T    (A stored [K, M], row stride lda)   when trans_a is true
//   op(B) likewise ([K, N] or [N, K] with ldb).
//
// beta == 0 means C is write-only (never read, so garbage or NaN in C is fine).
// Batched form: `batch` independent products; the i-th uses A + i*stride_a,
// B + i*stride_b, C + i*stride_c (a stride of 0 shares the operand, e.g. the
// convolution weights across images). Runs on the Radius stream; asynchronous.
//
// The kernel is the playground's register-blocked, vectorised, double-buffered
// version (kernels/playground/sgemm_playground.cu, v4): see kernels/README.md.
#pragma once
#include <cstdint>

namespace radius::cuda {

struct GemmEpilogue {
  const float* row_bias = nullptr;  // [M]: C[i, j] += row_bias[i]   (convolution: per filter)
  const float* col_bias = nullptr;  // [N]: C[i, j] += col_bias[j]   (dense: per unit)
  bool relu = false;                // C = max(C, 0) after the bias
};

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const GemmEpilogue& epilogue = {},
           int64_t batch = 1, int64_t stride_a = 0, int64_t stride_b = 0, int64_t stride_c = 0);

}  // namespace radius::cuda
