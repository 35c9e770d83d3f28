// Philox4x32-10: a counter-based random number generator (Salmon et al., SC'11).
//
// Why counter-based: the random number for (seed, stream, counter) is a pure
// function, so dropout masks, augmentation parameters and shuffles do not depend
// on thread count or scheduling, and a CUDA kernel can compute exactly the same
// values as the CPU (the functions are plain arithmetic, usable from device code).
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define RADIUS_HD __host__ __device__
#else
#define RADIUS_HD
#endif

namespace radius {

struct Philox4x32 {
  uint32_t v[4];
};

// One Philox4x32-10 block: 4 random 32-bit words for a 128-bit counter and 64-bit key.
RADIUS_HD inline Philox4x32 philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                       uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(kM0) * c0;
    const uint64_t p1 = uint64_t(kM1) * c2;
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = uint32_t(p1);
    c3 = uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += kW0;
    k1 += kW1;
  }
  return {{c0, c1, c2, c3}};
}

// 24 random bits -> a float uniform in [0, 1), exactly representable.
RADIUS_HD inline float uniform01(uint32_t bits) { return float(bits >> 8) * (1.0f / 16777216.0f); }

// The 4 words for element `index` of stream `stream` under `seed`.
RADIUS_HD inline Philox4x32 philox_at(uint64_t seed, uint64_t stream, uint64_t index) {
  return philox4x32(uint32_t(index), uint32_t(index >> 32), uint32_t(stream), uint32_t(stream >> 32),
                    uint32_t(seed), uint32_t(seed >> 32));
}

// A sequential generator over one (seed, stream): for initialisation and shuffles
// on the host, where values are drawn one after another.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : seed_(seed), stream_(stream) {}
  uint32_t next_u32() {
    if (pos_ == 4) {
      block_ = philox_at(seed_, stream_, counter_++);
      pos_ = 0;
    }
    return block_.v[pos_++];
  }
  float uniform() { return uniform01(next_u32()); }                     // [0, 1)
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }  // [lo, hi)
  // Uniform integer in [0, n) without modulo bias (Lemire's method).
  uint32_t below(uint32_t n) {
    uint64_t m = uint64_t(next_u32()) * n;
    uint32_t low = uint32_t(m);
    if (low < n) {
      const uint32_t threshold = (0u - n) % n;
      while (low < threshold) {
        m = uint64_t(next_u32()) * n;
        low = uint32_t(m);
      }
    }
    return uint32_t(m >> 32);
  }

 private:
  uint64_t seed_, stream_, counter_ = 0;
  Philox4x32 block_{};
  int pos_ = 4;
};

}  // namespace radius
