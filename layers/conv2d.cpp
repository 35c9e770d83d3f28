#include "layers/conv2d.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "kernels/formulas.h"
#include "layers/gemm.h"
#include "tensor/eigen.h"
#include "tensor/parallel.h"

#ifdef RADIUS_WITH_CUDA
#include "kernels/conv2d.h"
#endif

namespace radius {


Conv2dGeom Conv2dGeom::make(int64_t c, int64_t h, int64_t w, int64_t k, int64_t kh, int64_t kw, int64_t stride,
                            Padding padding) {
  if (c < 1 || h < 1 || w < 1 || k < 1 || kh < 1 || kw < 1 || stride < 1)
    throw std::invalid_argument("conv2d: sizes and stride must be positive");
  Conv2dGeom g{c, h, w, k, kh, kw, stride, 0, 0, 0, 0};
  if (padding == Padding::valid) {
    if (h < kh || w < kw)
      throw std::invalid_argument("conv2d: " + std::to_string(kh) + "x" + std::to_string(kw) + " kernel needs at least " +
                                  std::to_string(kh) + "x" + std::to_string(kw) + " input, got " + std::to_string(h) +
                                  "x" + std::to_string(w));
    g.oh = (h - kh) / stride + 1;
    g.ow = (w - kw) / stride + 1;
  } else {
    g.oh = (h + stride - 1) / stride;
    g.ow = (w + stride - 1) / stride;
    g.pad_top = std::max<int64_t>((g.oh - 1) * stride + kh - h, 0) / 2;
    g.pad_left = std::max<int64_t>((g.ow - 1) * stride + kw - w, 0) / 2;
  }
  return g;
}

// col row r = (ci, ki, kj); col column p - p0 = output pixel (oi, oj);
// value x[ci, oi*S + ki - pt, oj*S + kj - pl], or 0 in the padding.
// visit(row, p - p0, run, ii, oj) walks the block one output row-run at a time.
template <class F> void for_each_run(const Conv2dGeom& g, int64_t p0, int64_t p1, F&& visit) {
  for (int64_t ci = 0; ci < g.c; ++ci)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const int64_t row = (ci * g.kh + ki) * g.kw + kj;
        int64_t oi = p0 / g.ow, oj = p0 % g.ow;
        for (int64_t p = p0; p < p1; p += g.ow - oj, oj = 0, ++oi) {
          const int64_t run = std::min(p1 - p, g.ow - oj);
          visit(ci, kj, row, p - p0, run, oi * g.stride + ki - g.pad_top, oj);
        }
      }
}

// The simple per-element lowering: the reference the fast one below is tested against.
template <class T> void im2col_reference(const Conv2dGeom& g, const T* x_n, int64_t p0, int64_t p1, T* col) {
  const int64_t block = p1 - p0;
  for_each_run(g, p0, p1, [&](int64_t ci, int64_t kj, int64_t row, int64_t at, int64_t run, int64_t ii, int64_t oj) {
    T* out = col + row * block + at;
    if (ii < 0 || ii >= g.h) {
      std::fill(out, out + run, T(0));
      return;
    }
    const T* in = x_n + (ci * g.h + ii) * g.w;
    for (int64_t t = 0; t < run; ++t) {
      const int64_t jj = (oj + t) * g.stride + kj - g.pad_left;
      out[t] = (jj >= 0 && jj < g.w) ? in[jj] : T(0);
    }
  });
}

template <class T> void col2im_add_reference(const Conv2dGeom& g, const T* col, int64_t p0, int64_t p1, T* dx_n) {
  const int64_t block = p1 - p0;
  for_each_run(g, p0, p1, [&](int64_t ci, int64_t kj, int64_t row, int64_t at, int64_t run, int64_t ii, int64_t oj) {
    if (ii < 0 || ii >= g.h) return;
    const T* in = col + row * block + at;
    T* out = dx_n + (ci * g.h + ii) * g.w;
    for (int64_t t = 0; t < run; ++t) {
      const int64_t jj = (oj + t) * g.stride + kj - g.pad_left;
      if (jj >= 0 && jj < g.w) out[jj] += in[t];
    }
  });
}

