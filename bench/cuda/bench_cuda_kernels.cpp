// GPU kernels, ours vs the vendor libraries, on one card in one run:
//   sgemm/*      our SGEMM vs cuBLAS (FP32, TF32 off) at 4096^3 and the paper
//                model's convolution GEMM shapes (batch 32)
//   conv*/*      each paper-model convolution at batch 32: forward,
//                backward-data, backward-filter; ours vs cuDNN (FMA math: no
//                TF32; the algorithm cuDNN's own search found fastest)
//   bw */*       bandwidth-bound kernels in GB/s vs a device-to-device copy that
//                moves the same number of bytes (read + written), the augmentation
//                warp among them
// cuBLAS and cuDNN are linked into this executable only, never into the library;
// each is optional (RADIUS_HAVE_CUBLAS / RADIUS_HAVE_CUDNN): without one, our
// kernels are still timed and the context says the baseline is absent.
//
//   build/bench_cuda_kernels --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdio>
#include <functional>
#include <stdexcept>

#ifdef RADIUS_HAVE_CUBLAS
#include <cublas_v2.h>
#endif
#ifdef RADIUS_HAVE_CUDNN
#include <cudnn.h>
#endif

#include "bench/cuda/cuda_bench.h"
#include "data/augment.h"
#include "kernels/activations.h"
#include "kernels/augment.h"
#include "kernels/conv2d.h"
#include "kernels/optim.h"
#include "kernels/pool2d.h"
#include "kernels/reduce.h"
#include "kernels/sgemm.h"
#include "layers/conv2d.h"
#include "net/device_batches.h"
#include "tensor/device_memory.h"

using namespace radius;
using namespace radius::bench;

