// The op playgrounds' numbered versions, callable from plain C++ (no CUDA types):
// each kernels/playground/<op>_playground.cu defines its versions and its own
// harness (main), and declares them here so that tests/test_playground.cpp runs
// the same functions against the backend. Built into the radius_playground
// library in a CUDA build only.
//
// Every function takes device pointers, runs on the Radius stream
// (kernels/runtime.h) and returns when its work is queued, except the reductions,
// which return their result on the host (as the backend's do). Version numbers
// start at 1; the LAST version of every op is the backend's own launcher, so the
// playground's table measures whether the backend really uses the fastest.
#pragma once
#include <vector>
#include <cstdint>

#include "kernels/moments.h"
#include "layers/geometry.h"
#include "optim/config.h"

namespace radius::playground {

// The small odd geometries every conv version is checked on (valid and same padding,
// stride 2, a non-square kernel, channel counts that fill no tile).
inline std::vector<Conv2dGeom> conv_check_geometries() {
  return {Conv2dGeom::make(3, 11, 11, 5, 3, 3, 1, Padding::valid), Conv2dGeom::make(4, 13, 9, 6, 3, 5, 2, Padding::same),
          Conv2dGeom::make(7, 20, 17, 33, 3, 3, 1, Padding::same)};
}

// conv2d_forward_playground.cu: y [n, K, OH, OW] = conv(x, w) + b (b nullable).
constexpr int kConvForwardVersions = 4;
const char* conv_forward_name(int v);
void conv_forward(int v, const Conv2dGeom& g, int64_t n, const float* x, const float* w, const float* b, float* y);

// conv2d_backward_filter_playground.cu: dw [K, C, KH, KW] += sum over images of dy x col^T.
constexpr int kConvFilterVersions = 4;
const char* conv_filter_name(int v);
void conv_filter(int v, const Conv2dGeom& g, int64_t n, const float* x, const float* dy, float* dw);

// maxpool_playground.cu: forward (y, argmax) and backward (dx overwritten).
constexpr int kPoolForwardVersions = 4, kPoolBackwardVersions = 4;
const char* pool_forward_name(int v);
const char* pool_backward_name(int v);
void pool_forward(int v, const Pool2dGeom& g, int64_t n, const float* x, float* y, int32_t* argmax);
void pool_backward(int v, const Pool2dGeom& g, int64_t n, const float* dy, const int32_t* argmax, float* dx);

// reduce_playground.cu: three reductions, each returned on the host.
// Version 1 (atomics) has no Moments form: a Welford state cannot be merged by an
// atomic add; reduce_moments(1, ...) throws std::invalid_argument.
constexpr int kReduceVersions = 4;
const char* reduce_name(int v);
double reduce_bce(int v, int64_t n, const float* z, const float* y);  // the mean BCE-with-logits loss
double reduce_norm(int v, int64_t n, const float* g);                 // sqrt(sum g^2)
Moments reduce_moments(int v, int64_t n, const float* x);             // of all n values

// adam_playground.cu: one Adam step (Keras form or PyTorch form, as c says) at step t.
constexpr int kAdamVersions = 4;
const char* adam_name(int v);
void adam(int v, int64_t n, float* w, const float* g, float* m, float* v_state, int64_t t, const AdamConfig& c);

}  // namespace radius::playground
