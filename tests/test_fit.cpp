// The fit engine: early stopping with restore of the best weights, the NaN stop,
// and resume that repeats an uninterrupted run bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "data/image_cache.h"
#include "data/loader.h"
#include "layers/bce.h"
#include "net/fit.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "tensor/rng.h"
#include "temp_dir.h"

using namespace radius;
using radius::test::TempDir;

namespace {

// batchnorm: a batchnorm2d between the conv and its relu (state buffers in the model).
std::unique_ptr<Sequential> fit_model(uint64_t seed, bool batchnorm = false) {
  const std::string conv = batchnorm ? "conv2d filters=4 kernel=3\nbatchnorm2d\nrelu\n" : "conv2d filters=4 kernel=3 activation=relu\n";
  auto m = parse_model_spec(
      "input height=8 width=8 channels=3\n" + conv + "maxpool2d pool=2\nflatten\n"
      "dropout rate=0.3\ndense units=8 activation=relu\ndense units=1 activation=sigmoid\n",
      "<fit-test>");
  m->init(seed);
  return m;
}

// n images 8x8x3: class 1 is brighter on the left half.
ImageCache toy_cache(int n, uint64_t salt) {
  std::vector<uint8_t> px(static_cast<size_t>(n) * 8 * 8 * 3);
  std::vector<int> labels(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    labels[size_t(k)] = k % 2;
    for (int i = 0; i < 8 * 8 * 3; ++i) {
      const int col = (i / 3) % 8;
      const uint32_t h = uint32_t((k + salt) * 2654435761u) ^ uint32_t(i * 40503u);
      int v = int(h % 120) + 40;
      if (labels[size_t(k)] == 1 && col < 4) v += 80;
      px[size_t(k) * 192 + size_t(i)] = uint8_t(v);
    }
  }
  return ImageCache::from_pixels(std::move(px), std::move(labels), 8, 8, 3);
}

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

MemoryBatches memory_batches(const ImageCache& cache, int64_t batch, bool flip_labels) {
  LoaderOptions lo;
  lo.batch_size = batch;
  lo.shuffle = false;
  Loader l(cache, iota(size_t(cache.size())), lo);
  l.start_epoch(0);
  std::vector<MemoryBatches::Item> items;
  Batch b;
  while (l.next(b)) {
    Tensor y = b.labels.clone();
    if (flip_labels)
      for (int64_t i = 0; i < y.numel(); ++i) y.at(i) = 1.0f - y.at(i);
    items.push_back({b.images.clone(), y});
  }
  return MemoryBatches(std::move(items));
}

// Injects a NaN label into one batch of one epoch.
class PoisonedBatches final : public BatchSource {
 public:
  PoisonedBatches(BatchSource& inner, int epoch, int64_t batch) : inner_(inner), epoch_(epoch), batch_(batch) {}
  void start_epoch(uint64_t e) override {
    e_ = int(e);
    b_ = 0;
    inner_.start_epoch(e);
  }
  bool next(Tensor& x, Tensor& y) override {
    if (!inner_.next(x, y)) return false;
    if (e_ == epoch_ && ++b_ == batch_) {
      y = y.clone();
      y.at(0) = std::nanf("");  // a NaN label: the loss is NaN
    }
    return true;
  }
  int64_t batches_per_epoch() const override { return inner_.batches_per_epoch(); }
  int64_t samples_per_epoch() const override { return inner_.samples_per_epoch(); }

 private:
  BatchSource& inner_;
  int epoch_;
  int64_t batch_;
  int e_ = 0;
  int64_t b_ = 0;
};

}  // namespace

