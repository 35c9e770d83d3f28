// CSV files (RFC 4180: quoted fields, embedded commas and quotes) through
// libcsv. Used for dataset manifests, split file lists and prediction files.
#pragma once
#include <string>
#include <vector>

namespace radius {

using CsvRow = std::vector<std::string>;

// Every row of the file, header included. Throws std::runtime_error naming the
// path on an unreadable file or malformed CSV (e.g. an unterminated quote).
// Row i of the result is line i + 1 of a file without quoted line breaks.
std::vector<CsvRow> read_csv(const std::string& path);

// One row as CSV text (fields quoted only when they need it), with "\n".
std::string csv_line(const CsvRow& row);
// Writes all rows atomically (temporary file + rename).
void write_csv(const std::string& path, const std::vector<CsvRow>& rows);

}  // namespace radius
