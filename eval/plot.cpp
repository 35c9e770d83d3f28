#include "eval/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "eval/font.h"
#include "eval/png_io.h"
#include "eval/raster.h"

namespace radius {
namespace {

// Colours: matplotlib's first two (readers know blue = train, orange = val)
// and neutral greys for the scaffolding, so the data stands out.
constexpr Rgb kInk{33, 33, 33}, kMuted{105, 105, 105}, kAxis{80, 80, 80}, kGrid{226, 226, 226};
constexpr Rgb kBlue{31, 119, 180}, kOrange{255, 127, 14}, kRed{214, 39, 40}, kGray{140, 140, 140};
constexpr Rgb kWhite{255, 255, 255};

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// ---- axes ------------------------------------------------------------------------

using Frame = PlotArea;

// A round step (1, 2 or 5 times a power of ten) giving about `target` intervals.
double nice_step(double range, int target) {
  const double raw = range / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1.0001 ? 1 : f <= 2.0001 ? 2 : f <= 5.0001 ? 5 : 10) * mag;
}

// Multiples of step inside [lo, hi], computed by index so they do not drift.
std::vector<double> ticks_in(double lo, double hi, double step) {
  std::vector<double> t;
  for (long long i = std::llround(std::ceil(lo / step - 1e-9)); i * step <= hi + step * 1e-9; ++i)
    t.push_back(double(i) * step);
  return t;
}

std::string tick_label(double v, double step) {
  const int decimals = std::clamp(int(-std::floor(std::log10(step) + 1e-9)), 0, 6);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-6 ? 0.0 : v);
  return buf;
}

// Widens [lo, hi] to whole steps with a little room, so curves do not touch the frame.
void nice_range(double lo, double hi, double& out_lo, double& out_hi, double& step, int target = 6) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) {
    const double pad = std::max(std::abs(lo) * 0.1, 0.05);
    lo -= pad, hi += pad;
  }
  step = nice_step(hi - lo, target);
  out_lo = std::floor(lo / step + 1e-9) * step;
  out_hi = std::ceil(hi / step - 1e-9) * step;
}

Text label(Point at, std::string s, int scale = 1, Anchor anchor = Anchor::start, Rgb color = kInk) {
  Text t;
  t.at = at;
  t.text = std::move(s);
  t.scale = scale;
  t.anchor = anchor;
  t.color = color;
  return t;
}

Stroke line(std::vector<Point> pts, Rgb color, double width, double dash = 0) {
  Stroke s;
  s.points = std::move(pts);
  s.color = color;
  s.width = width;
  s.dash = dash;
  return s;
}

void draw_title(Drawing& d, const std::string& title, const std::string& subtitle) {
  d.title = title;
  d.add(label({d.width / 2.0, 24}, title, 2, Anchor::middle));
  if (!subtitle.empty()) d.add(label({d.width / 2.0, 40}, subtitle, 1, Anchor::middle, kMuted));
}

void draw_axes(Drawing& d, const Frame& f, double xstep, double ystep, const std::string& xlabel,
               const std::string& ylabel) {
  const std::vector<double> xt = ticks_in(f.x0, f.x1, xstep), yt = ticks_in(f.y0, f.y1, ystep);
  for (double x : xt) d.add(line({f.at(x, f.y0), f.at(x, f.y1)}, kGrid, 1));
  for (double y : yt) d.add(line({f.at(f.x0, y), f.at(f.x1, y)}, kGrid, 1));
  d.add(line({{f.left, f.top}, {f.left, f.bottom}, {f.right, f.bottom}}, kAxis, 1.2));
  for (double x : xt) {
    d.add(line({{f.px(x), f.bottom}, {f.px(x), f.bottom + 4}}, kAxis, 1.2));
    d.add(label({f.px(x), f.bottom + 16}, tick_label(x, xstep), 1, Anchor::middle));
  }
  for (double y : yt) {
    d.add(line({{f.left - 4, f.py(y)}, {f.left, f.py(y)}}, kAxis, 1.2));
    d.add(label({f.left - 7, f.py(y) + 3.5}, tick_label(y, ystep), 1, Anchor::end));
  }
  d.add(label({(f.left + f.right) / 2, f.bottom + 34}, xlabel, 1, Anchor::middle));
  Text yl = label({f.left - 44, (f.top + f.bottom) / 2}, ylabel, 1, Anchor::middle);
  yl.vertical = true;
  d.add(yl);
}

