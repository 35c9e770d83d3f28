#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace radius {
namespace {

// zero_division = 0: a ratio with nothing to divide by is 0 (see metrics.h).
double ratio(double num, double den) { return den == 0 ? 0.0 : num / den; }

void check_class(int c, const char* what) {
  if (c != 0 && c != 1) throw std::invalid_argument(std::string(what) + " must be 0 or 1, got " + std::to_string(c));
}

void check_inputs(const std::vector<int>& labels, const std::vector<double>& scores) {
  if (labels.size() != scores.size())
    throw std::invalid_argument("metrics: " + std::to_string(labels.size()) + " labels but " +
                                std::to_string(scores.size()) + " scores");
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1)
      throw std::invalid_argument("metrics: label " + std::to_string(i) + " is " + std::to_string(labels[i]) +
                                  ", expected 0 or 1");
    if (!std::isfinite(scores[i]))
      throw std::invalid_argument("metrics: score " + std::to_string(i) + " is not a finite number");
  }
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

ConfusionMatrix ConfusionMatrix::from_counts(int64_t true0_pred0, int64_t true0_pred1, int64_t true1_pred0,
                                             int64_t true1_pred1) {
  if (true0_pred0 < 0 || true0_pred1 < 0 || true1_pred0 < 0 || true1_pred1 < 0)
    throw std::invalid_argument("confusion matrix counts must be non-negative");
  ConfusionMatrix cm;
  cm.counts = {{{true0_pred0, true0_pred1}, {true1_pred0, true1_pred1}}};
  return cm;
}

ConfusionMatrix ConfusionMatrix::from_scores(const std::vector<int>& labels, const std::vector<double>& scores,
                                             double threshold) {
  check_inputs(labels, scores);
  if (std::isnan(threshold)) throw std::invalid_argument("metrics: threshold is NaN");
  ConfusionMatrix cm;
  for (size_t i = 0; i < labels.size(); ++i) cm.counts[size_t(labels[i])][size_t(predict_class(scores[i], threshold))]++;
  return cm;
}

Metrics compute_metrics(const ConfusionMatrix& cm, int positive, const ClassNames& names) {
  check_class(positive, "positive class");
  Metrics m;
  m.confusion = cm;
  m.positive = positive;
  m.class_names = names;
  const double total = double(cm.total());

  for (int c = 0; c < 2; ++c) {
    const double tp = double(cm.at(c, c));
    const double fp = double(cm.at(1 - c, c));  // the other class predicted as c
    const double fn = double(cm.at(c, 1 - c));  // c predicted as the other class
    ClassScores& s = m.per_class[size_t(c)];
    s.precision = ratio(tp, tp + fp);
    s.recall = ratio(tp, tp + fn);
    s.f1 = ratio(2 * tp, 2 * tp + fp + fn);  // = 2PR/(P+R), and 0 rather than 0/0 when P = R = 0
    s.support = cm.support(c);
  }

  const auto& [a, b] = m.per_class;
  m.macro = {(a.precision + b.precision) / 2, (a.recall + b.recall) / 2, (a.f1 + b.f1) / 2, cm.total()};
  const double wa = ratio(double(a.support), total), wb = ratio(double(b.support), total);
  m.weighted = {wa * a.precision + wb * b.precision, wa * a.recall + wb * b.recall, wa * a.f1 + wb * b.f1,
                cm.total()};

  m.accuracy = ratio(double(cm.correct()), total);
  // Like sklearn: the mean recall over the classes present in the truth (an
  // absent class has no recall to average, rather than a recall of 0).
  int present = 0;
  double recall_sum = 0;
  for (int c = 0; c < 2; ++c)
    if (cm.support(c) > 0) recall_sum += m.per_class[size_t(c)].recall, ++present;
  m.balanced_accuracy = ratio(recall_sum, present);

  // MCC is symmetric in the two classes; products in double (int64 would
  // overflow past ~55k samples per cell).
  const double tp = double(cm.at(0, 0)), tn = double(cm.at(1, 1));
  const double fp = double(cm.at(1, 0)), fn = double(cm.at(0, 1));
  const double den = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
  m.mcc = den == 0 ? 0.0 : (tp * tn - fp * fn) / std::sqrt(den);

  m.sensitivity = m.per_class[size_t(positive)].recall;
  m.specificity = m.per_class[size_t(1 - positive)].recall;
  return m;
}

