#include "data/image_cache.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
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

// Moves (or copies) `count` samples between slots of one storage vector.
template <typename T>
void move_slot(std::vector<T>& v, size_t to, size_t from, size_t count) {
  std::memmove(v.data() + to * count, v.data() + from * count, count * sizeof(T));
}

}  // namespace

ImageCacheOptions with_window(ImageCacheOptions options, const std::string& window) {
  if (window.empty()) return options;
  const VoiWindow w = parse_voi_window(window);
  options.window_center = w.center;
  options.window_width = w.width;
  return options;
}

bool is_16_bit_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return false;
  uint8_t head[132];
  const size_t n = std::fread(head, 1, sizeof head, f.get());
  const std::span<const uint8_t> bytes(head, n);
  switch (detect_format(bytes)) {
    case ImageFormat::png: return n >= 25 && std::memcmp(head + 12, "IHDR", 4) == 0 && head[24] == 16;
    case ImageFormat::dicom: return true;
    default: return false;
  }
}

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
  if (options.depth != 0 && options.depth != 8 && options.depth != 16)
    throw std::invalid_argument("ImageCache: depth must be 0 (automatic), 8 or 16");
  for (size_t s : sample_indices)
    if (s >= dataset.samples.size())
      throw std::out_of_range("ImageCache: sample index " + std::to_string(s) + " out of range (dataset has " +
                              std::to_string(dataset.samples.size()) + " samples)");
  depth_ = options.depth;
  if (depth_ == 0)
    depth_ = std::any_of(sample_indices.begin(), sample_indices.end(),
                         [&](size_t s) { return is_16_bit_file(dataset.samples[s].path); })
                 ? 16
                 : 8;
  const auto t0 = std::chrono::steady_clock::now();
  const size_t n = sample_indices.size(), bytes = image_bytes(), samples = image_samples();
  const int64_t limit = options.max_bytes == 0 ? default_memory_budget() : options.max_bytes;
  if (limit > 0 && int64_t(n) > limit / int64_t(bytes))
    throw std::runtime_error("decoding " + std::to_string(n) + " images at " + std::to_string(width_) + "x" +
                             std::to_string(height_) + "x" + std::to_string(channels_) +
                             (depth_ == 16 ? " (16-bit)" : "") + " needs " +
                             human_bytes(int64_t(n) * int64_t(bytes)) + " of memory, over the image cache's limit of " +
                             human_bytes(limit) + (options.max_bytes == 0 ? " (80 % of this machine's memory)" : "") +
                             ": use fewer images (--limit) or a smaller model input");
  requested_ = int64_t(n);
  if (depth_ == 16)
    pixels16_.resize(n * samples);  // one slot per requested sample; compacted below
  else
    pixels_.resize(n * samples);
  std::vector<Outcome> outcome(n);
  const ColorMode mode = channels_ == 1 ? ColorMode::gray : ColorMode::rgb;
  const DecodeOptions decode_options{depth_ == 16, {options.window_center, options.window_width}};

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
        Image img = decode_image(path, mode, decode_options);
        if (img.depth != depth_) img = convert_depth(img, depth_);  // 8-bit files in a 16-bit cache
        if (img.width != width_ || img.height != height_) img = resize(img, width_, height_, interpolation_);
        if (depth_ == 16)
          std::memcpy(pixels16_.data() + i * samples, img.pixels16.data(), bytes);
        else
          std::memcpy(pixels_.data() + i * samples, img.pixels.data(), bytes);
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
    if (kept != i) {
      if (depth_ == 16)
        move_slot(pixels16_, kept, i, samples);
      else
        move_slot(pixels_, kept, i, samples);
    }
    labels_.push_back(dataset.samples[sample].label);
    sample_index_.push_back(sample);
    ++kept;
  }
  // Keeps the allocation (see the header).
  if (depth_ == 16)
    pixels16_.resize(kept * samples);
  else
    pixels_.resize(kept * samples);
  std::sort(bad_.begin(), bad_.end(), [](const BadFile& a, const BadFile& b) { return a.sample < b.sample; });
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// What from_pixels and from_pixels16 share: the sizes checked, every sample in
// order, nothing requested beyond the given images. samples: how many the pixels hold.
ImageCache ImageCache::with_samples(size_t samples, std::vector<int> labels, int height, int width, int channels,
                                    int depth, const char* who) {
  check_size(height, width, channels, who);
  ImageCache c;
  c.height_ = height;
  c.width_ = width;
  c.channels_ = channels;
  c.depth_ = depth;
  if (samples != labels.size() * c.image_samples())
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(samples) + " samples is not " +
                                std::to_string(labels.size()) + " images of " + std::to_string(height) + "x" +
                                std::to_string(width) + "x" + std::to_string(channels));
  c.labels_ = std::move(labels);
  c.sample_index_.resize(c.labels_.size());
  for (size_t k = 0; k < c.sample_index_.size(); ++k) c.sample_index_[k] = k;
  c.requested_ = int64_t(c.labels_.size());
  return c;
}

ImageCache ImageCache::from_pixels(std::vector<uint8_t> pixels, std::vector<int> labels, int height, int width,
                                   int channels) {
  ImageCache c = with_samples(pixels.size(), std::move(labels), height, width, channels, 8, "ImageCache::from_pixels");
  c.pixels_ = std::move(pixels);
  return c;
}

ImageCache ImageCache::from_pixels16(std::vector<uint16_t> pixels, std::vector<int> labels, int height, int width,
                                     int channels) {
  ImageCache c =
      with_samples(pixels.size(), std::move(labels), height, width, channels, 16, "ImageCache::from_pixels16");
  c.pixels16_ = std::move(pixels);
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
  std::snprintf(head, sizeof head, "decoded %lld of %lld images to %dx%dx%d%s (%s) in %.1f s, %.1f MB",
                (long long)size(), (long long)requested_, height_, width_, channels_, depth_ == 16 ? " 16-bit" : "",
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
