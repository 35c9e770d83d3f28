#include "layers/pool2d.h"

#include <stdexcept>

#include "kernels/formulas.h"

#ifdef RADIUS_WITH_CUDA
#include "kernels/pool2d.h"
#endif

namespace radius {

Pool2dGeom Pool2dGeom::make(int64_t c, int64_t h, int64_t w, int64_t ph, int64_t pw, int64_t stride) {
  if (ph < 1 || pw < 1 || stride < 1) throw std::invalid_argument("pooling: pool size and stride must be positive");
  if (h < ph || w < pw)
    throw std::invalid_argument("pooling: " + std::to_string(ph) + "x" + std::to_string(pw) + " window needs at least " +
                                std::to_string(ph) + "x" + std::to_string(pw) + " input, got " + std::to_string(h) +
                                "x" + std::to_string(w));
  return {c, h, w, ph, pw, stride, (h - ph) / stride + 1, (w - pw) / stride + 1};
}

// One (image, channel) plane, any window and stride: the window rule (first
// maximum wins ties) is kernels/formulas.h's, shared with the CUDA kernel.
template <class T> void maxpool_plane(const Pool2dGeom& g, const T* in, T* out, int32_t* arg) {
  for (int64_t oi = 0; oi < g.oh; ++oi)
    for (int64_t oj = 0; oj < g.ow; ++oj) {
      const int64_t best = formula::maxpool_argmax(g, in, oi, oj);
      out[oi * g.ow + oj] = in[best];
      arg[oi * g.ow + oj] = int32_t(best);
    }
}

// The paper model's 2x2 stride-2 case with the window unrolled: the same
// comparisons in the same order as maxpool_plane (so the same winner, ties and
// NaNs included), without the index arithmetic of the generic loops, which made
// the first pooling cost 2.5x the ReLU before it on the same data.
template <class T> void maxpool2x2_plane(const Pool2dGeom& g, const T* in, T* out, int32_t* arg) {
  for (int64_t oi = 0; oi < g.oh; ++oi) {
    const T* r0 = in + 2 * oi * g.w;
    const T* r1 = r0 + g.w;
    const int32_t row0 = int32_t(2 * oi * g.w), row1 = int32_t(row0 + g.w);
    for (int64_t oj = 0; oj < g.ow; ++oj) {
      const int64_t j = 2 * oj;
      T best = r0[j];
      int32_t at = row0 + int32_t(j);
      if (r0[j + 1] > best) best = r0[j + 1], at = row0 + int32_t(j + 1);
      if (r1[j] > best) best = r1[j], at = row1 + int32_t(j);
      if (r1[j + 1] > best) best = r1[j + 1], at = row1 + int32_t(j + 1);
      out[oi * g.ow + oj] = best;
      arg[oi * g.ow + oj] = at;
    }
  }
}

// Every (image, channel) plane is independent: threads split the planes.
template <class T>
void maxpool2d_forward_impl(const Pool2dGeom& g, int64_t n, const T* x, T* y, int32_t* argmax, bool fast) {
  const bool two_by_two = fast && g.ph == 2 && g.pw == 2 && g.stride == 2;
  const int64_t planes = n * g.c;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* in = x + p * g.h * g.w;
    T* out = y + p * g.oh * g.ow;
    int32_t* arg = argmax + p * g.oh * g.ow;
    if (two_by_two) maxpool2x2_plane(g, in, out, arg);
    else maxpool_plane(g, in, out, arg);
  }
}

template <class T> void maxpool2d_forward(const Pool2dGeom& g, int64_t n, const T* x, T* y, int32_t* argmax) {
  maxpool2d_forward_impl(g, n, x, y, argmax, true);
}
template <class T>
void maxpool2d_forward_reference(const Pool2dGeom& g, int64_t n, const T* x, T* y, int32_t* argmax) {
  maxpool2d_forward_impl(g, n, x, y, argmax, false);
}

template <class T>
void maxpool2d_backward(const Pool2dGeom& g, int64_t n, const T* dy, const int32_t* argmax, T* dx, const T* relu_out) {
  const int64_t planes = n * g.c;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    T* grad = dx + p * g.h * g.w;
    std::fill(grad, grad + g.h * g.w, T(0));
    const T* d = dy + p * g.oh * g.ow;
    const int32_t* arg = argmax + p * g.oh * g.ow;
    for (int64_t o = 0; o < g.oh * g.ow; ++o) grad[arg[o]] += d[o];  // += : windows may overlap
    if (!relu_out) continue;
    // The ReLU's backward, at the winners only: everywhere else grad is 0 and
    // stays 0. A winner of two windows is masked twice, which changes nothing.
    const T* out = relu_out + p * g.h * g.w;
    for (int64_t o = 0; o < g.oh * g.ow; ++o) grad[arg[o]] = formula::relu_grad(out[arg[o]], grad[arg[o]]);
  }
}

template <class T> void avgpool2d_forward(const Pool2dGeom& g, int64_t n, const T* x, T* y) {
  const int64_t planes = n * g.c;
  const T scale = T(1) / T(g.ph * g.pw);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T* in = x + p * g.h * g.w;
    T* out = y + p * g.oh * g.ow;
    for (int64_t oi = 0; oi < g.oh; ++oi)
      for (int64_t oj = 0; oj < g.ow; ++oj) out[oi * g.ow + oj] = formula::avgpool_window_sum(g, in, oi, oj) * scale;
  }
}

