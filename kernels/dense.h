// CUDA version of layers/dense.h (same arguments as the CPU templates, raw device
// pointers, asynchronous on the Radius stream). A dense layer is a few GEMMs on
// our SGEMM (kernels/sgemm.h) and the bias-gradient reduction (kernels/reduce.h).
#pragma once
#include <cstdint>

namespace radius::cuda {

// x [n, in], w [out, in], b [out] (nullable) -> y [n, out].
void dense_forward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* b, float* y);
// dx (nullable) overwritten; dw, db (nullable) accumulated into.
void dense_backward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* dy, float* dx,
                    float* dw, float* db);

}  // namespace radius::cuda
