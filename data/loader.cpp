#include "data/loader.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "tensor/rng.h"

namespace radius {

std::vector<size_t> epoch_permutation(size_t n, uint64_t seed, uint64_t epoch) {
  if (n > size_t(UINT32_MAX)) throw std::invalid_argument("epoch_permutation: more than 2^32 items");
  if (epoch >= (uint64_t(1) << 40)) throw std::invalid_argument("epoch_permutation: epoch must be < 2^40");
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), size_t(0));
  // Fisher-Yates from the back: unbiased (Rng::below is Lemire's exact method).
  Rng rng(seed, kShuffleStreamTag | epoch);
  for (size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(uint32_t(i))]);
  return perm;
}

AugmentConfig epoch_augment(const LoaderOptions& options, uint64_t epoch) {
  AugmentConfig cfg = options.augment;
  cfg.strength *= augment_strength(options.augment_warmup_epochs, epoch);
  return cfg;
}

namespace {

bool is_rescale_only(const AugmentConfig& c) {
  return c.rotation_range == 0 && c.width_shift == 0 && c.height_shift == 0 && c.shear_range == 0 &&
         c.zoom_range == 0 && !c.horizontal_flip && !c.vertical_flip;
}

// HWC uint8 or uint16 -> CHW float times rescale. For identity parameters the bilinear warp
// samples at integer coordinates with zero weights, so it computes exactly float(v) * rescale:
// this loop gives the same bits at a fraction of the cost (tested).
template <typename T>
void copy_rescaled(const T* src, int h, int w, int c, float rescale, float* dst) {
  const int64_t plane = int64_t(h) * w;
  for (int ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < plane; ++i) dst[ch * plane + i] = float(src[i * c + ch]) * rescale;
}

}  // namespace

Loader::Loader(const ImageCache& cache, std::vector<size_t> items, LoaderOptions options)
    : cache_(cache), items_(std::move(items)), options_(std::move(options)),
      identity_(is_rescale_only(options_.augment)) {
  if (options_.batch_size < 1) throw std::invalid_argument("Loader: batch_size must be >= 1");
  if (options_.workers < 1) throw std::invalid_argument("Loader: workers must be >= 1");
  if (options_.queue_depth < 1) throw std::invalid_argument("Loader: queue_depth must be >= 1");
  if (cache_.height() <= 0) throw std::invalid_argument("Loader: the image cache is empty");
  for (size_t k : items_)
    if (k >= size_t(cache_.size()))
      throw std::out_of_range("Loader: cache position " + std::to_string(k) + " out of range (cache holds " +
                              std::to_string(cache_.size()) + " images)");
  ring_.resize(size_t(options_.queue_depth));
  threads_.reserve(size_t(options_.workers));
  for (int t = 0; t < options_.workers; ++t) threads_.emplace_back([this] { worker_loop(); });
}

Loader::~Loader() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    ++generation_;  // makes a batch in the making stop at its next image
  }
  work_cv_.notify_all();
  threads_.clear();  // jthread joins
}

int64_t Loader::batches_per_epoch() const {
  const int64_t n = int64_t(items_.size()), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

int64_t Loader::samples_per_epoch() const {
  return options_.drop_last ? batches_per_epoch() * options_.batch_size : int64_t(items_.size());
}

void Loader::start_epoch(uint64_t epoch) {
  if (epoch >= (uint64_t(1) << 40)) throw std::invalid_argument("Loader::start_epoch: epoch must be < 2^40");
  auto plan = std::make_shared<Plan>();
  plan->epoch = epoch;
  plan->batches = batches_per_epoch();
  if (options_.shuffle) {
    const auto perm = epoch_permutation(items_.size(), options_.seed, epoch);
    plan->order.resize(items_.size());
    for (size_t i = 0; i < perm.size(); ++i) plan->order[i] = items_[perm[i]];
  } else {
    plan->order = items_;
  }
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    // Finished batches of the old epoch go back to the pool; those still in the making are
    // returned by their worker when it sees the new generation.
    for (Pending& p : ring_) {
      if (p.ready && p.slot) free_.push_back(p.slot);
      p = Pending{};
    }
    plan_ = std::move(plan);
    claimed_ = delivered_ = 0;
    failed_ = nullptr;
  }
  work_cv_.notify_all();
}

