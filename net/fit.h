// The epoch loop as a library: train epoch -> validation epoch -> history row ->
// checkpoints (last every epoch, best when validation loss improves) -> early
// stopping (restoring the best weights at the end), with NaN/inf detection and
// exact resume from a checkpoint.
//
//   LoaderBatches train(train_loader), val(val_loader);
//   FitOptions o; o.max_epochs = 50; o.patience = 5;
//   o.last_checkpoint = "run/last.ckpt.safetensors"; o.best_checkpoint = "run/best.ckpt.safetensors";
//   FitResult r = fit(model, optimizer, train, &val, o, &observer);
//
// Determinism: an epoch's batches must be a pure function of the epoch number (the
// Loader's are: (seed, epoch)); the model's randomness is the dropout counters and the
// optimizer's the step count, both checkpointed. So a run resumed from the checkpoint
// of epoch e repeats, bit for bit, the rest of the uninterrupted run (same threads).
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/loader.h"
#include "eval/history.h"
#include "net/checkpoint.h"
#include "net/comm.h"
#include "net/health.h"
#include "net/sequential.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace radius {

// Where batches come from: images [n, C, H, W] (CPU, or already on the model's device:
// DeviceAugmentBatches), labels [n] on the CPU.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual void start_epoch(uint64_t epoch) = 0;  // epochs count from 1 in fit()
  virtual bool next(Tensor& images, Tensor& labels) = 0;  // false at the end of the epoch
  virtual int64_t batches_per_epoch() const = 0;
  virtual int64_t samples_per_epoch() const = 0;
};

// Adapter over the data Loader (it must outlive this object).
class LoaderBatches final : public BatchSource {
 public:
  explicit LoaderBatches(Loader& loader) : loader_(loader) {}
  void start_epoch(uint64_t epoch) override { loader_.start_epoch(epoch); }
  bool next(Tensor& images, Tensor& labels) override;
  int64_t batches_per_epoch() const override { return loader_.batches_per_epoch(); }
  int64_t samples_per_epoch() const override { return loader_.samples_per_epoch(); }

 private:
  Loader& loader_;
  Batch batch_;
};

// Fixed in-memory batches, the same every epoch (tests, small experiments).
class MemoryBatches final : public BatchSource {
 public:
  struct Item {
    Tensor images, labels;
  };
  explicit MemoryBatches(std::vector<Item> batches) : batches_(std::move(batches)) {}
  void start_epoch(uint64_t) override { pos_ = 0; }
  bool next(Tensor& images, Tensor& labels) override;
  int64_t batches_per_epoch() const override { return int64_t(batches_.size()); }
  int64_t samples_per_epoch() const override;

 private:
  std::vector<Item> batches_;
  size_t pos_ = 0;
};

struct FitOptions {
  int max_epochs = 50;
  int patience = 0;          // early stopping: epochs without val-loss improvement; 0 = off
  double min_delta = 0.0;    // an improvement must lower val loss by more than this
  bool restore_best = true;  // at the end, load the best epoch's weights (needs validation)
  std::string last_checkpoint;  // written after every epoch ("" = none)
  std::string best_checkpoint;  // written when val loss improves ("" = none)
  uint64_t seed = 0;            // recorded in checkpoints
  nlohmann::json config = nlohmann::json::object();  // recorded in checkpoints
  bool check_gradients = true;  // CPU: scan gradients for NaN/inf after every step
  // Recipe options, all off by default (the seed paper's recipe):
  LrSchedule lr_schedule;       // when active(), sets the optimizer's rate before every update
  double clip_norm = 0;         // global gradient-norm clipping (optim/clip.h); 0 = off
  int micro_batches = 1;        // gradient accumulation over this many micro-batches per batch (net/train.h)
  HealthOptions health;         // statistics + warnings (net/health.h); health.every = 0 turns them off
  // Batch-norm recalibration ("precise batch norm"): after each training epoch, before
  // validation and the checkpoints, the running statistics are re-estimated as the
  // plain average over one pass of these batches (Mode::calibrate: forward only, no
  // gradient, no dropout). Meant for unaugmented training images: the running averages
  // of training then lag the weights and describe augmented images, and an evaluation
  // on clean images by them swings from epoch to epoch. Null: off. Its batches must be
  // a pure function of the epoch, as the training batches are (resume stays exact).
  BatchSource* recalibration = nullptr;
  // Data parallelism (net/comm.h, net/train.h): every rank calls fit() with the same
  // batches; each runs its share of every batch's micro-batches (micro_batches M >= R, or
  // R when it is 1), validation batches are shared out round-robin, and the ranks end with
  // the same weights, bit for bit, as one process with M micro-batches. Rank 0 alone
  // writes checkpoints and runs the health monitor
  // (the observer of other ranks should stay silent). nullptr: one process.
  Communicator* comm = nullptr;
};

