// Our packed SGEMM (layers/gemm.h) against Eigen's, one thread, GFLOP/s:
// the core's peak FMA rate (the true ceiling: independent FMAs on registers
// only, per instruction set), 2048^3, and the GEMM shapes of the paper model's
// four convolutions, one lowered pixel block each, as conv2d calls them:
//   forward          y  [K, nb]     = W [K, patch] x col [patch, nb]      (no, no)
//   backward_data    dcol [patch, nb] = W^T x dy [K, nb]                   (yes, no)
//   backward_filter  dW [K, patch] += dy [K, nb] x col^T                   (no, yes, beta 1)
// "packed" is ours with the weights packed once outside the timed loop, as the
// convolution does once per layer call. Ours runs once per micro-kernel this CPU
// has ("ours-avx512", "ours-avx2", ...: layers/gemm_kernels.h), side by side.
//
//   build-dev/bench_gemm                               # everything
//   nice -n 10 build-dev/bench_gemm --benchmark_filter='conv3'
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RADIUS_BENCH_X86 1
#endif

#include "bench/bench_common.h"
#include "layers/conv2d.h"
#include "layers/gemm.h"
#include "layers/gemm_kernels.h"
#include "tensor/parallel.h"

using namespace radius;

namespace {

using bench::random_floats;

struct Shape3 {
  Trans ta, tb;
  int64_t m, n, k;
  float beta;
};

enum class Impl { ours, packed, eigen };

// ---- the peak: FMAs on 16 independent register accumulators, no memory --------
// 16 chains cover the FMA latency (4 cycles) on two pipes with room to spare,
// so the loop runs at the core's FMA throughput: FLOP/s = 2 x lanes x FMAs/s.
#ifdef RADIUS_BENCH_X86
// acc = 0.999 * acc + 1 on every lane: it settles near 1000 (no overflow, no
// denormals), and the result is used, so the compiler cannot drop the loop.
__attribute__((target("avx512f"))) float fma_peak_avx512(int64_t steps) {
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1.0f);
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i));
  for (int64_t s = 0; s < steps; ++s) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(a, acc[i], b);
  }
  for (int i = 1; i < 16; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
  return _mm512_reduce_add_ps(acc[0]);
}
__attribute__((target("avx2,fma"))) float fma_peak_avx2(int64_t steps) {
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1.0f);
  __m256 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm256_set1_ps(float(i));
  for (int64_t s = 0; s < steps; ++s) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm256_fmadd_ps(a, acc[i], b);
  }
  for (int i = 1; i < 16; ++i) acc[0] = _mm256_add_ps(acc[0], acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, acc[0]);
  return lanes[0] + lanes[7];
}

void peak(benchmark::State& state, float (*loop)(int64_t), int lanes) {
  set_num_threads(1);
  constexpr int64_t kSteps = 1 << 20;
  for (auto _ : state) {
    int64_t steps = kSteps;
    benchmark::DoNotOptimize(steps);  // else the call, the same every time, is hoisted out of the loop
    benchmark::DoNotOptimize(loop(steps));
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * lanes * 16 * double(kSteps), benchmark::Counter::kIsIterationInvariantRate);
}
#endif

void run(benchmark::State& state, Impl impl, const std::string& kernel, Shape3 s) {
  set_num_threads(1);
  if (!kernel.empty()) set_sgemm_kernel(kernel);
  const int64_t lda = s.ta == Trans::no ? s.k : s.m, ldb = s.tb == Trans::no ? s.n : s.k;
  const std::vector<float> a = random_floats(s.m * s.k, 1), b = random_floats(s.k * s.n, 2);
  std::vector<float> c = random_floats(s.m * s.n, 3);
  PackedA pa;
  if (impl == Impl::packed) pa.pack(s.ta, s.m, s.k, a.data(), lda);
  for (auto _ : state) {
    if (impl == Impl::ours) sgemm(s.ta, s.tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, s.beta, c.data(), s.n);
    if (impl == Impl::packed) sgemm_packed(pa, s.tb, s.n, b.data(), ldb, s.beta, c.data(), s.n);
    if (impl == Impl::eigen)
      sgemm_eigen(s.ta, s.tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, s.beta, c.data(), s.n);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(s.m * s.n * s.k), benchmark::Counter::kIsIterationInvariantRate);
}

void add_one(const std::string& name, Impl impl, const std::string& kernel, Shape3 s) {
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) { run(st, impl, kernel, s); })
      ->Unit(benchmark::kMillisecond);
}

void add(const std::string& name, Shape3 s) {
  for (Impl impl : {Impl::ours, Impl::packed}) {
    if (impl == Impl::packed && name == "2048") continue;
    for (const std::string& kernel : sgemm_kernels_here())
      add_one(name + "/" + (impl == Impl::ours ? "ours-" : "packed-") + kernel, impl, kernel, s);
  }
  add_one(name + "/eigen", Impl::eigen, "", s);
}

// The paper model's convolutions (models/paper.spec): 150x150x3 input, 3x3
// kernels, valid padding, each followed by a 2x2 max-pool.
void register_all() {
#ifdef RADIUS_BENCH_X86
  for (const std::string& kernel : sgemm_kernels_here()) {
    if (kernel == "avx512")
      benchmark::RegisterBenchmark("peak/fma-avx512", [](benchmark::State& st) { peak(st, fma_peak_avx512, 16); });
    if (kernel == "avx2")
      benchmark::RegisterBenchmark("peak/fma-avx2", [](benchmark::State& st) { peak(st, fma_peak_avx2, 8); });
  }
#endif
  add("2048", {Trans::no, Trans::no, 2048, 2048, 2048, 0.0f});
  const int64_t layers[][4] = {{3, 150, 150, 32}, {32, 74, 74, 64}, {64, 36, 36, 128}, {128, 17, 17, 128}};
  for (int l = 0; l < 4; ++l) {
    const auto* d = layers[l];
    const Conv2dGeom g = Conv2dGeom::make(d[0], d[1], d[2], d[3], 3, 3, 1, Padding::valid);
    const int64_t nb = conv2d_block_pixels(g);
    const std::string conv = "conv" + std::to_string(l + 1) + "_" + std::to_string(g.k) + "x" +
                             std::to_string(g.patch()) + "x" + std::to_string(nb);
    add(conv + "/forward", {Trans::no, Trans::no, g.k, nb, g.patch(), 0.0f});
    if (l > 0) add(conv + "/backward_data", {Trans::yes, Trans::no, g.patch(), nb, g.k, 0.0f});
    add(conv + "/backward_filter", {Trans::no, Trans::yes, g.k, g.patch(), nb, 1.0f});
    // The same product transposed, dW^T [patch, K] += col [patch, nb] x dy^T: the better tile fit when K is small.
    add(conv + "/backward_filter_t", {Trans::no, Trans::yes, g.patch(), g.k, nb, 1.0f});
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("sgemm kernel (default)", sgemm_kernel_name());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
