// Test helper: a distinct synthetic radiograph per index, exactly w x h.
#pragma once
#include <algorithm>

#include "data/image.h"
#include "data/resize.h"
#include "data/synth.h"
#include "data/synth_dataset.h"
#include "tests/temp_dir.h"

namespace radius::test {

inline Image radiograph(uint64_t index, int w, int h, bool fractured = false) {
  SynthParams p;
  p.min_side = std::min(w, h);
  p.max_side = std::max(w, h);
  Image img = render_radiograph(p, 77, index, fractured);
  if (img.width != w || img.height != h) img = resize(img, w, h, Interpolation::bilinear);
  return img;
}

// A small data set in the Kaggle layout under DIR/data: `counts` images per split
// (train, val, test), sides min_side..max_side, for a 32x32 model.
inline std::string small_synthetic_dataset(const TempDir& dir, const SynthSplitCounts& counts, uint64_t seed,
                                           int min_side, int max_side) {
  SynthDatasetOptions opt;
  opt.render.min_side = min_side;
  opt.render.max_side = max_side;
  opt.render.model_side = 32;
  const std::string root = dir.file("data");
  write_synthetic_dataset(root, counts, seed, opt);
  return root;
}

}  // namespace radius::test
