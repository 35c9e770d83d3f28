// Elementwise activations and dropout: bandwidth-bound, one pass each, 16-byte
// accesses (kernels/vec.cuh). Same formulas and branches as layers/activations.cpp;
// ReLU and the dropout mask give the CPU's bits, sigmoid agrees to rounding only
// (the device's expf is not the host's std::exp, and nvcc may fuse a*b+c).
#include "kernels/activations.h"
#include "kernels/vec.cuh"
#include "tensor/rng.h"

namespace radius::cuda {
namespace {

// Same branches as stable_sigmoid in layers/activations.h: never exp of a large positive.
__device__ __forceinline__ float stable_sigmoid(float x) {
  if (x >= 0.f) return 1.f / (1.f + expf(-x));
  const float e = expf(x);
  return e / (1.f + e);
}

struct ReluForward {
  const float* x;
  float* y;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> v = load<W>(x + i);
#pragma unroll
    for (int q = 0; q < W; ++q) v[q] = v[q] > 0.f ? v[q] : 0.f;
    store<W>(y + i, v);
  }
};

struct ReluBackward {
  const float *x, *dy;
  float* dx;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    const Vec<W> a = load<W>(x + i);
    Vec<W> d = load<W>(dy + i);
#pragma unroll
    for (int q = 0; q < W; ++q) d[q] = a[q] > 0.f ? d[q] : 0.f;
    store<W>(dx + i, d);
  }
};

struct SigmoidForward {
  const float* x;
  float* y;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> v = load<W>(x + i);
#pragma unroll
    for (int q = 0; q < W; ++q) v[q] = stable_sigmoid(v[q]);
    store<W>(y + i, v);
  }
};

struct SigmoidBackward {
  const float *y, *dy;
  float* dx;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    const Vec<W> s = load<W>(y + i);
    Vec<W> d = load<W>(dy + i);
#pragma unroll
    for (int q = 0; q < W; ++q) d[q] = d[q] * s[q] * (1.f - s[q]);
    store<W>(dx + i, d);
  }
};

struct Multiply {
  const float *x, *mask;
  float* y;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> v = load<W>(x + i);
    const Vec<W> m = load<W>(mask + i);
#pragma unroll
    for (int q = 0; q < W; ++q) v[q] *= m[q];
    store<W>(y + i, v);
  }
};

// One thread per Philox block: 4 mask elements from one 4-word draw.
__global__ void dropout_mask_kernel(int64_t n, float rate, float keep_scale, uint64_t seed, uint64_t stream_id,
                                    uint64_t call, float* __restrict__ mask) {
  const int64_t blocks = (n + 3) / 4;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t blk = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; blk < blocks; blk += stride) {
    const Philox4x32 r = philox_at(seed, stream_id, (call << 32) | uint64_t(blk));
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (blk * 4 + j < n) mask[blk * 4 + j] = uniform01(r.v[j]) >= rate ? keep_scale : 0.f;
  }
}

}  // namespace

void relu_forward(int64_t n, const float* x, float* y) {
  launch_map(n, ReluForward{x, y, aligned16(x) && aligned16(y)}, "relu_forward");
}
void relu_backward(int64_t n, const float* x, const float* dy, float* dx) {
  launch_map(n, ReluBackward{x, dy, dx, aligned16(x) && aligned16(dy) && aligned16(dx)}, "relu_backward");
}
void sigmoid_forward(int64_t n, const float* x, float* y) {
  launch_map(n, SigmoidForward{x, y, aligned16(x) && aligned16(y)}, "sigmoid_forward");
}
void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx) {
  launch_map(n, SigmoidBackward{y, dy, dx, aligned16(y) && aligned16(dy) && aligned16(dx)}, "sigmoid_backward");
}

void dropout_mask(int64_t n, float rate, uint64_t seed, uint64_t stream_id, uint64_t call, float* mask) {
  if (n <= 0) return;
  const float keep_scale = 1.0f / (1.0f - rate);  // computed as the CPU computes it (float)
  constexpr int threads = 256;
  dropout_mask_kernel<<<grid_for((n + 3) / 4, threads), threads, 0, stream()>>>(n, rate, keep_scale, seed, stream_id,
                                                                                  call, mask);
  RADIUS_CUDA_CHECK_LAUNCH("dropout_mask_kernel");
}

void dropout_apply(int64_t n, const float* x, const float* mask, float* y) {
  launch_map(n, Multiply{x, mask, y, aligned16(x) && aligned16(mask) && aligned16(y)}, "dropout_apply");
}

}  // namespace radius::cuda
