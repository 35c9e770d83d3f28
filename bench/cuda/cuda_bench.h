// Shared pieces of the GPU benchmarks (bench/cuda/*.cpp, CUDA builds only).
//
// Timing: device events around the work (manual time, so host overhead between
// iterations does not count), warm-up first, random never-zero inputs, median
// over repetitions (run with --benchmark_repetitions=N
// --benchmark_report_aggregates_only=true). Names are "<op>/<impl>", impl one
// of ours, cublas, cudnn, copy: scripts/gpu_summary.py pairs them by <op>.
#pragma once
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "kernels/runtime.h"
#include "tensor/tensor.h"
#include "tests/gradcheck.h"

namespace radius::bench {

// A device tensor of uniform random values in [lo, hi).
inline Tensor random_device(const Shape& s, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  return Tensor::from_vector(s, test::random_floats(size_t(s.numel()), seed, lo, hi)).to(Device::cuda);
}

// Runs fn() once per benchmark iteration between two events on the Radius
// stream and reports the device time.
template <class F>
void time_device(benchmark::State& state, F&& fn) {
  cudaStream_t s = cuda::stream();
  cudaEvent_t a, b;
  RADIUS_CUDA_CHECK(cudaEventCreate(&a));
  RADIUS_CUDA_CHECK(cudaEventCreate(&b));
  fn();  // warm-up: module load, allocator cache, library handles
  fn();
  cuda::synchronize();
  for (auto _ : state) {
    RADIUS_CUDA_CHECK(cudaEventRecord(a, s));
    fn();
    RADIUS_CUDA_CHECK(cudaEventRecord(b, s));
    RADIUS_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    RADIUS_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    state.SetIterationTime(double(ms) / 1e3);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
}

inline void flop_counter(benchmark::State& state, double flop) {
  state.counters["TFLOP/s"] = benchmark::Counter(flop / 1e12, benchmark::Counter::kIsIterationInvariantRate);
}
inline void byte_counter(benchmark::State& state, double bytes) {
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// The paper model's convolutions at 150x150 input (models/paper.spec).
struct PaperConv {
  const char* name;
  int64_t c, h, w, k;
};
inline const std::vector<PaperConv>& paper_convs() {
  static const std::vector<PaperConv> convs = {
      {"conv1", 3, 150, 150, 32}, {"conv2", 32, 74, 74, 64}, {"conv3", 64, 36, 36, 128}, {"conv4", 128, 17, 17, 128}};
  return convs;
}

}  // namespace radius::bench
