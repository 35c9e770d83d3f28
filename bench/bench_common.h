// Shared pieces of the CPU benchmarks: the in-run SGEMM ceiling and process
// counters (peak RSS, CPU time), so every suite reports its FLOP rate as a share
// of what Eigen's own SGEMM reaches on the same machine in the same run.
#pragma once
#include <sys/resource.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

#include "layers/conv2d.h"
#include "tensor/parallel.h"
#include "tensor/rng.h"

namespace radius::bench {

// n values uniform in [-1, 1) from the seed: benchmark operands, never zeros.
inline std::vector<float> random_floats(int64_t n, uint64_t seed) {
  Rng rng(seed, 0);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(-1, 1);
  return v;
}

// Eigen SGEMM C = A B at 2048^3 (2 * 2048^3 FLOP), best of 3 after a warm-up:
// the practical ceiling of the CPU backend (shared/notes/performance.md).
// Measured once per thread count and cached.
inline double sgemm_gflops(int threads) {
  static std::map<int, double> cache;
  if (auto it = cache.find(threads); it != cache.end()) return it->second;
  set_num_threads(threads);
  const int n = 2048;
  Eigen::MatrixXf a(n, n), b(n, n), c(n, n);
  Rng rng(11, 0);
  for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = rng.uniform(-1, 1), b.data()[i] = rng.uniform(-1, 1);
  double best = 1e30;
  for (int rep = 0; rep < 4; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    c.noalias() = a * b;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep > 0) best = std::min(best, s);  // rep 0 warms caches and threads
  }
  return cache[threads] = 2.0 * double(n) * n * n / best / 1e9;
}

// RADIUS_CONV_GEMM=eigen runs the float convolutions on Eigen's GEMM instead of
// ours (layers/gemm.h), for A/B runs of one binary: set before main starts.
inline const bool kConvGemmFromEnv = [] {
  const char* e = std::getenv("RADIUS_CONV_GEMM");
  if (!e || !*e) return false;
  if (std::strcmp(e, "eigen") != 0 && std::strcmp(e, "packed") != 0)
    throw std::invalid_argument(std::string("RADIUS_CONV_GEMM must be 'eigen' or 'packed', got '") + e + "'");
  set_conv2d_gemm(std::strcmp(e, "eigen") == 0 ? ConvGemm::eigen : ConvGemm::packed);
  return true;
}();

// RADIUS_FUSION=off runs the model without fusion (net/fusion.h), for A/B runs
// of one binary; anything else, or unset, leaves it on.
inline bool fusion_from_env() {
  const char* e = std::getenv("RADIUS_FUSION");
  return !(e && std::strcmp(e, "off") == 0);
}

inline double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

// User + system CPU seconds of the whole process (all threads).
inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

}  // namespace radius::bench
