// CUDA versions of optim/adam.h and optim/sgd.h: one fused kernel over the flat
// parameter buffer (every parameter of every layer in one launch).
#pragma once
#include <cstdint>

#include "optim/config.h"

namespace radius::cuda {

void adam_update(int64_t n, float* w, const float* g, float* m, float* v, int64_t t, const AdamConfig& c);
void sgd_update(int64_t n, float* w, const float* g, float* u, const SgdConfig& c);

}  // namespace radius::cuda
