// The data loader: worker threads turn cached uint8 images into ready NCHW float
// batches ahead of the training loop, through a bounded queue.
//
// Determinism is the design constraint. Everything a batch contains is a pure function
// of (seed, epoch, the cache, the options):
//  - the epoch's order is a Fisher-Yates shuffle drawn from Philox stream
//    kShuffleStreamTag | epoch under `seed` (no shuffle: the given order);
//  - image k's augmentation is draw_params(cfg, seed, epoch, dataset sample index of k),
//    i.e. it depends on the image, not on its batch, its slot or the thread that made it
//    (cfg is the epoch's: epoch_augment(options, epoch));
//  - batch b holds order[b*B, b*B + B) and is delivered as batch b, whichever worker
//    finished first.
// So the batches are bit-identical for any worker count and queue depth.
//
// Threading: `workers` threads claim batch numbers in order, but only within a window of
// `queue_depth` batches ahead of the consumer, so at most queue_depth batches are being
// made or waiting (memory: (queue_depth + 1) x B x C x H x W floats, e.g. 5 x 8.6 MB for
// B=32 at 150x150x3). An exception thrown while making batch b is rethrown by the next()
// call that would have returned batch b. The destructor stops and joins the workers; it
// never waits for the consumer, so stopping mid-epoch is fine.
//
// Buffer reuse: batch tensors come from a pool and are recycled once the consumer holds
// no handle to them any more (Tensor::use_count), so the steady state allocates nothing
// and a tensor you keep (e.g. `Tensor x = batch.images;`) is never overwritten under you.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/image_cache.h"
#include "tensor/tensor.h"

namespace radius {

// Philox stream tag for the epoch shuffle ("SHF" in the top bytes); the epoch fills the low bits.
inline constexpr uint64_t kShuffleStreamTag = 0x5348460000000000ull;

struct Batch {
  Tensor images;               // [n, C, H, W] float, CPU: augment_into's output (rescaled)
  Tensor labels;               // [n] float: the class index (0/1 for the fracture set)
  std::vector<size_t> items;   // the n cache positions, in batch order
  uint64_t epoch = 0;
  int64_t index = 0;           // batch number within the epoch
  int64_t size() const { return images.defined() ? images.dim(0) : 0; }
};

struct LoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = true;     // a new order every epoch (Keras' flow_from_directory default)
  bool drop_last = false;  // false: the last batch may be smaller (as Keras); true: drop it
  AugmentConfig augment = AugmentConfig::none();  // training: AugmentConfig::paper()
  // Progressive augmentation: epoch e warps with strength augment_strength(this, e) times
  // augment.strength (data/augment.h); 0 = the full warp from the first epoch.
  int augment_warmup_epochs = 0;
  uint64_t seed = 0;       // shuffle and augmentation
  int workers = 2;         // >= 1 threads making batches
  int queue_depth = 4;     // >= 1 batches made ahead of the consumer
  // Optional, run on the worker thread after a batch is filled (extra preprocessing, test
  // hooks). Must be a pure function of the batch to keep determinism; exceptions propagate.
  std::function<void(Batch&)> on_batch;
};

// The epoch's order over positions [0, n): a pure function of (seed, epoch).
std::vector<size_t> epoch_permutation(size_t n, uint64_t seed, uint64_t epoch);

// The augmentation of epoch `epoch`: options.augment with the progressive-augmentation strength.
AugmentConfig epoch_augment(const LoaderOptions& options, uint64_t epoch);

class Loader {
 public:
  // `cache` must outlive the loader; `items` are cache positions (repeats allowed), e.g.
  // cache.positions_of(dataset.indices("train")).
  Loader(const ImageCache& cache, std::vector<size_t> items, LoaderOptions options);
  ~Loader();  // stops and joins the workers, also mid-epoch
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Begins epoch `epoch` (< 2^40): workers start making its batches at once. Calling it
  // mid-epoch abandons the rest of the current one.
  void start_epoch(uint64_t epoch);
  // Blocks until the next batch is ready and moves it into `out` (whose old tensors go back
  // to the pool). Returns false at the end of the epoch. Rethrows a worker's exception.
  bool next(Batch& out);

  int64_t batches_per_epoch() const;
  int64_t samples_per_epoch() const;  // items delivered per epoch (fewer with drop_last)
  const LoaderOptions& options() const { return options_; }

 private:
  struct Slot {  // one batch buffer of the pool
    Tensor images, labels;  // full size [B, C, H, W] and [B]; allocated on first use
    Batch batch;            // what next() hands out: views of the above (fewer rows if partial)
  };
  struct Pending {  // ring entry: a claimed batch, in the making or ready
    int64_t batch = -1;
    Slot* slot = nullptr;
    std::exception_ptr error;
    bool ready = false;
  };
  struct Plan {  // one epoch
    uint64_t epoch = 0;
    std::vector<size_t> order;  // cache positions in delivery order
    int64_t batches = 0;
  };

  void worker_loop();
  void fill(Slot& slot, const Plan& plan, int64_t b, uint64_t generation);
  Slot* take_free_slot_locked();
  void reclaim_locked();

  const ImageCache& cache_;
  std::vector<size_t> items_;
  LoaderOptions options_;
  bool identity_;  // augment is rescale-only: a straight copy gives the same bits, faster

  std::mutex mutex_;
  std::condition_variable work_cv_;   // workers wait for a batch to claim
  std::condition_variable ready_cv_;  // the consumer waits for its batch
  bool stop_ = false;
  std::atomic<uint64_t> generation_{0};  // bumped by start_epoch: stale work is dropped
  std::shared_ptr<const Plan> plan_;
  int64_t claimed_ = 0, delivered_ = 0;  // next batch to claim / to deliver
  std::exception_ptr failed_;            // rethrown until the next start_epoch
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;   // ready to fill
  std::vector<Slot*> lent_;   // handed out by next(): reclaimed when only the pool holds them
  std::vector<Pending> ring_;  // batch b lives at ring_[b % queue_depth]
  std::vector<std::jthread> threads_;
};

}  // namespace radius
