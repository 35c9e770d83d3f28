// Max-pooling playground, forward and backward (NCHW, Keras "valid" windows),
// each version checked against the CPU (layers/pool2d.h: y and argmax bit for bit,
// dx to rounding) and timed by harness.cuh. Both passes are bandwidth-bound: the
// rate is GB/s of the bytes a perfect kernel must move, and % of the peak estimate.
//
// Forward (y and argmax, the first maximum in row-major order wins ties):
//   v1 row-major threads   one thread per output, but consecutive threads take
//                          consecutive output ROWS: uncoalesced
//   v2 coalesced           consecutive threads take consecutive output columns
//   v3 2x2 vectorised      the common 2x2 stride-2 window (every pool of the paper
//                          model) unrolled, two 8-byte loads per window, 32-bit index math
//   v4 backend             kernels/pool2d.h's maxpool2d_forward
// Backward (dx overwritten; the gradient goes to the argmax alone):
//   v1 scatter, atomics    zero dx, then one thread per output atomically adds dy at its argmax
//   v2 gather              one thread per input visits the windows covering it (no atomics,
//                          no zeroing pass: every dx written once)
//   v3 gather, no overlap  when stride >= window, an input lies in at most one window:
//                          found by one division, no loops; 32-bit index math
//   v4 backend             kernels/pool2d.h's maxpool2d_backward
//
// Run: build/maxpool_playground [batch=32] [repeats=20]   (the paper model's first pool:
// 32 channels, 148x148 -> 74x74). Without a GPU: a message, exit 0.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/formulas.h"
#include "kernels/playground/harness.cuh"
#include "kernels/playground/playground.h"
#include "kernels/pool2d.h"
#include "layers/pool2d.h"

namespace radius::playground {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t total) { return unsigned(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535)); }

// ---- forward v1: the wrong thread order ----------------------------------------------
// Output o is numbered (plane, oj, oi) with oi fastest: a warp's 32 threads read 32
// different input rows and write 32 outputs OW floats apart, so each load and each
// store is split into up to 32 memory transactions instead of one or two.
__global__ void fwd_v1(Pool2dGeom g, int64_t total, const float* __restrict__ x, float* __restrict__ y,
                       int32_t* __restrict__ argmax) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += step) {
    const int64_t oi = o % g.oh, oj = (o / g.oh) % g.ow, plane = o / (g.oh * g.ow);
    const float* in = x + plane * g.h * g.w;
    const int64_t best = formula::maxpool_argmax(g, in, oi, oj);
    const int64_t out = (plane * g.oh + oi) * g.ow + oj;
    y[out] = in[best];
    argmax[out] = int32_t(best);
  }
}

// ---- forward v2: coalesced -------------------------------------------------------------
// The same work with oj fastest: neighbouring threads write neighbouring outputs
// (one transaction per warp) and read neighbouring windows of the same input rows.
__global__ void fwd_v2(Pool2dGeom g, int64_t total, const float* __restrict__ x, float* __restrict__ y,
                       int32_t* __restrict__ argmax) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += step) {
    const int64_t oj = o % g.ow, oi = (o / g.ow) % g.oh, plane = o / (g.ow * g.oh);
    const float* in = x + plane * g.h * g.w;
    const int64_t best = formula::maxpool_argmax(g, in, oi, oj);
    y[o] = in[best];
    argmax[o] = int32_t(best);
  }
}

