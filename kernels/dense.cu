// Dense layers on the GPU (layers/dense.h): x [n, in], w [out, in], row-major.
//   forward          y  = x w^T + b     one GEMM, the bias added in its epilogue
//   backward-data    dx = dy w          one GEMM
//   backward-weight  dw += dy^T x       one GEMM with beta = 1 (accumulates)
//   bias             db += column sums of dy (cuda::bias_grad)
#include "kernels/dense.h"
#include "kernels/reduce.h"
#include "kernels/sgemm.h"

namespace radius::cuda {

void dense_forward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* b, float* y) {
  sgemm({.m = n, .n = out, .k = in, .a = x, .lda = in, .b = w, .ldb = in, .trans_b = true, .c = y, .ldc = out,
         .epilogue = {.col_bias = b}});
}

void dense_backward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* dy, float* dx,
                    float* dw, float* db) {
  if (dx) sgemm({.m = n, .n = in, .k = out, .a = dy, .lda = out, .b = w, .ldb = in, .c = dx, .ldc = in});
  if (dw)
    sgemm({.m = out, .n = in, .k = n, .a = dy, .lda = out, .trans_a = true, .b = x, .ldb = in, .c = dw, .ldc = in,
           .beta = 1.f});
  if (db) bias_grad(n, out, 1, dy, db);
}

}  // namespace radius::cuda
