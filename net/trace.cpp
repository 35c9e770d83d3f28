#include "net/trace.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "kernels/formulas.h"
#include "layers/bce.h"
#include "net/activation_stats.h"
#include "net/explain.h"
#include "optim/clip.h"

namespace radius {
namespace {

double norm(const Tensor& t) { return t.numel() == 0 ? 0.0 : global_norm(t); }

// Sums of squares per layer index of the named parameter views (the names are "i.weight").
std::map<size_t, double> squares_by_layer(const Sequential& model, bool grads) {
  std::map<size_t, double> sq;
  for (const NamedParam& p : model.named_params()) {
    const double n = norm(grads ? p.grad : p.value);
    sq[size_t(std::stoul(p.name.substr(0, p.name.find('.'))))] += n * n;
  }
  return sq;
}

}  // namespace

StepTrace trace_training_step(Sequential& model, Optimizer& optimizer, const Tensor& x_cpu, const Tensor& labels,
                              size_t values, int repeats) {
  StepTrace t;
  t.input = model.input_shape();
  t.batch = x_cpu.dim(0);
  const Tensor x = model.device() == Device::cpu ? x_cpu : x_cpu.to(model.device());
  const Tensor y = model.device() == Device::cpu ? labels : labels.to(model.device());
  const std::vector<LayerTiming> times = time_layers(model, x, repeats, 7);  // leaves the gradients zero

  // Forward: every body layer's output.
  const Tensor& logits = model.forward(x, Mode::train);
  const size_t body = model.has_sigmoid_head() ? model.size() - 1 : model.size();
  for (size_t i = 0; i < body; ++i) {
    TraceRow r;
    r.index = i;
    r.description = model.layer(i).describe();
    r.output = model.layer_output(i);
    const Tensor out = model.activation(i).to(Device::cpu);
    for (size_t k = 0; k < values && int64_t(k) < r.output.numel(); ++k) r.first.push_back(out.cpu()[k]);
    const ActivationStats s = activation_stats(out);
    r.mean = s.mean;
    r.std = s.std;
    r.forward_ms = times[i].forward_ms;
    r.backward_ms = times[i].backward_ms;
    t.rows.push_back(std::move(r));
  }
  t.logits = logits.to_vector();
  for (float z : t.logits) t.probabilities.push_back(float(formula::stable_sigmoid(double(z))));
  t.labels = labels.to_vector();
  t.loss = bce_with_logits(logits, y);
  Tensor dlogits = Tensor::empty(logits.shape(), model.device());
  bce_with_logits_grad(logits, y, dlogits);

  // Backward: each layer's output gradient (one partial backward per layer, gradients
  // cleared each time), then the full backward for the parameter gradients.
  for (size_t i = 0; i < body; ++i) {
    model.zero_grad();
    t.rows[i].grad_norm = i + 1 == body ? norm(dlogits) : norm(model.backward_to(dlogits, i));
  }
  model.zero_grad();
  model.backward(dlogits);
  const std::map<size_t, double> before = squares_by_layer(model, false), grads = squares_by_layer(model, true);
  const Tensor old_params = model.params().to(Device::cpu);

  optimizer.step(model.params(), model.grads());
  t.optimizer_step = optimizer.steps();
  const Tensor new_params = model.params().to(Device::cpu);
  std::map<size_t, double> moved;
  for (const NamedParam& p : model.named_params()) {
    const int64_t offset = p.value.data() - model.params().data();
    double sq = 0;
    for (int64_t k = 0; k < p.value.numel(); ++k) {
      const double d = double(new_params.cpu()[offset + k]) - double(old_params.cpu()[offset + k]);
      sq += d * d;
    }
    moved[size_t(std::stoul(p.name.substr(0, p.name.find('.'))))] += sq;
  }
  for (TraceRow& r : t.rows) {
    if (!before.count(r.index)) continue;
    r.param_norm = std::sqrt(before.at(r.index));
    r.param_grad_norm = std::sqrt(grads.at(r.index));
    r.update_norm = std::sqrt(moved.at(r.index));
  }
  return t;
}

std::string trace_table(const StepTrace& t) {
  std::string s;
  char line[512];
  std::snprintf(line, sizeof line, "one training step: batch %lld of %s; forward in train mode, then backward, then "
                "the optimizer's step %lld\n\n",
                (long long)t.batch, t.input.str().c_str(), (long long)t.optimizer_step);
  s += line;
  std::snprintf(line, sizeof line, "%-3s %-30s %-14s %-36s %10s %10s %11s %10s %11s %11s %8s %8s\n", "#", "layer",
                "output", "first values (sample 0)", "mean", "std", "||dL/dy||", "||w||", "||dL/dw||", "||dw||",
                "fwd ms", "bwd ms");
  s += line;
  s += std::string(180, '-') + "\n";
  for (const TraceRow& r : t.rows) {
    std::string first;
    for (float v : r.first) {
      char b[24];
      std::snprintf(b, sizeof b, "%s%.4g", first.empty() ? "" : " ", double(v));
      first += b;
    }
    const bool params = r.param_norm > 0 || r.param_grad_norm > 0;
    char pn[16] = "", pg[16] = "", up[16] = "";
    if (params) {
      std::snprintf(pn, sizeof pn, "%.4g", r.param_norm);
      std::snprintf(pg, sizeof pg, "%.4g", r.param_grad_norm);
      std::snprintf(up, sizeof up, "%.4g", r.update_norm);
    }
    std::snprintf(line, sizeof line, "%-3zu %-30.30s %-14s %-36.36s %10.4g %10.4g %11.4g %10s %11s %11s %8.3f %8.3f\n",
                  r.index, r.description.c_str(), r.output.str().c_str(), first.c_str(), r.mean, r.std, r.grad_norm,
                  pn, pg, up, r.forward_ms, r.backward_ms);
    s += line;
  }
  s += "\nlogits, sigmoid, label per sample:";
  for (size_t k = 0; k < t.logits.size(); ++k) {
    std::snprintf(line, sizeof line, "%s (%.5g, %.5f, %g)", k ? "," : "", double(t.logits[k]), double(t.probabilities[k]),
                  double(t.labels[k]));
    s += line;
  }
  std::snprintf(line, sizeof line, "\nloss (binary cross-entropy from the logits, batch mean): %.6f\n", t.loss);
  s += line;
  return s;
}

}  // namespace radius
