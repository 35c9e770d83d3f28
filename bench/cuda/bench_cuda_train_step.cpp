// The whole training step of the paper model on the GPU at batch 32 (zero_grad,
// forward, BCE, backward, Adam; the loss scalar is the only copy back), in
// images/s. Compare with scripts/torch_step.py's PyTorch eager step on the same
// card (scripts/gpu_check.sh runs both).
//
// Timed with the host clock (each step ends with the loss copy, which waits for
// the GPU), so launch overhead counts, as it does for PyTorch.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "data/bars.h"
#include "kernels/runtime.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "tensor/device_memory.h"

using namespace radius;

static void BM_TrainStepPaperModelCuda(benchmark::State& state) {
  const int64_t batch = 32;
  auto model = load_model_spec(RADIUS_SOURCE_DIR "/models/paper.spec");
  model->init(1);
  model->to(Device::cuda);
  Adam adam;
  Trainer trainer(*model, adam);
  const Shape& in = model->input_shape();
  const ToyBatch data = make_bar_images(batch, in[0], in[1], in[2], 7);
  const Tensor x = data.images.to(Device::cuda), y = data.labels.to(Device::cuda);
  for (int i = 0; i < 3; ++i) trainer.step(x, y);  // warm-up: buffers, scratch, allocator cache
  const int64_t mallocs = cuda::allocator_stats().device_mallocs;
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step(x, y).loss);
  const double images = double(state.iterations()) * double(batch);
  state.counters["images/s"] = benchmark::Counter(images, benchmark::Counter::kIsRate);
  state.counters["TFLOP/s"] =
      benchmark::Counter(images * 3.0 * double(model->forward_flops()) / 1e12, benchmark::Counter::kIsRate);
  state.counters["cudaMalloc_in_loop"] = double(cuda::allocator_stats().device_mallocs - mallocs);
}
BENCHMARK(BM_TrainStepPaperModelCuda)->Name("train step paper b32/ours")->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

int main(int argc, char** argv) {
  if (!cuda_available()) {
    std::printf("bench_cuda_train_step: no CUDA device here (nothing to measure)\n");
    return 0;
  }
  benchmark::AddCustomContext("gpu", cuda::device_info().name);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
