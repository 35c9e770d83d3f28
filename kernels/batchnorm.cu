// BatchNorm2d on CUDA (layers/batchnorm.h has the math and the CPU reference).
//
// Per-channel sums (statistics; backward's sum dy and sum dy * xhat) run one block
// per channel: each thread adds a fixed strided subset of the channel's N*H*W
// values in double, then a shared-memory tree joins the threads in a fixed order.
// So a result depends only on the data and kBlock, never on scheduling: the
// reduction is deterministic, run after run. The elementwise passes (normalise,
// dx) are one thread per element and call the same formulas as the CPU
// (kernels/formulas.h).
#include "kernels/formulas.h"
#include "kernels/runtime.h"
#include "layers/batchnorm.h"

namespace radius::cuda {
namespace {

constexpr int kBlock = 256;  // a power of two (the tree below halves it)

// Element e (0 <= e < n * hw) of channel k in an [n, c, hw] tensor.
__device__ __forceinline__ int64_t channel_index(int64_t e, int64_t k, int64_t c, int64_t hw) {
  return (e / hw * c + k) * hw + e % hw;
}

// The block's sums of each thread's a and of its b, joined in a fixed order.
__device__ void block_sum2(double& a, double& b) {
  __shared__ double sa[kBlock], sb[kBlock];
  sa[threadIdx.x] = a;
  sb[threadIdx.x] = b;
  __syncthreads();
  for (int half = kBlock / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) {
      sa[threadIdx.x] += sa[threadIdx.x + half];
      sb[threadIdx.x] += sb[threadIdx.x + half];
    }
    __syncthreads();
  }
  a = sa[0];
  b = sb[0];
  __syncthreads();  // sa/sb may be reused by a second call
}

__global__ void statistics_kernel(int64_t n, int64_t c, int64_t hw, const float* __restrict__ x, float momentum,
                                  float eps, float* running_mean, float* running_var, float* mean, float* invstd) {
  const int64_t k = blockIdx.x, m = n * hw;
  double sum = 0, unused = 0;
  for (int64_t e = threadIdx.x; e < m; e += kBlock) sum += double(x[channel_index(e, k, c, hw)]);
  block_sum2(sum, unused);
  const double mu = sum / double(m);
  double squares = 0;  // two passes, as on the CPU
  for (int64_t e = threadIdx.x; e < m; e += kBlock) {
    const double d = double(x[channel_index(e, k, c, hw)]) - mu;
    squares += d * d;
  }
  block_sum2(squares, unused);
  if (threadIdx.x == 0) {
    const double var = squares / double(m);
    mean[k] = float(mu);
    invstd[k] = formula::bn_invstd(float(var), eps);
    running_mean[k] = formula::bn_running(running_mean[k], float(mu), momentum);
    running_var[k] = formula::bn_running(running_var[k], float(m > 1 ? var * double(m) / double(m - 1) : var), momentum);
  }
}

// Eval: the statistics are the running buffers'.
__global__ void running_statistics_kernel(int64_t c, const float* running_mean, const float* running_var, float eps,
                                          float* mean, float* invstd) {
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < c; k += int64_t(gridDim.x) * blockDim.x) {
    mean[k] = running_mean[k];
    invstd[k] = formula::bn_invstd(running_var[k], eps);
  }
}

__global__ void normalize_kernel(int64_t total, int64_t c, int64_t hw, const float* __restrict__ x,
                                 const float* __restrict__ mean, const float* __restrict__ invstd,
                                 const float* __restrict__ gamma, const float* __restrict__ beta, float* __restrict__ y) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = i / hw % c;
    y[i] = formula::bn_normalize(x[i], mean[k], invstd[k], gamma[k], beta[k]);
  }
}