TEST_CASE("fit: early stopping on val loss restores the best epoch's weights (batch norm statistics included)") {
  for (const bool batchnorm : {false, true}) {
    CAPTURE(batchnorm);
    TempDir dir("fit_es");
    const ImageCache cache = toy_cache(32, 0);
    MemoryBatches train = memory_batches(cache, 8, false);
    MemoryBatches val = memory_batches(cache, 8, true);  // the opposite labels: val loss rises as train learns
    auto m = fit_model(3, batchnorm);
    Adam adam(AdamConfig::keras(1e-2f));
    FitOptions o;
    o.max_epochs = 15;
    o.patience = 2;
    o.best_checkpoint = dir.file("best.ckpt.safetensors");
    o.last_checkpoint = dir.file("last.ckpt.safetensors");
    const FitResult r = fit(*m, adam, train, &val, o);
    CHECK(r.stopped_early);
    REQUIRE(r.best_epoch >= 1);
    CHECK(int(r.history.size()) == r.best_epoch + 2);
    CHECK(r.restored_best);
    for (const HistoryRow& h : r.history) CHECK(h.val_loss >= r.best_val_loss);
    // The model now holds the best checkpoint's weights.
    auto best = fit_model(4, batchnorm);
    const CheckpointState s = load_checkpoint(o.best_checkpoint, *best, nullptr);
    CHECK(s.epoch == r.best_epoch);
    CHECK(best->params().to_vector() == m->params().to_vector());
    CHECK(best->state().to_vector() == m->state().to_vector());  // the running statistics of that epoch
    // The last checkpoint holds the last epoch, marked as stopped.
    const CheckpointFile last = read_checkpoint(o.last_checkpoint);
    CHECK(last.state.epoch == int(r.history.size()));
    CHECK(last.state.stopped);
  }
}

TEST_CASE("fit: a NaN loss stops training naming the epoch, the batch and the last good checkpoint") {
  TempDir dir("fit_nan");
  const ImageCache cache = toy_cache(32, 1);
  MemoryBatches clean = memory_batches(cache, 8, false);
  PoisonedBatches train(clean, 2, 3);
  auto m = fit_model(5);
  Adam adam(AdamConfig::keras(1e-3f));
  FitOptions o;
  o.max_epochs = 4;
  o.last_checkpoint = dir.file("last.ckpt.safetensors");
  try {
    fit(*m, adam, train, nullptr, o);
    FAIL("no error");
  } catch (const NonFiniteError& e) {
    const std::string w = e.what();
    CHECK(e.epoch == 2);
    CHECK(e.batch == 3);
    CHECK(w.find("epoch 2, batch 3/4") != std::string::npos);
    CHECK(w.find(o.last_checkpoint) != std::string::npos);
    CHECK(w.find("NaN") != std::string::npos);
  }
  // The last good checkpoint is epoch 1's, intact.
  CHECK(read_checkpoint(o.last_checkpoint).state.epoch == 1);

  SUBCASE("a huge learning rate") {
    MemoryBatches t2 = memory_batches(cache, 8, false);
    auto m2 = fit_model(5);
    Sgd sgd(SgdConfig{1e6f, 0.0f, false});
    FitOptions o2;
    o2.max_epochs = 5;
    CHECK_THROWS_WITH_AS(fit(*m2, sgd, t2, nullptr, o2), doctest::Contains("training stopped"), NonFiniteError);
  }
}

TEST_CASE("fit: a resumed run repeats the uninterrupted one bit for bit") {
  TempDir dir("fit_resume");
  const ImageCache cache = toy_cache(40, 2);
  const ImageCache vcache = toy_cache(16, 77);
  LoaderOptions lo;
  lo.batch_size = 8;
  lo.augment = AugmentConfig::paper();  // shuffle + augmentation per (seed, epoch)
  lo.seed = 11;
  LoaderOptions vo = lo;
  vo.augment = AugmentConfig::none();
  vo.shuffle = false;

  auto run = [&](const std::string& tag, int stop_after, bool resume_from) {
    auto m = fit_model(7);
    Adam adam(AdamConfig::keras(3e-3f));
    Loader tl(cache, iota(40), lo), vl(vcache, iota(16), vo);
    LoaderBatches train(tl), val(vl);
    FitOptions o;
    o.max_epochs = stop_after;
    o.patience = 10;
    o.last_checkpoint = dir.file(tag + "_last.ckpt.safetensors");
    o.best_checkpoint = dir.file(tag + "_best.ckpt.safetensors");
    CheckpointState st;
    if (resume_from) st = load_checkpoint(o.last_checkpoint, *m, &adam);
    FitResult r = fit(*m, adam, train, &val, o, nullptr, resume_from ? &st : nullptr);
    return std::make_pair(r, m->params().to_vector());
  };
  const auto [whole, whole_params] = run("whole", 5, false);
  run("split", 2, false);
  const auto [resumed, resumed_params] = run("split", 5, true);
  REQUIRE(whole.history.size() == 5);
  REQUIRE(resumed.history.size() == 5);
  CHECK(resumed.epochs_run == 3);
  for (size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(resumed.history[i].epoch == whole.history[i].epoch);
    CHECK(resumed.history[i].train_loss == whole.history[i].train_loss);
    CHECK(resumed.history[i].train_accuracy == whole.history[i].train_accuracy);
    CHECK(resumed.history[i].val_loss == whole.history[i].val_loss);
    CHECK(resumed.history[i].val_accuracy == whole.history[i].val_accuracy);
  }
  CHECK(resumed.best_epoch == whole.best_epoch);
  CHECK(resumed_params == whole_params);
  CHECK(resumed.state.optimizer_steps == whole.state.optimizer_steps);
  CHECK(resumed.state.global_step == whole.state.global_step);
}

