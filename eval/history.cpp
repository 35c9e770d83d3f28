#include "eval/history.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "io/atomic_file.h"

namespace radius {
namespace {

constexpr const char* kHeader = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds";

std::string field(double v) {
  if (std::isnan(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void write_history_csv(const std::string& path, const std::vector<HistoryRow>& rows) {
  std::string out = std::string(kHeader) + "\n";
  for (const HistoryRow& r : rows)
    out += std::to_string(r.epoch) + "," + field(r.train_loss) + "," + field(r.train_accuracy) + "," +
           field(r.val_loss) + "," + field(r.val_accuracy) + "," + field(r.learning_rate) + "," + field(r.seconds) +
           "\n";
  write_file_atomic(path, out);
}

std::vector<HistoryRow> read_history_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the history file");
  std::string line;
  std::vector<HistoryRow> rows;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (line_no == 1) {
      if (line != kHeader) throw std::runtime_error(where + "expected the header '" + std::string(kHeader) + "'");
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string item; std::getline(ss, item, ',');) f.push_back(item);
    if (!line.empty() && line.back() == ',') f.emplace_back();  // getline drops a trailing empty field
    if (f.size() != 7) throw std::runtime_error(where + "expected 7 fields, got " + std::to_string(f.size()));
    auto number = [&](const std::string& s) {
      if (s.empty()) return kNaN;
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size()) throw std::runtime_error(where + "not a number: '" + s + "'");
      return v;
    };
    HistoryRow r;
    const double epoch = number(f[0]);
    if (!(epoch >= 1) || epoch != std::floor(epoch)) throw std::runtime_error(where + "epoch must be a whole number >= 1");
    r.epoch = int(epoch);
    r.train_loss = number(f[1]);
    r.train_accuracy = number(f[2]);
    r.val_loss = number(f[3]);
    r.val_accuracy = number(f[4]);
    r.learning_rate = number(f[5]);
    r.seconds = number(f[6]);
    rows.push_back(r);
  }
  if (line_no == 0) throw std::runtime_error(path + ": empty file, expected the header '" + std::string(kHeader) + "'");
  return rows;
}

int best_epoch(const std::vector<HistoryRow>& rows) {
  int best = 0;
  double best_loss = 0;
  for (const HistoryRow& r : rows)
    if (!std::isnan(r.val_loss) && (best == 0 || r.val_loss < best_loss)) best = r.epoch, best_loss = r.val_loss;
  return best;
}

}  // namespace radius
