#include "net/health.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "kernels/formulas.h"
#include "layers/registry.h"
#include "tensor/moments.h"

namespace radius {

namespace {

std::string fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

Tensor on_host(const Tensor& t) { return t.is_cpu() ? t : t.to(Device::cpu); }  // explicit: the [N, 1] logits only

const char* kDeadHelp =
    "What usually helps: a lower learning rate (--lr), a warmup (--warmup-epochs 1), He init for ReLU layers "
    "(--init he-uniform), a smaller batch or normalized inputs.";
const char* kUpdateHelp =
    "What usually helps: a lower learning rate (--lr), a warmup (--warmup-epochs 1), gradient clipping "
    "(--clip-norm 1).";

}  // namespace

double class_prior_entropy(double p) {
  auto term = [](double q) { return q > 0 ? -q * std::log(q) : 0.0; };
  return term(p) + term(1 - p);
}

void HealthMonitor::Mean::add(double v) {
  if (!std::isfinite(v)) return;
  sum += v;
  ++n;
}
double HealthMonitor::Mean::value() const { return n ? sum / n : kNaN; }

HealthMonitor::HealthMonitor(const Sequential& model, HealthOptions options) : options_(options) {
  if (options_.every < 0) throw std::invalid_argument("health: 'every' must be >= 0");
  if (options_.persist < 1) throw std::invalid_argument("health: 'persist' must be >= 1");
  body_ = model.has_sigmoid_head() ? model.size() - 1 : model.size();
  // The flat parameter buffer holds the named tensors back to back, in order.
  int64_t offset = 0;
  for (const NamedParam& p : model.named_params()) {
    const size_t dot = p.name.find('.');
    slots_.push_back({std::stoi(p.name.substr(0, dot)), p.name.substr(dot + 1) == "bias", offset, p.value.numel()});
    offset += p.value.numel();
  }
  for (size_t i = 0; i < body_; ++i) kinds_.push_back(model.layer(i).kind());
  epoch_.resize(body_);
  last_.resize(body_);
}

bool HealthMonitor::wants(int64_t step, bool last_of_epoch) const {
  return enabled() && (step % options_.every == 0 || last_of_epoch);
}

void HealthMonitor::before_step(const Sequential& model) {
  before_ = model.params().clone();  // on the model's device: the update ratio is reduced there
}

std::string HealthMonitor::layer_name(const Sequential& model, int i) const {
  std::string name = "layer " + std::to_string(i) + " (" + model.layer(size_t(i)).describe();
  if (kind_of(model.layer(size_t(i))).rectifier && i > 0)
    name += " after " + model.layer(size_t(i) - 1).describe();
  return name + ")";
}

void HealthMonitor::measure(Sequential& model, bool have_before) {
  for (size_t i = 0; i < body_; ++i) {
    const ActivationStats a = activation_stats(model.activation(i));  // reduced on the activation's device
    LayerSample& s = last_[i];
    s = LayerSample{};
    s.act_mean = a.mean;
    s.act_std = a.std;
    s.finite = a.finite;
    s.units = int64_t(a.alive.size());
    EpochAccumulator& e = epoch_[i];
    if (kind_of(model.layer(i)).rectifier) {
      s.dead_fraction = a.dead_fraction();
      if (e.alive.empty()) e.alive.assign(a.alive.size(), 0);
      for (size_t u = 0; u < a.alive.size(); ++u) e.alive[u] |= a.alive[u];
    }
  }
  // The output probability's spread over the batch (the logits are the last body layer's output).
  const Tensor logits = on_host(model.activation(body_ - 1));
  double sum = 0, sq = 0;
  const float* z = logits.cpu();
  for (int64_t k = 0; k < logits.numel(); ++k) {
    const double p = formula::stable_sigmoid(double(z[k]));
    sum += p;
    sq += p * p;
  }
  const double n = double(logits.numel());
  output_mean_ = sum / n;
  output_std_ = n >= 2 ? std::sqrt(std::max(0.0, sq / n - output_mean_ * output_mean_)) : kNaN;
  measure_params(model, have_before);
}

void HealthMonitor::measure_params(Sequential& model, bool have_before) {
  // Norms per parameter tensor, reduced on the parameters' device (tensor/moments.h):
  // a CUDA model's weights and gradients are not copied to the host.
  const Tensor& params = model.params();
  const Tensor& grads = model.grads();
  double global = 0;
  for (const ParamSlot& slot : slots_) {
    if (size_t(slot.layer) >= body_) continue;
    const Tensor w = params.slice(slot.offset, Shape{slot.size});
    const Moments g = tensor_moments(grads.slice(slot.offset, Shape{slot.size}));
    const double norm_after = std::sqrt(tensor_moments(w).sum_sq), grad = std::sqrt(g.sum_sq);
    global += grad * grad;
    double ratio = kNaN;
    if (have_before) {
      const Tensor w0 = before_.slice(slot.offset, Shape{slot.size});
      const double norm_before = std::sqrt(tensor_moments(w0).sum_sq);
      if (norm_before > 0) ratio = std::sqrt(tensor_moments(w, &w0).sum_sq) / norm_before;
    }
    LayerSample& s = last_[size_t(slot.layer)];
    s.grads_finite &= g.nonfinite == 0;
    EpochAccumulator& e = epoch_[size_t(slot.layer)];
    if (slot.is_bias) {
      s.bias_norm = norm_after, s.bias_grad_norm = grad, s.bias_update_ratio = ratio;
    } else {
      s.weight_norm = norm_after, s.weight_grad_norm = grad, s.weight_update_ratio = ratio;
    }
    (slot.is_bias ? e.b_norm : e.w_norm).add(norm_after);
    (slot.is_bias ? e.b_grad : e.w_grad).add(grad);
    (slot.is_bias ? e.b_ratio : e.w_ratio).add(ratio);
  }
  global_grad_norm_ = std::sqrt(global);
  if (std::isnan(memory_.first_grad_norm) && std::isfinite(global_grad_norm_) && global_grad_norm_ > 0)
    memory_.first_grad_norm = global_grad_norm_;
  for (size_t i = 0; i < body_; ++i) {
    ++epoch_[i].samples;
    epoch_[i].act_mean.add(last_[i].act_mean);
    epoch_[i].act_std.add(last_[i].act_std);
  }
}

bool HealthMonitor::persistent(const std::string& key, bool condition, int needed) {
  int& streak = memory_.streaks[key];
  streak = condition ? streak + 1 : 0;
  return streak >= needed && !fired_.count(key);
}

void HealthMonitor::restore(const HealthState& state) {
  memory_ = state;
  fired_.clear();
  for (const HealthWarning& w : memory_.warnings) fired_.insert(w.code + "/" + std::to_string(w.layer));
}

void HealthMonitor::fire(std::vector<HealthWarning>& fired, HealthWarning w) {
  fired_.insert(w.code + "/" + std::to_string(w.layer));
  memory_.warnings.push_back(w);
  fired.push_back(std::move(w));
}

void HealthMonitor::detect(const Sequential& model, int epoch, int64_t batch, std::vector<HealthWarning>& fired) {
  const int persist = options_.persist;
  auto warn = [&](const std::string& code, int layer, const std::string& message) {
    fire(fired, HealthWarning{code, epoch, batch, layer, message});
  };
  // Non-finite: the first layer whose output (then: whose gradient) is not finite.
  for (size_t i = 0; i < body_; ++i)
    if (!last_[i].finite && persistent("non-finite/-1", true, 1)) {
      warn("non-finite", -1, "NaN or infinite values first appear in the output of " + layer_name(model, int(i)) +
                                 ". " + kUpdateHelp);
      break;
    }
  for (size_t i = 0; i < body_; ++i) {
    const LayerSample& s = last_[i];
    const std::string key = "/" + std::to_string(i);
    if (persistent("dead-units" + key, s.dead_fraction >= options_.dead_fraction, persist))
      warn("dead-units", int(i),
           layer_name(model, int(i)) + ": " + fmt("%.0f %% of its %.0f units", 100 * s.dead_fraction, double(s.units)) +
               " output zero for every image in the batch (dead ReLUs), on " + std::to_string(persist) +
               " sampled batches in a row. Dead units get no gradient and rarely recover. " + kDeadHelp);
    if (persistent("large-updates" + key, s.weight_update_ratio > options_.large_update_ratio, std::min(persist, 2)))
      warn("large-updates", int(i),
           layer_name(model, int(i)) + ": one step changes its weights by " +
               fmt("%.3g of their norm (update/weight ratio; about 1e-3 is typical, %.3g is the warning level). ",
                   s.weight_update_ratio, options_.large_update_ratio) + kUpdateHelp);
    const double relative_grad = s.weight_grad_norm / s.weight_norm;
    if (persistent("vanishing-gradients" + key, s.weight_norm > 0 && relative_grad < options_.vanish_ratio, persist))
      warn("vanishing-gradients", int(i),
           layer_name(model, int(i)) + ": its weight gradient is " +
               fmt("%.3g of the weights' norm (%.3g / %.3g)", relative_grad, s.weight_grad_norm, s.weight_norm) +
               ": it receives almost no learning signal, often because ReLUs above it are dead. " + kDeadHelp);
    if (!s.grads_finite && persistent("non-finite/-1", true, 1))
      warn("non-finite", -1, "the gradient of " + layer_name(model, int(i)) + " is NaN or infinite. " + kUpdateHelp);
  }
  if (persistent("collapse/-1", output_std_ < options_.collapse_std, persist))
    warn("collapse", -1,
         "the model's output is constant: " + fmt("p = %.4f with std %.2g over the batch", output_mean_, output_std_) +
             " on " + std::to_string(persist) +
             " sampled batches in a row: it predicts the same class for every image (collapse). " + kDeadHelp);
  const double first = memory_.first_grad_norm;
  if (persistent("exploding-gradients/-1",
                 std::isfinite(first) && global_grad_norm_ > options_.explode_factor * first, 1))
    warn("exploding-gradients", -1,
         "the gradient norm grew to " + fmt("%.3g, %.0fx its first sampled value (%.3g). ", global_grad_norm_,
                                            global_grad_norm_ / first, first) + kUpdateHelp);
}

std::string HealthMonitor::diagnosis(const Sequential& model) const {
  int deadest = -1, weakest = -1;
  double dead = 0, weak = kNaN;
  for (size_t i = 0; i < last_.size(); ++i) {
    const LayerSample& s = last_[i];
    if (s.dead_fraction > dead) dead = s.dead_fraction, deadest = int(i);
    const double relative = s.weight_grad_norm / s.weight_norm;
    if (s.weight_norm > 0 && std::isfinite(relative) && !(relative >= weak)) weak = relative, weakest = int(i);
  }
  std::string seen = "Measured at the last sample: ";
  seen += deadest < 0 ? "no dead ReLU units"
                      : fmt("%.0f %% dead units in ", 100 * dead) + layer_name(model, deadest);
  if (weakest >= 0)
    seen += "; the weakest weight gradient is " + layer_name(model, weakest) + "'s, " +
            fmt("%.2g of its weights' norm", weak);
  return seen + fmt("; the output probability is %.3f +- %.2g over the batch", output_mean_, output_std_) +
         (output_std_ < 10 * options_.collapse_std ? " (almost constant: a collapse). " : ". ");
}

void HealthMonitor::detect_loss(const Sequential& model, double loss, const Tensor& labels_cpu, int epoch,
                                int64_t batch, std::vector<HealthWarning>& fired) {
  const int64_t n = labels_cpu.numel();
  double positives = 0;
  const float* y = labels_cpu.cpu();
  for (int64_t k = 0; k < n; ++k) positives += y[k] > 0.5f;
  const HealthState::BatchLoss b{loss * double(n), double(n), positives};
  HealthState::BatchLoss& total = memory_.window_total;
  memory_.loss_window.push_back(b);
  total = {total.loss_sum + b.loss_sum, total.samples + b.samples, total.positives + b.positives};
  while (!memory_.loss_window.empty() && int64_t(memory_.loss_window.size()) > options_.entropy_window) {
    const HealthState::BatchLoss& old = memory_.loss_window.front();
    total = {total.loss_sum - old.loss_sum, total.samples - old.samples, total.positives - old.positives};
    memory_.loss_window.pop_front();
  }
  ++memory_.steps_seen;
  if (options_.entropy_window <= 0 || memory_.steps_seen < options_.entropy_window) return;
  const double mean = total.loss_sum / total.samples;
  const double prior = total.positives / total.samples;
  const double h = class_prior_entropy(prior);
  if (memory_.takeoff_step < 0 && mean <= h - kTakeoffMargin) memory_.takeoff_step = memory_.steps_seen;
  // A grace period of one window: every model starts near the prior entropy.
  if (memory_.steps_seen < 2 * options_.entropy_window) return;
  if (persistent("prior-entropy/-1", std::fabs(mean - h) < options_.entropy_tolerance, 1))
    fire(fired, HealthWarning{"prior-entropy", epoch, batch, -1,
                              "the training loss has averaged " +
                                  fmt("%.4f over the last %.0f batches, the class-prior entropy (%.4f nats", mean,
                                      double(memory_.loss_window.size()), h) +
                                  fmt(" for %.0f %% positives): the model predicts the class balance and has not "
                                      "learned from the images. ",
                                      100 * prior) +
                                  diagnosis(model) + "If it collapsed: " + std::string(kDeadHelp) +
                                  " If it is just slow: the advised recipe (--recipe advised: batch norm, global "
                                  "max pooling, He init, warmup and cosine decay) left the prior within a few "
                                  "hundred steps at every seed measured on the built-in data, where the paper's "
                                  "model sat here for 600-2,600 (docs/synthetic-data.md); with the paper's model, "
                                  "more epochs, another --seed, or the augmentation growing from none "
                                  "(--augment-warmup 10)."});
}

std::vector<HealthWarning> HealthMonitor::after_step(Sequential& model, const Tensor& labels_cpu, double loss,
                                                     int epoch, int64_t batch, bool sampled) {
  std::vector<HealthWarning> fired;
  if (!enabled()) return fired;
  const bool measure_now = sampled || !std::isfinite(loss);
  if (measure_now) {
    measure(model, sampled && before_.defined());
    detect(model, epoch, batch, fired);
  }
  before_ = Tensor();
  if (std::isfinite(loss)) detect_loss(model, loss, labels_cpu, epoch, batch, fired);
  return fired;
}

std::vector<LayerHealthRow> HealthMonitor::end_epoch(int epoch) {
  std::vector<LayerHealthRow> rows;
  for (size_t i = 0; i < epoch_.size(); ++i) {
    EpochAccumulator& e = epoch_[i];
    if (e.samples == 0) continue;
    LayerHealthRow r;
    r.epoch = epoch;
    r.layer = int(i);
    r.kind = kinds_[i];
    r.samples = e.samples;
    r.act_mean = e.act_mean.value();
    r.act_std = e.act_std.value();
    if (!e.alive.empty()) {
      ActivationStats window;
      window.alive = e.alive;
      r.dead_fraction = window.dead_fraction();
    }
    r.weight_norm = e.w_norm.value(), r.weight_grad_norm = e.w_grad.value(), r.weight_update_ratio = e.w_ratio.value();
    r.bias_norm = e.b_norm.value(), r.bias_grad_norm = e.b_grad.value(), r.bias_update_ratio = e.b_ratio.value();
    rows.push_back(r);
    e = EpochAccumulator{};
  }
  return rows;
}

}  // namespace radius
