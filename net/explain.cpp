#include "net/explain.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "layers/registry.h"
#include "tensor/device_memory.h"
#include "tensor/rng.h"

namespace radius {

namespace {

int64_t param_count(const Layer& layer) {
  int64_t n = 0;
  for (const ParamSpec& s : layer.param_specs()) n += s.shape.numel();
  return n;
}

// 0.472 GFLOP, 844.2 kFLOP: three significant digits or so, in the largest unit under the value.
std::string with_prefix(double v, const char* unit) {
  const char* const prefixes[] = {"", "k", "M", "G", "T"};
  int p = 0;
  while (p < 4 && std::abs(v) >= 1000.0) v /= 1000.0, ++p;
  char s[48];
  std::snprintf(s, sizeof s, "%.4g %s%s", v, prefixes[p], unit);
  return s;
}

// Layer i's per-sample input: the model input, or the previous layer's output.
const Shape& layer_input(const Sequential& model, size_t i) {
  return i == 0 ? model.input_shape() : model.layer_output(i - 1);
}

}  // namespace

int64_t backward_flops(const Layer& layer, const Shape& in, const Shape& out, bool input_gradient) {
  return kind_of(layer).backward_flops(layer, in, out, input_gradient);  // layers/registry.cpp
}

std::vector<LayerCost> layer_costs(const Sequential& model) {
  std::vector<LayerCost> costs;
  for (size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    LayerCost c;
    c.index = i;
    c.kind = layer.kind();
    c.description = layer.describe();
    c.input = layer_input(model, i);
    c.output = model.layer_output(i);
    c.params = param_count(layer);
    c.forward_flops = layer.flops(c.input);
    c.backward_flops = backward_flops(layer, c.input, c.output, i > 0);
    c.activation_bytes = c.output.numel() * int64_t(sizeof(float));
    c.param_bytes = c.params * int64_t(sizeof(float));
    costs.push_back(std::move(c));
  }
  return costs;
}

TrainingMemory training_memory(const Sequential& model) {
  TrainingMemory m;
  int64_t largest = model.input_shape().numel(), floats = model.input_shape().numel();
  for (size_t i = 0; i < model.size(); ++i) {
    floats += model.layer_output(i).numel();
    largest = std::max(largest, model.layer_output(i).numel());
  }
  m.per_sample = (floats + 2 * largest) * int64_t(sizeof(float));
  m.fixed = (4 * model.num_params() + model.num_buffers()) * int64_t(sizeof(float));
  return m;
}

std::string cost_table(const Sequential& model) {
  const char* const row = "%-4s %-32s %-15s %-15s %10s %13s %13s %11s\n";
  char line[256];
  std::string s;
  std::snprintf(line, sizeof line, row, "#", "layer", "input", "output", "params", "fwd FLOPs", "bwd FLOPs", "act bytes");
  s += line;
  s += std::string(120, '-') + "\n";
  LayerCost total;
  for (const LayerCost& c : layer_costs(model)) {
    std::snprintf(line, sizeof line, row, std::to_string(c.index).c_str(), c.description.c_str(), c.input.str().c_str(),
                  c.output.str().c_str(), std::to_string(c.params).c_str(), std::to_string(c.forward_flops).c_str(),
                  std::to_string(c.backward_flops).c_str(), std::to_string(c.activation_bytes).c_str());
    s += line;
    total.params += c.params;
    total.forward_flops += c.forward_flops;
    total.backward_flops += c.backward_flops;
    total.activation_bytes += c.activation_bytes;
  }
  s += std::string(120, '-') + "\n";
  const double mb = 1e6, params_mb = double(total.params) * sizeof(float) / mb;
  std::snprintf(line, sizeof line,
                "total parameters: %lld (%.2f MB float32; training holds 4x = %.2f MB: weights, gradients, 2 Adam moments)\n",
                (long long)total.params, params_mb, 4 * params_mb);
  s += line;
  std::snprintf(line, sizeof line, "forward: %s per sample; backward: %s per sample (a multiply-add counts 2)\n",
                with_prefix(double(total.forward_flops), "FLOP").c_str(), with_prefix(double(total.backward_flops), "FLOP").c_str());
  s += line;
  std::snprintf(line, sizeof line, "activations: %.2f MB per sample (every layer's output, kept for backward)\n",
                double(total.activation_bytes) / mb);
  s += line;
  if (model.has_sigmoid_head()) s += "output head: sigmoid (training uses the logits)\n";
  return s;
}

namespace {

// One output buffer per layer for a batch of n, on the model's device.
std::vector<Tensor> output_buffers(const Sequential& model, int64_t n) {
  std::vector<Tensor> outs;
  for (size_t i = 0; i < model.size(); ++i) outs.push_back(Tensor::empty(model.layer_output(i).with_batch(n), model.device()));
  return outs;
}

void check_input(const Sequential& model, const Tensor& x) {
  if (!model.params().defined()) throw std::logic_error("explain: call init() (or load weights) first");
  if (x.rank() == 0) throw std::invalid_argument("explain: the input has no batch dimension");
  expect_shape(x, model.input_shape().with_batch(x.dim(0)), "explain input");
  expect_device(x, model.device(), "explain input");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

using Clock = std::chrono::steady_clock;

// Kernels are asynchronous: a CUDA launch returns before the GPU has done the
// work, so a timer stopped right after it would measure the launch only. Waiting
// for the device after each layer charges each layer its own work (at the price
// of the overlap a real step gets between consecutive kernels).
double elapsed_ms(Clock::time_point start, Device device) {
  if (device != Device::cpu) device_synchronize();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

std::vector<Tensor> forward_each(Sequential& model, const Tensor& x, Mode mode) {
  check_input(model, x);
  std::vector<Tensor> outs = output_buffers(model, x.dim(0));
  for (size_t i = 0; i < model.size(); ++i) model.layer(i).forward(i == 0 ? x : outs[i - 1], outs[i], mode);
  return outs;
}

std::vector<LayerTiming> time_layers(Sequential& model, const Tensor& x, int repeats, uint64_t seed) {
  if (repeats < 1) throw std::invalid_argument("time_layers: repeats must be >= 1");
  check_input(model, x);
  const size_t layers = model.size();
  const Device device = model.device();
  std::vector<Tensor> outs = output_buffers(model, x.dim(0));
  // dxs[i] = dLoss/d(input of layer i); layer 0 gets none, as in Sequential::backward.
  std::vector<Tensor> dxs(layers);
  for (size_t i = 1; i < layers; ++i) dxs[i] = Tensor::empty(outs[i - 1].shape(), device);
  Tensor dy_top = Tensor::empty(outs.back().shape());
  Rng rng(seed, 0);
  for (int64_t k = 0; k < dy_top.numel(); ++k) dy_top.cpu()[k] = rng.uniform(-1.0f, 1.0f);
  if (device != Device::cpu) dy_top = dy_top.to(device);

  std::vector<std::vector<double>> fwd(layers), bwd(layers);
  for (int r = 0; r <= repeats; ++r) {  // pass 0 warms up (scratch buffers, caches) and is not recorded
    for (size_t i = 0; i < layers; ++i) {
      const auto start = Clock::now();
      model.layer(i).forward(i == 0 ? x : outs[i - 1], outs[i], Mode::train);
      const double ms = elapsed_ms(start, device);
      if (r > 0) fwd[i].push_back(ms);
    }
    for (size_t i = layers; i-- > 0;) {
      const auto start = Clock::now();
      model.layer(i).backward(i == 0 ? x : outs[i - 1], outs[i], i + 1 == layers ? dy_top : dxs[i + 1], dxs[i]);
      const double ms = elapsed_ms(start, device);
      if (r > 0) bwd[i].push_back(ms);
    }
  }
  model.zero_grad();
  std::vector<LayerTiming> timings(layers);
  for (size_t i = 0; i < layers; ++i) timings[i] = {median(fwd[i]), median(bwd[i])};
  return timings;
}

}  // namespace radius
