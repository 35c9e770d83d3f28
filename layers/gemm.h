// Our own single-precision GEMM for the convolutions (issue #6): the GotoBLAS /
// BLIS structure, written to be read.
//
//   C [M, N] = beta * C + op(A) [M, K] x op(B) [K, N]          (all row-major)
//
// op(X) = X, or X^T when its Trans is yes (then A is stored [K, M], B [N, K]).
// The three passes of a convolution need: forward  W x col          (no, no),
// backward-data  W^T x dy (yes, no), backward-filter  dy x col^T   (no, yes, beta 1).
//
// Why not Eigen: Eigen's GEMM re-packs its left operand on every call, and the
// convolution calls it once per block of a few hundred output pixels, so the
// weight matrix (up to 590 KB) was packed again every 64-256 columns. Here the
// weights are packed once per layer call (PackedA) and reused by every block and
// every image. The loop nest and the micro-kernel are explained in gemm.cpp.
//
// sgemm runs on the calling thread only (the convolutions already give each
// thread whole images); sgemm_parallel splits C's columns among threads.
#pragma once
#include <cstdint>
#include <memory>

namespace radius {

enum class Trans { no, yes };
struct MicroKernel;  // layers/gemm_kernels.h

// op(A) packed into the micro-kernel's layout, once, for many products with
// different B's. Reusable: pack() again overwrites it.
class PackedA {
 public:
  void pack(Trans ta, int64_t m, int64_t k, const float* a, int64_t lda);
  int64_t rows() const { return m_; }
  int64_t depth() const { return k_; }
  // The MR-row panel that starts at row i of the depth block that starts at p.
  const float* panel(int64_t p, int64_t i) const;
  // The micro-kernel the panels were cut for (the current one when packed;
  // before any pack, the current one: there is nothing to multiply then).
  const MicroKernel& kernel() const;

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data_;
  int64_t m_ = 0, k_ = 0, step_ = 1, capacity_ = 0;  // step_: the depth block
  const MicroKernel* kernel_ = nullptr;
};

// C = beta * C + op(A) x op(B). beta == 0 overwrites C (which may then hold
// anything, NaN included); lda/ldb/ldc are the row strides as stored.
void sgemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc);

// The same product with C's columns shared out among the OpenMP threads, for a
// caller outside any parallel region (the dense layer). Every element of C is one
// fixed chain of FMAs over the depth, the same whichever tile or column slice it
// falls in, so the result is the same bits on any thread count
// (tests/test_threads.cpp checks both).
void sgemm_parallel(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, float beta, float* c, int64_t ldc);

// The same with op(A) packed beforehand: C [a.rows(), n] = beta * C + A x op(B).
void sgemm_packed(const PackedA& a, Trans tb, int64_t n, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc);

// The reference: the same product through Eigen, which the tests and benchmarks
// compare against.
void sgemm_eigen(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                 int64_t ldb, float beta, float* c, int64_t ldc);

// "avx512 16x16", "avx2+fma 6x16" or "portable 6x16": the micro-kernel in use,
// chosen at start by what this CPU runs (layers/gemm_kernels.h).
const char* sgemm_kernel_name();

}  // namespace radius