// Per channel: dgamma += sum dy * xhat, dbeta += sum dy; sums[k] and sums[c + k]
// get the means of dy and dy * xhat when the statistics were the batch's (else 0).
__global__ void gradient_sums_kernel(int64_t n, int64_t c, int64_t hw, const float* __restrict__ x,
                                     const float* __restrict__ mean, const float* __restrict__ invstd,
                                     const float* __restrict__ dy, bool batch_statistics, float* dgamma, float* dbeta,
                                     float* sums) {
  const int64_t k = blockIdx.x, m = n * hw;
  double sum_dy = 0, sum_dy_xhat = 0;
  for (int64_t e = threadIdx.x; e < m; e += kBlock) {
    const int64_t i = channel_index(e, k, c, hw);
    sum_dy += double(dy[i]);
    sum_dy_xhat += double(dy[i]) * (double(x[i]) - double(mean[k])) * double(invstd[k]);
  }
  block_sum2(sum_dy, sum_dy_xhat);
  if (threadIdx.x == 0) {
    if (dgamma) dgamma[k] += float(sum_dy_xhat);
    if (dbeta) dbeta[k] += float(sum_dy);
    sums[k] = batch_statistics ? float(sum_dy / double(m)) : 0.f;
    sums[c + k] = batch_statistics ? float(sum_dy_xhat / double(m)) : 0.f;
  }
}

__global__ void dx_kernel(int64_t total, int64_t c, int64_t hw, const float* __restrict__ x,
                          const float* __restrict__ mean, const float* __restrict__ invstd,
                          const float* __restrict__ gamma, const float* __restrict__ dy,
                          const float* __restrict__ sums, float* __restrict__ dx) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = i / hw % c;
    dx[i] = formula::bn_backward_dx(dy[i], (x[i] - mean[k]) * invstd[k], gamma[k] * invstd[k], sums[k], sums[c + k]);
  }
}

}  // namespace

void batchnorm_statistics(int64_t n, int64_t c, int64_t hw, const float* x, bool train, float momentum, float eps,
                          float* running_mean, float* running_var, float* mean, float* invstd) {
  if (c <= 0) return;
  if (train) {
    statistics_kernel<<<unsigned(c), kBlock, 0, stream()>>>(n, c, hw, x, momentum, eps, running_mean, running_var,
                                                             mean, invstd);
    RADIUS_CUDA_CHECK_LAUNCH("batchnorm statistics_kernel");
  } else {
    running_statistics_kernel<<<grid_for(c, kBlock), kBlock, 0, stream()>>>(c, running_mean, running_var, eps, mean,
                                                                              invstd);
    RADIUS_CUDA_CHECK_LAUNCH("batchnorm running_statistics_kernel");
  }
}

void batchnorm_normalize(int64_t n, int64_t c, int64_t hw, const float* x, const float* mean, const float* invstd,
                         const float* gamma, const float* beta, float* y) {
  const int64_t total = n * c * hw;
  if (total <= 0) return;
  normalize_kernel<<<grid_for(total, kBlock), kBlock, 0, stream()>>>(total, c, hw, x, mean, invstd, gamma, beta, y);
  RADIUS_CUDA_CHECK_LAUNCH("batchnorm normalize_kernel");
}

void batchnorm_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* mean, const float* invstd,
                        const float* gamma, const float* dy, bool batch_statistics, float* dx, float* dgamma,
                        float* dbeta, float* scratch) {
  const int64_t total = n * c * hw;
  if (total <= 0) return;
  gradient_sums_kernel<<<unsigned(c), kBlock, 0, stream()>>>(n, c, hw, x, mean, invstd, dy, batch_statistics, dgamma,
                                                              dbeta, scratch);
  RADIUS_CUDA_CHECK_LAUNCH("batchnorm gradient_sums_kernel");
  if (!dx) return;
  dx_kernel<<<grid_for(total, kBlock), kBlock, 0, stream()>>>(total, c, hw, x, mean, invstd, gamma, dy, scratch, dx);
  RADIUS_CUDA_CHECK_LAUNCH("batchnorm dx_kernel");
}

}  // namespace radius::cuda
