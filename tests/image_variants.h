// Test helper: image files in the variants our encoder does not write (palette with
// transparency, 1- and 16-bit, gray+alpha, RGBA, Adam7-interlaced PNG; CMYK JPEG), as
// bytes, written with libpng / libjpeg directly. Deterministic pixel patterns.
#pragma once
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <jpeglib.h>
#include <png.h>

namespace radius::test {

// ---- PNG variants libpng writes but our encoder does not (palette, 16-bit, alpha, interlace)
struct PngOut {
  std::vector<uint8_t> bytes;
};
inline void png_to_vector(png_structp png, png_bytep data, size_t n) {
  auto* o = static_cast<PngOut*>(png_get_io_ptr(png));
  o->bytes.insert(o->bytes.end(), data, data + n);
}

inline std::vector<uint8_t> png_variant(int w, int h, int color_type, int depth, bool interlace) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  PngOut out;
  if (setjmp(png_jmpbuf(png))) throw std::runtime_error("libpng write failed");
  png_set_write_fn(png, &out, png_to_vector, nullptr);
  png_set_IHDR(png, info, png_uint_32(w), png_uint_32(h), depth, color_type,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_color palette[16];
    for (int i = 0; i < 16; ++i) palette[i] = {png_byte(i * 16), png_byte(255 - i * 16), png_byte(i * 7)};
    png_set_PLTE(png, info, palette, 16);
    png_byte alpha[2] = {0, 128};
    png_set_tRNS(png, info, alpha, 2, nullptr);
  }
  png_write_info(png, info);
  const int samples = color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : color_type == PNG_COLOR_TYPE_RGB ? 3
                      : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
  const size_t row_bytes = (size_t(w) * samples * depth + 7) / 8;
  std::vector<uint8_t> pixels(row_bytes * size_t(h));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 53 + 11);
  if (color_type == PNG_COLOR_TYPE_PALETTE && depth == 8)
    for (uint8_t& p : pixels) p &= 15;  // indices inside the 16-entry palette
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int y = 0; y < h; ++y) rows[size_t(y)] = pixels.data() + size_t(y) * row_bytes;
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out.bytes;
}

// ---- CMYK JPEG (libjpeg writes it; our encoder writes gray and RGB only)
inline std::vector<uint8_t> cmyk_jpeg(int w, int h) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = JDIMENSION(w);
  c.image_height = JDIMENSION(h);
  c.input_components = 4;
  c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 85, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<uint8_t> row(size_t(w) * 4);
  while (c.next_scanline < c.image_height) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = uint8_t(i * 29 + c.next_scanline * 17);
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> out(buf, buf + size);
  std::free(buf);
  return out;
}

}  // namespace radius::test
