// Loader throughput from the in-memory cache: ready NCHW float batches of 32 at
// 150x150x3, with the paper's augmentation (train) or rescale only (val/test), for 1 and 2
// worker threads. "items_per_second" = images/s delivered to the consumer, which does
// nothing else (the ceiling the training loop can draw from). Issue target: >= 1,000
// augmented images/s on 2 cores.
//
// Also the one-off cache build (decode + nearest resize of synthetic JPEG/PNG radiographs,
// 180..320 px sides) per decode thread count.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "data/dataset.h"
#include "data/image_cache.h"
#include "data/loader.h"
#include "data/synth_dataset.h"
#include "tensor/rng.h"

namespace {

using namespace radius;

const ImageCache& bench_cache() {
  static const ImageCache cache = [] {
    const int n = 256, h = 150, w = 150, c = 3;
    std::vector<uint8_t> px(size_t(n) * h * w * c);
    Rng rng(1, 1);
    for (auto& p : px) p = uint8_t(rng.next_u32());
    std::vector<int> labels(n);
    for (int k = 0; k < n; ++k) labels[k] = k % 2;
    return ImageCache::from_pixels(std::move(px), std::move(labels), h, w, c);
  }();
  return cache;
}

void run_loader(benchmark::State& state, const AugmentConfig& augment) {
  const ImageCache& cache = bench_cache();
  std::vector<size_t> items(size_t(cache.size()));
  for (size_t k = 0; k < items.size(); ++k) items[k] = k;
  LoaderOptions o;
  o.batch_size = 32;
  o.augment = augment;
  o.seed = 7;
  o.workers = int(state.range(0));
  o.queue_depth = 4;
  Loader loader(cache, items, o);
  uint64_t epoch = 0;
  loader.start_epoch(epoch);
  Batch b;
  int64_t images = 0;
  for (auto _ : state) {
    if (!loader.next(b)) {
      loader.start_epoch(++epoch);
      loader.next(b);
    }
    images += b.size();
    benchmark::DoNotOptimize(b.images.data());
  }
  state.SetItemsProcessed(images);
  state.counters["workers"] = double(o.workers);
}

void BM_LoaderAugmented(benchmark::State& state) { run_loader(state, AugmentConfig::paper()); }
BENCHMARK(BM_LoaderAugmented)->Arg(1)->Arg(2)->UseRealTime()->MinTime(3.0);

void BM_LoaderRescaleOnly(benchmark::State& state) { run_loader(state, AugmentConfig::none()); }
BENCHMARK(BM_LoaderRescaleOnly)->Arg(1)->Arg(2)->UseRealTime()->MinTime(2.0);

void BM_CacheBuild(benchmark::State& state) {
  static const auto dir = std::filesystem::temp_directory_path() / "radius_bench_loader_synth";
  static const Dataset ds = [] {
    std::filesystem::remove_all(dir);
    write_synthetic_dataset(dir.string(), {64, 0, 0}, 3);
    return list_dataset(dir.string());
  }();
  static const struct Cleanup {
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup;
  ImageCacheOptions o;
  o.threads = int(state.range(0));
  int64_t images = 0;
  for (auto _ : state) {
    const ImageCache cache(ds, o);
    images += cache.size();
    benchmark::DoNotOptimize(cache.image(0));
  }
  state.SetItemsProcessed(images);
  state.counters["threads"] = double(o.threads);
}
BENCHMARK(BM_CacheBuild)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
