// Our packed SGEMM (layers/gemm.h) against Eigen's, one thread, GFLOP/s:
// at 2048^3 (the ceiling), and at the GEMM shapes of the paper model's four
// convolutions, one lowered pixel block each, as conv2d calls them:
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

#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/gemm.h"
#include "layers/gemm_kernels.h"
#include "tensor/parallel.h"
#include "tensor/rng.h"

using namespace radius;

namespace {

std::vector<float> random(int64_t n, uint64_t seed) {
  Rng rng(seed, 0);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(-1, 1);
  return v;
}

struct Shape3 {
  Trans ta, tb;
  int64_t m, n, k;
  float beta;
};

enum class Impl { ours, packed, eigen };

void run(benchmark::State& state, Impl impl, const std::string& kernel, Shape3 s) {
  set_num_threads(1);
  if (!kernel.empty()) set_sgemm_kernel(kernel);
  const int64_t lda = s.ta == Trans::no ? s.k : s.m, ldb = s.tb == Trans::no ? s.n : s.k;
  const std::vector<float> a = random(s.m * s.k, 1), b = random(s.k * s.n, 2);
  std::vector<float> c = random(s.m * s.n, 3);
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
