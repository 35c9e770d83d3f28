#include "net/train.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/reduce.h"
#include "layers/bce.h"
#include "layers/layer.h"
#include "optim/clip.h"

namespace radius {

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  int64_t correct = 0;
  bce_with_logits(logits, labels, &correct);
  return correct;
}

namespace {
// t *= k and sum += g, on the tensors' device.
void scale_tensor(Tensor& t, float k) {
  if (t.is_cpu())
    for (int64_t i = 0; i < t.numel(); ++i) t.cpu()[i] *= k;
  else
    RADIUS_CUDA_ONLY(cuda::scale(t.numel(), k, t.data()));
}
void add_tensor(const Tensor& g, Tensor& sum) {
  if (g.is_cpu())
    for (int64_t i = 0; i < g.numel(); ++i) sum.cpu()[i] += g.cpu()[i];
  else
    RADIUS_CUDA_ONLY(cuda::add(g.numel(), g.data(), sum.data()));
}

// The batch must already be where the model is: the trainer never copies it.
void expect_on_model(const Sequential& model, const Tensor& x, const Tensor& labels) {
  expect_device(x, model.device(), "training batch");
  expect_device(labels, model.device(), "training labels");
}
}  // namespace

StepResult Trainer::forward_backward(const Tensor& x, const Tensor& labels, float weight) {
  const Tensor& logits = model_.forward(x, Mode::train);
  if (logits.numel() != labels.numel())
    throw std::invalid_argument("train step: " + std::to_string(logits.numel()) + " logits but " +
                                std::to_string(labels.numel()) + " labels (the model needs one output unit)");
  if (!dlogits_.defined() || !(dlogits_.shape() == logits.shape()) || dlogits_.device() != logits.device())
    dlogits_ = Tensor::empty(logits.shape(), logits.device());
  StepResult r;
  r.loss = bce_with_logits(logits, labels, &r.correct);  // on a GPU: the step's one device->host copy
  bce_with_logits_grad(logits, labels, dlogits_);
  if (weight != 1.0f) scale_tensor(dlogits_, weight);  // a micro-batch's share of the batch mean
  model_.backward(dlogits_);
  return r;
}

int Trainer::parts_of(int64_t n) const {
  const int ranks = comm_ ? comm_->size() : 1;
  if (ranks > 1 && micro_batches_ != 1 && micro_batches_ < ranks)
    throw std::invalid_argument("--micro-batches " + std::to_string(micro_batches_) + " with " +
                                std::to_string(ranks) + " ranks: every rank runs at least one micro-batch (leave "
                                "--micro-batches out for " + std::to_string(ranks) + ", or give " +
                                std::to_string(ranks) + " or more)");
  return int(std::min<int64_t>(micro_batches_ == 1 ? ranks : micro_batches_, n));
}

namespace {
// Micro-batch p of `parts`: rows [n p / parts, n (p + 1) / parts) of a batch of n.
struct Part {
  int64_t begin, size;
};
Part part_of(int64_t n, int64_t p, int64_t parts) { return {n * p / parts, n * (p + 1) / parts - n * p / parts}; }

// The micro-batches rank r runs: [first_part(r), first_part(r + 1)), in order, as evenly
// as they go, the extra ones to the first ranks (with fewer parts than ranks, rank r < parts
// runs part r and the others none; rank 0 always runs one).
int64_t first_part(int64_t r, int64_t parts, int64_t ranks) { return r * (parts / ranks) + std::min(r, parts % ranks); }

// Layer counters set to `base` + k (k: the micro-batch's index).
std::map<std::string, uint64_t> counters_plus(const std::map<std::string, uint64_t>& base, uint64_t k) {
  std::map<std::string, uint64_t> c = base;
  for (auto& [name, value] : c) value += k;
  return c;
}
}  // namespace

