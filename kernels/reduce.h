// Deterministic reductions on the device (launchers; no CUDA types here).
//
// One block per row of x viewed as [rows, length] (row r = x[r*length, r*length + length)):
// thread t pushes elements t, t + 256, t + 512, ... in order into its Moments, then
// the block merges the 256 partial Moments in a fixed tree. Nothing depends on the
// grid size, the SM count or timing, so the same input gives the same bits on every
// run of one binary on one card (another architecture runs other machine code,
// and the compiler may contract differently: equal to rounding there). The per-row results come back to the host (one small download),
// where the caller merges them in row order (tensor/moments.h).
#pragma once
#include <cstdint>

#include "kernels/moments.h"

namespace radius::cuda {

// Moments of v = x[i] - (y ? y[i] : 0) for each row. x, y: device; out: HOST [rows].
// Synchronous: waits for the stream (the results are needed now).
void row_moments(const float* x, const float* y, int64_t rows, int64_t length, Moments* out);

// x[i] *= k for i in [0, n) (device, asynchronous): the clipping step.
void scale(int64_t n, float k, float* x);
// y += x, element by element (the micro-batch gradient sum, net/train.h).
void add(int64_t n, const float* x, float* y);

// db[k] += sum over i < n, j < p of dy[(i * k_count + k) * p + j] (asynchronous):
// the bias gradient of a convolution (p = OH*OW) or a dense layer (p = 1). One
// block per k, a fixed order within the block: deterministic, no atomics.
void bias_grad(int64_t n, int64_t k_count, int64_t p, const float* dy, float* db);

}  // namespace radius::cuda
