#include "layers/flatten.h"

#include <stdexcept>

namespace radius {

Shape Flatten::build(const Shape& in) {
  if (in.rank() < 1) throw std::invalid_argument("flatten needs a non-empty input shape");
  in_ = in;
  out_ = Shape{in.numel()};
  return out_;
}

void Flatten::forward(const Tensor& x, Tensor& y, Mode) {
  expect_batch_io(x, y, in_, out_, "flatten");
  y.copy_from(x.view(y.shape()));
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (!dx.defined()) return;
  expect_batch_io(x, dy, in_, out_, "flatten backward");
  dx.copy_from(dy.view(dx.shape()));
}

}  // namespace radius
