#include "eval/png_io.h"

#include <png.h>

#include <stdexcept>

#include "eval/atomic_file.h"

namespace radius {

void write_png_rgb(const std::string& path, const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != size_t(image.width) * image.height * 3)
    throw std::invalid_argument(path + ": write_png_rgb: image size does not match its pixel buffer");
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = png_uint_32(image.width);
  png.height = png_uint_32(image.height);
  png.format = PNG_FORMAT_RGB;
  const png_int_32 stride = png_int_32(image.width) * 3;
  // First call sizes the buffer, second fills it.
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&png, nullptr, &size, 0, image.pixels.data(), stride, nullptr))
    throw std::runtime_error(path + ": PNG encoding failed: " + png.message);
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&png, bytes.data(), &size, 0, image.pixels.data(), stride, nullptr))
    throw std::runtime_error(path + ": PNG encoding failed: " + png.message);
  bytes.resize(size);
  write_file_atomic(path, bytes);
}

RgbImage read_png_rgb(const std::string& path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str()))
    throw std::runtime_error(path + ": cannot read PNG: " + png.message);
  png.format = PNG_FORMAT_RGB;
  RgbImage img;
  img.width = int(png.width);
  img.height = int(png.height);
  img.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, img.pixels.data(), 0, nullptr)) {
    png_image_free(&png);
    throw std::runtime_error(path + ": cannot decode PNG: " + png.message);
  }
  return img;
}

}  // namespace radius
