// Per-layer CPU profile of a model spec (the seed paper's model by default) at
// batch 32: every layer's forward and backward on the real activations, the
// convolutions split into forward / backward-data / backward-filter, and the
// Adam pass over the flat buffers. Counters: GFLOP/s and the share of the Eigen
// SGEMM rate measured in the same run ("%sgemm", bench_common.h) for the
// convolutions and dense layers; GB/s of compulsory traffic for the rest.
//
//   build-dev/bench_layers                         # all layers, 1 and 2 threads
//   build-dev/bench_layers --benchmark_filter=conv # only the convolutions
//
// Before the benchmarks it prints the cost table (FLOP and bytes per layer per
// image, computed from the spec) that docs/performance.md quotes.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "bench/bench_common.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/registry.h"
#include "net/spec.h"
#include "optim/adam.h"

using namespace radius;

namespace {

constexpr int64_t kBatch = 32;

// The model with one forward pass done, random output gradients per layer, and
// input-gradient buffers: every layer can then be run alone on real data.
struct Fixture {
  std::unique_ptr<Sequential> model;
  Tensor x;
  std::vector<Tensor> dy, dx;

  static Fixture& get() {
    static Fixture f = [] {
      Fixture f;
      f.model = load_model_spec(RADIUS_SOURCE_DIR "/models/paper.spec");
      f.model->init(1);
      Rng rng(3, 0);
      auto random = [&](const Shape& s) {
        Tensor t = Tensor::empty(s);
        for (int64_t i = 0; i < t.numel(); ++i) t.cpu()[i] = rng.uniform(-1, 1);
        return t;
      };
      f.x = random(f.model->input_shape().with_batch(kBatch));
      for (int64_t i = 0; i < f.x.numel(); ++i) f.x.cpu()[i] = 0.5f * (f.x.cpu()[i] + 1);  // pixels in [0, 1]
      f.model->forward(f.x, Mode::train);
      for (size_t i = 0; i < f.body(); ++i) {
        f.dy.push_back(random(f.model->layer_output(i).with_batch(kBatch)));
        f.dx.push_back(Tensor::empty(f.in_shape(i).with_batch(kBatch)));
      }
      return f;
    }();
    return f;
  }
  size_t body() const { return model->has_sigmoid_head() ? model->size() - 1 : model->size(); }
  Shape in_shape(size_t i) const { return i == 0 ? model->input_shape() : model->layer_output(i - 1); }
  const Tensor& input(size_t i) const { return i == 0 ? x : model->activation(i - 1); }
  Tensor output(size_t i) const { return model->activation(i); }
  const float* param(size_t i, const char* name) const {
    const std::string full = std::to_string(i) + "." + name;
    for (const NamedParam& p : model->named_params())
      if (p.name == full) return p.value.cpu();
    return nullptr;
  }
  float* grad(size_t i, const char* name) const {
    const std::string full = std::to_string(i) + "." + name;
    for (const NamedParam& p : model->named_params())
      if (p.name == full) return const_cast<Tensor&>(p.grad).cpu();
    return nullptr;
  }
};

// Runs `body` per iteration at `threads` threads; flop/bytes are per batch.
void run(benchmark::State& state, int threads, double flop, double bytes, const std::function<void()>& body) {
  const double sgemm = bench::sgemm_gflops(threads);
  set_num_threads(threads);
  body();  // warm-up: scratch buffers sized once
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) body();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double per_second = double(state.iterations()) / seconds;
  if (flop > 0) {
    state.counters["GFLOP/s"] = per_second * flop / 1e9;
    state.counters["%sgemm"] = 100.0 * per_second * flop / 1e9 / sgemm;
  }
  if (bytes > 0) state.counters["GB/s"] = per_second * bytes / 1e9;
}

