// Image: pixels as they come out of a decoder, before they become a Tensor.
//
// Interleaved HWC (row-major, channels fastest), the layout libpng and libjpeg
// produce, so decoding and encoding need no reshuffle. channels is 1 (gray) or 3 (RGB).
//
// Samples are 8 or 16 bits (`depth`). 8-bit images (PNG, JPEG: what Keras sees) keep
// their samples in `pixels`; 16-bit ones (16-bit PNG kept whole, DICOM after windowing)
// in `pixels16`, the other vector staying empty. A 16-bit sample v means v / 65535 of
// full scale, an 8-bit one v / 255, so widening is v * 257 (exact: 257 v / 65535 = v / 255).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace radius {

struct Image {
  int width = 0, height = 0, channels = 0;
  int depth = 8;                  // bits per sample: 8 or 16
  std::vector<uint8_t> pixels;    // depth 8: height * width * channels samples
  std::vector<uint16_t> pixels16;  // depth 16: height * width * channels samples

  Image() = default;
  // zero-filled; throws std::invalid_argument on bad sizes or a depth other than 8 or 16
  Image(int width, int height, int channels, int depth = 8);

  bool empty() const { return pixels.empty() && pixels16.empty(); }
  size_t row_bytes() const { return size_t(width) * size_t(channels); }  // samples per row (8-bit: bytes)
  size_t sample_count() const { return size_t(height) * row_bytes(); }
  uint8_t& at(int x, int y, int c = 0) { return pixels[(size_t(y) * width + x) * channels + c]; }
  uint8_t at(int x, int y, int c = 0) const { return pixels[(size_t(y) * width + x) * channels + c]; }
  uint16_t& at16(int x, int y, int c = 0) { return pixels16[(size_t(y) * width + x) * channels + c]; }
  uint16_t at16(int x, int y, int c = 0) const { return pixels16[(size_t(y) * width + x) * channels + c]; }
};

// Gray from RGB with the ITU-R 601 luma weights in Pillow's fixed-point form
// (L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16), so grayscale loading matches
// Keras' load_img(color_mode="grayscale"), which calls PIL's convert("L").
inline uint8_t luma601(uint8_t r, uint8_t g, uint8_t b) {
  return uint8_t((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}
// The same weights on 16-bit samples (the sum stays below 2^32: 65536 * 65535 + 0x8000).
inline uint16_t luma601_16(uint16_t r, uint16_t g, uint16_t b) {
  return uint16_t((19595ull * r + 38470ull * g + 7471ull * b + 0x8000ull) >> 16);
}

// 1 -> 3 replicates gray (Keras color_mode="rgb" on a gray X-ray); 3 -> 1 uses luma601.
// Either depth; the result has the input's depth.
Image convert_channels(const Image& img, int channels);

// The image at another depth: 8 -> 16 widens exactly (v * 257); 16 -> 8 keeps the high
// byte, as PIL and our PNG decoder do for 16-bit files (so both routes give the same bytes).
Image convert_depth(const Image& img, int depth);

// Rotate by quarter_turns * 90 degrees counter-clockwise (PIL's rotate(90 * k, expand=True),
// numpy's rot90): the operation behind Kaggle's "-rotated<k>" copies. Any integer k, either depth.
Image rotate90(const Image& img, int quarter_turns);

}  // namespace radius
