// One layer's output summarised over a batch: what `radius explain` prints and
// what the training-health monitor (net/health.h) samples. One definition for both.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace radius {

// Statistics of an activation [N, units, ...] (rank 1: [units], one sample). A unit
// is a channel of a conv output or a feature of a dense one. Population std.
struct ActivationStats {
  double mean = 0, std = 0, min = 0, max = 0;
  double zero_fraction = 0;     // of all values, exactly 0
  int64_t channels = 0;         // units
  int64_t dead_channels = 0;    // units that are exactly 0 everywhere (a ReLU that never fired)
  std::vector<uint8_t> alive;   // per unit: some value > 0 (for windows over several batches)
  bool finite = true;           // no NaN/inf seen
  // Share of units never positive (NaN when there are no units). For ReLU outputs
  // (>= 0) this equals dead_channels / channels.
  double dead_fraction() const;
};

// Any device. A CPU tensor: one pass for the sums, one for the spread. A CUDA tensor:
// activation_stats_by_rows, reduced on the device (no copy of the tensor).
ActivationStats activation_stats(const Tensor& activation);

// The same statistics from per-(sample, unit) Moments (tensor/moments.h), merged in a
// fixed order: what a CUDA tensor gets; on a CPU tensor it checks that path (tests).
ActivationStats activation_stats_by_rows(const Tensor& activation);

}  // namespace radius
