// Saving weights and checkpoints from a model on any device: host_named_tensors gives
// named CPU tensors (the model's own views on the CPU; views of one download of the
// flat buffer on the GPU), and write_safetensors makes no hidden copies.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "net/checkpoint.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "tests/cuda_util.h"
#include "tests/temp_dir.h"

using namespace radius;
using radius::test::TempDir;

namespace {

std::unique_ptr<Sequential> model(uint64_t seed) {
  auto m = parse_model_spec("input height=9 width=9 channels=1\nconv2d filters=3 kernel=3 activation=relu\n"
                            "flatten\ndense units=5 activation=relu\ndense units=1 activation=sigmoid\n",
                            "<save-test>");
  m->init(seed);
  return m;
}

std::string bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("save: host_named_tensors of a CPU model are its own views, tiling the flat buffer in order") {
  auto m = model(3);
  const auto named = host_named_tensors(*m);
  REQUIRE(named.size() == m->named_params().size());
  const float* at = m->params().data();
  for (size_t k = 0; k < named.size(); ++k) {
    const NamedParam& p = m->named_params()[k];
    CHECK(named[k].first == p.name);
    CHECK(named[k].second.shape() == p.value.shape());
    CHECK(named[k].second.data() == p.value.data());  // no copy on the CPU
    CHECK(named[k].second.data() == at);               // back to back
    at += p.value.numel();
  }
  CHECK(at == m->params().data() + m->num_params());

  TempDir dir("save");  // and what save_weights writes loads back bit for bit
  save_weights(*m, dir.file("w.safetensors"));
  auto other = model(4);
  load_weights(*other, dir.file("w.safetensors"));
  CHECK(other->params().to_vector() == m->params().to_vector());
}

TEST_CASE("cuda: weights and checkpoints saved from a GPU model equal those of the CPU model") {
  RADIUS_SKIP_WITHOUT_CUDA();
  TempDir dir("save-gpu");
  auto cpu = model(5);
  auto gpu = model(5);
  gpu->to(Device::cuda);
  save_weights(*cpu, dir.file("cpu.safetensors"), {{"k", "v"}});
  save_weights(*gpu, dir.file("gpu.safetensors"), {{"k", "v"}});
  CHECK(bytes_of(dir.file("cpu.safetensors")) == bytes_of(dir.file("gpu.safetensors")));

  // A checkpoint after a few steps: the GPU run's state written from the device,
  // read into a fresh CPU model, equals the GPU model's parameters.
  Adam adam(AdamConfig::keras(1e-2f));
  Trainer t(*gpu, adam);
  const Tensor x = test::random_cpu(Shape{4, 1, 9, 9}, 7, 0.0f, 1.0f).to(Device::cuda);
  const Tensor y = Tensor::from_vector(Shape{4}, {0, 1, 1, 0}).to(Device::cuda);
  for (int i = 0; i < 2; ++i) t.step(x, y);
  save_checkpoint(dir.file("gpu.ckpt.safetensors"), *gpu, adam, CheckpointState{});
  auto back = model(6);
  Adam adam_back(AdamConfig::keras(1e-2f));
  load_checkpoint(dir.file("gpu.ckpt.safetensors"), *back, &adam_back);
  CHECK(back->params().to_vector() == gpu->params().to(Device::cpu).to_vector());
  CHECK(adam_back.steps() == adam.steps());

  // No hidden copies: a GPU tensor handed to write_safetensors is refused.
  CHECK_THROWS_AS(write_safetensors(dir.file("x.safetensors"), {{"w", gpu->params()}}), std::runtime_error);
}
