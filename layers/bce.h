// Binary cross-entropy on logits, averaged over the batch.
//
// For a logit z and a label y in {0, 1} (or soft labels in [0, 1]):
//   loss = -[y log s(z) + (1 - y) log(1 - s(z))],  s = sigmoid
//        = max(z, 0) - z y + log(1 + e^{-|z|})       <- the stable form used here
// The naive form overflows or takes log(0) for |z| of a few tens; the stable
// one is exact and finite for any finite z (tested at z = +-100). TensorFlow's
// sigmoid_cross_entropy_with_logits uses the same formula.
// Gradient:  dloss/dz_i = (s(z_i) - y_i) / n.
// The per-logit formulas live in kernels/formulas.h, shared with the CUDA kernels.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace radius {

// ---- CPU reference (T = float or double) --------------------------------------
template <class T> double bce_with_logits_forward(int64_t n, const T* z, const T* y);  // mean loss
template <class T> void bce_with_logits_backward(int64_t n, const T* z, const T* y, T* dz);

// Tensor versions: z [N, 1] or [N], y the same numel, both on one device (CPU
// or CUDA: a CUDA loss is reduced on the GPU and only the scalar comes back).
// `correct` (if non-null) receives the count of predictions [z > 0] == [y > 0.5].
double bce_with_logits(const Tensor& logits, const Tensor& labels, int64_t* correct = nullptr);
void bce_with_logits_grad(const Tensor& logits, const Tensor& labels, Tensor& dlogits);

}  // namespace radius
