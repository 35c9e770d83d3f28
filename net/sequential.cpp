#include "net/sequential.h"

#include <cmath>
#include <stdexcept>

#include "layers/activations.h"
#include "layers/registry.h"
#include "net/fusion.h"
#include "net/explain.h"
#include "tensor/device_memory.h"
#include "tensor/rng.h"

#ifdef RADIUS_WITH_CUDA
#include "kernels/activations.h"
#endif

namespace radius {

Sequential::Sequential(const Shape& input) : input_(input), shapes_{input} {
  if (input.rank() < 1 || input.numel() < 1) throw std::invalid_argument("model input shape " + input.str() + " is empty");
}

Layer& Sequential::add(std::unique_ptr<Layer> layer) {
  if (params_.defined()) throw std::logic_error("Sequential::add after init(): add every layer first");
  const size_t index = layers_.size();
  try {
    shapes_.push_back(layer->build(shapes_.back()));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("layer " + std::to_string(index) + " (" + layer->describe() + ") on input " +
                                shapes_.back().str() + ": " + e.what());
  }
  layers_.push_back(std::move(layer));
  return *layers_.back();
}

const Shape& Sequential::output_shape() const { return shapes_.back(); }

bool Sequential::has_sigmoid_head() const {
  return !layers_.empty() && kind_of(*layers_.back()).probability_head;
}

int64_t Sequential::num_params() const {
  int64_t total = 0;
  for (const auto& l : layers_)
    for (const ParamSpec& s : l->param_specs()) total += s.shape.numel();
  return total;
}

int64_t Sequential::num_buffers() const {
  int64_t total = 0;
  for (const auto& l : layers_)
    for (const BufferSpec& s : l->buffer_specs()) total += s.shape.numel();
  return total;
}

void Sequential::bind_views() {
  named_.clear();
  named_buffers_.clear();
  int64_t offset = 0, state_offset = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    std::vector<Param> bound;
    for (const ParamSpec& s : layers_[i]->param_specs()) {
      Param p{params_.slice(offset, s.shape), grads_.slice(offset, s.shape)};
      named_.push_back({std::to_string(i) + "." + s.name, p.value, p.grad});
      bound.push_back(p);
      offset += s.shape.numel();
    }
    layers_[i]->bind(std::move(bound));
    std::vector<Tensor> buffers;
    for (const BufferSpec& s : layers_[i]->buffer_specs()) {
      buffers.push_back(state_.slice(state_offset, s.shape));
      named_buffers_.push_back({std::to_string(i) + "." + s.name, buffers.back()});
      state_offset += s.shape.numel();
    }
    layers_[i]->bind_buffers(std::move(buffers));
  }
}

std::map<std::string, uint64_t> Sequential::counters() const {
  std::map<std::string, uint64_t> out;
  for (size_t i = 0; i < layers_.size(); ++i)
    for (const Counter& c : layers_[i]->counters()) out[std::to_string(i) + "." + c.name] = c.value;
  return out;
}

void Sequential::set_counters(const std::map<std::string, uint64_t>& counters) {
  const std::map<std::string, uint64_t> mine = this->counters();
  for (const auto& [name, value] : counters)
    if (!mine.count(name))
      throw std::invalid_argument("no layer has the counter '" + name + "' (the model's counters: " +
                                  std::to_string(mine.size()) + ")");
  for (const auto& [name, value] : counters) {
    const size_t dot = name.find('.');
    layers_.at(std::stoul(name.substr(0, dot)))->set_counter(name.substr(dot + 1), value);
  }
}

void Sequential::init(uint64_t seed, WeightInit scheme) {
  if (!params_.defined()) {
    // One allocation for all parameters, one for all gradients; layers get views.
    params_ = Tensor::zeros(Shape{num_params()}, device_);
    grads_ = Tensor::zeros(Shape{num_params()}, device_);
    state_ = Tensor::zeros(Shape{num_buffers()}, device_);
    bind_views();
  }
  reset_state();
  // Values are drawn on the host (Philox, in order) and copied once if the model
  // lives on a GPU, so a model initialises identically on every device.
  Tensor host = device_ == Device::cpu ? params_ : Tensor::zeros(params_.shape());
  int64_t offset = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Rng rng(seed, i);  // stream i: adding a layer does not change the others' draws
    for (const ParamSpec& s : layers_[i]->param_specs()) {
      Tensor v = host.slice(offset, s.shape);
      offset += s.shape.numel();
      fill_param(v, s, scheme, rng);
    }
    // Stochastic layers use streams above the init streams: 2^32 + i.
    layers_[i]->set_seed(seed, (uint64_t(1) << 32) + i);
  }
  if (device_ != Device::cpu)
    device_copy(params_.data(), device_, host.data(), Device::cpu, size_t(host.numel()) * sizeof(float));
  grads_.zero();
}

void Sequential::reset_state() {
  // Buffers start at their specs' values (a running variance at 1), set on the
  // host and copied once, as the parameters are.
  Tensor host = Tensor::zeros(state_.shape());
  int64_t offset = 0;
  for (const auto& l : layers_)
    for (const BufferSpec& s : l->buffer_specs()) {
      host.slice(offset, s.shape).fill(s.init);
      offset += s.shape.numel();
    }
  if (host.numel() > 0) state_.copy_from(device_ == Device::cpu ? host : host.to(device_));
}

