// Random image augmentation with the semantics of Keras' ImageDataGenerator
// (rotation, shifts, shear, zoom, flips, rescale), deterministic via Philox.
//
// Convention (documented choice; tested against SciPy in tests/golden/augment):
//   We follow keras-preprocessing 1.1.x / Keras < 2.9, where the 3x3 matrix
//     M = R(theta) · T(tx, ty) · Sh(shear) · Z(zx, zy)
//   acts directly on (row, col) coordinates: tx moves along rows (height_shift * H),
//   ty along columns (width_shift * W), zx scales rows, zy columns. M is centred on
//   o = (H/2 - 0.5, W/2 - 0.5) and used as a PULL map:
//     src(row, col) = A · (i, j) + b,  [A | b] = (Offset(o) · M · Offset(-o))[:2, :]
//   for output pixel (i, j). Positive theta therefore turns the content clockwise
//   on screen (row axis down). Keras >= 2.9 conjugates M with the row/col swap
//   (P·M·P) — for square images and the symmetric ranges used here the parameter
//   distribution is the same, so we keep the self-consistent (row, col) form.
//   Sampling: bilinear (SciPy order=1), fill_mode "nearest" (source coordinate
//   clamped into [0, n-1], which equals bilinear over an edge-replicated image).
//   Then the horizontal flip (reverse columns), vertical flip (reverse rows), rescale.
//
// Randomness: the 8 draws of one image come from two Philox blocks keyed by
// (seed, stream = kAugmentStreamTag | epoch, counter = 2 * image_index + {0, 1}).
// Use the image's dataset index (not its batch position), so parameters do not
// depend on shuffling, batch order or thread count.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "tensor/tensor.h"

namespace radius {

struct AugmentConfig {
  float rotation_range = 40.0f;  // degrees: theta ~ U(-r, r)
  float width_shift = 0.2f;      // < 1: fraction of W; >= 1: pixels (as Keras' float form)
  float height_shift = 0.2f;     // < 1: fraction of H; >= 1: pixels
  float shear_range = 0.2f;      // DEGREES (Keras converts with deg2rad): shear ~ U(-s, s)
  float zoom_range = 0.2f;       // zx, zy ~ U(1 - z, 1 + z) independently
  bool horizontal_flip = true;   // p = 0.5
  bool vertical_flip = false;    // p = 0.5
  float rescale = 1.0f / 255.0f;  // applied last; 1 keeps the 0..255 scale
  // Scales every drawn warp toward the identity: theta, tx, ty and shear times `strength`,
  // zoom 1 + strength * (z - 1). For these uniform draws that is the same as scaling the
  // ranges (s * U(-r, r) = U(-s r, s r)), without touching Keras' "< 1 is a fraction"
  // rule for shifts, and with the same Philox words at every strength. Flips are kept.
  float strength = 1.0f;

  static AugmentConfig none();   // validation/test: rescale only
  static AugmentConfig paper();  // the seed paper's training generator (= the defaults)
};

// Progressive augmentation: the strength for `epoch` (0-based) when the warp grows linearly
// from none over the first `warmup_epochs` epochs: min(1, epoch / warmup_epochs); 1 without
// a warmup. Why: with the paper's full warp from the first step, the paper model sits at
// chance for thousands of steps on the built-in data before it finds the fracture lines;
// unwarped images let it find them first (docs/synthetic-data.md). The same idea as
// EfficientNetV2's progressive learning (Tan & Le, 2021): weak augmentation early, the
// full regularisation later.
float augment_strength(int warmup_epochs, uint64_t epoch);

// One image's transform. Identity: all zero, zx = zy = 1, no flips.
struct AffineParams {
  float theta_deg = 0, tx = 0, ty = 0, shear_deg = 0, zx = 1, zy = 1;  // tx: rows, ty: cols (pixels)
  bool flip_h = false, flip_v = false;
};

// Philox stream tag for augmentation ("AUG" in the top bytes); the epoch fills the low bits.
inline constexpr uint64_t kAugmentStreamTag = 0x4155470000000000ull;

// Draws in Keras' order: theta, tx, ty, shear, zx, zy, flip_h, flip_v. Each draw
// has a fixed Philox word, so switching one parameter off leaves the others unchanged.
AffineParams draw_params(const AugmentConfig& cfg, int height, int width, uint64_t seed, uint64_t epoch,
                         uint64_t image_index);

// The centred pull map as a row-major 2x3 matrix [a00 a01 b0; a10 a11 b1]:
// src_row = a00*i + a01*j + b0, src_col = a10*i + a11*j + b1 (double, like NumPy).
std::array<double, 6> affine_matrix(const AffineParams& p, int height, int width);

// Warp + flips + rescale of one image: src HWC uint8 [h, w, c] -> dst CHW float [c, h, w].
// Output values are (bilinear sample in 0..255) * rescale.
void apply_affine(const AffineParams& p, const uint8_t* src, int h, int w, int c, float* dst,
                  float rescale = 1.0f);
// The same warp on 16-bit samples (values 0..65535 before `rescale`).
void apply_affine(const AffineParams& p, const uint16_t* src, int h, int w, int c, float* dst,
                  float rescale = 1.0f);

// The factor that applies AugmentConfig::rescale to samples of `depth` bits: rescale for 8,
// rescale / 257 for 16, so that full scale (255 or 65535) maps to the same value, and the
// paper's 1/255 takes either depth onto [0, 1].
float sample_rescale(float rescale, int depth);

// Draws the parameters for (seed, epoch, image_index) and writes slot `slot` of
// `batch` ([N, c, h, w] float, CPU).
void augment_into(const AugmentConfig& cfg, const uint8_t* src, int h, int w, int c, uint64_t seed,
                  uint64_t epoch, uint64_t image_index, Tensor& batch, int64_t slot);
// 16-bit samples; cfg.rescale applies to full scale as for 8-bit (sample_rescale).
void augment_into(const AugmentConfig& cfg, const uint16_t* src, int h, int w, int c, uint64_t seed,
                  uint64_t epoch, uint64_t image_index, Tensor& batch, int64_t slot);

// A whole batch, in parallel over images (OpenMP); bitwise independent of thread count.
// images[k] (HWC uint8 [h, w, c]) with dataset index indices[k] -> batch slot k.
void augment_batch(const AugmentConfig& cfg, std::span<const uint8_t* const> images,
                   std::span<const uint64_t> indices, int h, int w, int c, uint64_t seed, uint64_t epoch,
                   Tensor& batch);

// For a person to look at: a PNG grid of n tiles of `image` (HWC uint8, c in {1, 3, 4}).
// Tile 0 is the original; tile k >= 1 uses draw_params(cfg, h, w, seed, 0, k). Rescale is ignored.
void write_augment_grid(const uint8_t* image, int h, int w, int c, const AugmentConfig& cfg, int n,
                        uint64_t seed, const std::string& png_path);

}  // namespace radius
