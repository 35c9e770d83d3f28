// SGEMM playground, in the manner of llm.c's dev/cuda: numbered versions of one
// kernel, each checked against a CPU reference and timed by the same harness.
// Read them in order; each changes one thing and says why.
//
//   C[M, N] = A[M, K] x B[K, N], row-major FP32. M, N multiples of 128, K of 16
//   (the playground keeps edge handling out of the way; kernels/sgemm.cu handles
//   any size).
//
//   v1 naive            one thread per C element, K loop from global memory
//   v2 smem tiled       32x32 tiles staged through shared memory
//   v3 register-blocked 128x128 block tile, each thread an 8x8 sub-tile in registers
//   v4 vectorised       v3 + float4 global loads, A stored transposed in smem,
//                       float4 C stores (the one kernels/sgemm.cu generalises)
//   v5 warp-tiled       v4 + a warp-level tile: each warp owns a 64x64 region and
//                       iterates sub-tiles, for register/smem locality per warp
//
// Build: part of the CUDA build (target sgemm_playground). Run:
//   build/sgemm_playground [size=4096] [check_size=512] [repeats=20]
// Without a GPU it prints a message and exits 0.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#ifdef RADIUS_HAVE_CUBLAS
#include <cublas_v2.h>
#endif

#include "kernels/playground/harness.cuh"

using namespace radius::playground;
namespace cuda = radius::cuda;

// ---- v1: naive ------------------------------------------------------------------
// Thread (row, col) walks K. Consecutive threads (threadIdx.x) take consecutive
// columns, so B and C accesses coalesce and A is a broadcast. Every operand is
// re-read from global memory (via L1/L2) K times: ~2 FLOP per 8 bytes moved.
__global__ void sgemm_v1(int M, int N, int K, const float* A, const float* B, float* C) {
  const int row = blockIdx.y * blockDim.y + threadIdx.y, col = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= M || col >= N) return;
  float s = 0.f;
  for (int k = 0; k < K; ++k) s += A[row * K + k] * B[k * N + col];
  C[row * N + col] = s;
}

// ---- v2: shared-memory tiling ---------------------------------------------------
// A 32x32 block loads a 32x32 tile of A and of B into shared memory once, then
// every thread does 32 FMAs from it: global traffic drops by 32x. Still one
// output per thread, so each FMA needs two shared-memory loads: smem-bound.
template <int T>
__global__ void sgemm_v2(int M, int N, int K, const float* A, const float* B, float* C) {
  __shared__ float As[T][T], Bs[T][T];
  const int ty = threadIdx.y, tx = threadIdx.x;
  const int row = blockIdx.y * T + ty, col = blockIdx.x * T + tx;
  float s = 0.f;
  for (int k0 = 0; k0 < K; k0 += T) {
    As[ty][tx] = A[row * K + k0 + tx];
    Bs[ty][tx] = B[(k0 + ty) * N + col];
    __syncthreads();
#pragma unroll
    for (int k = 0; k < T; ++k) s += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  C[row * N + col] = s;
}

// ---- v3: 2-D register blocking ----------------------------------------------------
// Block tile 128x128, K step 8, 256 threads; each thread computes an 8x8 patch
// of C in registers: per k it loads 8 A values and 8 B values from shared memory
// and does 64 FMAs (8x the arithmetic intensity of v2 on shared memory).
template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN)) sgemm_v3(int M, int N, int K, const float* A, const float* B,
                                                                 float* C) {
  constexpr int threads = (BM / TM) * (BN / TN);
  __shared__ float As[BM][BK], Bs[BK][BN];
  const int tid = threadIdx.x, ty = tid / (BN / TN), tx = tid % (BN / TN);
  A += blockIdx.y * BM * K;
  B += blockIdx.x * BN;
  C += blockIdx.y * BM * N + blockIdx.x * BN;
  float acc[TM][TN] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int i = tid; i < BM * BK; i += threads) As[i / BK][i % BK] = A[(i / BK) * K + k0 + i % BK];
    for (int i = tid; i < BK * BN; i += threads) Bs[i / BN][i % BN] = B[(k0 + i / BN) * N + i % BN];
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = As[ty * TM + i][k];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = Bs[k][tx * TN + j];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) C[(ty * TM + i) * N + tx * TN + j] = acc[i][j];
}

