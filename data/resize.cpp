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
// One pass along x, then one along y, each output sample a weighted sum of the
// source samples its filter covers. 8-bit images follow Pillow bit for bit:
// fixed-point weights (kPrecisionBits), an int32 sum, one rounding. Pillow has no
// bit-exact reference for 16-bit samples (its fixed point would need 30 bits of
// headroom), so 16-bit images use the same taps (support, centres, clamping) with
// the normalised weights in double and one rounding per pass to 0..65535.
constexpr int kPrecisionBits = 32 - 8 - 2;

// How each depth stores a weight, starts a sum and turns it into a sample.
struct Depth8 {
  using Sample = uint8_t;
  using Weight = int32_t;  // also the sum
  static Weight weight(double w) {
    return int32_t(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
  }
  static Weight start() { return 1 << (kPrecisionBits - 1); }  // rounds the final shift
  static Sample finish(Weight acc) {
    if (acc >= (1 << kPrecisionBits << 8)) return 255;
    if (acc <= 0) return 0;
    return uint8_t(acc >> kPrecisionBits);
  }
  static const Sample* samples(const Image& img) { return img.pixels.data(); }
  static Sample* samples(Image& img) { return img.pixels.data(); }
};
struct Depth16 {
  using Sample = uint16_t;
  using Weight = double;
  static Weight weight(double w) { return w; }
  static Weight start() { return 0.0; }
  static Sample finish(Weight acc) { return uint16_t(std::clamp(std::lround(acc), 0L, 65535L)); }
  static const Sample* samples(const Image& img) { return img.pixels16.data(); }
  static Sample* samples(Image& img) { return img.pixels16.data(); }
};

template <class W> struct Taps {  // for each output index: first source index, tap count, ksize weights
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<W> weight;
};

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// precompute_coeffs + normalize_coeffs for the bilinear filter (support 1).
template <class D> Taps<typename D::Weight> bilinear_taps(int in, int out) {
  const double scale = double(in) / out;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  Taps<typename D::Weight> t;
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
    for (int x = 0; x < xmax; ++x)
      t.weight[size_t(xx) * t.ksize + x] = D::weight(ww != 0.0 ? k[size_t(x)] / ww : k[size_t(x)]);
    t.first[size_t(xx)] = xmin;
    t.count[size_t(xx)] = xmax;
  }
  return t;
}

// One pass along x (horizontal) or y; tap_stride is the distance between neighbouring taps.
template <class D>
Image resample_pass(const Image& in, int out_w, int out_h, const Taps<typename D::Weight>& t, bool horizontal) {
  Image out(out_w, out_h, in.channels, in.depth);
  const int c = in.channels;
  const size_t row = in.row_bytes(), tap_stride = horizontal ? size_t(c) : row;
  const typename D::Sample* px = D::samples(in);
  typename D::Sample* dst = D::samples(out);
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      const int o = horizontal ? x : y;
      const typename D::Weight* w = t.weight.data() + size_t(o) * t.ksize;
      const int first = t.first[size_t(o)], n = t.count[size_t(o)];
      const typename D::Sample* src = horizontal ? px + size_t(y) * row + size_t(first) * c
                                                 : px + size_t(first) * row + size_t(x) * c;
      for (int k = 0; k < c; ++k) {
        typename D::Weight acc = D::start();
        for (int i = 0; i < n; ++i) acc += typename D::Weight(src[size_t(i) * tap_stride + k]) * w[i];
        dst[(size_t(y) * size_t(out_w) + size_t(x)) * size_t(c) + size_t(k)] = D::finish(acc);
      }
    }
  return out;
}

template <class D> Image resize_bilinear_depth(const Image& img, int width, int height) {
  Image tmp = img.width == width ? img
                                 : resample_pass<D>(img, width, img.height, bilinear_taps<D>(img.width, width), true);
  return img.height == height ? tmp
                              : resample_pass<D>(tmp, width, height, bilinear_taps<D>(img.height, height), false);
}

Image resize_bilinear(const Image& img, int width, int height) {
  return img.depth == 16 ? resize_bilinear_depth<Depth16>(img, width, height)
                         : resize_bilinear_depth<Depth8>(img, width, height);
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
