#include "data/decode.h"

#include <cerrno>
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "data/dicom.h"

namespace radius {

std::string to_string(DecodeFailure reason) {
  switch (reason) {
    case DecodeFailure::cannot_open: return "cannot open";
    case DecodeFailure::empty_file: return "zero-byte file";
    case DecodeFailure::unknown_format: return "unknown format";
    case DecodeFailure::truncated: return "truncated";
    case DecodeFailure::corrupt: return "corrupt data";
    case DecodeFailure::unsupported: return "unsupported variant";
    case DecodeFailure::too_large: return "dimensions too large";
  }
  return "?";
}

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::png: return "png";
    case ImageFormat::jpeg: return "jpeg";
    case ImageFormat::dicom: return "dicom";
    case ImageFormat::unknown: return "unknown";
  }
  return "unknown";
}

DecodeError::DecodeError(const std::string& path, DecodeFailure reason, const std::string& detail)
    : std::runtime_error(path + ": " + to_string(reason) + ": " + detail), path_(path), reason_(reason) {}

namespace {

constexpr uint8_t kPngMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr uint8_t kJpegMagic[3] = {0xFF, 0xD8, 0xFF};

bool has_prefix(std::span<const uint8_t> bytes, const uint8_t* magic, size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

// A file shorter than a magic number but agreeing with it is a truncated file, not an unknown one.
bool is_cut_magic(std::span<const uint8_t> bytes, const uint8_t* magic, size_t n) {
  return bytes.size() < n && std::memcmp(bytes.data(), magic, bytes.size()) == 0;
}

// Formats people meet in image folders, named so the refusal says what the file is.
std::string guess_other_format(std::span<const uint8_t> b) {
  auto is = [&](size_t at, const char* s) {
    const size_t n = std::strlen(s);
    return b.size() >= at + n && std::memcmp(b.data() + at, s, n) == 0;
  };
  if (is(0, "GIF8")) return " (looks like GIF)";
  if (is(0, "BM")) return " (looks like BMP)";
  if (is(0, "RIFF") && is(8, "WEBP")) return " (looks like WebP)";
  if (is(0, "II*") || is(0, "MM\0*")) return " (looks like TIFF)";
  if (is(0, "<")) return " (looks like text/HTML)";
  return "";
}

std::string first_bytes_hex(std::span<const uint8_t> b) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < b.size() && i < 8; ++i) {
    std::snprintf(buf, sizeof buf, i ? " %02x" : "%02x", b[i]);
    s += buf;
  }
  return s;
}

}  // namespace

// The bomb guard: runs on header values, before the pixel buffer is allocated.
void check_image_dimensions(uint64_t w, uint64_t h, const std::string& name) {
  if (w == 0 || h == 0) throw DecodeError(name, DecodeFailure::corrupt, "header gives a zero width or height");
  if (w > uint64_t(kMaxImageSide) || h > uint64_t(kMaxImageSide) || w * h > uint64_t(kMaxImagePixels))
    throw DecodeError(name, DecodeFailure::too_large,
                      "header claims " + std::to_string(w) + "x" + std::to_string(h) + "; limits are " +
                          std::to_string(kMaxImageSide) + " px per side and " + std::to_string(kMaxImagePixels) +
                          " pixels");
}

namespace {

void check_dimensions(uint64_t w, uint64_t h, const std::string& name) { check_image_dimensions(w, h, name); }

// ---- PNG (libpng) ------------------------------------------------------------------
// libpng reports errors by longjmp. The *_guarded functions hold the setjmp and call libpng
// only after it; they keep no object with a destructor alive, because longjmp would skip it
// (undefined behaviour). Buffers are allocated by the caller between the two phases,
// after the dimensions have been checked.

struct PngReader {  // plain data: shared with the C callbacks
  const uint8_t* data;
  size_t size, pos;
  bool ran_out;
  char message[256];
};

void png_fail(png_structp png, png_const_charp msg) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(r->message, sizeof r->message, "%s", msg);
  png_longjmp(png, 1);
}

