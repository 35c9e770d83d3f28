// The CUDA runtime layer of Radius: checked calls, the one stream, the caching
// allocator's statistics, pinned host buffers, device properties.
//
// Included by kernels/*.cu and by CUDA-only tests and benchmarks; never by the
// layers (they see only the launcher headers, which name no CUDA types).
//
// Every CUDA call goes through RADIUS_CUDA_CHECK, every launch is followed by
// RADIUS_CUDA_CHECK_LAUNCH: a failure throws std::runtime_error naming the file,
// line, call and CUDA's message. Kernels run asynchronously, so an error inside a
// kernel surfaces at the next synchronising call; set RADIUS_CUDA_SYNC=1 in the
// environment to synchronise after every launch and pin it on the right kernel.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/device_allocator.h"

namespace radius::cuda {

[[noreturn]] void fail(cudaError_t error, const char* call, const char* file, int line);
inline void check(cudaError_t error, const char* call, const char* file, int line) {
  if (error != cudaSuccess) fail(error, call, file, line);
}
void check_launch(const char* kernel, const char* file, int line);

#define RADIUS_CUDA_CHECK(call) ::radius::cuda::check((call), #call, __FILE__, __LINE__)
#define RADIUS_CUDA_CHECK_LAUNCH(kernel) ::radius::cuda::check_launch(kernel, __FILE__, __LINE__)

// All Radius work is issued on this one stream (created on first use). Device
// memory handed back to the caching allocator is reused by later work on the
// same stream, which the stream orders after the earlier work: no sync needed.
cudaStream_t stream();
void synchronize();  // waits for the stream; throws on any pending kernel error

struct DeviceInfo {
  std::string name;
  int sm_count = 0, cc_major = 0, cc_minor = 0;
  size_t l2_bytes = 0, smem_per_block_optin = 0, total_bytes = 0;
};
const DeviceInfo& device_info();  // device 0; throws if there is none

// ---- the caching allocator (behind tensor/device_memory.h's device_alloc) -----
// Its bookkeeping, both modes (cached size classes; exact, one cudaMalloc per
// tensor, RADIUS_CUDA_EXACT_ALLOC=1) and the out-of-memory retry are in
// tensor/device_allocator.h; here the process-wide instance's statistics.
using radius::AllocatorStats;
using radius::round_allocation;  // the size class a request gets in cached mode
AllocatorStats allocator_stats();
void release_cached_memory();  // synchronises, then cudaFree's every cached block

// ---- pinned host memory for batch uploads ------------------------------------
// Page-locked, so cudaMemcpyAsync from it is a true DMA that overlaps host work.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t floats);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
};
// Asynchronous host->device copy on the Radius stream; `src` must stay valid
// (and unchanged) until the stream reaches the copy: pinned memory is meant.
void upload_async(float* dst_device, const float* src_pinned, size_t floats);

// Grid size for a grid-stride loop over n items: enough blocks to fill the GPU
// a few times over, never more than the items need.
unsigned grid_for(int64_t n, int threads);

}  // namespace radius::cuda
