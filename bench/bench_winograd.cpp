// The forward convolution by F(2x2, 3x3) (layers/winograd.h) against the direct
// one (im2col + our packed SGEMM, layers/conv2d.h), at the paper model's 3x3
// convolutions with more than 3 input channels, batch 32, one thread, ms per batch:
//   build-dev/bench_winograd
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "layers/conv2d.h"
#include "layers/winograd.h"
#include "tensor/parallel.h"

using namespace radius;

namespace {

using bench::random_floats;

void run(benchmark::State& state, const Conv2dGeom& g, bool winograd) {
  set_num_threads(1);
  constexpr int64_t n = 32;
  const std::vector<float> x = random_floats(n * g.c * g.h * g.w, 1), w = random_floats(g.k * g.patch(), 2);
  const std::vector<float> b = random_floats(g.k, 3);
  std::vector<float> y(size_t(n * g.k * g.pixels()));
  for (auto _ : state) {
    if (winograd) conv2d_forward_winograd(g, n, x.data(), w.data(), b.data(), y.data(), true);
    else conv2d_forward(g, n, x.data(), w.data(), b.data(), y.data(), true);
    benchmark::ClobberMemory();
  }
  // The direct convolution's FLOPs, for both: the rate says how fast the layer is done.
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(n * g.k * g.patch() * g.pixels()),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  const int64_t layers[][4] = {{32, 74, 74, 64}, {64, 36, 36, 128}, {128, 17, 17, 128}};
  for (int l = 0; l < 3; ++l) {
    const auto* d = layers[l];
    const Conv2dGeom g = Conv2dGeom::make(d[0], d[1], d[2], d[3], 3, 3, 1, Padding::valid);
    const std::string name = "conv" + std::to_string(l + 2) + "_" + std::to_string(g.c) + "to" + std::to_string(g.k);
    for (bool winograd : {false, true})
      benchmark::RegisterBenchmark((name + (winograd ? "/winograd" : "/im2col")).c_str(),
                                   [=](benchmark::State& st) { run(st, g, winograd); })
          ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
