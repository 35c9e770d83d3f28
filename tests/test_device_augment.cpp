// The GPU augmentation path (net/device_batches, kernels/augment*): its host half
// and its per-pixel arithmetic are checked here on the CPU against data/augment and
// the Loader; the kernel itself against the CPU batch on a GPU (skipped without one).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "data/augment.h"
#include "data/loader.h"
#include "net/device_batches.h"
#include "net/spec.h"
#include "optim/adam.h"
#include "tests/cache_util.h"
#include "tests/temp_dir.h"
#include "tensor/rng.h"
#include "tests/cuda_util.h"

#ifdef RADIUS_WITH_CUDA
#include "kernels/augment.h"
#endif

using namespace radius;

namespace {

// n random (never constant) images of h x w x c with label k % 2.
ImageCache random_cache(int n, int h, int w, int c, uint64_t seed) {
  return test::random_cache_of<uint8_t>(n, h, w, c, seed, 7);
}
ImageCache random_cache16(int n, int h, int w, int c, uint64_t seed) {
  return test::random_cache_of<uint16_t>(n, h, w, c, seed, 8);
}
using test::all_items;

AugmentConfig strong_augment() {  // every parameter on, vertical flips too
  AugmentConfig cfg = AugmentConfig::paper();
  cfg.vertical_flip = true;
  return cfg;
}

// The kernel's loop, on the host: warp_pixel over every output pixel of one image.
template <typename T>
std::vector<float> warp_on_host(const cuda::WarpParams& p, const T* src, int h, int w, int c, float rescale) {
  std::vector<float> out(size_t(c) * h * w, std::numeric_limits<float>::quiet_NaN());
  for (int oi = 0; oi < h; ++oi)
    for (int oj = 0; oj < w; ++oj) cuda::warp_pixel(p, src, h, w, c, oi, oj, rescale, out.data());
  return out;
}

double max_abs_diff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return std::numeric_limits<double>::infinity();
    m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  }
  return m;
}

LoaderOptions loader_options(AugmentConfig cfg, bool shuffle, bool drop_last) {
  LoaderOptions o;
  o.batch_size = 8;
  o.augment = cfg;
  o.seed = 1234;
  o.shuffle = shuffle;
  o.drop_last = drop_last;
  o.workers = 2;
  o.queue_depth = 2;
  return o;
}

}  // namespace

TEST_CASE("device augment: pack_warp is affine_matrix plus the flips") {
  const cuda::WarpParams id = pack_warp(AffineParams{}, 37, 29);
  const double identity[6] = {1, 0, 0, 0, 1, 0};
  for (int k = 0; k < 6; ++k) CHECK(id.m[k] == identity[k]);
  CHECK(id.flip_h == 0);
  CHECK(id.flip_v == 0);
  CHECK(sizeof(cuda::WarpParams) == 56);  // the layout the kernel reads from the upload

  const AffineParams p = draw_params(strong_augment(), 37, 29, 5, 2, 11);
  const cuda::WarpParams q = pack_warp(p, 37, 29);
  const auto m = affine_matrix(p, 37, 29);
  for (int k = 0; k < 6; ++k) CHECK(q.m[k] == m[size_t(k)]);
  CHECK(q.flip_h == int(p.flip_h));
  CHECK(q.flip_v == int(p.flip_v));
}

TEST_CASE("device augment: warp_pixel over all pixels equals apply_affine (flips, edges, 1/3/4 channels)") {
  for (int c : {1, 3, 4}) {
    const int h = 23, w = 31;  // odd, non-square: a swapped h/w or row/col shows
    std::vector<uint8_t> image(size_t(h) * w * c);  // raw: the cache takes 1 or 3 channels only
    Rng rng(10 + uint64_t(c), 7);
    for (auto& v : image) v = uint8_t(rng.next_u32());
    for (uint64_t index = 0; index < 12; ++index) {  // 12 draws: all four flip combinations occur
      AffineParams p = draw_params(strong_augment(), h, w, 99, 1, index);
      p.flip_h = index % 2 == 1;
      p.flip_v = (index / 2) % 2 == 1;
      std::vector<float> want(size_t(c) * h * w);
      apply_affine(p, image.data(), h, w, c, want.data(), 1.0f / 255.0f);
      const std::vector<float> got = warp_on_host(pack_warp(p, h, w), image.data(), h, w, c, 1.0f / 255.0f);
      CAPTURE(c);
      CAPTURE(index);
      CHECK(max_abs_diff(want.data(), got.data(), want.size()) <= 1e-6);
    }
  }
}

