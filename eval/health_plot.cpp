#include "eval/health_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace radius {
namespace {

constexpr Rgb kInk{33, 33, 33}, kMuted{105, 105, 105}, kMissing{225, 225, 225}, kWhite{255, 255, 255};

double value_of(const LayerHealthRow& r, HealthMetric m) {
  return m == HealthMetric::dead_fraction ? r.dead_fraction : r.weight_update_ratio;
}

// The metric on a 0..1 colour scale.
double shade_of(double v, HealthMetric m) {
  if (m == HealthMetric::dead_fraction) return std::clamp(v, 0.0, 1.0);
  return std::clamp((std::log10(std::max(v, 1e-12)) + 5.0) / 5.0, 0.0, 1.0);  // 1e-5 .. 1
}

// White -> orange -> dark red ("Reds"-like): dark means trouble.
Rgb reds(double t) {
  const Rgb a{255, 245, 240}, b{252, 146, 114}, c{153, 0, 13};
  const auto mix = [](Rgb p, Rgb q, double s) {
    return Rgb{uint8_t(std::lround(p.r + (q.r - p.r) * s)), uint8_t(std::lround(p.g + (q.g - p.g) * s)),
               uint8_t(std::lround(p.b + (q.b - p.b) * s))};
  };
  return t < 0.5 ? mix(a, b, t * 2) : mix(b, c, t * 2 - 1);
}

std::string cell_text(double v, HealthMetric m) {
  char buf[32];
  if (m == HealthMetric::dead_fraction)
    std::snprintf(buf, sizeof buf, "%.0f%%", 100 * v);
  else
    std::snprintf(buf, sizeof buf, "%.0e", v);
  return buf;
}

Text text(Point at, std::string s, Anchor anchor, Rgb color, int scale = 1) {
  Text t;
  t.at = at, t.text = std::move(s), t.anchor = anchor, t.color = color, t.scale = scale;
  return t;
}

}  // namespace

Drawing plot_health_strip(const std::vector<LayerHealthRow>& rows, HealthMetric metric) {
  // (layer -> its kind, epoch -> value); only layers that have the metric at all.
  std::map<int, std::string> kinds;
  std::map<std::pair<int, int>, double> cells;
  int first = 0, last = 0;
  for (const LayerHealthRow& r : rows) {
    first = first ? std::min(first, r.epoch) : r.epoch;
    last = std::max(last, r.epoch);
    const double v = value_of(r, metric);
    if (std::isnan(v)) continue;
    kinds[r.layer] = r.kind;
    cells[{r.layer, r.epoch}] = v;
  }
  const int epochs = std::max(1, last - first + 1);
  const double cell_w = std::clamp(560.0 / epochs, 6.0, 44.0), cell_h = 20, left = 150, top = 60;
  Drawing d;
  d.width = int(left + cell_w * epochs + 24);
  d.height = int(top + cell_h * double(kinds.size()) + 44);
  d.title = metric == HealthMetric::dead_fraction ? "Dead ReLU units per layer" : "Update/weight ratio per layer";
  Text title = text({0, 24}, d.title, Anchor::middle, kInk, 2);
  Text sub = text({0, 40},
                  metric == HealthMetric::dead_fraction ? "share of units never positive; dark = dead"
                                                        : "||dw|| / ||w|| per step, log scale 1e-5 .. 1; ~1e-3 is typical",
                  Anchor::middle, kMuted);
  d.width = int(std::max({double(d.width), text_length(title) + 32, text_length(sub) + 32}));
  title.at.x = sub.at.x = d.width / 2.0;
  d.add(title);
  d.add(sub);
  int row = 0;
  for (const auto& [layer, kind] : kinds) {
    const double y = top + cell_h * row++;
    d.add(text({left - 8, y + 14}, "layer " + std::to_string(layer) + " " + kind, Anchor::end, kInk));
    for (int e = first; e <= last; ++e) {
      const double x = left + cell_w * (e - first);
      const auto it = cells.find({layer, e});
      const double shade = it == cells.end() ? 0 : shade_of(it->second, metric);
      d.add(FilledRect{x + 0.5, y + 0.5, cell_w - 1, cell_h - 1, it == cells.end() ? kMissing : reds(shade)});
      if (it != cells.end() && cell_w >= 40)
        d.add(text({x + cell_w / 2, y + 14}, cell_text(it->second, metric), Anchor::middle, shade > 0.6 ? kWhite : kInk));
    }
  }
  const double axis_y = top + cell_h * row + 16;
  d.add(text({left, axis_y}, "epoch " + std::to_string(first), Anchor::start, kMuted));
  if (last > first) d.add(text({left + cell_w * epochs, axis_y}, std::to_string(last), Anchor::end, kMuted));
  return d;
}

}  // namespace radius
