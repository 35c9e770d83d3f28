// What train, evaluate (and predict/kfold) share: predicting a list of samples,
// and writing an evaluation (metrics.json, predictions.csv, PNGs, report.html).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/image_cache.h"
#include "eval/predictions_csv.h"
#include "eval/report.h"
#include "net/sequential.h"

namespace radius::app {

// The image cache options for a model: its input [C, H, W].
ImageCacheOptions cache_options_for(const Sequential& model, int threads);

// P(class 1) for each cache position (eval mode, rescale only, in order), with the
// sample's path (relative to the data root when possible) and label.
std::vector<Prediction> predict_positions(Sequential& model, const Dataset& data, const ImageCache& cache,
                                          const std::vector<size_t>& positions, int64_t batch);

// Prints the confusion matrix and classification report (fractured = positive) and
// writes into out_dir: metrics.json, predictions.csv, confusion_matrix.png, roc.png,
// report.html (plus the learning curves when report.history is not empty). Returns the metrics.
Metrics write_evaluation(const std::string& out_dir, const std::vector<Prediction>& predictions, double threshold,
                         ReportData report, bool print = true);

// learning_curve_loss.png and learning_curve_accuracy.png.
void write_learning_curves(const std::string& out_dir, const std::vector<HistoryRow>& history);

nlohmann::json read_json_file(const std::string& path);
void write_json_file(const std::string& path, const nlohmann::json& j);
std::string now_iso8601();
std::string relative_to(const std::string& path, const std::string& root);

}  // namespace radius::app
