// cuda::sum_in_rank_order: kernels/rank_sum.h's formula, one thread per element.
#include "kernels/rank_sum.h"
#include "kernels/runtime.h"

namespace radius::cuda {

namespace {
__global__ void rank_sum_kernel(const float* contributions, int ranks, int64_t stride, int64_t n, float* out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = rank_order_sum(contributions, ranks, stride, i);
}
}  // namespace

void sum_in_rank_order(const float* contributions, int ranks, int64_t stride, int64_t n, float* out) {
  if (n <= 0) return;
  const int threads = 256;
  rank_sum_kernel<<<unsigned((n + threads - 1) / threads), threads, 0, stream()>>>(contributions, ranks, stride, n, out);
  RADIUS_CUDA_CHECK_LAUNCH("rank_sum_kernel");
}

}  // namespace radius::cuda
