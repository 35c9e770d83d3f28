// The decoded-image cache: every listed sample decoded and resized ONCE, kept as uint8
// (or as uint16 when the data holds 16-bit PNGs or DICOM files: see ImageCacheOptions::depth).
//
// Why: Keras resizes at load time, before augmentation, so the model only ever sees
// target-size pixels. Decoding a JPEG costs far more than augmenting it, so after the
// first pass an epoch should do no decoding at all: the loader reads straight from here.
//
// Memory: one contiguous uint8 buffer of N x H x W x C bytes (HWC per image, the layout
// decoders produce and augment_into reads), e.g. 150*150*3 = 67.5 kB per image:
//   2,000 images ~ 135 MB,  9,000 images ~ 608 MB  (at 224x224x3: 9,000 ~ 1.35 GB).
// Gray caches (channels 1) take a third; 16-bit caches twice as much. Slots of bad files are compacted away, but the
// allocation is not shrunk (that would copy the whole buffer): the waste is
// bad_files * H*W*C bytes, small next to the rest.
//
// Bad files never stop a run: a DecodeError (zero-byte, truncated, corrupt, wrong magic,
// unsupported variant, too large) skips the file and records (path, reason, message).
// Any other exception (out of memory, a bug) is not a property of one file and propagates.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/decode.h"
#include "data/resize.h"

namespace radius {

struct ImageCacheOptions {
  int height = 150, width = 150;  // the model's input size (Keras target_size)
  int channels = 3;  // 3: ColorMode::rgb (gray replicated, Keras' default); 1: ColorMode::gray
  Interpolation interpolation = Interpolation::nearest;  // Keras' default; bilinear optional
  int threads = 0;  // decode threads; <= 0: std::thread::hardware_concurrency()
  // The most the decoded images may take: the cache refuses, before decoding anything,
  // a request over it (naming the bytes needed and the limit). 0: the default budget,
  // 80 % of physical memory (tensor/memory.h); < 0: no limit.
  int64_t max_bytes = 0;
  // Bits per cached sample: 8, 16, or 0 = 16 when any listed file is a 16-bit PNG or a
  // DICOM file (found from the first bytes of each file, before decoding), else 8. A
  // 16-bit cache widens 8-bit files exactly (v * 257), so one data set may mix both; an
  // 8-bit cache keeps the high byte of 16-bit files (Keras' view, and today's results).
  int depth = 0;
  // DICOM: a window (--window C,W) that replaces each file's own when width > 0
  // (data/dicom.h). Two numbers rather than a VoiWindow, so that designated initializers
  // of these options that leave it out stay warning-free.
  double window_center = 0, window_width = 0;
};

// `options` with the window of a --window text "C,W" (empty: unchanged); throws
// std::invalid_argument naming a malformed text.
ImageCacheOptions with_window(ImageCacheOptions options, const std::string& window);

// Whether a file holds more than 8 bits per sample: a PNG of bit depth 16 or any DICOM
// file (windowed to 16 bits). Reads the first 132 bytes; false when the file cannot be read.
bool is_16_bit_file(const std::string& path);

struct BadFile {
  size_t sample = 0;      // index into Dataset::samples
  std::string path;
  DecodeFailure reason = DecodeFailure::corrupt;
  std::string message;    // DecodeError::what(): "<path>: <reason>: <detail>"
};

// A stable machine-readable name for a reason ("empty_file", "truncated", ...): the
// enumerator's name, used in summaries and in the bad-file CSV.
const char* failure_id(DecodeFailure reason);

class ImageCache {
 public:
  ImageCache() = default;
  // Decodes dataset.samples[i] for every i in sample_indices (in parallel; the result does
  // not depend on the thread count). Kept images stay in the order of sample_indices.
  ImageCache(const Dataset& dataset, std::vector<size_t> sample_indices, const ImageCacheOptions& options = {});
  // Every sample of the dataset.
  explicit ImageCache(const Dataset& dataset, const ImageCacheOptions& options = {});
  // Move-only: a copy would silently duplicate hundreds of megabytes.
  ImageCache(ImageCache&&) = default;
  ImageCache& operator=(ImageCache&&) = default;
  ImageCache(const ImageCache&) = delete;
  ImageCache& operator=(const ImageCache&) = delete;