namespace {

#ifdef RADIUS_HAVE_CUBLAS
#define CUBLAS_CHECK(call)                                                                       \
  do {                                                                                           \
    const cublasStatus_t s_ = (call);                                                            \
    if (s_ != CUBLAS_STATUS_SUCCESS)                                                             \
      throw std::runtime_error(std::string(#call) + " failed: cuBLAS status " + std::to_string(int(s_))); \
  } while (0)

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t created;
    CUBLAS_CHECK(cublasCreate(&created));
    CUBLAS_CHECK(cublasSetStream(created, cuda::stream()));
    CUBLAS_CHECK(cublasSetMathMode(created, CUBLAS_DEFAULT_MATH));  // FP32 FMA; TF32 is opt-in and off
    return created;
  }();
  return h;
}
#endif

// ---- SGEMM ---------------------------------------------------------------------------
// Row-major C[M,N] = A[M,K] B[K,N], batched with A shared (stride 0), as in conv forward.
struct GemmShape {
  std::string name;
  int64_t m, n, k, batch;
};

std::vector<GemmShape> gemm_shapes() {
  std::vector<GemmShape> s = {{"sgemm 4096x4096x4096", 4096, 4096, 4096, 1},
                              // The paper model's dense forward at batch 32: small-M tile, split-K.
                              {"sgemm dense fwd 32x512x6272", 32, 512, 6272, 1}};
  for (const PaperConv& c : paper_convs()) {
    const Conv2dGeom g = Conv2dGeom::make(c.c, c.h, c.w, c.k, 3, 3, 1, Padding::valid);
    s.push_back({"sgemm " + std::string(c.name) + " fwd " + std::to_string(g.k) + "x" + std::to_string(g.pixels()) +
                     "x" + std::to_string(g.patch()) + " b32",
                 g.k, g.pixels(), g.patch(), 32});
  }
  return s;
}

void gemm_bench(benchmark::State& state, GemmShape sh, bool ours) {
  const Tensor a = random_device(Shape{sh.m * sh.k}, 1);
  const Tensor b = random_device(Shape{sh.batch * sh.k * sh.n}, 2);
  Tensor c = random_device(Shape{sh.batch * sh.m * sh.n}, 3);
  const float one = 1.f, zero = 0.f;
  time_device(state, [&] {
    if (ours) {
      cuda::sgemm({.m = sh.m, .n = sh.n, .k = sh.k, .a = a.data(), .lda = sh.k, .b = b.data(), .ldb = sh.n,
                   .c = c.data(), .ldc = sh.n, .batch = sh.batch, .stride_b = sh.k * sh.n, .stride_c = sh.m * sh.n});
    } else {  // column-major view: C^T[N,M] = B^T[N,K] A^T[K,M]
#ifdef RADIUS_HAVE_CUBLAS
      CUBLAS_CHECK(cublasSgemmStridedBatched(cublas(), CUBLAS_OP_N, CUBLAS_OP_N, int(sh.n), int(sh.m), int(sh.k), &one,
                                             b.data(), int(sh.n), sh.k * sh.n, a.data(), int(sh.k), 0, &zero,
                                             c.data(), int(sh.n), sh.m * sh.n, int(sh.batch)));
#else
      (void)one, (void)zero;
      throw std::logic_error("cuBLAS baseline requested in a build without cuBLAS");
#endif
    }
  });
  flop_counter(state, 2.0 * double(sh.m) * double(sh.n) * double(sh.k) * double(sh.batch));
}

// ---- convolution layers ----------------------------------------------------------------
enum class Pass { forward, backward_data, backward_filter };
const char* pass_name(Pass p) {
  return p == Pass::forward ? "fwd" : p == Pass::backward_data ? "bwd-data" : "bwd-filter";
}

struct ConvBuffers {
  Conv2dGeom g;
  int64_t n;
  Tensor x, w, b, y, dy, dx, dw, db;
  explicit ConvBuffers(const PaperConv& c, int64_t batch)
      : g(Conv2dGeom::make(c.c, c.h, c.w, c.k, 3, 3, 1, Padding::valid)), n(batch) {
    x = random_device(Shape{n, g.c, g.h, g.w}, 11);
    w = random_device(Shape{g.k, g.c, g.kh, g.kw}, 12, -0.1f, 0.1f);
    b = random_device(Shape{g.k}, 13);
    y = random_device(Shape{n, g.k, g.oh, g.ow}, 14);
    dy = random_device(Shape{n, g.k, g.oh, g.ow}, 15);
    dx = random_device(Shape{n, g.c, g.h, g.w}, 16);
    dw = random_device(Shape{g.k, g.c, g.kh, g.kw}, 17);
    db = random_device(Shape{g.k}, 18);
  }
  double flop() const { return 2.0 * double(n) * double(g.k) * double(g.patch()) * double(g.pixels()); }
};

void conv_ours(benchmark::State& state, PaperConv c, Pass pass) {
  ConvBuffers t(c, 32);
  time_device(state, [&] {
    switch (pass) {
      case Pass::forward: cuda::conv2d_forward(t.g, t.n, t.x.data(), t.w.data(), t.b.data(), t.y.data()); break;
      case Pass::backward_data:
        cuda::conv2d_backward(t.g, t.n, t.x.data(), t.w.data(), t.dy.data(), t.dx.data(), nullptr, nullptr);
        break;
      case Pass::backward_filter:
        cuda::conv2d_backward(t.g, t.n, t.x.data(), t.w.data(), t.dy.data(), nullptr, t.dw.data(), nullptr);
        break;
    }
  });
  flop_counter(state, t.flop());
}

#ifdef RADIUS_HAVE_CUDNN
#define CUDNN_CHECK(call)                                                                       \
  do {                                                                                          \
    const cudnnStatus_t s_ = (call);                                                            \
    if (s_ != CUDNN_STATUS_SUCCESS)                                                             \
      throw std::runtime_error(std::string(#call) + " failed: " + cudnnGetErrorString(s_));     \
  } while (0)

cudnnHandle_t cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t created;
    CUDNN_CHECK(cudnnCreate(&created));
    CUDNN_CHECK(cudnnSetStream(created, cuda::stream()));
    return created;
  }();
  return h;
}

void conv_cudnn(benchmark::State& state, PaperConv c, Pass pass) {
  ConvBuffers t(c, 32);
  const Conv2dGeom& g = t.g;
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&xd));
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&yd));
  CUDNN_CHECK(cudnnCreateFilterDescriptor(&wd));
  CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&cd));
  CUDNN_CHECK(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(t.n), int(g.c), int(g.h), int(g.w)));
  CUDNN_CHECK(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(t.n), int(g.k), int(g.oh), int(g.ow)));
  CUDNN_CHECK(cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(g.k), int(g.c), int(g.kh), int(g.kw)));
  CUDNN_CHECK(cudnnSetConvolution2dDescriptor(cd, 0, 0, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  CUDNN_CHECK(cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH));  // FP32 FMA only: no TF32 tensor cores
  const size_t ws_bytes = size_t(1) << 30;
  void* ws = device_alloc(ws_bytes);
  const float one = 1.f, zero = 0.f;
  int returned = 0;
  std::string algo_name;
  std::function<void()> run;
  if (pass == Pass::forward) {
    cudnnConvolutionFwdAlgoPerf_t perf[16];
    CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(cudnn(), xd, t.x.data(), wd, t.w.data(), cd, yd, t.y.data(), 16,
                                                       &returned, perf, ws, ws_bytes));
    int pick = 0;
    while (pick < returned && (perf[pick].status != CUDNN_STATUS_SUCCESS || perf[pick].mathType == CUDNN_TENSOR_OP_MATH)) ++pick;
    if (pick == returned) throw std::runtime_error("cuDNN found no FP32 forward algorithm");
    const cudnnConvolutionFwdAlgo_t algo = perf[pick].algo;
    algo_name = "fwd algo " + std::to_string(int(algo));
    run = [&, algo] {
      CUDNN_CHECK(cudnnConvolutionForward(cudnn(), &one, xd, t.x.data(), wd, t.w.data(), cd, algo, ws, ws_bytes, &zero,
                                          yd, t.y.data()));
    };
  } else if (pass == Pass::backward_data) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[16];
    CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(cudnn(), wd, t.w.data(), yd, t.dy.data(), cd, xd,
                                                            t.dx.data(), 16, &returned, perf, ws, ws_bytes));
    int pick = 0;
    while (pick < returned && (perf[pick].status != CUDNN_STATUS_SUCCESS || perf[pick].mathType == CUDNN_TENSOR_OP_MATH)) ++pick;
    if (pick == returned) throw std::runtime_error("cuDNN found no FP32 backward-data algorithm");
    const cudnnConvolutionBwdDataAlgo_t algo = perf[pick].algo;
    algo_name = "bwd-data algo " + std::to_string(int(algo));
    run = [&, algo] {
      CUDNN_CHECK(cudnnConvolutionBackwardData(cudnn(), &one, wd, t.w.data(), yd, t.dy.data(), cd, algo, ws, ws_bytes,
                                               &zero, xd, t.dx.data()));
    };
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[16];
    CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(cudnn(), xd, t.x.data(), yd, t.dy.data(), cd, wd,
                                                              t.dw.data(), 16, &returned, perf, ws, ws_bytes));
    int pick = 0;
    while (pick < returned && (perf[pick].status != CUDNN_STATUS_SUCCESS || perf[pick].mathType == CUDNN_TENSOR_OP_MATH)) ++pick;
    if (pick == returned) throw std::runtime_error("cuDNN found no FP32 backward-filter algorithm");
    const cudnnConvolutionBwdFilterAlgo_t algo = perf[pick].algo;
    algo_name = "bwd-filter algo " + std::to_string(int(algo));
    // beta = 1: accumulate, as our backward does.
    run = [&, algo] {
      CUDNN_CHECK(cudnnConvolutionBackwardFilter(cudnn(), &one, xd, t.x.data(), yd, t.dy.data(), cd, algo, ws,
                                                 ws_bytes, &one, wd, t.dw.data()));
    };
  }
  time_device(state, run);
  flop_counter(state, t.flop());
  state.SetLabel(algo_name);
  device_free(ws);
  cudnnDestroyConvolutionDescriptor(cd);
  cudnnDestroyFilterDescriptor(wd);
  cudnnDestroyTensorDescriptor(yd);
  cudnnDestroyTensorDescriptor(xd);
}
#endif

