#include "data/csv.h"

#include <csv.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "io/atomic_file.h"

namespace radius {

namespace {

struct Collector {
  std::vector<CsvRow> rows;
  CsvRow current;
};

void on_field(void* text, size_t len, void* data) {
  static_cast<Collector*>(data)->current.emplace_back(static_cast<const char*>(text), len);
}

void on_row_end(int, void* data) {
  auto* c = static_cast<Collector*>(data);
  c->rows.push_back(std::move(c->current));
  c->current.clear();
}

}  // namespace

std::vector<CsvRow> read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();

  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0)
    throw std::runtime_error(path + ": cannot start the CSV parser");
  Collector c;
  const bool parsed = csv_parse(&parser, text.data(), text.size(), on_field, on_row_end, &c) == text.size() &&
                      csv_fini(&parser, on_field, on_row_end, &c) == 0;
  const std::string why = parsed ? "" : csv_strerror(csv_error(&parser));
  csv_free(&parser);
  if (!parsed)
    throw std::runtime_error(path + ": malformed CSV near line " + std::to_string(c.rows.size() + 1) + ": " + why);
  return c.rows;
}

std::string csv_line(const CsvRow& row) {
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) line += ',';
    const std::string& f = row[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos && (f.empty() || (f.front() != ' ' && f.back() != ' '))) {
      line += f;
      continue;
    }
    std::string quoted(f.size() * 2 + 2, '\0');
    quoted.resize(csv_write(quoted.data(), quoted.size(), f.data(), f.size()));
    line += quoted;
  }
  return line + "\n";
}

void write_csv(const std::string& path, const std::vector<CsvRow>& rows) {
  std::string text;
  for (const CsvRow& r : rows) text += csv_line(r);
  write_file_atomic(path, text);
}

}  // namespace radius
