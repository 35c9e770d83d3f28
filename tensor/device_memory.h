// Device memory: the only door between the tensor library and the GPU runtime.
//
// A CUDA build (RADIUS_WITH_CUDA) implements these in kernels/; a CPU-only build
// gets the definitions in device_memory.cpp, which throw a clear error, so code
// that asks for the GPU in a CPU-only build fails loudly instead of crashing.
// In a CUDA build, device_alloc/device_free go through the allocator of
// tensor/device_allocator.h: cached size classes by default, or one exact-size
// cudaMalloc per tensor with RADIUS_CUDA_EXACT_ALLOC=1 (for compute-sanitizer).
#pragma once
#include <cstddef>

#include "tensor/device.h"

namespace radius {

bool cuda_available();                 // built with CUDA and a device is present
void* device_alloc(size_t bytes);      // throws on failure (bytes asked, bytes free)
void device_free(void* p) noexcept;
void device_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void device_memset_zero(void* p, size_t bytes);
// Waits until all queued GPU work is done (for timing; a no-op without CUDA,
// where nothing runs asynchronously).
void device_synchronize();

}  // namespace radius