  // Already-decoded images (tests, benchmarks, generated data): pixels holds
  // labels.size() images of height x width x channels, HWC; sample index k = position k.
  static ImageCache from_pixels(std::vector<uint8_t> pixels, std::vector<int> labels, int height, int width,
                                int channels);
  // The same with 16-bit samples (a depth-16 cache).
  static ImageCache from_pixels16(std::vector<uint16_t> pixels, std::vector<int> labels, int height, int width,
                                  int channels);

  // ---- the kept images; k is a cache position in [0, size()) --------------------
  int64_t size() const { return int64_t(labels_.size()); }
  int height() const { return height_; }
  int width() const { return width_; }
  int channels() const { return channels_; }
  int depth() const { return depth_; }  // bits per sample: 8 or 16
  size_t image_samples() const { return size_t(height_) * size_t(width_) * size_t(channels_); }
  size_t image_bytes() const { return image_samples() * size_t(depth_ / 8); }
  // Image k's samples, HWC: image() in an 8-bit cache, image16() in a 16-bit one, and
  // image_data() as raw bytes in either (for uploads: image_bytes() of them).
  const uint8_t* image(int64_t k) const { return pixels_.data() + size_t(k) * image_samples(); }
  const uint16_t* image16(int64_t k) const { return pixels16_.data() + size_t(k) * image_samples(); }
  const void* image_data(int64_t k) const {
    return depth_ == 16 ? static_cast<const void*>(image16(k)) : static_cast<const void*>(image(k));
  }
  int label(int64_t k) const { return labels_[size_t(k)]; }
  size_t sample_index(int64_t k) const { return sample_index_[size_t(k)]; }  // into Dataset::samples
  const std::vector<size_t>& sample_indices() const { return sample_index_; }
  // Cache positions of the given dataset samples that were kept (bad ones are left out),
  // in the given order: e.g. positions_of(dataset.indices("train")) for a loader.
  std::vector<size_t> positions_of(std::span<const size_t> sample_indices) const;

  // ---- what happened --------------------------------------------------------------
  int64_t requested() const { return requested_; }  // samples asked for (kept + bad)
  const std::vector<BadFile>& bad_files() const { return bad_; }  // sorted by sample index
  int64_t bad_count(DecodeFailure reason) const;
  double seconds() const { return seconds_; }  // wall time of decode + resize
  size_t memory_bytes() const { return pixels_.capacity() + pixels16_.capacity() * sizeof(uint16_t); }
  // One line for the run log, e.g. "decoded 1990 of 2000 images to 150x150x3 (nearest) in
  // 3.1 s, 134.3 MB; skipped 10 bad files: 4 truncated, 3 empty_file, 3 unknown_format".
  std::string summary() const;

 private:
  // from_pixels / from_pixels16 without the pixels: sizes checked against `samples`.
  static ImageCache with_samples(size_t samples, std::vector<int> labels, int height, int width, int channels,
                                 int depth, const char* who);
  int height_ = 0, width_ = 0, channels_ = 0, depth_ = 8;
  Interpolation interpolation_ = Interpolation::nearest;
  std::vector<uint8_t> pixels_;     // depth 8: size() x H x W x C, HWC per image
  std::vector<uint16_t> pixels16_;  // depth 16: the same layout
  std::vector<int> labels_;
  std::vector<size_t> sample_index_;
  std::vector<BadFile> bad_;
  int64_t requested_ = 0;
  double seconds_ = 0;
};

// The bad-file list as CSV (header: sample,path,reason,message; reason = failure_id),
// written atomically. Written even when empty (header only), so a run's output is uniform.
void write_bad_files_csv(const ImageCache& cache, const std::string& path);

}  // namespace radius
