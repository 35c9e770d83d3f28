#include "net/device_batches.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "layers/layer.h"
#ifdef RADIUS_WITH_CUDA
#include "kernels/augment.h"
#endif

namespace radius {

cuda::WarpParams pack_warp(const AffineParams& p, int h, int w) {
  const std::array<double, 6> m = affine_matrix(p, h, w);
  cuda::WarpParams out;
  std::copy(m.begin(), m.end(), out.m);
  out.flip_h = p.flip_h ? 1 : 0;
  out.flip_v = p.flip_v ? 1 : 0;
  return out;
}

DeviceAugmentBatches::DeviceAugmentBatches(const ImageCache& cache, std::vector<size_t> items, LoaderOptions options)
    : cache_(cache), items_(std::move(items)), options_(std::move(options)) {
  if (options_.batch_size < 1) throw std::invalid_argument("DeviceAugmentBatches: batch_size must be >= 1");
  if (options_.on_batch)
    throw std::invalid_argument("DeviceAugmentBatches: on_batch is not supported (the batch is made on the device)");
  if (cache_.height() <= 0) throw std::invalid_argument("DeviceAugmentBatches: the image cache is empty");
  for (size_t k : items_)
    if (k >= size_t(cache_.size()))
      throw std::out_of_range("DeviceAugmentBatches: cache position " + std::to_string(k) +
                              " out of range (cache holds " + std::to_string(cache_.size()) + " images)");
}

DeviceAugmentBatches::~DeviceAugmentBatches() = default;

int64_t DeviceAugmentBatches::batches_per_epoch() const {  // as Loader::batches_per_epoch
  const int64_t n = int64_t(items_.size()), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

int64_t DeviceAugmentBatches::samples_per_epoch() const {
  return options_.drop_last ? batches_per_epoch() * options_.batch_size : int64_t(items_.size());
}

void DeviceAugmentBatches::start_epoch(uint64_t epoch) {  // the Loader's order, as Loader::start_epoch
  if (epoch >= (uint64_t(1) << 40))
    throw std::invalid_argument("DeviceAugmentBatches::start_epoch: epoch must be < 2^40");
  epoch_ = epoch;
  if (options_.shuffle) {
    const std::vector<size_t> perm = epoch_permutation(items_.size(), options_.seed, epoch);
    order_.resize(items_.size());
    for (size_t i = 0; i < perm.size(); ++i) order_[i] = items_[perm[i]];
  } else {
    order_ = items_;
  }
  next_batch_ = 0;
  started_ = true;
}

DeviceAugmentBatches::HostBatch DeviceAugmentBatches::prepare(int64_t b) const {
  if (!started_) throw std::logic_error("DeviceAugmentBatches: call start_epoch first");
  if (b < 0 || b >= batches_per_epoch()) throw std::out_of_range("DeviceAugmentBatches::prepare: batch out of range");
  const int h = cache_.height(), w = cache_.width();
  const int64_t begin = b * options_.batch_size;
  const int64_t n = std::min<int64_t>(options_.batch_size, int64_t(order_.size()) - begin);
  const AugmentConfig augment = epoch_augment(options_, epoch_);
  HostBatch out;
  out.images.reserve(size_t(n));
  out.params.reserve(size_t(n));
  out.labels.reserve(size_t(n));
  for (int64_t j = 0; j < n; ++j) {
    const int64_t k = int64_t(order_[size_t(begin + j)]);
    out.images.push_back(cache_.image_data(k));
    out.params.push_back(
        pack_warp(draw_params(augment, h, w, options_.seed, epoch_, cache_.sample_index(k)), h, w));
    out.labels.push_back(float(cache_.label(k)));
  }
  return out;
}

bool DeviceAugmentBatches::next(Tensor& images, Tensor& labels) {
  if (!started_) throw std::logic_error("DeviceAugmentBatches::next: call start_epoch first");
  if (next_batch_ >= batches_per_epoch()) return false;
  const HostBatch host = prepare(next_batch_++);
  const int64_t n = int64_t(host.images.size());
  const int h = cache_.height(), w = cache_.width(), c = cache_.channels();
  images = Tensor::empty({n, c, h, w}, Device::cuda);  // the caching allocator: no cudaMalloc once warm
  labels = Tensor::from_vector({n}, host.labels);       // CPU, as BatchSource promises (fit moves them)
  RADIUS_CUDA_ONLY({
    if (!warper_) warper_ = std::make_shared<cuda::BatchWarper>();
    warper_->run(host.images.data(), host.params.data(), n, h, w, c,
                 sample_rescale(options_.augment.rescale, cache_.depth()), images.data(), cache_.depth());
  });
  return true;
}

}  // namespace radius
