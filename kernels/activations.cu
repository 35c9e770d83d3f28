// Elementwise activations and dropout: bandwidth-bound, one pass each, 16-byte
// accesses (kernels/vec.cuh). The per-element formulas are kernels/formulas.h's,
// the very functions layers/activations.cpp and layers/dropout.cpp call. ReLU and
// the dropout mask give the CPU's bits; sigmoid agrees to rounding only (the
// device's expf is not the host's std::exp, and nvcc may fuse a*b+c).
#include "kernels/activations.h"
#include "kernels/formulas.h"
#include "kernels/vec.cuh"

namespace radius::cuda {
namespace {

struct ReluForward {
  const float* x;
  float* y;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> v = load<W>(x + i);
#pragma unroll
    for (int q = 0; q < W; ++q) v[q] = formula::relu(v[q]);
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
    for (int q = 0; q < W; ++q) d[q] = formula::relu_grad(a[q], d[q]);
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
    for (int q = 0; q < W; ++q) v[q] = formula::stable_sigmoid(v[q]);
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
    for (int q = 0; q < W; ++q) d[q] = formula::sigmoid_grad(s[q], d[q]);
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
  for (int64_t blk = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; blk < blocks; blk += stride)
    formula::dropout_mask_block(seed, stream_id, call, blk, n, rate, keep_scale, mask);
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
  const float keep_scale = formula::dropout_keep_scale<float>(rate);  // as the CPU computes it
  constexpr int threads = 256;
  dropout_mask_kernel<<<grid_for((n + 3) / 4, threads), threads, 0, stream()>>>(n, rate, keep_scale, seed, stream_id,
                                                                                  call, mask);
  RADIUS_CUDA_CHECK_LAUNCH("dropout_mask_kernel");
}

void dropout_apply(int64_t n, const float* x, const float* mask, float* y) {
  launch_map(n, Multiply{x, mask, y, aligned16(x) && aligned16(mask) && aligned16(y)}, "dropout_apply");
}

}  // namespace radius::cuda
