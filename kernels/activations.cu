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

// y = F::at(x), elementwise.
template <class F> struct Map1 {
  const float* x;
  float* y;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> v = load<W>(x + i);
#pragma unroll
    for (int q = 0; q < W; ++q) v[q] = F::at(v[q]);
    store<W>(y + i, v);
  }
};

// out = F::at(a, b), elementwise.
template <class F> struct Map2 {
  const float *a, *b;
  float* out;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    const Vec<W> u = load<W>(a + i);
    Vec<W> v = load<W>(b + i);
#pragma unroll
    for (int q = 0; q < W; ++q) v[q] = F::at(u[q], v[q]);
    store<W>(out + i, v);
  }
};

struct Relu {
  __device__ static float at(float x) { return formula::relu(x); }
};
struct ReluGrad {  // (x, dy) -> dx
  __device__ static float at(float x, float dy) { return formula::relu_grad(x, dy); }
};
struct Sigmoid {
  __device__ static float at(float x) { return formula::stable_sigmoid(x); }
};
struct SigmoidGrad {  // (y, dy) -> dx
  __device__ static float at(float y, float dy) { return formula::sigmoid_grad(y, dy); }
};
struct Product {  // (x, mask) -> y
  __device__ static float at(float x, float m) { return x * m; }
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
  launch_map(n, Map1<Relu>{x, y, aligned16(x) && aligned16(y)}, "relu_forward");
}
void relu_backward(int64_t n, const float* x, const float* dy, float* dx) {
  launch_map(n, Map2<ReluGrad>{x, dy, dx, aligned16(x) && aligned16(dy) && aligned16(dx)}, "relu_backward");
}
void sigmoid_forward(int64_t n, const float* x, float* y) {
  launch_map(n, Map1<Sigmoid>{x, y, aligned16(x) && aligned16(y)}, "sigmoid_forward");
}
void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx) {
  launch_map(n, Map2<SigmoidGrad>{y, dy, dx, aligned16(y) && aligned16(dy) && aligned16(dx)}, "sigmoid_backward");
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
  launch_map(n, Map2<Product>{x, mask, y, aligned16(x) && aligned16(mask) && aligned16(y)}, "dropout_apply");
}

}  // namespace radius::cuda
