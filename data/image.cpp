#include "data/image.h"

#include <stdexcept>
#include <string>

namespace radius {

Image::Image(int w, int h, int c, int d) : width(w), height(h), channels(c), depth(d) {
  if (w < 1 || h < 1 || (c != 1 && c != 3) || (d != 8 && d != 16))
    throw std::invalid_argument("Image: need width, height >= 1, 1 or 3 channels and depth 8 or 16, got " +
                                std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(c) + " depth " +
                                std::to_string(d));
  if (d == 8)
    pixels.assign(size_t(w) * size_t(h) * size_t(c), 0);
  else
    pixels16.assign(size_t(w) * size_t(h) * size_t(c), 0);
}

namespace {

template <typename T>
T luma(T r, T g, T b) {
  if constexpr (sizeof(T) == 1) return luma601(r, g, b);
  else return luma601_16(r, g, b);
}

template <typename T>
void convert_samples(const T* s, size_t n, int channels, T* d) {
  if (channels == 3) {
    for (size_t i = 0; i < n; ++i) d[3 * i] = d[3 * i + 1] = d[3 * i + 2] = s[i];
  } else {
    for (size_t i = 0; i < n; ++i) d[i] = luma(s[3 * i], s[3 * i + 1], s[3 * i + 2]);
  }
}

}  // namespace

Image convert_channels(const Image& img, int channels) {
  if (img.channels == channels) return img;
  Image out(img.width, img.height, channels, img.depth);
  const size_t n = size_t(img.width) * size_t(img.height);
  if (img.depth == 8)
    convert_samples(img.pixels.data(), n, channels, out.pixels.data());
  else
    convert_samples(img.pixels16.data(), n, channels, out.pixels16.data());
  return out;
}

Image convert_depth(const Image& img, int depth) {
  if (img.depth == depth) return img;
  Image out(img.width, img.height, img.channels, depth);
  if (depth == 16)
    for (size_t i = 0; i < img.pixels.size(); ++i) out.pixels16[i] = uint16_t(img.pixels[i] * 257u);
  else
    for (size_t i = 0; i < img.pixels16.size(); ++i) out.pixels[i] = uint8_t(img.pixels16[i] >> 8);
  return out;
}

Image rotate90(const Image& img, int quarter_turns) {
  const int k = ((quarter_turns % 4) + 4) % 4;
  if (k == 0) return img;
  const bool swap = k % 2 == 1;
  Image out(swap ? img.height : img.width, swap ? img.width : img.height, img.channels, img.depth);
  // For each destination pixel, the source pixel under a counter-clockwise turn.
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      int sx, sy;
      if (k == 1) {
        sx = img.width - 1 - y;
        sy = x;
      } else if (k == 2) {
        sx = img.width - 1 - x;
        sy = img.height - 1 - y;
      } else {
        sx = y;
        sy = img.height - 1 - x;
      }
      for (int c = 0; c < img.channels; ++c) {
        if (img.depth == 8)
          out.at(x, y, c) = img.at(sx, sy, c);
        else
          out.at16(x, y, c) = img.at16(sx, sy, c);
      }
    }
  return out;
}

}  // namespace radius