// ---- forward v3: the 2x2 stride-2 window, vectorised ---------------------------------------
// With W even, a window's two rows are each one aligned float2: two 8-byte loads
// instead of four 4-byte ones, no window loops, and 32-bit division (64-bit integer
// division is a long software sequence on a GPU). The comparisons keep the
// row-major order and strict >, so ties and NaNs go as in formula::maxpool_argmax.
__global__ void fwd_v3(Pool2dGeom g, int total, const float* __restrict__ x, float* __restrict__ y,
                       int32_t* __restrict__ argmax) {
  const int ow = int(g.ow), oh = int(g.oh), w = int(g.w), plane_size = int(g.h * g.w);
  for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < total; o += gridDim.x * blockDim.x) {
    const int oj = o % ow, t = o / ow, oi = t % oh, plane = t / oh;
    const int at = 2 * oi * w + 2 * oj;
    const float* in = x + int64_t(plane) * plane_size;
    const float2 top = *reinterpret_cast<const float2*>(in + at), bottom = *reinterpret_cast<const float2*>(in + at + w);
    float best = top.x;
    int best_at = at;
    if (top.y > best) best = top.y, best_at = at + 1;
    if (bottom.x > best) best = bottom.x, best_at = at + w;
    if (bottom.y > best) best = bottom.y, best_at = at + w + 1;
    y[o] = best;
    argmax[o] = best_at;
  }
}

// ---- backward v1: scatter with atomics ---------------------------------------------------
// The obvious inverse of forward: each output sends dy to its argmax. Two outputs
// may share an argmax when windows overlap, hence atomicAdd, and the inputs no
// window picked must be zeroed first: a whole extra pass over dx. With overlapping
// windows the order of the additions, and so the rounding, changes run to run.
__global__ void bwd_v1_scatter(Pool2dGeom g, int64_t total, const float* __restrict__ dy,
                               const int32_t* __restrict__ argmax, float* __restrict__ dx) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += step) {
    const int64_t plane = o / (g.oh * g.ow);
    atomicAdd(dx + plane * g.h * g.w + argmax[o], dy[o]);
  }
}

// ---- backward v2: gather ---------------------------------------------------------------------
// One thread per input element: it visits the windows that cover it
// (formula::pool_windows_covering) and sums dy over those whose argmax is it, in
// the CPU's order. Every dx is written exactly once (zeros included): no zeroing
// pass, no atomics, the same bits on every run. The backend's algorithm.
__global__ void bwd_v2_gather(Pool2dGeom g, int64_t total, const float* __restrict__ dy,
                              const int32_t* __restrict__ argmax, float* __restrict__ dx) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t jj = idx % g.w, ii = (idx / g.w) % g.h, plane = idx / (g.w * g.h);
    const formula::WindowRange rows = formula::pool_windows_covering(ii, g.ph, g.stride, g.oh);
    const formula::WindowRange cols = formula::pool_windows_covering(jj, g.pw, g.stride, g.ow);
    float sum = 0.f;
    for (int64_t oi = rows.lo; oi <= rows.hi; ++oi)
      for (int64_t oj = cols.lo; oj <= cols.hi; ++oj) {
        const int64_t o = (plane * g.oh + oi) * g.ow + oj;
        if (argmax[o] == ii * g.w + jj) sum += dy[o];
      }
    dx[idx] = sum;
  }
}

// ---- backward v3: gather without overlap -------------------------------------------------------
// stride >= window (the paper's 2x2 stride 2): input (ii, jj) lies in window
// (ii / s, jj / s) if its offset in that window is inside it, and in no other.
// One division per axis, one argmax load, in 32-bit arithmetic.
__global__ void bwd_v3_disjoint(Pool2dGeom g, int total, const float* __restrict__ dy,
                                const int32_t* __restrict__ argmax, float* __restrict__ dx) {
  const int w = int(g.w), h = int(g.h), s = int(g.stride), oh = int(g.oh), ow = int(g.ow);
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
    const int jj = idx % w, t = idx / w, ii = t % h, plane = t / h;
    const int oi = ii / s, oj = jj / s;
    float v = 0.f;
    if (oi < oh && oj < ow && ii - oi * s < g.ph && jj - oj * s < g.pw) {
      const int o = (plane * oh + oi) * ow + oj;
      if (argmax[o] == ii * w + jj) v = dy[o];
    }
    dx[idx] = v;
  }
}

bool fits_int(int64_t v) { return v < (int64_t(1) << 31); }

}  // namespace

