// Convolution backward-filter playground: numbered versions of
//   dw [K, R] += sum over images i of dy_i [K, P] x col_i^T [P, R]
// (R = C*KH*KW, P = OH*OW), each checked against the CPU reference
// (layers/conv2d.h's conv2d_backward, in double) and timed by harness.cuh.
//
//   v1 direct              one thread per weight, summing over every image and pixel
//   v2 implicit GEMM       one GEMM with the depth n*P (images x pixels), 32x32 shared-memory
//                          tiles, the col^T tile gathered from x: one block per dw tile
//   v3 split over images   v2's tiles, the images cut into splits (grid z) so the GPU fills,
//                          partial dw per split summed in a fixed order: still deterministic
//   v4 backend             kernels/conv2d.h's conv2d_backward (dx, db off): im2col, one batched
//                          SGEMM per image (dy_i x col_i^T), the per-image parts summed in order
//
// FLOPs: 2 n K P R. Run: build/conv2d_backward_filter_playground [batch=32] [repeats=20]
// (the paper model's conv2: 32 -> 64 channels, 74x74, 3x3). Without a GPU: a message, exit 0.
#include <algorithm>
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

constexpr int kThreads = 256, kTile = 32;

unsigned blocks_for(int64_t total) { return unsigned(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535)); }

// ---- v1: direct --------------------------------------------------------------------
// Thread = one weight (k, c, ki, kj); it walks all n * OH * OW products serially.
// Only K*R threads (18 K for the paper's conv2: a fraction of one H100 wave at full
// occupancy) each doing n*P dependent FMAs (166 K): long serial chains, few warps
// to hide latency, and each FMA loads both operands from L1/L2.
__global__ void filter_v1(Conv2dGeom g, int64_t n, const float* __restrict__ x, const float* __restrict__ dy,
                          float* __restrict__ dw) {
  const int64_t R = g.c * g.kh * g.kw, P = g.oh * g.ow, total = g.k * R;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t r = idx % R, k = idx / R;
    float s = 0.f;
    for (int64_t img = 0; img < n; ++img)
      for (int64_t p = 0; p < P; ++p) s += dy[(img * g.k + k) * P + p] * col_element(g, x, img, r, p);
    dw[idx] += s;
  }
}

// ---- v2 / v3: an implicit GEMM over the depth (image, pixel) ----------------------------
// out [K, R] (+)= dy [K, D] x col^T [D, R], D = the images [img0, img1) x P pixels.
// A tile of dy and a tile of col^T (gathered from x) are staged in shared memory;
// each thread owns one dw element and does 32 FMAs per tile pair.
// ACCUMULATE: add into out (v2 writes dw itself); else overwrite (v3's partials).
template <bool ACCUMULATE>
__global__ void filter_gemm(Conv2dGeom g, int64_t n, int64_t images_per_split, const float* __restrict__ x,
                            const float* __restrict__ dy, float* __restrict__ out) {
  __shared__ float As[kTile][kTile], Bs[kTile][kTile + 1];  // +1: Bs is written transposed, no bank conflicts
  const int64_t R = g.c * g.kh * g.kw, P = g.oh * g.ow;
  const int ty = threadIdx.y, tx = threadIdx.x;
  const int64_t row = int64_t(blockIdx.y) * kTile + ty, col = int64_t(blockIdx.x) * kTile + tx;  // k, r
  const int64_t img0 = int64_t(blockIdx.z) * images_per_split;
  const int64_t img1 = img0 + images_per_split < n ? img0 + images_per_split : n;
  const int64_t depth = (img1 - img0) * P;
  float s = 0.f;
  for (int64_t d0 = 0; d0 < depth; d0 += kTile) {
    // dy tile: row = k (ty), depth d0 + tx; consecutive tx read consecutive pixels.
    const int64_t da = d0 + tx, ka = int64_t(blockIdx.y) * kTile + ty;
    As[ty][tx] = ka < g.k && da < depth ? dy[((img0 + da / P) * g.k + ka) * P + da % P] : 0.f;
    // col^T tile: depth d0 + tx (consecutive pixels: coalesced x reads), r = column ty of the tile.
    const int64_t rb = int64_t(blockIdx.x) * kTile + ty;
    Bs[tx][ty] = rb < R && da < depth ? col_element(g, x, img0 + da / P, rb, da % P) : 0.f;
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kTile; ++k) s += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < g.k && col < R) {
    float* o = out + int64_t(blockIdx.z) * g.k * R + row * R + col;
    *o = ACCUMULATE ? *o + s : s;
  }
}

// dw[j] += sum over splits s of part[s][j], s ascending: the fixed order that makes
// v3's result independent of timing.
__global__ void sum_splits_add(int64_t splits, int64_t len, const float* __restrict__ part, float* __restrict__ dw) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < len; j += step) {
    float s = 0.f;
    for (int64_t i = 0; i < splits; ++i) s += part[i * len + j];
    dw[j] += s;
  }
}

dim3 tile_grid(const Conv2dGeom& g, int64_t splits) {
  return dim3(unsigned((g.patch() + kTile - 1) / kTile), unsigned((g.k + kTile - 1) / kTile), unsigned(splits));
}

}  // namespace