// ---- v4: vectorised ----------------------------------------------------------------
// v3's loads are 4-byte and its A reads from shared memory stride by BK. Now:
// 16-byte (float4) global loads; A is stored TRANSPOSED in shared memory
// (As[k][m]) so a thread's 8 A values of one k are two float4 reads; float4 C
// stores. Same arithmetic, fewer and wider memory instructions.
template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN)) sgemm_v4(int M, int N, int K, const float* A, const float* B,
                                                                 float* C) {
  constexpr int threads = (BM / TM) * (BN / TN);
  __shared__ __align__(16) float As[BK][BM], Bs[BK][BN];
  const int tid = threadIdx.x, ty = tid / (BN / TN), tx = tid % (BN / TN);
  A += blockIdx.y * BM * K;
  B += blockIdx.x * BN;
  C += blockIdx.y * BM * N + blockIdx.x * BN;
  float acc[TM][TN] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int i = tid; i < BM * BK / 4; i += threads) {  // A: row m, 4 consecutive k -> transpose
      const int m = i / (BK / 4), kq = (i % (BK / 4)) * 4;
      const float4 v = *reinterpret_cast<const float4*>(&A[m * K + k0 + kq]);
      As[kq + 0][m] = v.x;
      As[kq + 1][m] = v.y;
      As[kq + 2][m] = v.z;
      As[kq + 3][m] = v.w;
    }
    for (int i = tid; i < BK * BN / 4; i += threads) {  // B: row k, 4 consecutive n
      const int k = i / (BN / 4), nq = (i % (BN / 4)) * 4;
      *reinterpret_cast<float4*>(&Bs[k][nq]) = *reinterpret_cast<const float4*>(&B[(k0 + k) * N + nq]);
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; i += 4) *reinterpret_cast<float4*>(&a[i]) = *reinterpret_cast<const float4*>(&As[k][ty * TM + i]);
#pragma unroll
      for (int j = 0; j < TN; j += 4) *reinterpret_cast<float4*>(&b[j]) = *reinterpret_cast<const float4*>(&Bs[k][tx * TN + j]);
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; j += 4)
      *reinterpret_cast<float4*>(&C[(ty * TM + i) * N + tx * TN + j]) =
          make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
}

// ---- v5: warp tiling -----------------------------------------------------------------
// Between the block tile and the thread tile sits a warp tile (WM x WN): a warp's
// 32 threads cover it in WMITER x WNITER steps of (WM/WMITER) x (WN/WNITER).
// A warp then reads a compact region of shared memory (fewer bank conflicts, more
// broadcast) and a thread's registers are reused across the warp's sub-tiles.
// 128 threads = 4 warps, each a 64x64 quarter of the 128x128 block tile.
template <int BM, int BN, int BK, int WM, int WN, int WNITER, int TM, int TN, int THREADS>
__global__ void __launch_bounds__(THREADS) sgemm_v5(int M, int N, int K, const float* A, const float* B, float* C) {
  constexpr int WMITER = (WM * WN) / (32 * TM * TN * WNITER);
  constexpr int WSUBM = WM / WMITER, WSUBN = WN / WNITER;
  __shared__ __align__(16) float As[BK * BM], Bs[BK * BN];
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int warp_col = warp % (BN / WN), warp_row = warp / (BN / WN);
  const int t_col = lane % (WSUBN / TN), t_row = lane / (WSUBN / TN);
  A += blockIdx.y * BM * K;
  B += blockIdx.x * BN;
  C += (blockIdx.y * BM + warp_row * WM) * N + blockIdx.x * BN + warp_col * WN;
  const int a_row = tid / (BK / 4), a_col = tid % (BK / 4);
  constexpr int a_stride = THREADS * 4 / BK;
  const int b_row = tid / (BN / 4), b_col = tid % (BN / 4);
  constexpr int b_stride = THREADS / (BN / 4);

  float acc[WMITER * TM * WNITER * TN] = {};
  float reg_m[WMITER * TM], reg_n[WNITER * TN];
  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int off = 0; off < BM; off += a_stride) {
      const float4 v = *reinterpret_cast<const float4*>(&A[(a_row + off) * K + k0 + a_col * 4]);
      As[(a_col * 4 + 0) * BM + a_row + off] = v.x;
      As[(a_col * 4 + 1) * BM + a_row + off] = v.y;
      As[(a_col * 4 + 2) * BM + a_row + off] = v.z;
      As[(a_col * 4 + 3) * BM + a_row + off] = v.w;
    }
    for (int off = 0; off < BK; off += b_stride)
      *reinterpret_cast<float4*>(&Bs[(b_row + off) * BN + b_col * 4]) =
          *reinterpret_cast<const float4*>(&B[(k0 + b_row + off) * N + b_col * 4]);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int wm = 0; wm < WMITER; ++wm)
#pragma unroll
        for (int i = 0; i < TM; ++i) reg_m[wm * TM + i] = As[k * BM + warp_row * WM + wm * WSUBM + t_row * TM + i];
#pragma unroll
      for (int wn = 0; wn < WNITER; ++wn)
#pragma unroll
        for (int j = 0; j < TN; ++j) reg_n[wn * TN + j] = Bs[k * BN + warp_col * WN + wn * WSUBN + t_col * TN + j];
#pragma unroll
      for (int wm = 0; wm < WMITER; ++wm)
#pragma unroll
        for (int wn = 0; wn < WNITER; ++wn)
#pragma unroll
          for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < TN; ++j)
              acc[(wm * TM + i) * (WNITER * TN) + wn * TN + j] =
                  fmaf(reg_m[wm * TM + i], reg_n[wn * TN + j], acc[(wm * TM + i) * (WNITER * TN) + wn * TN + j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int wm = 0; wm < WMITER; ++wm)
#pragma unroll
    for (int wn = 0; wn < WNITER; ++wn)
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; j += 4) {
          const float* r = &acc[(wm * TM + i) * (WNITER * TN) + wn * TN + j];
          *reinterpret_cast<float4*>(&C[(wm * WSUBM + t_row * TM + i) * N + wn * WSUBN + t_col * TN + j]) =
              make_float4(r[0], r[1], r[2], r[3]);
        }
}

