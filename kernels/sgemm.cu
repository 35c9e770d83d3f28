// SGEMM: shared-memory tiles, 2-D register blocking, 16-byte loads, double
// buffering. The step-by-step derivation lives in playground/sgemm_playground.cu;
// this is its v4 generalised to what the framework needs: any M, N, K (partial
// tiles are zero-filled on load and masked on store), the three transpose cases
// of the conv/dense paths (and the fourth for free), batching with strides, and
// a bias/ReLU epilogue.
//
// One block computes a BM x BN tile of C, walking K in steps of BK:
//   As[BK][BM]  the A tile stored k-major (transposed when A is not), so that a
//               thread reads its TM values of one k as float4s;
//   Bs[BK][BN]  the B tile, k-major as well;
//   each thread owns a TM x TN sub-tile of C in registers and does TM*TN FMAs
//   per k from TM + TN shared-memory loads (the point of register blocking).
// While the block computes on one smem buffer, each thread already holds the
// next tile's global loads in registers and stores them into the other buffer:
// one __syncthreads per K step.
//
// The shape decides the launch (kernels/sgemm_plan.h): the tile (128x128 for
// big grids, 64x64 for smaller ones, 32x64 when M <= 32, e.g. a dense layer at
// batch 32), and a split of K when even that grid is under two waves of an H100.
// A split-K launch computes one partial product per K range into a scratch
// buffer, and a second kernel adds the partials in range order and applies the
// epilogue: a fixed reduction order and no atomics, so the same bits every run.
#include <algorithm>
#include <stdexcept>

#include "kernels/runtime.h"
#include "kernels/sgemm.h"
#include "kernels/sgemm_plan.h"
#include "tensor/device_memory.h"