const char* pool_forward_name(int v) {
  static const char* names[] = {"", "fwd v1 row-major threads", "fwd v2 coalesced", "fwd v3 2x2 vectorised",
                                "fwd v4 backend"};
  return v >= 1 && v <= kPoolForwardVersions ? names[v] : "?";
}
const char* pool_backward_name(int v) {
  static const char* names[] = {"", "bwd v1 scatter, atomics", "bwd v2 gather", "bwd v3 gather, no overlap",
                                "bwd v4 backend"};
  return v >= 1 && v <= kPoolBackwardVersions ? names[v] : "?";
}

// v3 of either pass falls back to v2 where its special case does not hold (the
// harness says so): a playground version must still be right on every geometry.
void pool_forward(int v, const Pool2dGeom& g, int64_t n, const float* x, float* y, int32_t* argmax) {
  const int64_t total = n * g.c * g.oh * g.ow;
  if (total <= 0) return;
  const bool v3_applies = g.ph == 2 && g.pw == 2 && g.stride == 2 && g.w % 2 == 0 &&
                          reinterpret_cast<uintptr_t>(x) % 8 == 0 && fits_int(n * g.c * g.h * g.w);
  if (v == 3 && !v3_applies) v = 2;
  switch (v) {
    case 1: fwd_v1<<<blocks_for(total), kThreads, 0, cuda::stream()>>>(g, total, x, y, argmax); break;
    case 2: fwd_v2<<<blocks_for(total), kThreads, 0, cuda::stream()>>>(g, total, x, y, argmax); break;
    case 3: fwd_v3<<<blocks_for(total), kThreads, 0, cuda::stream()>>>(g, int(total), x, y, argmax); break;
    case 4: cuda::maxpool2d_forward(g, n, x, y, argmax); return;
    default: throw std::invalid_argument("pool_forward playground: no version " + std::to_string(v));
  }
  PG_CHECK_LAUNCH();
}

void pool_backward(int v, const Pool2dGeom& g, int64_t n, const float* dy, const int32_t* argmax, float* dx) {
  const int64_t outputs = n * g.c * g.oh * g.ow, inputs = n * g.c * g.h * g.w;
  if (inputs <= 0) return;
  const bool v3_applies = g.stride >= g.ph && g.stride >= g.pw && fits_int(inputs);
  if (v == 3 && !v3_applies) v = 2;
  switch (v) {
    case 1:
      PG_CHECK(cudaMemsetAsync(dx, 0, size_t(inputs) * sizeof(float), cuda::stream()));
      bwd_v1_scatter<<<blocks_for(outputs), kThreads, 0, cuda::stream()>>>(g, outputs, dy, argmax, dx);
      break;
    case 2: bwd_v2_gather<<<blocks_for(inputs), kThreads, 0, cuda::stream()>>>(g, inputs, dy, argmax, dx); break;
    case 3: bwd_v3_disjoint<<<blocks_for(inputs), kThreads, 0, cuda::stream()>>>(g, int(inputs), dy, argmax, dx); break;
    case 4: cuda::maxpool2d_backward(g, n, dy, argmax, dx); return;
    default: throw std::invalid_argument("pool_backward playground: no version " + std::to_string(v));
  }
  PG_CHECK_LAUNCH();
}

// ---- the harness ----------------------------------------------------------------------------

namespace {

struct Problem {
  Pool2dGeom g;
  int64_t n, in_size, out_size;
  std::vector<float> hx, hdy;
  Buffer<float> x, y, dy, dx;
  Buffer<int32_t> argmax;
  // quantised: values on a 1/4 grid, so windows hold equal values and the tie rule is exercised
  Problem(const Pool2dGeom& geom, int64_t images, unsigned seed, bool quantised)
      : g(geom), n(images), in_size(n * g.c * g.h * g.w), out_size(n * g.c * g.oh * g.ow),
        hx(random_vector(size_t(in_size), seed)), hdy(random_vector(size_t(out_size), seed + 1)), x(hx),
        y(size_t(out_size)), dy(hdy), dx(size_t(in_size)), argmax(size_t(out_size)) {
    if (quantised) {
      for (float& v : hx) v = std::round(v * 4.f) / 4.f;
      x.upload(hx);
    }
  }
};

}  // namespace