// ---- bandwidth-bound kernels ---------------------------------------------------------------
// Each op reports the bytes it must move; the "copy" twin copies bytes/2 (a copy
// reads and writes each byte), so equal times mean copy bandwidth.
struct BwOp {
  std::string name;
  double bytes;
  std::function<void()> run;
};

std::vector<BwOp>& bw_ops() {
  static std::vector<BwOp> ops;
  if (!ops.empty()) return ops;
  // conv1's output at batch 32: [32, 32, 148, 148] = 22.4 M floats (90 MB, > L2).
  const int64_t n = int64_t(32) * 32 * 148 * 148;
  static Tensor x = random_device(Shape{n}, 21), y = random_device(Shape{n}, 22), dy = random_device(Shape{n}, 23),
                dx = random_device(Shape{n}, 24), mask = random_device(Shape{n}, 25);
  ops.push_back({"bw relu fwd", 8.0 * n, [] { cuda::relu_forward(x.numel(), x.data(), y.data()); }});
  ops.push_back({"bw relu bwd", 12.0 * n, [] { cuda::relu_backward(x.numel(), x.data(), dy.data(), dx.data()); }});
  ops.push_back({"bw sigmoid fwd", 8.0 * n, [] { cuda::sigmoid_forward(x.numel(), x.data(), y.data()); }});
  ops.push_back({"bw dropout mask+apply", 12.0 * n, [] {
                   cuda::dropout_mask(x.numel(), 0.5f, 1, 2, 3, mask.data());
                   cuda::dropout_apply(x.numel(), x.data(), mask.data(), y.data());
                 }});
  static const Pool2dGeom pg = Pool2dGeom::make(32, 148, 148, 2, 2, 2);
  static Tensor argmax = Tensor::empty(Shape{32 * 32 * 74 * 74}, Device::cuda);
  const double pool_out = 32.0 * 32 * 74 * 74;
  ops.push_back({"bw maxpool fwd", 4.0 * n + 8.0 * pool_out, [] {
                   cuda::maxpool2d_forward(pg, 32, x.data(), y.data(), reinterpret_cast<int32_t*>(argmax.data()));
                 }});
  ops.push_back({"bw maxpool bwd", 8.0 * pool_out + 4.0 * n, [] {
                   cuda::maxpool2d_backward(pg, 32, dy.data(), reinterpret_cast<const int32_t*>(argmax.data()),
                                            dx.data());
                 }});
  ops.push_back({"bw bias grad conv1", 4.0 * n, [] { cuda::bias_grad(32, 32, 148 * 148, dy.data(), y.data()); }});
  // Adam over the paper model's 3,453,121 parameters: reads w g m v, writes w m v.
  const int64_t p = 3453121;
  static Tensor w = random_device(Shape{p}, 31), g = random_device(Shape{p}, 32, -0.01f, 0.01f),
                m = random_device(Shape{p}, 33, -0.01f, 0.01f), v = random_device(Shape{p}, 34, 0.f, 1e-4f);
  ops.push_back({"bw adam 3.45M params", 28.0 * p, [] {
                   cuda::adam_update(w.numel(), w.data(), g.data(), m.data(), v.data(), 10, AdamConfig::keras());
                 }});
  // The augmentation warp of a paper batch: 32 images 150x150x3, uint8 HWC in (read
  // once; the 4 bilinear taps mostly hit L1/L2), float NCHW out: 1 + 4 bytes per element.
  {
    const int bn = 32, h = 150, wd = 150, c = 3;
    const int64_t elems = int64_t(bn) * h * wd * c;
    std::vector<uint8_t> px(static_cast<size_t>(elems));
    for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 2654435761u) >> 24);
    std::vector<cuda::WarpParams> params;
    for (int k = 0; k < bn; ++k) params.push_back(pack_warp(draw_params(AugmentConfig::paper(), h, wd, 7, 1, k), h, wd));
    static void* images = device_alloc(px.size());
    static void* dparams = device_alloc(params.size() * sizeof(cuda::WarpParams));
    device_copy(images, Device::cuda, px.data(), Device::cpu, px.size());
    device_copy(dparams, Device::cuda, params.data(), Device::cpu, params.size() * sizeof(cuda::WarpParams));
    static Tensor batch = Tensor::empty(Shape{bn, c, h, wd}, Device::cuda);
    ops.push_back({"bw augment warp b32 150x150x3", 5.0 * double(elems), [] {
                     cuda::augment_warp(32, 150, 150, 3, static_cast<const uint8_t*>(images),
                                        static_cast<const cuda::WarpParams*>(dparams), 1.0f / 255.0f, batch.data());
                   }});
  }
  return ops;
}

