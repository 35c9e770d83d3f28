#include "data/bars.h"

#include <algorithm>

#include "tensor/rng.h"

namespace radius {

ToyBatch make_bar_images(int64_t n, int64_t channels, int64_t height, int64_t width, uint64_t seed,
                         int64_t first_index) {
  ToyBatch b{Tensor::empty(Shape{n, channels, height, width}), Tensor::empty(Shape{n})};
  const int64_t plane = height * width;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    Rng rng(seed, uint64_t(first_index + i));
    const bool bar = (first_index + i) % 2 == 0;  // exact balance
    float* img = b.images.cpu() + i * channels * plane;
    for (int64_t p = 0; p < plane; ++p) img[p] = 0.3f * rng.uniform();
    if (bar) {
      const bool horizontal = rng.uniform() < 0.5f;
      const int64_t along = horizontal ? width : height, across = horizontal ? height : width;
      const int64_t len = std::max<int64_t>(3, int64_t(rng.uniform(0.4f, 0.8f) * float(along)));
      const int64_t start = int64_t(rng.below(uint32_t(along - len + 1)));
      // 1 px wide on tiny images, a few px on large ones, so pooling keeps it.
      const int64_t thick = std::max<int64_t>(1, std::min(height, width) / 32);
      const int64_t pos = int64_t(rng.below(uint32_t(across - thick + 1)));
      for (int64_t t = start; t < start + len; ++t)
        for (int64_t k = pos; k < pos + thick; ++k) {
          const int64_t r = horizontal ? k : t, c = horizontal ? t : k;
          img[r * width + c] = 0.7f + 0.3f * rng.uniform();
        }
    }
    for (int64_t ch = 1; ch < channels; ++ch) std::copy(img, img + plane, img + ch * plane);
    b.labels.cpu()[i] = bar ? 1.0f : 0.0f;
  }
  return b;
}

}  // namespace radius
