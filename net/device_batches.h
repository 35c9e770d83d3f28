// Batches augmented on the GPU: the training-on-CUDA twin of LoaderBatches.
//
// The host does only the cheap, sequential part: the epoch's order
// (epoch_permutation, as the Loader), each image's transform (draw_params under
// (seed, epoch, sample index), as the Loader), packed by pack_warp. The uint8 HWC
// images and the parameters go to the device in one explicit upload through a
// pinned buffer (cuda::BatchWarper), and the warp (bilinear, fill
// nearest, flips, rescale) runs there, writing the float NCHW batch straight into
// a device tensor. Batch b of epoch e therefore holds the same images, parameters
// and labels as the Loader's batch b with the same LoaderOptions, and the same
// pixels up to float rounding (the per-pixel arithmetic is shared:
// kernels/augment_pixel.h). Uploading uint8 moves a quarter of the bytes of the
// float batch, and the warp no longer costs CPU time per image.
//
// The CPU path (Loader + LoaderBatches) stays the default for CPU training.
// prepare() is the host half and is tested without a GPU; next() needs CUDA.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "data/augment.h"
#include "data/image_cache.h"
#include "data/loader.h"
#include "kernels/augment_pixel.h"
#include "net/fit.h"

namespace radius {

namespace cuda {
class BatchWarper;
}

// The kernel's view of one transform: affine_matrix(p, h, w) and the flips.
cuda::WarpParams pack_warp(const AffineParams& p, int h, int w);

class DeviceAugmentBatches final : public BatchSource {
 public:
  // The host half of batch b: what is uploaded.
  struct HostBatch {
    std::vector<const void*> images;       // [n] HWC images in the cache (uint8, or uint16 in a 16-bit cache)
    std::vector<cuda::WarpParams> params;  // [n]
    std::vector<float> labels;             // [n] class index
  };

  // Same arguments as Loader (`cache` must outlive this); workers and queue_depth are
  // unused (nothing per image runs on the host but a memcpy), on_batch is refused.
  DeviceAugmentBatches(const ImageCache& cache, std::vector<size_t> items, LoaderOptions options);
  ~DeviceAugmentBatches() override;

  void start_epoch(uint64_t epoch) override;
  // images: CUDA [n, C, H, W] float; labels: CPU [n] (fit and the health monitor read
  // them there; fit uploads the n floats). Needs a CUDA build and device.
  bool next(Tensor& images, Tensor& labels) override;
  int64_t batches_per_epoch() const override;
  int64_t samples_per_epoch() const override;

  HostBatch prepare(int64_t b) const;  // batch b of the started epoch (host only)

 private:
  const ImageCache& cache_;
  std::vector<size_t> items_;
  LoaderOptions options_;
  uint64_t epoch_ = 0;
  bool started_ = false;
  std::vector<size_t> order_;  // cache positions in delivery order
  int64_t next_batch_ = 0;
  std::shared_ptr<cuda::BatchWarper> warper_;  // created on first next() (shared_ptr: the type is complete only in CUDA builds)
};

}  // namespace radius
