// The CPU GEMM playground's versions (bench/playground/gemm_cpu_playground.cpp
// times them; tests/test_playground.cpp checks them): C [m, n] = A [m, k] x B [k, n],
// row-major FP32, any sizes, one thread. Read them in order; each changes one thing.
//
//   v1 naive           the textbook i-j-k loop: a dot product per C element
//   v2 cache-blocked   i-k-j order inside blocks that fit the caches
//   v3 packed          blocks copied into the order the inner loop reads them, a 4x16
//                      tile of C accumulated in a local array
//   v4 register-tiled  the library's own GEMM (layers/gemm.h sgemm): packed like v3,
//                      plus a 6x16 micro-kernel written with AVX2 intrinsics that keeps
//                      the C tile in 12 ymm registers (layers/gemm.cpp explains it)
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "layers/gemm.h"

namespace radius::playground::cpu {

// ||got - want|| / ||want|| over all elements; infinity when got holds a NaN.
inline double rel_error(const std::vector<double>& want, const std::vector<float>& got) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(got[i])) return INFINITY;
    diff += (got[i] - want[i]) * (got[i] - want[i]);
    norm += want[i] * want[i];
  }
  return std::sqrt(diff / norm);
}

constexpr int kGemmVersions = 4;
inline const char* gemm_name(int v) {
  static const char* names[] = {"", "v1 naive", "v2 cache-blocked", "v3 packed", "v4 register-tiled (library)"};
  return v >= 1 && v <= kGemmVersions ? names[v] : "?";
}

// ---- v1: naive ----------------------------------------------------------------------
// C[i][j] = sum_p A[i][p] B[p][j]. The inner loop walks B down a column: a stride
// of n floats, so every B load touches a new cache line (and a new page when n is
// large), and nothing vectorises. About 1 GFLOP/s whatever the CPU.
inline void gemm_v1(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float s = 0.f;
      for (int64_t p = 0; p < k; ++p) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
}

// ---- v2: cache-blocked, i-k-j ---------------------------------------------------------
// Two changes. The loop order i-k-j makes the inner loop c[i][j..] += a[i][p] * b[p][j..]:
// unit stride in B and C, which the compiler turns into SIMD FMAs. And the loops are
// cut into blocks (MB rows x KB depth x NB columns) so the B block (KB x NB x 4 B =
// 256 KB) stays in L2 while all MB rows of A use it, instead of streaming all of B
// from memory once per row of C. C is loaded and stored once per depth block.
inline void gemm_v2(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  constexpr int64_t MB = 64, KB = 256, NB = 256;
  std::fill(c, c + m * n, 0.f);
  for (int64_t j0 = 0; j0 < n; j0 += NB)
    for (int64_t p0 = 0; p0 < k; p0 += KB)
      for (int64_t i0 = 0; i0 < m; i0 += MB) {
        const int64_t j1 = std::min(n, j0 + NB), p1 = std::min(k, p0 + KB), i1 = std::min(m, i0 + MB);
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t p = p0; p < p1; ++p) {
            const float aip = a[i * k + p];
            float* ci = c + i * n;
            const float* bp = b + p * n;
            for (int64_t j = j0; j < j1; ++j) ci[j] += aip * bp[j];
          }
      }
}

// ---- v3: packed, a 4x16 tile per inner loop ----------------------------------------------
// v2 still loads and stores a row of C for every p: one FMA per load+store. Now the
// inner loop keeps a 4x16 tile of C in a local array across the whole depth block
// (64 FMAs per 4 A + 16 B loads), and both operands are first PACKED: the B block
// into 16-column panels (kc x 16, contiguous) and 4 rows of A into a kc x 4 panel,
// zero-padded at the edges. The inner loop then reads both with unit stride, needs
// no edge tests, and never crosses a page. Whether the tile really stays in
// registers is up to the compiler: it must unroll the r and j loops completely to
// replace the array by registers. Without the two unroll pragmas GCC 12 keeps t in
// memory, loaded and stored on every p, and v3 ran at 1.7 GFLOP/s here: slower than
// v2. v4 leaves nothing to chance.
inline void gemm_v3(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  constexpr int64_t MR = 4, NR = 16, KC = 256, NC = 1024;
  std::vector<float> bp(size_t(KC * ((NC + NR - 1) / NR) * NR)), ap(size_t(KC * MR));
  std::fill(c, c + m * n, 0.f);
  for (int64_t j0 = 0; j0 < n; j0 += NC)
    for (int64_t p0 = 0; p0 < k; p0 += KC) {
      const int64_t nc = std::min(NC, n - j0), kc = std::min(KC, k - p0);
      for (int64_t jr = 0; jr < nc; jr += NR)  // pack B: panel jr/NR holds bp[p * NR + j] = B[p0 + p][j0 + jr + j]
        for (int64_t p = 0; p < kc; ++p)
          for (int64_t j = 0; j < NR; ++j)
            bp[size_t(jr * kc + p * NR + j)] = jr + j < nc ? b[(p0 + p) * n + j0 + jr + j] : 0.f;
      for (int64_t i0 = 0; i0 < m; i0 += MR) {
        const int64_t rows = std::min(MR, m - i0);
        for (int64_t p = 0; p < kc; ++p)  // pack A: ap[p * MR + r] = A[i0 + r][p0 + p]
          for (int64_t r = 0; r < MR; ++r) ap[size_t(p * MR + r)] = r < rows ? a[(i0 + r) * k + p0 + p] : 0.f;
        for (int64_t jr = 0; jr < nc; jr += NR) {
          float t[MR][NR] = {};
          const float* __restrict bpanel = bp.data() + jr * kc;
          const float* __restrict apanel = ap.data();
          for (int64_t p = 0; p < kc; ++p, apanel += MR, bpanel += NR)
#pragma GCC unroll 4  // fully unrolled, t can live in registers (else it is loaded and stored every p)
            for (int64_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
              for (int64_t j = 0; j < NR; ++j) t[r][j] += apanel[r] * bpanel[j];
          const int64_t cols = std::min(NR, nc - jr);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < cols; ++j) c[(i0 + r) * n + j0 + jr + j] += t[r][j];
        }
      }
    }
}

// ---- v4: the library's register-tiled micro-kernel -----------------------------------------
// layers/gemm.h's sgemm: GotoBLAS's five loops (B block in L3, A block in L2, B
// micro-panel in L1) around a 6x16 micro-kernel whose C tile lives in 12 ymm
// registers for the whole depth block: per depth step 2 vector loads of B and 6
// broadcasts of A feed 12 FMAs, enough independent chains to keep both FMA pipes busy.
inline void gemm_v4(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  sgemm(Trans::no, Trans::no, m, n, k, a, k, b, n, 0.f, c, n);
}

inline void gemm(int v, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  switch (v) {
    case 1: return gemm_v1(m, n, k, a, b, c);
    case 2: return gemm_v2(m, n, k, a, b, c);
    case 3: return gemm_v3(m, n, k, a, b, c);
    default: return gemm_v4(m, n, k, a, b, c);
  }
}

// The reference: the same product accumulated in double.
inline std::vector<double> gemm_reference(int64_t m, int64_t n, int64_t k, const float* a, const float* b) {
  std::vector<double> c(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const double aip = a[i * k + p];
      for (int64_t j = 0; j < n; ++j) c[size_t(i * n + j)] += aip * double(b[p * n + j]);
    }
  return c;
}

}  // namespace radius::playground::cpu
