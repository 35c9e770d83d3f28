#include "eval/raster.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "eval/font.h"

namespace radius {
namespace {

class Painter {
 public:
  Painter(RgbImage& img, int k) : img_(img), k_(k), mask_(size_t(img.width) * size_t(img.height), 0.0f) {}

  void operator()(const Stroke& s) {
    if (s.points.empty()) return;
    const double r = std::max(0.5, s.width * k_ / 2);
    std::vector<Point> p;
    for (const Point& q : s.points) p.push_back({q.x * k_, q.y * k_});
    if (p.size() == 1) p.push_back(p[0]);  // a lone point draws a dot
    if (s.dash > 0) {
      // Walk the polyline by length, painting the "on" half of each period;
      // the pattern runs on across vertices like SVG's stroke-dasharray.
      const double dash = s.dash * k_;
      double phase = 0;  // distance into the current period [0, 2*dash)
      for (size_t i = 1; i < p.size(); ++i) {
        const double len = std::hypot(p[i].x - p[i - 1].x, p[i].y - p[i - 1].y);
        double t = 0;
        while (t < len) {
          const double step = std::min(len - t, (phase < dash ? dash : 2 * dash) - phase);
          if (phase < dash) segment(lerp(p[i - 1], p[i], t / len), lerp(p[i - 1], p[i], (t + step) / len), r);
          t += step;
          phase = std::fmod(phase + step, 2 * dash);
        }
      }
    } else {
      for (size_t i = 1; i < p.size(); ++i) segment(p[i - 1], p[i], r);
    }
    composite(s.color);
  }

  void operator()(const FilledRect& rc) {
    const double x0 = rc.x * k_, x1 = (rc.x + rc.w) * k_, y0 = rc.y * k_, y1 = (rc.y + rc.h) * k_;
    for (int y = clamp_y(std::floor(y0)); y <= clamp_y(std::ceil(y1) - 1); ++y) {
      const double cy = overlap(y, y0, y1);
      for (int x = clamp_x(std::floor(x0)); x <= clamp_x(std::ceil(x1) - 1); ++x)
        blend(x, y, rc.fill, float(cy * overlap(x, x0, x1)));
    }
  }

  void operator()(const Marker& m) {
    const double cx = m.at.x * k_, cy = m.at.y * k_;
    const double outer = (m.radius + m.edge_width / 2) * k_, inner = (m.radius - m.edge_width / 2) * k_;
    disc(cx, cy, outer, m.edge);
    disc(cx, cy, inner, m.fill);
  }

  void operator()(const Text& t) {
    const int s = t.scale * k_;  // device pixels per font pixel
    const double len = double(font::text_width(t.text)) * s;
    const double shift = t.anchor == Anchor::start ? 0 : t.anchor == Anchor::middle ? len / 2 : len;
    // (u, v): position along the text and below the baseline, in device pixels.
    const double u0 = std::round(-shift), ax = std::round(t.at.x * k_), ay = std::round(t.at.y * k_);
    for (size_t i = 0; i < t.text.size(); ++i) {
      const uint8_t* rows = font::glyph(t.text[i]);
      for (int row = 0; row < font::kRows; ++row)
        for (int col = 0; col < font::kGlyphWidth; ++col) {
          if (!(rows[row] & (0x10 >> col))) continue;
          const double u = u0 + double((int(i) * font::kAdvance + col) * s);
          const double v = double((row - font::kAscent) * s);
          if (t.vertical) block(int(ax + v), int(ay - u - s), s, t.color);  // rotated: u runs up, v runs right
          else block(int(ax + u), int(ay + v), s, t.color);
        }
    }
  }

 private:
  static Point lerp(Point a, Point b, double f) { return {a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f}; }
  // How much of pixel [i, i+1) lies inside [lo, hi].
  static double overlap(int i, double lo, double hi) {
    return std::clamp(std::min(hi, i + 1.0) - std::max(lo, double(i)), 0.0, 1.0);
  }
  int clamp_x(double x) const { return int(std::clamp(x, -1.0, double(img_.width - 1))); }
  int clamp_y(double y) const { return int(std::clamp(y, -1.0, double(img_.height - 1))); }

