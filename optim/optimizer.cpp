#include "optim/optimizer.h"

#include <stdexcept>

namespace radius {

void Optimizer::ensure_state(Tensor& state, const Tensor& params, const Tensor& grads, const char* who) {
  expect_same_shape(params, grads, std::string(who) + " params vs grads");
  if (grads.device() != params.device())
    throw std::invalid_argument(std::string(who) + ": params on " + to_string(params.device()) + " but grads on " +
                                to_string(grads.device()));
  if (!state.defined()) state = Tensor::zeros(params.shape(), params.device());
  expect_same_shape(params, state, std::string(who) + " params vs state");
  if (state.device() != params.device())
    throw std::invalid_argument(std::string(who) + ": optimizer state on " + to_string(state.device()) +
                                " but params on " + to_string(params.device()) +
                                "; move the model before the first step (or use a fresh optimizer)");
}

}  // namespace radius