TEST_CASE("device augment: the host half gives the Loader's batches (order, parameters, labels, pixels)") {
  const int h = 19, w = 17, c = 3;
  const ImageCache cache = random_cache(21, h, w, c, 4);  // 21 = 2 full batches of 8 + 5
  for (bool drop_last : {false, true}) {
    for (const auto& [cfg, warmup] : {std::pair{strong_augment(), 0}, std::pair{AugmentConfig::none(), 0},
                                      std::pair{strong_augment(), 3}}) {  // 3: the epochs' partial strengths
      LoaderOptions o = loader_options(cfg, true, drop_last);
      o.augment_warmup_epochs = warmup;
      Loader loader(cache, all_items(cache), o);
      DeviceAugmentBatches device(cache, all_items(cache), o);
      REQUIRE(device.batches_per_epoch() == loader.batches_per_epoch());
      CHECK(device.samples_per_epoch() == loader.samples_per_epoch());
      for (uint64_t epoch : {1, 2}) {
        loader.start_epoch(epoch);
        device.start_epoch(epoch);
        Batch want;
        for (int64_t b = 0; loader.next(want); ++b) {
          const DeviceAugmentBatches::HostBatch host = device.prepare(b);
          REQUIRE(int64_t(host.images.size()) == want.size());
          const std::vector<float> want_images = want.images.to_vector();
          const std::vector<float> want_labels = want.labels.to_vector();
          const size_t per_image = size_t(c) * h * w;
          for (size_t j = 0; j < host.images.size(); ++j) {
            CHECK(host.images[j] == cache.image(int64_t(want.items[j])));
            CHECK(host.labels[j] == want_labels[j]);
            const std::vector<float> got = warp_on_host(host.params[j], static_cast<const uint8_t*>(host.images[j]), h, w, c, cfg.rescale);
            CHECK(max_abs_diff(want_images.data() + j * per_image, got.data(), per_image) <= 1e-6);
          }
        }
      }
    }
  }
}

TEST_CASE("device augment: a 16-bit cache's host half points at its 16-bit images and warps like the Loader") {
  const int h = 13, w = 11, c = 1;
  const ImageCache cache = random_cache16(10, h, w, c, 5);
  const LoaderOptions o = loader_options(strong_augment(), true, false);
  Loader loader(cache, all_items(cache), o);
  DeviceAugmentBatches device(cache, all_items(cache), o);
  loader.start_epoch(1);
  device.start_epoch(1);
  Batch want;
  for (int64_t b = 0; loader.next(want); ++b) {
    const DeviceAugmentBatches::HostBatch host = device.prepare(b);
    const std::vector<float> want_images = want.images.to_vector();
    const size_t per_image = size_t(c) * h * w;
    for (size_t j = 0; j < host.images.size(); ++j) {
      CHECK(host.images[j] == cache.image16(int64_t(want.items[j])));
      const std::vector<float> got = warp_on_host(host.params[j], static_cast<const uint16_t*>(host.images[j]), h, w,
                                                  c, sample_rescale(o.augment.rescale, 16));
      CHECK(max_abs_diff(want_images.data() + j * per_image, got.data(), per_image) <= 1e-6);
    }
  }
}

TEST_CASE("device augment: bad use is refused with a clear error") {
  const ImageCache cache = random_cache(4, 8, 8, 1, 2);
  LoaderOptions o = loader_options(AugmentConfig::paper(), true, false);
  CHECK_THROWS_AS(DeviceAugmentBatches(cache, {0, 9}, o), std::out_of_range);
  DeviceAugmentBatches ok(cache, all_items(cache), o);
  CHECK_THROWS_AS(ok.prepare(0), std::logic_error);  // before start_epoch
  ok.start_epoch(1);
  CHECK_THROWS_AS(ok.prepare(1), std::out_of_range);  // 4 images = one batch of 8
  o.on_batch = [](Batch&) {};
  CHECK_THROWS_AS(DeviceAugmentBatches(cache, all_items(cache), o), std::invalid_argument);
  if (!cuda_available()) {  // without a device the batch cannot be made: a clear error, no crash
    Tensor x, y;
    CHECK_THROWS(ok.next(x, y));
  }
}