StepResult Trainer::step(const Tensor& x, const Tensor& labels) {
  expect_on_model(model_, x, labels);
  const int64_t n = x.dim(0), parts = parts_of(n);
  const bool replay = want_last_activations_;
  want_last_activations_ = false;
  if (comm_ && comm_->size() > 1 && parts > 1) {
    const auto t0 = std::chrono::steady_clock::now();
    const StepResult r = data_parallel_step(x, labels, parts);
    if (replay) replay_last_forward(x, parts);
    if (clip_norm_ > 0) clip_grad_norm(model_.grads(), clip_norm_);
    optimizer_.step(model_.params(), model_.grads());
    step_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }
  model_.zero_grad();
  StepResult r;
  if (parts <= 1) {
    r = forward_backward(x, labels, 1.0f);
  } else {
    if (!grad_sum_.defined() || grad_sum_.device() != model_.device() || grad_sum_.numel() != model_.grads().numel())
      grad_sum_ = Tensor::empty(model_.grads().shape(), model_.device());
    grad_sum_.zero();
    const int64_t per_sample = x.numel() / n;
    for (int64_t p = 0; p < parts; ++p) {
      const auto [begin, m] = part_of(n, p, parts);
      const Tensor xs = x.slice(begin * per_sample, model_.input_shape().with_batch(m));
      const Tensor ys = labels.slice(begin, Shape{m});
      model_.zero_grad();  // this micro-batch's gradient alone ...
      const StepResult s = forward_backward(xs, ys, float(m) / float(n));
      add_tensor(model_.grads(), grad_sum_);  // ... added to the sum in order
      r.loss += s.loss * double(m) / double(n);
      r.correct += s.correct;
    }
    model_.grads().copy_from(grad_sum_);
  }
  if (clip_norm_ > 0) clip_grad_norm(model_.grads(), clip_norm_);
  optimizer_.step(model_.params(), model_.grads());
  return r;
}

StepResult Trainer::data_parallel_step(const Tensor& x, const Tensor& labels, int64_t parts) {
  Communicator& comm = *comm_;
  const int rank = comm.rank(), ranks = comm.size();
  const int64_t n = x.dim(0), per_sample = x.numel() / n;
  const int64_t first = first_part(rank, parts, ranks), last = first_part(rank + 1, parts, ranks);
  const int count = int(last - first);
  const bool stateful = model_.num_buffers() > 0;
  const auto base_counters = model_.counters();
  auto counters = base_counters;
  // Per micro-batch: [loss share, correct], summed in micro-batch order as the micro-batched loop adds them.
  std::vector<double> totals(size_t(2 * std::max(count, 1)), 0.0);
  // Several micro-batches on this rank: each one's gradient is kept apart ([count][gradient]).
  const int64_t g = model_.grads().numel();
  if (count > 1 && (!parts_grads_.defined() || parts_grads_.numel() < count * g || parts_grads_.device() != model_.device()))
    parts_grads_ = Tensor::empty(Shape{count * g}, model_.device());
  stateful_inputs_.clear();
  model_.zero_grad();  // a rank without images (a batch of fewer than R) sends no part
  for (int64_t p = first; p < last; ++p) {
    const auto [begin, m] = part_of(n, p, parts);
    model_.set_counters(counters_plus(base_counters, uint64_t(p)));
    model_.zero_grad();
    const StepResult s = forward_backward(x.slice(begin * per_sample, model_.input_shape().with_batch(m)),
                                          labels.slice(begin, Shape{m}), float(m) / float(n));
    totals[size_t(2 * (p - first))] = s.loss * double(m) / double(n);
    totals[size_t(2 * (p - first) + 1)] = double(s.correct);
    if (count > 1) parts_grads_.slice((p - first) * g, Shape{g}).copy_from(model_.grads());
    if (stateful && rank > 0 && p + 1 < last) keep_stateful_inputs(x, p, parts);  // for pass_state_along
    // Each counter moved by d in {0, 1} (0: a dropout of rate 0 draws nothing), so the
    // micro-batches moved it by parts x d.
    for (auto& [name, value] : model_.counters()) {
      const uint64_t moved = value - (base_counters.at(name) + uint64_t(p));
      if (moved > 1)
        throw std::logic_error("data-parallel step: layer counter " + name + " advanced by " + std::to_string(moved) +
                               " in one forward; ranks can reproduce counters that advance by 0 or 1");
      counters[name] = base_counters.at(name) + moved * uint64_t(parts);
      last_part_counters_[name] = base_counters.at(name) + moved * uint64_t(parts - 1);
    }
  }
  if (parts < ranks && !counters.empty()) {  // ranks without images learn the counters from rank 0
    std::vector<uint64_t> values;
    for (const auto& [name, value] : counters) values.push_back(value);
    comm.broadcast(values.data(), int64_t(values.size() * sizeof(uint64_t)), 0);
    size_t i = 0;
    for (auto& [name, value] : counters) value = values[i++];
  }
  model_.set_counters(counters);
  const auto t0 = std::chrono::steady_clock::now();
  if (stateful) pass_state_along(x, parts);
  allreduce_sum_parts(comm, count > 1 ? parts_grads_ : model_.grads(), count, model_.grads());
  double sums[2] = {0, 0};
  comm.allreduce_sum_parts(totals.data(), count, 2, sums);
  allreduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  StepResult r;
  r.loss = sums[0];
  r.correct = int64_t(sums[1]);
  return r;  // step() takes the update
}

