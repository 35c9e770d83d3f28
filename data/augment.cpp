#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "tensor/rng.h"

namespace radius {

AugmentConfig AugmentConfig::none() {
  AugmentConfig cfg;
  cfg.rotation_range = cfg.width_shift = cfg.height_shift = cfg.shear_range = cfg.zoom_range = 0.0f;
  cfg.horizontal_flip = cfg.vertical_flip = false;
  return cfg;
}

AugmentConfig AugmentConfig::paper() { return AugmentConfig{}; }

AffineParams draw_params(const AugmentConfig& cfg, int height, int width, uint64_t seed, uint64_t epoch,
                         uint64_t image_index) {
  if (epoch >= (uint64_t(1) << 40)) throw std::invalid_argument("draw_params: epoch must be < 2^40");
  if (!(cfg.strength >= 0.0f && cfg.strength <= 1.0f))
    throw std::invalid_argument("draw_params: strength must be in [0, 1]");
  const uint64_t stream = kAugmentStreamTag | epoch;
  const Philox4x32 a = philox_at(seed, stream, 2 * image_index);
  const Philox4x32 b = philox_at(seed, stream, 2 * image_index + 1);
  const uint32_t word[8] = {a.v[0], a.v[1], a.v[2], a.v[3], b.v[0], b.v[1], b.v[2], b.v[3]};
  // np.random.uniform(lo, hi) = lo + (hi - lo) * u
  const auto uniform = [&](int k, float lo, float hi) { return lo + (hi - lo) * uniform01(word[k]); };
  // Keras: a shift range < 1 is a fraction of the image size, otherwise pixels.
  const auto shift = [&](int k, float range, int size) {
    const float s = uniform(k, -range, range);
    return range < 1.0f ? s * float(size) : s;
  };

  AffineParams p;
  if (cfg.rotation_range != 0) p.theta_deg = uniform(0, -cfg.rotation_range, cfg.rotation_range);
  if (cfg.height_shift != 0) p.tx = shift(1, cfg.height_shift, height);
  if (cfg.width_shift != 0) p.ty = shift(2, cfg.width_shift, width);
  if (cfg.shear_range != 0) p.shear_deg = uniform(3, -cfg.shear_range, cfg.shear_range);
  if (cfg.zoom_range != 0) {
    p.zx = uniform(4, 1.0f - cfg.zoom_range, 1.0f + cfg.zoom_range);
    p.zy = uniform(5, 1.0f - cfg.zoom_range, 1.0f + cfg.zoom_range);
  }
  p.flip_h = cfg.horizontal_flip && uniform01(word[6]) < 0.5f;
  p.flip_v = cfg.vertical_flip && uniform01(word[7]) < 0.5f;
  if (cfg.strength != 1.0f) {
    const float s = cfg.strength;
    p.theta_deg *= s;
    p.tx *= s;
    p.ty *= s;
    p.shear_deg *= s;
    p.zx = 1.0f + s * (p.zx - 1.0f);
    p.zy = 1.0f + s * (p.zy - 1.0f);
  }
  return p;
}

float augment_strength(int warmup_epochs, uint64_t epoch) {
  if (warmup_epochs < 0) throw std::invalid_argument("augment_strength: warmup_epochs must be >= 0");
  if (warmup_epochs == 0 || epoch >= uint64_t(warmup_epochs)) return 1.0f;
  return float(epoch) / float(warmup_epochs);
}

namespace {

using Mat3 = std::array<std::array<double, 3>, 3>;

Mat3 mul(const Mat3& x, const Mat3& y) {
  Mat3 z{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) z[r][c] = x[r][0] * y[0][c] + x[r][1] * y[1][c] + x[r][2] * y[2][c];
  return z;
}

// The bilinear warp with `kC` channels known at compile time (0: runtime `c`), on 8- or
// 16-bit samples (T): the arithmetic is the same, only the loads differ.
// Row by row, in two passes: first the source coordinate of every output pixel
// (double, like SciPy: float coordinates would cost ~1e-3 on 0..255; clamped into
// the image = "nearest"), then the gather, with one set of weights shared by all
// channels. Splitting the passes measured ~10% faster than one fused loop.
// Coordinates are a0*i + b + a1*j rather than a running sum, so nothing drifts.
template <int kC, typename T>
void warp(const std::array<double, 6>& m, bool flip_h, bool flip_v, const T* src, int h, int w,
          int runtime_c, float* dst, float rescale) {
  const int c = kC ? kC : runtime_c;
  const int64_t plane = int64_t(h) * w;
  const double rmax = h - 1, cmax = w - 1;
  std::vector<int32_t> row0(w), col0(w);  // [w] integer source coordinate (floor)
  std::vector<float> frow(w), fcol(w);    // [w] fractional parts
  for (int i = 0; i < h; ++i) {
    const double r_row = m[0] * i + m[2], c_row = m[3] * i + m[5];
    for (int j = 0; j < w; ++j) {
      const double r = std::clamp(r_row + m[1] * j, 0.0, rmax);
      const double q = std::clamp(c_row + m[4] * j, 0.0, cmax);
      row0[j] = int32_t(r);  // floor: both are >= 0
      col0[j] = int32_t(q);
      frow[j] = float(r - row0[j]);
      fcol[j] = float(q - col0[j]);
    }
    float* out = dst + int64_t(flip_v ? h - 1 - i : i) * w;
    for (int j = 0; j < w; ++j) {
      const int r0 = row0[j], c0 = col0[j];
      const float fr = frow[j], fc = fcol[j];
      const int64_t dr = r0 < h - 1 ? int64_t(w) * c : 0;  // step to the next row / column,
      const int64_t dc = c0 < w - 1 ? c : 0;              // 0 on the last one (edge replicate)
      const T* p00 = src + (int64_t(r0) * w + c0) * c;
      float* o = out + (flip_h ? w - 1 - j : j);
      for (int ch = 0; ch < c; ++ch) {
        const float v00 = p00[ch], v01 = p00[ch + dc], v10 = p00[ch + dr], v11 = p00[ch + dr + dc];
        const float top = v00 + fc * (v01 - v00), bottom = v10 + fc * (v11 - v10);
        o[ch * plane] = (top + fr * (bottom - top)) * rescale;
      }
    }
  }
}

}  // namespace

std::array<double, 6> affine_matrix(const AffineParams& p, int height, int width) {
  constexpr double kDeg = std::numbers::pi / 180.0;  // np.deg2rad
  const double t = p.theta_deg * kDeg, s = p.shear_deg * kDeg;
  const Mat3 rotate{{{std::cos(t), -std::sin(t), 0}, {std::sin(t), std::cos(t), 0}, {0, 0, 1}}};
  const Mat3 shift{{{1, 0, p.tx}, {0, 1, p.ty}, {0, 0, 1}}};
  const Mat3 shear{{{1, -std::sin(s), 0}, {0, std::cos(s), 0}, {0, 0, 1}}};
  const Mat3 zoom{{{p.zx, 0, 0}, {0, p.zy, 0}, {0, 0, 1}}};
  const double orow = height / 2.0 - 0.5, ocol = width / 2.0 - 0.5;
  const Mat3 offset{{{1, 0, orow}, {0, 1, ocol}, {0, 0, 1}}};
  const Mat3 reset{{{1, 0, -orow}, {0, 1, -ocol}, {0, 0, 1}}};
  const Mat3 m = mul(mul(offset, mul(mul(mul(rotate, shift), shear), zoom)), reset);
  return {m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2]};
}