TEST_CASE("cuda: augment warp on the device matches the CPU Loader batch for batch") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const bool small = test::small_tests();
  const int h = small ? 21 : 150, w = small ? 19 : 150, c = 3, n = small ? 10 : 40;
  const ImageCache cache = random_cache(n, h, w, c, 8);
  for (const AugmentConfig& cfg : {strong_augment(), AugmentConfig::none()}) {
    const LoaderOptions o = loader_options(cfg, true, false);
    Loader loader(cache, all_items(cache), o);
    DeviceAugmentBatches device(cache, all_items(cache), o);
    for (uint64_t epoch : {1, 2}) {
      loader.start_epoch(epoch);
      device.start_epoch(epoch);
      Batch want;
      Tensor x, y;
      while (loader.next(want)) {
        REQUIRE(device.next(x, y));
        CHECK(x.device() == Device::cuda);
        CHECK(y.is_cpu());
        CHECK(test::rel_error(want.images, x) <= 1e-6);
        CHECK(test::identical(want.labels, y));
      }
      CHECK_FALSE(device.next(x, y));
    }
  }
}

TEST_CASE("cuda: augment warp of a 16-bit cache on the device matches the CPU Loader") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const int h = 21, w = 19, c = 3;
  const ImageCache cache = random_cache16(10, h, w, c, 9);
  for (const AugmentConfig& cfg : {strong_augment(), AugmentConfig::none()}) {
    const LoaderOptions o = loader_options(cfg, true, false);
    Loader loader(cache, all_items(cache), o);
    DeviceAugmentBatches device(cache, all_items(cache), o);
    loader.start_epoch(1);
    device.start_epoch(1);
    Batch want;
    Tensor x, y;
    while (loader.next(want)) {
      REQUIRE(device.next(x, y));
      CHECK(test::rel_error(want.images, x) <= 1e-6);
      CHECK(test::identical(want.labels, y));
    }
    CHECK_FALSE(device.next(x, y));
  }
}