void png_ignore_warning(png_structp, png_const_charp) {}  // e.g. a bad iCCP profile: pixels are fine

void png_read_memory(png_structp png, png_bytep out, size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (r->size - r->pos < n) {
    r->ran_out = true;
    png_error(png, "unexpected end of file");
  }
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

bool png_header_guarded(png_structp png, png_infop info, png_uint_32* w, png_uint_32* h, int* color_type,
                        int* bit_depth) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  *w = png_get_image_width(png, info);
  *h = png_get_image_height(png, info);
  *color_type = png_get_color_type(png, info);
  *bit_depth = png_get_bit_depth(png, info);
  return true;
}

// Reduce every variant to gray (gray sources) or RGB (colour and palette sources), 8-bit,
// or 16-bit when keep_16 and the file is 16-bit (samples in host order).
bool png_pixels_guarded(png_structp png, png_infop info, png_bytepp rows, size_t row_bytes, bool keep_16) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_palette_to_rgb(png);              // palette -> RGB (+ alpha from tRNS, stripped below)
  png_set_expand_gray_1_2_4_to_8(png);      // 1/2/4-bit gray -> 8-bit
  if (keep_16)
    png_set_swap(png);                      // PNG stores 16-bit samples big-endian; uint16_t is little here
  else
    png_set_strip_16(png);                  // 16 -> 8 bit: the high byte, as PIL does
  png_set_strip_alpha(png);                 // Keras drops alpha (no compositing)
  png_set_interlace_handling(png);          // Adam7: png_read_image runs the passes
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != row_bytes) png_error(png, "unexpected row size after conversion");
  png_read_image(png, rows);
  png_read_end(png, nullptr);  // checks the remaining chunks' CRCs up to IEND
  return true;
}

uint32_t big_endian32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