  void blend(int x, int y, Rgb c, float a) {
    if (a <= 0 || x < 0 || y < 0 || x >= img_.width || y >= img_.height) return;
    a = std::min(a, 1.0f);
    uint8_t* p = &img_.pixels[(size_t(y) * size_t(img_.width) + size_t(x)) * 3];
    const uint8_t src[3] = {c.r, c.g, c.b};
    for (int i = 0; i < 3; ++i) p[i] = uint8_t(std::lround(p[i] + (src[i] - p[i]) * a));
  }

  void block(int x, int y, int s, Rgb c) {
    for (int dy = 0; dy < s; ++dy)
      for (int dx = 0; dx < s; ++dx) blend(x + dx, y + dy, c, 1.0f);
  }

  void disc(double cx, double cy, double r, Rgb c) {
    if (r <= 0) return;
    for (int y = clamp_y(std::floor(cy - r - 1)); y <= clamp_y(std::ceil(cy + r + 1)); ++y)
      for (int x = clamp_x(std::floor(cx - r - 1)); x <= clamp_x(std::ceil(cx + r + 1)); ++x) {
        const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
        blend(x, y, c, float(std::clamp(r + 0.5 - d, 0.0, 1.0)));
      }
  }

  // Coverage of a round-capped thick segment, accumulated into the stroke's
  // mask with max() so that joints and overlapping pieces are not painted twice.
  void segment(Point a, Point b, double r) {
    const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
    const int x0 = std::max(0, int(std::floor(std::min(a.x, b.x) - r - 1)));
    const int x1 = std::min(img_.width - 1, int(std::ceil(std::max(a.x, b.x) + r + 1)));
    const int y0 = std::max(0, int(std::floor(std::min(a.y, b.y) - r - 1)));
    const int y1 = std::min(img_.height - 1, int(std::ceil(std::max(a.y, b.y) + r + 1)));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const double px = x + 0.5 - a.x, py = y + 0.5 - a.y;
        const double f = len2 > 0 ? std::clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
        const double d = std::hypot(px - f * dx, py - f * dy);
        const float cover = float(std::clamp(r + 0.5 - d, 0.0, 1.0));
        if (cover <= 0) continue;
        float& m = mask_[size_t(y) * size_t(img_.width) + size_t(x)];
        m = std::max(m, cover);
        dirty_x0_ = std::min(dirty_x0_, x), dirty_x1_ = std::max(dirty_x1_, x);
        dirty_y0_ = std::min(dirty_y0_, y), dirty_y1_ = std::max(dirty_y1_, y);
      }
  }

  void composite(Rgb c) {
    for (int y = dirty_y0_; y <= dirty_y1_; ++y)
      for (int x = dirty_x0_; x <= dirty_x1_; ++x) {
        float& m = mask_[size_t(y) * size_t(img_.width) + size_t(x)];
        blend(x, y, c, m);
        m = 0;
      }
    dirty_x0_ = dirty_y0_ = 1 << 30;
    dirty_x1_ = dirty_y1_ = -1;
  }

  RgbImage& img_;
  int k_;
  std::vector<float> mask_;
  int dirty_x0_ = 1 << 30, dirty_y0_ = 1 << 30, dirty_x1_ = -1, dirty_y1_ = -1;
};

}  // namespace

RgbImage::RgbImage(int w, int h, Rgb fill) : width(w), height(h), pixels(size_t(w) * size_t(h) * 3) {
  for (size_t i = 0; i < pixels.size(); i += 3) pixels[i] = fill.r, pixels[i + 1] = fill.g, pixels[i + 2] = fill.b;
}

RgbImage rasterize(const Drawing& d, int pixel_scale) {
  if (pixel_scale < 1 || pixel_scale > 8) throw std::invalid_argument("rasterize: pixel_scale must be 1..8");
  if (d.width <= 0 || d.height <= 0 || d.width > 4096 || d.height > 4096)
    throw std::invalid_argument("rasterize: drawing size must be 1..4096 logical pixels");
  RgbImage img(d.width * pixel_scale, d.height * pixel_scale, d.background);
  Painter paint(img, pixel_scale);
  for (const DrawItem& item : d.items) std::visit(paint, item);
  return img;
}

}  // namespace radius
