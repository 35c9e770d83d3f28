// Conv2d + ReLU fusion (net/fusion.h): the plan, Conv2D::forward_relu and a fused
// CPU model against the unfused one, a fused CUDA model against the unfused CPU
// reference; and a relu's
// backward folded into the max pooling after it, against the unfused path.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "layers/activations.h"
#include "layers/conv2d.h"
#include "layers/pool2d.h"
#include "net/fusion.h"
#include "net/sequential.h"
#include "net/spec.h"
#include "tests/cuda_util.h"
#ifdef RADIUS_WITH_CUDA
#include "kernels/pool2d.h"
#endif

using namespace radius;
using namespace radius::test;

namespace {

// Every conv2d/relu situation: a fused pair (same, stride 1), a pair after a
// pool (valid, stride 2, odd sizes), a conv2d with no relu, a dense + relu.
const char* kFusionSpec = R"(
input height=17 width=15 channels=3
conv2d filters=8 kernel=3 padding=same activation=relu
maxpool2d pool=2
conv2d filters=12 kernel=3 stride=2 activation=relu
conv2d filters=5 kernel=1
flatten
dense units=6 activation=relu
dense units=1 activation=sigmoid
)";
// Layer indices of that spec: 0 conv, 1 relu, 2 pool, 3 conv, 4 relu, 5 conv, 6 flatten,
// 7 dense, 8 relu, 9 dense, 10 sigmoid.

// The spec's model with random weights AND biases (init leaves biases at 0,
// which would hide a bias the fused epilogue forgot).
std::unique_ptr<Sequential> fusion_model() {
  auto m = parse_model_spec(kFusionSpec, "fusion test spec");
  m->init(7);
  m->params().copy_from(random_cpu(m->params().shape(), 8, -0.5f, 0.5f));
  return m;
}

std::vector<const LayerKind*> kinds_of(const Sequential& m) {
  std::vector<const LayerKind*> kinds;
  for (size_t i = 0; i < m.size(); ++i) kinds.push_back(&kind_of(m.layer(i)));
  return kinds;
}

std::vector<const LayerKind*> kinds_of(const std::vector<std::string>& keywords) {
  std::vector<const LayerKind*> kinds;
  for (const std::string& k : keywords) kinds.push_back(find_layer_kind(k));
  return kinds;
}

}  // namespace

TEST_CASE("fusion plan: conv2d + relu pairs, never overlapping, off when disabled") {
  const auto kinds = kinds_of({"conv2d", "relu", "relu", "conv2d", "relu", "conv2d", "maxpool2d", "dense", "relu",
                               "conv2d"});
  const std::vector<bool> want{true, false, false, true, false, false, false, false, false, false};
  CHECK(plan_conv_relu_fusion(kinds) == want);
  CHECK(plan_conv_relu_fusion(kinds, false) == std::vector<bool>(kinds.size(), false));
  CHECK(plan_conv_relu_fusion({}).empty());
  CHECK(plan_conv_relu_fusion(kinds_of({"conv2d"})) == std::vector<bool>{false});  // no relu after it
  // The spec above: layers 0 and 3 (conv2d + relu); not 5 (no relu), not 7 (dense).
  const auto m = fusion_model();
  const std::vector<bool> spec_want{true, false, false, true, false, false, false, false, false, false, false};
  CHECK(plan_conv_relu_fusion(kinds_of(*m)) == spec_want);
}

TEST_CASE("fusion: Conv2D::forward_relu on the CPU equals conv2d then relu, bit for bit") {
  auto m = fusion_model();
  m->set_fusion(false);
  const Tensor x = random_cpu(m->input_shape().with_batch(3), 9);
  m->forward(x, Mode::train);
  for (size_t i = 0; i < m->size(); ++i) CHECK_FALSE(m->fused_with_next(i));
  // Layer 0's output then layer 1's (relu) output, from the unfused forward.
  const Tensor want = m->activation(1).clone();
  Tensor y = Tensor::full(m->activation(0).shape(), 12345.0f);  // every element must be overwritten
  dynamic_cast<Conv2D&>(m->layer(0)).forward_relu(x, y);
  CHECK(identical(want, y));
  CHECK(rel_error(m->activation(0), want) > 0.0);  // the conv's own output has negatives: relu did something
}

