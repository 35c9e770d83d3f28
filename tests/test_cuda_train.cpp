// Loss, optimizers and whole training steps, CPU vs CUDA, through the public API.
#include <memory>

#include "data/bars.h"
#include "layers/bce.h"
#include "net/sequential.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "tests/cuda_util.h"

using namespace radius;
using namespace radius::test;

TEST_CASE("cuda: BCE from logits (loss, correct count, gradient) matches the CPU") {
  RADIUS_SKIP_WITHOUT_CUDA();
  for (int64_t n : {1, 7, 32, 1000}) {
    CAPTURE(n);
    Tensor z = random_cpu(Shape{n, 1}, uint64_t(n), -20.0f, 20.0f);
    if (n > 1) z.at(0) = 100.0f, z.at(1) = -100.0f;  // the stable form's reason to exist
    Tensor y = random_cpu(Shape{n, 1}, uint64_t(n) + 1, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; ++i) y.at(i) = y.at(i) > 0.5f ? 1.0f : 0.0f;
    int64_t correct = -1, correct_g = -2;
    const double loss = bce_with_logits(z, y, &correct);
    const double loss_g = bce_with_logits(z.to(Device::cuda), y.to(Device::cuda), &correct_g);
    CHECK(std::abs(loss - loss_g) <= 1e-12 * std::max(1.0, std::abs(loss)));  // both reduce in double
    CHECK(correct == correct_g);
    Tensor dz = Tensor::empty(z.shape()), dzg = poisoned_cuda(z.shape());
    bce_with_logits_grad(z, y, dz);
    const Tensor zg = z.to(Device::cuda), yg = y.to(Device::cuda);
    bce_with_logits_grad(zg, yg, dzg);
    CHECK(rel_error(dz, dzg) < kCudaTolerance);
  }
}

TEST_CASE("cuda: fused Adam (both forms) and SGD match the CPU over the flat buffer") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const int64_t n = small_tests() ? 1001 : 1000003;  // odd: the 16-byte path plus a scalar tail
  auto run = [&](Optimizer& cpu, Optimizer& gpu, const char* what) {
    CAPTURE(what);
    Tensor w = random_cpu(Shape{n}, 1), wg = w.to(Device::cuda);
    for (int step = 0; step < 3; ++step) {
      const Tensor g = random_cpu(Shape{n}, 10 + uint64_t(step), -0.01f, 0.01f);
      cpu.step(w, g);
      gpu.step(wg, g.to(Device::cuda));
    }
    CHECK(rel_error(w, wg) < kCudaTolerance);
    auto sc = cpu.state(), sg = gpu.state();
    REQUIRE(sc.size() == sg.size());
    for (size_t i = 0; i < sc.size(); ++i) CHECK(rel_error(sc[i].second, sg[i].second) < kCudaTolerance);
  };
  Adam keras_c(AdamConfig::keras(1e-2f)), keras_g(AdamConfig::keras(1e-2f));
  run(keras_c, keras_g, "adam keras");
  Adam torch_c(AdamConfig::pytorch(1e-2f)), torch_g(AdamConfig::pytorch(1e-2f));
  run(torch_c, torch_g, "adam pytorch");
  Sgd sgd_c(SgdConfig{0.1f, 0.9f, false}), sgd_g(SgdConfig{0.1f, 0.9f, false});
  run(sgd_c, sgd_g, "sgd momentum");
  Sgd nest_c(SgdConfig{0.1f, 0.9f, true}), nest_g(SgdConfig{0.1f, 0.9f, true});
  run(nest_c, nest_g, "sgd nesterov");
}

namespace {

std::unique_ptr<Sequential> tiny_model() {
  auto m = load_model_spec(RADIUS_SOURCE_DIR "/models/tiny.spec");
  m->init(42);
  return m;
}

}  // namespace

TEST_CASE("cuda: one full training step (loss, every gradient, updated weights) matches the CPU") {
  RADIUS_SKIP_WITHOUT_CUDA();
  for (int64_t batch : {int64_t(1), int64_t(small_tests() ? 4 : 32)}) {
    CAPTURE(batch);
    auto cpu = tiny_model(), gpu = tiny_model();
    gpu->to(Device::cuda);
    CHECK(gpu->device() == Device::cuda);
    CHECK(rel_error(cpu->params(), gpu->params()) == 0.0);  // same init on both devices
    Adam adam_c(AdamConfig::keras(1e-3f)), adam_g(AdamConfig::keras(1e-3f));
    Trainer tc(*cpu, adam_c), tg(*gpu, adam_g);
    const Shape& in = cpu->input_shape();
    const ToyBatch data = make_bar_images(batch, in[0], in[1], in[2], 3);
    const StepResult rc = tc.step(data.images, data.labels);
    const StepResult rg = tg.step(data.images.to(Device::cuda), data.labels.to(Device::cuda));
    CHECK(std::abs(rc.loss - rg.loss) < 1e-5 * std::max(1.0, rc.loss));
    CHECK(rc.correct == rg.correct);
    for (size_t i = 0; i < cpu->named_params().size(); ++i) {
      const NamedParam &a = cpu->named_params()[i], &b = gpu->named_params()[i];
      CAPTURE(a.name);
      CHECK(rel_error(a.grad, b.grad) < kCudaTolerance);
      CHECK(rel_error(a.value, b.value) < kCudaTolerance);
    }
  }
}

TEST_CASE("cuda: a few training steps give the CPU's loss curve") {
  RADIUS_SKIP_WITHOUT_CUDA();
  auto cpu = tiny_model(), gpu = tiny_model();
  gpu->to(Device::cuda);
  Adam adam_c(AdamConfig::keras(3e-3f)), adam_g(AdamConfig::keras(3e-3f));
  Trainer tc(*cpu, adam_c), tg(*gpu, adam_g);
  const Shape& in = cpu->input_shape();
  const int steps = small_tests() ? 2 : 8;
  for (int s = 0; s < steps; ++s) {
    const ToyBatch data = make_bar_images(16, in[0], in[1], in[2], 11, int64_t(s) * 16);
    const double lc = tc.step(data.images, data.labels).loss;
    const double lg = tg.step(data.images.to(Device::cuda), data.labels.to(Device::cuda)).loss;
    CAPTURE(s);
    CHECK(std::abs(lc - lg) < 1e-4 * std::max(1.0, lc));  // errors compound a little per step
  }
  CHECK(rel_error(cpu->params(), gpu->params()) < 1e-4);
  // Evaluation and prediction run on the device too.
  const ToyBatch data = make_bar_images(8, in[0], in[1], in[2], 99);
  const Tensor xg = data.images.to(Device::cuda);
  CHECK(rel_error(cpu->predict(data.images), gpu->predict(xg)) < kCudaTolerance);
}

TEST_CASE("cuda: the trainer refuses a batch that is not on the model's device") {
  RADIUS_SKIP_WITHOUT_CUDA();
  auto gpu = tiny_model();
  gpu->to(Device::cuda);
  Adam adam;
  Trainer t(*gpu, adam);
  const Shape& in = gpu->input_shape();
  const ToyBatch data = make_bar_images(2, in[0], in[1], in[2], 1);
  CHECK_THROWS_AS(t.step(data.images, data.labels), std::invalid_argument);
  CHECK_THROWS_AS(gpu->forward(data.images, Mode::eval), std::invalid_argument);
}