// The columns t in [lo, hi) of a row-run whose input column
// jj(t) = first + t * S lies inside [0, W): computed once per run, so the copy
// loops below have no bounds test per element and vectorize. On the paper model
// this took a training step from 1.69 to 1.23 CPU s (docs/performance.md).
struct InsideRun {
  int64_t first, lo, hi;
};
inline InsideRun inside_run(const Conv2dGeom& g, int64_t kj, int64_t oj, int64_t run) {
  const int64_t first = oj * g.stride + kj - g.pad_left;
  const int64_t lo = std::min(run, first >= 0 ? 0 : (-first + g.stride - 1) / g.stride);  // jj(t) >= 0
  const int64_t last = g.w - 1 - first;  // jj(t) <= W - 1  <=>  t <= last / S
  const int64_t hi = last < 0 ? lo : std::clamp(last / g.stride + 1, lo, run);
  return {first, lo, hi};
}

template <class T> void im2col(const Conv2dGeom& g, const T* x_n, int64_t p0, int64_t p1, T* col) {
  const int64_t block = p1 - p0, s = g.stride;
  for_each_run(g, p0, p1, [&](int64_t ci, int64_t kj, int64_t row, int64_t at, int64_t run, int64_t ii, int64_t oj) {
    T* out = col + row * block + at;
    if (ii < 0 || ii >= g.h) {
      std::fill(out, out + run, T(0));
      return;
    }
    const auto [first, lo, hi] = inside_run(g, kj, oj, run);
    const T* in = x_n + (ci * g.h + ii) * g.w + first + lo * s;  // in[u * S] = x[ci, ii, jj(lo + u)]
    std::fill(out, out + lo, T(0));
    if (s == 1) std::copy(in, in + (hi - lo), out + lo);
    else
      for (int64_t u = 0; u < hi - lo; ++u) out[lo + u] = in[u * s];
    std::fill(out + hi, out + run, T(0));
  });
}

template <class T> void col2im_add(const Conv2dGeom& g, const T* col, int64_t p0, int64_t p1, T* dx_n) {
  const int64_t block = p1 - p0, s = g.stride;
  for_each_run(g, p0, p1, [&](int64_t ci, int64_t kj, int64_t row, int64_t at, int64_t run, int64_t ii, int64_t oj) {
    if (ii < 0 || ii >= g.h) return;
    const auto [first, lo, hi] = inside_run(g, kj, oj, run);
    const T* in = col + row * block + at + lo;
    T* out = dx_n + (ci * g.h + ii) * g.w + first + lo * s;  // out[u * S] = dx[ci, ii, jj(lo + u)]
    // A plain local for the trip count: clang (14) cannot use a structured binding inside an omp region.
    const int64_t n = hi - lo;
    if (s == 1) {
#pragma omp simd
      for (int64_t u = 0; u < n; ++u) out[u] += in[u];
    } else {
      for (int64_t u = 0; u < n; ++u) out[u * s] += in[u];
    }
  });
}

// ~64K floats (256 KB) of col per block: half of a 512 KB L2, the rest for w and y.
// (Re-measured with the per-layer benchmark, bench/bench_layers.cpp: budgets of
// 128K and 256K floats, and equal-sized blocks, were within the noise of this.)
int64_t conv2d_block_pixels(const Conv2dGeom& g) {
  const int64_t block = std::clamp<int64_t>(65536 / g.patch(), 64, 1024) / 16 * 16;
  return std::min(block, g.pixels());
}

