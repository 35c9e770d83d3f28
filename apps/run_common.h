// What train, evaluate (and predict/kfold) share beyond net/inference.h: writing an
// evaluation (metrics.json, predictions.csv, PNGs, report.html).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "eval/predictions_csv.h"
#include "eval/report.h"
#include "net/inference.h"  // predict_positions, locate_model, ... (shared with library users)
#include "net/sequential.h"

namespace radius::app {

// Prints the confusion matrix and classification report (fractured = positive) and
// writes into out_dir: metrics.json, predictions.csv, confusion_matrix.png, roc.png,
// report.html (plus the learning curves when report.history is not empty). Returns the metrics.
Metrics write_evaluation(const std::string& out_dir, const std::vector<Prediction>& predictions, double threshold,
                         ReportData report, bool print = true);

// The built-in synthetic data: when DATA_ROOT/synth.csv exists, the breakdown of the
// predictions by what each image shows (eval/synth_breakdown.h) goes into the report (and
// write_evaluation prints it); a synth.csv that does not describe these images adds a
// warning instead. Other data: nothing.
void add_synth_breakdown(ReportData& report, const std::string& data_root, const std::vector<Prediction>& predictions,
                         double threshold);

// learning_curve_loss.png and learning_curve_accuracy.png.
void write_learning_curves(const std::string& out_dir, const std::vector<HistoryRow>& history);

nlohmann::json read_json_file(const std::string& path);
void write_json_file(const std::string& path, const nlohmann::json& j);
std::string now_iso8601();

}  // namespace radius::app
