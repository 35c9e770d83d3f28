// One CPU training step of a model spec (the seed paper's model by default) at
// batch 32: zero_grad, forward, BCE, backward, Adam. Reports images/s and the
// model FLOP rate, counting a training step as 3x the forward FLOPs (forward,
// backward-data, backward-filter: the convention of shared/notes/performance.md).
//
//   build/bench_train_step --benchmark_min_time=5
#include <benchmark/benchmark.h>

#include "data/bars.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "tensor/parallel.h"

using namespace radius;

static void BM_TrainStepPaperModel(benchmark::State& state) {
  const int threads = int(state.range(0));
  const int64_t batch = state.range(1);
  set_num_threads(threads);
  auto model = load_model_spec(RADIUS_SOURCE_DIR "/models/paper.spec");
  model->init(1);
  Adam adam;
  Trainer trainer(*model, adam);
  const Shape& in = model->input_shape();
  const ToyBatch data = make_bar_images(batch, in[0], in[1], in[2], 7);
  trainer.step(data.images, data.labels);  // warm-up: buffers and scratch sized once
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step(data.images, data.labels).loss);
  const double images = double(state.iterations()) * double(batch);
  state.counters["images/s"] = benchmark::Counter(images, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(images * 3.0 * double(model->forward_flops()) / 1e9, benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
}
BENCHMARK(BM_TrainStepPaperModel)
    ->ArgNames({"threads", "batch"})
    ->Args({1, 32})
    ->Args({2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

BENCHMARK_MAIN();
