#include "apps/run_common.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "data/synth_truth.h"
#include "io/atomic_file.h"
#include "eval/plot.h"

namespace radius::app {

namespace fs = std::filesystem;

void add_synth_breakdown(ReportData& report, const std::string& data_root, const std::vector<Prediction>& predictions,
                         double threshold) {
  std::error_code ec;
  const fs::path truth = fs::path(data_root) / "synth.csv";
  if (!fs::is_directory(data_root, ec) || !fs::exists(truth, ec)) return;
  try {
    report.breakdown = synth_breakdown(read_synth_truth_csv(truth.string()), predictions, threshold);
  } catch (const std::exception& e) {
    report.warnings.push_back("no breakdown by what each image shows: " + truth.string() + ": " + e.what());
  }
}

void write_learning_curves(const std::string& out_dir, const std::vector<HistoryRow>& history) {
  if (history.empty()) return;
  const LearningCurves c = plot_learning_curves(history);
  save_png(c.loss, out_dir + "/learning_curve_loss.png");
  save_png(c.accuracy, out_dir + "/learning_curve_accuracy.png");
}

Metrics write_evaluation(const std::string& out_dir, const std::vector<Prediction>& predictions, double threshold,
                         ReportData report, bool print) {
  if (predictions.empty()) throw std::runtime_error("nothing to evaluate: no images were predicted");
  fs::create_directories(out_dir);
  const std::vector<int> labels = labels_of(predictions);
  const std::vector<double> scores = scores_of(predictions);
  const Metrics m = compute_metrics(labels, scores, threshold, 0);
  const RocCurve roc = roc_curve(labels, scores, 0);
  const OperatingPoint op = operating_point_for_sensitivity(roc, 0.95);
  report.metrics = m;
  report.roc = roc;
  report.operating_point = op;
  if (op.met) report.operating_metrics = compute_metrics(labels, scores, op.threshold, 0);
  report.sweep = threshold_sweep(labels, scores, default_sweep_thresholds(), 0);
  if (m.confusion.predicted(0) == 0 || m.confusion.predicted(1) == 0)
    report.warnings.push_back("the model predicts a single class for every image (collapse): the metrics "
                              "of the other class are zero");
  write_predictions_csv(out_dir + "/predictions.csv", predictions, threshold);
  save_png(plot_confusion_matrix(m), out_dir + "/confusion_matrix.png");
  save_png(plot_roc(roc, op), out_dir + "/roc.png");
  report.files.emplace_back("predictions (path, label, score)", "predictions.csv");
  report.files.emplace_back("metrics", "metrics.json");
  report.files.emplace_back("confusion matrix", "confusion_matrix.png");
  report.files.emplace_back("ROC curve", "roc.png");
  if (!report.history.empty()) {
    write_learning_curves(out_dir, report.history);
    report.files.emplace_back("learning curve (loss)", "learning_curve_loss.png");
    report.files.emplace_back("learning curve (accuracy)", "learning_curve_accuracy.png");
  }
  write_metrics_json(out_dir + "/metrics.json", report);
  write_report_html(out_dir + "/report.html", report);
  if (print) {
    std::printf("%s\n%s\n", confusion_table(m).c_str(), classification_report(m).c_str());
    if (op.met)
      std::printf("operating point for >= 95%% fracture sensitivity: threshold %.4f, sensitivity %.3f, "
                  "specificity %.3f\n",
                  op.threshold, op.sensitivity, op.specificity);
    if (!report.breakdown.empty())
      std::printf("what it gets right, by what the image shows (synth.csv):\n%s",
                  breakdown_table(report.breakdown).c_str());
    std::printf("wrote %s/{metrics.json,predictions.csv,confusion_matrix.png,roc.png,report.html}\n",
                out_dir.c_str());
  }
  return m;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read '" + path + "'");
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("'" + path + "' is not valid JSON: " + e.what());
  }
}

void write_json_file(const std::string& path, const nlohmann::json& j) { write_file_atomic(path, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"); }

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace radius::app
