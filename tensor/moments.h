// Summary statistics of tensors on any device, without copying a CUDA tensor to
// the host: mean, spread, sum of squares, min/max, zero / positive / non-finite
// counts (kernels/moments.h), reduced in double in a fixed order.
//
// The data is cut into rows; each row's Moments comes from one CPU loop or one CUDA
// block (kernels/reduce.h), and the rows are merged on the host in row order. So the
// result is deterministic on each device, and CPU and CUDA agree up to the rounding
// of different summation orders. The download is rows x 72 bytes.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/moments.h"
#include "tensor/tensor.h"

namespace radius {

// Rows of this many elements for tensor_moments: long enough to keep a GPU block
// busy, short enough to give every SM work on the paper model's 3.45 M gradients.
inline constexpr int64_t kMomentsChunk = 16384;

// Moments of each row of x viewed as [rows, numel / rows], of x - y when y is given
// (same shape and device as x).
std::vector<Moments> row_moments(const Tensor& x, int64_t rows, const Tensor* y = nullptr);

// Moments of all of x (or x - y): rows of kMomentsChunk (and one shorter tail row),
// merged in order.
Moments tensor_moments(const Tensor& x, const Tensor* y = nullptr);

}  // namespace radius