namespace radius::cuda {
namespace {

constexpr int kPad = 4;  // smem row padding (keeps float4 alignment, spreads banks)

template <int BM, int BN, int BK, int TM, int TN>
struct Tile {
  static constexpr int threads = (BM / TM) * (BN / TN);
  static constexpr int a_vecs = BM * BK / 4;  // float4 loads per A tile
  static constexpr int b_vecs = BK * BN / 4;
  static constexpr int a_per_thread = (a_vecs + threads - 1) / threads;
  static constexpr int b_per_thread = (b_vecs + threads - 1) / threads;
};

// Loads 4 consecutive floats p[0..3] along a row of length `limit` (elements
// beyond it read as 0). `row_ok` false means the whole row is outside the matrix.
template <bool VEC>
__device__ __forceinline__ float4 load4(const float* __restrict__ p, int64_t start, int64_t limit, bool row_ok) {
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
  if (!row_ok) return v;
  if (VEC && start + 3 < limit) return *reinterpret_cast<const float4*>(p + start);
  if (start + 0 < limit) v.x = p[start + 0];
  if (start + 1 < limit) v.y = p[start + 1];
  if (start + 2 < limit) v.z = p[start + 2];
  if (start + 3 < limit) v.w = p[start + 3];
  return v;
}

// The epilogue of one element, x = alpha * (op(A) op(B))[row, col]: + beta * C
// (C read only when beta != 0), + the biases, then ReLU. The GEMM kernel and the
// split-K reduction both finish with it.
__device__ __forceinline__ float finish(float x, float beta, const float* c, float row_bias, const GemmEpilogue& ep,
                                        int64_t col) {
  if (beta != 0.f) x += beta * *c;
  x += row_bias;
  if (ep.col_bias) x += ep.col_bias[col];
  if (ep.relu) x = fmaxf(x, 0.f);
  return x;
}

// blockIdx.z = batch index * splits + split: a block sums k in [k_begin, k_end),
// the split-th range of k_split values (splits = 1, k_split = K: all of K), and
// writes C + blockIdx.z * stride_c (split-K: the launcher points C at its
// scratch buffer of partials, one slice per z).
template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB, bool VEC>
__global__ void __launch_bounds__(Tile<BM, BN, BK, TM, TN>::threads)
    sgemm_kernel(int64_t M, int64_t N, int64_t K, float alpha, const float* __restrict__ A, int64_t lda,
                 const float* __restrict__ B, int64_t ldb, float beta, float* __restrict__ C, int64_t ldc,
                 GemmEpilogue ep, int64_t stride_a, int64_t stride_b, int64_t stride_c, int64_t k_split,
                 int splits) {
  using T = Tile<BM, BN, BK, TM, TN>;
  __shared__ __align__(16) float As[2][BK][BM + kPad];
  __shared__ __align__(16) float Bs[2][BK][BN + kPad];

  const int64_t z = blockIdx.z, batch_index = z / splits;
  const int64_t k_begin = (z % splits) * k_split;
  const int64_t k_end = k_begin + k_split < K ? k_begin + k_split : K;  // loads past it read 0
  A += batch_index * stride_a;
  B += batch_index * stride_b;
  C += z * stride_c;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int tid = threadIdx.x;
  const int ty = tid / (BN / TN), tx = tid % (BN / TN);

  float4 a_reg[T::a_per_thread], b_reg[T::b_per_thread];

  // Global -> registers for the K tile starting at k0.
  auto load_tiles = [&](int64_t k0) {
#pragma unroll
    for (int r = 0; r < T::a_per_thread; ++r) {
      const int i = tid + r * T::threads;
      if (i >= T::a_vecs) break;
      if (!TA) {  // A [M, K]: a row of the tile is BK consecutive k
        const int mm = i / (BK / 4), kq = (i % (BK / 4)) * 4;
        a_reg[r] = load4<VEC>(A + (m0 + mm) * lda, k0 + kq, k_end, m0 + mm < M);
      } else {    // A [K, M]: a row of the tile is BM consecutive m
        const int kk = i / (BM / 4), mq = (i % (BM / 4)) * 4;
        a_reg[r] = load4<VEC>(A + (k0 + kk) * lda, m0 + mq, M, k0 + kk < k_end);
      }
    }
#pragma unroll
    for (int r = 0; r < T::b_per_thread; ++r) {
      const int i = tid + r * T::threads;
      if (i >= T::b_vecs) break;
      if (!TB) {  // B [K, N]
        const int kk = i / (BN / 4), nq = (i % (BN / 4)) * 4;
        b_reg[r] = load4<VEC>(B + (k0 + kk) * ldb, n0 + nq, N, k0 + kk < k_end);
      } else {    // B [N, K]
        const int nn = i / (BK / 4), kq = (i % (BK / 4)) * 4;
        b_reg[r] = load4<VEC>(B + (n0 + nn) * ldb, k0 + kq, k_end, n0 + nn < N);
      }
    }
  };
  // Registers -> shared buffer `buf`, k-major.
  auto store_tiles = [&](int buf) {
#pragma unroll
    for (int r = 0; r < T::a_per_thread; ++r) {
      const int i = tid + r * T::threads;
      if (i >= T::a_vecs) break;
      if (!TA) {
        const int mm = i / (BK / 4), kq = (i % (BK / 4)) * 4;
        As[buf][kq + 0][mm] = a_reg[r].x;
        As[buf][kq + 1][mm] = a_reg[r].y;
        As[buf][kq + 2][mm] = a_reg[r].z;
        As[buf][kq + 3][mm] = a_reg[r].w;
      } else {
        const int kk = i / (BM / 4), mq = (i % (BM / 4)) * 4;
        *reinterpret_cast<float4*>(&As[buf][kk][mq]) = a_reg[r];
      }
    }
#pragma unroll
    for (int r = 0; r < T::b_per_thread; ++r) {
      const int i = tid + r * T::threads;
      if (i >= T::b_vecs) break;
      if (!TB) {
        const int kk = i / (BN / 4), nq = (i % (BN / 4)) * 4;
        *reinterpret_cast<float4*>(&Bs[buf][kk][nq]) = b_reg[r];
      } else {
        const int nn = i / (BK / 4), kq = (i % (BK / 4)) * 4;
        Bs[buf][kq + 0][nn] = b_reg[r].x;
        Bs[buf][kq + 1][nn] = b_reg[r].y;
        Bs[buf][kq + 2][nn] = b_reg[r].z;
        Bs[buf][kq + 3][nn] = b_reg[r].w;
      }
    }
  };

  float acc[TM][TN] = {};
  float a_frag[TM], b_frag[TN];
  const int64_t tiles = (k_end - k_begin + BK - 1) / BK;
  load_tiles(k_begin);
  store_tiles(0);
  __syncthreads();
  int cur = 0;
  for (int64_t t = 0; t < tiles; ++t) {
    if (t + 1 < tiles) load_tiles(k_begin + (t + 1) * BK);  // in flight while we compute
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
#pragma unroll
      for (int i = 0; i < TM; i += 4)
        *reinterpret_cast<float4*>(&a_frag[i]) = *reinterpret_cast<const float4*>(&As[cur][kk][ty * TM + i]);
#pragma unroll
      for (int j = 0; j < TN; j += 4)
        *reinterpret_cast<float4*>(&b_frag[j]) = *reinterpret_cast<const float4*>(&Bs[cur][kk][tx * TN + j]);
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a_frag[i], b_frag[j], acc[i][j]);
    }
    if (t + 1 < tiles) store_tiles(cur ^ 1);  // the other buffer: last read before the previous barrier
    __syncthreads();
    cur ^= 1;
  }

