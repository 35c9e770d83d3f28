#include "optim/adam.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "layers/layer.h"
#ifdef RADIUS_WITH_CUDA
#include "kernels/optim.h"
#endif

namespace radius {

template <class T> void adam_update(int64_t n, T* w, const T* g, T* m, T* v, int64_t t, const AdamConfig& c) {
  const T b1 = T(c.beta1), b2 = T(c.beta2), eps = T(c.eps), lr = T(c.lr);
  const T bc1 = T(1) - std::pow(b1, T(t)), bc2 = T(1) - std::pow(b2, T(t));  // bias corrections
  if (c.form == AdamForm::keras) {
    const T alpha = lr * std::sqrt(bc2) / bc1;
#pragma omp parallel for simd if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) {
      m[i] += (g[i] - m[i]) * (T(1) - b1);
      v[i] += (g[i] * g[i] - v[i]) * (T(1) - b2);
      w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
    }
  } else {
    const T step = lr / bc1, inv_sqrt_bc2 = T(1) / std::sqrt(bc2);
#pragma omp parallel for simd if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (T(1) - b1) * g[i];
      v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
      w[i] -= step * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  }
}

template void adam_update<float>(int64_t, float*, const float*, float*, float*, int64_t, const AdamConfig&);
template void adam_update<double>(int64_t, double*, const double*, double*, double*, int64_t, const AdamConfig&);

std::string Adam::describe() const {
  char buf[128];
  std::snprintf(buf, sizeof buf, "adam (%s form) lr=%g beta1=%g beta2=%g eps=%g",
                config_.form == AdamForm::keras ? "keras" : "pytorch", double(lr_), double(config_.beta1),
                double(config_.beta2), double(config_.eps));
  return buf;
}

void Adam::set_state(const std::string& name, const Tensor& value) {
  if (name == "adam.m")
    m_ = value.clone();
  else if (name == "adam.v")
    v_ = value.clone();
  else
    throw std::invalid_argument("adam: no state named '" + name + "'");
}

void Adam::step(Tensor& params, const Tensor& grads) {
  ensure_state(m_, params, grads, "adam");
  ensure_state(v_, params, grads, "adam");
  AdamConfig c = config_;
  c.lr = lr_;  // the schedule may have changed it
  ++t_;
  if (params.is_cpu()) {
    adam_update(params.numel(), params.cpu(), grads.cpu(), m_.cpu(), v_.cpu(), t_, c);
  } else {
#ifdef RADIUS_WITH_CUDA
    cuda::adam_update(params.numel(), params.data(), grads.data(), m_.data(), v_.data(), t_, c);
#else
    unreachable_without_cuda("Adam::step");
#endif
  }
}

}  // namespace radius
