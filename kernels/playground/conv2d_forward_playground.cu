// Convolution forward playground: numbered versions of y = conv(x, w) + b (NCHW,
// any stride and padding), each checked against the CPU reference
// (layers/conv2d.h, in double) and timed by the shared harness (harness.cuh).
//
//   v1 direct           one thread per output element, the 7-deep loop nest as written
//   v2 im2col + GEMM    lower x to col [R, P] in memory, then a 32x32 shared-memory tiled GEMM
//   v3 implicit GEMM    v2's GEMM, but its loader gathers the col tile from x directly: no col buffer
//   v4 backend          kernels/conv2d.h's conv2d_forward: im2col + the register-blocked,
//                       vectorised, double-buffered SGEMM (kernels/sgemm.cu)
//
// FLOPs: 2 n K P R (P = OH*OW output pixels, R = C*KH*KW patch), the product alone.
// The rate is GFLOP/s and % of the FP32 peak estimate (harness.cuh says how).
//
// Run: build/conv2d_forward_playground [batch=32] [repeats=20]   (the paper model's conv2:
// 32 -> 64 channels, 74x74, 3x3). Without a GPU it prints a message and exits 0.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/playground/col_element.cuh"
#include "kernels/playground/harness.cuh"
#include "kernels/playground/playground.h"
#include "layers/conv2d.h"
#include "tensor/device_memory.h"

namespace radius::playground {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t total) { return unsigned(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535)); }

// ---- v1: direct ------------------------------------------------------------------
// Thread = one output (image, k, oi, oj); it walks C x KH x KW, testing the bounds
// of every tap. Consecutive threads take consecutive oj, so x reads mostly
// coalesce, and w is a broadcast. But each input value is re-read by every filter
// (K times) and every overlapping window (KH*KW times), from L1/L2 at best, and
// each FMA costs two loads: this is memory-instruction bound, far from the FLOP peak.
__global__ void conv_v1(Conv2dGeom g, int64_t n, const float* __restrict__ x, const float* __restrict__ w,
                        const float* __restrict__ b, float* __restrict__ y) {
  const int64_t total = n * g.k * g.oh * g.ow, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t oj = idx % g.ow, oi = (idx / g.ow) % g.oh, k = (idx / (g.ow * g.oh)) % g.k;
    const int64_t img = idx / (g.ow * g.oh * g.k);
    float s = 0.f;
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        const int64_t ii = oi * g.stride + ki - g.pad_top;
        if (ii < 0 || ii >= g.h) continue;
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const int64_t jj = oj * g.stride + kj - g.pad_left;
          if (jj < 0 || jj >= g.w) continue;
          s += x[((img * g.c + c) * g.h + ii) * g.w + jj] * w[((k * g.c + c) * g.kh + ki) * g.kw + kj];
        }
      }
    y[idx] = s + (b ? b[k] : 0.f);
  }
}

// ---- v2 and v3 share one GEMM; only where the B tile comes from differs ------------
// C_img [M, N] = A [M, Kd] x B_img [Kd, N] + bias, image = blockIdx.z. Each block
// stages a TxT tile of A and of B in shared memory and every thread does T FMAs
// from it: global traffic drops T-fold against v1. One output per thread, so each
// FMA still needs two shared-memory loads (the SGEMM playground's v2; its v3..v5
// show what the backend's GEMM adds: register blocking, 16-byte loads).
template <int T, class LoadB>
__global__ void gemm_tiled(int M, int N, int Kd, const float* __restrict__ A, LoadB load_b, float* __restrict__ C,
                           int64_t stride_c, const float* __restrict__ bias) {
  __shared__ float As[T][T], Bs[T][T];
  const int ty = threadIdx.y, tx = threadIdx.x, img = blockIdx.z;
  const int row = blockIdx.y * T + ty, col = blockIdx.x * T + tx;
  float s = 0.f;
  for (int k0 = 0; k0 < Kd; k0 += T) {
    As[ty][tx] = row < M && k0 + tx < Kd ? A[int64_t(row) * Kd + k0 + tx] : 0.f;  // zeros past the edges
    Bs[ty][tx] = k0 + ty < Kd && col < N ? load_b(img, k0 + ty, col) : 0.f;
    __syncthreads();
#pragma unroll
    for (int k = 0; k < T; ++k) s += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < M && col < N) C[img * stride_c + int64_t(row) * N + col] = s + (bias ? bias[row] : 0.f);
}

// v2's B: the col matrix written to memory by im2col_kernel beforehand.
struct ColFromMemory {
  const float* col;
  int64_t rows, pixels;
  __device__ float operator()(int64_t img, int64_t r, int64_t p) const { return col[(img * rows + r) * pixels + p]; }
};

// v2 stores the col matrix with col_element (col_element.cuh), v3 gathers it.
__global__ void im2col_kernel(Conv2dGeom g, int64_t n, const float* __restrict__ x, float* __restrict__ col) {
  const int64_t pixels = g.oh * g.ow, rows = g.c * g.kh * g.kw, total = n * rows * pixels;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step)
    col[idx] = col_element(g, x, idx / (rows * pixels), (idx / pixels) % rows, idx % pixels);
}

// ---- v3: implicit GEMM ---------------------------------------------------------------
// The B tile is gathered from x as the GEMM needs it: the col matrix (R x P floats
// per image: 191 MB for the paper's conv2 at batch 32) is never written nor read
// back, which v2 pays twice in bandwidth. The price: index arithmetic (divisions)
// per loaded element; a production implicit GEMM precomputes those offsets.
struct ColFromImage {
  Conv2dGeom g;
  const float* x;
  __device__ float operator()(int64_t img, int64_t r, int64_t p) const { return col_element(g, x, img, r, p); }
};

