#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/synth_dataset.h"
#include "tensor/rng.h"
#include "tests/cache_util.h"
#include "tests/temp_dir.h"

using namespace radius;

namespace {

ImageCache random_cache(int n, int h, int w, int c, uint64_t seed = 3) {
  return test::random_cache_of<uint8_t>(n, h, w, c, seed, 1);
}
using test::all_items;

struct Epoch {
  std::vector<std::vector<float>> images, labels;
  std::vector<std::vector<size_t>> items;
};

Epoch run_epoch(Loader& loader, uint64_t epoch) {
  Epoch e;
  loader.start_epoch(epoch);
  Batch b;
  while (loader.next(b)) {
    CHECK(b.epoch == epoch);
    CHECK(b.index == int64_t(e.images.size()));
    e.images.push_back(b.images.to_vector());
    e.labels.push_back(b.labels.to_vector());
    e.items.push_back(b.items);
  }
  CHECK(int64_t(e.images.size()) == loader.batches_per_epoch());
  return e;
}

LoaderOptions opts(int workers, int depth, AugmentConfig aug = AugmentConfig::paper()) {
  LoaderOptions o;
  o.batch_size = 8;
  o.augment = aug;
  o.seed = 42;
  o.workers = workers;
  o.queue_depth = depth;
  return o;
}

}  // namespace

TEST_CASE("loader: epoch_permutation is a permutation, a pure function of (seed, epoch)") {
  const auto p = epoch_permutation(100, 7, 3);
  std::vector<size_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < 100; ++i) CHECK(sorted[i] == i);
  CHECK(epoch_permutation(100, 7, 3) == p);
  CHECK(epoch_permutation(100, 7, 4) != p);
  CHECK(epoch_permutation(100, 8, 3) != p);
  CHECK(epoch_permutation(0, 1, 1).empty());
  CHECK(epoch_permutation(1, 1, 1) == std::vector<size_t>{0});
}

TEST_CASE("loader: every sample once per epoch, labels match, each image is augment_into(seed, epoch, sample)") {
  const ImageCache cache = random_cache(37, 12, 10, 3);
  // Items in a scrambled order, to show that augmentation follows the sample, not the position.
  std::vector<size_t> items = all_items(cache);
  std::reverse(items.begin(), items.end());
  Loader loader(cache, items, opts(2, 3));
  CHECK(loader.batches_per_epoch() == 5);  // 37 = 4 x 8 + 5
  CHECK(loader.samples_per_epoch() == 37);
  for (uint64_t epoch : {0, 1}) {
    const Epoch e = run_epoch(loader, epoch);
    std::multiset<size_t> seen;
    Tensor want = Tensor::empty({1, 3, 12, 10});
    for (size_t b = 0; b < e.items.size(); ++b) {
      CHECK(e.items[b].size() == (b < 4 ? 8u : 5u));  // the partial last batch is kept
      for (size_t j = 0; j < e.items[b].size(); ++j) {
        const size_t k = e.items[b][j];
        seen.insert(k);
        CHECK(e.labels[b][j] == float(k % 2));
        augment_into(AugmentConfig::paper(), cache.image(int64_t(k)), 12, 10, 3, 42, epoch, k, want, 0);
        const auto w = want.to_vector();
        CHECK(std::equal(w.begin(), w.end(), e.images[b].begin() + long(j * w.size())));
      }
    }
    CHECK(seen.size() == 37);
    CHECK(std::set<size_t>(seen.begin(), seen.end()).size() == 37);  // each exactly once
  }
}

TEST_CASE("loader: same seed -> same batches, workers and queue depth change nothing, bit for bit") {
  const ImageCache cache = random_cache(29, 9, 11, 3);
  Loader reference(cache, all_items(cache), opts(1, 1));
  const Epoch e0 = run_epoch(reference, 0), e1 = run_epoch(reference, 1);
  for (const auto& [workers, depth] : {std::pair{1, 4}, std::pair{2, 1}, std::pair{2, 4}, std::pair{3, 2}}) {
    CAPTURE(workers);
    CAPTURE(depth);
    Loader loader(cache, all_items(cache), opts(workers, depth));
    const Epoch a = run_epoch(loader, 0), b = run_epoch(loader, 1);
    CHECK(a.items == e0.items);
    CHECK(a.images == e0.images);  // vector<float> ==: exact
    CHECK(a.labels == e0.labels);
    CHECK(b.images == e1.images);
  }
  // Re-running an epoch gives it again (a pure function of the epoch number).
  const Epoch again = run_epoch(reference, 0);
  CHECK(again.images == e0.images);
  // Another seed: another order.
  LoaderOptions other = opts(2, 2);
  other.seed = 43;
  Loader different(cache, all_items(cache), other);
  CHECK(run_epoch(different, 0).items != e0.items);
}

