// The rasterizer: paints a Drawing onto an 8-bit RGB image for PNG output.
// Strokes, rectangle edges and markers are anti-aliased by pixel coverage;
// text is the bitmap font scaled by whole pixels (crisp, no blur).
#pragma once
#include <cstdint>
#include <vector>

#include "eval/drawing.h"

namespace radius {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // row-major, 3 bytes per pixel

  RgbImage() = default;
  RgbImage(int w, int h, Rgb fill);
  Rgb at(int x, int y) const {
    const uint8_t* p = &pixels[(size_t(y) * size_t(width) + size_t(x)) * 3];
    return {p[0], p[1], p[2]};
  }
};

// pixel_scale: device pixels per logical pixel (2 gives print-friendly PNGs
// from the same layout the SVG uses). Must be 1..8.
RgbImage rasterize(const Drawing& d, int pixel_scale = 2);

}  // namespace radius
