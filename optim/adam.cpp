#include "optim/adam.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "kernels/formulas.h"
#include "layers/layer.h"
#ifdef RADIUS_WITH_CUDA
#include "kernels/optim.h"
#endif

namespace radius {

// The per-element formulas live in kernels/formulas.h (shared with the CUDA
// kernel); each form gets its own loop so the compiler vectorises a branch-free body.
template <class T> void adam_update(int64_t n, T* w, const T* g, T* m, T* v, int64_t t, const AdamConfig& c) {
  const formula::AdamScalars<T> s = formula::adam_step_scalars<T>(c, t);
  if (c.form == AdamForm::keras) {
#pragma omp parallel for simd if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) formula::adam_keras_update(w[i], m[i], v[i], g[i], s);
  } else {
#pragma omp parallel for simd if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) formula::adam_pytorch_update(w[i], m[i], v[i], g[i], s);
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
