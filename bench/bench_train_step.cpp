// One CPU training step of the seed paper's model at batch 32: zero_grad,
// forward (dropout on), BCE, backward, Adam. Reports images/s, the model FLOP
// rate (a training step counted as 3x the forward FLOPs: forward, backward-data,
// backward-filter, the convention of shared/notes/performance.md), that rate as a
// share of the Eigen SGEMM rate measured in the same process ("%sgemm"), CPU
// seconds per step and the process's peak RSS. Also batch inference (eval mode,
// probabilities) in images/s.
//
//   build-dev/bench_train_step                                   # everything
//   build-dev/bench_train_step --benchmark_filter='Step.*threads:1/'
//
// scripts/compare_pytorch.py runs the same step in PyTorch next to it.
#include <benchmark/benchmark.h>

#include <chrono>

#include "bench/bench_common.h"
#include "data/bars.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"

using namespace radius;

namespace {

struct PaperModel {
  std::unique_ptr<Sequential> model;
  ToyBatch data;
  explicit PaperModel(int64_t batch) : model(load_model_spec(RADIUS_SOURCE_DIR "/models/paper.spec")) {
    model->init(1);
    model->set_fusion(bench::fusion_from_env());
    const Shape& in = model->input_shape();
    data = make_bar_images(batch, in[0], in[1], in[2], 7);
  }
};

void BM_TrainStep(benchmark::State& state) {
  const int threads = int(state.range(0));
  const int64_t batch = state.range(1);
  const double sgemm = bench::sgemm_gflops(threads);  // before the model: its matrices are freed again
  set_num_threads(threads);
  PaperModel m(batch);
  Adam adam;
  Trainer trainer(*m.model, adam);
  trainer.step(m.data.images, m.data.labels);  // warm-up: buffers and scratch sized once
  const double cpu0 = bench::process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step(m.data.images, m.data.labels).loss);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double steps = double(state.iterations()), images = steps * double(batch);
  const double gflop_per_s = images * 3.0 * double(m.model->forward_flops()) / 1e9 / seconds;
  state.counters["images/s"] = images / seconds;
  state.counters["GFLOP/s"] = gflop_per_s;
  state.counters["%sgemm"] = 100.0 * gflop_per_s / sgemm;
  state.counters["sgemm_GFLOP/s"] = sgemm;
  // CPU seconds per step (all threads): a steadier measure than wall time on a busy machine.
  state.counters["cpu_s/step"] = (bench::process_cpu_seconds() - cpu0) / steps;
  state.counters["peak_rss_MB"] = bench::peak_rss_mb();
}
BENCHMARK(BM_TrainStep)
    ->Name("Step")
    ->ArgNames({"threads", "batch"})
    ->Args({1, 32})
    ->Args({2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

// Batch inference: probabilities in eval mode (no dropout, no gradients).
void BM_Inference(benchmark::State& state) {
  const int threads = int(state.range(0));
  const int64_t batch = state.range(1);
  set_num_threads(threads);
  PaperModel m(batch);
  m.model->predict(m.data.images);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(m.model->predict(m.data.images));
  const double images = double(state.iterations()) * double(batch);
  state.counters["images/s"] = benchmark::Counter(images, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(images * double(m.model->forward_flops()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Inference)
    ->Name("Inference")
    ->ArgNames({"threads", "batch"})
    ->Args({1, 32})
    ->Args({2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
