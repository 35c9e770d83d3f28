// Conv2D: 2-D convolution (cross-correlation, as in every DL framework), NCHW.
//
//   x [N, C, H, W]  *  w [K, C, KH, KW]  + b [K]  ->  y [N, K, OH, OW]
//
// Weight layout is PyTorch's [out, in, kh, kw] (Keras stores [kh, kw, in, out]).
// Padding follows Keras: "valid" = none, OH = floor((H - KH) / S) + 1;
// "same" = OH = ceil(H / S), the total padding max((OH-1)S + KH - H, 0) split
// with the extra row/column at the bottom/right (TensorFlow's rule).
//
// The CPU path lowers each image to a matrix (im2col) so that the convolution is
// a GEMM:  y_n [K, OH*OW] = w [K, C*KH*KW] x col_n [C*KH*KW, OH*OW] + b.
// Backward reuses the same lowering:
//   dw    += dy_n [K, OH*OW] x col_n^T            (backward-filter)
//   db    += row sums of dy_n
//   dcol   = w^T x dy_n;  dx_n = col2im(dcol)      (backward-data)
// The lowering is done a block of output pixels at a time (a few hundred
// columns of col_n), sized so the block stays in L2 cache while its GEMM runs:
// a whole col_n is megabytes (6 MB for the paper model's second conv), and
// writing it out and reading it back cost more than the multiply. Measured on
// our 2-core machine: 1.2-1.8x faster forward convolutions.
#pragma once
#include "layers/geometry.h"
#include "layers/layer.h"

namespace radius {

// ---- CPU reference (T = float or double); n = batch size ---------------------
// Lowering of output pixels [p0, p1) of one image (pixel p = oi * OW + oj):
// x_n [C, H, W] -> col [C*KH*KW, p1 - p0]; zeros where padded.
template <class T> void im2col(const Conv2dGeom& g, const T* x_n, int64_t p0, int64_t p1, T* col);
// Its adjoint: accumulates col [C*KH*KW, p1 - p0] back into dx_n [C, H, W].
template <class T> void col2im_add(const Conv2dGeom& g, const T* col, int64_t p0, int64_t p1, T* dx_n);
// The same two, one element at a time with a bounds test each: the plain
// reference the fast versions above (bounds worked out once per row-run) are
// tested against, bit for bit.
template <class T> void im2col_reference(const Conv2dGeom& g, const T* x_n, int64_t p0, int64_t p1, T* col);
template <class T> void col2im_add_reference(const Conv2dGeom& g, const T* col, int64_t p0, int64_t p1, T* dx_n);
// Output pixels per lowered block for this geometry (the L2 budget above).
int64_t conv2d_block_pixels(const Conv2dGeom& g);

// Which GEMM the float convolutions run on: our packed SGEMM (layers/gemm.h,
// the default: the weights are packed once per call, not once per block) or
// Eigen's, kept as the reference the tests and benchmarks compare against.
// Double precision (the gradient checks) always uses Eigen. Process-wide.
enum class ConvGemm { packed, eigen };
void set_conv2d_gemm(ConvGemm which);
ConvGemm conv2d_gemm();

// b may be null; relu: y = relu(conv + b), applied to each block of the output
// while it is in cache (the fused conv + relu, net/fusion.h), the same bits as a
// separate relu pass after it.
template <class T>
void conv2d_forward(const Conv2dGeom& g, int64_t n, const T* x, const T* w, const T* b, T* y, bool relu = false);
// dx may be null (no input gradient); dw and db (nullable) are accumulated into.
template <class T>
void conv2d_backward(const Conv2dGeom& g, int64_t n, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);

class Conv2D final : public Layer {
 public:
  Conv2D(int64_t filters, int64_t kernel_h, int64_t kernel_w, int64_t stride = 1, Padding padding = Padding::valid,
         bool use_bias = true);
  std::string kind() const override { return "conv2d"; }
  std::string describe() const override;
  Shape build(const Shape& in) override;
  std::vector<ParamSpec> param_specs() const override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  // y = max(conv(x) + b, 0): this layer followed by a ReLU, in one pass (on CUDA in
  // the SGEMM's epilogue, on the CPU per output block while it is in cache). Used by
  // Sequential's fusion plan (net/fusion.h); backward() is the same either way.
  void forward_relu(const Tensor& x, Tensor& y);
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  int64_t flops(const Shape& in) const override;
  const Conv2dGeom& geom() const { return g_; }

 private:
  void convolve(const Tensor& x, Tensor& y, bool relu);

  int64_t filters_, kernel_h_, kernel_w_, stride_;
  Padding padding_;
  bool use_bias_;
  Conv2dGeom g_;
};

}  // namespace radius
