#include "tensor/device_allocator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace radius {

AllocationMode allocation_mode_from(const char* env_value) {
  const bool on = env_value && *env_value && std::string_view(env_value) != "0";
  return on ? AllocationMode::exact : AllocationMode::cached;
}

AllocationMode allocation_mode() {
  static const AllocationMode mode = allocation_mode_from(std::getenv("RADIUS_CUDA_EXACT_ALLOC"));
  return mode;
}

size_t round_allocation(size_t bytes) {
  if (bytes <= 256) return 256;
  size_t top = 1;
  while (top <= bytes / 2) top *= 2;  // the largest power of two <= bytes (top * 2 could wrap to 0)
  const size_t step = std::max<size_t>(256, top / 4);
  return (bytes + step - 1) / step * step;
}

void* DeviceAllocator::allocate(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  void* p = nullptr;
  size_t size = 0;
  if (mode_ == AllocationMode::exact) {
    // At least one byte: a zero-byte cudaMalloc returns no pointer to track.
    size = std::max<size_t>(bytes, 1);
    p = backend_malloc(bytes, size);
  } else {
    size = round_allocation(bytes);
    auto& list = free_[size];
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
      stats_.cache_hits++;
      stats_.bytes_cached -= size;
    } else {
      p = backend_malloc(bytes, size);
    }
  }
  live_[p] = size;
  stats_.bytes_in_use += size;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  return p;
}

void DeviceAllocator::free(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(p);
  if (it == live_.end()) return;
  const size_t size = it->second;
  live_.erase(it);
  stats_.bytes_in_use -= size;
  if (mode_ == AllocationMode::exact) {
    backend_.release(p);
    stats_.device_frees++;
  } else {
    // Later work on the one stream is ordered after any use of p: no sync needed.
    stats_.bytes_cached += size;
    free_[size].push_back(p);
  }
}

void DeviceAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_locked();
}

AllocatorStats DeviceAllocator::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void* DeviceAllocator::backend_malloc(size_t asked, size_t size) {
  void* p = backend_.try_malloc(size);
  if (!p) {  // out of memory: give the cache back and try once more
    release_cached_locked();
    p = backend_.try_malloc(size);
  }
  if (!p) {
    const auto [free_bytes, total_bytes] = backend_.memory_info();
    char msg[512];
    std::snprintf(msg, sizeof msg,
                  "CUDA out of memory: asked for %.1f MiB (%zu bytes), %.1f MiB free of %.1f MiB on the GPU "
                  "(%.1f MiB held by Radius tensors). Try a smaller batch size.",
                  double(asked) / 1048576.0, asked, double(free_bytes) / 1048576.0, double(total_bytes) / 1048576.0,
                  double(stats_.bytes_in_use) / 1048576.0);
    throw std::runtime_error(msg);
  }
  stats_.device_mallocs++;
  return p;
}

void DeviceAllocator::release_cached_locked() {
  if (stats_.bytes_cached == 0) return;
  backend_.synchronize();
  for (auto& [size, list] : free_) {
    for (void* p : list) {
      backend_.release(p);
      stats_.device_frees++;
    }
    list.clear();
  }
  stats_.bytes_cached = 0;
}

}  // namespace radius
