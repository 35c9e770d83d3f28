// Writing gray or RGB images as PNG (8- or 16-bit, as the Image's depth) or JPEG (8-bit):
// the synthetic data set, plots, debug dumps.
//
// Files are written to a temporary name beside the target and renamed into place, so a
// reader (or a crash mid-write) never leaves half a file under the real name.
// Failures throw std::runtime_error naming the file.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/image.h"

namespace radius {

std::vector<uint8_t> encode_png_bytes(const Image& img);
// quality 1..100 (libjpeg's scale, like PIL's); 4:2:0 chroma for RGB, standard Huffman tables.
std::vector<uint8_t> encode_jpeg_bytes(const Image& img, int quality = 90, bool progressive = false);

void encode_png(const Image& img, const std::string& path);
void encode_jpeg(const Image& img, const std::string& path, int quality = 90, bool progressive = false);

}  // namespace radius
