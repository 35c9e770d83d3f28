#include "layers/batchnorm.h"

#include <cstdio>
#include <stdexcept>

#include "kernels/formulas.h"

namespace radius {

template <class T>
void batchnorm_statistics(int64_t n, int64_t c, int64_t hw, const T* x, bool train, T momentum, T eps,
                          T* running_mean, T* running_var, T* mean, T* invstd) {
  if (!train) {
    for (int64_t k = 0; k < c; ++k) {
      mean[k] = running_mean[k];
      invstd[k] = formula::bn_invstd(running_var[k], eps);
    }
    return;
  }
  const int64_t m = n * hw;
  // One channel per iteration, its sums in a fixed order: the same bits on any thread count.
#pragma omp parallel for schedule(static) if (n * c * hw >= (1 << 16))
  for (int64_t k = 0; k < c; ++k) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i)
      for (const T* p = x + (i * c + k) * hw; p < x + (i * c + k + 1) * hw; ++p) sum += double(*p);
    const double mu = sum / double(m);
    double squares = 0;  // two passes: no E[x^2] - mean^2 cancellation
    for (int64_t i = 0; i < n; ++i)
      for (const T* p = x + (i * c + k) * hw; p < x + (i * c + k + 1) * hw; ++p) squares += (double(*p) - mu) * (double(*p) - mu);
    const double var = squares / double(m);
    mean[k] = T(mu);
    invstd[k] = formula::bn_invstd(T(var), eps);
    running_mean[k] = formula::bn_running(running_mean[k], T(mu), momentum);
    running_var[k] = formula::bn_running(running_var[k], T(m > 1 ? var * double(m) / double(m - 1) : var), momentum);
  }
}

template <class T>
void batchnorm_normalize(int64_t n, int64_t c, int64_t hw, const T* x, const T* mean, const T* invstd,
                         const T* gamma, const T* beta, T* y) {
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw >= (1 << 16))
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < c; ++k) {
      const int64_t base = (i * c + k) * hw;
      for (int64_t p = 0; p < hw; ++p)
        y[base + p] = formula::bn_normalize(x[base + p], mean[k], invstd[k], gamma[k], beta[k]);
    }
}

template <class T>
void batchnorm_backward(int64_t n, int64_t c, int64_t hw, const T* x, const T* mean, const T* invstd, const T* gamma,
                        const T* dy, bool batch_statistics, T* dx, T* dgamma, T* dbeta) {
  const int64_t m = n * hw;
#pragma omp parallel for schedule(static) if (n * c * hw >= (1 << 16))
  for (int64_t k = 0; k < c; ++k) {
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = (i * c + k) * hw; p < (i * c + k + 1) * hw; ++p) {
        sum_dy += double(dy[p]);
        sum_dy_xhat += double(dy[p]) * (double(x[p]) - double(mean[k])) * double(invstd[k]);
      }
    if (dgamma) dgamma[k] += T(sum_dy_xhat);
    if (dbeta) dbeta[k] += T(sum_dy);
    if (!dx) continue;
    const T scale = gamma[k] * invstd[k];
    // Eval: the statistics are constants, so their gradient terms vanish.
    const T mean_dy = batch_statistics ? T(sum_dy / double(m)) : T(0);
    const T mean_dy_xhat = batch_statistics ? T(sum_dy_xhat / double(m)) : T(0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = (i * c + k) * hw; p < (i * c + k + 1) * hw; ++p)
        dx[p] = formula::bn_backward_dx(dy[p], (x[p] - mean[k]) * invstd[k], scale, mean_dy, mean_dy_xhat);
  }
}

#define RADIUS_INSTANTIATE(T)                                                                                     \
  template void batchnorm_statistics<T>(int64_t, int64_t, int64_t, const T*, bool, T, T, T*, T*, T*, T*);       \
  template void batchnorm_normalize<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, const T*,       \
                                       const T*, T*);                                                         \
  template void batchnorm_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, const T*,        \
                                      const T*, bool, T*, T*, T*);
RADIUS_INSTANTIATE(float)
RADIUS_INSTANTIATE(double)
#undef RADIUS_INSTANTIATE