const char* conv_filter_name(int v) {
  static const char* names[] = {"", "v1 direct", "v2 implicit GEMM, one pass", "v3 split over images",
                                "v4 backend (im2col+SGEMM)"};
  return v >= 1 && v <= kConvFilterVersions ? names[v] : "?";
}

void conv_filter(int v, const Conv2dGeom& g, int64_t n, const float* x, const float* dy, float* dw) {
  const int64_t R = g.patch();
  switch (v) {
    case 1:
      filter_v1<<<blocks_for(g.k * R), kThreads, 0, cuda::stream()>>>(g, n, x, dy, dw);
      PG_CHECK_LAUNCH();
      break;
    case 2:
      filter_gemm<true><<<tile_grid(g, 1), dim3(kTile, kTile), 0, cuda::stream()>>>(g, n, n, x, dy, dw);
      PG_CHECK_LAUNCH();
      break;
    case 3: {
      // v2's grid is (R/32) x (K/32) blocks: 18 for the paper's conv2, on 132 SMs.
      // Splitting the images gives about four blocks per SM, each summing fewer images.
      const int64_t tiles = int64_t(tile_grid(g, 1).x) * tile_grid(g, 1).y;
      const int64_t want = std::max<int64_t>(1, 4 * cuda::device_info().sm_count / tiles);
      const int64_t splits0 = std::min<int64_t>({n, want, 65535});
      const int64_t per = (n + splits0 - 1) / splits0, splits = (n + per - 1) / per;  // no empty split
      float* part = static_cast<float*>(device_alloc(size_t(splits * g.k * R) * sizeof(float)));
      filter_gemm<false><<<tile_grid(g, splits), dim3(kTile, kTile), 0, cuda::stream()>>>(g, n, per, x, dy, part);
      PG_CHECK_LAUNCH();
      sum_splits_add<<<blocks_for(g.k * R), kThreads, 0, cuda::stream()>>>(splits, g.k * R, part, dw);
      PG_CHECK_LAUNCH();
      device_free(part);  // stream-ordered: the sum above runs before any reuse
      break;
    }
    case 4: cuda::conv2d_backward(g, n, x, /*w, only for dx*/ nullptr, dy, nullptr, dw, nullptr); break;
    default: throw std::invalid_argument("conv_filter playground: no version " + std::to_string(v));
  }
}

// ---- the harness ---------------------------------------------------------------------

namespace {

struct Problem {
  Conv2dGeom g;
  int64_t n;
  std::vector<float> hx, hdy, hdw0;  // hdw0: dw's starting value (the pass accumulates)
  Buffer<float> x, dy, dw;
  Problem(const Conv2dGeom& geom, int64_t images, unsigned seed)
      : g(geom), n(images), hx(random_vector(size_t(n * g.c * g.h * g.w), seed)),
        hdy(random_vector(size_t(n * g.k * g.pixels()), seed + 1)), hdw0(random_vector(size_t(g.k * g.patch()), seed + 2)),
        x(hx), dy(hdy), dw(hdw0) {}
};

// layers/conv2d.h's conv2d_backward<double> with dx and db off: dw accumulated onto hdw0.
std::vector<double> reference(const Problem& p) {
  const std::vector<double> xd(p.hx.begin(), p.hx.end()), dyd(p.hdy.begin(), p.hdy.end());
  const std::vector<double> wd(size_t(p.g.k * p.g.patch()), 0.5);  // unused without dx
  std::vector<double> dw(p.hdw0.begin(), p.hdw0.end());
  radius::conv2d_backward<double>(p.g, p.n, xd.data(), wd.data(), dyd.data(), nullptr, dw.data(), nullptr);
  return dw;
}

}  // namespace

int conv2d_backward_filter_playground_main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 32;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  if (!have_gpu("conv2d_backward_filter_playground")) return 0;
  const Peak peak = device_peak();

  bool ok = true;
  const std::vector<Conv2dGeom> checks = conv_check_geometries();
  unsigned seed = 1;
  for (const Conv2dGeom& g : checks) {
    Problem p(g, 5, seed += 10);
    const std::vector<double> want = reference(p);
    for (int v = 1; v <= kConvFilterVersions; ++v) {
      p.dw.upload(p.hdw0);
      conv_filter(v, g, p.n, p.x.get(), p.dy.get(), p.dw.get());
      char name[96];
      std::snprintf(name, sizeof name, "%s C%lld K%lld %lldx%lld", conv_filter_name(v), (long long)g.c,
                    (long long)g.k, (long long)g.h, (long long)g.w);
      ok &= print_check(name, rel_error(want, p.dw.download()), 1e-5);
    }
  }

  Problem big(Conv2dGeom::make(32, 74, 74, 64, 3, 3, 1, Padding::valid), batch, 99);
  const double flops = 2.0 * double(batch) * big.g.k * big.g.pixels() * big.g.patch();
  std::printf("\nbackward-filter of conv 32->64, 74x74, 3x3, batch %lld: %.2f GFLOP per call\n", (long long)batch,
              flops / 1e9);
  print_header("version");
  for (int v = 1; v <= kConvFilterVersions; ++v) {
    const float ms = median_ms([&] { conv_filter(v, big.g, big.n, big.x.get(), big.dy.get(), big.dw.get()); },
                               v == 1 ? std::max(3, repeats / 5) : repeats);
    print_row(conv_filter_name(v), ms, 0, flops, peak);
  }
  return ok ? 0 : 1;
}

}  // namespace radius::playground
