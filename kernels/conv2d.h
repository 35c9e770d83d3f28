// CUDA version of layers/conv2d.h (same arguments as the CPU templates, raw
// device pointers, asynchronous on the Radius stream). The bias gradient is
// cuda::bias_grad (kernels/reduce.h), shared with the dense layer.
//
// Convolution is lowered to our SGEMM through im2col (see conv2d.cu for why),
// a chunk of images at a time; scratch comes from the caching allocator, so a
// steady-state step makes no cudaMalloc.
#pragma once
#include <cstdint>

#include "layers/geometry.h"

namespace radius::cuda {

// x [n, C, H, W], w [K, C, KH, KW], b [K] (nullable) -> y [n, K, OH, OW].
// relu: fuse max(., 0) into the GEMM epilogue (for a conv followed by a ReLU).
void conv2d_forward(const Conv2dGeom& g, int64_t n, const float* x, const float* w, const float* b, float* y,
                    bool relu = false);
// dx (nullable) is overwritten; dw and db (nullable) are accumulated into (+=).
void conv2d_backward(const Conv2dGeom& g, int64_t n, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db);

// The lowering itself (exposed for tests): x [n, C, H, W] -> col [n, C*KH*KW, OH*OW].
void im2col(const Conv2dGeom& g, int64_t n, const float* x, float* col);
// The adjoint, as a gather (no atomics, deterministic): OVERWRITES dx [n, C, H, W].
void col2im(const Conv2dGeom& g, int64_t n, const float* col, float* dx);

}  // namespace radius::cuda