// Progress callbacks (all optional). Epochs count from 1.
class FitObserver {
 public:
  virtual ~FitObserver() = default;
  virtual void on_epoch_begin(int /*epoch*/, int /*max_epochs*/, int64_t /*batches*/) {}
  // After each training batch: running means over the epoch so far.
  virtual void on_train_batch(int /*epoch*/, int64_t /*batch*/, int64_t /*batches*/, int64_t /*images*/,
                              double /*running_loss*/, double /*running_accuracy*/, double /*seconds*/) {}
  virtual void on_epoch_end(const HistoryRow& /*row*/, bool /*improved*/, int /*best_epoch*/) {}
  virtual void on_early_stop(int /*epoch*/, int /*best_epoch*/) {}
  virtual void on_restore_best(int /*best_epoch*/, double /*best_val_loss*/) {}
  // Training health (net/health.h): a warning as it fires; the epoch's per-layer rows
  // (called before on_epoch_end).
  virtual void on_health_warning(const HealthWarning& /*warning*/) {}
  virtual void on_health_epoch(const std::vector<LayerHealthRow>& /*rows*/) {}
  // The step (1-based over the run; batch b of epoch e) at which the model left the
  // class prior (net/health.h, "Takeoff"); called once per run.
  virtual void on_takeoff(int64_t /*step*/, int /*epoch*/, int64_t /*batch*/) {}
};

struct FitResult {
  std::vector<HistoryRow> history;  // every epoch of the run, resumed ones included
  int best_epoch = 0;               // 0 when there was no validation
  double best_val_loss = std::numeric_limits<double>::infinity();
  bool stopped_early = false;
  bool restored_best = false;
  int epochs_run = 0;               // in this call
  CheckpointState state;            // the final state (as the last checkpoint holds it)
  std::vector<LayerHealthRow> health;            // per epoch and layer, epochs of this call only
  std::vector<HealthWarning> health_warnings;    // as they fired in this call
  double step_seconds = 0, allreduce_seconds = 0;  // data-parallel: the steps' time and their all-reduce's (this call)
};

// Thrown when a loss or gradient becomes NaN or infinite.
class NonFiniteError : public std::runtime_error {
 public:
  NonFiniteError(const std::string& what, int epoch, int64_t batch)
      : std::runtime_error(what), epoch(epoch), batch(batch) {}
  int epoch;
  int64_t batch;  // 1-based
};

// Trains `model` (init()ed, on its device; batches are copied there) with `optimizer`.
// `val` may be null (no validation: no best checkpoint, no early stopping). `resume`:
// the state from load_checkpoint (model and optimizer already restored); training
// continues at resume->epoch + 1 with its history, early-stopping state and the
// health monitor's memory (warnings already fired stay fired).
FitResult fit(Sequential& model, Optimizer& optimizer, BatchSource& train, BatchSource* val,
              const FitOptions& options, FitObserver* observer = nullptr,
              const CheckpointState* resume = nullptr);

// Re-estimates the running statistics of the model's batch-statistics layers (batch
// norm) over one pass of `source` in Mode::calibrate (see FitOptions::recalibration).
void recalibrate_statistics(Sequential& model, BatchSource& source, uint64_t epoch);

// Mean loss and accuracy of `model` over one pass of `source` (eval mode).
struct EvalResult {
  double loss = 0, accuracy = 0;
  int64_t samples = 0;
};
// With `comm` of R ranks, rank r evaluates batches r, r + R, ... and the per-batch sums
// are combined in batch order: the same bits as one process, 1/R of the work each.
EvalResult evaluate_batches(Sequential& model, BatchSource& source, uint64_t epoch = 1, Communicator* comm = nullptr);

}  // namespace radius