Metrics compute_metrics(const std::vector<int>& labels, const std::vector<double>& scores, double threshold,
                        int positive, const ClassNames& names) {
  Metrics m = compute_metrics(ConfusionMatrix::from_scores(labels, scores, threshold), positive, names);
  m.threshold = threshold;
  m.auc = roc_curve(labels, scores, positive).auc;
  return m;
}

// ---- ROC -------------------------------------------------------------------------

RocCurve roc_curve(const std::vector<int>& labels, const std::vector<double>& scores, int positive) {
  check_inputs(labels, scores);
  check_class(positive, "positive class");
  RocCurve roc;
  roc.positive = positive;
  for (int l : labels) (l == positive ? roc.n_positive : roc.n_negative)++;

  // Visit samples from "most positive" to "least": for class 0 that is the
  // lowest P(class 1) first.
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) {
    return positive == 0 ? scores[i] < scores[j] : scores[i] > scores[j];
  });

  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  auto point = [&](double threshold, int64_t tp, int64_t fp) {
    return RocPoint{threshold, ratio(double(fp), double(roc.n_negative)), ratio(double(tp), double(roc.n_positive)),
                    tp, fp};
  };
  // The start, where nothing is predicted positive: for class 0 "score <= -inf"
  // holds for no sample; for class 1 "score > largest score" holds for none.
  roc.points.push_back(point(positive == 0 || order.empty() ? kNegInf : scores[order[0]], 0, 0));

  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < order.size();) {
    const double s = scores[order[i]];
    for (; i < order.size() && scores[order[i]] == s; ++i) (labels[order[i]] == positive ? tp : fp)++;  // a tie moves as one
    // The threshold that takes in exactly the samples seen so far.
    const double threshold = positive == 0 ? s : (i < order.size() ? scores[order[i]] : kNegInf);
    roc.points.push_back(point(threshold, tp, fp));
  }
  if (roc.n_positive > 0 && roc.n_negative > 0) roc.auc = auc_trapezoid(roc.points);
  return roc;
}

double auc_trapezoid(const std::vector<RocPoint>& points) {
  double area = 0;
  for (size_t i = 1; i < points.size(); ++i)
    area += (points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr) / 2;
  return area;
}

// ---- thresholds ----------------------------------------------------------------

std::vector<Metrics> threshold_sweep(const std::vector<int>& labels, const std::vector<double>& scores,
                                     const std::vector<double>& thresholds, int positive) {
  check_inputs(labels, scores);
  const double auc = roc_curve(labels, scores, positive).auc;
  std::vector<Metrics> rows;
  rows.reserve(thresholds.size());
  for (double t : thresholds) {
    Metrics m = compute_metrics(ConfusionMatrix::from_scores(labels, scores, t), positive);
    m.threshold = t;
    m.auc = auc;
    rows.push_back(std::move(m));
  }
  return rows;
}

std::vector<double> default_sweep_thresholds() {
  std::vector<double> t;
  for (int i = 0; i <= 20; ++i) t.push_back(i / 20.0);
  return t;
}

OperatingPoint operating_point_for_sensitivity(const RocCurve& roc, double min_sensitivity) {
  OperatingPoint op;
  op.rule = "fewest false positives with sensitivity >= " + fixed(min_sensitivity, 3);
  if (roc.n_positive == 0) return op;
  // Walking from (0,0), fpr never decreases: the first point that reaches the
  // target has the best specificity among those that do. The tolerance keeps
  // e.g. 19/20 from missing 0.95 by one ulp.
  for (const RocPoint& p : roc.points)
    if (p.tpr >= min_sensitivity - 1e-12) {
      op.met = true;
      op.threshold = p.threshold;
      op.sensitivity = p.tpr;
      op.specificity = 1 - p.fpr;
      return op;
    }
  return op;
}

OperatingPoint operating_point_youden(const RocCurve& roc) {
  OperatingPoint op;
  op.rule = "maximum Youden's J (sensitivity + specificity - 1)";
  if (roc.n_positive == 0 || roc.n_negative == 0) return op;
  double best = -2;
  for (const RocPoint& p : roc.points)
    if (p.tpr - p.fpr > best) {
      best = p.tpr - p.fpr;
      op.met = true;
      op.threshold = p.threshold;
      op.sensitivity = p.tpr;
      op.specificity = 1 - p.fpr;
    }
  return op;
}

