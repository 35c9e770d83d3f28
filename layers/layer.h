// The layer contract. Every layer in layers/ follows it; read this once.
//
//  build(in)     Called once, when the model is assembled, with the per-sample
//                input shape (no batch dimension, e.g. [C, H, W]). Validates it
//                (throws std::invalid_argument saying why) and returns the
//                per-sample output shape. Parameter shapes are fixed here.
//
//  param_specs() The parameter tensors the layer needs (name, shape, init).
//                The model allocates ALL parameters of all layers in one flat
//                buffer (and all gradients in another), then hands each layer
//                views into them with bind(). Optimizers step the flat buffers
//                in one pass; save/load writes them by name.
//
//  forward(x, y, mode)
//                x: [N, in...], y: [N, out...], both allocated by the model; the
//                layer overwrites every element of y. A layer may keep state that
//                backward needs (a dropout mask, pooling argmax, im2col scratch),
//                sized to N and reused across calls (no allocation per step once
//                N is stable). The mode matters to dropout (on in train only) and
//                to batch norm (batch statistics in train and calibrate; see Mode).
//
//  backward(x, y, dy, dx)
//                Called after forward with the SAME x and y (unchanged), and
//                dy = dLoss/dy. The layer
//                  - OVERWRITES dx = dLoss/dx (skipped when dx is undefined: the
//                    first layer's input needs no gradient), and
//                  - ACCUMULATES (+=) dLoss/dparam into its bound gradients.
//                Accumulating lets several backward passes (micro-batches) add
//                up; the model zeroes the gradient buffer once per step.
//                x, y, dy and dx are distinct buffers (no in-place), with one
//                exception, fusion (below): an absorbed relu gets x == y.
//
//  flops(in)     Forward floating-point operations per sample (a multiply-add
//                counts 2), for the model summary and the benchmarks.
//
//  buffer_specs()  The state hook: named NON-trainable tensors (a batch norm's
//                running mean and variance). The model allocates them in a flat
//                buffer of their own, hands views back with bind_buffers(),
//                saves them with the weights and in checkpoints by name
//                ("3.running_mean"), and optimizers never see them.
//  counters() / set_counter(name, v)
//                Host-side integer state (dropout's RNG call counter): saved in
//                checkpoints by name ("5.calls") and restored on --resume.
//
// Everything a kind needs beyond this contract (its spec keyword and keys, its
// backward FLOPs, what it fuses with, its role for Grad-CAM) is one entry in
// layers/registry.cpp; no other code asks which concrete class a layer is.
//
// Devices: a layer's math is a pair of free functions (forward/backward) on raw
// pointers, templated on the scalar type so the gradient checker can run them in
// double. The CPU versions live beside the layer; CUDA versions live in kernels/
// (namespace radius::cuda, same arguments, device pointers) and the layer
// dispatches on x.device():
//
//   if (x.is_cpu()) relu_forward(n, x.cpu(), y.cpu());
//   else RADIUS_CUDA_ONLY(cuda::relu_forward(n, x.data(), y.data()));
//
// All tensors of one call (x, y, dy, dx, the parameters, the layer's scratch)
// are on one device; nothing copies between devices here.
//
// Fusion (net/fusion.h): the model may run a layer's forward together with the
// next layer's and skip the latter (today conv2d + relu, through
// Conv2D::forward_relu; and in backward, a relu inside the max pooling after it).
// The rule that makes the forward fusion safe: the fused pair's output
// buffer is shared by both layers, so the first layer's y then holds the
// second's output; allowed only when the first layer's backward never reads y
// (conv2d: true) and the second's backward gives the same dx from its output
// as from its input (relu: relu(z) > 0 exactly when z > 0). backward() is
// called for both layers exactly as without fusion.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace radius {

// train: the training forward pass. eval: inference (dropout off, batch norm from its
// running statistics). calibrate: re-estimating running statistics (fit's
// recalibration before each validation, net/fit.h): layers that keep them normalise
// by the batch's statistics and replace the running ones by the plain average over
// the calibrate batches since the last other forward; every other layer acts as in eval.
enum class Mode { train, eval, calibrate };

enum class Init {
  zeros,
  ones,            // a batch norm's scale
  glorot_uniform,  // U(-a, a), a = sqrt(6 / (fan_in + fan_out)): the Keras default
};

struct ParamSpec {
  std::string name;  // "weight" or "bias"
  Shape shape;
  // zeros and ones are constants in every scheme; glorot_uniform asks for the
  // model's weight scheme (layers/init.h).
  Init init = Init::zeros;
  int64_t fan_in = 0, fan_out = 0;  // for glorot
};

// A parameter as a layer sees it: views into the model's flat buffers.
struct Param {
  Tensor value;
  Tensor grad;
};

// A non-trainable state tensor (the state hook): filled with `init` by the model.
struct BufferSpec {
  std::string name;  // "running_mean"
  Shape shape;
  float init = 0.0f;
};

// Host-side integer state, saved by name in checkpoints.
struct Counter {
  std::string name;  // "calls"
  uint64_t value = 0;
};

class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string kind() const = 0;      // spec keyword: "conv2d", "relu", ...
  virtual std::string describe() const = 0;  // one line for summaries and errors

  virtual Shape build(const Shape& in) = 0;
  virtual std::vector<ParamSpec> param_specs() const { return {}; }
  void bind(std::vector<Param> params) { params_ = std::move(params); }

  // The state hook (see the top of this file).
  virtual std::vector<BufferSpec> buffer_specs() const { return {}; }
  void bind_buffers(std::vector<Tensor> buffers) { buffers_ = std::move(buffers); }
  virtual std::vector<Counter> counters() const { return {}; }
  virtual void set_counter(const std::string& name, uint64_t value);  // throws for a name counters() lacks

  virtual void forward(const Tensor& x, Tensor& y, Mode mode) = 0;
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) = 0;

  virtual int64_t flops(const Shape& /*in*/) const { return 0; }

  // Stochastic layers draw from Philox(seed, stream); the model assigns streams.
  virtual void set_seed(uint64_t /*seed*/, uint64_t /*stream*/) {}

 protected:
  Tensor& weight() { return params_.at(0).value; }
  Tensor& weight_grad() { return params_.at(0).grad; }
  Tensor& bias() { return params_.at(1).value; }
  Tensor& bias_grad() { return params_.at(1).grad; }
  bool has_bias() const { return params_.size() > 1; }
  // Parameters (and their gradients) must be on x's device: the model moves them together.
  void expect_params_on(Device device, const std::string& who) const;
  Tensor& buffer(size_t i) { return buffers_.at(i); }  // in buffer_specs() order

  std::vector<Param> params_;
  std::vector<Tensor> buffers_;
};

// Shared checks for layer implementations.
// Throws unless x is [N, in...] and y is [N, out...] on the same device.
void expect_batch_io(const Tensor& x, const Tensor& y, const Shape& in, const Shape& out, const std::string& who);
// Throws std::invalid_argument naming both devices unless t (if defined) is on `device`.
void expect_device(const Tensor& t, Device device, const std::string& what);
[[noreturn]] void unreachable_without_cuda(const char* where);

// The CUDA branch of a dispatch, compiled only in a CUDA build. In a CPU-only
// build no CUDA tensor can exist, so the branch is unreachable (and throws).
#ifdef RADIUS_WITH_CUDA
#define RADIUS_CUDA_ONLY(...) { __VA_ARGS__; }
#else
#define RADIUS_CUDA_ONLY(...) { ::radius::unreachable_without_cuda(__func__); }
#endif

}  // namespace radius
