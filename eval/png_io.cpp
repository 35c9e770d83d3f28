#include "eval/png_io.h"

#include <stdexcept>

#include "data/decode.h"
#include "data/encode.h"

namespace radius {

// Charts share the image codec of data/: one PNG writer and reader in Radius.
void write_png_rgb(const std::string& path, const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != size_t(image.width) * image.height * 3)
    throw std::invalid_argument(path + ": write_png_rgb: image size does not match its pixel buffer");
  Image img;
  img.width = image.width;
  img.height = image.height;
  img.channels = 3;
  img.pixels = image.pixels;
  encode_png(img, path);
}

RgbImage read_png_rgb(const std::string& path) {
  Image img = decode_image(path, ColorMode::rgb);
  RgbImage out;
  out.width = img.width;
  out.height = img.height;
  out.pixels = std::move(img.pixels);
  return out;
}

}  // namespace radius
