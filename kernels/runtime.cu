// CUDA runtime: error checking, the stream, the caching allocator, and the
// tensor/device_memory.h functions (the seam between tensors and the GPU).
#include "kernels/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "tensor/device_memory.h"

namespace radius::cuda {

// ---- errors --------------------------------------------------------------------

void fail(cudaError_t error, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string("CUDA error at ") + file + ":" + std::to_string(line) + " in " + call + ": " +
                           cudaGetErrorString(error) + " (" + cudaGetErrorName(error) + ")");
}

namespace {
bool sync_after_launch() {
  static const bool on = [] {
    const char* v = std::getenv("RADIUS_CUDA_SYNC");
    return v && *v && *v != '0';
  }();
  return on;
}
}  // namespace

void check_launch(const char* kernel, const char* file, int line) {
  check(cudaGetLastError(), kernel, file, line);
  if (sync_after_launch()) check(cudaStreamSynchronize(stream()), kernel, file, line);
}

// ---- stream and device -----------------------------------------------------------

cudaStream_t stream() {
  // Non-blocking: it does not synchronise with the legacy default stream, so all
  // ordering is explicit (every Radius call uses this stream).
  static cudaStream_t s = [] {
    cudaStream_t created;
    RADIUS_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    return created;
  }();
  return s;
}

void synchronize() { RADIUS_CUDA_CHECK(cudaStreamSynchronize(stream())); }

const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    cudaDeviceProp p{};
    RADIUS_CUDA_CHECK(cudaGetDeviceProperties(&p, 0));
    DeviceInfo d;
    d.name = p.name;
    d.sm_count = p.multiProcessorCount;
    d.cc_major = p.major;
    d.cc_minor = p.minor;
    d.l2_bytes = size_t(p.l2CacheSize);
    d.smem_per_block_optin = p.sharedMemPerBlockOptin;
    d.total_bytes = p.totalGlobalMem;
    return d;
  }();
  return info;
}

unsigned grid_for(int64_t n, int threads) {
  const int64_t needed = (n + threads - 1) / threads;
  const int64_t cap = int64_t(device_info().sm_count) * 8;  // 8 resident blocks of 256 per SM fill it
  return unsigned(std::max<int64_t>(1, std::min(needed, cap)));
}

// ---- the caching allocator -------------------------------------------------------

size_t round_allocation(size_t bytes) {
  if (bytes <= 256) return 256;
  size_t top = 1;
  while (top * 2 <= bytes) top *= 2;  // the largest power of two <= bytes
  const size_t step = std::max<size_t>(256, top / 4);
  return (bytes + step - 1) / step * step;
}

namespace {

class CachingAllocator {
 public:
  void* allocate(size_t bytes) {
    const size_t size = round_allocation(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    auto& list = free_[size];
    void* p = nullptr;
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
      stats_.cache_hits++;
      stats_.bytes_cached -= size;
    } else {
      p = device_malloc(bytes, size);
    }
    live_[p] = size;
    stats_.bytes_in_use += size;
    stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
    return p;
  }

  void free(void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) return;  // not ours: ignore rather than corrupt the lists
    const size_t size = it->second;
    live_.erase(it);
    stats_.bytes_in_use -= size;
    stats_.bytes_cached += size;
    free_[size].push_back(p);  // later work on the one stream is ordered after any use of p
  }

  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_locked();
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  void* device_malloc(size_t asked, size_t size) {
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear it, give the cache back, try once more
      release_locked();
      e = cudaMalloc(&p, size);
    }
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      size_t free_bytes = 0, total_bytes = 0;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      char msg[512];
      std::snprintf(msg, sizeof msg,
                    "CUDA out of memory: asked for %.1f MiB (%zu bytes), %.1f MiB free of %.1f MiB on the GPU "
                    "(%.1f MiB held by Radius tensors). Try a smaller batch size.",
                    double(asked) / 1048576.0, asked, double(free_bytes) / 1048576.0,
                    double(total_bytes) / 1048576.0, double(stats_.bytes_in_use) / 1048576.0);
      throw std::runtime_error(msg);
    }
    check(e, "cudaMalloc", __FILE__, __LINE__);
    stats_.device_mallocs++;
    return p;
  }

  void release_locked() {
    if (stats_.bytes_cached == 0) return;
    check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize before releasing the cache", __FILE__, __LINE__);
    for (auto& [size, list] : free_) {
      for (void* p : list) {
        check(cudaFree(p), "cudaFree", __FILE__, __LINE__);
        stats_.device_frees++;
      }
      list.clear();
    }
    stats_.bytes_cached = 0;
  }

  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  std::unordered_map<void*, size_t> live_;
  AllocatorStats stats_;
};

// Never destroyed: tensors in static storage may be freed after main returns,
// and the driver reclaims all device memory at exit anyway.
CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator;
  return *a;
}

}  // namespace

AllocatorStats allocator_stats() { return allocator().stats(); }
void release_cached_memory() { allocator().release(); }

// ---- pinned host buffers -----------------------------------------------------------

PinnedBuffer::PinnedBuffer(size_t floats) : size_(floats) {
  RADIUS_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&data_), std::max<size_t>(floats, 1) * sizeof(float)));
}
PinnedBuffer::~PinnedBuffer() {
  if (data_) cudaFreeHost(data_);
}
PinnedBuffer::PinnedBuffer(PinnedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}
PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) cudaFreeHost(data_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void upload_async(float* dst_device, const float* src_pinned, size_t floats) {
  RADIUS_CUDA_CHECK(cudaMemcpyAsync(dst_device, src_pinned, floats * sizeof(float), cudaMemcpyHostToDevice, stream()));
}

}  // namespace radius::cuda

// ---- tensor/device_memory.h ------------------------------------------------------------

namespace radius {

bool cuda_available() {
  // No driver, no device, or a driver too old for this runtime: all mean "no
  // CUDA here" and must not print anything or leave a sticky error behind.
  static const bool available = [] {
    const char* off = std::getenv("RADIUS_NO_CUDA");
    if (off && *off && *off != '0') return false;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    return count > 0;
  }();
  return available;
}

void* device_alloc(size_t bytes) {
  if (!cuda_available())
    throw std::runtime_error("CUDA tensor requested but no CUDA device is available (no GPU or no driver)");
  return cuda::allocator().allocate(bytes);
}

void device_free(void* p) noexcept { cuda::allocator().free(p); }

void device_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  cudaMemcpyKind kind;
  if (src_device == Device::cpu && dst_device == Device::cuda)
    kind = cudaMemcpyHostToDevice;
  else if (src_device == Device::cuda && dst_device == Device::cpu)
    kind = cudaMemcpyDeviceToHost;
  else if (src_device == Device::cuda && dst_device == Device::cuda)
    kind = cudaMemcpyDeviceToDevice;
  else
    throw std::logic_error("device_copy: host-to-host copies do not go through the CUDA runtime");
  RADIUS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, cuda::stream()));
  // Device-to-device stays asynchronous (stream-ordered); a copy that touches
  // host memory returns only when the host side is safe to read or reuse.
  if (kind != cudaMemcpyDeviceToDevice) cuda::synchronize();
}

void device_memset_zero(void* p, size_t bytes) {
  if (bytes) RADIUS_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, cuda::stream()));
}

void device_synchronize() { cuda::synchronize(); }

}  // namespace radius
