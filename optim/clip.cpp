#include "optim/clip.h"

#include <cmath>
#include <stdexcept>

#include "layers/layer.h"
#include "tensor/moments.h"
#ifdef RADIUS_WITH_CUDA
#include "kernels/reduce.h"
#endif

namespace radius {

namespace {

double sum_squares(const float* p, int64_t n) {
  double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) s += double(p[i]) * double(p[i]);
  return s;
}

void scale(float* p, int64_t n, float k) {
#pragma omp parallel for simd schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) p[i] *= k;
}

}  // namespace

double global_norm(const Tensor& grads) {
  if (grads.is_cpu()) return std::sqrt(sum_squares(grads.cpu(), grads.numel()));
  return std::sqrt(tensor_moments(grads).sum_sq);  // on the device: a deterministic reduction, 72-byte downloads
}

double clip_grad_norm(Tensor& grads, double max_norm) {
  if (!(max_norm > 0)) throw std::invalid_argument("clip_grad_norm: max_norm must be > 0");
  const double norm = global_norm(grads);
  if (norm > max_norm && std::isfinite(norm)) {
    const float k = float(max_norm / norm);
    if (grads.is_cpu()) {
      scale(grads.cpu(), grads.numel(), k);
    } else {
#ifdef RADIUS_WITH_CUDA
      cuda::scale(grads.numel(), k, grads.data());
#else
      unreachable_without_cuda("clip_grad_norm");
#endif
    }
  }
  return norm;
}

}  // namespace radius
