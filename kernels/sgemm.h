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
// The launch is chosen by shape (kernels/sgemm_plan.h): the tile, and for grids
// too small to fill the GPU a deterministic split of K.
#pragma once
#include <cstdint>

namespace radius::cuda {

struct GemmEpilogue {
  const float* row_bias = nullptr;  // [M]: C[i, j] += row_bias[i]   (convolution: per filter)
  const float* col_bias = nullptr;  // [N]: C[i, j] += col_bias[j]   (dense: per unit)
  bool relu = false;                // C = max(C, 0) after the bias
};

// One product, every argument named. Fill it with designated initializers in
// declaration order; what is left out takes the default, e.g. for y = x w^T + b:
//   sgemm({.m = n, .n = out, .k = in, .a = x, .lda = in, .b = w, .ldb = in, .trans_b = true,
//          .c = y, .ldc = out, .epilogue = {.col_bias = b}});
struct Gemm {
  int64_t m = 0, n = 0, k = 0;  // op(A) is [m, k], op(B) [k, n], C [m, n]
  const float* a = nullptr;
  int64_t lda = 0;              // row stride of A as stored
  bool trans_a = false;         // A stored [k, m] (op(A) = A^T)
  const float* b = nullptr;
  int64_t ldb = 0;
  bool trans_b = false;         // B stored [n, k] (op(B) = B^T)
  float* c = nullptr;
  int64_t ldc = 0;
  float alpha = 1.f;
  float beta = 0.f;             // 0: C is write-only
  GemmEpilogue epilogue = {};
  int64_t batch = 1;            // independent products; the i-th adds i * stride to each pointer
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;  // 0 shares the operand across the batch
};

void sgemm(const Gemm& g);

}  // namespace radius::cuda