uint32_t crc32(const uint8_t* p, size_t n) {  // PNG's CRC (ISO 3309), bitwise: used on 17 bytes
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

Image decode_png(std::span<const uint8_t> bytes, const std::string& name, bool keep_16_bit) {
  // The spec puts IHDR first: check the size here, because png_read_info reads on up to the
  // first IDAT chunk, and a bomb needs no pixel data to make a loader allocate gigabytes.
  // Only an intact IHDR counts; a damaged one (or none) is left to libpng to call corrupt.
  const uint8_t* ihdr = bytes.data() + 12;  // chunk type, 13 data bytes, CRC
  if (bytes.size() >= 33 && std::memcmp(ihdr, "IHDR", 4) == 0 && crc32(ihdr, 17) == big_endian32(ihdr + 17))
    check_dimensions(big_endian32(ihdr + 4), big_endian32(ihdr + 8), name);
  PngReader reader{bytes.data(), bytes.size(), 0, false, {}};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, png_fail, png_ignore_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  struct Cleanup {
    png_structp* png;
    png_infop* info;
    ~Cleanup() { png_destroy_read_struct(png, info, nullptr); }
  } cleanup{&png, &info};
  if (!info) throw std::bad_alloc();
  png_set_read_fn(png, &reader, png_read_memory);

  auto failed = [&] {
    return DecodeError(name, reader.ran_out ? DecodeFailure::truncated : DecodeFailure::corrupt, reader.message);
  };
  png_uint_32 w = 0, h = 0;
  int color_type = 0, bit_depth = 0;
  if (!png_header_guarded(png, info, &w, &h, &color_type, &bit_depth)) throw failed();
  check_dimensions(w, h, name);  // done above already; kept as the guard right before allocating
  const bool wide = keep_16_bit && bit_depth == 16;
  Image img(int(w), int(h), (color_type & PNG_COLOR_MASK_COLOR) ? 3 : 1, wide ? 16 : 8);
  const size_t row_bytes = img.row_bytes() * (wide ? 2 : 1);
  uint8_t* base = wide ? reinterpret_cast<uint8_t*>(img.pixels16.data()) : img.pixels.data();
  std::vector<png_bytep> rows(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = base + y * row_bytes;
  if (!png_pixels_guarded(png, info, rows.data(), row_bytes, wide)) throw failed();
  return img;
}

// ---- JPEG (libjpeg-turbo) ---------------------------------------------------------
// Same two-phase pattern as PNG; libjpeg frees its own pools in jpeg_destroy_decompress,
// so jumping out of any libjpeg call is safe.

struct JpegErrors {
  jpeg_error_mgr mgr;  // first member: libjpeg passes &mgr back, we cast to JpegErrors
  std::jmp_buf jump;
  DecodeFailure reason;
  bool eof_seen;  // the data ran out; libjpeg's memory source then feeds a fake EOI marker
  char message[JMSG_LENGTH_MAX + 32];
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo, DecodeFailure reason) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  char libjpeg_message[JMSG_LENGTH_MAX];
  cinfo->err->format_message(cinfo, libjpeg_message);
  // After the data ran out, whatever libjpeg complains about is a consequence of truncation.
  if (e->eof_seen && reason != DecodeFailure::unsupported) {
    reason = DecodeFailure::truncated;
    std::snprintf(e->message, sizeof e->message, "the data ends early (%s)", libjpeg_message);
  } else {
    std::snprintf(e->message, sizeof e->message, "%s", libjpeg_message);
  }
  e->reason = reason;
  std::longjmp(e->jump, 1);
}

void jpeg_on_error(j_common_ptr cinfo) {
  switch (cinfo->err->msg_code) {
    case JERR_BAD_PRECISION:  // 12-bit JPEG
    case JERR_ARITH_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_CONVERSION_NOTIMPL:
      jpeg_fail(cinfo, DecodeFailure::unsupported);
    default:
      jpeg_fail(cinfo, DecodeFailure::corrupt);
  }
}

// libjpeg only *warns* about missing or damaged data and fills the rest of the image with
// grey. We refuse those files instead of training on them. Running out of data is itself
// not yet fatal: the Huffman decoder reads ahead, so a file missing only its final EOI
// marker hits the end while every pixel is present. If bits were really missing, the
// decoder then warns "premature end of data segment" (JWRN_HIT_MARKER), and we fail.
// Harmless warnings (extraneous bytes before a marker, common in the wild) pass.
// Limit: a progressive file cut exactly between two scans decodes, at reduced quality.
void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
      reinterpret_cast<JpegErrors*>(cinfo->err)->eof_seen = true;
      return;
    case JWRN_HIT_MARKER:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_HUFF_BAD_CODE:
      jpeg_fail(cinfo, DecodeFailure::corrupt);
    default:
      return;
  }
}

bool jpeg_header_guarded(jpeg_decompress_struct* cinfo, JpegErrors* err, const uint8_t* data, size_t size) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; break;  // libjpeg has no CMYK -> RGB; we convert
    default: cinfo->out_color_space = JCS_RGB; break;
  }
  return true;
}

// PIL's CMYK -> RGB: R = (255 - K) - (C * (255 - K)) / 255 (rounded). Adobe (Photoshop) files
// store inverted CMYK, which PIL reads as "CMYK;I".
void cmyk_to_rgb(const uint8_t* in, uint8_t* out, int width, bool inverted) {
  for (int x = 0; x < width; ++x, in += 4, out += 3) {
    const int k = inverted ? 255 - in[3] : in[3], nk = 255 - k;
    for (int c = 0; c < 3; ++c) {
      const int v = inverted ? 255 - in[c] : in[c];
      const int t = v * nk + 128;
      out[c] = uint8_t(nk - (((t >> 8) + t) >> 8));
    }
  }
}

