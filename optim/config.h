// Optimizer hyper-parameters: plain structs with no Eigen, shared by the CPU
// reference (optim/) and the CUDA kernels (kernels/optim.cu). See adam.h, sgd.h.
#pragma once

namespace radius {

enum class AdamForm { keras, pytorch };

struct AdamConfig {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-7f;
  AdamForm form = AdamForm::keras;
  static AdamConfig keras(float lr = 1e-3f) { return {lr, 0.9f, 0.999f, 1e-7f, AdamForm::keras}; }
  static AdamConfig pytorch(float lr = 1e-3f) { return {lr, 0.9f, 0.999f, 1e-8f, AdamForm::pytorch}; }
};

struct SgdConfig {
  float lr = 1e-2f, momentum = 0.0f;
  bool nesterov = false;
};

}  // namespace radius
