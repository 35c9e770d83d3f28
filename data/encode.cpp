#include "data/encode.h"

#include "io/atomic_file.h"


#include <cerrno>
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <jpeglib.h>
#include <png.h>

namespace radius {
namespace {

void check_encodable(const Image& img, const std::string& what, bool allow_16_bit = false) {
  const size_t n = size_t(img.width) * size_t(img.height) * size_t(img.channels);
  const bool samples_ok = img.depth == 16 ? allow_16_bit && img.pixels16.size() == n : img.pixels.size() == n;
  if (img.width < 1 || img.height < 1 || (img.channels != 1 && img.channels != 3) || !samples_ok)
    throw std::invalid_argument(what + ": need a non-empty 8-bit gray or RGB image, got " +
                                std::to_string(img.width) + "x" + std::to_string(img.height) + "x" +
                                std::to_string(img.channels));
}

// ---- PNG -------------------------------------------------------------------------
// As in decode.cpp: the *_guarded functions own the setjmp and keep no object with a
// destructor alive across libpng calls (longjmp would skip it).

struct PngWriter {  // plain data: shared with the C callbacks
  std::vector<uint8_t>* out;
  bool out_of_memory;
  char message[256];
};

void png_write_fail(png_structp png, png_const_charp msg) {
  auto* w = static_cast<PngWriter*>(png_get_error_ptr(png));
  std::snprintf(w->message, sizeof w->message, "%s", msg);
  png_longjmp(png, 1);
}

void png_write_memory(png_structp png, png_bytep data, size_t n) {
  auto* w = static_cast<PngWriter*>(png_get_io_ptr(png));
  try {
    w->out->insert(w->out->end(), data, data + n);
  } catch (const std::bad_alloc&) {
    w->out_of_memory = true;  // no longjmp from inside a catch block: it would skip the handler's cleanup
  }
  if (w->out_of_memory) png_error(png, "out of memory");
}

void png_flush_nothing(png_structp) {}

bool png_encode_guarded(png_structp png, png_infop info, const Image* img, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, png_uint_32(img->width), png_uint_32(img->height), img->depth,
               img->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  // zlib level 3: on noisy radiographs ~2x faster than the default 6 for files a few % larger.
  png_set_compression_level(png, 3);
  png_write_info(png, info);
  if (img->depth == 16) png_set_swap(png);  // PNG stores 16-bit samples big-endian
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

// ---- JPEG ------------------------------------------------------------------------

struct JpegWriteErrors {
  jpeg_error_mgr mgr;  // first member: libjpeg passes &mgr back
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_write_fail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegWriteErrors*>(cinfo->err);
  cinfo->err->format_message(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

bool jpeg_encode_guarded(jpeg_compress_struct* cinfo, JpegWriteErrors* err, const Image* img, int quality,
                         bool progressive, unsigned char** buf, unsigned long* size) {
  if (setjmp(err->jump)) return false;
  jpeg_create_compress(cinfo);
  jpeg_mem_dest(cinfo, buf, size);
  cinfo->image_width = JDIMENSION(img->width);
  cinfo->image_height = JDIMENSION(img->height);
  cinfo->input_components = img->channels;
  cinfo->in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  if (progressive) jpeg_simple_progression(cinfo);
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    // libjpeg's API takes non-const rows but only reads them.
    JSAMPROW row = const_cast<uint8_t*>(img->pixels.data()) + size_t(cinfo->next_scanline) * img->row_bytes();
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

}  // namespace

std::vector<uint8_t> encode_png_bytes(const Image& img) {
  check_encodable(img, "encode_png", true);
  std::vector<uint8_t> out;
  PngWriter writer{&out, false, {}};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer, png_write_fail, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  struct Cleanup {
    png_structp* png;
    png_infop* info;
    ~Cleanup() { png_destroy_write_struct(png, info); }
  } cleanup{&png, &info};
  if (!info) throw std::bad_alloc();
  png_set_write_fn(png, &writer, png_write_memory, png_flush_nothing);
  std::vector<png_bytep> rows(size_t(img.height));
  const size_t row_bytes = img.row_bytes() * size_t(img.depth / 8);
  auto* base = const_cast<uint8_t*>(img.depth == 16 ? reinterpret_cast<const uint8_t*>(img.pixels16.data())
                                                    : img.pixels.data());
  for (int y = 0; y < img.height; ++y) rows[y] = base + y * row_bytes;
  if (!png_encode_guarded(png, info, &img, rows.data()))
    throw std::runtime_error(std::string("encode_png: ") + writer.message);
  return out;
}

std::vector<uint8_t> encode_jpeg_bytes(const Image& img, int quality, bool progressive) {
  check_encodable(img, "encode_jpeg");
  if (quality < 1 || quality > 100)
    throw std::invalid_argument("encode_jpeg: quality must be 1..100, got " + std::to_string(quality));
  jpeg_compress_struct cinfo{};
  JpegWriteErrors err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_write_fail;
  unsigned char* buf = nullptr;  // malloc'ed by jpeg_mem_dest, ours to free
  unsigned long size = 0;
  struct Cleanup {
    jpeg_compress_struct* c;
    unsigned char** buf;
    ~Cleanup() {
      jpeg_destroy_compress(c);
      std::free(*buf);
    }
  } cleanup{&cinfo, &buf};
  if (!jpeg_encode_guarded(&cinfo, &err, &img, quality, progressive, &buf, &size))
    throw std::runtime_error(std::string("encode_jpeg: ") + err.message);
  return std::vector<uint8_t>(buf, buf + size);
}

void encode_png(const Image& img, const std::string& path) {
  check_encodable(img, "encode_png " + path, true);  // name the file in the complaint
  write_file_atomic(path, encode_png_bytes(img));
}

void encode_jpeg(const Image& img, const std::string& path, int quality, bool progressive) {
  check_encodable(img, "encode_jpeg " + path);
  write_file_atomic(path, encode_jpeg_bytes(img, quality, progressive));
}

}  // namespace radius