// The whole GPU recipe through fit(): device-augmented batches, health statistics on
// every batch (device reductions), gradient clipping (device norm and scale) and
// checkpoints written from the GPU model, against the same run on the CPU.
TEST_CASE("cuda: fit on the GPU with device augmentation, health, clipping and checkpoints follows the CPU run") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const int side = 12;
  const ImageCache cache = random_cache(test::small_tests() ? 12 : 24, side, side, 3, 31);
  const auto make_model = [&] {
    auto m = parse_model_spec("input height=12 width=12 channels=3\nconv2d filters=4 kernel=3 activation=relu\n"
                              "maxpool2d pool=2\nflatten\ndense units=8 activation=relu\n"
                              "dense units=1 activation=sigmoid\n",
                              "<device-fit>");
    m->init(17);
    return m;
  };
  const LoaderOptions lo = loader_options(strong_augment(), true, false);
  test::TempDir dir("device-fit");
  FitOptions fo;
  fo.max_epochs = 2;
  fo.clip_norm = 0.05;  // small: it clips
  fo.health.every = 1;
  fo.restore_best = false;

  auto cpu = make_model();
  Adam adam_c(AdamConfig::keras(1e-3f));
  Loader loader(cache, all_items(cache), lo);
  LoaderBatches cpu_batches(loader);
  const FitResult want = fit(*cpu, adam_c, cpu_batches, nullptr, fo);

  auto gpu = make_model();
  gpu->to(Device::cuda);
  Adam adam_g(AdamConfig::keras(1e-3f));
  DeviceAugmentBatches gpu_batches(cache, all_items(cache), lo);
  fo.last_checkpoint = dir.file("last.ckpt.safetensors");
  const FitResult got = fit(*gpu, adam_g, gpu_batches, nullptr, fo);

  REQUIRE(got.history.size() == want.history.size());
  for (size_t e = 0; e < want.history.size(); ++e)
    CHECK(got.history[e].train_loss == doctest::Approx(want.history[e].train_loss).epsilon(1e-4));
  REQUIRE(got.health.size() == want.health.size());
  // The health statistics, reduced on the device, agree with the CPU's (NaN where both are NaN).
  const auto close = [](double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || std::abs(a - b) <= 1e-3 * std::abs(b) + 1e-6;
  };
  // Like with like: on CUDA the conv2d is fused with its ReLU (net/fusion.h), so
  // the tensor behind the GPU's conv row is relu(conv), the tensor behind the
  // CPU's ReLU row; the CPU's conv row describes the pre-ReLU output, which the
  // fused GPU model never stores. So a fused conv row's activation statistics
  // are compared with the CPU's ReLU row of the same epoch; its weight
  // statistics, and every other row, with the CPU's row of the same layer.
  REQUIRE(gpu->fused_with_next(0));  // the spec's conv2d + relu: the case this comparison is about
  std::map<std::pair<int, int>, const LayerHealthRow*> cpu_row;  // (epoch, layer) -> the CPU's row
  for (const LayerHealthRow& w : want.health) cpu_row[{w.epoch, w.layer}] = &w;
  for (size_t k = 0; k < want.health.size(); ++k) {
    const LayerHealthRow &g = got.health[k], &w = want.health[k];
    CAPTURE(k);
    CHECK(g.layer == w.layer);
    const bool fused = gpu->fused_with_next(size_t(g.layer));
    CAPTURE(fused);
    REQUIRE(cpu_row.count({g.epoch, g.layer + (fused ? 1 : 0)}) == 1);
    const LayerHealthRow& same_tensor = *cpu_row.at({g.epoch, g.layer + (fused ? 1 : 0)});
    CHECK(close(g.act_mean, same_tensor.act_mean));
    CHECK(close(g.act_std, same_tensor.act_std));
    CHECK(close(g.dead_fraction, w.dead_fraction));  // NaN for the conv row on both: only ReLU rows have one
    CHECK(close(g.weight_norm, w.weight_norm));
    CHECK(close(g.weight_grad_norm, w.weight_grad_norm));
    CHECK(close(g.weight_update_ratio, w.weight_update_ratio));
  }
  CHECK(test::rel_error(cpu->params(), gpu->params()) < 1e-4);
  auto back = make_model();
  load_checkpoint(dir.file("last.ckpt.safetensors"), *back, nullptr);
  CHECK(test::identical(back->params(), gpu->params()));
}

#ifdef RADIUS_WITH_CUDA
TEST_CASE("cuda: augment_warp writes every output element (poisoned output, direct launch)") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const int h = 33, w = 27, n = 5;
  for (int c : {1, 3}) {
    const ImageCache cache = random_cache(n, h, w, c, 20 + uint64_t(c));
    const size_t image_bytes = cache.image_bytes();
    std::vector<cuda::WarpParams> params;
    std::vector<float> want(size_t(n) * c * h * w);
    for (int k = 0; k < n; ++k) {
      const AffineParams p = draw_params(strong_augment(), h, w, 3, 4, uint64_t(k));
      params.push_back(pack_warp(p, h, w));
      apply_affine(p, cache.image(k), h, w, c, want.data() + size_t(k) * c * h * w, 1.0f / 255.0f);
    }
    void* images = device_alloc(n * image_bytes);
    void* dparams = device_alloc(params.size() * sizeof(cuda::WarpParams));
    device_copy(images, Device::cuda, cache.image(0), Device::cpu, n * image_bytes);
    device_copy(dparams, Device::cuda, params.data(), Device::cpu, params.size() * sizeof(cuda::WarpParams));
    Tensor out = test::poisoned_cuda({n, c, h, w});
    cuda::augment_warp(n, h, w, c, static_cast<const uint8_t*>(images),
                       static_cast<const cuda::WarpParams*>(dparams), 1.0f / 255.0f, out.data());
    CAPTURE(c);
    CHECK(test::rel_error(Tensor::from_vector({n, c, h, w}, want), out) <= 1e-6);
    device_synchronize();
    device_free(images);
    device_free(dparams);
  }
}
#endif