namespace {
template <typename T>
void apply_affine_samples(const AffineParams& p, const T* src, int h, int w, int c, float* dst, float rescale) {
  if (h <= 0 || w <= 0 || c <= 0) throw std::invalid_argument("apply_affine: empty image");
  const auto m = affine_matrix(p, h, w);
  switch (c) {
    case 1: return warp<1>(m, p.flip_h, p.flip_v, src, h, w, c, dst, rescale);
    case 3: return warp<3>(m, p.flip_h, p.flip_v, src, h, w, c, dst, rescale);
    default: return warp<0>(m, p.flip_h, p.flip_v, src, h, w, c, dst, rescale);
  }
}
}  // namespace

void apply_affine(const AffineParams& p, const uint8_t* src, int h, int w, int c, float* dst, float rescale) {
  apply_affine_samples(p, src, h, w, c, dst, rescale);
}

void apply_affine(const AffineParams& p, const uint16_t* src, int h, int w, int c, float* dst, float rescale) {
  apply_affine_samples(p, src, h, w, c, dst, rescale);
}

float sample_rescale(float rescale, int depth) {
  if (depth == 8) return rescale;
  if (depth == 16) return float(double(rescale) / 257.0);
  throw std::invalid_argument("sample_rescale: depth must be 8 or 16");
}

namespace {
void expect_batch(const Tensor& batch, int h, int w, int c, const char* what) {
  if (batch.rank() != 4 || batch.dim(1) != c || batch.dim(2) != h || batch.dim(3) != w)
    throw std::invalid_argument(std::string(what) + ": batch must be [N, " + std::to_string(c) + ", " +
                                std::to_string(h) + ", " + std::to_string(w) + "], got " + batch.shape().str());
}
}  // namespace

void augment_into(const AugmentConfig& cfg, const uint8_t* src, int h, int w, int c, uint64_t seed,
                  uint64_t epoch, uint64_t image_index, Tensor& batch, int64_t slot) {
  expect_batch(batch, h, w, c, "augment_into");
  if (slot < 0 || slot >= batch.dim(0)) throw std::out_of_range("augment_into: slot out of range");
  const AffineParams p = draw_params(cfg, h, w, seed, epoch, image_index);
  apply_affine(p, src, h, w, c, batch.cpu() + slot * int64_t(c) * h * w, cfg.rescale);
}

void augment_into(const AugmentConfig& cfg, const uint16_t* src, int h, int w, int c, uint64_t seed,
                  uint64_t epoch, uint64_t image_index, Tensor& batch, int64_t slot) {
  expect_batch(batch, h, w, c, "augment_into");
  if (slot < 0 || slot >= batch.dim(0)) throw std::out_of_range("augment_into: slot out of range");
  const AffineParams p = draw_params(cfg, h, w, seed, epoch, image_index);
  apply_affine(p, src, h, w, c, batch.cpu() + slot * int64_t(c) * h * w, sample_rescale(cfg.rescale, 16));
}

void augment_batch(const AugmentConfig& cfg, std::span<const uint8_t* const> images,
                   std::span<const uint64_t> indices, int h, int w, int c, uint64_t seed, uint64_t epoch,
                   Tensor& batch) {
  expect_batch(batch, h, w, c, "augment_batch");
  if (images.size() != indices.size() || int64_t(images.size()) != batch.dim(0))
    throw std::invalid_argument("augment_batch: images, indices and batch size differ");
  if (epoch >= (uint64_t(1) << 40)) throw std::invalid_argument("augment_batch: epoch must be < 2^40");
  float* out = batch.cpu();
  const int64_t n = batch.dim(0), per_image = int64_t(c) * h * w;
  // Each image depends only on (seed, epoch, index): any schedule gives the same bits.
#pragma omp parallel for schedule(dynamic)
  for (int64_t k = 0; k < n; ++k)
    apply_affine(draw_params(cfg, h, w, seed, epoch, indices[k]), images[k], h, w, c, out + k * per_image,
                 cfg.rescale);
}

}  // namespace radius