bool Loader::next(Batch& out) {
  out.images = Tensor();  // drop the caller's handles first, so the old buffers can be reclaimed
  out.labels = Tensor();
  std::unique_lock lock(mutex_);
  if (!plan_) throw std::logic_error("Loader::next: call start_epoch first");
  reclaim_locked();
  if (failed_) std::rethrow_exception(failed_);
  if (delivered_ >= plan_->batches) return false;
  Pending& p = ring_[size_t(delivered_ % options_.queue_depth)];
  const int64_t want = delivered_;
  ready_cv_.wait(lock, [&] { return p.ready && p.batch == want; });
  Slot* slot = p.slot;
  const std::exception_ptr error = p.error;
  p = Pending{};
  ++delivered_;
  work_cv_.notify_all();  // the window moved: a worker may claim one more
  if (error) {
    free_.push_back(slot);
    failed_ = error;
    std::rethrow_exception(error);
  }
  std::swap(out, slot->batch);  // out gets the views; the slot keeps out's old items vector
  lent_.push_back(slot);
  return true;
}

void Loader::reclaim_locked() {
  for (size_t i = 0; i < lent_.size();) {
    Slot* s = lent_[i];
    if (s->images.use_count() <= 1 && s->labels.use_count() <= 1) {
      // Pairs with the release in the consumer's last handle drop: its reads of the
      // buffer happen before our worker writes into it.
      std::atomic_thread_fence(std::memory_order_acquire);
      free_.push_back(s);
      lent_[i] = lent_.back();
      lent_.pop_back();
    } else {
      ++i;
    }
  }
}

Loader::Slot* Loader::take_free_slot_locked() {
  if (free_.empty()) reclaim_locked();
  if (!free_.empty()) {
    Slot* s = free_.back();
    free_.pop_back();
    return s;
  }
  // The pool grows to queue_depth + 1 slots (+ any batches the consumer still holds).
  slots_.push_back(std::make_unique<Slot>());
  return slots_.back().get();
}

void Loader::worker_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [&] {
      return stop_ || (plan_ && !failed_ && claimed_ < plan_->batches && claimed_ < delivered_ + options_.queue_depth);
    });
    if (stop_) return;
    const int64_t b = claimed_++;
    const uint64_t generation = generation_;
    const std::shared_ptr<const Plan> plan = plan_;  // stays valid even if start_epoch replaces it
    Slot* slot = take_free_slot_locked();
    ring_[size_t(b % options_.queue_depth)] = Pending{b, slot, nullptr, false};
    lock.unlock();

    std::exception_ptr error;
    try {
      fill(*slot, *plan, b, generation);
    } catch (...) {
      error = std::current_exception();
    }

    lock.lock();
    if (generation != generation_) {  // start_epoch or the destructor came in between
      free_.push_back(slot);
      continue;
    }
    Pending& p = ring_[size_t(b % options_.queue_depth)];
    p.error = error;
    p.ready = true;
    ready_cv_.notify_all();
  }
}

void Loader::fill(Slot& slot, const Plan& plan, int64_t b, uint64_t generation) {
  const int64_t bs = options_.batch_size;
  const int h = cache_.height(), w = cache_.width(), c = cache_.channels();
  const int64_t begin = b * bs, n = std::min<int64_t>(bs, int64_t(plan.order.size()) - begin);
  // No batch holds more than the loader's items: --batch 100000 over 16 images takes 16 images' room.
  const int64_t capacity = std::min<int64_t>(bs, std::max<int64_t>(int64_t(items_.size()), 1));
  if (!slot.images.defined()) {
    slot.images = Tensor::empty({capacity, c, h, w});
    slot.labels = Tensor::empty({capacity});
  }
  Batch& batch = slot.batch;
  batch.images = n == capacity ? slot.images : slot.images.batch(0, n);
  batch.labels = n == capacity ? slot.labels : slot.labels.batch(0, n);
  batch.items.assign(plan.order.begin() + begin, plan.order.begin() + begin + n);
  batch.epoch = plan.epoch;
  batch.index = b;

  const AugmentConfig cfg = epoch_augment(options_, plan.epoch);
  float* images = slot.images.cpu();
  float* labels = slot.labels.cpu();
  const int64_t per_image = int64_t(c) * h * w;
  for (int64_t j = 0; j < n; ++j) {
    if (generation_.load(std::memory_order_relaxed) != generation) return;  // abandoned
    const size_t k = batch.items[size_t(j)];
    const uint64_t index = cache_.sample_index(int64_t(k));
    if (cache_.depth() == 16) {
      if (identity_)
        copy_rescaled(cache_.image16(int64_t(k)), h, w, c, sample_rescale(cfg.rescale, 16), images + j * per_image);
      else
        augment_into(cfg, cache_.image16(int64_t(k)), h, w, c, options_.seed, plan.epoch, index, slot.images, j);
    } else if (identity_) {
      copy_rescaled(cache_.image(int64_t(k)), h, w, c, cfg.rescale, images + j * per_image);
    } else {
      augment_into(cfg, cache_.image(int64_t(k)), h, w, c, options_.seed, plan.epoch, index, slot.images, j);
    }
    labels[j] = float(cache_.label(int64_t(k)));
  }
  if (options_.on_batch) options_.on_batch(batch);
}

}  // namespace radius
