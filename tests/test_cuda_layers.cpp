// Every layer, CPU vs CUDA, through the Layer API (forward, backward, parameter
// gradients accumulated onto non-zero starting values), at odd shapes, sizes
// that are not multiples of the GEMM tiles, and batch 1 and 32.
#include <memory>
#include <vector>

#include "layers/activations.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/pool2d.h"
#include "tests/cuda_util.h"

using namespace radius;
using namespace radius::test;

namespace {

// One layer bound to CPU parameters and a twin bound to copies on the GPU.
struct Twin {
  std::unique_ptr<Layer> cpu, gpu;
  std::vector<Param> p_cpu, p_gpu;
  Shape in, out;
};

template <class Make>
Twin make_twin(Make make, const Shape& in, uint64_t seed) {
  Twin t{make(), make(), {}, {}, in, {}};
  t.out = t.cpu->build(in);
  t.gpu->build(in);
  uint64_t s = seed;
  for (const ParamSpec& spec : t.cpu->param_specs()) {
    Param c{random_cpu(spec.shape, ++s, -0.5f, 0.5f), random_cpu(spec.shape, ++s, -0.1f, 0.1f)};
    t.p_gpu.push_back({c.value.to(Device::cuda), c.grad.to(Device::cuda)});
    t.p_cpu.push_back(c);
  }
  t.cpu->bind(t.p_cpu);
  t.gpu->bind(t.p_gpu);
  return t;
}

// Runs forward + backward on both devices and checks every output.
void check_twin(Twin& t, int64_t n, uint64_t seed, const std::string& what, float lo = -1.0f, float hi = 1.0f) {
  CAPTURE(what);
  CAPTURE(n);
  const Tensor x = random_cpu(t.in.with_batch(n), seed, lo, hi);
  const Tensor xg = x.to(Device::cuda);
  Tensor y = Tensor::empty(t.out.with_batch(n));
  Tensor yg = poisoned_cuda(t.out.with_batch(n));
  t.cpu->forward(x, y, Mode::train);
  t.gpu->forward(xg, yg, Mode::train);
  CHECK(rel_error(y, yg) < kCudaTolerance);

  const Tensor dy = random_cpu(t.out.with_batch(n), seed + 1);
  const Tensor dyg = dy.to(Device::cuda);
  Tensor dx = Tensor::empty(t.in.with_batch(n));
  Tensor dxg = poisoned_cuda(t.in.with_batch(n));
  t.cpu->backward(x, y, dy, dx);
  t.gpu->backward(xg, yg, dyg, dxg);
  CHECK(rel_error(dx, dxg) < kCudaTolerance);
  for (size_t i = 0; i < t.p_cpu.size(); ++i) {
    CAPTURE(i);
    CHECK(rel_error(t.p_cpu[i].grad, t.p_gpu[i].grad) < kCudaTolerance);
  }
}

std::vector<int64_t> batches() { return small_tests() ? std::vector<int64_t>{1, 3} : std::vector<int64_t>{1, 32}; }

}  // namespace

TEST_CASE("cuda: conv2d matches the CPU (valid/same, stride 1/2, odd sizes)") {
  RADIUS_SKIP_WITHOUT_CUDA();
  struct Case { int64_t c, h, w, k, kh, kw, stride; Padding pad; };
  std::vector<Case> cases = {{3, 17, 13, 5, 3, 3, 1, Padding::valid}, {2, 9, 11, 7, 3, 2, 2, Padding::same},
                             {1, 5, 5, 1, 1, 1, 1, Padding::valid}};
  if (!small_tests()) {
    cases.push_back({3, 40, 37, 32, 3, 3, 1, Padding::valid});   // paper conv1-like, not tile multiples
    cases.push_back({32, 19, 19, 64, 3, 3, 1, Padding::valid});  // paper conv2-like
    cases.push_back({13, 23, 21, 129, 5, 5, 2, Padding::same});  // K just over a 128 tile
  }
  uint64_t seed = 100;
  for (const Case& cc : cases)
    for (int64_t n : batches()) {
      Twin t = make_twin([&] { return std::make_unique<Conv2D>(cc.k, cc.kh, cc.kw, cc.stride, cc.pad); },
                         Shape{cc.c, cc.h, cc.w}, seed);
      check_twin(t, n, seed += 10, "conv2d " + t.cpu->describe() + " on " + Shape{cc.c, cc.h, cc.w}.str());
    }
  // No bias.
  Twin t = make_twin([] { return std::make_unique<Conv2D>(4, 3, 3, 1, Padding::valid, false); }, Shape{2, 7, 8}, 7);
  check_twin(t, 2, 9, "conv2d no-bias");
}

TEST_CASE("cuda: dense matches the CPU") {
  RADIUS_SKIP_WITHOUT_CUDA();
  std::vector<std::pair<int64_t, int64_t>> cases = {{7, 3}, {1, 1}, {33, 65}};
  if (!small_tests()) cases.push_back({6272, 512}), cases.push_back({513, 1});
  uint64_t seed = 200;
  for (auto [in, out] : cases)
    for (int64_t n : batches()) {
      Twin t = make_twin([&] { return std::make_unique<Dense>(out); }, Shape{in}, seed);
      check_twin(t, n, seed += 10, "dense " + std::to_string(in) + " -> " + std::to_string(out));
    }
}