bool jpeg_pixels_guarded(jpeg_decompress_struct* cinfo, JpegErrors* err, uint8_t* pixels, size_t row_bytes,
                         uint8_t* cmyk_row) {
  if (setjmp(err->jump)) return false;
  jpeg_start_decompress(cinfo);  // allocates (for progressive files: the whole coefficient buffer)
  while (cinfo->output_scanline < cinfo->output_height) {
    uint8_t* dst = pixels + size_t(cinfo->output_scanline) * row_bytes;
    JSAMPROW row = cmyk_row ? cmyk_row : dst;
    jpeg_read_scanlines(cinfo, &row, 1);
    if (cmyk_row) cmyk_to_rgb(cmyk_row, dst, int(cinfo->output_width), cinfo->saw_Adobe_marker);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

Image decode_jpeg(std::span<const uint8_t> bytes, const std::string& name) {
  jpeg_decompress_struct cinfo{};
  JpegErrors err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_on_error;
  err.mgr.emit_message = jpeg_on_message;
  struct Cleanup {
    jpeg_decompress_struct* c;
    ~Cleanup() { jpeg_destroy_decompress(c); }  // no-op if creation never happened
  } cleanup{&cinfo};

  if (!jpeg_header_guarded(&cinfo, &err, bytes.data(), bytes.size()))
    throw DecodeError(name, err.reason, err.message);
  check_dimensions(cinfo.image_width, cinfo.image_height, name);
  const bool cmyk = cinfo.out_color_space == JCS_CMYK;
  Image img(int(cinfo.image_width), int(cinfo.image_height), cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3);
  std::vector<uint8_t> cmyk_row(cmyk ? size_t(img.width) * 4 : 0);
  if (!jpeg_pixels_guarded(&cinfo, &err, img.pixels.data(), img.row_bytes(), cmyk ? cmyk_row.data() : nullptr))
    throw DecodeError(name, err.reason, err.message);
  return img;
}

}  // namespace

std::vector<uint8_t> read_image_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw DecodeError(path, DecodeFailure::cannot_open, "is a directory");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw DecodeError(path, DecodeFailure::cannot_open, std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f.get())) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (int64_t(bytes.size()) > kMaxFileBytes)
      throw DecodeError(path, DecodeFailure::too_large, "file is over " + std::to_string(kMaxFileBytes) + " bytes");
  }
  if (std::ferror(f.get())) throw DecodeError(path, DecodeFailure::cannot_open, "read error");
  return bytes;
}

ImageFormat detect_format(std::span<const uint8_t> bytes) {
  if (has_prefix(bytes, kPngMagic, sizeof kPngMagic)) return ImageFormat::png;
  if (has_prefix(bytes, kJpegMagic, sizeof kJpegMagic)) return ImageFormat::jpeg;
  if (is_dicom(bytes)) return ImageFormat::dicom;
  return ImageFormat::unknown;
}

Image decode_image_bytes(std::span<const uint8_t> bytes, ColorMode mode, const std::string& name,
                         const DecodeOptions& options) {
  if (bytes.empty()) throw DecodeError(name, DecodeFailure::empty_file, "the file has no bytes");
  Image img;
  switch (detect_format(bytes)) {
    case ImageFormat::png: img = decode_png(bytes, name, options.keep_16_bit); break;
    case ImageFormat::jpeg: img = decode_jpeg(bytes, name); break;
    case ImageFormat::dicom: img = decode_dicom(bytes, options.window, name); break;
    case ImageFormat::unknown:
      if (is_cut_magic(bytes, kPngMagic, sizeof kPngMagic) || is_cut_magic(bytes, kJpegMagic, sizeof kJpegMagic))
        throw DecodeError(name, DecodeFailure::truncated, "only " + std::to_string(bytes.size()) + " bytes");
      throw DecodeError(name, DecodeFailure::unknown_format,
                        "not PNG, JPEG or DICOM; first bytes " + first_bytes_hex(bytes) + guess_other_format(bytes));
  }
  if (img.depth == 16 && !options.keep_16_bit) img = convert_depth(img, 8);
  const int channels = mode == ColorMode::gray ? 1 : 3;
  return img.channels == channels ? img : convert_channels(img, channels);
}

Image decode_image(const std::string& path, ColorMode mode, const DecodeOptions& options) {
  const std::vector<uint8_t> bytes = read_image_file(path);
  return decode_image_bytes(bytes, mode, path, options);
}

}  // namespace radius