constexpr int kTile = 32;

template <class LoadB> void launch_gemm(const Conv2dGeom& g, int64_t n, const float* w, LoadB load_b, const float* b,
                                        float* y) {
  const int M = int(g.k), N = int(g.pixels()), Kd = int(g.patch());
  const dim3 grid(unsigned((N + kTile - 1) / kTile), unsigned((M + kTile - 1) / kTile), unsigned(n));
  gemm_tiled<kTile><<<grid, dim3(kTile, kTile), 0, cuda::stream()>>>(M, N, Kd, w, load_b, y, int64_t(M) * N, b);
  PG_CHECK_LAUNCH();
}

}  // namespace

const char* conv_forward_name(int v) {
  static const char* names[] = {"", "v1 direct", "v2 im2col + tiled GEMM", "v3 implicit GEMM", "v4 backend (im2col+SGEMM)"};
  return v >= 1 && v <= kConvForwardVersions ? names[v] : "?";
}

void conv_forward(int v, const Conv2dGeom& g, int64_t n, const float* x, const float* w, const float* b, float* y) {
  if (n > 65535) throw std::invalid_argument("conv_forward playground: at most 65535 images (grid z)");
  switch (v) {
    case 1: {
      conv_v1<<<blocks_for(n * g.k * g.pixels()), kThreads, 0, cuda::stream()>>>(g, n, x, w, b, y);
      PG_CHECK_LAUNCH();
      break;
    }
    case 2: {
      const int64_t total = n * g.patch() * g.pixels();
      float* col = static_cast<float*>(device_alloc(size_t(total) * sizeof(float)));  // cached: no cudaMalloc once warm
      im2col_kernel<<<blocks_for(total), kThreads, 0, cuda::stream()>>>(g, n, x, col);
      PG_CHECK_LAUNCH();
      launch_gemm(g, n, w, ColFromMemory{col, g.patch(), g.pixels()}, b, y);
      device_free(col);  // stream-ordered reuse: safe while the GEMM is still queued
      break;
    }
    case 3: launch_gemm(g, n, w, ColFromImage{g, x}, b, y); break;
    case 4: cuda::conv2d_forward(g, n, x, w, b, y); break;
    default: throw std::invalid_argument("conv_forward playground: no version " + std::to_string(v));
  }
}

// ---- the harness ---------------------------------------------------------------------

namespace {

// The CPU reference in double: layers/conv2d.h's conv2d_forward<double>.
std::vector<double> reference(const Conv2dGeom& g, int64_t n, const std::vector<float>& x, const std::vector<float>& w,
                              const std::vector<float>& b) {
  const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), bd(b.begin(), b.end());
  std::vector<double> y(size_t(n * g.k * g.pixels()));
  radius::conv2d_forward<double>(g, n, xd.data(), wd.data(), bd.data(), y.data());
  return y;
}

struct Problem {
  Conv2dGeom g;
  int64_t n;
  std::vector<float> hx, hw, hb;
  Buffer<float> x, w, b, y;
  Problem(const Conv2dGeom& geom, int64_t images, unsigned seed)
      : g(geom), n(images), hx(random_vector(size_t(n * g.c * g.h * g.w), seed)),
        hw(random_vector(size_t(g.k * g.patch()), seed + 1)), hb(random_vector(size_t(g.k), seed + 2)), x(hx), w(hw),
        b(hb), y(size_t(n * g.k * g.pixels())) {}
};

}  // namespace

int conv2d_forward_playground_main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 32;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  if (!have_gpu("conv2d_forward_playground")) return 0;
  const Peak peak = device_peak();

  // 1. Correctness on small odd geometries (padding, stride 2, non-square kernels).
  bool ok = true;
  const std::vector<Conv2dGeom> checks = conv_check_geometries();
  unsigned seed = 1;
  for (const Conv2dGeom& g : checks) {
    Problem p(g, 3, seed += 10);
    const std::vector<double> want = reference(g, p.n, p.hx, p.hw, p.hb);
    for (int v = 1; v <= kConvForwardVersions; ++v) {
      p.y.poison();
      conv_forward(v, g, p.n, p.x.get(), p.w.get(), p.b.get(), p.y.get());
      char name[96];
      std::snprintf(name, sizeof name, "%s C%lld K%lld %lldx%lld", conv_forward_name(v), (long long)g.c,
                    (long long)g.k, (long long)g.h, (long long)g.w);
      ok &= print_check(name, rel_error(want, p.y.download()), 1e-5);
    }
  }

  // 2. Timing on the paper model's second convolution.
  Problem big(Conv2dGeom::make(32, 74, 74, 64, 3, 3, 1, Padding::valid), batch, 99);
  const double flops = 2.0 * double(batch) * big.g.k * big.g.pixels() * big.g.patch();
  std::printf("\nconv 32->64, 74x74, 3x3, batch %lld: %.2f GFLOP per call\n", (long long)batch, flops / 1e9);
  print_header("version");
  for (int v = 1; v <= kConvForwardVersions; ++v) {
    const float ms = median_ms([&] { conv_forward(v, big.g, big.n, big.x.get(), big.w.get(), big.b.get(), big.y.get()); },
                               v == 1 ? std::max(3, repeats / 5) : repeats);
    print_row(conv_forward_name(v), ms, 0, flops, peak);
  }
  return ok ? 0 : 1;
}

}  // namespace radius::playground
