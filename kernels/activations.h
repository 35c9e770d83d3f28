// CUDA versions of layers/activations.h and layers/dropout.h: same arguments,
// raw device pointers, run on the Radius stream (asynchronous).
#pragma once
#include <cstdint>

namespace radius::cuda {

void relu_forward(int64_t n, const float* x, float* y);                     // y = max(x, 0)
void relu_backward(int64_t n, const float* x, const float* dy, float* dx);  // dx = dy * [x > 0]
void sigmoid_forward(int64_t n, const float* x, float* y);                  // y = 1 / (1 + e^-x), stable
void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx);  // dx = dy * y * (1 - y)

// Bit-identical to the CPU dropout_mask: Philox block (call << 32 | i / 4),
// word i % 4, under (seed, stream); kept (1 / (1 - rate)) if uniform >= rate.
void dropout_mask(int64_t n, float rate, uint64_t seed, uint64_t stream, uint64_t call, float* mask);
void dropout_apply(int64_t n, const float* x, const float* mask, float* y);  // y = x * mask (also backward)

}  // namespace radius::cuda
