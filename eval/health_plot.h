// Heat-strips of training health (eval/health_history.h): one row per layer,
// one cell per epoch, so a layer that dies or a rate that rewrites the weights
// shows as a dark band. Drawn with our own renderer (drawing.h), like plot.h.
#pragma once
#include <vector>

#include "eval/drawing.h"
#include "eval/health_history.h"

namespace radius {

enum class HealthMetric {
  dead_fraction,        // ReLU layers; 0 (white) .. 1 (dark red)
  weight_update_ratio,  // layers with weights; log10 scale 1e-5 (white) .. 1 (dark red)
};

// Rows: the layers that have the metric; cells without a value stay grey.
// Each cell is also labelled with its value when there is room.
Drawing plot_health_strip(const std::vector<LayerHealthRow>& rows, HealthMetric metric);

}  // namespace radius
