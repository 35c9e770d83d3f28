// CUDA version of layers/bce.h: binary cross-entropy on logits.
#pragma once
#include <cstdint>

namespace radius::cuda {

// Mean loss over n logits z against labels y, reduced on the device (in double,
// like the CPU); the one scalar (and, if `correct` is non-null, the count of
// predictions [z > 0] equal to [y > 0.5]) comes back in a single 16-byte copy.
// Synchronises the stream.
double bce_with_logits_forward(int64_t n, const float* z, const float* y, int64_t* correct = nullptr);
// dz = (sigmoid(z) - y) / n. Asynchronous.
void bce_with_logits_backward(int64_t n, const float* z, const float* y, float* dz);

}  // namespace radius::cuda