TEST_CASE("fusion: a fused CPU model's output and gradients are the unfused model's, bit for bit") {
  auto fused = fusion_model(), plain = fusion_model();
  plain->set_fusion(false);
  const Tensor x = random_cpu(fused->input_shape().with_batch(4), 43);
  const Tensor want = plain->forward(x, Mode::train).clone();
  CHECK(identical(want, fused->forward(x, Mode::train)));
  CHECK(fused->fused_with_next(0));
  CHECK(fused->fused_with_next(3));
  CHECK_FALSE(fused->fused_with_next(5));
  CHECK(identical(fused->activation(0), plain->activation(1)));  // the fused conv's buffer holds relu(z)
  const Tensor dlogits = random_cpu(want.shape(), 44);
  fused->zero_grad();
  plain->zero_grad();
  fused->backward(dlogits);
  plain->backward(dlogits);
  CHECK(identical(fused->grads(), plain->grads()));
}

TEST_CASE("cuda: a fused conv+relu model's forward and backward match the unfused CPU reference") {
  RADIUS_SKIP_WITHOUT_CUDA();
  for (int64_t batch : {int64_t(1), int64_t(small_tests() ? 3 : 32)}) {
    CAPTURE(batch);
    auto cpu = fusion_model(), gpu = fusion_model(), plain = fusion_model();
    gpu->to(Device::cuda);
    plain->to(Device::cuda);
    plain->set_fusion(false);  // the same kernels without the epilogue's ReLU
    const Tensor x = random_cpu(cpu->input_shape().with_batch(batch), 100 + uint64_t(batch));
    const Tensor xg = x.to(Device::cuda);
    gpu->forward(xg, Mode::train);  // allocates the activations, so that they can be poisoned
    CHECK(gpu->fused_with_next(0));
    CHECK(gpu->fused_with_next(3));
    CHECK_FALSE(gpu->fused_with_next(5));
    CHECK_FALSE(plain->fused_with_next(0));
    for (size_t i = 0; i + 1 < gpu->size(); ++i) {
      Tensor act = gpu->activation(i);  // a handle on the model's buffer: poisoning it poisons the model's
      act.copy_from(poisoned_cuda(act.shape()));
    }

    const Tensor& want = cpu->forward(x, Mode::train);
    const Tensor& got = gpu->forward(xg, Mode::train);
    const Tensor& got_plain = plain->forward(xg, Mode::train);
    CHECK(rel_error(want, got) < kCudaTolerance);
    CHECK(rel_error(got_plain.to(Device::cpu), got) < 1e-6);  // same GEMM, same order: expected bit-identical
    for (size_t i = 0; i + 1 < cpu->size(); ++i) {
      CAPTURE(i);
      // A fused conv2d's buffer holds its relu's output: compare it with the CPU relu's.
      const size_t ref = gpu->fused_with_next(i) ? i + 1 : i;
      CHECK(rel_error(cpu->activation(ref), gpu->activation(i)) < kCudaTolerance);
    }

    const Tensor dlogits = random_cpu(want.shape(), 200 + uint64_t(batch));
    cpu->zero_grad();
    gpu->zero_grad();
    plain->zero_grad();
    cpu->backward(dlogits);
    gpu->backward(dlogits.to(Device::cuda));
    plain->backward(dlogits.to(Device::cuda));
    for (size_t i = 0; i < cpu->named_params().size(); ++i) {
      const NamedParam &a = cpu->named_params()[i], &b = gpu->named_params()[i];
      CAPTURE(a.name);
      CHECK(rel_error(a.grad, b.grad) < kCudaTolerance);
      CHECK(rel_error(plain->named_params()[i].grad.to(Device::cpu), b.grad) < 1e-6);
    }
  }
}

// ---- relu backward folded into max pooling's (net/fusion.h) -------------------

TEST_CASE("fusion plan: a relu right before a max pooling is folded into its backward, on both devices") {
  const auto kinds = kinds_of({"relu", "maxpool2d", "conv2d", "relu", "avgpool2d", "relu", "relu", "maxpool2d",
                               "maxpool2d"});
  const std::vector<bool> want{false, true, false, false, false, false, false, true, false};
  CHECK(plan_relu_backward_folds(kinds) == want);
  CHECK(plan_relu_backward_folds(kinds, false) == std::vector<bool>(kinds.size(), false));
  CHECK(plan_relu_backward_folds({}).empty());
  CHECK(plan_relu_backward_folds(kinds_of({"maxpool2d"})) == std::vector<bool>{false});
  CHECK(plan_relu_backward_folds(kinds_of({"conv2d", "relu", "maxpool2d"})) == std::vector<bool>{false, false, true});
}

