#include "data/synth_dataset.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "data/dicom.h"
#include "data/encode.h"
#include "tensor/rng.h"

namespace fs = std::filesystem;

namespace radius {
namespace {

// One base radiograph and its copies, planned sequentially (so the plan is deterministic)
// and rendered in parallel.
struct Group {
  std::string split, base, dir;
  bool fractured = false, jpeg = false, rgb = false;
  int quality = 90;
  SynthFormat format = SynthFormat::mixed;
  uint32_t dicom_variant = 0;  // dicom: bit 0 MONOCHROME1, bit 1 12-bit, bit 2 window; % 5 == 0: JPEG lossless
  uint64_t render_index = 0;
  std::vector<int> turns;  // 0 for the base file, then distinct k in {1, 2, 3}
  SynthInfo drawn;         // filled by write_group
};

void check_options(const SynthSplitCounts& c, const SynthDatasetOptions& o) {
  auto fraction_ok = [](double f) { return f >= 0 && f <= 1; };
  if (c.train < 0 || c.val < 0 || c.test < 0)
    throw std::invalid_argument("write_synthetic_dataset: split counts must be >= 0");
  if (!fraction_ok(o.fractured_fraction) || !fraction_ok(o.jpeg_fraction) || !fraction_ok(o.rgb_fraction) ||
      !fraction_ok(o.rotated_fraction))
    throw std::invalid_argument("write_synthetic_dataset: fractions must be in [0, 1]");
  if (o.jpeg_quality_min < 1 || o.jpeg_quality_max > 100 || o.jpeg_quality_min > o.jpeg_quality_max)
    throw std::invalid_argument("write_synthetic_dataset: need 1 <= jpeg_quality_min <= jpeg_quality_max <= 100");
}

// The plan's own stream, apart from the render streams (which use seed directly).
uint64_t plan_seed(uint64_t seed) {
  const Philox4x32 r = philox_at(seed, 0x5EEDDA7A5E7ull, 0);
  return uint64_t(r.v[0]) | uint64_t(r.v[1]) << 32;
}

void plan_split(const std::string& dir, const std::string& split, int split_id, int count, uint64_t seed,
                const SynthDatasetOptions& o, std::vector<Group>& groups) {
  Rng rng(plan_seed(seed), uint64_t(split_id));
  const int n_fractured = int(std::lround(count * o.fractured_fraction));
  std::vector<Group> planned;
  for (bool fractured : {true, false}) {
    for (int left = fractured ? n_fractured : count - n_fractured; left > 0;) {
      Group g;
      g.split = split;
      g.fractured = fractured;
      g.turns = {0};
      if (rng.uniform() < o.rotated_fraction) {
        std::array<int, 3> k{1, 2, 3};
        for (int i = 2; i > 0; --i) std::swap(k[size_t(i)], k[rng.below(uint32_t(i + 1))]);
        const int copies = 1 + int(rng.below(3));
        g.turns.insert(g.turns.end(), k.begin(), k.begin() + copies);
      }
      if (int(g.turns.size()) > left) g.turns.resize(size_t(left));
      left -= int(g.turns.size());
      planned.push_back(std::move(g));
    }
  }
  // Shuffle so that names and render indices say nothing about the class.
  for (size_t i = planned.size(); i > 1; --i) std::swap(planned[i - 1], planned[rng.below(uint32_t(i))]);
  for (size_t i = 0; i < planned.size(); ++i) {
    Group& g = planned[i];
    char base[32];
    std::snprintf(base, sizeof base, "%s_%05zu", split.c_str(), i);
    g.base = base;
    g.dir = (fs::path(dir) / split / (g.fractured ? "fractured" : "not fractured")).string();
    g.render_index = uint64_t(split_id) << 40 | i;
    g.jpeg = rng.uniform() < o.jpeg_fraction;
    g.rgb = rng.uniform() < o.rgb_fraction;
    g.quality = o.jpeg_quality_min + int(rng.below(uint32_t(o.jpeg_quality_max - o.jpeg_quality_min + 1)));
    g.format = o.format;
    if (o.format != SynthFormat::mixed) {  // drawn only then: the default data set stays byte-identical
      g.jpeg = g.rgb = false;
      g.dicom_variant = rng.below(40);
    }
    groups.push_back(std::move(g));
  }
}

std::string file_name(const Group& g, int turns) {
  const char* ext = g.format == SynthFormat::dicom ? ".dcm" : g.jpeg ? ".jpg" : ".png";
  return g.base + (turns ? "-rotated" + std::to_string(turns) : "") + ext;
}

// A DICOM file of an 8-bit rendering: the grey levels scaled to the bits stored (16: v * 257,
// 12: v * 4095 / 255), stored inverted for MONOCHROME1; the window, when written, spans the
// full stored range, so every route (window or min..max) shows the same picture.
void write_dicom_copy(const Image& img, uint32_t variant, const std::string& path) {
  DicomWriteOptions o;
  o.monochrome1 = variant & 1;
  o.bits_stored = (variant & 2) ? 12 : 16;
  o.jpeg_lossless = variant % 5 == 0;
  const uint32_t top = (1u << o.bits_stored) - 1;
  if (variant & 4) o.window = {double(top + 1) / 2, double(top + 1)};
  o.manufacturer = "Radius Synthetic";
  o.body_part = "EXTREMITY";
  o.pixel_spacing = "0.1\\0.1";
  std::vector<uint16_t> stored(img.pixels.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    const uint32_t v = (img.pixels[i] * top + 127) / 255;
    stored[i] = uint16_t(o.monochrome1 ? top - v : v);
  }
  write_dicom(stored, img.width, img.height, o, path);
}

void write_group(Group& g, uint64_t seed, const SynthParams& params) {
  Image img = render_radiograph(params, seed, g.render_index, g.fractured, &g.drawn);
  if (g.rgb) img = convert_channels(img, 3);
  for (int turns : g.turns) {
    const Image copy = rotate90(img, turns);
    const std::string path = (fs::path(g.dir) / file_name(g, turns)).string();
    if (g.format == SynthFormat::dicom)
      write_dicom_copy(copy, g.dicom_variant, path);
    else if (g.format == SynthFormat::png16)
      encode_png(convert_depth(copy, 16), path);
    else if (g.jpeg)
      encode_jpeg(copy, path, g.quality);
    else
      encode_png(copy, path);
  }
}

}  // namespace

std::vector<SynthFile> write_synthetic_dataset(const std::string& dir, const SynthSplitCounts& counts, uint64_t seed,
                                               const SynthDatasetOptions& options) {
  check_options(counts, options);
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    throw std::runtime_error("write_synthetic_dataset: " + dir +
                             " exists and is not an empty directory; choose a new one so old files cannot mix in");

  std::vector<Group> groups;
  const std::array<std::pair<const char*, int>, 3> splits{{{"train", counts.train}, {"val", counts.val},
                                                          {"test", counts.test}}};
  for (int s = 0; s < 3; ++s) {
    if (splits[size_t(s)].second == 0) continue;
    for (const char* cls : {"fractured", "not fractured"})  // both, even if one ends up empty
      fs::create_directories(fs::path(dir) / splits[size_t(s)].first / cls);
    plan_split(dir, splits[size_t(s)].first, s, splits[size_t(s)].second, seed, options, groups);
  }

  // Each group's files depend only on its plan, so the thread schedule cannot change them.
  std::vector<std::string> errors(groups.size());
#pragma omp parallel for schedule(dynamic)
  for (long i = 0; i < long(groups.size()); ++i) {
    try {
      write_group(groups[size_t(i)], seed, options.render);
    } catch (const std::exception& e) {
      errors[size_t(i)] = e.what();
    }
  }
  for (const std::string& e : errors)
    if (!e.empty()) throw std::runtime_error("write_synthetic_dataset: " + e);

  std::vector<SynthFile> manifest;
  for (const Group& g : groups)
    for (int turns : g.turns)
      manifest.push_back(
          {(fs::path(g.dir) / file_name(g, turns)).string(), g.split, g.fractured, g.base, turns, g.drawn});
  std::sort(manifest.begin(), manifest.end(), [](const SynthFile& a, const SynthFile& b) { return a.path < b.path; });
  return manifest;
}

}  // namespace radius