void Sequential::to(Device device) {
  if (device == device_) return;
  if (params_.defined()) {
    params_ = params_.to(device);
    grads_ = grads_.to(device);
    state_ = state_.to(device);
    bind_views();
  }
  device_ = device;
  batch_ = -1;  // activations are reallocated on the new device at the next forward
  acts_.clear();
  delta_a_ = delta_b_ = x_ = Tensor();
}

void Sequential::set_fusion(bool enabled) {
  fusion_enabled_ = enabled;
  batch_ = -1;  // re-planned (and activations reallocated) at the next forward
}

void Sequential::ensure_buffers(int64_t n) {
  if (n == batch_) return;
  batch_ = n;
  std::vector<const LayerKind*> kinds;
  for (const auto& l : layers_) kinds.push_back(&kind_of(*l));
  fused_ = plan_conv_relu_fusion(kinds, fusion_enabled_);
  folds_ = plan_relu_backward_folds(kinds, fusion_enabled_);
  acts_.clear();
  int64_t largest = input_.numel();
  for (size_t i = 0; i < layers_.size(); ++i) {
    // An absorbed relu's output is its conv's output (same shape: relu keeps it).
    const bool absorbed = i > 0 && fused_[i - 1];
    acts_.push_back(absorbed ? acts_[i - 1] : Tensor::empty(shapes_[i + 1].with_batch(n), device_));
    largest = std::max(largest, shapes_[i + 1].numel());
  }
  delta_a_ = Tensor::empty(Shape{n * largest}, device_);
  delta_b_ = Tensor::empty(Shape{n * largest}, device_);
}

const Tensor& Sequential::forward(const Tensor& x, Mode mode) {
  if (!params_.defined()) throw std::logic_error("Sequential::forward before init()");
  if (x.rank() == 0) throw std::invalid_argument("model input has no batch dimension");
  expect_shape(x, input_.with_batch(x.dim(0)), "model input");
  if (x.device() != device_)
    throw std::invalid_argument("model input is on " + to_string(x.device()) + " but the model is on " +
                                to_string(device_) + "; move the batch with .to(Device::" + to_string(device_) + ")");
  ensure_buffers(x.dim(0));
  x_ = x;
  const Tensor* in = &x_;
  for (size_t i = 0; i < body_size(); ++i) {
    if (fused_[i]) {
      // conv2d + relu in one pass; acts_[i + 1] is acts_[i], so the relu is done too.
      kind_of(*layers_[i]).forward_with_relu(*layers_[i], *in, acts_[i]);
      in = &acts_[++i];
      continue;
    }
    layers_[i]->forward(*in, acts_[i], mode);
    in = &acts_[i];
  }
  return *in;
}

void Sequential::backward(const Tensor& dlogits) { backward_from(dlogits, 0); }

Tensor Sequential::backward_to(const Tensor& dlogits, size_t i) {
  if (i + 1 > body_size())
    throw std::out_of_range("Sequential::backward_to: layer " + std::to_string(i) + " is not run by forward() (" +
                            std::to_string(body_size()) + " body layers)");
  return backward_from(dlogits, i + 1);
}

const Tensor& Sequential::activation(size_t i) const {
  if (!x_.defined() || i >= body_size())
    throw std::out_of_range("Sequential::activation: no output of layer " + std::to_string(i) +
                            " (call forward() first; the sigmoid head has none)");
  return acts_[i];
}

Tensor Sequential::backward_from(const Tensor& dlogits, size_t first) {
  const size_t body = body_size();
  if (!x_.defined() || body == 0) throw std::logic_error("Sequential::backward without a forward");
  const int64_t n = batch_;
  expect_shape(dlogits, shapes_[body].with_batch(n), "model backward dlogits");
  expect_device(dlogits, device_, "model backward dlogits");
  Tensor dy = dlogits;
  bool into_a = true;  // dx goes to the ping-pong buffer that dy is not in
  for (size_t i = body; i-- > first;) {
    const Tensor& in = i == 0 ? x_ : acts_[i - 1];
    // The first layer's input needs no gradient: pass an undefined dx.
    Tensor dx = i == 0 ? Tensor() : (into_a ? delta_a_ : delta_b_).slice(0, shapes_[i].with_batch(n));
    into_a = !into_a;
    // The relu before layer i runs inside layer i's backward (net/fusion.h),
    // when that relu is part of this backward too; its dx is then this dx.
    const bool fold = folds_[i] && i - 1 >= first;
    if (fold) kind_of(*layers_[i]).backward_with_relu(*layers_[i], in, dy, dx);
    else layers_[i]->backward(in, acts_[i], dy, dx);
    dy = dx;
    if (fold) --i;
  }
  return dy;
}

void Sequential::zero_grad() { grads_.zero(); }

Tensor Sequential::predict(const Tensor& x) {
  Tensor out = forward(x, Mode::eval).clone();
  if (has_sigmoid_head()) {
    if (out.is_cpu()) sigmoid_forward(out.numel(), out.cpu(), out.cpu());
    else RADIUS_CUDA_ONLY(cuda::sigmoid_forward(out.numel(), out.data(), out.data()));
  }
  return out;
}

int64_t Sequential::forward_flops() const {
  int64_t total = 0;
  for (size_t i = 0; i < layers_.size(); ++i) total += layers_[i]->flops(shapes_[i]);
  return total;
}

// The table lives with the per-layer costs it prints (net/explain.h).
std::string Sequential::summary() const { return cost_table(*this); }

}  // namespace radius
