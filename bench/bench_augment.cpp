// Augmentation throughput on one core: 150x150x3 uint8 HWC -> CHW float, the paper's
// settings (draw_params + apply_affine per image). Reports images/s as "items_per_second".
#include <benchmark/benchmark.h>
#include <omp.h>

#include <vector>

#include "data/augment.h"

namespace {

std::vector<uint8_t> pattern(int h, int w, int c) {
  std::vector<uint8_t> img(size_t(h) * w * c);
  for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t((i * 2654435761u) >> 24);
  return img;
}

void BM_AugmentPaper(benchmark::State& state) {
  const int h = int(state.range(0)), w = h, c = 3;
  const auto img = pattern(h, w, c);
  std::vector<float> out(img.size());
  const auto cfg = radius::AugmentConfig::paper();
  uint64_t index = 0;
  for (auto _ : state) {
    const auto p = radius::draw_params(cfg, h, w, 1, 0, index++);
    radius::apply_affine(p, img.data(), h, w, c, out.data(), cfg.rescale);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());  // images/s
}
BENCHMARK(BM_AugmentPaper)->Arg(150)->Arg(224);

// Validation path: rescale only (identity warp).
void BM_AugmentNone(benchmark::State& state) {
  const int h = 150, w = 150, c = 3;
  const auto img = pattern(h, w, c);
  std::vector<float> out(img.size());
  for (auto _ : state) {
    radius::apply_affine(radius::AffineParams{}, img.data(), h, w, c, out.data(), 1.0f / 255.0f);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AugmentNone);

// A batch of 32 through augment_batch with all available threads.
void BM_AugmentBatch32(benchmark::State& state) {
  const int h = 150, w = 150, c = 3, n = 32;
  const auto img = pattern(h, w, c);
  std::vector<const uint8_t*> ptrs(n, img.data());
  std::vector<uint64_t> indices(n);
  radius::Tensor batch = radius::Tensor::empty({n, c, h, w});
  uint64_t epoch = 0;
  for (auto _ : state) {
    for (int k = 0; k < n; ++k) indices[k] = uint64_t(k);
    radius::augment_batch(radius::AugmentConfig::paper(), ptrs, indices, h, w, c, 1, epoch++ % 1000, batch);
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["threads"] = omp_get_max_threads();
}
BENCHMARK(BM_AugmentBatch32)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
