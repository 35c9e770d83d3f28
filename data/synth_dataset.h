// Writing a whole synthetic fracture data set in the Kaggle layout:
//   dir/train/fractured/*.{jpg,png}   dir/train/not fractured/*   (the space is real)
//   dir/val/...   dir/test/...
// with Kaggle-style names: "<base>.jpg" plus, for some bases, rotated copies
// "<base>-rotated<k>.jpg" (k quarter turns counter-clockwise), so a group-aware split has
// groups to find. File format (JPEG/PNG) and gray/RGB storage are drawn per base image,
// independently of the class, so neither is a shortcut to the label.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/synth.h"

namespace radius {

struct SynthSplitCounts {
  int train = 0, val = 0, test = 0;  // images per split, copies included; 0 skips the split
};

// How the files are stored. mixed (the default): JPEG and 8-bit PNG, gray and RGB, as the
// Kaggle set. png16: every image a 16-bit gray PNG. dicom: every image a grey DICOM file
// (.dcm), alternating MONOCHROME1/2 and 12/16 bits stored, some with a window, about one
// in five JPEG-lossless compressed: the 16-bit and DICOM input path end to end.
enum class SynthFormat { mixed, png16, dicom };

struct SynthDatasetOptions {
  SynthParams render;
  SynthFormat format = SynthFormat::mixed;
  double fractured_fraction = 0.5;  // per split; class counts are exact (rounded)
  double jpeg_fraction = 0.6;       // of base images, the rest PNG
  double rgb_fraction = 0.2;        // of base images stored as 3 identical channels
  double rotated_fraction = 0.08;   // of base images that get 1-3 rotated copies
  int jpeg_quality_min = 75, jpeg_quality_max = 95;
};

struct SynthFile {
  std::string path;   // full path of the written file
  std::string split;  // "train", "val" or "test"
  bool fractured = false;
  std::string group;  // the base name: every copy of one radiograph shares it
  int quarter_turns = 0;
  // What the generator drew in the base radiograph (the fracture's kind and signs, the hard
  // negatives), the ground truth for error analysis; positions and angles are those of the
  // base image, before this copy's quarter turns.
  SynthInfo drawn;
};

// Writes the data set under `dir`, which must not exist or be empty (so old files never
// mix in). A pure function of its arguments: the same call writes byte-identical files,
// whatever the thread count. Returns the manifest, sorted by path.
std::vector<SynthFile> write_synthetic_dataset(const std::string& dir, const SynthSplitCounts& counts, uint64_t seed,
                                               const SynthDatasetOptions& options = {});

}  // namespace radius
