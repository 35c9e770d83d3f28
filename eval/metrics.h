// Binary classification metrics, one definition each, with the class
// orientation explicit.
//
// Orientation. Labels are the class indices flow_from_directory assigns
// (alphabetical folder order): 0 = "fractured", 1 = "not fractured". The
// network's single sigmoid unit outputs score = P(class 1). A score becomes a
// class by Keras' rule (binary_accuracy, and `pred > 0.5` in the notebooks):
//
//     predicted class = score > threshold ? 1 : 0
//
// so a score exactly at the threshold counts as class 0. Metrics that need a
// "positive" class (sensitivity, specificity, ROC, AUC, operating points) take
// it as a parameter; the paper reports "fractured" (class 0) as positive, and
// that is the default everywhere here.
//
// Degenerate cases follow sklearn's zero_division=0: any ratio whose
// denominator is 0 (precision of a class never predicted, recall of an absent
// class, F1 when precision + recall = 0) is 0. MCC is 0 when undefined (a row
// or column of the confusion matrix is empty). AUC is NaN when a class is
// absent (it has no meaning then; JSON writes it as null).
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace radius {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The class names in label order (index = label).
using ClassNames = std::array<std::string, 2>;
inline ClassNames fracture_class_names() { return {"fractured", "not fractured"}; }

// Keras' decision rule (see above).
inline int predict_class(double score, double threshold) { return score > threshold ? 1 : 0; }

// counts[truth][predicted].
struct ConfusionMatrix {
  std::array<std::array<int64_t, 2>, 2> counts{};

  // From the four cells, named by (true class, predicted class).
  static ConfusionMatrix from_counts(int64_t true0_pred0, int64_t true0_pred1, int64_t true1_pred0,
                                     int64_t true1_pred1);
  // Counts each (label, predict_class(score, threshold)). Labels must be 0 or 1
  // and scores finite; sizes must match (std::invalid_argument otherwise).
  static ConfusionMatrix from_scores(const std::vector<int>& labels, const std::vector<double>& scores,
                                     double threshold);

  int64_t at(int truth, int predicted) const { return counts[size_t(truth)][size_t(predicted)]; }
  int64_t support(int c) const { return at(c, 0) + at(c, 1); }    // samples truly of class c
  int64_t predicted(int c) const { return at(0, c) + at(1, c); }  // samples predicted as c
  int64_t total() const { return support(0) + support(1); }
  int64_t correct() const { return at(0, 0) + at(1, 1); }
  bool operator==(const ConfusionMatrix&) const = default;
};

// One row of a classification report.
struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct Metrics {
  ConfusionMatrix confusion;
  int positive = 0;           // the class sensitivity/specificity/AUC refer to
  double threshold = kNaN;    // the decision threshold, NaN when built from a confusion matrix
  ClassNames class_names = fracture_class_names();

  std::array<ClassScores, 2> per_class;  // index = class
  ClassScores macro;     // unweighted mean over the two classes (support = total)
  ClassScores weighted;  // mean weighted by support (support = total)
  double accuracy = 0;
  double balanced_accuracy = 0;  // mean per-class recall
  double mcc = 0;                // Matthews correlation coefficient, in [-1, 1]
  double sensitivity = 0;        // recall of the positive class (TPR)
  double specificity = 0;        // recall of the negative class (TNR)
  double auc = kNaN;             // ROC AUC for the positive class; NaN unless computed from scores
};

// Every metric from a confusion matrix (positive: 0 or 1).
Metrics compute_metrics(const ConfusionMatrix& cm, int positive = 0,
                        const ClassNames& names = fracture_class_names());
// The same at a threshold, plus the ROC AUC (which uses the scores, not the threshold).
Metrics compute_metrics(const std::vector<int>& labels, const std::vector<double>& scores, double threshold = 0.5,
                        int positive = 0, const ClassNames& names = fracture_class_names());

// ---- ROC -------------------------------------------------------------------
//
// One point per distinct score plus the all-negative start: walking the points
// in order moves from (fpr, tpr) = (0, 0) to (1, 1). Tied scores move together
// (one diagonal step), which is what makes the trapezoid area equal the
// Mann-Whitney statistic P(score of a random positive ranks above a random
// negative) + 0.5 P(tie). Each point's threshold is usable with predict_class:
// for positive = 0, "fractured iff score <= threshold" (thresholds rise from
// -inf to the largest score); for positive = 1, "class 1 iff score >
// threshold" (thresholds fall from the largest score to -inf). A threshold of
// -inf is written to JSON as null.
struct RocPoint {
  double threshold = 0;
  double fpr = 0, tpr = 0;
  int64_t tp = 0, fp = 0;  // positives / negatives predicted positive at this threshold
};

struct RocCurve {
  int positive = 0;
  int64_t n_positive = 0, n_negative = 0;
  std::vector<RocPoint> points;
  double auc = kNaN;  // trapezoid area under the points; NaN when a class is absent
};

RocCurve roc_curve(const std::vector<int>& labels, const std::vector<double>& scores, int positive = 0);
// Trapezoid area under (fpr, tpr) points in walking order.
double auc_trapezoid(const std::vector<RocPoint>& points);

// ---- thresholds --------------------------------------------------------------

// The metrics at each threshold, in the order given.
std::vector<Metrics> threshold_sweep(const std::vector<int>& labels, const std::vector<double>& scores,
                                     const std::vector<double>& thresholds, int positive = 0);
// 0.00, 0.05, ..., 1.00: a coarse sweep a person can read.
std::vector<double> default_sweep_thresholds();

// A chosen operating point on a ROC curve.
struct OperatingPoint {
  std::string rule;     // how it was chosen, in words
  bool met = false;     // false when no point satisfies the rule (e.g. no positives)
  double threshold = kNaN;
  double sensitivity = 0, specificity = 0;
};

// In the clinic a missed fracture costs more than a false alarm: the point with
// the fewest false positives whose sensitivity is >= min_sensitivity (the first
// such point walking from (0,0), i.e. the most conservative threshold on the
// positive class's score).
OperatingPoint operating_point_for_sensitivity(const RocCurve& roc, double min_sensitivity);
// The point maximising Youden's J = sensitivity + specificity - 1 (first on ties).
OperatingPoint operating_point_youden(const RocCurve& roc);

// ---- k-fold summaries -----------------------------------------------------------

// One metric across folds. mean and sd use the finite values only (a fold
// with a single class has no AUC); sd is the sample standard deviation
// (n - 1 in the denominator; NaN below two values, where it is undefined).
struct MetricSummary {
  std::string name;
  std::vector<double> values;  // one per fold, NaN where undefined
  double mean = kNaN, sd = kNaN;
};
// The headline numbers of one evaluation, by name, in report order.
std::vector<std::pair<std::string, double>> headline_values(const Metrics& m);
std::vector<MetricSummary> summarize_folds(const std::vector<Metrics>& folds);

// ---- output --------------------------------------------------------------------

// Like sklearn's classification_report (per-class rows, accuracy, macro and
// weighted averages), followed by balanced accuracy, MCC, sensitivity and
// specificity of the positive class, and AUC when known.
std::string classification_report(const Metrics& m, int digits = 2);
// The confusion matrix as a small labelled table.
std::string confusion_table(const Metrics& m);
// One line per threshold: threshold, sensitivity, specificity, precision, F1 (of the positive class), MCC.
std::string sweep_table(const std::vector<Metrics>& sweep, int digits = 3);

// nlohmann-json serialisers (found by ADL: json j = metrics;). NaN and
// infinities become null.
void to_json(nlohmann::json& j, const ConfusionMatrix& cm);
void to_json(nlohmann::json& j, const ClassScores& s);
void to_json(nlohmann::json& j, const Metrics& m);
void to_json(nlohmann::json& j, const RocCurve& roc);
void to_json(nlohmann::json& j, const OperatingPoint& op);

}  // namespace radius
