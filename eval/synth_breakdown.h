// What a model trained on the synthetic data gets right, by what each image shows.
//
// A test accuracy cannot say *what* was learned: a model can score 0.82 by spotting casts
// and swelling without ever seeing a fracture line (docs/synthetic-data.md). Joining the
// predictions with synth.csv (data/synth_truth.h) splits them by the fracture's kind and
// signs (the share of fractured images found: sensitivity) and by the hard negatives (the
// share of intact images called intact: specificity). A sign the model never learned shows
// as a fractured row near the false-alarm rate; a hard negative that fools it, as an intact
// row well below the others.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/synth_truth.h"
#include "eval/predictions_csv.h"

namespace radius {

struct BreakdownRow {
  bool fractured = false;  // which class the row counts: fractured images, or intact ones
  std::string kind;        // e.g. "subtle hairline", "crossing limb"
  int64_t images = 0;
  int64_t right = 0;       // fractured: called fractured; intact: called not fractured
  double rate() const { return images > 0 ? double(right) / double(images) : 0.0; }
};

// Predictions as everywhere in Radius: label 0 = fractured, score = P(not fractured), an
// image is called not fractured iff score > threshold. Rows with no images are left out.
// Throws std::runtime_error when a prediction's path is not in `truth` (the model was
// evaluated on another data set) or its label disagrees with the truth's class.
std::vector<BreakdownRow> synth_breakdown(const std::vector<SynthTruth>& truth,
                                          const std::vector<Prediction>& predictions, double threshold);

// The rows as two small text tables (fractured, then intact), for the console.
std::string breakdown_table(const std::vector<BreakdownRow>& rows);

void to_json(nlohmann::json& j, const BreakdownRow& r);

}  // namespace radius
