// Sequential: a stack of layers, its flat parameter buffers, and the passes.
//
//   Sequential m(Shape{3, 150, 150});          // per-sample input [C, H, W]
//   m.add(std::make_unique<Conv2D>(32, 3, 3)); // each layer is built on add()
//   ...
//   m.init(seed);                               // glorot / zeros from the seed
//   const Tensor& logits = m.forward(x, Mode::train);   // x [N, C, H, W]
//   m.zero_grad(); m.backward(dlogits);          // gradients accumulate (layer.h)
//
// Parameters: all layers' weights live in ONE flat buffer and all gradients in
// another (params(), grads()); layer i's tensors are views named "i.weight" and
// "i.bias" (PyTorch's nn.Sequential state_dict names, when the layer lists match).
//
// State (the layer contract's state hook): non-trainable buffers live in a third
// flat buffer, state(), named like parameters ("3.running_mean"); they move with
// the model, are saved with the weights, and optimizers never see them. Host-side
// counters (dropout's RNG call count) are read and restored by name ("5.calls").
//
// Output head: if the last layer is a Sigmoid, forward() stops before it and
// returns logits (the loss works on logits: see bce.h); predict() applies it.
//
// Devices: a model lives on one device (the CPU until to() moves it). to(d)
// moves the flat parameter and gradient buffers (one copy each) and re-binds
// every layer's views; activations and scratch are then allocated on d, and
// forward() expects its input there (it never copies a batch).
//
// Fusion (net/fusion.h): a conv2d followed by a relu runs as one pass
// (Conv2D::forward_relu) and the relu's output is the conv's output buffer, so
// activation(i) of such a conv2d holds relu(z), not z (so net/health.h's statistics
// of that conv2d are post-ReLU; Grad-CAM reads the relu's, unaffected). Planned whenever the
// activations are (re)allocated; set_fusion(false) turns it off (the reference).
// On both devices, a relu's backward runs inside the max pooling after it
// (net/fusion.h), with the same bits.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers/init.h"
#include "layers/layer.h"

namespace radius {

struct NamedParam {
  std::string name;  // "0.weight"
  Tensor value;      // view into params()
  Tensor grad;       // view into grads()
};

struct NamedBuffer {
  std::string name;  // "3.running_mean"
  Tensor value;      // view into state()
};

class Sequential {
 public:
  explicit Sequential(const Shape& input);  // per-sample input shape, e.g. [3, 150, 150]

  // Builds the layer on the current output shape; throws std::invalid_argument
  // naming the layer (index and description) and the reason if it cannot.
  Layer& add(std::unique_ptr<Layer> layer);

  // Allocates the flat buffers (first call) and initialises every parameter from
  // `seed` (layer i draws from Philox stream i); seeds stochastic layers. Weights
  // use `scheme` (layers/init.h; Glorot, the Keras default, unless asked); biases are 0.
  void init(uint64_t seed, WeightInit scheme = WeightInit::glorot_uniform);

  // Moves parameters and gradients to `device` (explicit copies) and re-binds the
  // layers' views. Create optimizers after moving (their state follows the params).
  void to(Device device);
  Device device() const { return device_; }

  // Fusion on/off (on by default). fused_with_next(i):
  // layer i's forward also does layer i + 1's (valid after the first forward);
  // folds_relu_backward(i): layer i's backward also does layer i - 1's (a relu).
  void set_fusion(bool enabled);
  bool fused_with_next(size_t i) const { return i < fused_.size() && fused_[i]; }
  bool folds_relu_backward(size_t i) const { return i < folds_.size() && folds_[i]; }

  const Shape& input_shape() const { return input_; }
  const Shape& output_shape() const;   // per sample, after the last layer
  size_t size() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_.at(i); }
  const Layer& layer(size_t i) const { return *layers_.at(i); }
  const Shape& layer_output(size_t i) const { return shapes_.at(i + 1); }  // per sample
  bool has_sigmoid_head() const;

  int64_t num_params() const;
  Tensor& params() { return params_; }
  const Tensor& params() const { return params_; }
  Tensor& grads() { return grads_; }
  const std::vector<NamedParam>& named_params() const { return named_; }

  // Non-trainable state (allocated and filled by init(), like the parameters).
  int64_t num_buffers() const;  // elements
  Tensor& state() { return state_; }
  const Tensor& state() const { return state_; }
  const std::vector<NamedBuffer>& named_buffers() const { return named_buffers_; }
  // Every layer's counters as "i.name" -> value, and setting them back (throws
  // std::invalid_argument naming a counter that no layer has).
  std::map<std::string, uint64_t> counters() const;
  void set_counters(const std::map<std::string, uint64_t>& counters);

  // x [N, input...] -> logits [N, out...] (the head, if any, is not applied).
  // The returned reference stays valid until the next forward. The model keeps a
  // handle to x (no copy): x must not change until backward() has run.
  const Tensor& forward(const Tensor& x, Mode mode);
  // dlogits: dLoss/dlogits, same shape as forward's result. Accumulates into grads().
  void backward(const Tensor& dlogits);
  void zero_grad();

  // ---- introspection, for explanation tools (Grad-CAM: net/gradcam.h) -------
  // The output of layer i from the last forward(), [N, layer_output(i)...], on the
  // model's device; valid until the next forward(). Only layers forward() ran (not
  // the sigmoid head) have one.
  const Tensor& activation(size_t i) const;
  // backward() that stops early: runs layers body-1 .. i+1 only and returns
  // dLoss/d(output of layer i), [N, layer_output(i)...] (a view of the model's
  // scratch, or dlogits itself when i is the last body layer), valid until the
  // next backward()/forward(). Parameter gradients of the layers it ran
  // accumulate into grads() as in backward(); layers 0..i are not touched.
  Tensor backward_to(const Tensor& dlogits, size_t i);
  // Probabilities (eval mode, head applied), a fresh tensor.
  Tensor predict(const Tensor& x);

  int64_t forward_flops() const;  // per sample, all layers
  std::string summary() const;    // a table like Keras' model.summary(), with costs: net/explain.h

 private:
  void ensure_buffers(int64_t n);
  void reset_state();  // every buffer to its BufferSpec::init
  Tensor backward_from(const Tensor& dlogits, size_t first);  // runs layers body-1 .. first
  void bind_views();  // layer params, buffers, named_ and named_buffers_ as views into the flat buffers
  size_t body_size() const { return has_sigmoid_head() ? layers_.size() - 1 : layers_.size(); }

  Shape input_;
  Device device_ = Device::cpu;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> shapes_;  // shapes_[0] = input, shapes_[i + 1] = output of layer i
  Tensor params_, grads_, state_;
  std::vector<NamedParam> named_;
  std::vector<NamedBuffer> named_buffers_;
  // Per-batch buffers, reallocated only when the batch size changes.
  int64_t batch_ = -1;
  Tensor x_;                         // forward's input, for backward
  std::vector<Tensor> acts_;         // acts_[i] = output of layer i
  Tensor delta_a_, delta_b_;         // ping-pong buffers for dLoss/d(activation)
  bool fusion_enabled_ = true;
  std::vector<bool> fused_;          // the plan: fused_[i] = layer i also runs layer i + 1
  std::vector<bool> folds_;          // folds_[i] = layer i's backward also runs relu i - 1's
};

}  // namespace radius
