#include "optim/optimizer.h"

#include <stdexcept>

namespace radius {

void Optimizer::ensure_state(Tensor& state, const Tensor& params, const Tensor& grads, const char* who) {
  expect_same_shape(params, grads, std::string(who) + " params vs grads");
  if (!state.defined()) state = Tensor::zeros(params.shape(), params.device());
  expect_same_shape(params, state, std::string(who) + " params vs state");
}

}  // namespace radius
