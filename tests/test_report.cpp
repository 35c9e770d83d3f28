#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "eval/report.h"
#include "temp_dir.h"

using radius::test::read_text;

using namespace radius;

namespace {

std::vector<HistoryRow> toy_history(int epochs) {
  std::vector<HistoryRow> h;
  for (int e = 1; e <= epochs; ++e)
    h.push_back({e, 0.7 / e + 0.1, 0.6 + 0.03 * e, 0.6 / e + 0.2, 0.55 + 0.025 * e, 1e-3, 30.0});
  return h;
}

}  // namespace

TEST_CASE("report: self-contained HTML with every section, and metrics.json") {
  std::vector<int> labels;
  std::vector<double> scores;
  for (int i = 0; i < 60; ++i) {
    labels.push_back(i % 4 == 0 ? 1 : 0);
    scores.push_back(std::clamp((labels.back() ? 0.7 : 0.25) + 0.01 * (i % 13) - 0.06, 0.0, 1.0));
  }
  ReportData r;
  r.title = "Fracture <test> run";
  r.created = "2026-11-27T12:00:00Z";
  r.seed = 42;
  r.config = {{"model", "models/paper.spec"}, {"batch", "32"}, {"optimizer", "adam (keras), lr 0.001"}};
  r.history = toy_history(11);
  r.metrics = compute_metrics(labels, scores, 0.5, 0);
  r.roc = roc_curve(labels, scores, 0);
  r.operating_point = operating_point_for_sensitivity(*r.roc, 0.95);
  r.operating_metrics = compute_metrics(labels, scores, r.operating_point->threshold, 0);
  r.sweep = threshold_sweep(labels, scores, default_sweep_thresholds(), 0);
  r.folds = {*r.metrics, compute_metrics(ConfusionMatrix::from_counts(40, 5, 3, 12)),
             compute_metrics(ConfusionMatrix::from_counts(41, 4, 6, 9))};
  r.warnings = {"validation accuracy is constant: the model may have collapsed"};
  r.files = {{"history", "history.csv"}, {"test split", "splits/test.txt"}};

  const std::string html = report_html(r);
  for (const char* s : {"<!DOCTYPE html>", "id=\"warnings\"", "id=\"results\"", "id=\"operating-point\"",
                        "id=\"sweep\"", "id=\"kfold\"", "id=\"learning-curves\"", "id=\"config\"", "id=\"files\"",
                        "id=\"glossary\"", "Fracture &lt;test&gt; run", "&plusmn;", "seed 42", "splits/test.txt",
                        "Balanced accuracy", "MCC", "adam (keras), lr 0.001"})
    CHECK_MESSAGE(html.find(s) != std::string::npos, s);
  size_t svgs = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  CHECK(svgs == 4);  // confusion matrix, ROC, loss, accuracy
  // Nothing outside the file: no scripts, links, images, fonts or imports.
  for (const char* s : {"<script", "<link", "<img", "src=", "href=", "url(", "@import", "http://", "https://"}) {
    std::string h = html;
    // The SVG namespace URI is a name, not a fetch.
    for (size_t at; (at = h.find("xmlns=\"http://www.w3.org/2000/svg\"")) != std::string::npos;) h.erase(at, 34);
    CHECK_MESSAGE(h.find(s) == std::string::npos, s);
  }

  const std::string dir = "report_test_dir";
  std::filesystem::create_directories(dir);
  write_report_html(dir + "/report.html", r);
  CHECK(read_text(dir + "/report.html") == html);
  write_metrics_json(dir + "/metrics.json", r);
  const nlohmann::json j = nlohmann::json::parse(read_text(dir + "/metrics.json"));
  CHECK(j["seed"] == 42);
  CHECK(j["metrics"]["mcc"].get<double>() == doctest::Approx(r.metrics->mcc));
  CHECK(j["operating_point"]["met"] == true);
  CHECK(j["folds"]["k"] == 3);
  CHECK(j["folds"]["summary"]["accuracy"]["per_fold"].size() == 3);
  CHECK(j["sweep"].size() == 21);
  CHECK(j["config"]["batch"] == "32");
  CHECK(j["warnings"][0].get<std::string>().find("collapsed") != std::string::npos);
  write_history_csv(dir + "/history.csv", r.history);
  CHECK(read_history_csv(dir + "/history.csv").size() == 11);
  std::filesystem::remove_all(dir);

  // A bare report (the metrics command from a confusion matrix) still renders.
  ReportData bare;
  bare.metrics = compute_metrics(ConfusionMatrix::from_counts(694, 32, 54, 195));
  const std::string b = report_html(bare);
  CHECK(b.find("id=\"results\"") != std::string::npos);
  CHECK(b.find("id=\"kfold\"") == std::string::npos);
  CHECK(b.find("id=\"warnings\"") == std::string::npos);
}
