#include "data/image_cache.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "data/csv.h"
#include "tensor/memory.h"

namespace radius {

const char* failure_id(DecodeFailure reason) {
  switch (reason) {
    case DecodeFailure::cannot_open: return "cannot_open";
    case DecodeFailure::empty_file: return "empty_file";
    case DecodeFailure::unknown_format: return "unknown_format";
    case DecodeFailure::truncated: return "truncated";
    case DecodeFailure::corrupt: return "corrupt";
    case DecodeFailure::unsupported: return "unsupported";
    case DecodeFailure::too_large: return "too_large";
  }
  return "unknown";
}

namespace {

void check_size(int height, int width, int channels, const char* what) {
  if (height <= 0 || width <= 0) throw std::invalid_argument(std::string(what) + ": height and width must be > 0");
  if (channels != 1 && channels != 3) throw std::invalid_argument(std::string(what) + ": channels must be 1 or 3");
}

// What one worker made of one sample: kept (pixels written to its slot) or a bad file.
struct Outcome {
  bool ok = false;
  DecodeFailure reason = DecodeFailure::corrupt;
  std::string message;
};

}  // namespace

ImageCache::ImageCache(const Dataset& dataset, const ImageCacheOptions& options)
    : ImageCache(dataset,
                 [&] {
                   std::vector<size_t> all(dataset.samples.size());
                   for (size_t i = 0; i < all.size(); ++i) all[i] = i;
                   return all;
                 }(),
                 options) {}

ImageCache::ImageCache(const Dataset& dataset, std::vector<size_t> sample_indices, const ImageCacheOptions& options)
    : height_(options.height), width_(options.width), channels_(options.channels),
      interpolation_(options.interpolation) {
  check_size(height_, width_, channels_, "ImageCache");
  for (size_t s : sample_indices)
    if (s >= dataset.samples.size())
      throw std::out_of_range("ImageCache: sample index " + std::to_string(s) + " out of range (dataset has " +
                              std::to_string(dataset.samples.size()) + " samples)");
  const auto t0 = std::chrono::steady_clock::now();
  const size_t n = sample_indices.size(), bytes = image_bytes();
  const int64_t limit = options.max_bytes == 0 ? default_memory_budget() : options.max_bytes;
  if (limit > 0 && int64_t(n) > limit / int64_t(bytes))
    throw std::runtime_error("decoding " + std::to_string(n) + " images at " + std::to_string(width_) + "x" +
                             std::to_string(height_) + "x" + std::to_string(channels_) + " needs " +
                             human_bytes(int64_t(n) * int64_t(bytes)) + " of memory, over the image cache's limit of " +
                             human_bytes(limit) + (options.max_bytes == 0 ? " (80 % of this machine's memory)" : "") +
                             ": use fewer images (--limit) or a smaller model input");
  requested_ = int64_t(n);
  pixels_.resize(n * bytes);  // one slot per requested sample; compacted below
  std::vector<Outcome> outcome(n);
  const ColorMode mode = channels_ == 1 ? ColorMode::gray : ColorMode::rgb;

  // Work sharing over an atomic counter: files differ a lot in decode cost, so static
  // chunks would leave a core idle. Each sample writes only its own slot and outcome, so
  // the result is the same for any thread count.
  std::atomic<size_t> next{0};
  std::atomic<bool> abort{false};
  std::exception_ptr fatal;
  std::mutex fatal_mutex;
  const auto work = [&] {
    while (!abort.load(std::memory_order_relaxed)) {
      const size_t i = next.fetch_add(1);
      if (i >= n) break;
      const std::string& path = dataset.samples[sample_indices[i]].path;
      try {
        Image img = decode_image(path, mode);
        if (img.width != width_ || img.height != height_) img = resize(img, width_, height_, interpolation_);
        std::memcpy(pixels_.data() + i * bytes, img.pixels.data(), bytes);
        outcome[i].ok = true;
      } catch (const DecodeError& e) {
        outcome[i] = {false, e.reason(), e.what()};
      } catch (...) {  // not a bad file but a failure of the run: stop everyone, rethrow below
        std::lock_guard lock(fatal_mutex);
        if (!fatal) fatal = std::current_exception();
        abort = true;
      }
    }
  };
  int threads = options.threads > 0 ? options.threads : int(std::thread::hardware_concurrency());
  threads = int(std::clamp<size_t>(size_t(std::max(threads, 1)), 1, std::max<size_t>(n, 1)));
  {
    std::vector<std::jthread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();  // this thread works too
  }  // jthreads join here
  if (fatal) std::rethrow_exception(fatal);

  // Compact the kept images to the front, in request order (memmove: slots may overlap).
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t sample = sample_indices[i];
    if (!outcome[i].ok) {
      bad_.push_back({sample, dataset.samples[sample].path, outcome[i].reason, std::move(outcome[i].message)});
      continue;
    }
    if (kept != i) std::memmove(pixels_.data() + kept * bytes, pixels_.data() + i * bytes, bytes);
    labels_.push_back(dataset.samples[sample].label);
    sample_index_.push_back(sample);
    ++kept;
  }
  pixels_.resize(kept * bytes);  // keeps the allocation (see the header)
  std::sort(bad_.begin(), bad_.end(), [](const BadFile& a, const BadFile& b) { return a.sample < b.sample; });
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

ImageCache ImageCache::from_pixels(std::vector<uint8_t> pixels, std::vector<int> labels, int height, int width,
                                   int channels) {
  check_size(height, width, channels, "ImageCache::from_pixels");
  ImageCache c;
  c.height_ = height;
  c.width_ = width;
  c.channels_ = channels;
  if (pixels.size() != labels.size() * c.image_bytes())
    throw std::invalid_argument("ImageCache::from_pixels: " + std::to_string(pixels.size()) + " bytes is not " +
                                std::to_string(labels.size()) + " images of " + std::to_string(height) + "x" +
                                std::to_string(width) + "x" + std::to_string(channels));
  c.pixels_ = std::move(pixels);
  c.labels_ = std::move(labels);
  c.sample_index_.resize(c.labels_.size());
  for (size_t k = 0; k < c.sample_index_.size(); ++k) c.sample_index_[k] = k;
  c.requested_ = int64_t(c.labels_.size());
  return c;
}

std::vector<size_t> ImageCache::positions_of(std::span<const size_t> sample_indices) const {
  std::unordered_map<size_t, size_t> position;
  position.reserve(sample_index_.size());
  for (size_t k = 0; k < sample_index_.size(); ++k) position.emplace(sample_index_[k], k);
  std::vector<size_t> out;
  out.reserve(sample_indices.size());
  for (size_t s : sample_indices)
    if (auto it = position.find(s); it != position.end()) out.push_back(it->second);
  return out;
}

int64_t ImageCache::bad_count(DecodeFailure reason) const {
  return std::count_if(bad_.begin(), bad_.end(), [&](const BadFile& b) { return b.reason == reason; });
}

std::string ImageCache::summary() const {
  char head[256];
  std::snprintf(head, sizeof head, "decoded %lld of %lld images to %dx%dx%d (%s) in %.1f s, %.1f MB",
                (long long)size(), (long long)requested_, height_, width_, channels_,
                interpolation_ == Interpolation::nearest ? "nearest" : "bilinear", seconds_,
                double(memory_bytes()) / 1e6);
  std::string s = head;
  if (bad_.empty()) return s + "; no bad files";
  s += "; skipped " + std::to_string(bad_.size()) + (bad_.size() == 1 ? " bad file: " : " bad files: ");
  // Most frequent reason first; ties in the enum's order, so the line is deterministic.
  std::vector<std::pair<int64_t, DecodeFailure>> counts;
  for (DecodeFailure r : {DecodeFailure::cannot_open, DecodeFailure::empty_file, DecodeFailure::unknown_format,
                          DecodeFailure::truncated, DecodeFailure::corrupt, DecodeFailure::unsupported,
                          DecodeFailure::too_large})
    if (const int64_t c = bad_count(r)) counts.emplace_back(c, r);
  std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; i < counts.size(); ++i)
    s += (i ? ", " : "") + std::to_string(counts[i].first) + " " + failure_id(counts[i].second);
  return s;
}

void write_bad_files_csv(const ImageCache& cache, const std::string& path) {
  std::vector<CsvRow> rows{{"sample", "path", "reason", "message"}};
  for (const BadFile& b : cache.bad_files())
    rows.push_back({std::to_string(b.sample), b.path, failure_id(b.reason), b.message});
  write_csv(path, rows);
}

}  // namespace radius