void bw_bench(benchmark::State& state, size_t i, bool copy) {
  BwOp& op = bw_ops()[i];
  if (!copy) {
    time_device(state, op.run);
  } else {
    const size_t half = size_t(op.bytes / 2);
    void* src = device_alloc(half);
    void* dst = device_alloc(half);
    time_device(state, [&] { RADIUS_CUDA_CHECK(cudaMemcpyAsync(dst, src, half, cudaMemcpyDeviceToDevice, cuda::stream())); });
    device_free(src);
    device_free(dst);
  }
  byte_counter(state, op.bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (!cuda_available()) {
    std::printf("bench_cuda_kernels: no CUDA device here (nothing to measure)\n");
    return 0;
  }
  const cuda::DeviceInfo& d = cuda::device_info();
  benchmark::AddCustomContext("gpu", d.name);
  benchmark::AddCustomContext("gpu_sms", std::to_string(d.sm_count));
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  benchmark::AddCustomContext("cuda_runtime", std::to_string(runtime));
#ifdef RADIUS_HAVE_CUDNN
  benchmark::AddCustomContext("cudnn", std::to_string(cudnnGetVersion()));
#else
  benchmark::AddCustomContext("cudnn", "absent");
#endif
#ifdef RADIUS_HAVE_CUBLAS
  int cublas_version = 0;
  CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &cublas_version));
  benchmark::AddCustomContext("cublas", std::to_string(cublas_version));
