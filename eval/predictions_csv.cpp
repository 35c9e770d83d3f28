#include "eval/predictions_csv.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "eval/metrics.h"
#include "io/atomic_file.h"

namespace radius {
namespace {

struct Located {
  const std::string& file;
  size_t line;
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(file + ":" + std::to_string(line) + ": " + what);
  }
};

// One CSV record (no embedded newlines: a path never holds one).
std::vector<std::string> split_csv(const std::string& text, const Located& at) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch != '"') fields.back() += ch;
      else if (i + 1 < text.size() && text[i + 1] == '"') fields.back() += '"', ++i;
      else quoted = false;
    } else if (ch == '"') {
      if (!fields.back().empty()) at.fail("a quote inside an unquoted field (quote the whole field)");
      quoted = true;
    } else if (ch == ',') {
      fields.emplace_back();
    } else {
      fields.back() += ch;
    }
  }
  if (quoted) at.fail("unterminated quoted field");
  return fields;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string quote_if_needed(const std::string& s) {
  const bool needs = s.find_first_of(",\"\r\n") != std::string::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!needs) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

}  // namespace

std::vector<Prediction> read_predictions_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the predictions file");

  std::string text;
  size_t line_no = 0;
  int col_path = -1, col_label = -1, col_score = -1;
  size_t n_columns = 0;
  std::vector<Prediction> rows;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (line_no == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 BOM from spreadsheets
    if (trim(text).empty()) continue;
    const Located at{path, line_no};
    std::vector<std::string> fields = split_csv(text, at);

    if (n_columns == 0) {  // the header
      for (size_t i = 0; i < fields.size(); ++i) {
        const std::string name = trim(fields[i]);
        int* col = name == "path" ? &col_path : name == "label" ? &col_label : name == "score" ? &col_score : nullptr;
        if (!col) continue;
        if (*col >= 0) at.fail("the header names column '" + name + "' twice");
        *col = int(i);
      }
      if (col_path < 0 || col_label < 0 || col_score < 0)
        at.fail("expected a header naming the columns path, label and score, got '" + text + "'");
      n_columns = fields.size();
      continue;
    }

    if (fields.size() != n_columns)
      at.fail("expected " + std::to_string(n_columns) + " fields like the header, got " + std::to_string(fields.size()) +
              " (quote paths that contain commas)");
    Prediction p;
    p.path = fields[size_t(col_path)];
    const std::string label = trim(fields[size_t(col_label)]);
    if (label == "0") p.label = 0;
    else if (label == "1") p.label = 1;
    else if (label.empty()) at.fail("the label is empty (the true class is unknown; metrics need it for every row)");
    else at.fail("label must be 0 or 1, got '" + label + "'");
    const std::string score = trim(fields[size_t(col_score)]);
    char* end = nullptr;
    p.score = score.empty() ? NAN : std::strtod(score.c_str(), &end);
    if (score.empty() || end != score.c_str() + score.size()) at.fail("score is not a number: '" + score + "'");
    if (!(p.score >= 0 && p.score <= 1)) at.fail("score must be a probability in [0, 1], got '" + score + "'");
    rows.push_back(std::move(p));
  }
  if (in.bad()) throw std::runtime_error(path + ": read error");
  if (n_columns == 0) throw std::runtime_error(path + ": empty file, expected a header 'path,label,score'");
  if (rows.empty()) throw std::runtime_error(path + ": no prediction rows after the header");
  return rows;
}

void write_predictions_csv(const std::string& path, const std::vector<Prediction>& rows,
                           std::optional<double> threshold) {
  static const char* const kClassNames[2] = {"fractured", "not fractured"};
  std::string out = "path,label,score,p_fractured,class,gradcam\n";
  char numbers[64];
  for (const Prediction& p : rows) {
    std::snprintf(numbers, sizeof numbers, ",%.9g,%.9g,", p.score, 1.0 - p.score);
    out += quote_if_needed(p.path) + "," + (p.label < 0 ? std::string() : std::to_string(p.label)) + numbers +
           (threshold ? kClassNames[predict_class(p.score, *threshold)] : "") + "," + quote_if_needed(p.gradcam) + "\n";
  }
  write_file_atomic(path, out);
}

std::vector<int> labels_of(const std::vector<Prediction>& rows) {
  std::vector<int> v;
  v.reserve(rows.size());
  for (const Prediction& p : rows) v.push_back(p.label);
  return v;
}

std::vector<double> scores_of(const std::vector<Prediction>& rows) {
  std::vector<double> v;
  v.reserve(rows.size());
  for (const Prediction& p : rows) v.push_back(p.score);
  return v;
}

}  // namespace radius
