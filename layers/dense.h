// Dense (fully connected): y = x w^T + b
//   x [N, I]   w [O, I] (PyTorch's layout; Keras stores [I, O])   b [O]   y [N, O]
// Backward:  dx = dy w,   dw += dy^T x,   db += column sums of dy.
#pragma once
#include "layers/layer.h"

namespace radius {

// ---- CPU reference (T = float or double) --------------------------------------
template <class T>
void dense_forward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* b, T* y);  // b may be null
// dx may be null; dw and db (nullable) are accumulated into.
template <class T>
void dense_backward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);

class Dense final : public Layer {
 public:
  explicit Dense(int64_t units, bool use_bias = true);
  std::string kind() const override { return "dense"; }
  std::string describe() const override;
  Shape build(const Shape& in) override;
  std::vector<ParamSpec> param_specs() const override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  int64_t flops(const Shape& in) const override { return 2 * in.numel() * units_; }

 private:
  int64_t units_, in_ = 0;
  bool use_bias_;
};

}  // namespace radius