// ---- k-fold summaries -----------------------------------------------------------

std::vector<std::pair<std::string, double>> headline_values(const Metrics& m) {
  const std::string& n0 = m.class_names[0];
  const std::string& n1 = m.class_names[1];
  return {{"accuracy", m.accuracy},
          {"balanced accuracy", m.balanced_accuracy},
          {"MCC", m.mcc},
          {"ROC AUC", m.auc},
          {"sensitivity", m.sensitivity},
          {"specificity", m.specificity},
          {"precision " + n0, m.per_class[0].precision},
          {"recall " + n0, m.per_class[0].recall},
          {"F1 " + n0, m.per_class[0].f1},
          {"precision " + n1, m.per_class[1].precision},
          {"recall " + n1, m.per_class[1].recall},
          {"F1 " + n1, m.per_class[1].f1},
          {"macro precision", m.macro.precision},
          {"macro recall", m.macro.recall},
          {"macro F1", m.macro.f1}};
}

std::vector<MetricSummary> summarize_folds(const std::vector<Metrics>& folds) {
  std::vector<MetricSummary> out;
  for (const Metrics& fold : folds) {
    const auto values = headline_values(fold);
    if (out.empty())
      for (const auto& [name, _] : values) out.push_back({name, {}, kNaN, kNaN});
    for (size_t i = 0; i < values.size(); ++i) out[i].values.push_back(values[i].second);
  }
  for (MetricSummary& s : out) {
    double sum = 0;
    int n = 0;
    for (double v : s.values)
      if (std::isfinite(v)) sum += v, ++n;
    if (n == 0) continue;
    s.mean = sum / n;
    double ss = 0;
    for (double v : s.values)
      if (std::isfinite(v)) ss += (v - s.mean) * (v - s.mean);
    s.sd = n > 1 ? std::sqrt(ss / (n - 1)) : kNaN;
  }
  return out;
}

// ---- output ------------------------------------------------------------------------

std::string classification_report(const Metrics& m, int digits) {
  // sklearn's layout: name column right-aligned to the longest name, then
  // 9-wide columns separated by a space.
  size_t width = std::string("weighted avg").size();
  for (const auto& n : m.class_names) width = std::max(width, n.size());
  const int w = int(width);
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof buf, "%*s  %9s %9s %9s %9s\n\n", w, "", "precision", "recall", "f1-score", "support");
  out += buf;
  auto row = [&](const std::string& name, const ClassScores& s) {
    std::snprintf(buf, sizeof buf, "%*s  %9.*f %9.*f %9.*f %9lld\n", w, name.c_str(), digits, s.precision, digits,
                  s.recall, digits, s.f1, (long long)s.support);
    out += buf;
  };
  for (int c = 0; c < 2; ++c) row(m.class_names[size_t(c)], m.per_class[size_t(c)]);
  out += "\n";
  std::snprintf(buf, sizeof buf, "%*s  %9s %9s %9.*f %9lld\n", w, "accuracy", "", "", digits, m.accuracy,
                (long long)m.confusion.total());
  out += buf;
  row("macro avg", m.macro);
  row("weighted avg", m.weighted);
  out += "\n";

  const std::string& pos = m.class_names[size_t(m.positive)];
  const std::string& neg = m.class_names[size_t(1 - m.positive)];
  auto line = [&](const char* name, double v, const std::string& note) {
    std::snprintf(buf, sizeof buf, "%*s  %9s%s\n", w, name, fixed(v, digits + 1).c_str(), note.c_str());
    out += buf;
  };
  line("balanced acc", m.balanced_accuracy, "  (mean recall)");
  line("MCC", m.mcc, "");
  line("sensitivity", m.sensitivity, "  (recall of " + pos + ", the positive class)");
  line("specificity", m.specificity, "  (recall of " + neg + ")");
  if (std::isfinite(m.auc)) line("ROC AUC", m.auc, "  (" + pos + " positive)");
  if (std::isfinite(m.threshold))
    out += "\nthreshold " + fixed(m.threshold, 3) + ": predicted " + m.class_names[1] + " iff P(" + m.class_names[1] +
           ") > threshold\n";
  return out;
}

