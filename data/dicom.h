// DICOM input: one grey radiograph per file, through DCMTK (built with RADIUS_DICOM).
//
// What a file becomes: a 16-bit grey Image, the stored values taken through the steps a
// DICOM viewer applies (PS3.3 C.11, "grayscale pipeline"), each a comment in dicom.cpp:
//   1. modality: rescale slope and intercept (C.11.1), or the file's Modality LUT;
//   2. VOI (windowing): the caller's window (--window C,W), else the file's first window
//      (Window Center/Width with its VOI LUT Function), else its first VOI LUT, else the
//      full range of the image (min..max), each onto 0..65535 (data/voi_window.h);
//   3. MONOCHROME1 ("0 is white") is inverted, so bright always means dense, as MONOCHROME2.
// Compressed files decode when DCMTK has the codec: JPEG baseline/extended/lossless,
// JPEG-LS and RLE. JPEG 2000 is not in DCMTK: such files fail as `unsupported`, saying so.
// Refused with a reason (a DecodeError, so a loader skips and reports them): multi-frame
// objects, objects without pixel data (reports, presentation states), colour images,
// pixel data shorter than the header promises, dimensions over decode.h's limits.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/decode.h"
#include "data/image.h"
#include "data/voi_window.h"

namespace radius {

// Whether this build reads DICOM (RADIUS_DICOM). Without it a DICOM file is a DecodeError
// `unsupported` that says the build lacks DCMTK.
bool dicom_supported();

// A DICOM Part 10 file: 128 bytes of preamble, then "DICM" (the extension is often missing).
bool is_dicom(std::span<const uint8_t> bytes);

// The decoded image: 16-bit grey (channels 1), windowed as above. `window`: the caller's
// window, applied instead of the file's when set. `name` only labels errors.
Image decode_dicom(std::span<const uint8_t> bytes, const VoiWindow& window, const std::string& name);

// The header fields a leakage study compares between classes (confounders: one scanner or
// one hospital per class lets a model learn the site instead of the fracture).
struct DicomTags {
  std::string manufacturer;    // (0008,0070)
  std::string modality;        // (0008,0060): CR, DX, CT, ...
  std::string body_part;       // (0018,0015) Body Part Examined
  std::string photometric;     // (0028,0004) MONOCHROME1 / MONOCHROME2 / ...
  int bits_stored = 0;         // (0028,0101)
  std::string pixel_spacing;   // (0028,0030) "row\col" mm, else (0018,1164) Imager Pixel Spacing
};
// Reads the header only (pixel data is not decoded). Throws DecodeError on a file DCMTK
// cannot parse.
DicomTags read_dicom_tags(std::span<const uint8_t> bytes, const std::string& name);

// Writing a grey DICOM file (the synthetic data set, tests): Secondary Capture, one frame,
// 16 bits allocated, unsigned. `stored` holds width x height stored values (each below
// 2^bits_stored), written as they are; the other fields describe them. The UIDs derive from
// the content, so the same call writes the same bytes. Written to a temporary name and
// renamed into place. Throws std::runtime_error naming the file.
struct DicomWriteOptions {
  int bits_stored = 16;             // 12 or 16 (any 1..16)
  bool monochrome1 = false;         // MONOCHROME1: the stored 0 is white
  double rescale_slope = 1, rescale_intercept = 0;
  VoiWindow window;                 // written as Window Center / Width when set
  bool jpeg_lossless = false;       // JPEG lossless (process 14, selection value 1) instead of raw
  std::string manufacturer, modality = "DX", body_part, pixel_spacing;  // "" leaves a field out
};
void write_dicom(const std::vector<uint16_t>& stored, int width, int height, const DicomWriteOptions& options,
                 const std::string& path);

}  // namespace radius
