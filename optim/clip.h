// Gradient-norm clipping (PyTorch's clip_grad_norm_ over all parameters, Keras'
// global_clipnorm): when the global L2 norm of the gradient exceeds max_norm, the
// whole gradient is scaled by max_norm / norm, so its direction is kept and only
// the step length is capped. Off by default (the seed paper did not clip).
#pragma once
#include "tensor/tensor.h"

namespace radius {

// The global L2 norm of grads (any device), accumulated in double. CUDA: reduced on
// the device (tensor/moments.h, deterministic); only the partial sums come back.
double global_norm(const Tensor& grads);

// Scales grads in place when their global norm exceeds max_norm (> 0); returns
// the norm before clipping. CUDA: the norm and the scaling both run on the device.
double clip_grad_norm(Tensor& grads, double max_norm);

}  // namespace radius
