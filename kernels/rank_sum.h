// The rank-order sum (net/comm.h): element i of R contributions laid out [R][stride],
// added from zero in rank order. One definition for the CPU (every communicator's
// reduction) and the CUDA kernel (kernels/rank_sum.cu, the NCCL communicator's), so
// both compute the same bits: additions only, in one order (nothing to contract).
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define RADIUS_RANK_SUM_FN __host__ __device__ __forceinline__
#else
#define RADIUS_RANK_SUM_FN inline
#endif

namespace radius {

template <class T>
RADIUS_RANK_SUM_FN T rank_order_sum(const T* contributions, int ranks, int64_t stride, int64_t i) {
  T sum = T(0);  // from +0: a sum that starts here is never -0
  for (int r = 0; r < ranks; ++r) sum += contributions[int64_t(r) * stride + i];
  return sum;
}

namespace cuda {
// out[i] = rank_order_sum(contributions, ranks, stride, i) for i < n, on device pointers.
void sum_in_rank_order(const float* contributions, int ranks, int64_t stride, int64_t n, float* out);
}  // namespace cuda

}  // namespace radius
