// Toy images for tests and the first demo: noisy backgrounds, half of them with
// a bright bar (horizontal or vertical, random position and length, 1 px thick
// per 32 px of image side). Label 1 = bar present. A small CNN should learn it
// to ~100 %; if it cannot, the framework is broken.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace radius {

struct ToyBatch {
  Tensor images;  // [N, C, H, W], values in [0, 1]
  Tensor labels;  // [N]
};

// Image i is a pure function of (seed, i): deterministic and thread-independent.
ToyBatch make_bar_images(int64_t n, int64_t channels, int64_t height, int64_t width, uint64_t seed,
                         int64_t first_index = 0);

}  // namespace radius
