#include "tensor/device_memory.h"

#include <stdexcept>

#ifndef RADIUS_WITH_CUDA
namespace radius {

namespace {
[[noreturn]] void no_cuda() {
  throw std::runtime_error("this Radius was built without CUDA (configure with -DRADIUS_CUDA=ON on a machine with nvcc)");
}
}  // namespace

bool cuda_available() { return false; }
void* device_alloc(size_t) { no_cuda(); }
void device_free(void*) noexcept {}
void device_copy(void*, Device, const void*, Device, size_t) { no_cuda(); }
void device_memset_zero(void*, size_t) { no_cuda(); }
void device_synchronize() {}

}  // namespace radius
#endif
