// CUDA versions of layers/pool2d.h (same arguments, raw device pointers,
// asynchronous). argmax holds, per output element, the winning index into its
// input plane; on ties the first maximum in row-major order wins, as on the CPU.
#pragma once
#include <cstdint>

#include "layers/geometry.h"

namespace radius::cuda {

void maxpool2d_forward(const Pool2dGeom& g, int64_t n, const float* x, float* y, int32_t* argmax);
// dx overwritten; relu_out as on the CPU (layers/pool2d.h): null, or the ReLU output the pool read.
void maxpool2d_backward(const Pool2dGeom& g, int64_t n, const float* dy, const int32_t* argmax, float* dx,
                        const float* relu_out = nullptr);
void avgpool2d_forward(const Pool2dGeom& g, int64_t n, const float* x, float* y);
void avgpool2d_backward(const Pool2dGeom& g, int64_t n, const float* dy, float* dx);  // dx overwritten

}  // namespace radius::cuda
