// Training health: cheap per-layer statistics sampled during training, and
// detectors that turn them into plain-language warnings while the run goes on.
//
// Why: the seed paper's recipe can collapse within ~50 batches (dead ReLUs, a
// constant "always fractured" output, the loss parked at the class-prior
// entropy) and nothing in the loss curve says why. The monitor samples every N
// batches (and each epoch's last batch) and measures, per layer:
//   - the output's mean and std, and for ReLU layers the share of dead units
//     (channels / features never positive over the batch);
//   - the weight and bias tensors' L2 norms, their gradients' norms, and the
//     update-to-weight ratio ||w_after - w_before|| / ||w_before|| of the step.
// Detectors (each fires at most once per run and key, so no spam; a resumed run
// continues the monitor's memory from the checkpoint, see HealthState):
//   dead-units           a ReLU layer with >= 50 % dead units on `persist` samples
//   collapse             the output probability's std over the batch ~0 (constant prediction)
//   large-updates        a weight tensor's update ratio > 0.05 (the rate rewrites the weights)
//   exploding-gradients  the global gradient norm > 100x its first sampled value
//   vanishing-gradients  a weight tensor's gradient norm < 1e-6 of its norm (no signal)
//   prior-entropy        the mean loss over a window equals the class-prior entropy;
//                        the message says what the last sample measured (dead units,
//                        the weakest gradient, the output's spread)
//   non-finite           names the first layer whose output (or gradient) is NaN/inf;
//                        fit() still stops with NonFiniteError right after
// Takeoff: the first step at which the training loss, averaged over the last
// entropy_window batches, is kTakeoffMargin nats under the class-prior entropy (for
// balanced classes: under 0.593). Before it the model predicts the prior; the step
// is printed, kept in health.json, and shown by `radius explain RUN`.
// Warnings only inform: nothing here changes the run.
//
// Cost: on a sampled batch, one pass over every activation, one over the
// parameters and gradients, and one copy of the parameters taken before the
// step. CUDA: the statistics are reduced on the device (tensor/moments.h); only
// the [N,1] logits and the small per-row partial results come back. A conv2d fused
// with its ReLU on CUDA (net/fusion.h) has no pre-ReLU output, so its row there
// describes the conv+ReLU output (the ReLU row is unchanged): compare such rows
// with the CPU's ReLU row, not its conv row.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "eval/health_history.h"
#include "net/activation_stats.h"
#include "net/sequential.h"

