#include "net/fusion.h"

namespace radius {

std::vector<bool> plan_conv_relu_fusion(const std::vector<const LayerKind*>& kinds, bool enabled) {
  std::vector<bool> fused(kinds.size(), false);
  if (!enabled) return fused;
  // i + 1 < size: a conv2d as the last layer has no relu to absorb. A relu that
  // was absorbed cannot start another pair (it fuses nothing), so pairs never overlap.
  for (size_t i = 0; i + 1 < kinds.size(); ++i) fused[i] = kinds[i]->forward_with_relu && kinds[i + 1]->rectifier;
  return fused;
}

std::vector<bool> plan_relu_backward_folds(const std::vector<const LayerKind*>& kinds, bool enabled) {
  std::vector<bool> folds(kinds.size(), false);
  if (!enabled) return folds;
  for (size_t i = 1; i < kinds.size(); ++i) folds[i] = kinds[i - 1]->rectifier && bool(kinds[i]->backward_with_relu);
  return folds;
}

}  // namespace radius
