// Geometry of the convolution and pooling layers: plain structs with no Eigen,
// shared by the CPU reference (layers/) and the CUDA kernels (kernels/).
#pragma once
#include <cstdint>

namespace radius {

enum class Padding { valid, same };

struct Conv2dGeom {
  int64_t c = 0, h = 0, w = 0;        // input channels and size
  int64_t k = 0, kh = 0, kw = 0;      // filters and kernel size
  int64_t stride = 1;
  int64_t pad_top = 0, pad_left = 0;  // bottom/right padding is implied by oh/ow
  int64_t oh = 0, ow = 0;             // output size

  static Conv2dGeom make(int64_t c, int64_t h, int64_t w, int64_t k, int64_t kh, int64_t kw, int64_t stride,
                         Padding padding);  // throws if the output would be empty (defined in conv2d.cpp)
  int64_t patch() const { return c * kh * kw; }  // rows of col
  int64_t pixels() const { return oh * ow; }     // columns of col
};

struct Pool2dGeom {
  int64_t c = 0, h = 0, w = 0;
  int64_t ph = 0, pw = 0, stride = 0;
  int64_t oh = 0, ow = 0;
  static Pool2dGeom make(int64_t c, int64_t h, int64_t w, int64_t ph, int64_t pw, int64_t stride);  // throws if empty
};

}  // namespace radius
