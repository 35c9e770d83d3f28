// The bookkeeping of the device allocator, separate from the CUDA runtime so that
// it compiles and is tested on any machine (tests/test_device_allocator.cpp drives
// it with a fake backend); kernels/runtime.cu plugs cudaMalloc/cudaFree into it.
//
// Two modes:
//   cached (default)  sizes are rounded up to size classes (4 per power of two, at
//                     least 256 bytes) and freed blocks go to a per-class free list;
//                     a request is served from the list when it can, so a training
//                     step whose shapes repeat makes no cudaMalloc once warm.
//   exact             every request gets its own allocation of exactly the bytes
//                     asked, returned to the driver as soon as it is freed. Slow,
//                     but compute-sanitizer memcheck then sees each tensor's true
//                     end: in cached mode a kernel that overruns a tensor into the
//                     rounding slack, or uses a freed block the cache still holds,
//                     touches memory that is valid as far as the driver knows.
// The mode is read once from RADIUS_CUDA_EXACT_ALLOC (1 = exact); the GPU check's
// sanitizer steps set it (scripts/gpu_check.sh).
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace radius {

enum class AllocationMode { cached, exact };

// The mode an environment value asks for: "1" (or any value but "" and "0") is
// exact, anything else (unset included) cached.
AllocationMode allocation_mode_from(const char* env_value);
// allocation_mode_from(getenv("RADIUS_CUDA_EXACT_ALLOC")), read once per process.
AllocationMode allocation_mode();

// The size class a request of `bytes` gets in cached mode.
size_t round_allocation(size_t bytes);

struct AllocatorStats {
  int64_t device_mallocs = 0;   // backend allocations so far (cudaMalloc calls)
  int64_t device_frees = 0;     // backend frees so far (cache releases; every free in exact mode)
  int64_t cache_hits = 0;       // requests served from a free list (always 0 in exact mode)
  size_t bytes_in_use = 0;      // handed out and not yet freed (rounded sizes in cached mode)
  size_t bytes_cached = 0;      // held in free lists (always 0 in exact mode)
  size_t peak_bytes_in_use = 0;
};

// What the allocator needs from the device runtime.
class DeviceMemoryBackend {
 public:
  virtual ~DeviceMemoryBackend() = default;
  // A block of `bytes`, or nullptr when the device is out of memory (any other
  // failure throws).
  virtual void* try_malloc(size_t bytes) = 0;
  // Returns a block to the driver once no queued work can still use it.
  virtual void release(void* p) = 0;
  // Waits until all queued device work is done.
  virtual void synchronize() = 0;
  // (free, total) bytes on the device, for the out-of-memory message.
  virtual std::pair<size_t, size_t> memory_info() = 0;
};

class DeviceAllocator {
 public:
  DeviceAllocator(DeviceMemoryBackend& backend, AllocationMode mode) : backend_(backend), mode_(mode) {}

  // Throws std::runtime_error on out of memory (after giving the cache back and
  // retrying once), naming the bytes asked, free and held.
  void* allocate(size_t bytes);
  // Ignores nullptr and pointers it did not hand out (rather than corrupt the lists).
  void free(void* p);
  // Synchronises, then gives every cached block back to the driver.
  void release_cached();

  AllocatorStats stats();
  AllocationMode mode() const { return mode_; }

 private:
  void* backend_malloc(size_t asked, size_t size);
  void release_cached_locked();

  DeviceMemoryBackend& backend_;
  const AllocationMode mode_;
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // size class -> cached blocks
  std::unordered_map<void*, size_t> live_;               // handed out -> size counted in bytes_in_use
  AllocatorStats stats_;
};

}  // namespace radius
