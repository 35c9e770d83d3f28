// Adam (Kingma & Ba), in two forms that differ only in where epsilon goes:
//   Keras form (default; what the seed paper's Keras model used): eps = 1e-7 on
//     the UNcorrected sqrt(v), both bias corrections folded into the step size;
//   PyTorch form (torch.optim.Adam): eps = 1e-8 on the bias-corrected sqrt(v).
// They agree except when sqrt(v) is comparable to eps (tiny gradients). The
// update formulas, written out with their sources, live in kernels/formulas.h,
// shared by this CPU loop and the CUDA kernel (kernels/optim.cu).
#pragma once
#include "optim/config.h"
#include "optim/optimizer.h"

namespace radius {

// One update of n parameters at step t (1-based). CPU reference, T = float or double.
template <class T> void adam_update(int64_t n, T* w, const T* g, T* m, T* v, int64_t t, const AdamConfig& c);

class Adam final : public Optimizer {
 public:
  explicit Adam(const AdamConfig& config = {}) : Optimizer(config.lr), config_(config) {}
  std::string describe() const override;
  void step(Tensor& params, const Tensor& grads) override;
  std::vector<std::pair<std::string, Tensor>> state() override { return {{"adam.m", m_}, {"adam.v", v_}}; }
  void set_state(const std::string& name, const Tensor& value) override;
  const AdamConfig& config() const { return config_; }

 private:
  AdamConfig config_;
  Tensor m_, v_;
};

}  // namespace radius
