#include <algorithm>
#include <stdexcept>
#include <vector>

#include "kernels/reduce.h"
#include "kernels/runtime.h"
#include "tensor/device_memory.h"

namespace radius::cuda {

namespace {

constexpr int kThreads = 256;  // a power of two: the tree below halves it

// Block b handles rows b, b + gridDim.x, ...; the loop bound is the same for all
// threads of a block, so the __syncthreads() inside are reached by all of them.
__global__ void row_moments_kernel(const float* x, const float* y, int64_t rows, int64_t length, Moments* out) {
  // Raw storage: a __shared__ array may not have a constructor (Moments has default values).
  __shared__ alignas(Moments) unsigned char storage[kThreads * sizeof(Moments)];
  Moments* partial = reinterpret_cast<Moments*>(storage);
  const int t = threadIdx.x;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* xr = x + row * length;
    const float* yr = y ? y + row * length : nullptr;
    Moments m;
    for (int64_t i = t; i < length; i += kThreads) push(m, yr ? double(xr[i]) - double(yr[i]) : double(xr[i]));
    partial[t] = m;
    __syncthreads();
    // Fixed tree: partial[t] := partial[t] followed by partial[t + s], s = 128, 64, ..., 1.
    for (int s = kThreads / 2; s > 0; s /= 2) {
      if (t < s) merge(partial[t], partial[t + s]);
      __syncthreads();
    }
    if (t == 0) out[row] = partial[0];
    __syncthreads();  // partial[0] is read before the next row overwrites it
  }
}

__global__ void scale_kernel(int64_t n, float k, float* x) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) x[i] *= k;
}

__global__ void add_kernel(int64_t n, const float* __restrict__ x, float* __restrict__ y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) y[i] += x[i];
}

// One block per output k: the block's threads stride over the n * p values of
// that channel; warp shuffles then shared memory finish the sum.
__global__ void bias_grad_kernel(int64_t n, int64_t k_count, int64_t p, const float* __restrict__ dy,
                                 float* __restrict__ db) {
  const int64_t k = blockIdx.x;
  const int64_t count = n * p;
  float s = 0.f;
  for (int64_t t = threadIdx.x; t < count; t += blockDim.x) {
    const int64_t i = t / p, j = t % p;
    s += dy[(i * k_count + k) * p + j];
  }
  for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
  __shared__ float warp_sums[32];
  if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = s;
  __syncthreads();
  if (threadIdx.x < 32) {
    s = threadIdx.x < (blockDim.x >> 5) ? warp_sums[threadIdx.x] : 0.f;
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (threadIdx.x == 0) db[k] += s;
  }
}

}  // namespace

void row_moments(const float* x, const float* y, int64_t rows, int64_t length, Moments* out) {
  if (rows <= 0) return;
  if (length <= 0) throw std::invalid_argument("cuda::row_moments: rows must not be empty");
  Moments* dev = static_cast<Moments*>(device_alloc(size_t(rows) * sizeof(Moments)));
  const unsigned blocks = unsigned(std::min<int64_t>(rows, int64_t(device_info().sm_count) * 8));
  // Poison: a row the kernel failed to write reads back with count -1 (all bits set).
  RADIUS_CUDA_CHECK(cudaMemsetAsync(dev, 0xFF, size_t(rows) * sizeof(Moments), stream()));
  row_moments_kernel<<<blocks, kThreads, 0, stream()>>>(x, y, rows, length, dev);
  RADIUS_CUDA_CHECK_LAUNCH("row_moments_kernel");
  // The one download: rows x 72 bytes (pageable host memory: a synchronous copy after the kernel).
  RADIUS_CUDA_CHECK(cudaMemcpyAsync(out, dev, size_t(rows) * sizeof(Moments), cudaMemcpyDeviceToHost, stream()));
  synchronize();
  device_free(dev);
}

void scale(int64_t n, float k, float* x) {
  if (n <= 0) return;
  scale_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(n, k, x);
  RADIUS_CUDA_CHECK_LAUNCH("scale_kernel");
}

void add(int64_t n, const float* x, float* y) {
  if (n <= 0) return;
  add_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(n, x, y);
  RADIUS_CUDA_CHECK_LAUNCH("add_kernel");
}

void bias_grad(int64_t n, int64_t k_count, int64_t p, const float* dy, float* db) {
  if (k_count <= 0 || n * p <= 0) return;
  bias_grad_kernel<<<unsigned(k_count), kThreads, 0, stream()>>>(n, k_count, p, dy, db);
  RADIUS_CUDA_CHECK_LAUNCH("bias_grad_kernel");
}

}  // namespace radius::cuda