// The sum of x[0, n) in an order fixed by n alone: 16 running lanes (one
// AVX-512 register, two AVX2 ones), then the lanes added in order. Eigen's
// sum() starts its vectors at the first aligned address, so the bias gradient's
// last bits depended on where the batch happened to lie in memory.
template <class T> T fixed_order_sum(const T* x, int64_t n) {
  constexpr int64_t kLanes = 16;
  T lane[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lane[l] += x[j + l];
  for (int64_t l = 0; j < n; ++j, ++l) lane[l] += x[j];
  T sum = 0;
  for (const T v : lane) sum += v;
  return sum;
}

// A block of columns [p0, p1) of a row-major [rows, pixels] image matrix.
template <class T>
using Block = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;
template <class T>
using ConstBlock = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;

namespace {
std::atomic<ConvGemm> g_conv_gemm{ConvGemm::packed};

// The weights packed once per layer call for our GEMM: W [K, patch] as is
// (forward) or transposed (backward-data). Null where Eigen's path runs
// (double precision, or the reference switch): the GEMM helpers below then
// multiply through Eigen.
template <class T> const PackedA* pack_weights(PackedA& buf, Trans t, const Conv2dGeom& g, const T* w) {
  if constexpr (std::is_same_v<T, float>) {
    if (conv2d_gemm() == ConvGemm::packed) {
      if (t == Trans::no) buf.pack(Trans::no, g.k, g.patch(), w, g.patch());
      else buf.pack(Trans::yes, g.patch(), g.k, w, g.patch());
      return &buf;
    }
  }
  return nullptr;
}

// The three GEMMs of one pixel block of nb columns; ld = the row stride of the
// image's [K, pixels] output (or output gradient) matrix.
// y_b [K, nb] = W [K, patch] x col [patch, nb]
template <class T>
void gemm_forward(const Conv2dGeom& g, const PackedA* wp, const T* w, const T* col, int64_t nb, T* yb, int64_t ld) {
  if constexpr (std::is_same_v<T, float>)
    if (wp) return sgemm_packed(*wp, Trans::no, nb, col, nb, 0.0f, yb, ld);
  Block<T>(yb, g.k, nb, Eigen::OuterStride<>(ld)).noalias() =
      ConstRowMatMap<T>(w, g.k, g.patch()) * ConstRowMatMap<T>(col, g.patch(), nb);
}
// dcol [patch, nb] = W^T [patch, K] x dy_b [K, nb]
template <class T>
void gemm_backward_data(const Conv2dGeom& g, const PackedA* wtp, const T* w, const T* dyb, int64_t ld, int64_t nb,
                        T* dcol) {
  if constexpr (std::is_same_v<T, float>)
    if (wtp) return sgemm_packed(*wtp, Trans::no, nb, dyb, ld, 0.0f, dcol, nb);
  RowMatMap<T>(dcol, g.patch(), nb).noalias() =
      ConstRowMatMap<T>(w, g.k, g.patch()).transpose() * ConstBlock<T>(dyb, g.k, nb, Eigen::OuterStride<>(ld));
}
// dw [K, patch] += dy_b [K, nb] x col^T [nb, patch]
template <class T>
void gemm_backward_filter(const Conv2dGeom& g, bool ours, const T* dyb, int64_t ld, const T* col, int64_t nb, T* dw) {
  if constexpr (std::is_same_v<T, float>)
    if (ours) return sgemm(Trans::no, Trans::yes, g.k, g.patch(), nb, dyb, ld, col, nb, 1.0f, dw, g.patch());
  RowMatMap<T>(dw, g.k, g.patch()).noalias() +=
      ConstBlock<T>(dyb, g.k, nb, Eigen::OuterStride<>(ld)) * ConstRowMatMap<T>(col, g.patch(), nb).transpose();
}
}  // namespace

void set_conv2d_gemm(ConvGemm which) { g_conv_gemm = which; }
ConvGemm conv2d_gemm() { return g_conv_gemm; }

// The epilogue of one block of y [K, nb] (row stride = the image's pixels):
// + bias, then the ReLU when fused, in one pass while the block is in cache.
template <class T> void bias_relu_block(const Conv2dGeom& g, const T* b, bool relu, int64_t nb, T* yb) {
  for (int64_t k = 0; k < g.k; ++k) {
    T* row = yb + k * g.pixels();
    const T bias = b ? b[k] : T(0);
    if (b && relu)
      for (int64_t j = 0; j < nb; ++j) row[j] = formula::relu(row[j] + bias);
    else if (b)
      for (int64_t j = 0; j < nb; ++j) row[j] += bias;
    else
      for (int64_t j = 0; j < nb; ++j) row[j] = formula::relu(row[j]);
  }
}

// Images are independent: threads take whole images; each GEMM then runs on one
// core (neither GEMM nests its own threads inside an OpenMP region). The packed
// weights are shared, read-only, by all threads.
template <class T>
void conv2d_forward(const Conv2dGeom& g, int64_t n, const T* x, const T* w, const T* b, T* y, bool relu) {
  const int64_t in_size = g.c * g.h * g.w, out_size = g.k * g.pixels(), step = conv2d_block_pixels(g);
  PackedA packed;
  const PackedA* wp = pack_weights(packed, Trans::no, g, w);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    thread_local std::vector<T> col_buf;
    T* col = scratch(col_buf, g.patch() * step);
    for (int64_t p0 = 0; p0 < g.pixels(); p0 += step) {
      const int64_t p1 = std::min(p0 + step, g.pixels());
      im2col(g, x + i * in_size, p0, p1, col);
      T* yb = y + i * out_size + p0;
      gemm_forward(g, wp, w, col, p1 - p0, yb, g.pixels());
      if (b || relu) bias_relu_block(g, b, relu, p1 - p0, yb);
    }
  }
}

