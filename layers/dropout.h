// Dropout (inverted): in training each element is kept with probability 1 - p
// and scaled by 1 / (1 - p), so evaluation is the identity and needs no rescale.
//   train: y = x * mask,  mask_i in {0, 1/(1-p)};   eval: y = x
//   backward: dx = dy * mask
//
// The mask comes from Philox(seed, stream) with a counter that advances per
// training call, so it is reproducible from the seed and independent of threads
// (and a CUDA kernel can draw the very same mask).
#pragma once
#include "layers/layer.h"

namespace radius {

// ---- CPU reference (T = float or double) --------------------------------------
// mask[i] for element i of training call `call`: uniform u_i from Philox block
// (call << 32 | i / 4), word i % 4, under (seed, stream); kept if u_i >= rate.
template <class T> void dropout_mask(int64_t n, float rate, uint64_t seed, uint64_t stream, uint64_t call, T* mask);
template <class T> void dropout_apply(int64_t n, const T* x, const T* mask, T* y);  // y = x * mask (also backward)

class Dropout final : public Layer {
 public:
  explicit Dropout(float rate);
  std::string kind() const override { return "dropout"; }
  std::string describe() const override;
  Shape build(const Shape& in) override { return shape_ = in; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  void set_seed(uint64_t seed, uint64_t stream) override;
  float rate() const { return rate_; }
  // "calls": training forwards so far, the RNG counter (the state hook saves it).
  std::vector<Counter> counters() const override { return {{"calls", calls_}}; }
  void set_counter(const std::string& name, uint64_t value) override;

 private:
  float rate_;
  Shape shape_;
  uint64_t seed_ = 0, stream_ = 0, calls_ = 0;
  bool last_train_ = false;   // whether the last forward applied a mask
  Tensor mask_;  // the last training mask, on x's device
};

}  // namespace radius