// ---- the harness ------------------------------------------------------------------------

constexpr int kVersions = 5;
const char* kNames[kVersions + 1] = {"", "v1 naive", "v2 smem tiled", "v3 register-blocked", "v4 vectorised",
                                     "v5 warp-tiled"};

// Every version runs on the Radius stream, which the harness's timer records on.
void run_version(int v, int M, int N, int K, const float* A, const float* B, float* C) {
  const cudaStream_t s = cuda::stream();
  switch (v) {
    case 1: sgemm_v1<<<dim3(N / 32, M / 32), dim3(32, 32), 0, s>>>(M, N, K, A, B, C); break;
    case 2: sgemm_v2<32><<<dim3(N / 32, M / 32), dim3(32, 32), 0, s>>>(M, N, K, A, B, C); break;
    case 3: sgemm_v3<128, 128, 8, 8, 8><<<dim3(N / 128, M / 128), 256, 0, s>>>(M, N, K, A, B, C); break;
    case 4: sgemm_v4<128, 128, 8, 8, 8><<<dim3(N / 128, M / 128), 256, 0, s>>>(M, N, K, A, B, C); break;
    case 5: sgemm_v5<128, 128, 16, 64, 64, 4, 8, 4, 128><<<dim3(N / 128, M / 128), 128, 0, s>>>(M, N, K, A, B, C); break;
  }
  PG_CHECK_LAUNCH();
}

// A and B random (never zeros: zeros hide bugs and run faster), on the host and the device.
struct Matrices {
  int M, N, K;
  std::vector<float> hA, hB;
  Buffer<float> A, B, C;
  Matrices(int m, int n, int k, unsigned seed)
      : M(m), N(n), K(k), hA(random_vector(size_t(m) * k, seed)), hB(random_vector(size_t(k) * n, seed + 1)),
        A(hA), B(hB), C(size_t(m) * n) {}
};

// ||C - ref|| / ||ref|| against a double-precision CPU product; C poisoned (NaN) first.
double check(int v, Matrices& m, const std::vector<double>& ref) {
  m.C.poison();
  run_version(v, m.M, m.N, m.K, m.A.get(), m.B.get(), m.C.get());
  return rel_error(ref, m.C.download());
}

int main(int argc, char** argv) {
  const int size = argc > 1 ? std::atoi(argv[1]) : 4096;
  const int check_size = argc > 2 ? std::atoi(argv[2]) : 512;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 20;
  if (!have_gpu("sgemm_playground")) return 0;
  if (size % 128 || check_size % 128) {
    std::fprintf(stderr, "sizes must be multiples of 128 (got %d, %d)\n", size, check_size);
    return 2;
  }
  const Peak peak = device_peak();

  // 1. Correctness at check_size against the CPU (double accumulation).
  Matrices small(check_size, check_size, check_size, 1);
  std::vector<double> ref(size_t(check_size) * check_size, 0.0);
  for (int i = 0; i < check_size; ++i)
    for (int k = 0; k < check_size; ++k) {
      const double a = small.hA[size_t(i) * check_size + k];
      for (int j = 0; j < check_size; ++j) ref[size_t(i) * check_size + j] += a * small.hB[size_t(k) * check_size + j];
    }
  bool ok = true;
  for (int v = 1; v <= kVersions; ++v) ok &= print_check(kNames[v], check(v, small, ref), 1e-5);

  // 2. Timing at size^3 (each operand 64 MB at 4096: larger than L2, no rotation needed).
  Matrices big(size, size, size, 3);
  const double flop = 2.0 * size * double(size) * size;
  double cublas_ms = 0;
#ifdef RADIUS_HAVE_CUBLAS
  cublasHandle_t handle;
  if (cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS) {
    cublasSetStream(handle, cuda::stream());
    cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH);  // FP32 FMA: no TF32 tensor cores
    const float one = 1.f, zero = 0.f;
    // Row-major C = A B is column-major C^T = B^T A^T.
    cublas_ms = median_ms([&] { cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, size, size, size, &one, big.B.get(),
                                            size, big.A.get(), size, &zero, big.C.get(), size); },
                          repeats);
    cublasDestroy(handle);
  }
#endif
  print_header("version");
  for (int v = 1; v <= kVersions; ++v) {
    const int reps = v == 1 ? std::max(3, repeats / 5) : repeats;  // the naive one is slow
    const float ms = median_ms([&] { run_version(v, size, size, size, big.A.get(), big.B.get(), big.C.get()); }, reps);
    print_row(kNames[v], ms, 0, flop, peak);
    if (cublas_ms > 0) std::printf("%-34s %10s %7.1f%% of cuBLAS\n", "", "", 100.0 * cublas_ms / ms);
  }
  if (cublas_ms > 0) print_row("cuBLAS (FP32, no TF32)", float(cublas_ms), 0, flop, peak);
  return ok ? 0 : 1;
}
