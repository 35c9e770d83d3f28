// Per-epoch, per-layer training-health statistics (net/health.h measures them):
// what health.csv holds and the report's heat-strips draw.
#pragma once
#include <string>
#include <vector>

#include "eval/metrics.h"  // kNaN

namespace radius {

// One layer in one epoch, over the epoch's sampled batches (every N batches and
// the epoch's last). A value that does not apply is NaN (an empty CSV field):
// dead_fraction for non-ReLU layers, the parameter columns for layers without
// that tensor.
struct LayerHealthRow {
  int epoch = 0;
  int layer = 0;          // index in the model (parameter names "layer.weight")
  std::string kind;       // "conv2d", "relu", ...
  int samples = 0;        // sampled batches this epoch
  double act_mean = kNaN, act_std = kNaN;  // of the layer's output, mean over samples
  // ReLU layers: share of units (channels of a conv output, features of a dense
  // one) that were never positive on any sampled batch of the epoch.
  double dead_fraction = kNaN;
  // The weight and bias tensors: L2 norm, L2 norm of the batch gradient, and the
  // update-to-weight ratio ||w_after - w_before|| / ||w_before|| of one step
  // (about 1e-3 is typical; 1e-1 means the weights are being rewritten each step).
  double weight_norm = kNaN, weight_grad_norm = kNaN, weight_update_ratio = kNaN;
  double bias_norm = kNaN, bias_grad_norm = kNaN, bias_update_ratio = kNaN;
};

// Columns: epoch,layer,kind,samples,act_mean,act_std,dead_fraction,weight_norm,
// weight_grad_norm,weight_update_ratio,bias_norm,bias_grad_norm,bias_update_ratio.
void write_health_csv(const std::string& path, const std::vector<LayerHealthRow>& rows);
// Reads what write_health_csv wrote (resume); errors name the file and line.
std::vector<LayerHealthRow> read_health_csv(const std::string& path);

}  // namespace radius
