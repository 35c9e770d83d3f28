#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <set>
#include <string>

#include "eval/font.h"
#include "eval/plot.h"
#include "eval/png_io.h"
#include "eval/raster.h"

using namespace radius;

namespace radius {
std::ostream& operator<<(std::ostream& os, Rgb c) {  // readable failures
  return os << "rgb(" << int(c.r) << ", " << int(c.g) << ", " << int(c.b) << ")";
}
}  // namespace radius

namespace {

constexpr int kScale = 2;

// The device pixel under a data point of a chart with axes.
Rgb pixel_at(const RgbImage& img, const Drawing& d, double x, double y) {
  const Point p = d.area->at(x, y);
  return img.at(int(p.x * kScale), int(p.y * kScale));
}

bool near(Rgb a, Rgb b, int tol = 40) {
  return std::abs(a.r - b.r) <= tol && std::abs(a.g - b.g) <= tol && std::abs(a.b - b.b) <= tol;
}

std::vector<HistoryRow> toy_history(int epochs) {
  std::vector<HistoryRow> h;
  for (int e = 1; e <= epochs; ++e)
    h.push_back({e, 0.7 / e + 0.1, 0.6 + 0.03 * e, 0.6 / e + 0.2 + (e > 7 ? 0.02 * (e - 7) : 0), 0.55 + 0.025 * e,
                 1e-3, 30.0});
  return h;
}

}  // namespace

TEST_CASE("font: every printable ASCII character has its own glyph") {
  std::set<std::string> seen;
  const std::string missing(reinterpret_cast<const char*>(font::glyph('\x01')), font::kRows);
  for (int c = 32; c <= 126; ++c) {
    const std::string g(reinterpret_cast<const char*>(font::glyph(char(c))), font::kRows);
    CHECK_MESSAGE(seen.insert(g).second, "glyph of '", char(c), "' duplicates another");
    CHECK(g != missing);
    for (unsigned char row : g) CHECK(row < 0x20);  // 5 columns wide
  }
  CHECK(font::text_width("AUC") == 17);
}

TEST_CASE("raster: text is the font's bitmap, scaled by whole pixels, horizontal and vertical") {
  Drawing d;
  d.width = 20, d.height = 20;
  d.add(Text{{2, 9}, "7", {0, 0, 0}, 1, Anchor::start, false});
  const RgbImage img = rasterize(d, 1);
  const uint8_t* rows = font::glyph('7');
  for (int r = 0; r < font::kRows; ++r)
    for (int c = 0; c < font::kGlyphWidth; ++c) {
      const bool ink = rows[r] & (0x10 >> c);
      CHECK(img.at(2 + c, 9 - font::kAscent + r) == (ink ? Rgb{0, 0, 0} : Rgb{255, 255, 255}));
    }
  // Rotated: the glyph's top row runs up the left edge.
  Drawing v = d;
  v.items.clear();
  v.add(Text{{9, 12}, "L", {0, 0, 0}, 1, Anchor::start, true});
  const RgbImage vi = rasterize(v, 1);
  // 'L' has a full-width bottom row (row 6): rotated, it becomes a column at x = 9 + (6 - 7) = 8.
  for (int c = 0; c < font::kGlyphWidth; ++c) CHECK(vi.at(8, 12 - 1 - c) == Rgb{0, 0, 0});
  CHECK(vi.at(2, 9) == Rgb{255, 255, 255});
}

TEST_CASE("raster: strokes are anti-aliased and at least 2 pixels thick, rects and markers fill") {
  Drawing d;
  d.width = 40, d.height = 40;
  d.add(Stroke{{{5, 10}, {35, 10}}, {255, 0, 0}, 2, 0});
  d.add(FilledRect{5, 20, 10, 5, {0, 0, 255}});
  d.add(Marker{{30, 30}, 4, {0, 255, 0}, {0, 0, 0}, 1});
  const RgbImage img = rasterize(d, 1);
  CHECK(img.at(20, 9) == Rgb{255, 0, 0});
  CHECK(img.at(20, 10) == Rgb{255, 0, 0});
  CHECK(img.at(20, 13) == Rgb{255, 255, 255});
  CHECK(img.at(10, 22) == Rgb{0, 0, 255});
  CHECK(img.at(30, 30) == Rgb{0, 255, 0});
  // A diagonal stroke leaves partly covered (blended) pixels along its edge.
  Drawing diag;
  diag.width = diag.height = 30;
  diag.add(Stroke{{{3, 4}, {27, 21}}, {0, 0, 0}, 2, 0});
  const RgbImage di = rasterize(diag, 1);
  int partial = 0;
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 30; ++x) partial += di.at(x, y).r > 0 && di.at(x, y).r < 255;
  CHECK(partial > 20);
  CHECK_THROWS_AS(rasterize(d, 0), std::invalid_argument);
}

