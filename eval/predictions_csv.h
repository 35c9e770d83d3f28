// Predictions as CSV, so `radius metrics` can recompute every number from a
// file that `evaluate`/`predict` wrote (or that a researcher made by hand).
//
// One layout for every predictions.csv Radius writes (train, kfold, evaluate, predict),
// written by write_predictions_csv:
//
//     path,label,score,p_fractured,class,gradcam
//     test/fractured/1-rotated1.jpg,0,0.0312,0.9688,fractured,
//     "test/not fractured/a,b.jpg",1,0.9876,0.0124,not fractured,
//
// label: the true class, 0 or 1 (0 = fractured, 1 = not fractured); empty when unknown
//        (an image predict found outside a class folder).
// score: the network's P(class 1) = P(not fractured), a number in [0, 1].
// p_fractured: 1 - score.
// class: the predicted class name at the writer's threshold (score > threshold: not
//        fractured); empty when the writer was given no threshold.
// gradcam: the Grad-CAM overlay of the image (predict --explain), else empty.
//
// The reader needs a header naming at least path, label and score (in any order; other
// columns are ignored), so a file made by hand with only those three reads too; every
// row needs its label (metrics compare it with the score).
// Fields may be quoted RFC 4180 style ("" is a quote inside a quoted field),
// which the writer does when a path holds a comma, quote or leading/trailing
// space. CRLF line ends and blank lines are accepted.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace radius {

struct Prediction {
  std::string path;
  int label = 0;  // -1: unknown (written as an empty field; the reader refuses it)
  double score = 0;
  std::string gradcam = {};  // the overlay file, when there is one
};

// Throws std::runtime_error "FILE:LINE: what is wrong" on a malformed file,
// and "FILE: ..." when it cannot be opened or has no rows.
std::vector<Prediction> read_predictions_csv(const std::string& path);
// Written atomically (see io/atomic_file.h); scores with 9 significant digits. `threshold`
// fills the class column (empty without it).
void write_predictions_csv(const std::string& path, const std::vector<Prediction>& rows,
                           std::optional<double> threshold = std::nullopt);

// The columns the metrics functions take.
std::vector<int> labels_of(const std::vector<Prediction>& rows);
std::vector<double> scores_of(const std::vector<Prediction>& rows);

}  // namespace radius
