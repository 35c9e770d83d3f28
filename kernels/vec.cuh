// Device helpers for elementwise kernels (included by .cu files only).
//
// map_kernel runs op.apply<W>(i) over [0, n) in a grid-stride loop: W = 4 with
// 16-byte loads/stores for the bulk when every pointer the op touches is 16-byte
// aligned (op.vec is true), then W = 1 for the tail. Bandwidth-bound kernels
// want 16-byte accesses and several independent loads in flight per thread.
#pragma once
#include <cstdint>

#include "kernels/runtime.h"

namespace radius::cuda {

template <int W>
struct Vec {
  float v[W];
  __device__ float& operator[](int i) { return v[i]; }
  __device__ float operator[](int i) const { return v[i]; }
};

template <int W>
__device__ __forceinline__ Vec<W> load(const float* p) {
  Vec<W> r;
  if constexpr (W == 4) {
    const float4 f = *reinterpret_cast<const float4*>(p);
    r[0] = f.x; r[1] = f.y; r[2] = f.z; r[3] = f.w;
  } else {
#pragma unroll
    for (int q = 0; q < W; ++q) r[q] = p[q];
  }
  return r;
}

template <int W>
__device__ __forceinline__ void store(float* p, const Vec<W>& r) {
  if constexpr (W == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(r[0], r[1], r[2], r[3]);
  } else {
#pragma unroll
    for (int q = 0; q < W; ++q) p[q] = r[q];
  }
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

template <class Op>
__global__ void map_kernel(int64_t n, Op op) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t n4 = op.vec ? n / 4 : 0;
  for (int64_t i = first; i < n4; i += stride) op.template apply<4>(i * 4);
  for (int64_t i = n4 * 4 + first; i < n; i += stride) op.template apply<1>(i);
}

template <class Op>
void launch_map(int64_t n, const Op& op, const char* name) {
  if (n <= 0) return;
  constexpr int threads = 256;
  map_kernel<<<grid_for(op.vec ? (n + 3) / 4 : n, threads), threads, 0, stream()>>>(n, op);
  check_launch(name, __FILE__, __LINE__);
}

}  // namespace radius::cuda
