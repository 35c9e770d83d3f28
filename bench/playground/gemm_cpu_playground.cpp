// CPU GEMM playground: the versions of bench/playground/gemm_cpu_versions.h (naive,
// cache-blocked, packed, register-tiled = the library's sgemm), each checked against
// a double reference and timed in GFLOP/s on one thread. Built in every build.
//
// Run: build/gemm_cpu_playground [size=512] [repeats=5]
//
// Output on 2 vCPUs Intel Xeon (Sapphire Rapids), GCC 12 -O3 -march=native, on a
// shared machine loaded by other builds while it ran (load average ~10 on the 2
// cores: the rates are low and noisy; compare the ratios). Every check printed "ok"
// (rel err <= 3.3e-07 against the double product on 1x1x1, 7x13x5, 67x45x129, 150x200x333).
//   version                              ms    GFLOP/s    vs v1   (512^3)
//   v1 naive                         483.14       0.56     1.0x
//   v2 cache-blocked                  71.43       3.76     6.8x
//   v3 packed                         16.75      16.03    28.8x
//   v4 register-tiled (library)       15.16      17.71    31.9x
// At 1024^3: v1 0.06 GFLOP/s (every B load misses: 34 s), v2 4.1, v3 18.7, v4 20.4.
// v3 comes close to v4 only because its tile loops are unrolled into registers
// (gemm_cpu_versions.h says what happens without that).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bench/playground/gemm_cpu_versions.h"

using namespace radius::playground::cpu;

namespace {

std::vector<float> random_vector(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);  // random, never zeros
  return v;
}


}  // namespace

int main(int argc, char** argv) {
  const int64_t size = argc > 1 ? std::atoll(argv[1]) : 512;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  std::printf("CPU GEMM playground, one thread, micro-kernel of v4: %s\n", radius::sgemm_kernel_name());

  // 1. Correctness on odd sizes (edge tiles everywhere).
  bool ok = true;
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {67, 45, 129}, {150, 200, 333}};
  unsigned seed = 1;
  for (const auto& s : shapes) {
    const std::vector<float> a = random_vector(size_t(s[0] * s[2]), ++seed), b = random_vector(size_t(s[2] * s[1]), ++seed);
    const std::vector<double> want = gemm_reference(s[0], s[1], s[2], a.data(), b.data());
    for (int v = 1; v <= kGemmVersions; ++v) {
      std::vector<float> c(size_t(s[0] * s[1]), NAN);
      gemm(v, s[0], s[1], s[2], a.data(), b.data(), c.data());
      const double err = rel_error(want, c);
      ok &= err < 1e-5;
      std::printf("check %-28s %4lldx%4lldx%4lld rel err %.2e %s\n", gemm_name(v), (long long)s[0], (long long)s[1],
                  (long long)s[2], err, err < 1e-5 ? "ok" : "FAIL");
    }
  }

  // 2. Timing: the median of `repeats` runs at size^3.
  const std::vector<float> a = random_vector(size_t(size * size), 100), b = random_vector(size_t(size * size), 101);
  std::vector<float> c(size_t(size * size));
  const double flop = 2.0 * double(size) * size * size;
  std::printf("\n%-28s %10s %10s %8s   (%lld^3)\n", "version", "ms", "GFLOP/s", "vs v1", (long long)size);
  double v1_ms = 0;
  for (int v = 1; v <= kGemmVersions; ++v) {
    std::vector<double> ms;
    for (int r = 0; r < std::max(repeats, 1); ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      gemm(v, size, size, size, a.data(), b.data(), c.data());
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double med = ms[ms.size() / 2];
    if (v == 1) v1_ms = med;
    std::printf("%-28s %10.2f %10.2f %7.1fx\n", gemm_name(v), med, flop / med / 1e6, v1_ms / med);
  }
  return ok ? 0 : 1;
}
