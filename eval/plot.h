// The run's charts, drawn by our own small renderer (drawing.h -> raster.h /
// SVG): no plotting stack. Each function returns a Drawing; save_png writes it
// for papers, to_svg() inlines it in report.html.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "eval/drawing.h"
#include "eval/history.h"
#include "eval/metrics.h"

namespace radius {

// Train vs validation per epoch, one chart for loss and one for accuracy. The
// epoch with the lowest validation loss (the weights early stopping keeps) is
// marked with a dashed line.
struct LearningCurves {
  Drawing loss, accuracy;
};
LearningCurves plot_learning_curves(const std::vector<HistoryRow>& history);

// A 2x2 heat map: rows are the true class, columns the predicted class; each
// cell shows its count and its share of the row (so the diagonal reads as
// per-class recall), shaded by that share.
Drawing plot_confusion_matrix(const Metrics& m);

// The ROC curve with the chance diagonal, the AUC in the legend, and the
// operating point (when given and met) marked and labelled.
Drawing plot_roc(const RocCurve& roc, const std::optional<OperatingPoint>& op = std::nullopt,
                 const ClassNames& names = fracture_class_names());

// Rasterizes at pixel_scale device pixels per logical pixel and writes an
// 8-bit RGB PNG atomically.
void save_png(const Drawing& d, const std::string& path, int pixel_scale = 2);

}  // namespace radius
