#include "net/fit.h"

#include <chrono>
#include <cmath>

#include "net/train.h"

namespace radius {

bool LoaderBatches::next(Tensor& images, Tensor& labels) {
  if (!loader_.next(batch_)) return false;
  images = batch_.images;
  labels = batch_.labels;
  return true;
}

bool MemoryBatches::next(Tensor& images, Tensor& labels) {
  if (pos_ >= batches_.size()) return false;
  images = batches_[pos_].images;
  labels = batches_[pos_].labels;
  ++pos_;
  return true;
}

int64_t MemoryBatches::samples_per_epoch() const {
  int64_t n = 0;
  for (const Item& b : batches_) n += b.images.dim(0);
  return n;
}

namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

Tensor on_device(const Tensor& t, Device d) { return t.device() == d ? t : t.to(d); }

bool all_finite(const Tensor& t) {
  const float* p = t.cpu();
  const int64_t n = t.numel();
  int bad = 0;
#pragma omp parallel for reduction(| : bad) schedule(static)
  for (int64_t i = 0; i < n; ++i) bad |= !std::isfinite(p[i]);
  return !bad;
}

std::string last_good(const FitOptions& o, int epochs_done) {
  if (o.last_checkpoint.empty()) return "no checkpoint is written (FitOptions::last_checkpoint is empty)";
  if (epochs_done == 0) return "no checkpoint yet (it failed in the first epoch)";
  return "last good checkpoint: " + o.last_checkpoint + " (epoch " + std::to_string(epochs_done) + ")";
}

}  // namespace

void recalibrate_statistics(Sequential& model, BatchSource& source, uint64_t epoch) {
  source.start_epoch(epoch);
  Tensor x, y;
  // The average runs over this pass alone: any other forward (validation, the next
  // epoch's training) ends it, so the next recalibration starts afresh.
  while (source.next(x, y)) model.forward(on_device(x, model.device()), Mode::calibrate);
}

EvalResult evaluate_batches(Sequential& model, BatchSource& source, uint64_t epoch, Communicator* comm) {
  const int ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  EvalResult r;
  source.start_epoch(epoch);
  Tensor x, y;
  struct NoOpt final : Optimizer {
    NoOpt() : Optimizer(0) {}
    std::string describe() const override { return "none"; }
    void step(Tensor&, const Tensor&) override {}
    std::vector<std::pair<std::string, Tensor>> state() override { return {}; }
    void set_state(const std::string&, const Tensor&) override {}
  } noopt;
  Trainer t(model, noopt);
  // Per batch: loss * n, correct, n (a rank fills its own batches; the rest stay +0).
  std::vector<double> sums;
  for (int64_t b = 0; source.next(x, y); ++b) {
    sums.resize(size_t(3 * (b + 1)), 0.0);
    if (b % ranks != rank) continue;
    const StepResult s = t.evaluate(on_device(x, model.device()), on_device(y, model.device()));
    const int64_t n = x.dim(0);
    sums[size_t(3 * b)] = s.loss * double(n);
    sums[size_t(3 * b + 1)] = double(s.correct);
    sums[size_t(3 * b + 2)] = double(n);
  }
  // One batch's sums come from one rank: adding the others' +0 changes no bit.
  if (comm) comm->allreduce_sum(sums.data(), int64_t(sums.size()));
  double loss_sum = 0;
  int64_t correct = 0;
  for (size_t b = 0; b < sums.size() / 3; ++b) {  // in batch order, as one process adds them
    loss_sum += sums[3 * b];
    correct += int64_t(sums[3 * b + 1]);
    r.samples += int64_t(sums[3 * b + 2]);
  }
  if (r.samples > 0) {
    r.loss = loss_sum / double(r.samples);
    r.accuracy = double(correct) / double(r.samples);
  }
  return r;
}

// ---- fit(): one run's state, and the named steps of its epoch loop ------------------

