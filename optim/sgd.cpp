#include "optim/sgd.h"

#include <cstdio>
#include <stdexcept>

#include "kernels/formulas.h"
#include "layers/layer.h"
#ifdef RADIUS_WITH_CUDA
#include "kernels/optim.h"
#endif

namespace radius {

template <class T> void sgd_update(int64_t n, T* w, const T* g, T* u, const SgdConfig& c) {
  const T lr = T(c.lr), mu = T(c.momentum);
#pragma omp parallel for simd if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) formula::sgd_update(w[i], u[i], g[i], lr, mu, c.nesterov);  // kernels/formulas.h
}

template void sgd_update<float>(int64_t, float*, const float*, float*, const SgdConfig&);
template void sgd_update<double>(int64_t, double*, const double*, double*, const SgdConfig&);

Sgd::Sgd(const SgdConfig& config) : Optimizer(config.lr), config_(config) {
  if (config.momentum < 0.0f || config.momentum >= 1.0f)
    throw std::invalid_argument("sgd: momentum must be in [0, 1), got " + std::to_string(config.momentum));
}

std::string Sgd::describe() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "sgd lr=%g momentum=%g%s", double(lr_), double(config_.momentum),
                config_.nesterov ? " nesterov" : "");
  return buf;
}

void Sgd::set_state(const std::string& name, const Tensor& value) {
  if (name != "sgd.momentum") throw std::invalid_argument("sgd: no state named '" + name + "'");
  u_ = value.clone();
}

void Sgd::step(Tensor& params, const Tensor& grads) {
  ensure_state(u_, params, grads, "sgd");
  SgdConfig c = config_;
  c.lr = lr_;
  if (params.is_cpu()) {
    sgd_update(params.numel(), params.cpu(), grads.cpu(), u_.cpu(), c);
  } else {
#ifdef RADIUS_WITH_CUDA
    cuda::sgd_update(params.numel(), params.data(), grads.data(), u_.data(), c);
#else
    unreachable_without_cuda("Sgd::step");
#endif
  }
  ++t_;
}

}  // namespace radius