// ---- legend --------------------------------------------------------------------

struct LegendEntry {
  std::string text;
  Rgb color;
  enum Kind { solid, dashed, marker } kind = solid;
};

// Picks the corner of the plot area whose legend box covers the fewest data
// points, so the legend never hides the curves when it can avoid it.
void draw_legend(Drawing& d, const Frame& f, const std::vector<LegendEntry>& entries,
                 const std::vector<Point>& avoid) {
  double text_w = 0;
  for (const auto& e : entries) text_w = std::max(text_w, double(font::text_width(e.text)));
  const double w = text_w + 52, h = 16.0 * double(entries.size()) + 10, pad = 8;
  const Point corners[] = {{f.right - pad - w, f.top + pad},
                           {f.right - pad - w, f.bottom - pad - h},
                           {f.left + pad, f.top + pad},
                           {f.left + pad, f.bottom - pad - h}};
  Point best = corners[0];
  size_t fewest = SIZE_MAX;
  for (const Point& c : corners) {
    const size_t hits = size_t(std::count_if(avoid.begin(), avoid.end(), [&](const Point& p) {
      return p.x >= c.x - 4 && p.x <= c.x + w + 4 && p.y >= c.y - 4 && p.y <= c.y + h + 4;
    }));
    if (hits < fewest) fewest = hits, best = c;
  }
  d.add(FilledRect{best.x, best.y, w, h, kWhite});
  d.add(line({best, {best.x + w, best.y}, {best.x + w, best.y + h}, {best.x, best.y + h}, best}, {200, 200, 200}, 1));
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const double y = best.y + 13 + 16.0 * double(i);
    const double lx = best.x + 8;
    if (e.kind == LegendEntry::marker)
      d.add(Marker{{lx + 12, y - 3.5}, 4, e.color, kWhite, 1.5});
    else
      d.add(line({{lx, y - 3.5}, {lx + 24, y - 3.5}}, e.color, 2.5, e.kind == LegendEntry::dashed ? 5 : 0));
    d.add(label({lx + 32, y}, e.text));
  }
}

// Points along a polyline, densely enough for draw_legend to see it.
void sample(const std::vector<Point>& pts, std::vector<Point>& out) {
  for (size_t i = 0; i < pts.size(); ++i) {
    out.push_back(pts[i]);
    if (i == 0) continue;
    for (int k = 1; k < 16; ++k)
      out.push_back({pts[i - 1].x + (pts[i].x - pts[i - 1].x) * k / 16, pts[i - 1].y + (pts[i].y - pts[i - 1].y) * k / 16});
  }
}

// ---- learning curves ---------------------------------------------------------

