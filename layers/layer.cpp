#include "layers/layer.h"

#include <stdexcept>

namespace radius {

void expect_batch_io(const Tensor& x, const Tensor& y, const Shape& in, const Shape& out, const std::string& who) {
  if (x.rank() == 0) throw std::invalid_argument(who + ": input has no batch dimension");
  const int64_t n = x.dim(0);
  expect_shape(x, in.with_batch(n), who + " input");
  expect_shape(y, out.with_batch(n), who + " output");
  if (x.device() != y.device())
    throw std::invalid_argument(who + ": input on " + to_string(x.device()) + " but output on " +
                                to_string(y.device()) + "; all tensors of one call must be on one device");
}

void expect_device(const Tensor& t, Device device, const std::string& what) {
  if (t.defined() && t.device() != device)
    throw std::invalid_argument(what + " is on " + to_string(t.device()) + " but the call runs on " +
                                to_string(device) + "; move it with .to(Device::" + to_string(device) + ")");
}

void unreachable_without_cuda(const char* where) {
  throw std::logic_error(std::string(where) + ": a CUDA tensor in a build without CUDA");
}

void Layer::expect_params_on(Device device, const std::string& who) const {
  for (const Param& p : params_) {
    expect_device(p.value, device, who + " parameter");
    expect_device(p.grad, device, who + " parameter gradient");
  }
  for (const Tensor& b : buffers_) expect_device(b, device, who + " state buffer");
}

void Layer::set_counter(const std::string& name, uint64_t /*value*/) {
  throw std::invalid_argument(describe() + " has no counter '" + name + "'");
}

}  // namespace radius
