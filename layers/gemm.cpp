// The packed SGEMM (see gemm.h for the contract). The structure is GotoBLAS's,
// as BLIS teaches it: five loops around a register micro-kernel, each loop
// choosing a block of one operand so that it stays in one level of the cache
// while the loops inside reuse it.
//
//   for jc in N by NC:            B block  kc x nc   packed once, lives in L3 (1-3 MB)
//     for pc in K by kc <= KC:    the depth block: each C tile is updated once per pc
//       pack op(B)[pc.., jc..] into NR-column panels
//       for ic in M by MC:        A block  mc x kc   packed once, lives in L2 (144 KB)
//         for jr in nc by NR:     B micro-panel kc x 16 lives in L1 (16 KB)
//           for ir in mc by MR:   A micro-panel MR x kc streams from L2
//             micro-kernel: C[MR, 16] += A panel x B panel, in registers
//
// The micro-kernel (layers/gemm_kernels.cpp) is chosen at start by what the CPU
// runs: AVX-512 keeps a 16x16 tile of C in 16 zmm registers, AVX2 + FMA a 6x16
// tile in 12 ymm registers. The tile's height MR is the kernel's; the width
// NR = 16 is the same for all, so B is packed the same way whichever runs.
//
// Packing copies each operand into the exact order the micro-kernel reads it
// (contiguous, zero-padded to whole panels), so the kernel has no strides and
// no edge tests; partial tiles at the matrix edges are handled only when the
// tile is stored. Transposes are absorbed by the packing routines.
#include "layers/gemm.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <omp.h>
#include <vector>

#include "layers/gemm_kernels.h"

namespace radius {
namespace {

constexpr int64_t NR = kGemmNR;  // register tile of C: MR (the kernel's) x NR
constexpr int64_t KC = 320;      // depth block at most: B micro-panel KC x NR x 4 B = 20 KB in L1
constexpr int64_t MC = 144;      // A block MC x KC x 4 B = 180 KB in L2 (with room for B panels and C)
constexpr int64_t NC = 3072;     // B block KC x NC x 4 B = 4 MB, shared L3
static_assert(MC % 6 == 0 && MC % 16 == 0, "an A block holds whole panels of every kernel");

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// The depth K cut into equal blocks of at most KC: 288 stays one block and 576
// two of 288, rather than 256 + 32 and 256 + 256 + 64, where the short last
// block pays a whole load and store of every C tile for a few FMAs each.
int64_t depth_step(int64_t k) {
  const int64_t blocks = std::max<int64_t>((k + KC - 1) / KC, 1);
  return (k + blocks - 1) / blocks;
}

float* aligned_floats(int64_t n) {
  void* p = std::aligned_alloc(64, size_t(round_up(n * int64_t(sizeof(float)), 64)));
  if (!p) throw std::bad_alloc();
  return static_cast<float*>(p);
}

// A grow-only, 64-byte aligned scratch buffer (one per thread for the packed panels).
struct Scratch {
  float* data = nullptr;
  int64_t size = 0;
  ~Scratch() { std::free(data); }
  float* get(int64_t n) {
    if (n > size) {
      std::free(data);
      data = aligned_floats(n);
      size = n;
    }
    return data;
  }
};

// A panel of H rows of a row-major matrix, transposed: dst[q * H + j] =
// src[j * ld + q] for the H rows j and the depth q in whole blocks of 16;
// returns how far it got. Through a small tile, read row by row and written row
// by row, which the compiler turns into vector loads, shuffles and stores
// instead of H strided scalar stores per depth step. Backward-filter packs both
// of its operands this way: with the AVX-512 kernel it went from 98 / 113 / 108
// to 124 / 137 / 126 GFLOP/s at conv2 / conv3 / conv4's shapes (bench_gemm).
template <int64_t H> int64_t transpose_panel(const float* src, int64_t ld, int64_t kc, float* dst) {
  constexpr int64_t Q = 16;
  int64_t p = 0;
  for (; p + Q <= kc; p += Q) {
    float tile[H][Q];
    for (int64_t j = 0; j < H; ++j)
      for (int64_t q = 0; q < Q; ++q) tile[j][q] = src[j * ld + p + q];
    for (int64_t q = 0; q < Q; ++q)
      for (int64_t j = 0; j < H; ++j) dst[(p + q) * H + j] = tile[j][q];
  }
  return p;
}

// The same for a panel height known only at run time (a kernel's mr): the
// heights the kernels have, else nothing (the caller's loop does it all).
int64_t transpose_panel(int64_t h, const float* src, int64_t ld, int64_t kc, float* dst) {
  if (h == 16) return transpose_panel<16>(src, ld, kc, dst);
  if (h == 6) return transpose_panel<6>(src, ld, kc, dst);
  return 0;
}

// op(A) rows [i0, i0 + mc), depth [p0, p0 + kc) -> MR-row panels, each
// panel kc x MR with dst[p * MR + r] = op(A)(row r of the panel, p0 + p); rows past M are 0.
void pack_a(int64_t mr, Trans ta, const float* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            float* dst) {
  for (int64_t ir = 0; ir < mc; ir += mr, dst += mr * kc) {
    const int64_t rows = std::min(mr, mc - ir);
    if (ta == Trans::yes) {  // op(A) row r = A column: mr consecutive floats per depth step
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = a + (p0 + p) * lda + i0 + ir;
        for (int64_t r = 0; r < mr; ++r) dst[p * mr + r] = r < rows ? src[r] : 0.0f;
      }
    } else {
      const float* src = a + (i0 + ir) * lda + p0;
      const int64_t done = rows == mr ? transpose_panel(mr, src, lda, kc, dst) : 0;
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t p = done; p < kc; ++p) dst[p * mr + r] = r < rows ? src[r * lda + p] : 0.0f;
    }
  }
}

