// Resizing decoded images to the model's input size, bit-exact with Pillow, because
// Keras' load_img resizes with PIL.Image.resize (once, at load, before augmentation).
// Gray and RGB alike; every channel is resampled the same way.
#pragma once
#include "data/image.h"

namespace radius {

enum class Interpolation {
  // PIL NEAREST, Keras' default: src = floor((dst + 0.5) * in / out), computed as Pillow does
  // (double precision, position advanced by in/out per pixel).
  nearest,
  // PIL BILINEAR: a triangle filter whose support widens by in/out when shrinking (so a
  // downscale averages, i.e. is antialiased, unlike tf.image.resize); when enlarging it is
  // the half-pixel-centre bilinear with edges clamped. Separable, horizontal pass first,
  // 22-bit fixed-point weights and rounding exactly as Pillow's Resample.c. Checked
  // bit-exact against Pillow 11.3 on random images; Pillow 13 picks the pass order per
  // image and can then differ by one grey level.
  bilinear,
};

// 16-bit images: nearest copies samples; bilinear uses Pillow's filter geometry with
// floating-point weights (Pillow has no 16-bit reference to match bit for bit).
// Returns img resized to width x height (a copy when the size already matches).
Image resize(const Image& img, int width, int height, Interpolation method);

}  // namespace radius
