#include "layers/dropout.h"

#include <cmath>
#include <stdexcept>

#include "kernels/formulas.h"

#ifdef RADIUS_WITH_CUDA
#include "kernels/activations.h"
#endif

namespace radius {

// The mask rule (Philox block, keep test, scale) is kernels/formulas.h's, shared
// with the CUDA kernel, so both devices draw the same mask bit for bit.
template <class T> void dropout_mask(int64_t n, float rate, uint64_t seed, uint64_t stream, uint64_t call, T* mask) {
  const T keep_scale = formula::dropout_keep_scale<T>(rate);
  const int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
  for (int64_t blk = 0; blk < blocks; ++blk)
    formula::dropout_mask_block(seed, stream, call, blk, n, rate, keep_scale, mask);
}

template <class T> void dropout_apply(int64_t n, const T* x, const T* mask, T* y) {
#pragma omp parallel for simd if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * mask[i];
}

#define RADIUS_INSTANTIATE(T)                                                          \
  template void dropout_mask<T>(int64_t, float, uint64_t, uint64_t, uint64_t, T*);     \
  template void dropout_apply<T>(int64_t, const T*, const T*, T*);
RADIUS_INSTANTIATE(float)
RADIUS_INSTANTIATE(double)
#undef RADIUS_INSTANTIATE

Dropout::Dropout(float rate) : rate_(rate) {
  if (!(rate >= 0.0f && rate < 1.0f))
    throw std::invalid_argument("dropout: rate must be in [0, 1), got " + std::to_string(rate));
}

std::string Dropout::describe() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "dropout %g", double(rate_));
  return buf;
}

void Dropout::set_seed(uint64_t seed, uint64_t stream) {
  seed_ = seed;
  stream_ = stream;
  calls_ = 0;
}

void Dropout::set_counter(const std::string& name, uint64_t value) {
  if (name != "calls") Layer::set_counter(name, value);  // throws, naming it
  calls_ = value;
}

void Dropout::forward(const Tensor& x, Tensor& y, Mode mode) {
  expect_batch_io(x, y, shape_, shape_, "dropout");
  last_train_ = mode == Mode::train && rate_ > 0.0f;
  if (!last_train_) {
    y.copy_from(x);
    return;
  }
  if (!mask_.defined() || mask_.numel() != x.numel() || mask_.device() != x.device())
    mask_ = Tensor::empty(x.shape(), x.device());
  const int64_t n = x.numel();
  if (x.is_cpu()) {
    dropout_mask(n, rate_, seed_, stream_, calls_++, mask_.cpu());
    dropout_apply(n, x.cpu(), mask_.cpu(), y.cpu());
  } else {
    RADIUS_CUDA_ONLY(cuda::dropout_mask(n, rate_, seed_, stream_, calls_++, mask_.data());
                     cuda::dropout_apply(n, x.data(), mask_.data(), y.data()));
  }
}

void Dropout::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (!dx.defined()) return;
  expect_batch_io(x, dy, shape_, shape_, "dropout backward");
  expect_device(dx, x.device(), "dropout backward dx");
  if (!last_train_)
    dx.copy_from(dy);
  else if (dy.device() != mask_.device() || dy.numel() != mask_.numel())
    throw std::logic_error("dropout backward without a matching forward");
  else if (dy.is_cpu())
    dropout_apply(dy.numel(), dy.cpu(), mask_.cpu(), dx.cpu());
  else
    RADIUS_CUDA_ONLY(cuda::dropout_apply(dy.numel(), dy.data(), mask_.data(), dx.data()));
}

}  // namespace radius