template <class T> void avgpool2d_backward(const Pool2dGeom& g, int64_t n, const T* dy, T* dx) {
  const int64_t planes = n * g.c;
  const T scale = T(1) / T(g.ph * g.pw);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    T* grad = dx + p * g.h * g.w;
    std::fill(grad, grad + g.h * g.w, T(0));
    const T* d = dy + p * g.oh * g.ow;
    for (int64_t oi = 0; oi < g.oh; ++oi)
      for (int64_t oj = 0; oj < g.ow; ++oj) {
        const T share = d[oi * g.ow + oj] * scale;
        for (int64_t ki = 0; ki < g.ph; ++ki)
          for (int64_t kj = 0; kj < g.pw; ++kj) grad[formula::pool_input_index(g, oi, oj, ki, kj)] += share;
      }
  }
}

#define RADIUS_INSTANTIATE(T)                                                                        \
  template void maxpool2d_forward<T>(const Pool2dGeom&, int64_t, const T*, T*, int32_t*);            \
  template void maxpool2d_forward_reference<T>(const Pool2dGeom&, int64_t, const T*, T*, int32_t*);  \
  template void maxpool2d_backward<T>(const Pool2dGeom&, int64_t, const T*, const int32_t*, T*, const T*); \
  template void avgpool2d_forward<T>(const Pool2dGeom&, int64_t, const T*, T*);                      \
  template void avgpool2d_backward<T>(const Pool2dGeom&, int64_t, const T*, T*);
RADIUS_INSTANTIATE(float)
RADIUS_INSTANTIATE(double)
#undef RADIUS_INSTANTIATE

// ---- the layer -----------------------------------------------------------------

Pool2D::Pool2D(PoolKind type, int64_t pool_h, int64_t pool_w, int64_t stride)
    : kind_(type), pool_h_(pool_h), pool_w_(pool_w), stride_(stride == 0 ? pool_h : stride) {
  if (pool_h < 1 || pool_w < 1 || stride_ < 1) throw std::invalid_argument(kind() + ": pool size and stride must be positive");
}

std::string Pool2D::describe() const {
  return kind() + " " + std::to_string(pool_h_) + "x" + std::to_string(pool_w_) + " stride " + std::to_string(stride_);
}

Shape Pool2D::build(const Shape& in) {
  if (in.rank() != 3) throw std::invalid_argument(kind() + " needs [C, H, W] input, got " + in.str());
  g_ = Pool2dGeom::make(in[0], in[1], in[2], pool_h_, pool_w_, stride_);
  if (g_.h * g_.w > INT32_MAX) throw std::invalid_argument(kind() + ": input plane too large");
  return Shape{g_.c, g_.oh, g_.ow};
}

void Pool2D::forward(const Tensor& x, Tensor& y, Mode) {
  expect_batch_io(x, y, Shape{g_.c, g_.h, g_.w}, Shape{g_.c, g_.oh, g_.ow}, kind());
  const int64_t n = x.dim(0);
  if (kind_ == PoolKind::max) {
    if (!argmax_.defined() || argmax_.numel() != y.numel() || argmax_.device() != y.device())
      argmax_ = Tensor::empty(y.shape(), y.device());
    if (x.is_cpu()) maxpool2d_forward(g_, n, x.cpu(), y.cpu(), argmax_data());
    else RADIUS_CUDA_ONLY(cuda::maxpool2d_forward(g_, n, x.data(), y.data(), argmax_data()));
  } else {
    if (x.is_cpu()) avgpool2d_forward(g_, n, x.cpu(), y.cpu());
    else RADIUS_CUDA_ONLY(cuda::avgpool2d_forward(g_, n, x.data(), y.data()));
  }
}

void Pool2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) { backward_impl(x, dy, dx, false); }

void Pool2D::backward_relu(const Tensor& x, const Tensor& dy, Tensor& dx) {
  if (kind_ != PoolKind::max) throw std::logic_error(kind() + ": only max pooling runs a ReLU's backward in its own");
  backward_impl(x, dy, dx, true);
}

void Pool2D::backward_impl(const Tensor& x, const Tensor& dy, Tensor& dx, bool relu) {
  if (!dx.defined()) return;
  expect_batch_io(x, dy, Shape{g_.c, g_.h, g_.w}, Shape{g_.c, g_.oh, g_.ow}, kind() + " backward");
  expect_same_shape(x, dx, kind() + " backward dx");
  expect_device(dx, x.device(), kind() + " backward dx");
  const int64_t n = x.dim(0);
  if (kind_ == PoolKind::max) {
    if (!argmax_.defined() || argmax_.numel() != dy.numel() || argmax_.device() != dy.device())
      throw std::logic_error(kind() + " backward without a matching forward");
    if (x.is_cpu()) maxpool2d_backward(g_, n, dy.cpu(), argmax_data(), dx.cpu(), relu ? x.cpu() : nullptr);
    else RADIUS_CUDA_ONLY(cuda::maxpool2d_backward(g_, n, dy.data(), argmax_data(), dx.data(), relu ? x.data() : nullptr));
  } else {
    if (x.is_cpu()) avgpool2d_backward(g_, n, dy.cpu(), dx.cpu());
    else RADIUS_CUDA_ONLY(cuda::avgpool2d_backward(g_, n, dy.data(), dx.data()));
  }
}

int64_t Pool2D::flops(const Shape&) const { return g_.c * g_.oh * g_.ow * g_.ph * g_.pw; }

}  // namespace radius
