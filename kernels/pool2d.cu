// Max and average pooling, NCHW, Keras "valid" windows (layers/pool2d.cpp).
// Forward: one thread per output element. Backward: one thread per INPUT
// element that gathers from the windows covering it (no atomics, deterministic,
// and every dx element is written, zeros included); it visits windows in the
// CPU's order, so overlapping windows sum in the same order as on the CPU.
// The window and index math is kernels/formulas.h's, shared with layers/pool2d.cpp.
#include "kernels/formulas.h"
#include "kernels/pool2d.h"
#include "kernels/runtime.h"

namespace radius::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void maxpool_forward_kernel(Pool2dGeom g, int64_t total, const float* __restrict__ x, float* __restrict__ y,
                                       int32_t* __restrict__ argmax) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += stride) {
    const int64_t oj = o % g.ow, oi = (o / g.ow) % g.oh, plane = o / (g.ow * g.oh);
    const float* in = x + plane * g.h * g.w;
    const int64_t best = formula::maxpool_argmax(g, in, oi, oj);  // the first maximum wins ties, as on the CPU
    y[o] = in[best];
    argmax[o] = int32_t(best);
  }
}

__global__ void avgpool_forward_kernel(Pool2dGeom g, int64_t total, float scale, const float* __restrict__ x,
                                       float* __restrict__ y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += stride) {
    const int64_t oj = o % g.ow, oi = (o / g.ow) % g.oh, plane = o / (g.ow * g.oh);
    y[o] = formula::avgpool_window_sum(g, x + plane * g.h * g.w, oi, oj) * scale;
  }
}

// relu_out (max pooling only, may be null): the pool's input when it is a
// ReLU's output; that ReLU's backward is then applied to the gathered sum.
template <bool MAX>
__global__ void pool_backward_kernel(Pool2dGeom g, int64_t total, float scale, const float* __restrict__ dy,
                                     const int32_t* __restrict__ argmax, const float* __restrict__ relu_out,
                                     float* __restrict__ dx) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t jj = idx % g.w, ii = (idx / g.w) % g.h, plane = idx / (g.w * g.h);
    const int64_t at = ii * g.w + jj;
    // The windows covering (ii, jj): oi*S <= ii < oi*S + PH, likewise for columns.
    const formula::WindowRange rows = formula::pool_windows_covering(ii, g.ph, g.stride, g.oh);
    const formula::WindowRange cols = formula::pool_windows_covering(jj, g.pw, g.stride, g.ow);
    const int64_t base = plane * g.oh * g.ow;
    float sum = 0.f;
    for (int64_t oi = rows.lo; oi <= rows.hi; ++oi)
      for (int64_t oj = cols.lo; oj <= cols.hi; ++oj) {
        const int64_t o = base + oi * g.ow + oj;
        if (MAX) {
          if (argmax[o] == at) sum += dy[o];
        } else {
          sum += dy[o] * scale;
        }
      }
    dx[idx] = relu_out ? formula::relu_grad(relu_out[idx], sum) : sum;
  }
}

}  // namespace

void maxpool2d_forward(const Pool2dGeom& g, int64_t n, const float* x, float* y, int32_t* argmax) {
  const int64_t total = n * g.c * g.oh * g.ow;
  if (total <= 0) return;
  maxpool_forward_kernel<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(g, total, x, y, argmax);
  RADIUS_CUDA_CHECK_LAUNCH("maxpool_forward_kernel");
}

void maxpool2d_backward(const Pool2dGeom& g, int64_t n, const float* dy, const int32_t* argmax, float* dx,
                        const float* relu_out) {
  const int64_t total = n * g.c * g.h * g.w;
  if (total <= 0) return;
  pool_backward_kernel<true>
      <<<grid_for(total, kThreads), kThreads, 0, stream()>>>(g, total, 0.f, dy, argmax, relu_out, dx);
  RADIUS_CUDA_CHECK_LAUNCH("maxpool_backward_kernel");
}

void avgpool2d_forward(const Pool2dGeom& g, int64_t n, const float* x, float* y) {
  const int64_t total = n * g.c * g.oh * g.ow;
  if (total <= 0) return;
  const float scale = 1.0f / float(g.ph * g.pw);
  avgpool_forward_kernel<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(g, total, scale, x, y);
  RADIUS_CUDA_CHECK_LAUNCH("avgpool_forward_kernel");
}

void avgpool2d_backward(const Pool2dGeom& g, int64_t n, const float* dy, float* dx) {
  const int64_t total = n * g.c * g.h * g.w;
  if (total <= 0) return;
  const float scale = 1.0f / float(g.ph * g.pw);
  pool_backward_kernel<false>
      <<<grid_for(total, kThreads), kThreads, 0, stream()>>>(g, total, scale, dy, nullptr, nullptr, dx);
  RADIUS_CUDA_CHECK_LAUNCH("avgpool_backward_kernel");
}

}  // namespace radius::cuda