#else
  benchmark::AddCustomContext("cublas", "absent");
#endif

  for (const GemmShape& s : gemm_shapes()) {
    benchmark::RegisterBenchmark((s.name + "/ours").c_str(), gemm_bench, s, true)->UseManualTime()->Unit(benchmark::kMillisecond);
#ifdef RADIUS_HAVE_CUBLAS
    benchmark::RegisterBenchmark((s.name + "/cublas").c_str(), gemm_bench, s, false)->UseManualTime()->Unit(benchmark::kMillisecond);
#endif
  }
  for (const PaperConv& c : paper_convs())
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_filter}) {
      const std::string op = std::string(c.name) + " " + pass_name(p) + " b32";
      benchmark::RegisterBenchmark((op + "/ours").c_str(), conv_ours, c, p)->UseManualTime()->Unit(benchmark::kMillisecond);
#ifdef RADIUS_HAVE_CUDNN
      benchmark::RegisterBenchmark((op + "/cudnn").c_str(), conv_cudnn, c, p)->UseManualTime()->Unit(benchmark::kMillisecond);
#endif
    }
  for (size_t i = 0; i < bw_ops().size(); ++i) {
    const std::string& op = bw_ops()[i].name;
    benchmark::RegisterBenchmark((op + "/ours").c_str(), bw_bench, i, false)->UseManualTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((op + "/copy").c_str(), bw_bench, i, true)->UseManualTime()->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