BatchNorm2D::BatchNorm2D(float momentum, float epsilon) : momentum_(momentum), epsilon_(epsilon) {
  if (!(momentum >= 0.0f && momentum < 1.0f))
    throw std::invalid_argument("batchnorm2d: momentum must be in [0, 1), got " + std::to_string(momentum));
  if (!(epsilon > 0.0f)) throw std::invalid_argument("batchnorm2d: epsilon must be positive");
}

std::string BatchNorm2D::describe() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "batchnorm2d momentum %g eps %g", double(momentum_), double(epsilon_));
  return buf;
}

Shape BatchNorm2D::build(const Shape& in) {
  if (in.rank() != 3) throw std::invalid_argument("batchnorm2d needs [C, H, W] input, got " + in.str());
  return shape_ = in;
}

std::vector<ParamSpec> BatchNorm2D::param_specs() const {
  return {{"weight", Shape{shape_[0]}, Init::ones}, {"bias", Shape{shape_[0]}, Init::zeros}};
}

std::vector<BufferSpec> BatchNorm2D::buffer_specs() const {
  return {{"running_mean", Shape{shape_[0]}, 0.0f}, {"running_var", Shape{shape_[0]}, 1.0f}};
}

void BatchNorm2D::forward(const Tensor& x, Tensor& y, Mode mode) {
  expect_batch_io(x, y, shape_, shape_, "batchnorm2d");
  expect_params_on(x.device(), "batchnorm2d");
  const int64_t n = x.dim(0), c = shape_[0], hw = shape_[1] * shape_[2];
  if (n == 0) return;  // no images: no statistics (0 / 0 would poison the running averages)
  if (!mean_.defined() || mean_.device() != x.device()) {
    mean_ = Tensor::empty(Shape{c}, x.device());
    invstd_ = Tensor::empty(Shape{c}, x.device());
    scratch_ = Tensor::empty(Shape{2 * c}, x.device());
  }
  batch_statistics_ = mode != Mode::eval;
  // Calibrating: the k-th batch in a row enters the running averages with weight 1 / (k + 1).
  const float momentum = mode == Mode::calibrate ? float(double(calibrated_) / double(calibrated_ + 1)) : momentum_;
  calibrated_ = mode == Mode::calibrate ? calibrated_ + 1 : 0;
  if (x.is_cpu()) {
    batchnorm_statistics(n, c, hw, x.cpu(), batch_statistics_, momentum, epsilon_, buffer(0).cpu(), buffer(1).cpu(),
                         mean_.cpu(), invstd_.cpu());
    batchnorm_normalize(n, c, hw, x.cpu(), mean_.cpu(), invstd_.cpu(), weight().cpu(), bias().cpu(), y.cpu());
  } else {
    RADIUS_CUDA_ONLY(cuda::batchnorm_statistics(n, c, hw, x.data(), batch_statistics_, momentum, epsilon_,
                                                buffer(0).data(), buffer(1).data(), mean_.data(), invstd_.data());
                     cuda::batchnorm_normalize(n, c, hw, x.data(), mean_.data(), invstd_.data(), weight().data(),
                                               bias().data(), y.data()));
  }
}

void BatchNorm2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  expect_batch_io(x, dy, shape_, shape_, "batchnorm2d backward");
  expect_device(dx, x.device(), "batchnorm2d backward dx");
  if (x.dim(0) == 0) return;  // nothing to add, nothing to write
  if (!mean_.defined() || mean_.device() != x.device())
    throw std::logic_error("batchnorm2d backward without a matching forward");
  const int64_t n = x.dim(0), c = shape_[0], hw = shape_[1] * shape_[2];
  float* dx_data = dx.defined() ? dx.data() : nullptr;
  if (x.is_cpu()) {
    batchnorm_backward(n, c, hw, x.cpu(), mean_.cpu(), invstd_.cpu(), weight().cpu(), dy.cpu(), batch_statistics_,
                       dx_data, weight_grad().cpu(), bias_grad().cpu());
  } else {
    RADIUS_CUDA_ONLY(cuda::batchnorm_backward(n, c, hw, x.data(), mean_.data(), invstd_.data(), weight().data(),
                                              dy.data(), batch_statistics_, dx_data, weight_grad().data(),
                                              bias_grad().data(), scratch_.data()));
  }
}

}  // namespace radius
