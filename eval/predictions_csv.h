// Predictions as CSV, so `radius metrics` can recompute every number from a
// file that `evaluate`/`predict` wrote (or that a researcher made by hand).
//
// Format: a header line naming at least the columns path, label and score (in
// any order; other columns are ignored), then one row per image:
//
//     path,label,score
//     test/fractured/1-rotated1.jpg,0,0.0312
//     "test/not fractured/a,b.jpg",1,0.9876
//
// label: the true class, 0 or 1 (0 = fractured, 1 = not fractured).
// score: the network's P(class 1), a number in [0, 1].
// Fields may be quoted RFC 4180 style ("" is a quote inside a quoted field),
// which the writer does when a path holds a comma, quote or leading/trailing
// space. CRLF line ends and blank lines are accepted.
#pragma once
#include <string>
#include <vector>

namespace radius {

struct Prediction {
  std::string path;
  int label = 0;
  double score = 0;
};

// Throws std::runtime_error "FILE:LINE: what is wrong" on a malformed file,
// and "FILE: ..." when it cannot be opened or has no rows.
std::vector<Prediction> read_predictions_csv(const std::string& path);
// Written atomically (see io/atomic_file.h); scores with 9 significant digits.
void write_predictions_csv(const std::string& path, const std::vector<Prediction>& rows);

// The columns the metrics functions take.
std::vector<int> labels_of(const std::vector<Prediction>& rows);
std::vector<double> scores_of(const std::vector<Prediction>& rows);

}  // namespace radius