// The inputs of the stateful layers (batch norm) in micro-batch p's forward, copied: the
// next micro-batch's forward overwrites the activations.
void Trainer::keep_stateful_inputs(const Tensor& x, int64_t p, int64_t parts) {
  const int64_t n = x.dim(0), per_sample = x.numel() / n;
  const auto [begin, m] = part_of(n, p, parts);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < model_.size(); ++i)
    if (!model_.layer(i).buffer_specs().empty())
      inputs.push_back(i == 0 ? x.slice(begin * per_sample, model_.input_shape().with_batch(m))
                              : model_.activation(i - 1).clone());
  stateful_inputs_.push_back(std::move(inputs));
}

// Every rank's state is what its own micro-batches made of the step's starting state;
// rank 0's is right (micro-batch 0 starts there, and its others follow in order). For
// each later rank q with micro-batches, the state rank q - 1 ended with goes to every
// rank and rank q redoes its stateful layers' updates from it, micro-batch by micro-batch
// (their outputs do not depend on the state in training). Then the last such rank's
// state goes to all.
void Trainer::pass_state_along(const Tensor& x, int64_t parts) {
  Communicator& comm = *comm_;
  const int rank = comm.rank(), ranks = comm.size();
  const int64_t with_parts = std::min<int64_t>(ranks, parts);
  for (int64_t q = 1; q < with_parts; ++q) {
    broadcast(comm, model_.state(), int(q - 1));
    if (rank != q) continue;
    const int64_t first = first_part(q, parts, ranks), last = first_part(q + 1, parts, ranks);
    const int64_t n = x.dim(0), per_sample = x.numel() / n;
    for (int64_t p = first; p < last; ++p) {
      size_t k = 0;  // the stateful layer's index among them
      for (size_t i = 0; i < model_.size(); ++i) {
        Layer& layer = model_.layer(i);
        if (layer.buffer_specs().empty()) continue;
        if (!layer.counters().empty())
          throw std::logic_error("data-parallel step: layer " + std::to_string(i) + " (" + layer.describe() +
                                 ") has both state buffers and counters; its updates cannot be replayed");
        Tensor in;
        if (p + 1 < last) {
          in = stateful_inputs_.at(size_t(p - first)).at(k++);
        } else {  // the rank's last micro-batch: its activations are still the model's
          const auto [begin, m] = part_of(n, p, parts);
          in = i == 0 ? x.slice(begin * per_sample, model_.input_shape().with_batch(m)) : model_.activation(i - 1);
        }
        Tensor out = Tensor::empty(in.shape(), model_.device());  // a stateful layer keeps its input's shape
        layer.forward(in, out, Mode::train);  // the same output; the state moves on from the previous micro-batch's
      }
    }
  }
  broadcast(comm, model_.state(), int(with_parts - 1));
  stateful_inputs_.clear();
}

void Trainer::replay_last_forward(const Tensor& x, int64_t parts) {
  const int64_t n = x.dim(0), ranks = comm_->size(), rank = comm_->rank();
  const int64_t first = first_part(rank, parts, ranks), last = first_part(rank + 1, parts, ranks);
  if (first == last) return;  // ran no micro-batch: it knows no counters to replay with
  if (last == parts) return;  // ran the last micro-batch: its activations are that one's
  const Tensor state = model_.state().clone();
  const auto counters = model_.counters();
  const auto [begin, m] = part_of(n, parts - 1, parts);
  model_.set_counters(last_part_counters_);
  model_.forward(x.slice(begin * (x.numel() / n), model_.input_shape().with_batch(m)), Mode::train);
  model_.state().copy_from(state);
  model_.set_counters(counters);
}

StepResult Trainer::evaluate(const Tensor& x, const Tensor& labels) {
  expect_on_model(model_, x, labels);
  const Tensor& logits = model_.forward(x, Mode::eval);
  StepResult r;
  r.loss = bce_with_logits(logits, labels, &r.correct);
  return r;
}

}  // namespace radius