TEST_CASE("loader: different epochs give a different order and different augmentation") {
  const ImageCache cache = random_cache(40, 10, 10, 1);
  Loader loader(cache, all_items(cache), opts(2, 2));
  const Epoch a = run_epoch(loader, 0), b = run_epoch(loader, 1);
  CHECK(a.items != b.items);
  // Find sample 0 in both epochs: its pixels differ (a new random transform).
  const auto find = [](const Epoch& e, size_t k) {
    for (size_t bi = 0; bi < e.items.size(); ++bi)
      for (size_t j = 0; j < e.items[bi].size(); ++j)
        if (e.items[bi][j] == k)
          return std::vector<float>(e.images[bi].begin() + long(j * 100), e.images[bi].begin() + long(j * 100 + 100));
    return std::vector<float>{};
  };
  CHECK(find(a, 0) != find(b, 0));
  CHECK(find(a, 0).size() == 100);
}

TEST_CASE("loader: progressive augmentation warps epoch e with strength min(1, e / warmup)") {
  const ImageCache cache = random_cache(19, 11, 9, 3);
  LoaderOptions o = opts(2, 2);
  o.augment_warmup_epochs = 4;
  Loader loader(cache, all_items(cache), o);
  Tensor want = Tensor::empty({1, 3, 11, 9});
  for (uint64_t epoch : {0, 1, 3, 4, 6}) {
    CAPTURE(epoch);
    AugmentConfig cfg = AugmentConfig::paper();
    cfg.strength = std::min(1.0f, float(epoch) / 4.0f);
    CHECK(epoch_augment(o, epoch).strength == cfg.strength);
    const Epoch e = run_epoch(loader, epoch);
    for (size_t b = 0; b < e.items.size(); ++b)
      for (size_t j = 0; j < e.items[b].size(); ++j) {
        const size_t k = e.items[b][j];
        augment_into(cfg, cache.image(int64_t(k)), 11, 9, 3, 42, epoch, k, want, 0);
        const auto w = want.to_vector();
        CHECK(std::equal(w.begin(), w.end(), e.images[b].begin() + long(j * w.size())));
      }
  }
}

TEST_CASE("loader: shuffle off keeps the order, drop_last drops the partial batch") {
  const ImageCache cache = random_cache(21, 6, 6, 3);
  LoaderOptions o = opts(2, 2, AugmentConfig::none());
  o.shuffle = false;
  std::vector<size_t> items = {20, 3, 3, 7, 0, 1, 2, 4, 5, 6, 8};  // repeats allowed
  Loader plain(cache, items, o);
  const Epoch e = run_epoch(plain, 5);
  REQUIRE(e.items.size() == 2);
  CHECK(e.items[0] == std::vector<size_t>(items.begin(), items.begin() + 8));
  CHECK(e.items[1] == std::vector<size_t>{5, 6, 8});
  CHECK(e.images[1].size() == 3u * 3 * 6 * 6);

  o.drop_last = true;
  Loader dropping(cache, items, o);
  CHECK(dropping.batches_per_epoch() == 1);
  CHECK(dropping.samples_per_epoch() == 8);
  CHECK(run_epoch(dropping, 0).items.size() == 1);

  o.batch_size = 32;  // fewer items than one batch: nothing with drop_last, one batch without
  Loader none(cache, items, o);
  CHECK(run_epoch(none, 0).items.empty());
  o.drop_last = false;
  Loader one(cache, items, o);
  CHECK(run_epoch(one, 0).items.size() == 1);

  Loader empty(cache, {}, o);
  CHECK(run_epoch(empty, 0).items.empty());
}

TEST_CASE("loader: the rescale-only copy gives exactly augment_into(AugmentConfig::none())") {
  const ImageCache cache = random_cache(9, 7, 5, 3);
  Loader loader(cache, all_items(cache), opts(1, 2, AugmentConfig::none()));
  const Epoch e = run_epoch(loader, 2);
  Tensor want = Tensor::empty({1, 3, 7, 5});
  for (size_t b = 0; b < e.items.size(); ++b)
    for (size_t j = 0; j < e.items[b].size(); ++j) {
      const size_t k = e.items[b][j];
      augment_into(AugmentConfig::none(), cache.image(int64_t(k)), 7, 5, 3, 42, 2, k, want, 0);
      const auto w = want.to_vector();
      CHECK(std::equal(w.begin(), w.end(), e.images[b].begin() + long(j * w.size())));
      CHECK(e.images[b][j * w.size()] == float(cache.image(int64_t(k))[0]) * (1.0f / 255.0f));
    }
}

