// The device allocator's bookkeeping (tensor/device_allocator.h), driven by a fake
// backend on the host: what the CUDA runtime would be asked to allocate and free
// in cached mode and in the exact mode that the GPU check's memcheck run uses.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/device_allocator.h"

using namespace radius;

namespace {

// Hands out host memory and records every call; `capacity` bytes in all, beyond
// which try_malloc reports out of memory (nullptr), as cudaMalloc would.
class FakeBackend final : public DeviceMemoryBackend {
 public:
  explicit FakeBackend(size_t capacity = size_t(1) << 30) : capacity_(capacity) {}
  ~FakeBackend() override {
    for (auto& [p, size] : blocks) std::free(p);
  }
  void* try_malloc(size_t bytes) override {
    malloc_sizes.push_back(bytes);
    if (held_ + bytes > capacity_) return nullptr;
    void* p = std::malloc(bytes);
    blocks[p] = bytes;
    held_ += bytes;
    return p;
  }
  void release(void* p) override {
    REQUIRE(blocks.count(p) == 1);  // never a pointer it did not hand out, never twice
    held_ -= blocks[p];
    blocks.erase(p);
    std::free(p);
    released++;
    released_after_sync += syncs > 0;
  }
  void synchronize() override { syncs++; }
  std::pair<size_t, size_t> memory_info() override { return {capacity_ - held_, capacity_}; }

  std::vector<size_t> malloc_sizes;  // every try_malloc, in order
  std::map<void*, size_t> blocks;    // held now
  int released = 0, released_after_sync = 0, syncs = 0;

 private:
  size_t capacity_;
  size_t held_ = 0;
};

}  // namespace

TEST_CASE("device allocator: the mode comes from RADIUS_CUDA_EXACT_ALLOC's value") {
  CHECK(allocation_mode_from(nullptr) == AllocationMode::cached);
  CHECK(allocation_mode_from("") == AllocationMode::cached);
  CHECK(allocation_mode_from("0") == AllocationMode::cached);
  CHECK(allocation_mode_from("1") == AllocationMode::exact);
  CHECK(allocation_mode_from("yes") == AllocationMode::exact);
}

TEST_CASE("device allocator: size classes, 4 per power of two, at least 256 bytes") {
  CHECK(round_allocation(0) == 256);
  CHECK(round_allocation(1) == 256);
  CHECK(round_allocation(256) == 256);
  CHECK(round_allocation(257) == 512);
  CHECK(round_allocation(1000) == 1024);
  CHECK(round_allocation(5000) == 5120);                      // 4096 + 1024
  CHECK(round_allocation((size_t(1) << 20) + 1) == 1310720);  // 1 MiB + 1/4 MiB
  for (size_t b : {size_t(3), size_t(700), size_t(12345), size_t(999999), size_t(123456789)}) {
    CAPTURE(b);
    CHECK(round_allocation(b) >= b);
    CHECK(round_allocation(b) < b + b / 4 + 256);  // at most a quarter wasted, past the minimum
  }
}

TEST_CASE("device allocator: cached mode rounds, reuses freed blocks and mallocs nothing once warm") {
  FakeBackend backend;
  DeviceAllocator a(backend, AllocationMode::cached);
  void* x = a.allocate(1000);
  void* y = a.allocate(5000);
  CHECK(backend.malloc_sizes == std::vector<size_t>{1024, 5120});
  CHECK(a.stats().bytes_in_use == 1024 + 5120);
  a.free(x);
  a.free(y);
  CHECK(a.stats().bytes_in_use == 0);
  CHECK(a.stats().bytes_cached == 1024 + 5120);
  CHECK(backend.released == 0);  // kept for reuse
  // A "step" with the same shapes (and a size in the same class): served from the cache.
  void* x2 = a.allocate(1000);
  void* y2 = a.allocate(4500);  // class 5120 too
  CHECK(x2 == x);
  CHECK(y2 == y);
  CHECK(backend.malloc_sizes.size() == 2);
  const AllocatorStats s = a.stats();
  CHECK(s.device_mallocs == 2);
  CHECK(s.cache_hits == 2);
  CHECK(s.bytes_cached == 0);
  CHECK(s.peak_bytes_in_use == 1024 + 5120);
  a.free(x2);
  a.free(y2);
  a.release_cached();
  CHECK(backend.blocks.empty());
  CHECK(backend.released_after_sync == 2);  // synchronised before handing blocks back
  CHECK(a.stats().device_frees == 2);
  CHECK(a.stats().bytes_cached == 0);
}

