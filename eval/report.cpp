#include "eval/report.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "eval/health_plot.h"
#include "eval/plot.h"

namespace radius {
namespace {

std::string num(double v, int digits = 3) {
  if (!std::isfinite(v)) return "n/a";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string threshold_text(double t) { return std::isfinite(t) ? num(t, 3) : (t < 0 ? "-inf" : "n/a"); }

constexpr const char* kStyle = R"css(
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; background: #fafafa;
       margin: 0; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.meta { color: #666; margin: 0 0 16px; }
.note { color: #555; font-size: 14px; }
.warn { background: #fff6e0; border: 1px solid #f0c36d; border-radius: 6px; padding: 8px 16px; }
.warn li { margin: 4px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { flex: 1 1 130px; border: 1px solid #ddd; border-radius: 8px; padding: 8px 12px; background: #fcfcfc; }
.card .v { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .k { color: #555; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.figs { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0; flex: 1 1 420px; }
figure svg { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
dt { font-weight: 600; margin-top: 8px; }
dd { margin: 2px 0 0 20px; }
code { background: #f3f3f3; padding: 1px 4px; border-radius: 3px; }
details { margin: 8px 0; }
)css";

struct Html {
  std::string s;
  Html& operator<<(const std::string& t) {
    s += t;
    return *this;
  }
};

void card(Html& h, const std::string& key, double v) {
  h << "<div class=\"card\"><div class=\"v\">" << num(v) << "</div><div class=\"k\">" << escape_xml(key) << "</div></div>\n";
}

void metric_cards(Html& h, const Metrics& m) {
  h << "<div class=\"cards\">\n";
  card(h, "accuracy", m.accuracy);
  card(h, "balanced accuracy", m.balanced_accuracy);
  card(h, "MCC", m.mcc);
  if (std::isfinite(m.auc)) card(h, "ROC AUC", m.auc);
  card(h, "sensitivity (" + m.class_names[size_t(m.positive)] + ")", m.sensitivity);
  card(h, "specificity", m.specificity);
  h << "</div>\n";
}

// sklearn's classification_report as an HTML table.
void report_table(Html& h, const Metrics& m) {
  h << "<table><tr><th></th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n";
  auto row = [&](const std::string& name, const ClassScores& s) {
    h << "<tr><td>" << escape_xml(name) << "</td><td>" << num(s.precision) << "</td><td>" << num(s.recall) << "</td><td>"
      << num(s.f1) << "</td><td>" << std::to_string(s.support) << "</td></tr>\n";
  };
  for (int c = 0; c < 2; ++c) row(m.class_names[size_t(c)], m.per_class[size_t(c)]);
  h << "<tr><td>accuracy</td><td></td><td></td><td>" << num(m.accuracy) << "</td><td>"
    << std::to_string(m.confusion.total()) << "</td></tr>\n";
  row("macro avg", m.macro);
  row("weighted avg", m.weighted);
  h << "</table>\n";
}

void figure(Html& h, const Drawing& d, const std::string& caption) {
  h << "<figure>\n" << to_svg(d) << "<figcaption>" << escape_xml(caption) << "</figcaption></figure>\n";
}

void warnings_section(Html& h, const ReportData& r) {
  if (r.warnings.empty()) return;
  h << "<section id=\"warnings\"><h2>Warnings</h2><div class=\"warn\"><ul>\n";
  for (const std::string& w : r.warnings) h << "<li>" << escape_xml(w) << "</li>\n";
  h << "</ul></div></section>\n";
}

void results_section(Html& h, const ReportData& r) {
  if (!r.metrics) return;
  const Metrics& m = *r.metrics;
  const std::string& pos = m.class_names[size_t(m.positive)];
  h << "<section id=\"results\"><h2>Results on the test set</h2>\n";
  h << "<p class=\"note\">Positive class: <b>" << escape_xml(pos) << "</b>. The network outputs P(" << escape_xml(m.class_names[1])
    << "); an image is called " << escape_xml(m.class_names[1]) << " when that probability is above the threshold"
    << (std::isfinite(m.threshold) ? " (" + num(m.threshold) + ")" : std::string()) << ", otherwise "
    << escape_xml(m.class_names[0]) << ".</p>\n";
  metric_cards(h, m);
  report_table(h, m);
  h << "<div class=\"figs\">\n";
  figure(h, plot_confusion_matrix(m), "Rows: true class; columns: predicted class. Percentages are shares of each row.");
  if (r.roc)
    figure(h, plot_roc(*r.roc, r.operating_point, m.class_names),
           "Each point is one threshold; the diagonal is a coin toss.");
  h << "</div>\n";

  if (r.operating_point) {
    const OperatingPoint& op = *r.operating_point;
    h << "<h3 id=\"operating-point\">Operating point</h3>\n<p>Rule: " << escape_xml(op.rule) << ". ";
    if (!op.met) {
      h << "No threshold satisfies it on this data.</p>\n";
    } else {
      h << "Threshold " << threshold_text(op.threshold) << " on P(" << escape_xml(m.class_names[1]) << "): sensitivity "
        << num(op.sensitivity) << ", specificity " << num(op.specificity) << ".</p>\n";
      if (r.operating_metrics) report_table(h, *r.operating_metrics);
    }
  }
  if (!r.sweep.empty()) {
    h << "<details id=\"sweep\"><summary>Threshold sweep</summary>\n<table><tr><th>threshold</th><th>sensitivity</th>"
         "<th>specificity</th><th>precision ("
      << escape_xml(pos) << ")</th><th>F1 (" << escape_xml(pos) << ")</th><th>accuracy</th><th>MCC</th></tr>\n";
    for (const Metrics& s : r.sweep) {
      const ClassScores& p = s.per_class[size_t(s.positive)];
      h << "<tr><td>" << threshold_text(s.threshold) << "</td><td>" << num(s.sensitivity) << "</td><td>"
        << num(s.specificity) << "</td><td>" << num(p.precision) << "</td><td>" << num(p.f1) << "</td><td>"
        << num(s.accuracy) << "</td><td>" << num(s.mcc) << "</td></tr>\n";
    }
    h << "</table></details>\n";
  }
  h << "</section>\n";
}

// Synthetic data only: what the model gets right, per kind of image (eval/synth_breakdown.h).
void breakdown_section(Html& h, const ReportData& r) {
  if (r.breakdown.empty()) return;
  h << "<section id=\"breakdown\"><h2>What it gets right, by what the image shows</h2>\n<p class=\"note\">From "
       "the data set's synth.csv: for fractured images the share called fractured, for intact ones the share "
       "called intact. Fractures with neither a cast nor swelling can only be found by their line.</p>\n"
       "<div class=\"figs\">\n";
  for (bool fractured : {true, false}) {
    h << "<table><tr><th>" << (fractured ? "fractured images" : "intact images") << "</th><th>images</th><th>"
      << (fractured ? "found" : "called intact") << "</th><th>rate</th></tr>\n";
    for (const BreakdownRow& b : r.breakdown)
      if (b.fractured == fractured)
        h << "<tr><td>" << escape_xml(b.kind) << "</td><td>" << std::to_string(b.images) << "</td><td>"
          << std::to_string(b.right) << "</td><td>" << num(b.rate()) << "</td></tr>\n";
    h << "</table>\n";
  }
  h << "</div></section>\n";
}

void history_section(Html& h, const ReportData& r) {
  if (r.history.empty()) return;
  h << "<section id=\"learning-curves\"><h2>Learning curves</h2>\n";
  const int best = best_epoch(r.history);
  if (best > 0)
    h << "<p class=\"note\">Lowest validation loss at epoch " << std::to_string(best)
      << " (the weights early stopping restores).</p>\n";
  const LearningCurves c = plot_learning_curves(r.history);
  h << "<div class=\"figs\">\n";
  figure(h, c.loss, "Binary cross-entropy per epoch.");
  figure(h, c.accuracy, "Accuracy at threshold 0.5 per epoch.");
  h << "</div>\n<details><summary>Per-epoch table</summary>\n<table><tr><th>epoch</th><th>train loss</th>"
       "<th>train acc</th><th>val loss</th><th>val acc</th><th>learning rate</th><th>seconds</th></tr>\n";
  for (const HistoryRow& e : r.history) {
    char lr[32];
    std::snprintf(lr, sizeof lr, "%.3g", e.learning_rate);
    h << "<tr><td>" << std::to_string(e.epoch) << "</td><td>" << num(e.train_loss, 4) << "</td><td>"
      << num(e.train_accuracy, 4) << "</td><td>" << num(e.val_loss, 4) << "</td><td>" << num(e.val_accuracy, 4)
      << "</td><td>" << (std::isfinite(e.learning_rate) ? std::string(lr) : "n/a") << "</td><td>"
      << num(e.seconds, 1) << "</td></tr>\n";
  }
  h << "</table></details></section>\n";
}

// Heat-strips of the training-health statistics; the warnings are in the Warnings section.
void health_section(Html& h, const ReportData& r) {
  if (r.health.empty()) return;
  h << "<section id=\"health\"><h2>Training health</h2>\n<p class=\"note\">Sampled every few batches "
       "(health.csv). Dead ReLU units and too-large updates are what collapsed runs show first.</p>\n"
       "<div class=\"figs\">\n";
  figure(h, plot_health_strip(r.health, HealthMetric::dead_fraction), "Share of dead units in each ReLU layer.");
  figure(h, plot_health_strip(r.health, HealthMetric::weight_update_ratio),
         "How much one step changes each layer's weights.");
  h << "</div></section>\n";
}

void folds_section(Html& h, const ReportData& r) {
  if (r.folds.empty()) return;
  const std::vector<MetricSummary> summary = summarize_folds(r.folds);
  h << "<section id=\"kfold\"><h2>k-fold cross-validation (" << std::to_string(r.folds.size()) << " folds)</h2>\n"
    << "<p class=\"note\">Each fold is evaluated on the samples it held out. sd is the sample standard deviation "
       "over folds (n - 1); a metric undefined on a fold (n/a) is left out of its mean.</p>\n"
    << "<table><tr><th>metric</th><th>mean &plusmn; sd</th>";
  for (size_t f = 0; f < r.folds.size(); ++f) h << "<th>fold " << std::to_string(f + 1) << "</th>";
  h << "</tr>\n";
  for (const MetricSummary& s : summary) {
    h << "<tr><td>" << escape_xml(s.name) << "</td><td>" << num(s.mean) << " &plusmn; " << num(s.sd) << "</td>";
    for (double v : s.values) h << "<td>" << num(v) << "</td>";
    h << "</tr>\n";
  }
  h << "</table></section>\n";
}

void config_section(Html& h, const ReportData& r) {
  h << "<section id=\"config\"><h2>Configuration</h2>\n<table>\n";
  if (r.seed) h << "<tr><td>seed</td><td>" << std::to_string(*r.seed) << "</td></tr>\n";
  for (const auto& [k, v] : r.config) h << "<tr><td>" << escape_xml(k) << "</td><td>" << escape_xml(v) << "</td></tr>\n";
  h << "</table></section>\n";
}

void files_section(Html& h, const ReportData& r) {
  if (r.files.empty()) return;
  // Named, not linked: the report stays whole when it is moved away from them.
  h << "<section id=\"files\"><h2>Files in this run</h2>\n<table><tr><th>what</th><th>path</th></tr>\n";
  for (const auto& [what, path] : r.files)
    h << "<tr><td>" << escape_xml(what) << "</td><td><code>" << escape_xml(path) << "</code></td></tr>\n";
  h << "</table></section>\n";
}

void glossary_section(Html& h) {
  h << R"html(<section id="glossary"><h2>What the numbers mean</h2>
<dl>
<dt>Positive class, threshold</dt><dd>The network outputs one probability, P(not fractured). An image is called
"not fractured" when it is above the threshold (0.5 unless stated). Sensitivity, specificity and the ROC curve treat
"fractured" as the positive finding, as the paper does.</dd>
<dt>Precision</dt><dd>Of the images called class X, the share that truly are X (positive predictive value for the
positive class).</dd>
<dt>Recall (sensitivity)</dt><dd>Of the images truly of class X, the share called X. Recall of the positive class is
the sensitivity: the share of fractures that are found.</dd>
<dt>Specificity</dt><dd>Recall of the negative class: the share of intact bones correctly cleared.</dd>
<dt>F1</dt><dd>The harmonic mean of precision and recall: 2PR / (P + R); high only when both are.</dd>
<dt>Support</dt><dd>The number of test images truly of that class.</dd>
<dt>Macro and weighted averages</dt><dd>Macro: the plain mean over the two classes. Weighted: the mean weighted
by support, so the larger class dominates it.</dd>
<dt>Accuracy</dt><dd>The share of all images classified correctly. On an imbalanced set (e.g. 75 % fractured)
a model that always says "fractured" scores 0.75, so read it beside the next two.</dd>
<dt>Balanced accuracy</dt><dd>The mean of the per-class recalls: 0.5 for a constant or random guess, whatever
the class balance.</dd>
<dt>MCC (Matthews correlation coefficient)</dt><dd>The correlation between truth and prediction over the whole
confusion matrix, from -1 (always wrong) through 0 (no better than chance) to 1 (perfect). Reported as 0 when
a row or column of the matrix is empty.</dd>
<dt>ROC curve and AUC</dt><dd>The ROC curve plots sensitivity against 1 - specificity for every threshold. The
area under it (AUC) is the probability that a random fractured image gets a higher "fractured" score than a
random intact one (ties count half): 0.5 is chance, 1 is perfect, and it does not depend on the threshold.</dd>
<dt>Operating point</dt><dd>In the clinic a missed fracture costs more than a false alarm, so a threshold can be
chosen for a required sensitivity (e.g. 95 %), accepting the specificity that comes with it.</dd>
<dt>Undefined values</dt><dd>A ratio with nothing to divide by (e.g. precision of a class never predicted) is
shown as 0, as scikit-learn does with zero_division=0; AUC needs both classes and is n/a otherwise.</dd>
</dl></section>
)html";
}

nlohmann::json metrics_or_null(const std::optional<Metrics>& m) { return m ? nlohmann::json(*m) : nlohmann::json(); }

}  // namespace

std::string report_html(const ReportData& r) {
  Html h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" << escape_xml(r.title)
    << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body><main>\n<h1>" << escape_xml(r.title) << "</h1>\n";
  std::string meta;
  if (!r.created.empty()) meta += "Created " + escape_xml(r.created);
  if (r.seed) meta += (meta.empty() ? "" : " &middot; ") + std::string("seed ") + std::to_string(*r.seed);
  if (!meta.empty()) h << "<p class=\"meta\">" << meta << "</p>\n";
  warnings_section(h, r);
  results_section(h, r);
  breakdown_section(h, r);
  folds_section(h, r);
  history_section(h, r);
  health_section(h, r);
  config_section(h, r);
  files_section(h, r);
  glossary_section(h);
  h << "<p class=\"note\">Written by Radius. This file is self-contained: charts are inline SVG.</p>\n"
    << "</main></body>\n</html>\n";
  return h.s;
}

void write_report_html(const std::string& path, const ReportData& data) {
  write_file_atomic(path, report_html(data));
}

nlohmann::json report_json(const ReportData& r) {
  nlohmann::json j;
  j["title"] = r.title;
  if (!r.created.empty()) j["created"] = r.created;
  j["seed"] = r.seed ? nlohmann::json(*r.seed) : nlohmann::json();
  nlohmann::json config = nlohmann::json::object();
  for (const auto& [k, v] : r.config) config[k] = v;
  j["config"] = config;
  j["metrics"] = metrics_or_null(r.metrics);
  j["roc"] = r.roc ? nlohmann::json(*r.roc) : nlohmann::json();
  j["operating_point"] = r.operating_point ? nlohmann::json(*r.operating_point) : nlohmann::json();
  j["operating_metrics"] = metrics_or_null(r.operating_metrics);
  j["sweep"] = r.sweep;
  if (!r.breakdown.empty()) j["breakdown"] = r.breakdown;
  if (!r.folds.empty()) {
    nlohmann::json summary = nlohmann::json::object();
    for (const MetricSummary& s : summarize_folds(r.folds)) {
      nlohmann::json values = nlohmann::json::array();
      for (double v : s.values) values.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json());
      summary[s.name] = {{"mean", std::isfinite(s.mean) ? nlohmann::json(s.mean) : nlohmann::json()},
                         {"sd", std::isfinite(s.sd) ? nlohmann::json(s.sd) : nlohmann::json()},
                         {"per_fold", values}};
    }
    j["folds"] = {{"k", r.folds.size()}, {"per_fold", r.folds}, {"summary", summary}};
  }
  j["warnings"] = r.warnings;
  nlohmann::json files = nlohmann::json::array();
  for (const auto& [what, path] : r.files) files.push_back({{"what", what}, {"path", path}});
  j["files"] = files;
  return j;
}

void write_metrics_json(const std::string& path, const ReportData& data) {
  write_file_atomic(path, report_json(data).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace radius
