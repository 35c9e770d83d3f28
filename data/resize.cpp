#include "data/resize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace radius {
namespace {

// Source index per destination index, Pillow's ImagingScaleAffine loop.
std::vector<int> nearest_sources(int in, int out) {
  std::vector<int> src(static_cast<size_t>(out));
  const double step = double(in) / out;
  double pos = step * 0.5;
  for (int i = 0; i < out; ++i, pos += step) src[size_t(i)] = std::min(int(pos), in - 1);
  return src;
}

// T: uint8_t (Image::pixels) or uint16_t (Image::pixels16): nearest copies samples, any depth.
template <typename T>
void resize_nearest_samples(const T* src, size_t row_samples, int c, int width, int height,
                            const std::vector<int>& sx, const std::vector<int>& sy, T* d) {
  for (int y = 0; y < height; ++y) {
    const T* row = src + size_t(sy[size_t(y)]) * row_samples;
    for (int x = 0; x < width; ++x)
      for (int k = 0; k < c; ++k) *d++ = row[size_t(sx[size_t(x)]) * c + k];
  }
}

Image resize_nearest(const Image& img, int width, int height) {
  const std::vector<int> sx = nearest_sources(img.width, width), sy = nearest_sources(img.height, height);
  Image out(width, height, img.channels, img.depth);
  if (img.depth == 8)
    resize_nearest_samples(img.pixels.data(), img.row_bytes(), img.channels, width, height, sx, sy, out.pixels.data());
  else
    resize_nearest_samples(img.pixels16.data(), img.row_bytes(), img.channels, width, height, sx, sy,
                           out.pixels16.data());
  return out;
}

// ---- Pillow's two-pass convolution resampler (Resample.c) ----------------------------
constexpr int kPrecisionBits = 32 - 8 - 2;

struct Taps {  // for each output index: first source index, tap count, ksize fixed-point weights
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weight;
};

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter (support 1).
Taps bilinear_taps(int in, int out) {
  const double scale = double(in) / out;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  Taps t;
  t.ksize = int(std::ceil(support)) * 2 + 1;
  t.first.resize(size_t(out));
  t.count.resize(size_t(out));
  t.weight.assign(size_t(out) * size_t(t.ksize), 0);
  std::vector<double> k(size_t(t.ksize));
  for (int xx = 0; xx < out; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int xmin = std::max(int(center - support + 0.5), 0);  // int(): truncation, as in C
    const int xmax = std::min(int(center + support + 0.5), in) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[size_t(x)] = triangle((x + xmin - center + 0.5) * ss);
      ww += k[size_t(x)];
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[size_t(x)] / ww : k[size_t(x)];
      t.weight[size_t(xx) * t.ksize + x] =
          int32_t(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    t.first[size_t(xx)] = xmin;
    t.count[size_t(xx)] = xmax;
  }
  return t;
}

uint8_t clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return uint8_t(v >> kPrecisionBits);
}

// One pass along x (horizontal) or y. `stride` is the distance between neighbouring taps.
Image resample_pass(const Image& in, int out_w, int out_h, const Taps& t, bool horizontal) {
  Image out(out_w, out_h, in.channels);
  const int c = in.channels;
  const size_t tap_stride = horizontal ? size_t(c) : in.row_bytes();
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      const int o = horizontal ? x : y;
      const int32_t* w = t.weight.data() + size_t(o) * t.ksize;
      const int first = t.first[size_t(o)], n = t.count[size_t(o)];
      const uint8_t* src = horizontal ? in.pixels.data() + size_t(y) * in.row_bytes() + size_t(first) * c
                                      : in.pixels.data() + size_t(first) * in.row_bytes() + size_t(x) * c;
      for (int k = 0; k < c; ++k) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < n; ++i) acc += int32_t(src[size_t(i) * tap_stride + k]) * w[i];
        out.at(x, y, k) = clip8(acc);
      }
    }
  return out;
}

// ---- 16-bit bilinear: Pillow's filter geometry, in floating point --------------------
// Pillow has no bit-exact reference for 16-bit samples (its 8-bit fixed point would need
// 30 bits of headroom), so 16-bit images use the same taps (support, centres, clamping)
// with the normalised weights in double and one rounding per pass to 0..65535.
struct FloatTaps {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<double> weight;
};

FloatTaps bilinear_taps_float(int in, int out) {
  const double scale = double(in) / out;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  FloatTaps t;
  t.ksize = int(std::ceil(support)) * 2 + 1;
  t.first.resize(size_t(out));
  t.count.resize(size_t(out));
  t.weight.assign(size_t(out) * size_t(t.ksize), 0.0);
  for (int xx = 0; xx < out; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int xmin = std::max(int(center - support + 0.5), 0);
    const int xmax = std::min(int(center + support + 0.5), in) - xmin;
    double ww = 0.0;
    double* w = t.weight.data() + size_t(xx) * t.ksize;
    for (int x = 0; x < xmax; ++x) ww += (w[x] = triangle((x + xmin - center + 0.5) * ss));
    if (ww != 0.0)
      for (int x = 0; x < xmax; ++x) w[x] /= ww;
    t.first[size_t(xx)] = xmin;
    t.count[size_t(xx)] = xmax;
  }
  return t;
}

Image resample_pass16(const Image& in, int out_w, int out_h, const FloatTaps& t, bool horizontal) {
  Image out(out_w, out_h, in.channels, 16);
  const int c = in.channels;
  const size_t tap_stride = horizontal ? size_t(c) : in.row_bytes();
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      const int o = horizontal ? x : y;
      const double* w = t.weight.data() + size_t(o) * t.ksize;
      const int first = t.first[size_t(o)], n = t.count[size_t(o)];
      const uint16_t* src = horizontal ? in.pixels16.data() + size_t(y) * in.row_bytes() + size_t(first) * c
                                       : in.pixels16.data() + size_t(first) * in.row_bytes() + size_t(x) * c;
      for (int k = 0; k < c; ++k) {
        double acc = 0.0;
        for (int i = 0; i < n; ++i) acc += double(src[size_t(i) * tap_stride + k]) * w[i];
        out.at16(x, y, k) = uint16_t(std::clamp(std::lround(acc), 0L, 65535L));
      }
    }
  return out;
}

Image resize_bilinear16(const Image& img, int width, int height) {
  Image tmp =
      img.width == width ? img : resample_pass16(img, width, img.height, bilinear_taps_float(img.width, width), true);
  return img.height == height ? tmp
                              : resample_pass16(tmp, width, height, bilinear_taps_float(img.height, height), false);
}

Image resize_bilinear(const Image& img, int width, int height) {
  if (img.depth == 16) return resize_bilinear16(img, width, height);
  Image tmp = img.width == width ? img : resample_pass(img, width, img.height, bilinear_taps(img.width, width), true);
  return img.height == height ? tmp : resample_pass(tmp, width, height, bilinear_taps(img.height, height), false);
}

}  // namespace

Image resize(const Image& img, int width, int height, Interpolation method) {
  if (img.empty()) throw std::invalid_argument("resize: empty image");
  if (width < 1 || height < 1)
    throw std::invalid_argument("resize: target size must be positive, got " + std::to_string(width) + "x" +
                                std::to_string(height));
  if (img.width == width && img.height == height) return img;
  return method == Interpolation::nearest ? resize_nearest(img, width, height) : resize_bilinear(img, width, height);
}

}  // namespace radius
