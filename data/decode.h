// Decoding PNG, JPEG and DICOM files into an Image; PNG and JPEG the way Keras' load_img sees them.
//
// Real fracture folders hold zero-byte, truncated and corrupt files, mixed PNG/JPEG,
// gray and RGB, 8- and 16-bit PNGs. Every failure is a DecodeError naming the file
// and the reason, so a loader can skip and count bad files instead of training on
// silent grey garbage.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/voi_window.h"

namespace radius {

// gray: 1 channel (colour sources via luma601, like PIL convert("L")).
// rgb: 3 channels (gray sources replicated, like Keras color_mode="rgb"). Alpha is always dropped.
enum class ColorMode { gray, rgb };

enum class ImageFormat { png, jpeg, dicom, unknown };
// By magic bytes (the extension lies often enough in scraped data sets).
ImageFormat detect_format(std::span<const uint8_t> bytes);

// Decompression-bomb guard, checked from the header before any pixel buffer exists.
// 50 megapixels is ~7000x7000, far beyond any radiograph a 150x150 model needs.
inline constexpr int kMaxImageSide = 20000;
inline constexpr int64_t kMaxImagePixels = 50'000'000;
inline constexpr int64_t kMaxFileBytes = int64_t(1) << 30;

enum class DecodeFailure {
  cannot_open,     // missing, unreadable, a directory
  empty_file,      // zero bytes
  unknown_format,  // neither PNG nor JPEG magic (message shows the first bytes)
  truncated,       // the data ends early
  corrupt,         // bad CRC, bad marker, bad compressed data
  unsupported,     // valid but not handled: 12-bit JPEG, arithmetic coding, ...
  too_large,       // dimensions over the limits above (or a file over kMaxFileBytes)
};
std::string to_string(DecodeFailure reason);
// The name of a format as reports print it: "png", "jpeg", "dicom", "unknown".
const char* format_name(ImageFormat format);

// what(): "<path>: <reason>: <detail>", e.g. "x/a.jpg: truncated: Premature end of JPEG file".
class DecodeError : public std::runtime_error {
 public:
  DecodeError(const std::string& path, DecodeFailure reason, const std::string& detail);
  const std::string& path() const { return path_; }
  DecodeFailure reason() const { return reason_; }

 private:
  std::string path_;
  DecodeFailure reason_;
};

// The bomb guard on header values (before any pixel buffer exists): DecodeError `corrupt`
// for a zero side, `too_large` over kMaxImageSide / kMaxImagePixels.
void check_image_dimensions(uint64_t width, uint64_t height, const std::string& name);

// How much of a file's precision to keep.
struct DecodeOptions {
  // false: 8-bit results only (Keras' view: a 16-bit PNG keeps its high byte, as PIL does;
  // DICOM is reduced the same way after windowing). true: 16-bit PNGs and DICOM stay
  // 16-bit (Image::depth 16); 8-bit files stay 8-bit.
  bool keep_16_bit = false;
  // DICOM only: a window that replaces the file's own (data/dicom.h).
  VoiWindow window;
};

// Decode a PNG (any bit depth, gray/gray+alpha/RGB/RGBA/palette, interlaced), a JPEG (gray,
// YCbCr, progressive, CMYK/YCCK converted like PIL) or a DICOM file (data/dicom.h).
Image decode_image(const std::string& path, ColorMode mode, const DecodeOptions& options = {});
// A file's bytes, with decode_image's failures and limits (cannot_open,
// too_large over kMaxFileBytes) as DecodeErrors naming the path.
std::vector<uint8_t> read_image_file(const std::string& path);
// Decoding from memory; `name` only labels errors.
Image decode_image_bytes(std::span<const uint8_t> bytes, ColorMode mode, const std::string& name,
                         const DecodeOptions& options = {});

}  // namespace radius
