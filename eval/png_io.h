// 8-bit RGB PNG files for charts (through data/encode and data/decode).
#pragma once
#include <string>

#include "eval/raster.h"

namespace radius {

// Encodes in memory, then writes atomically (a temp file beside the target,
// renamed over it), so a crash never leaves a truncated PNG in a run folder.
// Throws std::runtime_error naming the path.
void write_png_rgb(const std::string& path, const RgbImage& image);

// Decodes any PNG to 8-bit RGB (alpha dropped). Throws (DecodeError, a
// std::runtime_error) naming the path.
RgbImage read_png_rgb(const std::string& path);

}  // namespace radius
