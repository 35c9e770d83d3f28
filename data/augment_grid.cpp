// write_augment_grid: a contact sheet of augmentations, for a person to check
// rotation direction, zoom and flips by eye. The PNG writer here is deliberately
// minimal (libpng's simplified API) until the full codec in data/decode.* lands.
#include <png.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "data/augment.h"

namespace radius {
namespace {

// pixels: HWC uint8 [h, w, c], c in {1, 3, 4} (gray, RGB, RGBA).
void write_png(const std::string& path, const uint8_t* pixels, int h, int w, int c) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = png_uint_32(w);
  image.height = png_uint_32(h);
  image.format = c == 1 ? PNG_FORMAT_GRAY : c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
  if (!png_image_write_to_file(&image, path.c_str(), 0, pixels, png_int_32(w) * c, nullptr))
    throw std::runtime_error("write_png: " + path + ": " + image.message);
}

}  // namespace

void write_augment_grid(const uint8_t* image, int h, int w, int c, const AugmentConfig& cfg, int n,
                        uint64_t seed, const std::string& png_path) {
  if (c != 1 && c != 3 && c != 4) throw std::invalid_argument("write_augment_grid: c must be 1, 3 or 4");
  if (n < 1) throw std::invalid_argument("write_augment_grid: n must be >= 1");
  constexpr int kGap = 4;  // white lines between tiles
  const int cols = int(std::ceil(std::sqrt(double(n)))), rows = (n + cols - 1) / cols;
  const int gw = cols * (w + kGap) + kGap, gh = rows * (h + kGap) + kGap;
  std::vector<uint8_t> grid(size_t(gh) * gw * c, 255);  // HWC [gh, gw, c]
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
  write_png(png_path, grid.data(), gh, gw, c);
}

}  // namespace radius
