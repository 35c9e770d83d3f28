#include "optim/clip.h"

#include <cmath>
#include <stdexcept>

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
  const Tensor host = grads.is_cpu() ? grads : grads.to(Device::cpu);  // explicit: no CUDA reduction kernel yet
  return std::sqrt(sum_squares(host.cpu(), host.numel()));
}

double clip_grad_norm(Tensor& grads, double max_norm) {
  if (!(max_norm > 0)) throw std::invalid_argument("clip_grad_norm: max_norm must be > 0");
  Tensor host = grads.is_cpu() ? grads : grads.to(Device::cpu);  // explicit: no CUDA kernel yet
  const double norm = global_norm(host);
  if (norm > max_norm && std::isfinite(norm)) {
    scale(host.cpu(), host.numel(), float(max_norm / norm));
    if (!grads.is_cpu()) grads.copy_from(host.to(grads.device()));
  }
  return norm;
}

}  // namespace radius
