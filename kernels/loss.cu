// BCE from logits (layers/bce.h): the per-logit loss max(z, 0) - z y + log(1 + e^-|z|)
// and its gradient are kernels/formulas.h's, the functions layers/bce.cpp calls.
#include <stdexcept>

#include "kernels/formulas.h"
#include "kernels/loss.h"
#include "kernels/runtime.h"
#include "tensor/device_memory.h"

namespace radius::cuda {
namespace {

constexpr int kThreads = 256;

struct LossResult {
  double sum;
  long long correct;
};

// One block: n is a batch of logits (tens to thousands); a single block keeps the
// reduction order fixed, so the loss is the same on every run.
__global__ void bce_forward_kernel(int64_t n, const float* __restrict__ z, const float* __restrict__ y,
                                   LossResult* __restrict__ out) {
  double s = 0.0;
  long long c = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    s += formula::bce_with_logits(double(z[i]), double(y[i]));
    c += formula::bce_correct(z[i], y[i]);
  }
  __shared__ double s_sum[kThreads];
  __shared__ long long s_cnt[kThreads];
  s_sum[threadIdx.x] = s;
  s_cnt[threadIdx.x] = c;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) {
      s_sum[threadIdx.x] += s_sum[threadIdx.x + half];
      s_cnt[threadIdx.x] += s_cnt[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = LossResult{s_sum[0], s_cnt[0]};
}

__global__ void bce_backward_kernel(int64_t n, float inv_n, const float* __restrict__ z, const float* __restrict__ y,
                                    float* __restrict__ dz) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    dz[i] = formula::bce_with_logits_grad(z[i], y[i], inv_n);
}

}  // namespace

double bce_with_logits_forward(int64_t n, const float* z, const float* y, int64_t* correct) {
  if (n <= 0) throw std::invalid_argument("bce: empty batch");
  auto* d_out = static_cast<LossResult*>(device_alloc(sizeof(LossResult)));  // from the cache once warm
  bce_forward_kernel<<<1, kThreads, 0, stream()>>>(n, z, y, d_out);
  RADIUS_CUDA_CHECK_LAUNCH("bce_forward_kernel");
  LossResult host{};
  try {
    device_copy(&host, Device::cpu, d_out, Device::cuda, sizeof host);  // the step's one device->host copy
  } catch (...) {
    device_free(d_out);
    throw;
  }
  device_free(d_out);
  if (correct) *correct = host.correct;
  return host.sum / double(n);
}

void bce_with_logits_backward(int64_t n, const float* z, const float* y, float* dz) {
  if (n <= 0) return;
  bce_backward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(n, 1.0f / float(n), z, y, dz);
  RADIUS_CUDA_CHECK_LAUNCH("bce_backward_kernel");
}

}  // namespace radius::cuda