TEST_CASE("plot: ROC PNG decodes to the right size, with the curve where it should be") {
  // A perfect ranking: the curve runs up the left edge, then along the top.
  const RocCurve roc = roc_curve({0, 0, 0, 1, 1, 1}, {0.1, 0.2, 0.3, 0.7, 0.8, 0.9}, 0);
  const OperatingPoint op = operating_point_for_sensitivity(roc, 0.95);
  const Drawing d = plot_roc(roc, op);
  REQUIRE(d.area);
  const std::string path = "plot_roc_test.png";
  save_png(d, path, kScale);
  const RgbImage img = read_png_rgb(path);
  CHECK(img.width == d.width * kScale);
  CHECK(img.height == d.height * kScale);
  const Rgb blue{31, 119, 180};
  CHECK(near(pixel_at(img, d, 0, 0.5), blue));
  CHECK(near(pixel_at(img, d, 0.5, 1), blue));
  CHECK(pixel_at(img, d, 0.5, 0.3) == Rgb{255, 255, 255});  // open plot area stays background
  CHECK(near(pixel_at(img, d, 0, 1), Rgb{214, 39, 40}));    // the operating point marker
  std::remove(path.c_str());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));

  const std::string svg = to_svg(d);
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("AUC = 1.000") != std::string::npos);
  CHECK(svg.find("<polyline") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("plot: learning curves, one chart for loss and one for accuracy") {
  const auto h = toy_history(12);
  const LearningCurves c = plot_learning_curves(h);
  REQUIRE(c.loss.area);
  REQUIRE(c.accuracy.area);
  const RgbImage loss = rasterize(c.loss, kScale), acc = rasterize(c.accuracy, kScale);
  // Each epoch has a dot, blue for train and orange for validation.
  CHECK(near(pixel_at(loss, c.loss, 5, h[4].train_loss), Rgb{31, 119, 180}));
  CHECK(near(pixel_at(loss, c.loss, 5, h[4].val_loss), Rgb{255, 127, 14}));
  CHECK(near(pixel_at(acc, c.accuracy, 3, h[2].train_accuracy), Rgb{31, 119, 180}));
  CHECK(near(pixel_at(acc, c.accuracy, 3, h[2].val_accuracy), Rgb{255, 127, 14}));
  CHECK(c.loss.area->x0 < 1);  // epochs 1..12 with a little room either side
  CHECK(c.loss.area->x0 > 0.5);
  CHECK(c.loss.area->x1 > 12);
  CHECK(c.loss.area->x1 < 12.5);
  CHECK(to_svg(c.loss).find("lowest validation loss") != std::string::npos);

  // Without validation the chart still draws (and marks no best epoch).
  auto train_only = h;
  for (auto& r : train_only) r.val_loss = r.val_accuracy = kNaN;
  CHECK(to_svg(plot_learning_curves(train_only).loss).find("lowest validation") == std::string::npos);
  CHECK_NOTHROW(rasterize(plot_learning_curves({}).loss));
  CHECK_NOTHROW(rasterize(plot_learning_curves(toy_history(1)).accuracy));
}

TEST_CASE("plot: confusion matrix shows counts, row shares and class names") {
  const Metrics m = compute_metrics(ConfusionMatrix::from_counts(694, 32, 54, 195));
  const Drawing d = plot_confusion_matrix(m);
  const std::string svg = to_svg(d);
  for (const char* s : {"694", "32", "54", "195", "95.6%", "21.7%", "not fractured", "predicted class", "TP", "FN"})
    CHECK_MESSAGE(svg.find(s) != std::string::npos, s);
  const std::string path = "plot_cm_test.png";
  save_png(d, path, kScale);
  const RgbImage img = read_png_rgb(path);
  CHECK(img.width == d.width * kScale);
  // Somewhere a cell is dark blue (the 95.6 % diagonal cell).
  int dark = 0;
  for (size_t i = 0; i < img.pixels.size(); i += 3) dark += img.pixels[i] < 40 && img.pixels[i + 2] > 90;
  CHECK(dark > 1000);
  std::remove(path.c_str());
}

TEST_CASE("png: errors name the file") {
  RgbImage img(4, 3, {1, 2, 3});
  const std::string bad = "no/such/dir/x.png";
  try {
    write_png_rgb(bad, img);
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(bad) != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(read_png_rgb("missing.png"), doctest::Contains("missing.png"), std::runtime_error);
  const std::string path = "png_roundtrip_test.png";
  write_png_rgb(path, img);
  const RgbImage back = read_png_rgb(path);
  CHECK(back.width == 4);
  CHECK(back.height == 3);
  CHECK(back.pixels == img.pixels);
  std::remove(path.c_str());
}
