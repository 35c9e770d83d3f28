// Image: 8-bit pixels as they come out of a decoder, before they become a Tensor.
//
// Interleaved HWC (row-major, channels fastest), the layout libpng and libjpeg
// produce, so decoding and encoding need no reshuffle. channels is 1 (gray) or 3 (RGB).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace radius {

struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels bytes

  Image() = default;
  Image(int width, int height, int channels);  // zero-filled; throws std::invalid_argument on bad sizes

  bool empty() const { return pixels.empty(); }
  size_t row_bytes() const { return size_t(width) * size_t(channels); }
  uint8_t& at(int x, int y, int c = 0) { return pixels[(size_t(y) * width + x) * channels + c]; }
  uint8_t at(int x, int y, int c = 0) const { return pixels[(size_t(y) * width + x) * channels + c]; }
};

// Gray from RGB with the ITU-R 601 luma weights in Pillow's fixed-point form
// (L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16), so grayscale loading matches
// Keras' load_img(color_mode="grayscale"), which calls PIL's convert("L").
inline uint8_t luma601(uint8_t r, uint8_t g, uint8_t b) {
  return uint8_t((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}

// 1 -> 3 replicates gray (Keras color_mode="rgb" on a gray X-ray); 3 -> 1 uses luma601.
Image convert_channels(const Image& img, int channels);

// Rotate by quarter_turns * 90 degrees counter-clockwise (PIL's rotate(90 * k, expand=True),
// numpy's rot90): the operation behind Kaggle's "-rotated<k>" copies. Any integer k.
Image rotate90(const Image& img, int quarter_turns);

}  // namespace radius
