// MaxPool2D and AvgPool2D over NCHW, Keras "valid" pooling:
//   x [N, C, H, W] -> y [N, C, OH, OW],  OH = floor((H - PH) / S) + 1
// (rows and columns that do not fill a whole window are dropped, as Keras does).
//
// Max pooling remembers which input won each window (argmax, an index into the
// input plane) and backward sends the gradient there alone; on ties the first
// element in row-major order wins. Average pooling spreads dy / (PH*PW) over its
// window.
#pragma once
#include "layers/geometry.h"
#include "layers/layer.h"

namespace radius {

// ---- CPU reference (T = float or double); n = batch size ---------------------
template <class T> void maxpool2d_forward(const Pool2dGeom& g, int64_t n, const T* x, T* y, int32_t* argmax);
// The generic loops alone (maxpool2d_forward unrolls 2x2 stride-2 windows): the
// reference the fast path is tested against.
template <class T>
void maxpool2d_forward_reference(const Pool2dGeom& g, int64_t n, const T* x, T* y, int32_t* argmax);
// relu_out: when the pool's input x is a ReLU's output, pass x here to run that
// ReLU's backward too (dx = relu_grad(x, pool's dx), net/fusion.h); else nullptr.
template <class T>
void maxpool2d_backward(const Pool2dGeom& g, int64_t n, const T* dy, const int32_t* argmax, T* dx,
                        const T* relu_out = nullptr);
template <class T> void avgpool2d_forward(const Pool2dGeom& g, int64_t n, const T* x, T* y);
template <class T> void avgpool2d_backward(const Pool2dGeom& g, int64_t n, const T* dy, T* dx);

enum class PoolKind { max, average };

class Pool2D final : public Layer {
 public:
  Pool2D(PoolKind type, int64_t pool_h, int64_t pool_w, int64_t stride);  // stride 0 = pool size (Keras default)
  std::string kind() const override { return kind_ == PoolKind::max ? "maxpool2d" : "avgpool2d"; }
  std::string describe() const override;
  Shape build(const Shape& in) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  // Max pooling whose input x is a ReLU's output: backward through the pool and
  // that ReLU in one pass (the mask read at the window winners only).
  void backward_relu(const Tensor& x, const Tensor& dy, Tensor& dx);
  int64_t flops(const Shape& in) const override;
  const Pool2dGeom& geom() const { return g_; }  // after build()

 private:
  PoolKind kind_;
  int64_t pool_h_, pool_w_, stride_;
  Pool2dGeom g_;
  // Max pooling: winner per output element, kept for backward, on x's device.
  // A float tensor holding int32 values (same size; only ever read as int32).
  Tensor argmax_;
  void backward_impl(const Tensor& x, const Tensor& dy, Tensor& dx, bool relu);
  int32_t* argmax_data() { return reinterpret_cast<int32_t*>(argmax_.data()); }
};

}  // namespace radius
