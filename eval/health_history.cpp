#include "eval/health_history.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "data/csv.h"
#include "io/atomic_file.h"

namespace radius {
namespace {

const CsvRow kHeader{"epoch",       "layer",     "kind",          "samples",          "act_mean",
                     "act_std",     "dead_fraction", "weight_norm", "weight_grad_norm", "weight_update_ratio",
                     "bias_norm",   "bias_grad_norm", "bias_update_ratio"};

std::string field(double v) {
  if (std::isnan(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

double number(const std::string& s, const std::string& where) {
  if (s.empty()) return kNaN;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) throw std::runtime_error(where + "'" + s + "' is not a number");
  return v;
}

}  // namespace

void write_health_csv(const std::string& path, const std::vector<LayerHealthRow>& rows) {
  std::string out = csv_line(kHeader);
  for (const LayerHealthRow& r : rows)
    out += csv_line({std::to_string(r.epoch), std::to_string(r.layer), r.kind, std::to_string(r.samples),
                     field(r.act_mean), field(r.act_std), field(r.dead_fraction), field(r.weight_norm),
                     field(r.weight_grad_norm), field(r.weight_update_ratio), field(r.bias_norm),
                     field(r.bias_grad_norm), field(r.bias_update_ratio)});
  write_file_atomic(path, out);
}

std::vector<LayerHealthRow> read_health_csv(const std::string& path) {
  const std::vector<CsvRow> rows = read_csv(path);
  if (rows.empty() || rows[0] != kHeader) throw std::runtime_error(path + ":1: not a health.csv header");
  std::vector<LayerHealthRow> out;
  for (size_t i = 1; i < rows.size(); ++i) {
    const CsvRow& f = rows[i];
    const std::string where = path + ":" + std::to_string(i + 1) + ": ";
    if (f.size() == 1 && f[0].empty()) continue;
    if (f.size() != kHeader.size())
      throw std::runtime_error(where + std::to_string(f.size()) + " fields, expected " + std::to_string(kHeader.size()));
    LayerHealthRow r;
    r.epoch = int(number(f[0], where));
    r.layer = int(number(f[1], where));
    r.kind = f[2];
    r.samples = int(number(f[3], where));
    double* values[] = {&r.act_mean,   &r.act_std,   &r.dead_fraction,  &r.weight_norm,      &r.weight_grad_norm,
                        &r.weight_update_ratio, &r.bias_norm, &r.bias_grad_norm, &r.bias_update_ratio};
    for (size_t k = 0; k < 9; ++k) *values[k] = number(f[4 + k], where);
    out.push_back(r);
  }
  return out;
}

}  // namespace radius
