// The harness every op playground shares (kernels/playground/*_playground.cu):
// checked CUDA calls, device buffers filled with random numbers, the error
// measure, a median timer, and the device's peak, so that each version's row
// reads "ms, GB/s or GFLOP/s, % of peak".
//
// The peaks are ESTIMATES from cudaDeviceGetAttribute, not measurements:
//   bandwidth = 2 (DDR: two transfers per clock) x memory clock x bus width / 8
//   FP32      = SMs x FP32 lanes per SM x 2 (an FMA is two FLOPs) x SM clock
// The lanes per SM come from the architecture (table below). A kernel at 80 %
// of the bandwidth estimate is doing very well; 100 % is not reachable.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/runtime.h"

#define PG_CHECK(call)                                                                              \
  do {                                                                                              \
    cudaError_t e_ = (call);                                                                        \
    if (e_ != cudaSuccess) {                                                                        \
      std::fprintf(stderr, "CUDA error at %s:%d in %s: %s\n", __FILE__, __LINE__, #call,            \
                   cudaGetErrorString(e_));                                                         \
      std::exit(1);                                                                                 \
    }                                                                                               \
  } while (0)
// After every launch: a bad configuration fails here, named, not at a later copy.
#define PG_CHECK_LAUNCH() PG_CHECK(cudaGetLastError())

namespace radius::playground {

// False (and one line printed) when there is no GPU: the playground then exits 0.
inline bool have_gpu(const char* program) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("%s: no CUDA device here; it needs a GPU (nothing run)\n", program);
    return false;
  }
  return true;
}

struct Peak {
  double gb_per_s = 0, gflop_per_s = 0;
};

// FP32 lanes (CUDA cores) per SM by compute capability: what the FLOP peak multiplies.
inline int fp32_lanes_per_sm(int major, int minor) {
  if (major >= 9) return 128;                   // Hopper (H100/H200), Blackwell
  if (major == 8) return minor == 0 ? 64 : 128;  // A100: 64; Ampere consumer and Ada: 128
  if (major == 7) return 64;                    // Volta, Turing
  return 128;                                   // Maxwell/Pascal consumer parts (P100: 64; close enough for a teaching estimate)
}

inline Peak device_peak(bool print = true) {
  cudaDeviceProp prop{};
  PG_CHECK(cudaGetDeviceProperties(&prop, 0));
  int mem_khz = 0, bus_bits = 0, sm_khz = 0;
  PG_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0));
  PG_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0));
  PG_CHECK(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, 0));
  Peak p;
  p.gb_per_s = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9;
  p.gflop_per_s = double(prop.multiProcessorCount) * fp32_lanes_per_sm(prop.major, prop.minor) * 2.0 * sm_khz * 1e3 / 1e9;
  if (print)
    std::printf("device: %s (sm_%d%d, %d SMs); peak ESTIMATES: %.0f GB/s (memory clock x bus width), "
                "%.0f GFLOP/s FP32 (SMs x %d lanes x 2 x %.2f GHz)\n",
                prop.name, prop.major, prop.minor, prop.multiProcessorCount, p.gb_per_s, p.gflop_per_s,
                fp32_lanes_per_sm(prop.major, prop.minor), sm_khz / 1e6);
  return p;
}

// Random numbers in [lo, hi), never zeros by construction of the tests (zeros hide bugs).
inline std::vector<float> random_vector(size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

inline void sync_all_streams() { PG_CHECK(cudaDeviceSynchronize()); }

// A device array of T that frees itself; upload/download are synchronous.
template <class T> class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t n) : n_(n) { PG_CHECK(cudaMalloc(&p_, std::max<size_t>(n, 1) * sizeof(T))); }
  explicit Buffer(const std::vector<T>& host) : Buffer(host.size()) { upload(host); }
  ~Buffer() { cudaFree(p_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  T* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    PG_CHECK(cudaMemcpy(p_, host.data(), std::min(host.size(), n_) * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    sync_all_streams();
    std::vector<T> host(n_);
    PG_CHECK(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  void poison() {
    sync_all_streams();
    PG_CHECK(cudaMemset(p_, 0xFF, n_ * sizeof(T)));
    PG_CHECK(cudaDeviceSynchronize());
  }  // NaN floats: an unwritten element fails the check

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// ||got - want|| / ||want|| in double; +inf on any NaN (an unwritten element).
template <class A, class B> double rel_error(const std::vector<A>& want, const std::vector<B>& got) {
  if (want.size() != got.size()) return INFINITY;
  double diff = 0, norm = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(double(got[i]))) return INFINITY;
    const double d = double(got[i]) - double(want[i]);
    diff += d * d;
    norm += double(want[i]) * double(want[i]);
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

// Median of `repeats` timed runs after two warm-ups, in milliseconds. The events
// are recorded on the Radius stream (kernels/runtime.h: a non-blocking stream, so
// events on the default stream would not order with it); every playground kernel
// and every backend launcher runs on that stream.
template <class F> float median_ms(F launch, int repeats) {
  cudaStream_t s = radius::cuda::stream();
  launch();
  launch();
  PG_CHECK(cudaStreamSynchronize(s));
  cudaEvent_t a, b;
  PG_CHECK(cudaEventCreate(&a));
  PG_CHECK(cudaEventCreate(&b));
  std::vector<float> ms;
  for (int r = 0; r < std::max(repeats, 1); ++r) {
    PG_CHECK(cudaEventRecord(a, s));
    launch();
    PG_CHECK(cudaEventRecord(b, s));
    PG_CHECK(cudaEventSynchronize(b));
    float t = 0;
    PG_CHECK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// One table row. bytes or flops (the other 0): the useful work of one call, the
// minimum a perfect kernel must move or compute, so waste shows as a lower rate.
inline void print_header(const char* what) {
  std::printf("\n%-34s %10s %12s %9s\n", what, "ms", "rate", "% peak");
}
inline void print_row(const char* name, float ms, double bytes, double flops, const Peak& peak) {
  if (flops > 0) {
    const double g = flops / (ms * 1e-3) / 1e9;
    std::printf("%-34s %10.4f %7.0f GFLOP/s %7.1f%%\n", name, ms, g, 100.0 * g / peak.gflop_per_s);
  } else {
    const double g = bytes / (ms * 1e-3) / 1e9;
    std::printf("%-34s %10.4f %9.0f GB/s %7.1f%%\n", name, ms, g, 100.0 * g / peak.gb_per_s);
  }
}
inline bool print_check(const char* name, double err, double tolerance) {
  const bool pass = err <= tolerance;
  std::printf("check %-34s rel err %.2e %s\n", name, err, pass ? "ok" : "FAIL");
  return pass;
}

// Waits for the Radius stream (before reading results back).
inline void sync_all() { PG_CHECK(cudaStreamSynchronize(radius::cuda::stream())); }

}  // namespace radius::playground