TEST_CASE("cuda: max and average pooling match the CPU (ties: first maximum wins)") {
  RADIUS_SKIP_WITHOUT_CUDA();
  struct Case { PoolKind kind; int64_t c, h, w, ph, pw, stride; };
  const std::vector<Case> cases = {{PoolKind::max, 3, 9, 7, 2, 2, 0},     {PoolKind::max, 2, 10, 11, 3, 3, 2},
                                   {PoolKind::max, 1, 6, 6, 3, 2, 1},     {PoolKind::average, 3, 9, 7, 2, 2, 0},
                                   {PoolKind::average, 2, 8, 9, 3, 2, 1}, {PoolKind::max, 5, 37, 37, 2, 2, 0}};
  uint64_t seed = 300;
  for (const Case& cc : cases)
    for (int64_t n : batches()) {
      Twin t = make_twin([&] { return std::make_unique<Pool2D>(cc.kind, cc.ph, cc.pw, cc.stride); },
                         Shape{cc.c, cc.h, cc.w}, seed);
      check_twin(t, n, seed += 10, t.cpu->describe());
    }
  // Many ties (values from {0, 1, 2}): the gradient must go to the same element
  // on both devices, so dx must be identical, not merely close.
  Twin t = make_twin([] { return std::make_unique<Pool2D>(PoolKind::max, 3, 3, 1); }, Shape{2, 8, 8}, 1);
  Tensor x = random_cpu(Shape{4, 2, 8, 8}, 77, 0.0f, 3.0f);
  for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = std::floor(x.at(i));
  Tensor y = Tensor::empty(Shape{4, 2, 6, 6}), yg = poisoned_cuda(Shape{4, 2, 6, 6});
  t.cpu->forward(x, y, Mode::train);
  t.gpu->forward(x.to(Device::cuda), yg, Mode::train);
  const Tensor dy = random_cpu(y.shape(), 78);
  Tensor dx = Tensor::empty(x.shape()), dxg = poisoned_cuda(x.shape());
  t.cpu->backward(x, y, dy, dx);
  t.gpu->backward(x.to(Device::cuda), yg, dy.to(Device::cuda), dxg);
  CHECK(identical(y, yg));
  CHECK(identical(dx, dxg));
}

TEST_CASE("cuda: relu, sigmoid and flatten match the CPU") {
  RADIUS_SKIP_WITHOUT_CUDA();
  uint64_t seed = 400;
  for (const Shape& s : {Shape{5, 7, 3}, Shape{1}, Shape{4099}})
    for (int64_t n : batches()) {
      Twin r = make_twin([] { return std::make_unique<ReLU>(); }, s, seed);
      check_twin(r, n, seed += 10, "relu on " + s.str());
      Twin g = make_twin([] { return std::make_unique<Sigmoid>(); }, s, seed);
      check_twin(g, n, seed += 10, "sigmoid on " + s.str(), -30.0f, 30.0f);
      Twin f = make_twin([] { return std::make_unique<Flatten>(); }, s, seed);
      check_twin(f, n, seed += 10, "flatten on " + s.str());
    }
}

TEST_CASE("cuda: dropout masks are bit-identical to the CPU's") {
  RADIUS_SKIP_WITHOUT_CUDA();
  for (int64_t numel : {1, 3, 4, 1001, 6272}) {
    Dropout cpu(0.37f), gpu(0.37f);
    cpu.build(Shape{numel});
    gpu.build(Shape{numel});
    cpu.set_seed(1234, 99);
    gpu.set_seed(1234, 99);
    const Tensor ones = Tensor::full(Shape{5, numel}, 1.0f);
    for (int call = 0; call < 3; ++call) {  // the counter advances per training call
      Tensor y = Tensor::empty(ones.shape()), yg = poisoned_cuda(ones.shape());
      cpu.forward(ones, y, Mode::train);
      gpu.forward(ones.to(Device::cuda), yg, Mode::train);
      CAPTURE(numel);
      CAPTURE(call);
      CHECK(identical(y, yg));  // y = 1 * mask: the masks themselves
    }
  }
  // And the layer contract around it (backward uses the same mask; eval is the identity).
  for (int64_t n : batches()) {
    Twin t = make_twin([] { return std::make_unique<Dropout>(0.5f); }, Shape{3, 5, 7}, 1);
    t.cpu->set_seed(5, 6);
    t.gpu->set_seed(5, 6);
    check_twin(t, n, 500 + uint64_t(n), "dropout");
  }
}

TEST_CASE("cuda: layers refuse tensors on mixed devices, naming both") {
  RADIUS_SKIP_WITHOUT_CUDA();
  ReLU relu;
  relu.build(Shape{4});
  const Tensor x = random_cpu(Shape{2, 4}, 1);
  Tensor yg = poisoned_cuda(Shape{2, 4});
  try {
    relu.forward(x, yg, Mode::train);
    FAIL("no error for a cpu input with a cuda output");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK(msg.find("cpu") != std::string::npos);
    CHECK(msg.find("cuda") != std::string::npos);
  }
}

TEST_CASE("cuda: without a device, asking for one fails cleanly") {
  if (cuda_available()) {
    MESSAGE("a CUDA device is present: nothing to check here");
    return;
  }
  CHECK_THROWS_AS(Tensor::empty(Shape{4}, Device::cuda), std::runtime_error);
}
