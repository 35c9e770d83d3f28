#include "eval/drawing.h"

#include <cstdio>

#include "eval/font.h"

namespace radius {
namespace {

std::string hex(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();  // "12.50" -> "12.5", "3.00" -> "3"
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

struct SvgWriter {
  std::string out;
  void operator()(const Stroke& s) {
    if (s.points.empty()) return;
    out += "<polyline fill=\"none\" stroke=\"" + hex(s.color) + "\" stroke-width=\"" + num(s.width) +
           "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"";
    if (s.dash > 0) out += " stroke-dasharray=\"" + num(s.dash) + "\"";
    out += " points=\"";
    for (size_t i = 0; i < s.points.size(); ++i) {
      if (i) out += ' ';
      out += num(s.points[i].x) + "," + num(s.points[i].y);
    }
    out += "\"/>\n";
  }
  void operator()(const FilledRect& r) {
    out += "<rect x=\"" + num(r.x) + "\" y=\"" + num(r.y) + "\" width=\"" + num(r.w) + "\" height=\"" + num(r.h) +
           "\" fill=\"" + hex(r.fill) + "\"/>\n";
  }
  void operator()(const Marker& m) {
    out += "<circle cx=\"" + num(m.at.x) + "\" cy=\"" + num(m.at.y) + "\" r=\"" + num(m.radius) + "\" fill=\"" +
           hex(m.fill) + "\" stroke=\"" + hex(m.edge) + "\" stroke-width=\"" + num(m.edge_width) + "\"/>\n";
  }
  void operator()(const Text& t) {
    // A monospace font at 10 px per scale step advances ~6 px per character
    // and has ~7 px capitals, like the bitmap font, so layouts match.
    static const char* anchors[] = {"start", "middle", "end"};
    out += "<text x=\"" + num(t.at.x) + "\" y=\"" + num(t.at.y) + "\" font-size=\"" + num(10.0 * t.scale) +
           "\" fill=\"" + hex(t.color) + "\" text-anchor=\"" + anchors[int(t.anchor)] + "\"";
    if (t.vertical) out += " transform=\"rotate(-90 " + num(t.at.x) + " " + num(t.at.y) + ")\"";
    out += '>';
    out += escape_xml(t.text);
    out += "</text>\n";
  }
};

}  // namespace

std::string escape_xml(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

double text_length(const Text& t) { return double(font::text_width(t.text)) * t.scale; }

std::string to_svg(const Drawing& d) {
  SvgWriter w;
  w.out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(d.width) + "\" height=\"" +
          std::to_string(d.height) + "\" viewBox=\"0 0 " + std::to_string(d.width) + " " +
          std::to_string(d.height) +
          "\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" role=\"img\">\n";
  if (!d.title.empty()) w.out += "<title>" + escape_xml(d.title) + "</title>\n";
  w.out += "<rect width=\"100%\" height=\"100%\" fill=\"" + hex(d.background) + "\"/>\n";
  for (const DrawItem& item : d.items) std::visit(w, item);
  w.out += "</svg>\n";
  return w.out;
}

}  // namespace radius
