#include "layers/bce.h"

#include <stdexcept>

#include "kernels/formulas.h"
#include "layers/layer.h"

#ifdef RADIUS_WITH_CUDA
#include "kernels/loss.h"
#endif

namespace radius {

// The per-logit loss and gradient are kernels/formulas.h's (shared with kernels/loss.cu).
template <class T> double bce_with_logits_forward(int64_t n, const T* z, const T* y) {
  if (n <= 0) throw std::invalid_argument("bce: empty batch");
  double sum = 0.0;  // accumulate in double: a batch mean should not depend on order much
  for (int64_t i = 0; i < n; ++i) sum += formula::bce_with_logits(double(z[i]), double(y[i]));
  return sum / double(n);
}

template <class T> void bce_with_logits_backward(int64_t n, const T* z, const T* y, T* dz) {
  const T inv_n = T(1) / T(n);
  for (int64_t i = 0; i < n; ++i) dz[i] = formula::bce_with_logits_grad(z[i], y[i], inv_n);
}

template double bce_with_logits_forward<float>(int64_t, const float*, const float*);
template double bce_with_logits_forward<double>(int64_t, const double*, const double*);
template void bce_with_logits_backward<float>(int64_t, const float*, const float*, float*);
template void bce_with_logits_backward<double>(int64_t, const double*, const double*, double*);

namespace {
void expect_pair(const Tensor& logits, const Tensor& labels) {
  if (logits.numel() != labels.numel())
    throw std::invalid_argument("bce: logits " + logits.shape().str() + " and labels " + labels.shape().str() +
                                " differ in size");
  expect_device(labels, logits.device(), "bce labels");
}
}  // namespace

double bce_with_logits(const Tensor& logits, const Tensor& labels, int64_t* correct) {
  expect_pair(logits, labels);
  const int64_t n = logits.numel();
  if (!logits.is_cpu()) {
    double loss = 0;
    RADIUS_CUDA_ONLY(loss = cuda::bce_with_logits_forward(n, logits.data(), labels.data(), correct));
    return loss;
  }
  if (correct) {
    const float* z = logits.cpu();
    const float* y = labels.cpu();
    *correct = 0;
    for (int64_t i = 0; i < n; ++i) *correct += formula::bce_correct(z[i], y[i]);
  }
  return bce_with_logits_forward(n, logits.cpu(), labels.cpu());
}

void bce_with_logits_grad(const Tensor& logits, const Tensor& labels, Tensor& dlogits) {
  expect_pair(logits, labels);
  expect_same_shape(logits, dlogits, "bce gradient");
  expect_device(dlogits, logits.device(), "bce gradient");
  if (logits.is_cpu())
    bce_with_logits_backward(logits.numel(), logits.cpu(), labels.cpu(), dlogits.cpu());
  else
    RADIUS_CUDA_ONLY(cuda::bce_with_logits_backward(logits.numel(), logits.data(), labels.data(), dlogits.data()));
}

}  // namespace radius
