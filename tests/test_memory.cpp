// Memory asked for is checked before it is taken (tensor/memory.h): the decoded-image
// cache refuses a request over its limit, and train refuses a batch that would not fit,
// saying how much was needed and what fits, instead of std::bad_alloc or the OOM killer.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "data/image_cache.h"
#include "net/explain.h"
#include "net/spec.h"
#include "tensor/memory.h"
#include "tests/cli_util.h"

using namespace radius;
using namespace radius::test;

TEST_CASE("memory: sizes for people, and this machine's memory") {
  CHECK(human_bytes(0) == "0 B");
  CHECK(human_bytes(999) == "999 B");
  CHECK(human_bytes(1500) == "1.5 kB");
  CHECK(human_bytes(614'300'000) == "614.3 MB");
  CHECK(human_bytes(93'100'000'000) == "93.1 GB");
  CHECK(physical_memory_bytes() > 0);
  CHECK(default_memory_budget() == physical_memory_bytes() / 5 * 4);
}

TEST_CASE("memory: a training step's buffers per sample and fixed, from the layer shapes") {
  const auto model = load_model_spec(kTinySpec);
  const TrainingMemory m = training_memory(*model);
  int64_t acts = model->input_shape().numel() * 4, largest = model->input_shape().numel() * 4;
  for (const LayerCost& c : layer_costs(*model)) {
    acts += c.activation_bytes;
    largest = std::max(largest, c.activation_bytes);
  }
  CHECK(m.per_sample == acts + 2 * largest);
  CHECK(m.fixed == 4 * model->num_params() * 4 + model->num_buffers() * 4);  // params, grads, Adam m and v
  CHECK(m.for_batch(32) == m.fixed + 32 * m.per_sample);
}

TEST_CASE("memory: the image cache refuses a request over its limit before decoding anything") {
  TempDir dir("memory_cache");
  const Dataset data = list_dataset(tiny_dataset(dir));
  ImageCacheOptions o;
  o.height = o.width = 32;
  o.max_bytes = 10 * 32 * 32 * 3;  // room for 10 images of the 40
  CHECK_THROWS_WITH(ImageCache(data, o), doctest::Contains("decoding 40 images at 32x32x3 needs 122.9 kB of memory, "
                                                           "over the image cache's limit of 30.7 kB"));
  o.max_bytes = -1;  // no limit
  CHECK(ImageCache(data, o).size() == 40);
  o.max_bytes = 0;  // the default budget: far above 40 small images
  CHECK(ImageCache(data, o).size() == 40);
}

TEST_CASE("memory: train refuses a batch that would not fit, with what was needed and the batch that fits") {
  TempDir dir("memory_batch");
  const std::string data = tiny_dataset(dir);
  // 1024x1024 inputs through 256 filters: ~1 GB of activations per image, so a batch of
  // all 24 training images needs more than this machine's budget (checked below).
  const std::string spec = dir.file("huge.spec");
  std::ofstream(spec) << "input height=1024 width=1024 channels=3\nconv2d filters=256 kernel=3 activation=relu\n"
                         "maxpool2d pool=8\nflatten\ndense units=1 activation=sigmoid\n";
  const auto model = load_model_spec(spec);
  const int64_t need = training_memory(*model).for_batch(24);
  if (need <= default_memory_budget()) {
    MESSAGE("this machine has room for the batch (" << human_bytes(need) << "): skipped");
    return;
  }
  const CliRun r = radius_cli("train " + q(data) + " --model " + q(spec) + " --batch 100000 --epochs 1 --threads 1 "
                              "--quiet --out " + q(dir.file("run")));
  CAPTURE(r.out);
  CHECK(r.rc == 1);
  CHECK(r.out.find("--batch 100000 needs about ") != std::string::npos);
  CHECK(r.out.find("for batches of 24") != std::string::npos);  // never more than the images
  CHECK(r.out.find("a batch of at most ") != std::string::npos);
  CHECK(r.out.find("bad_alloc") == std::string::npos);
}

// A batch larger than the data set is the data set: the loaders' buffers hold the images
// there are. Before, each prefetch slot was sized for --batch (100000 of the paper model's
// 150x150x3 inputs: 27 GB a slot) and the run ended "out of memory" on a machine with room.
TEST_CASE("memory: --batch over the number of images trains, with buffers for the images there are") {
  TempDir dir("memory_batch_over");
  const std::string data = tiny_dataset(dir);
  const CliRun r = radius_cli("train " + q(data) + " --recipe paper --batch 100000 --epochs 1 --threads 1 --quiet "
                              "--out " + q(dir.file("run")));
  CAPTURE(r.out);
  CHECK(r.rc == 0);
  CHECK(std::filesystem::exists(dir.file("run") + "/weights.safetensors"));
}