  // Epilogue: alpha, beta (C read only when beta != 0), bias, ReLU; float4 stores.
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t row = m0 + ty * TM + i;
    if (row >= M) break;
    const float rb = ep.row_bias ? ep.row_bias[row] : 0.f;
    float* c_row = C + row * ldc;
#pragma unroll
    for (int j = 0; j < TN; j += 4) {
      const int64_t col = n0 + tx * TN + j;
      float v[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int64_t cq = col + q;
        const float x = alpha * acc[i][j + q];
        v[q] = cq < N ? finish(x, beta, c_row + cq, rb, ep, cq) : x;
      }
      if (VEC && col + 3 < N) {
        *reinterpret_cast<float4*>(c_row + col) = make_float4(v[0], v[1], v[2], v[3]);
      } else {
#pragma unroll
        for (int q = 0; q < 4; ++q)
          if (col + q < N) c_row[col + q] = v[q];
      }
    }
  }
}

// Split-K, second pass: C = finish(alpha * the sum of the partials), adding
// them in split order (a fixed order: the same bits on every run). partials:
// [batch * splits][M][ld] with ld >= N, the slices of one batch index adjacent.
__global__ void split_k_reduce_kernel(Gemm g, int splits, const float* __restrict__ partials, int64_t ld) {
  const int64_t total = g.batch * g.m * g.n, slice = g.m * ld;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t col = idx % g.n, row = (idx / g.n) % g.m, batch_index = idx / (g.n * g.m);
    const float* p = partials + batch_index * splits * slice + row * ld + col;
    float sum = 0.f;
    for (int s = 0; s < splits; ++s) sum += p[s * slice];
    float* c = g.c + batch_index * g.stride_c + row * g.ldc + col;
    const float rb = g.epilogue.row_bias ? g.epilogue.row_bias[row] : 0.f;
    *c = finish(g.alpha * sum, g.beta, c, rb, g.epilogue, col);
  }
}

