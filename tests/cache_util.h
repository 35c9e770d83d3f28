// Decoded-image caches made in memory for the loader and augmentation tests
// (no files: fast).
#pragma once
#include <cstdint>
#include <type_traits>
#include <vector>

#include "data/image_cache.h"
#include "tensor/rng.h"

namespace radius::test {

// n random images of h x w x c, label k % 2; Sample uint8_t (an 8-bit cache) or
// uint16_t (a cache of 16-bit PNGs or DICOM files). stream: the Rng stream the
// samples come from, so that two tests' caches differ.
template <class Sample> ImageCache random_cache_of(int n, int h, int w, int c, uint64_t seed, uint64_t stream) {
  std::vector<Sample> px(size_t(n) * size_t(h) * size_t(w) * size_t(c));
  Rng rng(seed, stream);
  for (auto& p : px) p = Sample(rng.next_u32());
  std::vector<int> labels(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) labels[size_t(k)] = k % 2;
  if constexpr (std::is_same_v<Sample, uint16_t>)
    return ImageCache::from_pixels16(std::move(px), std::move(labels), h, w, c);
  else
    return ImageCache::from_pixels(std::move(px), std::move(labels), h, w, c);
}

// Every cache position, in order.
inline std::vector<size_t> all_items(const ImageCache& cache) {
  std::vector<size_t> v(size_t(cache.size()));
  for (size_t k = 0; k < v.size(); ++k) v[k] = k;
  return v;
}

}  // namespace radius::test
