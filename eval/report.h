// The run's report: one self-contained report.html (inline CSS and SVG
// charts, no scripts, no external files or fonts, so it can be mailed or
// archived as is), and metrics.json with the same numbers for scripts.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eval/health_history.h"  // LayerHealthRow
#include "eval/history.h"  // HistoryRow, write_history_csv
#include "eval/metrics.h"
#include "eval/synth_breakdown.h"  // BreakdownRow

namespace radius {

struct ReportData {
  std::string title = "Radius run report";
  std::string created;  // when the run was made, as text (e.g. ISO 8601); shown as given
  std::vector<std::pair<std::string, std::string>> config;  // run configuration, in display order
  std::optional<uint64_t> seed;

  std::vector<HistoryRow> history;  // per epoch; empty for evaluate/metrics runs
  std::vector<LayerHealthRow> health;  // training health per epoch and layer (net/health.h), optional

  std::optional<Metrics> metrics;              // on the test set, at the default threshold
  std::optional<RocCurve> roc;                 // on the same set
  std::optional<OperatingPoint> operating_point;
  std::optional<Metrics> operating_metrics;    // the metrics at the operating point's threshold
  std::vector<Metrics> sweep;                  // threshold_sweep rows, optional
  std::vector<BreakdownRow> breakdown;         // synthetic data: right per kind of image, optional

  std::vector<Metrics> folds;  // k-fold: one evaluation per fold (summarised as mean ± sd)

  std::vector<std::string> warnings;  // shown first: collapse, leakage, class imbalance...
  std::vector<std::pair<std::string, std::string>> files;  // (what it is, path relative to the run folder)
};

// The HTML text; write_report_html writes it atomically.
std::string report_html(const ReportData& data);
void write_report_html(const std::string& path, const ReportData& data);

// Every number in the report except the history (which is history.csv):
// seed, config, metrics, ROC, operating point, sweep, folds with mean and sd,
// warnings. NaN (undefined) values are null.
nlohmann::json report_json(const ReportData& data);
void write_metrics_json(const std::string& path, const ReportData& data);

}  // namespace radius