// printf-style benchmark names (GCC 12 warns falsely, -Wrestrict, on chains of string +).
template <class... A> std::string bench_name(const char* format, A... args) {
  char buf[128];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

double conv_gemm_flop(const Conv2dGeom& g) { return 2.0 * double(g.k * g.patch() * g.pixels()) * kBatch; }

void register_conv(size_t i, const Conv2D& conv, int threads) {
  const Conv2dGeom g = conv.geom();
  const std::string name = bench_name("L%zu_conv2d_%lldx%lldx%lld/", i, (long long)g.k, (long long)g.oh, (long long)g.ow);
  const std::string tail = bench_name("/threads:%d", threads);
  benchmark::RegisterBenchmark((name + "forward" + tail).c_str(), [=](benchmark::State& s) {
    Fixture& f = Fixture::get();
    Tensor y = f.output(i);
    run(s, threads, conv_gemm_flop(g), 0, [&] {
      conv2d_forward(g, kBatch, f.input(i).cpu(), f.param(i, "weight"), f.param(i, "bias"), y.cpu());
    });
  });
  if (i > 0)  // the first layer's input needs no gradient
    benchmark::RegisterBenchmark((name + "backward_data" + tail).c_str(), [=](benchmark::State& s) {
      Fixture& f = Fixture::get();
      run(s, threads, conv_gemm_flop(g), 0, [&] {
        conv2d_backward<float>(g, kBatch, f.input(i).cpu(), f.param(i, "weight"), f.dy[i].cpu(), f.dx[i].cpu(),
                               nullptr, nullptr);
      });
    });
  benchmark::RegisterBenchmark((name + "backward_filter" + tail).c_str(), [=](benchmark::State& s) {
    Fixture& f = Fixture::get();
    run(s, threads, conv_gemm_flop(g), 0, [&] {
      conv2d_backward<float>(g, kBatch, f.input(i).cpu(), f.param(i, "weight"), f.dy[i].cpu(), nullptr,
                             f.grad(i, "weight"), f.grad(i, "bias"));
    });
  });
}

// Any other layer through the Layer interface: forward, then backward.
void register_layer(size_t i, Layer& layer, int threads) {
  Fixture& f0 = Fixture::get();
  // Compulsory traffic: forward reads x, writes y; backward reads x and dy, writes dx.
  const double in_bytes = 4.0 * double(f0.in_shape(i).numel() * kBatch);
  const double out_bytes = 4.0 * double(f0.model->layer_output(i).numel() * kBatch);
  // Dense layers are GEMMs (reported in GFLOP/s); the rest move memory (reported in GB/s).
  const double flop = kind_of(layer).gemm ? double(layer.flops(f0.in_shape(i))) * kBatch : 0;
  const double bytes = flop > 0 ? 0 : in_bytes + out_bytes;
  const std::string name = bench_name("L%zu_%s/", i, layer.kind().c_str());
  const std::string tail = bench_name("/threads:%d", threads);
  benchmark::RegisterBenchmark((name + "forward" + tail).c_str(), [=, &layer](benchmark::State& s) {
    Fixture& f = Fixture::get();
    Tensor y = f.output(i);
    run(s, threads, flop, bytes, [&] { layer.forward(f.input(i), y, Mode::train); });
  });
  benchmark::RegisterBenchmark((name + "backward" + tail).c_str(), [=, &layer](benchmark::State& s) {
    Fixture& f = Fixture::get();
    Tensor dx = i == 0 ? Tensor() : f.dx[i];
    run(s, threads, 2 * flop, bytes > 0 ? bytes + in_bytes : 0,
        [&] { layer.backward(f.input(i), f.output(i), f.dy[i], dx); });
  });
}

void register_adam(int threads) {
  benchmark::RegisterBenchmark(bench_name("adam/threads:%d", threads).c_str(), [=](benchmark::State& s) {
    Fixture& f = Fixture::get();
    Adam adam;
    const double bytes = 4.0 * double(f.model->num_params()) * 7;  // reads w g m v, writes w m v
    run(s, threads, 0, bytes, [&] { adam.step(f.model->params(), f.model->grads()); });
  });
}

void register_sgemm(int threads) {
  benchmark::RegisterBenchmark(bench_name("sgemm_2048/threads:%d", threads).c_str(),
                               [=](benchmark::State& s) {
                                 for (auto _ : s) benchmark::DoNotOptimize(bench::sgemm_gflops(threads));
                                 s.counters["GFLOP/s"] = bench::sgemm_gflops(threads);
                               })
      ->Iterations(1);
}

// FLOP and compulsory bytes per image, per layer, from the spec.
void print_cost_table(const Fixture& f) {
  std::printf("# per image, batch %lld: layer, output, forward MFLOP, backward MFLOP, activation KB (output)\n",
              (long long)kBatch);
  double fwd = 0, bwd = 0;
  for (size_t i = 0; i < f.body(); ++i) {
    const Layer& l = f.model->layer(i);
    const double flop = double(l.flops(f.in_shape(i)));
    // Convolutions and dense layers: backward = backward-data (skipped for layer 0) + backward-filter.
    const bool gemm = kind_of(l).gemm;
    const double back = gemm ? flop * (i == 0 ? 1 : 2) : flop;
    fwd += flop, bwd += back;
    std::printf("# %-3zu %-10s %-16s %10.1f %10.1f %10.1f\n", i, l.kind().c_str(),
                f.model->layer_output(i).str().c_str(), flop / 1e6, back / 1e6,
                4.0 * double(f.model->layer_output(i).numel()) / 1024);
  }
  std::printf("# total forward %.3f GFLOP, backward %.3f GFLOP, step %.3f GFLOP per image\n", fwd / 1e9, bwd / 1e9,
              (fwd + bwd) / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Fixture& f = Fixture::get();
  print_cost_table(f);
  for (int threads : {1, 2}) {
    register_sgemm(threads);
    for (size_t i = 0; i < f.body(); ++i) {
      Layer& layer = f.model->layer(i);
      if (const Conv2D* conv = as_conv2d(layer)) register_conv(i, *conv, threads);
      else register_layer(i, layer, threads);
    }
    register_adam(threads);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