namespace {

bool is_writer(const FitOptions& o) { return o.comm == nullptr || o.comm->rank() == 0; }

// The health monitor's options: rank 0 alone observes a data-parallel run.
HealthOptions health_options(const FitOptions& o) {
  HealthOptions h = o.health;
  if (!is_writer(o)) h.every = 0;
  return h;
}

// What one fit() call carries from step to step: the training state the checkpoints
// hold, the result being built and the best epoch's weights in memory.
// A copy of the model's weights: its parameters and its state buffers (a batch
// norm's running statistics belong with the weights they were measured under).
struct ModelWeights {
  Tensor params, state;
  static ModelWeights of(const Sequential& m) { return {m.params().clone(), m.state().clone()}; }
  bool defined() const { return params.defined(); }
  void put_into(Sequential& m) const {
    m.params().copy_from(params);
    m.state().copy_from(state);
  }
};

struct FitRun {
  FitRun(Sequential& model, Optimizer& optimizer, const FitOptions& o, FitObserver& obs,
         const CheckpointState* resume);
  Sequential& model;
  Optimizer& optimizer;
  const FitOptions& o;
  FitObserver& obs;
  CheckpointState st;
  ModelWeights best;  // for restore_best (undefined until an epoch improves, or from a resume)
  Trainer trainer;
  HealthMonitor health;
  bool check_grads;  // scan the gradients for NaN/inf after every step (CPU only)
  bool writes;       // checkpoints: one process, or rank 0 of a data-parallel run
  FitResult res;
};

// Running sums over one training epoch.
struct EpochTotals {
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
};

CheckpointState starting_state(const FitOptions& o, const CheckpointState* resume) {
  CheckpointState st;
  if (resume) st = *resume;
  st.seed = o.seed;
  st.config = o.config;
  return st;
}

// Resume: the best epoch's weights, read from the best checkpoint (the model keeps the
// last epoch's weights and layer counters).
ModelWeights resumed_best_weights(Sequential& model, Optimizer& optimizer, const FitOptions& o,
                                  const CheckpointState& st, bool writes) {
  if (st.best_epoch > 0 && st.best_epoch == st.epoch) {
    // The last epoch was the best: its weights are the ones just restored. The best
    // checkpoint may be older (a kill between the two writes of save_checkpoints):
    // bring it up to date.
    ModelWeights best = ModelWeights::of(model);
    if (writes && !o.best_checkpoint.empty()) save_checkpoint(o.best_checkpoint, model, optimizer, st);
    return best;
  }
  if (st.best_epoch == 0 || o.best_checkpoint.empty()) return {};
  const CheckpointFile best = read_checkpoint(o.best_checkpoint);
  if (best.state.epoch != st.best_epoch)
    throw std::runtime_error("checkpoint '" + o.best_checkpoint + "' holds epoch " + std::to_string(best.state.epoch) +
                             " but the last checkpoint names epoch " + std::to_string(st.best_epoch) +
                             " as the best (files from different runs?)");
  // Load through the model itself, then put its current weights back.
  const ModelWeights current = ModelWeights::of(model);
  apply_checkpoint(best, o.best_checkpoint, model, nullptr);
  ModelWeights best_weights = ModelWeights::of(model);
  current.put_into(model);
  model.set_counters(st.layer_counters);
  return best_weights;
}

FitRun::FitRun(Sequential& model, Optimizer& optimizer, const FitOptions& o, FitObserver& obs,
               const CheckpointState* resume)
    : model(model), optimizer(optimizer), o(o), obs(obs), st(starting_state(o, resume)),
      best(resume ? resumed_best_weights(model, optimizer, o, st, is_writer(o)) : ModelWeights()),
      trainer(model, optimizer), health(model, health_options(o)),
      check_grads(o.check_gradients && model.device() == Device::cpu), writes(is_writer(o)) {
  trainer.set_clip_norm(o.clip_norm);
  trainer.set_communicator(o.comm);
  trainer.set_micro_batches(o.micro_batches);
  if (o.lr_schedule.active()) o.lr_schedule.validate();
  if (health.enabled() && st.health) health.restore(*st.health);  // warnings fired before the resume stay fired
}

void stop_if_non_finite(const FitRun& r, double loss, int epoch, int64_t b, int64_t batches) {
  const bool loss_ok = std::isfinite(loss);
  if (loss_ok && (!r.check_grads || all_finite(r.model.grads()))) return;
  throw NonFiniteError("training stopped: the " + std::string(loss_ok ? "gradient" : "loss") + " became " +
                           (loss_ok ? "NaN or infinite" : (std::isnan(loss) ? "NaN" : "infinite")) + " at epoch " +
                           std::to_string(epoch) + ", batch " + std::to_string(b) + "/" + std::to_string(batches) +
                           " (try a lower learning rate); " + last_good(r.o, r.st.epoch),
                       epoch, b);
}

// Batch b (1-based) of `batches`: the scheduled learning rate, the step, the health
// sample, the NaN check and the epoch's running sums.
void train_batch(FitRun& r, const Tensor& x, const Tensor& y, int epoch, int64_t b, int64_t batches,
                 EpochTotals& totals) {
  if (r.o.lr_schedule.active()) r.optimizer.set_learning_rate(float(r.o.lr_schedule.lr_at(r.st.global_step)));
  const bool sampled = r.health.wants(r.st.global_step, b == batches);
  if (sampled) r.health.before_step(r.model);
  if (sampled) r.trainer.want_last_activations();  // data-parallel: the activations the monitor reads
  const StepResult s = r.trainer.step(on_device(x, r.model.device()), on_device(y, r.model.device()));
  // Before the NaN stop below, so a NaN's first layer is named.
  for (const HealthWarning& w : r.health.after_step(r.model, y, s.loss, epoch, b, sampled)) {
    r.res.health_warnings.push_back(w);
    r.obs.on_health_warning(w);
  }
  if (r.health.takeoff_step() >= 0 && r.health.takeoff_step() == r.health.state().steps_seen)
    r.obs.on_takeoff(r.health.takeoff_step(), epoch, b);  // the step it happened: once per run
  stop_if_non_finite(r, s.loss, epoch, b, batches);
  const int64_t n = x.dim(0);
  totals.loss_sum += s.loss * double(n);
  totals.correct += s.correct;
  totals.seen += n;
  ++r.st.global_step;
}

// One pass over the training batches; the history row's training columns.
HistoryRow train_epoch(FitRun& r, BatchSource& train, int epoch, clock_type::time_point t0) {
  const int64_t batches = train.batches_per_epoch();
  r.obs.on_epoch_begin(epoch, r.o.max_epochs, batches);
  train.start_epoch(uint64_t(epoch));
  Tensor x, y;
  EpochTotals t;
  for (int64_t b = 1; train.next(x, y); ++b) {
    train_batch(r, x, y, epoch, b, batches, t);
    r.obs.on_train_batch(epoch, b, batches, t.seen, t.loss_sum / double(t.seen), double(t.correct) / double(t.seen),
                         since(t0));
  }
  HistoryRow row;
  row.epoch = epoch;
  row.train_loss = t.seen ? t.loss_sum / double(t.seen) : kNaN;
  row.train_accuracy = t.seen ? double(t.correct) / double(t.seen) : kNaN;
  row.learning_rate = r.optimizer.learning_rate();
  return row;
}

// The validation pass: the row's validation columns and the early-stopping state.
// True when the validation loss improved (the weights are then the best so far).
bool validate(FitRun& r, BatchSource& val, int epoch, HistoryRow& row) {
  const EvalResult v = evaluate_batches(r.model, val, uint64_t(epoch), r.o.comm);
  row.val_loss = v.loss;
  row.val_accuracy = v.accuracy;
  if (!std::isfinite(v.loss))
    throw NonFiniteError("training stopped: the validation loss became non-finite at epoch " + std::to_string(epoch) +
                             "; " + last_good(r.o, r.st.epoch),
                         epoch, 0);
  const bool improved = r.st.best_epoch == 0 || v.loss < r.st.best_val_loss - r.o.min_delta;
  if (!improved) {
    ++r.st.wait;
    return false;
  }
  r.st.best_val_loss = v.loss;
  r.st.best_epoch = epoch;
  r.st.wait = 0;
  if (r.o.restore_best) r.best = ModelWeights::of(r.model);
  return true;
}

// The epoch's per-layer health rows, and the monitor's memory for the checkpoint.
void record_health(FitRun& r, int epoch) {
  if (!r.health.enabled()) return;
  const std::vector<LayerHealthRow> rows = r.health.end_epoch(epoch);
  r.res.health.insert(r.res.health.end(), rows.begin(), rows.end());
  r.obs.on_health_epoch(rows);
  r.st.health = r.health.state();
}

// Last first, then best: a kill between the two leaves a last checkpoint whose best
// epoch is its own epoch, which resuming repairs (resumed_best_weights). The other order
// would leave a best file newer than the last one says, with the true best weights overwritten.
void save_checkpoints(FitRun& r, bool improved) {
  if (!r.writes) return;
  if (!r.o.last_checkpoint.empty()) save_checkpoint(r.o.last_checkpoint, r.model, r.optimizer, r.st);
  if (improved && !r.o.best_checkpoint.empty()) save_checkpoint(r.o.best_checkpoint, r.model, r.optimizer, r.st);
}

void restore_best_weights(FitRun& r, bool has_val) {
  if (!(r.o.restore_best && has_val && r.st.best_epoch > 0 && r.best.defined() && r.st.best_epoch != r.st.epoch))
    return;
  r.best.put_into(r.model);
  r.res.restored_best = true;
  r.obs.on_restore_best(r.st.best_epoch, r.st.best_val_loss);
}

// The result, with the final state as the last checkpoint holds it.
FitResult finish(FitRun& r) {
  r.res.history = r.st.history;
  r.res.best_epoch = r.st.best_epoch;
  r.res.best_val_loss = r.st.best_val_loss;
  r.st.optimizer_steps = r.optimizer.steps();
  r.st.layer_counters = r.model.counters();
  r.res.state = r.st;
  r.res.step_seconds = r.trainer.step_seconds();
  r.res.allreduce_seconds = r.trainer.allreduce_seconds();
  return r.res;
}

}  // namespace

