// Formulas both backends compute, written once: each is a __host__ __device__
// inline function that the CPU loop (layers/, optim/) and the CUDA kernel
// (kernels/*.cu) both call, so the two cannot drift apart. Only per-element or
// per-index arithmetic belongs here; loops, reductions and launches stay with
// their backend.
#pragma once
#include <math.h>

#ifdef __CUDACC__
#define RADIUS_FORMULA __host__ __device__ __forceinline__
#else
#define RADIUS_FORMULA inline
#endif

namespace radius::formula {

// ---- batch normalisation (layers/batchnorm.h) ------------------------------------
RADIUS_FORMULA float bn_invstd(float var, float eps) { return 1.0f / sqrtf(var + eps); }
RADIUS_FORMULA double bn_invstd(double var, double eps) { return 1.0 / sqrt(var + eps); }
// y = gamma * xhat + beta, xhat = (x - mean) * invstd.
template <class T> RADIUS_FORMULA T bn_normalize(T x, T mean, T invstd, T gamma, T beta) {
  return gamma * ((x - mean) * invstd) + beta;
}
// An exponential moving average: the running statistics' update.
template <class T> RADIUS_FORMULA T bn_running(T running, T batch, T momentum) {
  return momentum * running + (T(1) - momentum) * batch;
}
// dx in training mode: scale = gamma * invstd; mean_dy, mean_dy_xhat: the channel's
// means of dy and of dy * xhat (the batch statistics' own gradient terms).
template <class T> RADIUS_FORMULA T bn_backward_dx(T dy, T xhat, T scale, T mean_dy, T mean_dy_xhat) {
  return scale * (dy - mean_dy - xhat * mean_dy_xhat);
}

}  // namespace radius::formula