// op(B) depth [p0, p0 + kc), columns [j0, j0 + nc) -> NR-column panels, each
// kc x NR with dst[p * NR + j] = op(B)(p0 + p, column j of the panel); columns past N are 0.
void pack_b(Trans tb, const float* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  for (int64_t jr = 0; jr < nc; jr += NR, dst += NR * kc) {
    const int64_t cols = std::min(NR, nc - jr);
    if (tb == Trans::no) {  // a row of B: NR consecutive floats per depth step
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = b + (p0 + p) * ldb + j0 + jr;
        float* out = dst + p * NR;
        if (cols == NR) std::memcpy(out, src, NR * sizeof(float));
        else
          for (int64_t j = 0; j < NR; ++j) out[j] = j < cols ? src[j] : 0.0f;
      }
    } else {  // B stored [N, K]: each column of op(B) is a contiguous row of B
      const float* src = b + (j0 + jr) * ldb + p0;
      const int64_t done = cols == NR ? transpose_panel<NR>(src, ldb, kc, dst) : 0;
      for (int64_t j = 0; j < NR; ++j)
        for (int64_t p = done; p < kc; ++p) dst[p * NR + j] = j < cols ? src[j * ldb + p] : 0.0f;
    }
  }
}

// The two innermost loops over one packed A block [mc, kc] and B block [kc, nc]:
// the B micro-panel (jr) stays in L1 while the A micro-panels (ir) stream past it.
void macro_kernel(const MicroKernel& kernel, int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp,
                  float* c, int64_t ldc, float beta) {
  for (int64_t jr = 0; jr < nc; jr += NR)
    for (int64_t ir = 0; ir < mc; ir += kernel.mr)
      kernel.run(kc, ap + ir * kc, bp + jr * kc, c + ir * ldc + jr, ldc, beta, std::min(kernel.mr, mc - ir),
                 std::min(NR, nc - jr));
}

// C = beta * C when the depth is 0 (no product to add).
void scale(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

// The three outer loops. a_block(pc, kc, ic, mc) returns the packed A block
// (packing it if need be); B is packed here, into this thread's scratch.
template <class ABlock>
void gemm_loops(const MicroKernel& kernel, int64_t m, int64_t n, int64_t k, ABlock&& a_block, Trans tb,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return scale(m, n, beta, c, ldc);
  thread_local Scratch b_scratch;
  float* bp = b_scratch.get(KC * round_up(std::min(NC, n), NR));
  const int64_t step = depth_step(k);
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = std::min(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += step) {
      const int64_t kc = std::min(step, k - pc);
      pack_b(tb, b, ldb, pc, kc, jc, nc, bp);
      const float beta_pc = pc == 0 ? beta : 1.0f;  // later depth blocks add to the first's result
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = std::min(MC, m - ic);
        macro_kernel(kernel, mc, nc, kc, a_block(pc, kc, ic, mc), bp, c + ic * ldc + jc, ldc, beta_pc);
      }
    }
  }
}

}  // namespace

void PackedA::Free::operator()(float* p) const { std::free(p); }

