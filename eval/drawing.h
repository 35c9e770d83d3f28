// A chart as a list of drawing commands in logical pixels, so one layout
// feeds two backends: the rasterizer (raster.h, for PNG) and SVG (to_svg,
// inlined by the HTML report). Items paint in order (later on top).
//
// Coordinates: x to the right, y down, origin at the top-left corner.
// Text is placed by its baseline; its size is an integer multiple of the
// 5x7 bitmap font (font.h): scale 1 is 7 logical pixels from baseline to the
// top of a capital, 6 per character.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace radius {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

struct Point {
  double x = 0, y = 0;
};

// An open polyline with round joins and caps.
struct Stroke {
  std::vector<Point> points;
  Rgb color;
  double width = 2;
  double dash = 0;  // > 0: dashes and gaps of this length
};

struct FilledRect {
  double x = 0, y = 0, w = 0, h = 0;
  Rgb fill;
};

struct Marker {  // a filled circle with an outline
  Point at;
  double radius = 4;
  Rgb fill, edge;
  double edge_width = 1.5;
};

enum class Anchor { start, middle, end };

struct Text {
  Point at;  // baseline point; which part of the text sits there is the anchor
  std::string text;
  Rgb color;
  int scale = 2;
  Anchor anchor = Anchor::start;
  bool vertical = false;  // rotated 90 degrees counter-clockwise (reads bottom to top)
};

using DrawItem = std::variant<Stroke, FilledRect, Marker, Text>;

// A chart's plot area (logical pixels) and the data range it shows; kept on
// the Drawing so callers and tests can find where a data point was drawn.
struct PlotArea {
  double left = 0, top = 0, right = 0, bottom = 0;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
  Point at(double x, double y) const { return {px(x), py(y)}; }
};

struct Drawing {
  int width = 640, height = 480;
  Rgb background{255, 255, 255};
  std::string title;  // for SVG <title> (tooltips, screen readers)
  std::vector<DrawItem> items;
  std::optional<PlotArea> area;  // set by charts with x/y axes

  template <class T>
  void add(T item) {
    items.emplace_back(std::move(item));
  }
};

// The logical width of a text item (along its direction).
double text_length(const Text& t);

// Standalone SVG 1.1 (with a viewBox, so it scales to its container).
// Text for XML/HTML element content and attribute values (& < > " ').
std::string escape_xml(const std::string& s);

std::string to_svg(const Drawing& d);

}  // namespace radius
