// BatchNorm2d (Ioffe & Szegedy, 2015) over NCHW: each channel c is normalised by
// statistics over its N*H*W values, then scaled and shifted by learned gamma, beta.
//
//   train:  mean_c, var_c of the batch (var biased: divided by m = N*H*W)
//           y = gamma_c * (x - mean_c) * invstd_c + beta_c,   invstd_c = 1 / sqrt(var_c + eps)
//           running_mean_c = momentum * running_mean_c + (1 - momentum) * mean_c
//           running_var_c  = momentum * running_var_c  + (1 - momentum) * var_c * m / (m - 1)
//   eval:   the same y with running_mean_c and running_var_c in place of the batch's.
//   calibrate (Mode::calibrate): as train, with momentum k / (k + 1) for the k-th
//           calibrate batch in a row (k from 0), so after K batches the running
//           statistics are the plain average of those K batches' (Wu & Johnson 2021,
//           "precise batch norm"): no memory of older weights or of augmented batches.
//
// Defaults are Keras' (momentum 0.99, epsilon 1e-3: the paper's framework). The
// running variance is updated with the unbiased batch variance, as both Keras's
// fused kernel and PyTorch do; PyTorch's momentum=0.1 is our momentum 0.9, and its
// eps=1e-5 is epsilon=1e-5 here. Parameters use PyTorch's state_dict names:
// "weight" (gamma, starts at 1), "bias" (beta, 0); state buffers "running_mean"
// (0) and "running_var" (1) go through the layer contract's state hook, so
// checkpoints and weight files carry them and optimizers never touch them.
//
// Backward (xhat = (x - mean) * invstd; sums over a channel's m values):
//   dbeta  += sum dy,   dgamma += sum dy * xhat
//   train:  dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
//           (the batch statistics depend on x: these are their terms)
//   eval:   dx = gamma * invstd * dy
// Every per-channel sum runs in double in a fixed order (CPU: one channel per
// loop iteration, whatever the thread count; CUDA: one block per channel and a
// fixed tree), so results do not depend on the number of threads.
#pragma once
#include "layers/layer.h"

namespace radius {

// ---- CPU reference (T = float or double); x is [n, c, hw] ---------------------
// mean, invstd [c] of the batch (train; the running buffers are updated), or from
// the running buffers (eval).
template <class T>
void batchnorm_statistics(int64_t n, int64_t c, int64_t hw, const T* x, bool train, T momentum, T eps,
                          T* running_mean, T* running_var, T* mean, T* invstd);
template <class T>
void batchnorm_normalize(int64_t n, int64_t c, int64_t hw, const T* x, const T* mean, const T* invstd,
                         const T* gamma, const T* beta, T* y);
// dx (nullable) is overwritten; dgamma and dbeta are accumulated into.
// batch_statistics: whether mean/invstd came from this batch (train) or not (eval).
template <class T>
void batchnorm_backward(int64_t n, int64_t c, int64_t hw, const T* x, const T* mean, const T* invstd, const T* gamma,
                        const T* dy, bool batch_statistics, T* dx, T* dgamma, T* dbeta);

namespace cuda {  // kernels/batchnorm.cu: the same contracts on device pointers
void batchnorm_statistics(int64_t n, int64_t c, int64_t hw, const float* x, bool train, float momentum, float eps,
                          float* running_mean, float* running_var, float* mean, float* invstd);
void batchnorm_normalize(int64_t n, int64_t c, int64_t hw, const float* x, const float* mean, const float* invstd,
                         const float* gamma, const float* beta, float* y);
// scratch: 2 * c floats of device memory.
void batchnorm_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* mean, const float* invstd,
                        const float* gamma, const float* dy, bool batch_statistics, float* dx, float* dgamma,
                        float* dbeta, float* scratch);
}  // namespace cuda

class BatchNorm2D final : public Layer {
 public:
  explicit BatchNorm2D(float momentum = 0.99f, float epsilon = 1e-3f);
  std::string kind() const override { return "batchnorm2d"; }
  std::string describe() const override;
  Shape build(const Shape& in) override;
  std::vector<ParamSpec> param_specs() const override;
  std::vector<BufferSpec> buffer_specs() const override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  int64_t flops(const Shape& in) const override { return 7 * in.numel(); }  // statistics 4, normalise 3
  float epsilon() const { return epsilon_; }

 private:
  float momentum_, epsilon_;
  Shape shape_;
  Tensor mean_, invstd_;  // [C] of the last forward, kept for backward
  Tensor scratch_;        // CUDA backward's per-channel sums
  bool batch_statistics_ = false;
  int64_t calibrated_ = 0;  // calibrate batches in a row (Mode::calibrate)
};

}  // namespace radius
