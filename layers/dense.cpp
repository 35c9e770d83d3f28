#include "layers/dense.h"

#include <stdexcept>
#include <type_traits>
#include <vector>

#include "layers/gemm.h"
#include "tensor/eigen.h"

#ifdef RADIUS_WITH_CUDA
#include "kernels/dense.h"
#endif

namespace radius {


// float: our GEMM, its columns split among threads (layers/gemm.h), so the sums
// over the features and over the batch run in one order on any thread count.
// Eigen's threaded GEMM chooses its depth blocking from the thread count, and so
// gave other bits on 1 and 2 threads. double (the gradient checks) stays on Eigen.
template <class T>
void dense_forward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* b, T* y) {
  RowMatMap<T> ym(y, n, out);
  if constexpr (std::is_same_v<T, float>)
    sgemm_parallel(Trans::no, Trans::yes, n, out, in, x, in, w, in, 0.0f, y, out);  // y = x W^T
  else
    ym.noalias() = ConstRowMatMap<T>(x, n, in) * ConstRowMatMap<T>(w, out, in).transpose();
  if (b) ym.rowwise() += Eigen::Map<const ColVec<T>>(b, out).transpose();
}

template <class T>
void dense_backward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  if constexpr (std::is_same_v<T, float>) {
    if (dx) sgemm_parallel(Trans::no, Trans::no, n, in, out, dy, out, w, in, 0.0f, dx, in);  // dx = dy W
    if (dw) sgemm_parallel(Trans::yes, Trans::no, out, in, n, dy, out, x, in, 1.0f, dw, in);  // dW += dy^T x
  } else {
    ConstRowMatMap<T> dym(dy, n, out);
    if (dx) RowMatMap<T>(dx, n, in).noalias() = dym * ConstRowMatMap<T>(w, out, in);
    if (dw) RowMatMap<T>(dw, out, in).noalias() += dym.transpose() * ConstRowMatMap<T>(x, n, in);
  }
  if (!db || n == 0) return;
  // db += the sum of dy's rows, in row (sample) order.
  std::vector<T> sum(dy, dy + out);
  for (int64_t i = 1; i < n; ++i)
    for (int64_t o = 0; o < out; ++o) sum[size_t(o)] += dy[i * out + o];
  for (int64_t o = 0; o < out; ++o) db[o] += sum[size_t(o)];
}

#define RADIUS_INSTANTIATE(T)                                                                             \
  template void dense_forward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*);            \
  template void dense_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, T*, T*);
RADIUS_INSTANTIATE(float)
RADIUS_INSTANTIATE(double)
#undef RADIUS_INSTANTIATE

Dense::Dense(int64_t units, bool use_bias) : units_(units), use_bias_(use_bias) {
  if (units < 1) throw std::invalid_argument("dense: units must be positive, got " + std::to_string(units));
}

std::string Dense::describe() const {
  return "dense " + std::to_string(units_) + (use_bias_ ? "" : " no-bias");
}

Shape Dense::build(const Shape& in) {
  if (in.rank() != 1)
    throw std::invalid_argument("dense needs a flat [features] input, got " + in.str() + " (add a flatten layer)");
  in_ = in[0];
  return Shape{units_};
}

std::vector<ParamSpec> Dense::param_specs() const {
  std::vector<ParamSpec> specs{{"weight", Shape{units_, in_}, Init::glorot_uniform, in_, units_}};
  if (use_bias_) specs.push_back({"bias", Shape{units_}, Init::zeros});
  return specs;
}

void Dense::forward(const Tensor& x, Tensor& y, Mode) {
  expect_batch_io(x, y, Shape{in_}, Shape{units_}, "dense");
  expect_params_on(x.device(), "dense");
  if (x.is_cpu())
    dense_forward(x.dim(0), in_, units_, x.cpu(), weight().cpu(), has_bias() ? bias().cpu() : nullptr, y.cpu());
  else
    RADIUS_CUDA_ONLY(cuda::dense_forward(x.dim(0), in_, units_, x.data(), weight().data(),
                                         has_bias() ? bias().data() : nullptr, y.data()));
}

void Dense::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  expect_batch_io(x, dy, Shape{in_}, Shape{units_}, "dense backward");
  expect_params_on(x.device(), "dense backward");
  expect_device(dx, x.device(), "dense backward dx");
  if (x.is_cpu())
    dense_backward(x.dim(0), in_, units_, x.cpu(), weight().cpu(), dy.cpu(), dx.defined() ? dx.cpu() : nullptr,
                   weight_grad().cpu(), has_bias() ? bias_grad().cpu() : nullptr);
  else
    RADIUS_CUDA_ONLY(cuda::dense_backward(x.dim(0), in_, units_, x.data(), weight().data(), dy.data(),
                                          dx.defined() ? dx.data() : nullptr, weight_grad().data(),
                                          has_bias() ? bias_grad().data() : nullptr));
}

}  // namespace radius