Drawing learning_chart(const std::vector<HistoryRow>& h, const std::string& title, const std::string& ylabel,
                       const std::function<double(const HistoryRow&)>& train,
                       const std::function<double(const HistoryRow&)>& val) {
  Drawing d;
  d.width = 640;
  d.height = 420;
  const int best = best_epoch(h);
  draw_title(d, title, best > 0 ? "dashed line: epoch " + std::to_string(best) + ", lowest validation loss" : "");

  Frame f;
  f.left = 72, f.right = d.width - 20, f.top = 56, f.bottom = d.height - 50;
  double lo = INFINITY, hi = -INFINITY;
  int e0 = INT32_MAX, e1 = INT32_MIN;
  for (const HistoryRow& r : h) {
    e0 = std::min(e0, r.epoch), e1 = std::max(e1, r.epoch);
    for (double v : {train(r), val(r)})
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (h.empty()) e0 = 1, e1 = 1;
  if (e0 == e1) --e0, ++e1;  // one epoch still gets a visible axis
  double ystep = 0;
  nice_range(lo, hi, f.y0, f.y1, ystep);
  // A little room either side so the first and last epochs' dots clear the frame.
  const double pad = std::max(0.2, 0.02 * (e1 - e0));
  f.x0 = e0 - pad, f.x1 = e1 + pad;
  const double xstep = std::max(1.0, nice_step(double(e1 - e0), 10));
  draw_axes(d, f, xstep, ystep, "epoch", ylabel);
  d.area = f;

  std::vector<Point> drawn;
  if (best > 0) {
    d.add(line({f.at(best, f.y0), f.at(best, f.y1)}, kGray, 1.2, 4));
    sample({f.at(best, f.y0), f.at(best, f.y1)}, drawn);
  }

  auto series = [&](const std::function<double(const HistoryRow&)>& get, Rgb color) {
    std::vector<Point> run;  // a NaN (not measured) breaks the line
    auto flush = [&] {
      if (!run.empty()) d.add(line(run, color, 2.2)), sample(run, drawn);
      run.clear();
    };
    for (const HistoryRow& r : h) {
      if (std::isfinite(get(r))) run.push_back(f.at(r.epoch, get(r)));
      else flush();
    }
    flush();
    if (h.size() <= 60)  // dots on each epoch while they stay distinguishable
      for (const HistoryRow& r : h)
        if (std::isfinite(get(r))) d.add(Marker{f.at(r.epoch, get(r)), 2.6, color, kWhite, 1});
  };
  series(train, kBlue);
  series(val, kOrange);
  draw_legend(d, f, {{"train", kBlue}, {"validation", kOrange}}, drawn);
  return d;
}

// ---- confusion matrix ------------------------------------------------------

// White -> mid blue -> dark blue, like matplotlib's "Blues".
Rgb blues(double t) {
  t = std::clamp(t, 0.0, 1.0);
  const Rgb a{247, 251, 255}, b{107, 174, 214}, c{8, 48, 107};
  const auto mix = [](Rgb p, Rgb q, double s) {
    return Rgb{uint8_t(std::lround(p.r + (q.r - p.r) * s)), uint8_t(std::lround(p.g + (q.g - p.g) * s)),
               uint8_t(std::lround(p.b + (q.b - p.b) * s))};
  };
  return t < 0.5 ? mix(a, b, t * 2) : mix(b, c, t * 2 - 1);
}

}  // namespace

LearningCurves plot_learning_curves(const std::vector<HistoryRow>& history) {
  LearningCurves c;
  c.loss = learning_chart(history, "Loss", "binary cross-entropy", [](const HistoryRow& r) { return r.train_loss; },
                          [](const HistoryRow& r) { return r.val_loss; });
  c.accuracy = learning_chart(history, "Accuracy", "accuracy", [](const HistoryRow& r) { return r.train_accuracy; },
                              [](const HistoryRow& r) { return r.val_accuracy; });
  return c;
}

Drawing plot_confusion_matrix(const Metrics& m) {
  const ConfusionMatrix& cm = m.confusion;
  double name_w = 0;
  for (const auto& n : m.class_names) name_w = std::max(name_w, double(font::text_width(n)) * 2);
  const double cell_w = std::max(180.0, name_w + 24), cell_h = 124;
  const double gx = 44 + name_w + 14, gy = 104;  // the grid's top-left corner

  Drawing d;
  d.width = int(gx + 2 * cell_w + 24);
  d.height = int(gy + 2 * cell_h + 46);
  std::string sub = "n = " + std::to_string(cm.total());
  if (std::isfinite(m.threshold))
    sub += ", threshold " + format("%.3g", m.threshold) + " on P(" + m.class_names[1] + ")";
  draw_title(d, "Confusion matrix", sub);

  d.add(label({gx + cell_w, gy - 34}, "predicted class", 1, Anchor::middle, kMuted));
  Text true_caption = label({30, gy + cell_h}, "true class", 1, Anchor::middle, kMuted);
  true_caption.vertical = true;
  d.add(true_caption);

  for (int t = 0; t < 2; ++t) {
    d.add(label({gx + cell_w * (t + 0.5), gy - 10}, m.class_names[size_t(t)], 2, Anchor::middle));
    d.add(label({gx - 12, gy + cell_h * (t + 0.5) + 7}, m.class_names[size_t(t)], 2, Anchor::end));
  }
  for (int t = 0; t < 2; ++t)
    for (int p = 0; p < 2; ++p) {
      const int64_t n = cm.at(t, p);
      const double share = cm.support(t) > 0 ? double(n) / double(cm.support(t)) : 0.0;
      const double x = gx + cell_w * p, y = gy + cell_h * t;
      d.add(FilledRect{x + 1, y + 1, cell_w - 2, cell_h - 2, blues(share)});
      const Rgb ink = share > 0.55 ? kWhite : kInk;
      const bool is_pos_truth = t == m.positive, is_pos_pred = p == m.positive;
      const char* kind = is_pos_truth ? (is_pos_pred ? "TP" : "FN") : (is_pos_pred ? "FP" : "TN");
      d.add(label({x + 8, y + 15}, kind, 1, Anchor::start, ink));
      d.add(label({x + cell_w / 2, y + cell_h / 2 + 6}, std::to_string(n), 3, Anchor::middle, ink));
      d.add(label({x + cell_w / 2, y + cell_h / 2 + 34},
                  cm.support(t) > 0 ? format("%.1f%%", 100 * share) : "-", 2, Anchor::middle, ink));
    }
  d.add(label({gx + cell_w, gy + 2 * cell_h + 22},
               "% = share of the true class (row); positive class: " + m.class_names[size_t(m.positive)], 1,
               Anchor::middle, kMuted));
  return d;
}

