// One element of the im2col matrix, read straight from the image: what the
// convolution playgrounds' implicit GEMMs gather and their im2col kernels store
// (forward and backward-filter alike), written once. The layout is layers/conv2d.h's:
// col [C*KH*KW, OH*OW] per image, row r = (c, ki, kj), column p = (oi, oj).
#pragma once
#include <cstdint>

#include "layers/geometry.h"

namespace radius::playground {

// x [n, C, H, W]; zero where the tap falls in the padding.
__device__ __forceinline__ float col_element(const Conv2dGeom& g, const float* x, int64_t img, int64_t r, int64_t p) {
  const int64_t kj = r % g.kw, ki = (r / g.kw) % g.kh, c = r / (g.kw * g.kh);
  const int64_t ii = (p / g.ow) * g.stride + ki - g.pad_top, jj = (p % g.ow) * g.stride + kj - g.pad_left;
  return ii >= 0 && ii < g.h && jj >= 0 && jj < g.w ? x[((img * g.c + c) * g.h + ii) * g.w + jj] : 0.f;
}

}  // namespace radius::playground
