#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "eval/history.h"
#include "eval/metrics.h"
#include "eval/predictions_csv.h"
#include "tensor/rng.h"

using namespace radius;

namespace {

double round_to(double v, int digits) {
  const double p = std::pow(10.0, digits);
  return std::round(v * p) / p;
}

// P(score of a random positive is "more positive" than a random negative),
// ties counting half, by looking at every pair. For positive = 0 "more
// positive" is a lower P(class 1).
double brute_force_auc(const std::vector<int>& labels, const std::vector<double>& scores, int positive) {
  double wins = 0;
  int64_t pairs = 0;
  for (size_t i = 0; i < labels.size(); ++i)
    for (size_t j = 0; j < labels.size(); ++j) {
      if (labels[i] != positive || labels[j] == positive) continue;
      const double p = positive == 0 ? -scores[i] : scores[i], n = positive == 0 ? -scores[j] : scores[j];
      wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
      ++pairs;
    }
  return wins / double(pairs);
}

std::string write_temp(const std::string& name, const std::string& text) {
  std::ofstream(name, std::ios::binary) << text;
  return name;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("metrics: the seed paper's Table 1 from its four counts") {
  // Rows = true class, columns = predicted; 0 = fractured, 1 = not fractured.
  const ConfusionMatrix cm = ConfusionMatrix::from_counts(694, 32, 54, 195);
  const Metrics m = compute_metrics(cm, /*positive=*/0);
  CHECK(cm.total() == 975);
  CHECK(cm.support(0) == 726);
  CHECK(cm.support(1) == 249);

  // Exact values, by hand: precision 694/748 and 195/227, recall 694/726 and
  // 195/249, F1 = 2TP / (2TP + FP + FN).
  CHECK(m.per_class[0].precision == doctest::Approx(694.0 / 748).epsilon(1e-12));
  CHECK(m.per_class[1].precision == doctest::Approx(195.0 / 227).epsilon(1e-12));
  CHECK(m.per_class[0].recall == doctest::Approx(694.0 / 726).epsilon(1e-12));
  CHECK(m.per_class[1].recall == doctest::Approx(195.0 / 249).epsilon(1e-12));
  CHECK(m.per_class[0].f1 == doctest::Approx(1388.0 / 1474).epsilon(1e-12));
  CHECK(m.per_class[1].f1 == doctest::Approx(390.0 / 476).epsilon(1e-12));
  CHECK(m.accuracy == doctest::Approx(889.0 / 975).epsilon(1e-12));
  // MCC = (694*195 - 54*32) / sqrt(748 * 726 * 249 * 227) = 133602 / sqrt(30694702104).
  CHECK(m.mcc == doctest::Approx(133602.0 / std::sqrt(30694702104.0)).epsilon(1e-12));
  CHECK(m.mcc == doctest::Approx(0.7625726904).epsilon(1e-9));
  CHECK(m.macro.precision == doctest::Approx((694.0 / 748 + 195.0 / 227) / 2).epsilon(1e-12));
  CHECK(m.balanced_accuracy == doctest::Approx((694.0 / 726 + 195.0 / 249) / 2).epsilon(1e-12));
  CHECK(m.sensitivity == m.per_class[0].recall);
  CHECK(m.specificity == m.per_class[1].recall);

  // The paper's table, to the rounding it printed.
  CHECK(round_to(m.per_class[0].precision, 2) == 0.93);
  CHECK(round_to(m.per_class[1].precision, 2) == 0.86);
  CHECK(round_to(m.per_class[0].recall, 2) == 0.96);
  CHECK(round_to(m.per_class[1].recall, 2) == 0.78);
  CHECK(round_to(m.per_class[0].f1, 2) == 0.94);
  CHECK(round_to(m.per_class[1].f1, 2) == 0.82);
  CHECK(round_to(m.macro.recall, 2) == 0.87);
  CHECK(round_to(m.macro.f1, 2) == 0.88);
  CHECK(round_to(m.accuracy, 4) == 0.9118);
  CHECK(round_to(m.accuracy, 2) == 0.91);
  // The paper's macro precision 0.895 is the mean of the two *rounded*
  // precisions (0.93 + 0.86) / 2; the exact macro precision is 0.8934.
  CHECK(round_to((round_to(m.per_class[0].precision, 2) + round_to(m.per_class[1].precision, 2)) / 2, 3) == 0.895);
  CHECK(round_to(m.macro.precision, 4) == 0.8934);
  // The paper's MCC 0.762 is the exact 0.76257... cut to three decimals
  // (rounding would give 0.763).
  CHECK(std::floor(m.mcc * 1000) / 1000 == 0.762);

  const std::string report = classification_report(m);
  CHECK(report.find("    fractured       0.93      0.96      0.94       726") != std::string::npos);
  CHECK(report.find("not fractured       0.86      0.78      0.82       249") != std::string::npos);
  CHECK(report.find("     accuracy                           0.91       975") != std::string::npos);
  CHECK(report.find("    macro avg       0.89      0.87      0.88       975") != std::string::npos);
  CHECK(report.find("MCC") != std::string::npos);
  const std::string table = confusion_table(m);
  CHECK(table.find("694") != std::string::npos);
  CHECK(table.find("true not fractured") != std::string::npos);
}

TEST_CASE("metrics: a small confusion matrix, every metric by hand, both orientations") {
  // true 0: 3 right, 1 wrong; true 1: 2 wrong, 4 right.
  const ConfusionMatrix cm = ConfusionMatrix::from_counts(3, 1, 2, 4);
  const Metrics m0 = compute_metrics(cm, 0);
  CHECK(m0.per_class[0].precision == doctest::Approx(3.0 / 5));
  CHECK(m0.per_class[0].recall == doctest::Approx(3.0 / 4));
  CHECK(m0.per_class[0].f1 == doctest::Approx(6.0 / 9));
  CHECK(m0.per_class[1].precision == doctest::Approx(4.0 / 5));
  CHECK(m0.per_class[1].recall == doctest::Approx(4.0 / 6));
  CHECK(m0.per_class[1].f1 == doctest::Approx(8.0 / 11));
  CHECK(m0.per_class[0].support == 4);
  CHECK(m0.per_class[1].support == 6);
  CHECK(m0.macro.precision == doctest::Approx(0.7));
  CHECK(m0.macro.recall == doctest::Approx((0.75 + 4.0 / 6) / 2));
  CHECK(m0.macro.f1 == doctest::Approx((6.0 / 9 + 8.0 / 11) / 2));
  CHECK(m0.weighted.precision == doctest::Approx(0.72));
  CHECK(m0.weighted.recall == doctest::Approx(0.7));  // weighted recall is always the accuracy
  CHECK(m0.weighted.f1 == doctest::Approx((4 * 6.0 / 9 + 6 * 8.0 / 11) / 10));
  CHECK(m0.weighted.support == 10);
  CHECK(m0.accuracy == doctest::Approx(0.7));
  CHECK(m0.balanced_accuracy == doctest::Approx((0.75 + 4.0 / 6) / 2));
  CHECK(m0.mcc == doctest::Approx(10.0 / std::sqrt(600.0)));
  CHECK(m0.sensitivity == doctest::Approx(0.75));
  CHECK(m0.specificity == doctest::Approx(4.0 / 6));
  CHECK(std::isnan(m0.auc));
  CHECK(std::isnan(m0.threshold));

  const Metrics m1 = compute_metrics(cm, 1);  // orientation changes only sensitivity/specificity
  CHECK(m1.sensitivity == doctest::Approx(4.0 / 6));
  CHECK(m1.specificity == doctest::Approx(0.75));
  CHECK(m1.mcc == doctest::Approx(m0.mcc));
  CHECK(m1.accuracy == m0.accuracy);

  // A perfect and a perfectly wrong classifier.
  CHECK(compute_metrics(ConfusionMatrix::from_counts(5, 0, 0, 7)).mcc == doctest::Approx(1.0));
  CHECK(compute_metrics(ConfusionMatrix::from_counts(0, 5, 7, 0)).mcc == doctest::Approx(-1.0));
  CHECK_THROWS_AS(ConfusionMatrix::from_counts(-1, 0, 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(compute_metrics(cm, 2), std::invalid_argument);
}

TEST_CASE("metrics: scores become classes by Keras' rule, score > threshold means class 1") {
  const std::vector<int> labels = {0, 0, 1, 1, 1};
  const std::vector<double> scores = {0.2, 0.5, 0.5, 0.7, 0.1};
  const ConfusionMatrix cm = ConfusionMatrix::from_scores(labels, scores, 0.5);
  CHECK(cm == ConfusionMatrix::from_counts(2, 0, 2, 1));  // both 0.5s count as class 0
  CHECK(predict_class(0.5, 0.5) == 0);
  CHECK(predict_class(0.5000001, 0.5) == 1);
  const Metrics m = compute_metrics(labels, scores, 0.5, 0);
  CHECK(m.threshold == 0.5);
  CHECK(m.confusion == cm);
  CHECK(m.auc == doctest::Approx(brute_force_auc(labels, scores, 0)));

  CHECK_THROWS_AS(ConfusionMatrix::from_scores({0, 2}, {0.1, 0.2}, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(ConfusionMatrix::from_scores({0, 1}, {0.1}, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(ConfusionMatrix::from_scores({0, 1}, {0.1, NAN}, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(ConfusionMatrix::from_scores({0, 1}, {0.1, 0.2}, NAN), std::invalid_argument);
}

TEST_CASE("metrics: ROC on sklearn's four-sample example, thresholds usable with predict_class") {
  const std::vector<int> labels = {0, 0, 1, 1};
  const std::vector<double> scores = {0.1, 0.4, 0.35, 0.8};
  const RocCurve r1 = roc_curve(labels, scores, 1);
  REQUIRE(r1.points.size() == 5);
  const double fpr[] = {0, 0, 0.5, 0.5, 1}, tpr[] = {0, 0.5, 0.5, 1, 1};
  const double thr[] = {0.8, 0.4, 0.35, 0.1, -INFINITY};
  for (size_t i = 0; i < 5; ++i) {
    CHECK(r1.points[i].fpr == fpr[i]);
    CHECK(r1.points[i].tpr == tpr[i]);
    CHECK(r1.points[i].threshold == thr[i]);
  }
  CHECK(r1.auc == doctest::Approx(0.75));
  const RocCurve r0 = roc_curve(labels, scores, 0);
  CHECK(r0.points.front().threshold == -INFINITY);
  CHECK(r0.points.back().threshold == 0.8);
  CHECK(r0.auc == doctest::Approx(0.75));
  CHECK(r0.n_positive == 2);
  CHECK(r0.n_negative == 2);

  // Every point's threshold reproduces its counts through the decision rule.
  for (int positive : {0, 1}) {
    const RocCurve r = roc_curve(labels, scores, positive);
    for (const RocPoint& p : r.points) {
      const ConfusionMatrix cm = ConfusionMatrix::from_scores(labels, scores, p.threshold);
      CHECK(cm.at(positive, positive) == p.tp);
      CHECK(cm.at(1 - positive, positive) == p.fp);
    }
  }
}

TEST_CASE("metrics: ROC with ties moves diagonally and its AUC equals the Mann-Whitney statistic") {
  // Three samples tie at 0.5 (two positives for class 1, one negative).
  const std::vector<int> labels = {0, 1, 0, 1, 1, 0};
  const std::vector<double> scores = {0.5, 0.5, 0.2, 0.9, 0.5, 0.2};
  const RocCurve r = roc_curve(labels, scores, 1);
  REQUIRE(r.points.size() == 4);  // 3 distinct scores + the start
  CHECK(r.points[1].tpr == doctest::Approx(1.0 / 3));
  CHECK(r.points[1].fpr == 0);
  CHECK(r.points[2].tpr == doctest::Approx(1.0));  // the tie: 2 positives and 1 negative at once
  CHECK(r.points[2].fpr == doctest::Approx(1.0 / 3));
  // By hand: pairs (pos, neg) = 9; 0.9 beats all 3; each 0.5 beats two 0.2s and ties one 0.5.
  CHECK(r.auc == doctest::Approx((3 + 2 * 2.5) / 9.0));
  CHECK(r.auc == doctest::Approx(brute_force_auc(labels, scores, 1)));

  // Random sets with heavy ties (scores on a 0.05 grid), both orientations.
  Rng rng(11, 0);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 20 + trial * 10;
    std::vector<int> l(size_t(n), 0);
    std::vector<double> s(size_t(n), 0.0);
    for (int i = 0; i < n; ++i) {
      l[size_t(i)] = rng.uniform() < 0.7f ? 0 : 1;
      s[size_t(i)] = std::round(std::clamp(0.5 + (l[size_t(i)] ? 0.2 : -0.2) + (rng.uniform() - 0.5), 0.0, 1.0) * 20) / 20;
    }
    l[0] = 0, l[1] = 1;  // both classes present
    for (int positive : {0, 1}) {
      const RocCurve roc = roc_curve(l, s, positive);
      CHECK(roc.auc == doctest::Approx(brute_force_auc(l, s, positive)).epsilon(1e-12));
      CHECK(roc.points.front().fpr == 0);
      CHECK(roc.points.front().tpr == 0);
      CHECK(roc.points.back().fpr == 1);
      CHECK(roc.points.back().tpr == 1);
      for (size_t i = 1; i < roc.points.size(); ++i) {
        CHECK(roc.points[i].fpr >= roc.points[i - 1].fpr);
        CHECK(roc.points[i].tpr >= roc.points[i - 1].tpr);
      }
    }
    // AUC does not depend on which class is called positive.
    CHECK(roc_curve(l, s, 0).auc == doctest::Approx(roc_curve(l, s, 1).auc).epsilon(1e-12));
  }
}

TEST_CASE("metrics: threshold sweep and operating points") {
  // 20 fractured (class 0) with P(not fractured) = 0.02..0.40, 10 not fractured with 0.30..0.93.
  std::vector<int> labels;
  std::vector<double> scores;
  for (int i = 1; i <= 20; ++i) labels.push_back(0), scores.push_back(0.02 * i);
  for (int i = 0; i < 10; ++i) labels.push_back(1), scores.push_back(0.30 + 0.07 * i);

  const std::vector<double> t = default_sweep_thresholds();
  REQUIRE(t.size() == 21);
  CHECK(t[10] == 0.5);
  const std::vector<Metrics> sweep = threshold_sweep(labels, scores, t, 0);
  REQUIRE(sweep.size() == t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    CHECK(sweep[i].threshold == t[i]);
    CHECK(sweep[i].confusion == ConfusionMatrix::from_scores(labels, scores, t[i]));
    if (i) CHECK(sweep[i].sensitivity >= sweep[i - 1].sensitivity);  // more "fractured" calls as t rises
  }
  CHECK(sweep.front().sensitivity == 0);  // t = 0: nothing at or below 0 -> no fractured calls
  CHECK(sweep.back().sensitivity == 1);
  CHECK(sweep_table(sweep).find("threshold") != std::string::npos);

  const RocCurve roc = roc_curve(labels, scores, 0);
  const OperatingPoint op = operating_point_for_sensitivity(roc, 0.95);
  REQUIRE(op.met);
  // 19 of 20 fractured images have score <= 0.38, so the least aggressive
  // threshold reaching 95 % is 0.38, which admits no intact bone but 0.30 and 0.37.
  CHECK(op.threshold == doctest::Approx(0.38));
  CHECK(op.sensitivity == doctest::Approx(0.95));
  CHECK(op.specificity == doctest::Approx(0.8));
  const Metrics at = compute_metrics(labels, scores, op.threshold, 0);
  CHECK(at.sensitivity >= 0.95);
  CHECK(at.specificity == doctest::Approx(op.specificity));
  // Any stricter threshold falls short.
  CHECK(compute_metrics(labels, scores, 0.37, 0).sensitivity < 0.95);

  const OperatingPoint all = operating_point_for_sensitivity(roc, 1.0);
  CHECK(all.met);
  CHECK(all.threshold == doctest::Approx(0.40));
  CHECK_FALSE(operating_point_for_sensitivity(roc, 1.01).met);

  const OperatingPoint y = operating_point_youden(roc);
  REQUIRE(y.met);
  CHECK(y.sensitivity - (1 - y.specificity) >= op.sensitivity - (1 - op.specificity));
  for (const RocPoint& p : roc.points) CHECK(p.tpr - p.fpr <= y.sensitivity - (1 - y.specificity) + 1e-12);
}

TEST_CASE("metrics: degenerate cases follow zero_division = 0, MCC 0, AUC NaN") {
  // Only class 0 present, all predicted 0.
  const Metrics a = compute_metrics(ConfusionMatrix::from_counts(5, 0, 0, 0));
  CHECK(a.per_class[0].precision == 1);
  CHECK(a.per_class[1].precision == 0);  // never predicted: 0/0 -> 0
  CHECK(a.per_class[1].recall == 0);     // absent: 0/0 -> 0
  CHECK(a.per_class[1].f1 == 0);
  CHECK(a.mcc == 0);  // undefined
  CHECK(a.accuracy == 1);
  CHECK(a.balanced_accuracy == 1);  // the mean over the classes present (like sklearn)
  CHECK(a.macro.recall == 0.5);     // macro averages keep the absent class's 0

  // A constant classifier on both classes.
  const Metrics c = compute_metrics(ConfusionMatrix::from_counts(6, 0, 4, 0));
  CHECK(c.mcc == 0);
  CHECK(c.balanced_accuracy == 0.5);
  CHECK(c.per_class[1].precision == 0);

  // Nothing at all.
  const Metrics e = compute_metrics(ConfusionMatrix{});
  CHECK(e.accuracy == 0);
  CHECK(e.balanced_accuracy == 0);
  CHECK(e.weighted.f1 == 0);
  CHECK(e.mcc == 0);

  // Scores with one class: the ROC exists, its AUC does not.
  const RocCurve r = roc_curve({1, 1, 1}, {0.2, 0.5, 0.9}, 0);
  CHECK(r.n_positive == 0);
  CHECK(std::isnan(r.auc));
  CHECK(r.points.back().fpr == 1);
  CHECK(r.points.back().tpr == 0);
  CHECK_FALSE(operating_point_for_sensitivity(r, 0.95).met);
  CHECK_FALSE(operating_point_youden(r).met);
  const RocCurve empty = roc_curve({}, {}, 0);
  CHECK(empty.points.size() == 1);
  CHECK(std::isnan(empty.auc));
  CHECK(std::isnan(compute_metrics(std::vector<int>{1, 1}, {0.2, 0.9}).auc));
}

TEST_CASE("metrics: JSON and k-fold summaries") {
  const Metrics m = compute_metrics(ConfusionMatrix::from_counts(694, 32, 54, 195));
  const nlohmann::json j = m;
  CHECK(j["mcc"].get<double>() == doctest::Approx(m.mcc));
  CHECK(j["per_class"][0]["name"] == "fractured");
  CHECK(j["per_class"][1]["support"] == 249);
  CHECK(j["confusion_matrix"]["counts"][1][0] == 54);
  CHECK(j["positive_name"] == "fractured");
  CHECK(j["threshold"].is_null());  // NaN -> null
  CHECK(j["auc"].is_null());
  CHECK(nlohmann::json::parse(j.dump()) == j);

  const RocCurve roc = roc_curve({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}, 0);
  const nlohmann::json jr = roc;
  CHECK(jr["threshold"][0].is_null());  // -inf
  CHECK(jr["auc"].get<double>() == doctest::Approx(0.75));
  CHECK(jr["fpr"].size() == roc.points.size());

  std::vector<Metrics> folds = {compute_metrics(ConfusionMatrix::from_counts(8, 2, 1, 9)),
                                compute_metrics(ConfusionMatrix::from_counts(9, 1, 3, 7)),
                                compute_metrics(ConfusionMatrix::from_counts(7, 3, 2, 8))};
  folds[0].auc = 0.9, folds[1].auc = kNaN, folds[2].auc = 0.8;
  const std::vector<MetricSummary> s = summarize_folds(folds);
  REQUIRE(s[0].name == "accuracy");
  CHECK(s[0].values == std::vector<double>{0.85, 0.8, 0.75});
  CHECK(s[0].mean == doctest::Approx(0.8));
  CHECK(s[0].sd == doctest::Approx(0.05));  // sample sd of 0.85, 0.8, 0.75
  REQUIRE(s[3].name == "ROC AUC");
  CHECK(s[3].mean == doctest::Approx(0.85));  // the NaN fold is left out
  CHECK(s[3].sd == doctest::Approx(std::sqrt(0.005)));
  CHECK(std::isnan(summarize_folds({folds[0]})[0].sd));  // one value has no spread to estimate
}

TEST_CASE("predictions CSV: round trip with awkward paths, and flexible headers") {
  const std::string path = "predictions_test.csv";
  const std::vector<Prediction> rows = {{"test/fractured/1-rotated1.jpg", 0, 0.03125},
                                        {"test/not fractured/a,b.jpg", 1, 0.987654321},
                                        {"odd \"quoted\" name.png", 1, 1.0},
                                        {" leading space.png", 0, 0.0}};
  write_predictions_csv(path, rows);
  const std::vector<Prediction> back = read_predictions_csv(path);
  REQUIRE(back.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(back[i].path == rows[i].path);
    CHECK(back[i].label == rows[i].label);
    CHECK(back[i].score == doctest::Approx(rows[i].score).epsilon(1e-9));
  }
  CHECK(labels_of(back) == std::vector<int>{0, 1, 1, 0});
  CHECK(scores_of(back)[1] == doctest::Approx(0.987654321));

  // Other column orders, extra columns, CRLF, a BOM and blank lines.
  write_temp(path, "\xEF\xBB\xBFscore,predicted,label,path\r\n0.25,0,0,x.jpg\r\n\r\n0.75,1,1,y.jpg\r\n");
  const auto other = read_predictions_csv(path);
  REQUIRE(other.size() == 2);
  CHECK(other[1].path == "y.jpg");
  CHECK(other[1].label == 1);
  CHECK(other[0].score == 0.25);
  std::remove(path.c_str());
}

TEST_CASE("predictions CSV: errors name the file and the line") {
  const std::string path = "predictions_bad.csv";
  auto err = [&](const std::string& text) {
    write_temp(path, text);
    return error_of([&] { read_predictions_csv(path); });
  };
  CHECK(error_of([] { read_predictions_csv("no/such/file.csv"); }).find("no/such/file.csv") != std::string::npos);
  CHECK(err("") == path + ": empty file, expected a header 'path,label,score'");
  CHECK(err("path,label,score\n") == path + ": no prediction rows after the header");
  CHECK(err("a,b,c\nx,0,0.5\n").find(path + ":1: expected a header naming") == 0);
  CHECK(err("path,label,score\nx,0,0.5\ny,2,0.5\n") == path + ":3: label must be 0 or 1, got '2'");
  CHECK(err("path,label,score\nx,0,abc\n") == path + ":2: score is not a number: 'abc'");
  CHECK(err("path,label,score\nx,0,\n") == path + ":2: score is not a number: ''");
  CHECK(err("path,label,score\nx,0,1.5\n") == path + ":2: score must be a probability in [0, 1], got '1.5'");
  CHECK(err("path,label,score\nx,0,nan\n").find(path + ":2: score must be a probability") == 0);
  CHECK(err("path,label,score\na,b.jpg,0,0.5\n").find(path + ":2: expected 3 fields") == 0);
  CHECK(err("path,label,score\n\"x.jpg,0,0.5\n") == path + ":2: unterminated quoted field");
  CHECK(err("path,label,path\n").find(path + ":1: the header names column 'path' twice") == 0);
  std::remove(path.c_str());
}

TEST_CASE("history CSV: round trip with unmeasured values, errors, best epoch") {
  const std::string path = "history_test.csv";
  std::vector<HistoryRow> rows(3);
  for (int i = 0; i < 3; ++i) {
    rows[size_t(i)] = {i + 1, 0.7 - 0.1 * i, 0.6 + 0.1 * i, 0.65 - 0.05 * i, 0.62, 1e-3, 12.5};
  }
  rows[1].val_loss = 0.5, rows[2].val_loss = 0.5;  // a tie: the first best is kept
  rows[0].val_accuracy = kNaN;
  write_history_csv(path, rows);
  const auto back = read_history_csv(path);
  REQUIRE(back.size() == 3);
  CHECK(back[2].epoch == 3);
  CHECK(back[1].train_loss == doctest::Approx(0.6));
  CHECK(std::isnan(back[0].val_accuracy));
  CHECK(back[0].learning_rate == 1e-3);
  CHECK(best_epoch(back) == 2);
  CHECK(best_epoch({}) == 0);

  write_temp(path, "epoch,loss\n");
  CHECK(error_of([&] { read_history_csv(path); }).find(path + ":1: expected the header") == 0);
  write_temp(path, "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds\n1,0.5,x,,,,\n");
  CHECK(error_of([&] { read_history_csv(path); }) == path + ":2: not a number: 'x'");
  std::remove(path.c_str());
}
