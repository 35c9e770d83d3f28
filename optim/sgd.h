// SGD with momentum (PyTorch's form; u is the momentum buffer):
//   u = mu u + g;   w -= lr u              (nesterov: w -= lr (g + mu u))
// For a constant learning rate this is the same trajectory as Keras'; mu = 0 is
// plain gradient descent. The per-element update lives in kernels/formulas.h,
// shared with the CUDA kernel (kernels/optim.cu).
#pragma once
#include "optim/config.h"
#include "optim/optimizer.h"

namespace radius {

template <class T> void sgd_update(int64_t n, T* w, const T* g, T* u, const SgdConfig& c);

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const SgdConfig& config = {});
  std::string describe() const override;
  void step(Tensor& params, const Tensor& grads) override;
  std::vector<std::pair<std::string, Tensor>> state() override { return {{"sgd.momentum", u_}}; }
  void set_state(const std::string& name, const Tensor& value) override;

 private:
  SgdConfig config_;
  Tensor u_;
};

}  // namespace radius