TEST_CASE("fit: micro-batches sum their gradients in order, as processes adding in rank order would, bit for bit") {
  // No dropout or batch norm: the micro-batched step then also approximates the whole batch's.
  const std::string spec = "input height=8 width=8 channels=2\nconv2d filters=3 kernel=3 activation=relu\n"
                           "maxpool2d pool=2\nflatten\ndense units=4 activation=relu\ndense units=1 activation=sigmoid\n";
  Tensor x = Tensor::empty(Shape{7, 2, 8, 8});
  Rng rng(11, 0);
  for (int64_t k = 0; k < x.numel(); ++k) x.cpu()[k] = rng.uniform(-1.0f, 1.0f);
  const Tensor y = Tensor::from_vector(Shape{7}, {0, 1, 1, 0, 1, 0, 1});

  auto micro = parse_model_spec(spec, "micro");
  micro->init(4);
  Adam adam_micro(AdamConfig::keras(1e-2f));
  Trainer trainer(*micro, adam_micro);
  trainer.set_micro_batches(2);
  const StepResult s = trainer.step(x, y);

  // Two "ranks": each computes its micro-batch's gradient from zero (samples 0-2 and 3-6,
  // each weighted by its share of the batch); rank 0's sum plus rank 1's, in that order.
  auto rank = parse_model_spec(spec, "rank");
  rank->init(4);
  Tensor sum = Tensor::zeros(rank->grads().shape());
  double loss = 0;
  for (const auto& [begin, end] : {std::pair<int64_t, int64_t>{0, 3}, {3, 7}}) {
    const int64_t m = end - begin;
    const Tensor xs = x.slice(begin * 128, Shape{m, 2, 8, 8}), ys = y.slice(begin, Shape{m});
    rank->zero_grad();
    const Tensor& logits = rank->forward(xs, Mode::train);
    loss += bce_with_logits(logits, ys) * double(m) / 7.0;
    Tensor dlogits = Tensor::empty(logits.shape());
    bce_with_logits_grad(logits, ys, dlogits);
    for (int64_t k = 0; k < m; ++k) dlogits.cpu()[k] *= float(m) / 7.0f;
    rank->backward(dlogits);
    for (int64_t k = 0; k < sum.numel(); ++k) sum.cpu()[k] += rank->grads().cpu()[k];
  }
  Adam adam_ranks(AdamConfig::keras(1e-2f));
  adam_ranks.step(rank->params(), sum);
  CHECK(s.loss == doctest::Approx(loss).epsilon(1e-12));
  CHECK(std::memcmp(micro->params().cpu(), rank->params().cpu(), size_t(micro->num_params()) * sizeof(float)) == 0);

  // And close to the one-batch step (the same mean gradient, summed in another order).
  auto whole = parse_model_spec(spec, "whole");
  whole->init(4);
  Adam adam_whole(AdamConfig::keras(1e-2f));
  Trainer one(*whole, adam_whole);
  CHECK(one.step(x, y).loss == doctest::Approx(s.loss).epsilon(1e-6));
  for (int64_t k = 0; k < whole->num_params(); ++k)
    CHECK(whole->params().cpu()[k] == doctest::Approx(micro->params().cpu()[k]).epsilon(1e-4));
}
