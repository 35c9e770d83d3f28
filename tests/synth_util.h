// Test helper: a distinct synthetic radiograph per index, exactly w x h.
#pragma once
#include <algorithm>

#include "data/image.h"
#include "data/resize.h"
#include "data/synth.h"

namespace radius::test {

inline Image radiograph(uint64_t index, int w, int h, bool fractured = false) {
  SynthParams p;
  p.min_side = std::min(w, h);
  p.max_side = std::max(w, h);
  Image img = render_radiograph(p, 77, index, fractured);
  if (img.width != w || img.height != h) img = resize(img, w, h, Interpolation::bilinear);
  return img;
}

}  // namespace radius::test
