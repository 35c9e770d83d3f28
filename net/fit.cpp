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

EvalResult evaluate_batches(Sequential& model, BatchSource& source, uint64_t epoch) {
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
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
  while (source.next(x, y)) {
    const StepResult s = t.evaluate(on_device(x, model.device()), on_device(y, model.device()));
    const int64_t n = x.dim(0);
    loss_sum += s.loss * double(n);
    correct += s.correct;
    r.samples += n;
  }
  if (r.samples > 0) {
    r.loss = loss_sum / double(r.samples);
    r.accuracy = double(correct) / double(r.samples);
  }
  return r;
}

FitResult fit(Sequential& model, Optimizer& optimizer, BatchSource& train, BatchSource* val,
              const FitOptions& o, FitObserver* observer, const CheckpointState* resume) {
  if (o.max_epochs < 0) throw std::invalid_argument("fit: max_epochs must be >= 0");
  if (train.samples_per_epoch() <= 0) throw std::invalid_argument("fit: the training set is empty");
  FitObserver quiet;
  FitObserver& obs = observer ? *observer : quiet;

  CheckpointState st;
  if (resume) st = *resume;
  st.seed = o.seed;
  st.config = o.config;
  FitResult res;

  // Best weights, in memory (for restore_best); on resume, from the best checkpoint.
  Tensor best_params;
  if (resume && st.best_epoch > 0 && st.best_epoch == st.epoch) {
    // The last epoch was the best: its weights are the ones just restored. The best
    // checkpoint may be older (a kill between the two writes below): bring it up to date.
    best_params = model.params().clone();
    if (!o.best_checkpoint.empty()) save_checkpoint(o.best_checkpoint, model, optimizer, st);
  } else if (resume && st.best_epoch > 0 && !o.best_checkpoint.empty()) {
    const CheckpointFile best = read_checkpoint(o.best_checkpoint);
    if (best.state.epoch != st.best_epoch)
      throw std::runtime_error("checkpoint '" + o.best_checkpoint + "' holds epoch " +
                               std::to_string(best.state.epoch) + " but the last checkpoint names epoch " +
                               std::to_string(st.best_epoch) + " as the best (files from different runs?)");
    // Load into a scratch copy of the parameters through the model itself.
    const Tensor current = model.params().clone();
    apply_checkpoint(best, o.best_checkpoint, model, nullptr);
    best_params = model.params().clone();
    model.params().copy_from(current);
    model.set_counters(st.layer_counters);
  }

  Trainer trainer(model, optimizer);
  trainer.set_clip_norm(o.clip_norm);
  if (o.lr_schedule.active()) o.lr_schedule.validate();
  HealthMonitor health(model, o.health);
  if (health.enabled() && st.health) health.restore(*st.health);  // warnings fired before the resume stay fired
  const bool can_check_grads = o.check_gradients && model.device() == Device::cpu;
  for (int epoch = st.epoch + 1; epoch <= o.max_epochs && !st.stopped; ++epoch) {
    const auto t0 = clock_type::now();
    const int64_t batches = train.batches_per_epoch();
    obs.on_epoch_begin(epoch, o.max_epochs, batches);
    train.start_epoch(uint64_t(epoch));
    Tensor x, y;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0, b = 0;
    while (train.next(x, y)) {
      ++b;
      if (o.lr_schedule.active()) optimizer.set_learning_rate(float(o.lr_schedule.lr_at(st.global_step)));
      const bool sampled = health.wants(st.global_step, b == batches);
      if (sampled) health.before_step(model);
      const StepResult r = trainer.step(on_device(x, model.device()), on_device(y, model.device()));
      const int64_t n = x.dim(0);
      const bool loss_ok = std::isfinite(r.loss);
      // Before the NaN stop below, so a NaN's first layer is named.
      for (const HealthWarning& w : health.after_step(model, y, r.loss, epoch, b, sampled)) {
        res.health_warnings.push_back(w);
        obs.on_health_warning(w);
      }
      if (!loss_ok || (can_check_grads && !all_finite(model.grads())))
        throw NonFiniteError("training stopped: the " + std::string(loss_ok ? "gradient" : "loss") +
                                 " became " + (loss_ok ? "NaN or infinite" : (std::isnan(r.loss) ? "NaN" : "infinite")) +
                                 " at epoch " + std::to_string(epoch) + ", batch " + std::to_string(b) + "/" +
                                 std::to_string(batches) + " (try a lower learning rate); " +
                                 last_good(o, st.epoch),
                             epoch, b);
      loss_sum += r.loss * double(n);
      correct += r.correct;
      seen += n;
      ++st.global_step;
      obs.on_train_batch(epoch, b, batches, seen, loss_sum / double(seen), double(correct) / double(seen), since(t0));
    }
    HistoryRow row;
    row.epoch = epoch;
    row.train_loss = seen ? loss_sum / double(seen) : kNaN;
    row.train_accuracy = seen ? double(correct) / double(seen) : kNaN;
    row.learning_rate = optimizer.learning_rate();
    bool improved = false;
    if (val) {
      const EvalResult v = evaluate_batches(model, *val, uint64_t(epoch));
      row.val_loss = v.loss;
      row.val_accuracy = v.accuracy;
      if (!std::isfinite(v.loss))
        throw NonFiniteError("training stopped: the validation loss became non-finite at epoch " +
                                 std::to_string(epoch) + "; " + last_good(o, st.epoch),
                             epoch, 0);
      if (st.best_epoch == 0 || v.loss < st.best_val_loss - o.min_delta) {
        improved = true;
        st.best_val_loss = v.loss;
        st.best_epoch = epoch;
        st.wait = 0;
        if (o.restore_best) best_params = model.params().clone();
      } else {
        ++st.wait;
      }
    }
    row.seconds = since(t0);
    st.history.push_back(row);
    if (health.enabled()) {
      const std::vector<LayerHealthRow> rows = health.end_epoch(epoch);
      res.health.insert(res.health.end(), rows.begin(), rows.end());
      obs.on_health_epoch(rows);
    }
    st.epoch = epoch;
    if (health.enabled()) st.health = health.state();
    ++res.epochs_run;
    const bool early = val && o.patience > 0 && st.wait >= o.patience;
    if (early) st.stopped = true;  // max_epochs is not recorded: a resume may extend the run
    // Last first, then best: a kill between the two leaves a last checkpoint whose best
    // epoch is its own epoch, which resuming repairs (above). The other order would leave
    // a best file newer than the last one says, with the true best weights overwritten.
    if (!o.last_checkpoint.empty()) save_checkpoint(o.last_checkpoint, model, optimizer, st);
    if (improved && !o.best_checkpoint.empty()) save_checkpoint(o.best_checkpoint, model, optimizer, st);
    obs.on_epoch_end(row, improved, st.best_epoch);
    if (early) {
      res.stopped_early = true;
      obs.on_early_stop(epoch, st.best_epoch);
    }
  }
  if (o.restore_best && val && st.best_epoch > 0 && best_params.defined() && st.best_epoch != st.epoch) {
    model.params().copy_from(best_params);
    res.restored_best = true;
    obs.on_restore_best(st.best_epoch, st.best_val_loss);
  }
  res.history = st.history;
  res.best_epoch = st.best_epoch;
  res.best_val_loss = st.best_val_loss;
  st.optimizer_steps = optimizer.steps();
  st.layer_counters = model.counters();
  res.state = st;
  return res;
}

}  // namespace radius