// The batch's parameter gradients are summed in fixed chunks of images
// (tensor/parallel.h): each chunk into its own partial, in image order, by
// whichever thread runs it; then the partials are added in chunk order. The
// result is the same bits on any thread count. Up to kConvGradChunks partials:
// enough for 16 threads to share a batch, few enough that the partials of the
// paper model's widest layer (128 x 1152 weights) stay under 10 MB.
constexpr int64_t kConvGradChunks = 16;

template <class T>
void conv2d_backward(const Conv2dGeom& g, int64_t n, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  const int64_t in_size = g.c * g.h * g.w, out_size = g.k * g.pixels(), step = conv2d_block_pixels(g);
  const int64_t wsize = g.k * g.patch(), psize = wsize + g.k;  // one partial: dW then db
  const FixedChunks chunks(n, kConvGradChunks);
  thread_local std::vector<T> partial_buf;  // the calling thread's, reused across calls
  T* partial = (dw || db) ? scratch(partial_buf, chunks.count * psize) : nullptr;
  PackedA packed;
  const PackedA* wtp = dx ? pack_weights(packed, Trans::yes, g, w) : nullptr;
  // Backward-filter on our GEMM only where it measured faster: not for a shallow
  // patch (the first layer's 27 = 3x3x3), where dW [K, 27] fills under 85 % of
  // the 16-wide tiles and Eigen was ~20 % faster (bench_gemm conv1 backward_filter).
  const bool ours = std::is_same_v<T, float> && conv2d_gemm() == ConvGemm::packed && g.patch() >= 64;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks.count; ++c) {
    thread_local std::vector<T> col_buf;
    T* col = scratch(col_buf, g.patch() * step);
    T* dw_c = partial ? partial + c * psize : nullptr;
    T* db_c = dw_c ? dw_c + wsize : nullptr;
    if (dw_c) std::fill(dw_c, dw_c + psize, T(0));
    for (int64_t i = chunks.begin(c); i < chunks.end(c); ++i) {
      T* dxi = dx ? dx + i * in_size : nullptr;
      if (dxi) std::fill(dxi, dxi + in_size, T(0));
      for (int64_t p0 = 0; p0 < g.pixels(); p0 += step) {
        const int64_t p1 = std::min(p0 + step, g.pixels()), nb = p1 - p0;
        const T* dyb = dy + i * out_size + p0;
        if (dw_c) {
          im2col(g, x + i * in_size, p0, p1, col);
          gemm_backward_filter(g, ours, dyb, g.pixels(), col, nb, dw_c);
          for (int64_t k = 0; k < g.k; ++k) db_c[k] += fixed_order_sum(dyb + k * g.pixels(), nb);
        }
        if (dxi) {
          gemm_backward_data(g, wtp, w, dyb, g.pixels(), nb, col);  // col now holds dcol
          col2im_add(g, col, p0, p1, dxi);
        }
      }
    }
  }
  if (!partial) return;
  // The batch's gradient = chunk 0 + chunk 1 + ... in chunk order, then added to
  // what dW and db held; each element is independent, so threads split them freely.
#pragma omp parallel for schedule(static) if (psize * chunks.count >= (1 << 16))
  for (int64_t j = 0; j < psize; ++j) {
    T* to = j < wsize ? (dw ? dw + j : nullptr) : (db ? db + (j - wsize) : nullptr);
    if (!to) continue;
    T sum = partial[j];
    for (int64_t c = 1; c < chunks.count; ++c) sum += partial[c * psize + j];
    *to += sum;
  }
}

#define RADIUS_INSTANTIATE(T)                                                                             \
  template void im2col_reference<T>(const Conv2dGeom&, const T*, int64_t, int64_t, T*);                   \
  template void col2im_add_reference<T>(const Conv2dGeom&, const T*, int64_t, int64_t, T*);               \
  template void im2col<T>(const Conv2dGeom&, const T*, int64_t, int64_t, T*);                             \
  template void col2im_add<T>(const Conv2dGeom&, const T*, int64_t, int64_t, T*);                         \
  template void conv2d_forward<T>(const Conv2dGeom&, int64_t, const T*, const T*, const T*, T*, bool);    \
  template void conv2d_backward<T>(const Conv2dGeom&, int64_t, const T*, const T*, const T*, T*, T*, T*);