std::string confusion_table(const Metrics& m) {
  const std::string t0 = "true " + m.class_names[0], t1 = "true " + m.class_names[1];
  const std::string p0 = "predicted " + m.class_names[0], p1 = "predicted " + m.class_names[1];
  const int w = int(std::max(t0.size(), t1.size()));
  const int c0 = int(p0.size()), c1 = int(p1.size());
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof buf, "%-*s  %*s  %*s\n", w, "", c0, p0.c_str(), c1, p1.c_str());
  out += buf;
  for (int t = 0; t < 2; ++t) {
    std::snprintf(buf, sizeof buf, "%-*s  %*lld  %*lld\n", w, (t == 0 ? t0 : t1).c_str(), c0,
                  (long long)m.confusion.at(t, 0), c1, (long long)m.confusion.at(t, 1));
    out += buf;
  }
  return out;
}

std::string sweep_table(const std::vector<Metrics>& sweep, int digits) {
  std::string out;
  char buf[256];
  const std::string pos = sweep.empty() ? "" : sweep[0].class_names[size_t(sweep[0].positive)];
  out += "positive class: " + pos + "; sensitivity, specificity, precision and F1 refer to it\n";
  std::snprintf(buf, sizeof buf, "%9s %11s %11s %9s %9s %9s %9s\n", "threshold", "sensitivity", "specificity",
                "precision", "F1", "accuracy", "MCC");
  out += buf;
  for (const Metrics& m : sweep) {
    const ClassScores& p = m.per_class[size_t(m.positive)];
    std::snprintf(buf, sizeof buf, "%9.3f %11.*f %11.*f %9.*f %9.*f %9.*f %9.*f\n", m.threshold, digits,
                  m.sensitivity, digits, m.specificity, digits, p.precision, digits, p.f1, digits, m.accuracy, digits,
                  m.mcc);
    out += buf;
  }
  return out;
}

// ---- JSON ------------------------------------------------------------------------

void to_json(nlohmann::json& j, const ConfusionMatrix& cm) {
  j = {{"rows", "true class"},
       {"columns", "predicted class"},
       {"counts", {{cm.at(0, 0), cm.at(0, 1)}, {cm.at(1, 0), cm.at(1, 1)}}}};
}

void to_json(nlohmann::json& j, const ClassScores& s) {
  j = {{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.support}};
}

void to_json(nlohmann::json& j, const Metrics& m) {
  nlohmann::json per_class = nlohmann::json::array();
  for (int c = 0; c < 2; ++c) {
    nlohmann::json row = m.per_class[size_t(c)];
    row["class"] = c;
    row["name"] = m.class_names[size_t(c)];
    per_class.push_back(row);
  }
  j = {{"class_names", m.class_names},
       {"positive_class", m.positive},
       {"positive_name", m.class_names[size_t(m.positive)]},
       {"decision_rule", "predicted class 1 (" + m.class_names[1] + ") iff score > threshold; score = P(class 1)"},
       {"threshold", number_or_null(m.threshold)},
       {"confusion_matrix", m.confusion},
       {"per_class", per_class},
       {"macro_avg", m.macro},
       {"weighted_avg", m.weighted},
       {"accuracy", m.accuracy},
       {"balanced_accuracy", m.balanced_accuracy},
       {"mcc", m.mcc},
       {"sensitivity", m.sensitivity},
       {"specificity", m.specificity},
       {"auc", number_or_null(m.auc)}};
}

void to_json(nlohmann::json& j, const RocCurve& roc) {
  nlohmann::json thr = nlohmann::json::array(), fpr = nlohmann::json::array(), tpr = nlohmann::json::array();
  for (const RocPoint& p : roc.points) {
    thr.push_back(number_or_null(p.threshold));
    fpr.push_back(p.fpr);
    tpr.push_back(p.tpr);
  }
  j = {{"positive_class", roc.positive},
       {"n_positive", roc.n_positive},
       {"n_negative", roc.n_negative},
       {"auc", number_or_null(roc.auc)},
       {"threshold", thr},
       {"fpr", fpr},
       {"tpr", tpr}};
}

void to_json(nlohmann::json& j, const OperatingPoint& op) {
  j = {{"rule", op.rule},
       {"met", op.met},
       {"threshold", number_or_null(op.threshold)},
       {"sensitivity", op.sensitivity},
       {"specificity", op.specificity}};
}

}  // namespace radius
