// CUDA runtime: error checking, the stream, the caching allocator, and the
// tensor/device_memory.h functions (the seam between tensors and the GPU).
#include "kernels/runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "tensor/device_allocator.h"
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

namespace {

// cudaMalloc / cudaFree on the Radius stream, for the allocator's bookkeeping
// (tensor/device_allocator.h).
class CudaMemoryBackend final : public DeviceMemoryBackend {
 public:
  void* try_malloc(size_t bytes) override {
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear it: the allocator frees its cache and retries
      return nullptr;
    }
    check(e, "cudaMalloc", __FILE__, __LINE__);
    return p;
  }
  // Called from device_free (noexcept, tensor destructors): a failure cannot
  // throw here, so it is printed; an asynchronous kernel error behind it stays
  // sticky and the next checked call throws it.
  void release(void* p) override {
    cudaError_t e = cudaStreamSynchronize(stream());  // no queued kernel may still use p
    if (e == cudaSuccess) e = cudaFree(p);
    if (e != cudaSuccess)
      std::fprintf(stderr, "radius: freeing device memory failed: %s (%s)\n", cudaGetErrorString(e), cudaGetErrorName(e));
  }
  void synchronize() override { cuda::synchronize(); }
  std::pair<size_t, size_t> memory_info() override {
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) cudaGetLastError();  // only for a message
    return {free_bytes, total_bytes};
  }
};

// Never destroyed: tensors in static storage may be freed after main returns,
// and the driver reclaims all device memory at exit anyway.
DeviceAllocator& allocator() {
  static CudaMemoryBackend* backend = new CudaMemoryBackend;
  static DeviceAllocator* a = new DeviceAllocator(*backend, allocation_mode());
  return *a;
}

}  // namespace

AllocatorStats allocator_stats() { return allocator().stats(); }
void release_cached_memory() { allocator().release_cached(); }

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
