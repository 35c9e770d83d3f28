// Winograd's minimal filtering F(2x2, 3x3): the 3x3, stride-1 convolution with
// 2.25x fewer multiplies (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2015). The derivation, for a student:
//
// One dimension, F(2, 3): two outputs of a 3-tap filter g over four inputs d,
//
//   y0 = d0 g0 + d1 g1 + d2 g2
//   y1 = d1 g0 + d2 g1 + d3 g2             (6 multiplies, done directly)
//
// can be had from 4 products whose filter halves are computed once per filter:
//
//   m1 = (d0 - d2) g0                      y0 = m1 + m2 + m3
//   m2 = (d1 + d2) (g0 + g1 + g2) / 2      y1 = m2 - m3 - m4
//   m3 = (d2 - d1) (g0 - g1 + g2) / 2
//   m4 = (d1 - d3) g2
//
// (expand m2 + m3 = d1 g1 + d2 g0 + d2 g2 and m2 - m3 = d1 g0 + d1 g2 + d2 g1, and
// the two lines follow). As matrices: y = A^T [(G g) . (B^T d)], "." element-wise,
//
//         | 1  0 -1  0 |          | 1    0    0  |
//   B^T = | 0  1  1  0 |      G = | 1/2  1/2  1/2 |      A^T = | 1  1  1  0 |
//         | 0 -1  1  0 |          | 1/2 -1/2  1/2 |            | 0  1 -1 -1 |
//         | 0  1  0 -1 |          | 0    0    1  |
//
// Two dimensions nest it: a 2x2 tile of output from a 4x4 tile of input d and the
// 3x3 filter g is Y = A^T [(G g G^T) . (B^T d B)] A: 16 multiplies instead of 36.
// A layer sums over its C input channels before the output transform (it is
// linear), so for each of the 16 positions xi of the 4x4 transformed tile,
//
//   M_xi [K, tiles] = U_xi [K, C] x V_xi [C, tiles],   U = G g G^T,  V = B^T d B,
//
// a GEMM per position (16 of them, each of depth C), then Y = A^T M A per tile.
// The transforms cost additions only; the price is rounding: the products are
// of sums of inputs and of filter halves, so the float error is a few times the
// direct convolution's (tests/test_winograd.cpp measures and bounds it).
#pragma once
#include <cstdint>

#include "layers/geometry.h"

namespace radius {

// F(2x2, 3x3) computes this layer: a 3x3 kernel at stride 1 (valid or same padding).
bool winograd_applies(const Conv2dGeom& g);

// The forward convolution by F(2x2, 3x3), the contract of conv2d_forward
// (layers/conv2d.h): y [n, K, OH, OW] = x * w + b (b may be null), relu applied
// when asked. T = float (our packed SGEMM) or double (Eigen, for the tests).
// Throws std::invalid_argument where !winograd_applies(g).
template <class T>
void conv2d_forward_winograd(const Conv2dGeom& g, int64_t n, const T* x, const T* w, const T* b, T* y,
                             bool relu = false);

// Tiles per block of one image: V and M of a block (16 x (C + K) x tiles) stay in L2.
int64_t winograd_block_tiles(const Conv2dGeom& g);

}  // namespace radius