// The split-K partials, from the caching allocator and returned to it at scope
// end; stream order keeps the memory alive for the kernels queued on it.
class PartialsBuffer {
 public:
  explicit PartialsBuffer(size_t floats) : p_(static_cast<float*>(device_alloc(floats * sizeof(float)))) {}
  ~PartialsBuffer() { device_free(p_); }
  PartialsBuffer(const PartialsBuffer&) = delete;
  PartialsBuffer& operator=(const PartialsBuffer&) = delete;
  float* get() const { return p_; }

 private:
  float* p_;
};

template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB, bool VEC>
void launch(const Gemm& g, const GemmPlan& p) {
  const dim3 grid(unsigned(ceil_div(g.n, BN)), unsigned(ceil_div(g.m, BM)), unsigned(g.batch * p.splits));
  const dim3 threads(Tile<BM, BN, BK, TM, TN>::threads);
  if (p.splits == 1) {
    sgemm_kernel<BM, BN, BK, TM, TN, TA, TB, VEC><<<grid, threads, 0, stream()>>>(
        g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc, g.epilogue, g.stride_a, g.stride_b,
        g.stride_c, g.k, 1);
    RADIUS_CUDA_CHECK_LAUNCH("sgemm_kernel");
    return;
  }
  // Partials: raw products (alpha 1, beta 0, no epilogue), rows padded to a
  // multiple of 4 floats so that the 16-byte stores stay aligned.
  const int64_t ld = ceil_div(g.n, 4) * 4, slice = g.m * ld;
  const PartialsBuffer partials(size_t(g.batch * p.splits * slice));
  sgemm_kernel<BM, BN, BK, TM, TN, TA, TB, VEC><<<grid, threads, 0, stream()>>>(
      g.m, g.n, g.k, 1.f, g.a, g.lda, g.b, g.ldb, 0.f, partials.get(), ld, GemmEpilogue{}, g.stride_a, g.stride_b,
      slice, p.k_split, p.splits);
  RADIUS_CUDA_CHECK_LAUNCH("sgemm_kernel (split-K)");
  constexpr int kReduceThreads = 256;
  split_k_reduce_kernel<<<grid_for(g.batch * g.m * g.n, kReduceThreads), kReduceThreads, 0, stream()>>>(
      g, p.splits, partials.get(), ld);
  RADIUS_CUDA_CHECK_LAUNCH("split_k_reduce_kernel");
}

template <bool TA, bool TB, bool VEC>
void launch_planned(const Gemm& g) {
  const GemmPlan p = plan_gemm(g.m, g.n, g.k, g.batch, device_info().sm_count);
  switch (p.tile) {
    case TileShape::large: return launch<128, 128, 8, 8, 8, TA, TB, VEC>(g, p);
    case TileShape::medium: return launch<64, 64, 16, 4, 4, TA, TB, VEC>(g, p);
    case TileShape::small_m: return launch<32, 64, 16, 4, 4, TA, TB, VEC>(g, p);
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

}  // namespace

void sgemm(const Gemm& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (g.batch > 65535) throw std::invalid_argument("sgemm: batch above 65535");
  // 16-byte loads and stores need every row start (and batch offset) on a 16-byte boundary.
  const bool vec = aligned16(g.a) && aligned16(g.b) && aligned16(g.c) && g.lda % 4 == 0 && g.ldb % 4 == 0 &&
                   g.ldc % 4 == 0 && g.stride_a % 4 == 0 && g.stride_b % 4 == 0 && g.stride_c % 4 == 0;
#define RADIUS_SGEMM_CASE(TA, TB)         \
  if (g.trans_a == TA && g.trans_b == TB) { \
    if (vec)                                \
      launch_planned<TA, TB, true>(g);      \
    else                                    \
      launch_planned<TA, TB, false>(g);     \
    return;                                 \
  }
  RADIUS_SGEMM_CASE(false, false)
  RADIUS_SGEMM_CASE(false, true)
  RADIUS_SGEMM_CASE(true, false)
  RADIUS_SGEMM_CASE(true, true)
#undef RADIUS_SGEMM_CASE
}

}  // namespace radius::cuda