int maxpool_playground_main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 32;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  if (!have_gpu("maxpool_playground")) return 0;
  const Peak peak = device_peak();

  // 1. Correctness: 2x2/2 even and odd sizes, overlapping 3x3/2, a stride larger than the window.
  bool ok = true;
  const Pool2dGeom checks[] = {Pool2dGeom::make(3, 12, 10, 2, 2, 2), Pool2dGeom::make(2, 15, 15, 2, 2, 2),
                               Pool2dGeom::make(3, 13, 11, 3, 3, 2), Pool2dGeom::make(2, 14, 17, 2, 3, 4)};
  unsigned seed = 1;
  for (const Pool2dGeom& g : checks)
    for (bool quantised : {false, true}) {
      Problem p(g, 3, seed += 10, quantised);
      // The CPU: y and argmax from maxpool2d_forward, then dx from maxpool2d_backward in double.
      std::vector<float> want_y(size_t(p.out_size));
      std::vector<int32_t> want_arg(size_t(p.out_size));
      radius::maxpool2d_forward<float>(g, p.n, p.hx.data(), want_y.data(), want_arg.data());
      const std::vector<double> dyd(p.hdy.begin(), p.hdy.end());
      std::vector<double> want_dx(size_t(p.in_size));
      radius::maxpool2d_backward<double>(g, p.n, dyd.data(), want_arg.data(), want_dx.data());
      Buffer<int32_t> cpu_arg(want_arg);
      char name[96];
      for (int v = 1; v <= kPoolForwardVersions; ++v) {
        p.y.poison();
        p.argmax.poison();
        pool_forward(v, g, p.n, p.x.get(), p.y.get(), p.argmax.get());
        const bool same = p.y.download() == want_y && p.argmax.download() == want_arg;
        std::snprintf(name, sizeof name, "%s %lldx%lld/%lldx%lld s%lld%s", pool_forward_name(v), (long long)g.h,
                      (long long)g.w, (long long)g.ph, (long long)g.pw, (long long)g.stride, quantised ? " ties" : "");
        ok &= print_check(name, same ? 0.0 : INFINITY, 0.0);  // bit for bit
      }
      for (int v = 1; v <= kPoolBackwardVersions; ++v) {
        p.dx.poison();
        pool_backward(v, g, p.n, p.dy.get(), cpu_arg.get(), p.dx.get());
        std::snprintf(name, sizeof name, "%s %lldx%lld/%lldx%lld s%lld%s", pool_backward_name(v), (long long)g.h,
                      (long long)g.w, (long long)g.ph, (long long)g.pw, (long long)g.stride, quantised ? " ties" : "");
        ok &= print_check(name, rel_error(want_dx, p.dx.download()), 1e-6);
      }
    }

  // 2. Timing on the paper model's first pool.
  Problem big(Pool2dGeom::make(32, 148, 148, 2, 2, 2), batch, 99, false);
  const double fwd_bytes = 4.0 * (big.in_size + 2.0 * big.out_size);  // x read; y and argmax written
  const double bwd_bytes = 4.0 * (2.0 * big.out_size + big.in_size);  // dy and argmax read; dx written
  std::printf("\nmax-pool 2x2/2 of [%lld, 32, 148, 148]: %.0f MB forward, %.0f MB backward\n", (long long)batch,
              fwd_bytes / 1e6, bwd_bytes / 1e6);
  print_header("version");
  for (int v = 1; v <= kPoolForwardVersions; ++v) {
    const float ms = median_ms([&] { pool_forward(v, big.g, big.n, big.x.get(), big.y.get(), big.argmax.get()); }, repeats);
    print_row(pool_forward_name(v), ms, fwd_bytes, 0, peak);
  }
  for (int v = 1; v <= kPoolBackwardVersions; ++v) {
    const float ms = median_ms([&] { pool_backward(v, big.g, big.n, big.dy.get(), big.argmax.get(), big.dx.get()); },
                               repeats);
    print_row(pool_backward_name(v), ms, bwd_bytes, 0, peak);
  }
  return ok ? 0 : 1;
}

}  // namespace radius::playground