namespace radius {

struct HealthOptions {
  int every = 10;                    // sample every N training batches (+ each epoch's last); 0 = off
  int persist = 3;                   // consecutive samples a slow condition must hold before it fires
  double dead_fraction = 0.5;        // dead-units: share of a ReLU layer's units
  double collapse_std = 1e-3;        // collapse: std of the output probability over the batch
  double large_update_ratio = 0.05;  // large-updates: ||dw|| / ||w|| of one step
  double explode_factor = 100;       // exploding-gradients: x the first sampled global norm
  double vanish_ratio = 1e-6;        // vanishing-gradients: ||g|| / ||w||
  int64_t entropy_window = 50;       // prior-entropy: batches averaged (after as many of grace)
  double entropy_tolerance = 0.01;   // prior-entropy: |mean loss - H(prior)| in nats
};

struct HealthWarning {
  std::string code;   // "dead-units", "collapse", ... (see above)
  int epoch = 0;
  int64_t batch = 0;  // 1-based, within the epoch
  int layer = -1;     // -1: the whole model
  std::string message;  // what, the numbers, and what usually helps
};


// What the monitor remembers from one batch to the next, so what a checkpoint keeps
// (written at epoch ends, when the per-epoch accumulators are empty): a resumed run
// then warns exactly as the uninterrupted run would, each warning still once per run.
struct HealthState {
  std::vector<HealthWarning> warnings;  // every warning fired so far; their (code, layer) are the fired keys
  std::map<std::string, int> streaks;   // detector key -> sampled batches in a row its condition held
  double first_grad_norm = kNaN;        // exploding-gradients' reference
  struct BatchLoss {
    double loss_sum = 0, samples = 0, positives = 0;  // loss * n, n, labels == 1
  };
  std::deque<BatchLoss> loss_window;  // prior-entropy: the last entropy_window batches
  BatchLoss window_total;             // their sum, kept as it ran (not re-added: bit-exact)
  int64_t steps_seen = 0;             // training batches seen (the prior-entropy grace period)
  int64_t takeoff_step = -1;          // 1-based step the model left the prior (-1: not yet)
};

// -p ln p - (1 - p) ln(1 - p), in nats (0 at p = 0 or 1): the loss of a model that
// predicts the class prior p for every image.
double class_prior_entropy(double p);

inline constexpr double kTakeoffMargin = 0.1;  // nats under the prior entropy: left the prior

// One layer on one sampled batch (NaN where it does not apply).
struct LayerSample {
  double act_mean = kNaN, act_std = kNaN, dead_fraction = kNaN;
  int64_t units = 0;
  bool finite = true;
  double weight_norm = kNaN, weight_grad_norm = kNaN, weight_update_ratio = kNaN;
  double bias_norm = kNaN, bias_grad_norm = kNaN, bias_update_ratio = kNaN;
  bool grads_finite = true;
};

class HealthMonitor {
 public:
  HealthMonitor(const Sequential& model, HealthOptions options);
  bool enabled() const { return options_.every > 0; }
  // Whether the training batch at global step `step` (0-based) is sampled.
  bool wants(int64_t step, bool last_of_epoch) const;
  // Call before the optimizer step of a sampled batch: keeps the parameters.
  void before_step(const Sequential& model);
  // Call after every training step with the batch's CPU labels and loss.
  // `sampled`: measure this batch (before_step was called); a non-finite loss
  // measures it too, to name where the NaN starts. Returns the warnings that
  // fired now.
  std::vector<HealthWarning> after_step(Sequential& model, const Tensor& labels_cpu, double loss, int epoch,
                                        int64_t batch, bool sampled);
  // The epoch's per-layer rows (averages over its samples); starts the next epoch.
  std::vector<LayerHealthRow> end_epoch(int epoch);

  const std::vector<LayerSample>& last_sample() const { return last_; }  // per body layer
  const std::vector<HealthWarning>& warnings() const { return memory_.warnings; }
  int64_t takeoff_step() const { return memory_.takeoff_step; }  // -1: still at the prior
  // For checkpoints: the memory between batches, and continuing from it (resume).
  const HealthState& state() const { return memory_; }
  void restore(const HealthState& state);

 private:
  struct ParamSlot {
    int layer;
    bool is_bias;
    int64_t offset, size;
  };
  struct Mean {
    double sum = 0;
    int n = 0;
    void add(double v);
    double value() const;
  };
  struct EpochAccumulator {
    int samples = 0;
    Mean act_mean, act_std, w_norm, w_grad, w_ratio, b_norm, b_grad, b_ratio;
    std::vector<uint8_t> alive;  // ReLU layers: units positive on any sample this epoch
  };

  void measure(Sequential& model, bool have_before);
  void measure_params(Sequential& model, bool have_before);
  void detect(const Sequential& model, int epoch, int64_t batch, std::vector<HealthWarning>& fired);
  void detect_loss(const Sequential& model, double loss, const Tensor& labels_cpu, int epoch, int64_t batch,
                   std::vector<HealthWarning>& fired);
  // What the last sample measured that can hold a model at the prior, in one sentence.
  std::string diagnosis(const Sequential& model) const;
  // Counts consecutive samples where `condition` holds; true once when it reaches `needed`.
  bool persistent(const std::string& key, bool condition, int needed);
  void fire(std::vector<HealthWarning>& fired, HealthWarning w);
  std::string layer_name(const Sequential& model, int i) const;

  HealthOptions options_;
  size_t body_ = 0;
  std::vector<std::string> kinds_;  // per body layer
  std::vector<ParamSlot> slots_;
  Tensor before_;  // the parameters before the sampled step (a copy on the model's device)
  std::vector<LayerSample> last_;
  double output_std_ = kNaN, output_mean_ = kNaN;
  double global_grad_norm_ = kNaN;
  std::vector<EpochAccumulator> epoch_;
  HealthState memory_;
  std::set<std::string> fired_;  // "code/layer" of memory_.warnings
};

}  // namespace radius