Drawing plot_roc(const RocCurve& roc, const std::optional<OperatingPoint>& op, const ClassNames& names) {
  Drawing d;
  d.width = 560;
  d.height = 580;
  const std::string& pos = names[size_t(roc.positive)];
  const std::string& neg = names[size_t(1 - roc.positive)];
  draw_title(d, "ROC curve, positive class: " + pos,
             std::to_string(roc.n_positive) + " " + pos + " vs " + std::to_string(roc.n_negative) + " " + neg);

  Frame f;
  f.left = 72, f.right = d.width - 24, f.top = 60, f.bottom = d.height - 56;
  f.x0 = f.y0 = -0.02, f.x1 = f.y1 = 1.02;  // room so a curve along an edge stays visible
  draw_axes(d, f, 0.2, 0.2, "false positive rate (1 - specificity)", "true positive rate (sensitivity)");
  d.area = f;

  d.add(line({f.at(0, 0), f.at(1, 1)}, kGray, 1.2, 6));
  // Collinear runs (a stretch of only positives or only negatives) add no
  // shape: drop their inner points to keep the SVG small.
  std::vector<Point> curve;
  for (const RocPoint& p : roc.points) {
    const Point q = f.at(p.fpr, p.tpr);
    while (curve.size() >= 2) {
      const Point a = curve[curve.size() - 2], b = curve.back();
      if (std::abs((b.x - a.x) * (q.y - a.y) - (b.y - a.y) * (q.x - a.x)) > 1e-6) break;
      curve.pop_back();
    }
    curve.push_back(q);
  }
  d.add(line(curve, kBlue, 2.5));
  std::vector<Point> drawn;
  sample(curve, drawn);
  sample({f.at(0, 0), f.at(1, 1)}, drawn);

  std::vector<LegendEntry> legend = {
      {"ROC (AUC = " + (std::isfinite(roc.auc) ? format("%.3f", roc.auc) : std::string("undefined")) + ")", kBlue},
      {"chance (AUC = 0.5)", kGray, LegendEntry::dashed}};
  if (op && op->met) {
    const Point at = f.at(1 - op->specificity, op->sensitivity);
    d.add(Marker{at, 5, kRed, kWhite, 1.5});
    const std::string l1 = std::isfinite(op->threshold) ? "threshold " + format("%.3g", op->threshold)
                                                         : std::string("threshold -inf");
    const std::string l2 = "sens " + format("%.3f", op->sensitivity) + ", spec " + format("%.3f", op->specificity);
    // Below and to the right of the point, where a useful ROC curve leaves room.
    const double w = double(font::text_width(l2));
    const bool fits_right = at.x + 12 + w <= f.right - 4;
    const double x = fits_right ? at.x + 12 : at.x - 12;
    const Anchor a = fits_right ? Anchor::start : Anchor::end;
    d.add(label({x, at.y + 18}, l1, 1, a, kRed));
    d.add(label({x, at.y + 30}, l2, 1, a, kRed));
    drawn.push_back({x, at.y + 18}), drawn.push_back({fits_right ? x + w : x - w, at.y + 30});
    legend.push_back({"operating point", kRed, LegendEntry::marker});
  }
  draw_legend(d, f, legend, drawn);
  return d;
}

void save_png(const Drawing& d, const std::string& path, int pixel_scale) {
  write_png_rgb(path, rasterize(d, pixel_scale));
}

}  // namespace radius
