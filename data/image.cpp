#include "data/image.h"

#include <stdexcept>
#include <string>

namespace radius {

Image::Image(int w, int h, int c) : width(w), height(h), channels(c) {
  if (w < 1 || h < 1 || (c != 1 && c != 3))
    throw std::invalid_argument("Image: need width, height >= 1 and 1 or 3 channels, got " + std::to_string(w) +
                                "x" + std::to_string(h) + "x" + std::to_string(c));
  pixels.assign(size_t(w) * size_t(h) * size_t(c), 0);
}

Image convert_channels(const Image& img, int channels) {
  if (img.channels == channels) return img;
  Image out(img.width, img.height, channels);
  const size_t n = size_t(img.width) * size_t(img.height);
  const uint8_t* s = img.pixels.data();
  uint8_t* d = out.pixels.data();
  if (channels == 3) {
    for (size_t i = 0; i < n; ++i) d[3 * i] = d[3 * i + 1] = d[3 * i + 2] = s[i];
  } else {
    for (size_t i = 0; i < n; ++i) d[i] = luma601(s[3 * i], s[3 * i + 1], s[3 * i + 2]);
  }
  return out;
}

Image rotate90(const Image& img, int quarter_turns) {
  const int k = ((quarter_turns % 4) + 4) % 4;
  if (k == 0) return img;
  const bool swap = k % 2 == 1;
  Image out(swap ? img.height : img.width, swap ? img.width : img.height, img.channels);
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
      for (int c = 0; c < img.channels; ++c) out.at(x, y, c) = img.at(sx, sy, c);
    }
  return out;
}

}  // namespace radius