// Layout: depth blocks (depth_step) one after another; inside each, all mr-row panels
// of op(A) (M rounded up to mr) for that depth block, each panel kc x mr. The
// panels are cut for the kernel current now, which the products then use.
void PackedA::pack(Trans ta, int64_t m, int64_t k, const float* a, int64_t lda) {
  kernel_ = &current_micro_kernel();
  const int64_t mr = kernel_->mr, need = round_up(m, mr) * k;
  if (need > capacity_) {
    data_.reset(aligned_floats(std::max<int64_t>(need, 1)));
    capacity_ = need;
  }
  m_ = m, k_ = k;
  step_ = depth_step(k);
  for (int64_t pc = 0; pc < k; pc += step_)
    pack_a(mr, ta, a, lda, 0, m, pc, std::min(step_, k - pc), data_.get() + pc * round_up(m, mr));
}

const MicroKernel& PackedA::kernel() const { return kernel_ ? *kernel_ : current_micro_kernel(); }

const float* PackedA::panel(int64_t p, int64_t i) const {
  const int64_t kc = std::min(step_, k_ - p), mr = kernel_->mr;
  return data_.get() + p * round_up(m_, mr) + i / mr * mr * kc;
}

void sgemm_packed(const PackedA& a, Trans tb, int64_t n, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) {
  // MC is a multiple of every kernel's mr, so every A block starts on a panel boundary.
  auto a_block = [&](int64_t pc, int64_t, int64_t ic, int64_t) { return a.panel(pc, ic); };
  gemm_loops(a.kernel(), a.rows(), n, a.depth(), a_block, tb, b, ldb, beta, c, ldc);
}

void sgemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc) {
  const MicroKernel& kernel = current_micro_kernel();
  thread_local Scratch a_scratch;
  float* ap = a_scratch.get(round_up(std::min(MC, std::max<int64_t>(m, 1)), kernel.mr) * KC);
  auto a_block = [&](int64_t pc, int64_t kc, int64_t ic, int64_t mc) {
    pack_a(kernel.mr, ta, a, lda, ic, mc, pc, kc, ap);
    return static_cast<const float*>(ap);
  };
  gemm_loops(kernel, m, n, k, a_block, tb, b, ldb, beta, c, ldc);
}

void sgemm_parallel(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, float beta, float* c, int64_t ldc) {
  // Slices of whole NR-column panels, at most one per thread; a product under
  // ~1 M FMAs stays on one thread, where waking the others costs more.
  const int64_t panels = (n + NR - 1) / NR;
  const int64_t threads = omp_in_parallel() || m * n * k < (1 << 20) ? 1 : omp_get_max_threads();
  const int64_t slices = std::clamp<int64_t>(threads, 1, std::max<int64_t>(panels, 1));
  const int64_t width = (panels + slices - 1) / slices * NR;
#pragma omp parallel for schedule(static) num_threads(int(slices)) if (slices > 1)
  for (int64_t s = 0; s < slices; ++s) {
    const int64_t j0 = s * width, j1 = std::min(n, j0 + width);
    if (j0 >= j1) continue;
    const float* bs = tb == Trans::no ? b + j0 : b + j0 * ldb;  // column j0 of op(B)
    sgemm(ta, tb, m, j1 - j0, k, a, lda, bs, ldb, beta, c + j0, ldc);
  }
}

void sgemm_eigen(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                 int64_t ldb, float beta, float* c, int64_t ldc) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  using ConstMap = Eigen::Map<const Mat, 0, Stride>;
  Eigen::Map<Mat, 0, Stride> cm(c, m, n, Stride(ldc));
  if (beta == 0.0f) cm.setZero();
  else if (beta != 1.0f) cm *= beta;
  if (k == 0) return;
  const ConstMap am = ta == Trans::no ? ConstMap(a, m, k, Stride(lda)) : ConstMap(a, k, m, Stride(lda));
  const ConstMap bm = tb == Trans::no ? ConstMap(b, k, n, Stride(ldb)) : ConstMap(b, n, k, Stride(ldb));
  if (ta == Trans::no && tb == Trans::no) cm.noalias() += am * bm;
  else if (ta == Trans::no) cm.noalias() += am * bm.transpose();
  else if (tb == Trans::no) cm.noalias() += am.transpose() * bm;
  else cm.noalias() += am.transpose() * bm.transpose();
}

const char* sgemm_kernel_name() { return current_micro_kernel().name; }

}  // namespace radius
