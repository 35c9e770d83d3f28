// radius metrics: every metric from a confusion matrix or a predictions CSV.
//
// Orientation (the paper's): "fractured" is the positive class.
//   --counts TP FN FP TN      TP = fractured predicted fractured, FN = fractured predicted
//                             not fractured, FP = not fractured predicted fractured,
//                             TN = not fractured predicted not fractured
//   --confusion "a,b,c,d"     the same four numbers as the matrix rows read: rows = true
//                             (fractured, not fractured), columns = predicted (same order)
// The seed paper's Table 1:  radius metrics --counts 694 32 54 195
// With --synth DATA (a `radius synth` folder, or its synth.csv), a predictions CSV is also
// split by what each image shows (eval/synth_breakdown.h).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "eval/metrics.h"
#include "eval/predictions_csv.h"
#include "eval/synth_breakdown.h"

namespace radius::app {

namespace {

struct MetricsCommand {
  std::string predictions, confusion, synth;
  std::vector<int64_t> counts;
  double threshold = 0.5;
};

void print_metrics(const Metrics& m) {
  std::printf("%s\n%s\n", confusion_table(m).c_str(), classification_report(m).c_str());
  std::printf("macro precision %.4f  macro recall %.4f  macro F1 %.4f\n", m.macro.precision, m.macro.recall,
              m.macro.f1);
  std::printf("accuracy %.4f  balanced accuracy %.4f  MCC %.4f  sensitivity %.4f  specificity %.4f\n", m.accuracy,
              m.balanced_accuracy, m.mcc, m.sensitivity, m.specificity);
}

void run_metrics(const MetricsCommand& o) {
  const int given = int(!o.predictions.empty()) + int(!o.confusion.empty()) + int(!o.counts.empty());
  if (!o.synth.empty() && o.predictions.empty()) throw std::runtime_error("--synth needs a PREDICTIONS.csv");
  if (given != 1) throw std::runtime_error("give exactly one of PREDICTIONS.csv, --counts TP FN FP TN, --confusion \"TP,FN,FP,TN\"");
  std::vector<int64_t> c = o.counts;
  if (!o.confusion.empty()) {
    std::stringstream ss(o.confusion);
    std::string item;
    while (std::getline(ss, item, ',')) {
      try {
        size_t used = 0;
        c.push_back(std::stoll(item, &used));
        if (used != item.size() && item.find_first_not_of(" ", used) != std::string::npos) throw std::invalid_argument("");
      } catch (const std::exception&) {
        throw std::runtime_error("--confusion: '" + item + "' is not a whole number");
      }
    }
  }
  if (!c.empty()) {
    if (c.size() != 4) throw std::runtime_error("a confusion matrix needs exactly 4 counts: TP FN FP TN");
    for (int64_t v : c)
      if (v < 0) throw std::runtime_error("counts must be >= 0");
    // fractured (class 0) = positive: TP = (0,0), FN = (0,1), FP = (1,0), TN = (1,1).
    print_metrics(compute_metrics(ConfusionMatrix::from_counts(c[0], c[1], c[2], c[3]), 0));
    return;
  }
  const auto rows = read_predictions_csv(o.predictions);
  const Metrics m = compute_metrics(labels_of(rows), scores_of(rows), o.threshold, 0);
  std::printf("%s: %zu predictions, threshold %g, fractured = positive\n", o.predictions.c_str(), rows.size(),
              o.threshold);
  print_metrics(m);
  std::printf("ROC AUC %.4f\n", m.auc);
  if (!o.synth.empty()) {
    const std::string truth =
        std::filesystem::is_directory(o.synth) ? (std::filesystem::path(o.synth) / "synth.csv").string() : o.synth;
    std::printf("\nwhat it gets right, by what the image shows (%s):\n%s", truth.c_str(),
                breakdown_table(synth_breakdown(read_synth_truth_csv(truth), rows, o.threshold)).c_str());
  }
}

}  // namespace

void add_metrics_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "metrics",
      "Every metric from a confusion matrix or a predictions CSV (fractured = positive).\n"
      "  --counts TP FN FP TN: TP fractured->fractured, FN fractured->not fractured,\n"
      "                        FP not fractured->fractured, TN not fractured->not fractured\n"
      "  e.g. the seed paper's Table 1: radius metrics --counts 694 32 54 195");
  auto o = std::make_shared<MetricsCommand>();
  cmd->add_option("PREDICTIONS", o->predictions, "A predictions.csv (path,label,score,...) from train, kfold, evaluate or predict");
  cmd->add_option("--counts", o->counts, "TP FN FP TN with fractured = positive")
      ->expected(4)
      ->check(number_check<int64_t>(non_negative()));
  cmd->add_option("--confusion", o->confusion,
                  "\"TP,FN,FP,TN\": rows true fractured / not fractured x columns predicted (same order)");
  add_shared_flag(*cmd, "--threshold", o->threshold);
  cmd->add_option("--synth", o->synth,
                  "With PREDICTIONS: the `radius synth` data folder (or its synth.csv) they were made on; "
                  "adds what the model gets right per kind of image");
  cmd->callback([o] { run_metrics(*o); });
}

}  // namespace radius::app