RADIUS_INSTANTIATE(float)
RADIUS_INSTANTIATE(double)
#undef RADIUS_INSTANTIATE

// ---- the layer -----------------------------------------------------------------

Conv2D::Conv2D(int64_t filters, int64_t kernel_h, int64_t kernel_w, int64_t stride, Padding padding, bool use_bias)
    : filters_(filters), kernel_h_(kernel_h), kernel_w_(kernel_w), stride_(stride), padding_(padding),
      use_bias_(use_bias) {
  if (filters < 1 || kernel_h < 1 || kernel_w < 1 || stride < 1)
    throw std::invalid_argument("conv2d: filters, kernel and stride must be positive");
}

std::string Conv2D::describe() const {
  return "conv2d " + std::to_string(filters_) + " " + std::to_string(kernel_h_) + "x" + std::to_string(kernel_w_) +
         " stride " + std::to_string(stride_) + (padding_ == Padding::same ? " same" : " valid") +
         (use_bias_ ? "" : " no-bias");
}

Shape Conv2D::build(const Shape& in) {
  if (in.rank() != 3) throw std::invalid_argument("conv2d needs [C, H, W] input, got " + in.str());
  g_ = Conv2dGeom::make(in[0], in[1], in[2], filters_, kernel_h_, kernel_w_, stride_, padding_);
  return Shape{g_.k, g_.oh, g_.ow};
}

std::vector<ParamSpec> Conv2D::param_specs() const {
  // Glorot fans for a conv kernel (Keras): receptive field times channels in / out.
  const int64_t field = g_.kh * g_.kw;
  std::vector<ParamSpec> specs{{"weight", Shape{g_.k, g_.c, g_.kh, g_.kw}, Init::glorot_uniform, field * g_.c,
                                field * g_.k}};
  if (use_bias_) specs.push_back({"bias", Shape{g_.k}, Init::zeros});
  return specs;
}

void Conv2D::forward(const Tensor& x, Tensor& y, Mode) { convolve(x, y, /*relu=*/false); }

void Conv2D::forward_relu(const Tensor& x, Tensor& y) { convolve(x, y, /*relu=*/true); }

void Conv2D::convolve(const Tensor& x, Tensor& y, bool relu) {
  const char* what = relu ? "conv2d+relu" : "conv2d";
  expect_batch_io(x, y, Shape{g_.c, g_.h, g_.w}, Shape{g_.k, g_.oh, g_.ow}, what);
  expect_params_on(x.device(), what);
  if (x.is_cpu())
    conv2d_forward(g_, x.dim(0), x.cpu(), weight().cpu(), has_bias() ? bias().cpu() : nullptr, y.cpu(), relu);
  else
    RADIUS_CUDA_ONLY(cuda::conv2d_forward(g_, x.dim(0), x.data(), weight().data(),
                                          has_bias() ? bias().data() : nullptr, y.data(), relu));
}

void Conv2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  expect_batch_io(x, dy, Shape{g_.c, g_.h, g_.w}, Shape{g_.k, g_.oh, g_.ow}, "conv2d backward");
  expect_params_on(x.device(), "conv2d backward");
  expect_device(dx, x.device(), "conv2d backward dx");
  if (x.is_cpu())
    conv2d_backward(g_, x.dim(0), x.cpu(), weight().cpu(), dy.cpu(), dx.defined() ? dx.cpu() : nullptr,
                    weight_grad().cpu(), has_bias() ? bias_grad().cpu() : nullptr);
  else
    RADIUS_CUDA_ONLY(cuda::conv2d_backward(g_, x.dim(0), x.data(), weight().data(), dy.data(),
                                           dx.defined() ? dx.data() : nullptr, weight_grad().data(),
                                           has_bias() ? bias_grad().data() : nullptr));
}

int64_t Conv2D::flops(const Shape&) const {
  return 2 * g_.k * g_.patch() * g_.pixels() + (use_bias_ ? g_.k * g_.pixels() : 0);
}

}  // namespace radius
