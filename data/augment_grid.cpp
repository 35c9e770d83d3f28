// write_augment_grid: a contact sheet of augmentations, for a person to check
// rotation direction, zoom and flips by eye.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "data/augment.h"
#include "data/encode.h"
#include "data/image.h"

namespace radius {

void write_augment_grid(const uint8_t* image, int h, int w, int c, const AugmentConfig& cfg, int n,
                        uint64_t seed, const std::string& png_path) {
  if (c != 1 && c != 3) throw std::invalid_argument("write_augment_grid: c must be 1 or 3");
  if (n < 1) throw std::invalid_argument("write_augment_grid: n must be >= 1");
  constexpr int kGap = 4;  // white lines between tiles
  const int cols = int(std::ceil(std::sqrt(double(n)))), rows = (n + cols - 1) / cols;
  const int gw = cols * (w + kGap) + kGap, gh = rows * (h + kGap) + kGap;
  Image sheet(gw, gh, c);  // HWC [gh, gw, c]
  std::vector<uint8_t>& grid = sheet.pixels;
  std::fill(grid.begin(), grid.end(), uint8_t(255));
  std::vector<float> tile(size_t(c) * h * w);           // CHW [c, h, w], 0..255
  for (int k = 0; k < n; ++k) {
    const AffineParams p = k == 0 ? AffineParams{} : draw_params(cfg, h, w, seed, 0, uint64_t(k));
    apply_affine(p, image, h, w, c, tile.data(), 1.0f);
    const int top = kGap + (k / cols) * (h + kGap), left = kGap + (k % cols) * (w + kGap);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int ch = 0; ch < c; ++ch) {
          const float v = tile[(size_t(ch) * h + y) * w + x];
          grid[(size_t(top + y) * gw + left + x) * c + ch] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
        }
  }
  encode_png(sheet, png_path);
}

}  // namespace radius