TEST_CASE("device allocator: exact mode gives each request its own block of exactly its size, freed at once") {
  FakeBackend backend;
  DeviceAllocator a(backend, AllocationMode::exact);
  CHECK(a.mode() == AllocationMode::exact);
  void* x = a.allocate(1000);
  void* y = a.allocate(1000);
  void* z = a.allocate(3);
  CHECK(backend.malloc_sizes == std::vector<size_t>{1000, 1000, 3});  // no rounding: memcheck sees the true end
  CHECK(x != y);
  CHECK(a.stats().bytes_in_use == 2003);
  a.free(y);
  CHECK(backend.blocks.count(y) == 0);  // back to the driver now, not cached
  CHECK(backend.released == 1);
  CHECK(a.stats().bytes_cached == 0);
  void* w = a.allocate(1000);  // a new allocation, never a cache hit
  CHECK(backend.malloc_sizes.size() == 4);
  a.free(x);
  a.free(z);
  a.free(w);
  const AllocatorStats s = a.stats();
  CHECK(s.device_mallocs == 4);
  CHECK(s.device_frees == 4);
  CHECK(s.cache_hits == 0);
  CHECK(s.bytes_in_use == 0);
  CHECK(s.peak_bytes_in_use == 2003);
  CHECK(backend.blocks.empty());
  void* empty = a.allocate(0);  // a zero-byte tensor still gets a pointer of its own (1 byte)
  CHECK(empty != nullptr);
  CHECK(backend.malloc_sizes.back() == 1);
  a.free(empty);
  CHECK(backend.blocks.empty());
}

TEST_CASE("device allocator: unknown and null pointers are ignored, in both modes") {
  for (AllocationMode mode : {AllocationMode::cached, AllocationMode::exact}) {
    FakeBackend backend;
    DeviceAllocator a(backend, mode);
    void* x = a.allocate(64);
    int not_ours = 0;
    a.free(nullptr);
    a.free(&not_ours);
    a.free(x);
    a.free(x);  // a second free of the same pointer changes nothing
    CHECK(a.stats().bytes_in_use == 0);
    CHECK(backend.released == (mode == AllocationMode::exact ? 1 : 0));
  }
}

TEST_CASE("device allocator: out of memory gives the cache back, retries once, then says how much and what to do") {
  FakeBackend backend(10000);
  DeviceAllocator a(backend, AllocationMode::cached);
  void* x = a.allocate(5000);  // 5120 held by the backend
  a.free(x);                   // cached
  void* big = a.allocate(8000);  // 8192 does not fit beside the cached 5120: release, retry, succeed
  CHECK(big != nullptr);
  CHECK(backend.released == 1);
  CHECK(a.stats().bytes_cached == 0);
  try {
    a.allocate(4000);  // 4096 beside 8192 in use: nothing cached to give back
    FAIL("an allocation beyond the capacity succeeded");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("out of memory") != std::string::npos);
    CHECK(msg.find("4000 bytes") != std::string::npos);  // the bytes asked, not the rounded size
    CHECK(msg.find("free of") != std::string::npos);
    CHECK(msg.find("smaller batch") != std::string::npos);
  }
  CHECK(a.stats().bytes_in_use == 8192);  // the failed request left no trace
  a.free(big);
}