TEST_CASE("fusion: maxpool2d_backward with the relu's output equals relu backward after pool backward, bit for bit") {
  // 3x3 windows, stride 2: overlapping windows, so a winner can take two gradients.
  const Pool2dGeom g = Pool2dGeom::make(4, 11, 9, 3, 3, 2);
  const int64_t n = 3, in_size = n * g.c * g.h * g.w, out_size = n * g.c * g.oh * g.ow;
  // Mostly negative inputs, so that many windows hold dead units only.
  const Tensor z = random_cpu(Shape{in_size}, 31, -1.0f, 0.2f), dy = random_cpu(Shape{out_size}, 32, -1.0f, 1.0f);
  const size_t in_count = size_t(in_size), out_count = size_t(out_size);
  std::vector<float> x(in_count), y(out_count), plain(in_count), want(in_count);
  std::vector<float> fused(in_count, 12345.0f);  // every element must be written
  std::vector<int32_t> argmax(out_count);
  relu_forward(in_size, z.cpu(), x.data());
  maxpool2d_forward(g, n, x.data(), y.data(), argmax.data());
  maxpool2d_backward(g, n, dy.cpu(), argmax.data(), plain.data());
  relu_backward(in_size, z.cpu(), plain.data(), want.data());  // the relu's backward reads its input z
  maxpool2d_backward(g, n, dy.cpu(), argmax.data(), fused.data(), x.data());
  CHECK(std::memcmp(fused.data(), want.data(), want.size() * sizeof(float)) == 0);
  int64_t masked = 0;  // the mask did something: some winners are dead units (all-negative windows)
  for (int64_t i = 0; i < in_size; ++i) masked += plain[size_t(i)] != 0.0f && want[size_t(i)] == 0.0f;
  CHECK(masked > 0);
}

TEST_CASE("fusion: a model with the relu folded into max pooling's backward gives the unfused gradients, bit for bit") {
  auto folded = fusion_model(), plain = fusion_model();
  plain->set_fusion(false);
  const Tensor x = random_cpu(folded->input_shape().with_batch(4), 41);
  folded->forward(x, Mode::train);
  plain->forward(x, Mode::train);
  CHECK(folded->folds_relu_backward(2));  // the spec's relu (1) + maxpool2d (2)
  CHECK_FALSE(plain->folds_relu_backward(2));
  const Tensor dlogits = random_cpu(folded->output_shape().with_batch(4), 42);
  folded->zero_grad();
  plain->zero_grad();
  folded->backward(dlogits);
  plain->backward(dlogits);
  CHECK(identical(folded->grads(), plain->grads()));
  // Stopping between the relu and the pool: the gradient at the relu's output,
  // which the fold must not mask; and stopping before the relu: at its input.
  const Tensor at_relu_out = plain->backward_to(dlogits, 1).clone(), at_relu_in = plain->backward_to(dlogits, 0).clone();
  CHECK(identical(at_relu_out, folded->backward_to(dlogits, 1)));
  CHECK(identical(at_relu_in, folded->backward_to(dlogits, 0)));
  CHECK_FALSE(identical(at_relu_out, at_relu_in));
}

TEST_CASE("cuda: maxpool2d backward through a relu agrees with the CPU's") {
  RADIUS_SKIP_WITHOUT_CUDA();
#ifdef RADIUS_WITH_CUDA
  const Pool2dGeom g = Pool2dGeom::make(5, 13, 10, 3, 3, 2);
  const int64_t n = 4, in_size = n * g.c * g.h * g.w, out_size = n * g.c * g.oh * g.ow;
  Tensor x = random_cpu(Shape{in_size}, 51, -1.0f, 1.0f);
  relu_forward(in_size, x.cpu(), x.cpu());
  const Tensor dy = random_cpu(Shape{out_size}, 52, -1.0f, 1.0f);
  Tensor y = Tensor::full(Shape{out_size}, 0.0f), argmax = Tensor::full(Shape{out_size}, 0.0f);
  Tensor want = Tensor::full(Shape{in_size}, 0.0f);
  auto* arg = reinterpret_cast<int32_t*>(argmax.cpu());
  maxpool2d_forward(g, n, x.cpu(), y.cpu(), arg);
  maxpool2d_backward(g, n, dy.cpu(), arg, want.cpu(), x.cpu());
  const Tensor xg = x.to(Device::cuda), dyg = dy.to(Device::cuda), argg = argmax.to(Device::cuda);
  Tensor got = poisoned_cuda(Shape{in_size});
  cuda::maxpool2d_backward(g, n, dyg.data(), reinterpret_cast<const int32_t*>(argg.data()), got.data(), xg.data());
  CHECK(rel_error(want, got.to(Device::cpu)) == 0.0);  // a sum of at most 4 values in the same order: exact
#endif
}
