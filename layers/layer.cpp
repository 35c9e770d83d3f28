#include "layers/layer.h"

#include <stdexcept>

namespace radius {

void expect_batch_io(const Tensor& x, const Tensor& y, const Shape& in, const Shape& out, const std::string& who) {
  if (x.rank() == 0) throw std::invalid_argument(who + ": input has no batch dimension");
  const int64_t n = x.dim(0);
  expect_shape(x, in.with_batch(n), who + " input");
  expect_shape(y, out.with_batch(n), who + " output");
  if (!x.is_cpu() || !y.is_cpu())
    throw std::invalid_argument(who + ": tensors on " + to_string(x.device()) +
                                "; this build's layer runs on the CPU only");
}

}  // namespace radius
