// ReLU and Sigmoid: elementwise activations.
#pragma once
#include "kernels/formulas.h"
#include "layers/layer.h"

namespace radius {

// ---- math on n contiguous elements (CPU reference; T = float or double) -----
template <class T> void relu_forward(int64_t n, const T* x, T* y);                   // y = max(x, 0)
template <class T> void relu_backward(int64_t n, const T* x, const T* dy, T* dx);    // dx = dy * [x > 0]
template <class T> void sigmoid_forward(int64_t n, const T* x, T* y);                // y = 1 / (1 + e^-x)
template <class T> void sigmoid_backward(int64_t n, const T* y, const T* dy, T* dx); // dx = dy * y * (1 - y)

// The numerically stable logistic function (kernels/formulas.h, shared with CUDA).
using formula::stable_sigmoid;

class ReLU final : public Layer {
 public:
  std::string kind() const override { return "relu"; }
  std::string describe() const override { return "relu"; }
  Shape build(const Shape& in) override { return shape_ = in; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  int64_t flops(const Shape& in) const override { return in.numel(); }

 private:
  Shape shape_;
};

// A Sigmoid as the LAST layer of a model is its output head: training feeds the
// logits to the loss (BCE from logits is stable; sigmoid-then-log is not), and
// Sequential::predict applies it. Elsewhere it is an ordinary activation.
class Sigmoid final : public Layer {
 public:
  std::string kind() const override { return "sigmoid"; }
  std::string describe() const override { return "sigmoid"; }
  Shape build(const Shape& in) override { return shape_ = in; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  int64_t flops(const Shape& in) const override { return 4 * in.numel(); }

 private:
  Shape shape_;
};

}  // namespace radius