TEST_CASE("loader: batch buffers are recycled, but never while the consumer still holds them") {
  const ImageCache cache = random_cache(64, 6, 6, 3);
  LoaderOptions o = opts(2, 2);
  o.batch_size = 4;  // 16 batches
  Loader loader(cache, all_items(cache), o);
  loader.start_epoch(0);
  Batch b;
  std::set<const float*> buffers;
  REQUIRE(loader.next(b));
  const Tensor kept = b.images;  // the consumer keeps batch 0
  const std::vector<float> kept_values = kept.to_vector();
  buffers.insert(b.images.data());
  while (loader.next(b)) buffers.insert(b.images.data());
  CHECK(kept.to_vector() == kept_values);  // not overwritten by the 15 batches after it
  CHECK(buffers.size() <= 2 + 1 + 1);      // queue_depth + the consumer's + the one kept
}

TEST_CASE("loader: stopping early does not hang, start_epoch mid-epoch restarts cleanly") {
  const ImageCache cache = random_cache(200, 16, 16, 3);
  LoaderOptions o = opts(2, 3);
  {
    Loader never_started(cache, all_items(cache), o);
  }
  {
    Loader started_only(cache, all_items(cache), o);
    started_only.start_epoch(0);  // workers busy, nobody consumes
  }
  {
    Loader one_batch(cache, all_items(cache), o);
    one_batch.start_epoch(0);
    Batch b;
    REQUIRE(one_batch.next(b));
  }  // destroyed with the queue full and workers blocked on the window
  {
    Loader restart(cache, all_items(cache), o);
    const Epoch full = run_epoch(restart, 1);
    restart.start_epoch(0);
    Batch b;
    REQUIRE(restart.next(b));
    REQUIRE(restart.next(b));
    const Epoch again = run_epoch(restart, 1);  // abandons epoch 0 halfway
    CHECK(again.images == full.images);
  }
  Loader unstarted(cache, all_items(cache), o);
  Batch b;
  CHECK_THROWS_AS(unstarted.next(b), std::logic_error);
}

TEST_CASE("loader: an exception in a worker surfaces in next(), in batch order") {
  const ImageCache cache = random_cache(40, 5, 5, 1);
  LoaderOptions o = opts(2, 3);
  o.on_batch = [](Batch& b) {
    if (b.epoch == 0 && b.index == 2) throw std::runtime_error("bad batch 2");
  };
  Loader loader(cache, all_items(cache), o);
  loader.start_epoch(0);
  Batch b;
  REQUIRE(loader.next(b));
  CHECK(b.index == 0);
  REQUIRE(loader.next(b));
  CHECK(b.index == 1);
  CHECK_THROWS_WITH_AS(loader.next(b), "bad batch 2", std::runtime_error);
  CHECK_THROWS_WITH_AS(loader.next(b), "bad batch 2", std::runtime_error);  // the epoch stays failed
  const Epoch next_epoch = run_epoch(loader, 1);  // a new epoch works again
  CHECK(next_epoch.items.size() == 5);

  CHECK_THROWS_AS(Loader(cache, {40}, o), std::out_of_range);
  o.workers = 0;
  CHECK_THROWS_AS(Loader(cache, {}, o), std::invalid_argument);
}

TEST_CASE("loader: from a decoded synthetic dataset, a split's positions") {
  test::TempDir dir("loader_synth");
  SynthDatasetOptions so;
  so.render.min_side = 40;
  so.render.max_side = 56;
  so.render.model_side = 20;
  write_synthetic_dataset(dir.file("set"), {10, 4, 0}, 9, so);
  const Dataset ds = list_dataset(dir.file("set"));
  const ImageCache cache(ds, ImageCacheOptions{.height = 20, .width = 20});
  const std::vector<size_t> train = cache.positions_of(ds.indices("train"));
  REQUIRE(train.size() == 10);
  LoaderOptions o = opts(2, 2);
  o.batch_size = 4;
  Loader loader(cache, train, o);
  const Epoch e = run_epoch(loader, 0);
  REQUIRE(e.items.size() == 3);
  for (size_t b = 0; b < e.items.size(); ++b)
    for (size_t j = 0; j < e.items[b].size(); ++j) {
      const Sample& s = ds.samples[cache.sample_index(int64_t(e.items[b][j]))];
      CHECK(s.split == "train");
      CHECK(e.labels[b][j] == float(s.label));
      CHECK(std::all_of(e.images[b].begin(), e.images[b].end(), [](float v) { return v >= 0 && v <= 1; }));
    }
}
