// Flatten: [N, C, H, W] -> [N, C*H*W], in NCHW order (channel-major, as PyTorch;
// Keras flattens NHWC, so Dense weights after a Flatten differ in row order).
// Memory is already in that order: forward and backward are plain copies.
#pragma once
#include "layers/layer.h"

namespace radius {

class Flatten final : public Layer {
 public:
  std::string kind() const override { return "flatten"; }
  std::string describe() const override { return "flatten"; }
  Shape build(const Shape& in) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;

 private:
  Shape in_, out_;
};

}  // namespace radius
