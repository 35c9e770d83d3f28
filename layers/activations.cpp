#include "layers/activations.h"

#ifdef RADIUS_WITH_CUDA
#include "kernels/activations.h"
#endif

namespace radius {

// Elementwise loops over the formulas of kernels/formulas.h (the CUDA kernels
// call the same functions). OpenMP splits large arrays across threads; small
// ones stay serial because waking threads costs more than the work.
constexpr int64_t kParallelMin = 1 << 16;

template <class T> void relu_forward(int64_t n, const T* x, T* y) {
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = formula::relu(x[i]);
}

template <class T> void relu_backward(int64_t n, const T* x, const T* dy, T* dx) {
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = formula::relu_grad(x[i], dy[i]);
}

template <class T> void sigmoid_forward(int64_t n, const T* x, T* y) {
#pragma omp parallel for if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = formula::stable_sigmoid(x[i]);
}

template <class T> void sigmoid_backward(int64_t n, const T* y, const T* dy, T* dx) {
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = formula::sigmoid_grad(y[i], dy[i]);
}

#define RADIUS_INSTANTIATE(T)                                              \
  template void relu_forward<T>(int64_t, const T*, T*);                    \
  template void relu_backward<T>(int64_t, const T*, const T*, T*);         \
  template void sigmoid_forward<T>(int64_t, const T*, T*);                 \
  template void sigmoid_backward<T>(int64_t, const T*, const T*, T*);
RADIUS_INSTANTIATE(float)
RADIUS_INSTANTIATE(double)
#undef RADIUS_INSTANTIATE

void ReLU::forward(const Tensor& x, Tensor& y, Mode) {
  expect_batch_io(x, y, shape_, shape_, "relu");
  if (x.is_cpu()) relu_forward(x.numel(), x.cpu(), y.cpu());
  else RADIUS_CUDA_ONLY(cuda::relu_forward(x.numel(), x.data(), y.data()));
}

void ReLU::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (!dx.defined()) return;
  expect_batch_io(x, dy, shape_, shape_, "relu backward");
  expect_device(dx, x.device(), "relu backward dx");
  if (x.is_cpu()) relu_backward(x.numel(), x.cpu(), dy.cpu(), dx.cpu());
  else RADIUS_CUDA_ONLY(cuda::relu_backward(x.numel(), x.data(), dy.data(), dx.data()));
}

void Sigmoid::forward(const Tensor& x, Tensor& y, Mode) {
  expect_batch_io(x, y, shape_, shape_, "sigmoid");
  if (x.is_cpu()) sigmoid_forward(x.numel(), x.cpu(), y.cpu());
  else RADIUS_CUDA_ONLY(cuda::sigmoid_forward(x.numel(), x.data(), y.data()));
}

void Sigmoid::backward(const Tensor&, const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (!dx.defined()) return;
  expect_batch_io(y, dy, shape_, shape_, "sigmoid backward");
  expect_device(dx, y.device(), "sigmoid backward dx");
  if (y.is_cpu()) sigmoid_backward(y.numel(), y.cpu(), dy.cpu(), dx.cpu());
  else RADIUS_CUDA_ONLY(cuda::sigmoid_backward(y.numel(), y.data(), dy.data(), dx.data()));
}

}  // namespace radius