FitResult fit(Sequential& model, Optimizer& optimizer, BatchSource& train, BatchSource* val,
              const FitOptions& o, FitObserver* observer, const CheckpointState* resume) {
  if (o.max_epochs < 0) throw std::invalid_argument("fit: max_epochs must be >= 0");
  if (train.samples_per_epoch() <= 0) throw std::invalid_argument("fit: the training set is empty");
  FitObserver quiet;
  FitRun r(model, optimizer, o, observer ? *observer : quiet, resume);
  for (int epoch = r.st.epoch + 1; epoch <= o.max_epochs && !r.st.stopped; ++epoch) {
    const auto t0 = clock_type::now();
    HistoryRow row = train_epoch(r, train, epoch, t0);
    if (o.recalibration) recalibrate_statistics(model, *o.recalibration, uint64_t(epoch));
    const bool improved = val && validate(r, *val, epoch, row);
    row.seconds = since(t0);
    r.st.history.push_back(row);
    record_health(r, epoch);
    r.st.epoch = epoch;
    ++r.res.epochs_run;
    const bool early = val && o.patience > 0 && r.st.wait >= o.patience;
    if (early) r.st.stopped = true;  // max_epochs is not recorded: a resume may extend the run
    save_checkpoints(r, improved);
    r.obs.on_epoch_end(row, improved, r.st.best_epoch);
    if (early) {
      r.res.stopped_early = true;
      r.obs.on_early_stop(epoch, r.st.best_epoch);
    }
  }
  restore_best_weights(r, val != nullptr);
  return finish(r);
}

}  // namespace radius
