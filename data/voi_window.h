// Windowing: how a medical image's wide value range becomes grey levels (DICOM "VOI",
// value of interest). Pure arithmetic, no DICOM library: data/dicom.cpp applies it to
// DICOM pixels, `--window C,W` to any 16-bit input, and the tests check it by hand.
#pragma once
#include <cmath>
#include <stdexcept>
#include <string>

namespace radius {

// A window [center - width/2, center + width/2] in the image's (modality) units, e.g.
// Hounsfield units for CT or the detector's values for a radiograph. width <= 0: none.
struct VoiWindow {
  double center = 0, width = 0;
  bool set() const { return width > 0; }
};

// DICOM's VOI LUT Function (0028,1056): LINEAR is the default when the file names none.
enum class VoiFunction { linear, linear_exact, sigmoid };

// The window function of DICOM PS3.3 C.11.2.1.2, with output range [0, y_max]:
//  LINEAR (C.11.2.1.2.1), width >= 1:
//    x <= c - 0.5 - (w - 1) / 2  ->  0
//    x >  c - 0.5 + (w - 1) / 2  ->  y_max
//    else ((x - (c - 0.5)) / (w - 1) + 0.5) * y_max
//  (the -0.5 and -1 put the window's edges on sample centres of integer data);
//  LINEAR_EXACT (C.11.2.1.3.2), width > 0: ((x - c) / w + 0.5) * y_max, clamped;
//  SIGMOID (C.11.2.1.3.1): y_max / (1 + exp(-4 (x - c) / w)).
inline double voi_window(double x, double center, double width, VoiFunction function, double y_max) {
  switch (function) {
    case VoiFunction::linear: {
      if (!(width >= 1)) throw std::invalid_argument("voi_window: LINEAR needs a width >= 1");
      const double lo = center - 0.5 - (width - 1) / 2, hi = center - 0.5 + (width - 1) / 2;
      if (x <= lo) return 0;
      if (x > hi) return y_max;
      return ((x - (center - 0.5)) / (width - 1) + 0.5) * y_max;
    }
    case VoiFunction::linear_exact: {
      if (!(width > 0)) throw std::invalid_argument("voi_window: LINEAR_EXACT needs a width > 0");
      const double y = ((x - center) / width + 0.5) * y_max;
      return y < 0 ? 0 : (y > y_max ? y_max : y);
    }
    case VoiFunction::sigmoid:
      if (!(width > 0)) throw std::invalid_argument("voi_window: SIGMOID needs a width > 0");
      return y_max / (1 + std::exp(-4 * (x - center) / width));
  }
  return 0;
}

// "C,W" (e.g. "2048,4096") as given to --window; throws std::invalid_argument naming the text.
inline VoiWindow parse_voi_window(const std::string& text) {
  const size_t comma = text.find(',');
  const auto fail = [&] {
    return std::invalid_argument("window '" + text + "': expected CENTER,WIDTH with WIDTH >= 1, e.g. 2048,4096");
  };
  if (comma == std::string::npos) throw fail();
  VoiWindow w;
  try {
    size_t used = 0;
    w.center = std::stod(text.substr(0, comma), &used);
    if (used != comma) throw fail();
    const std::string rest = text.substr(comma + 1);
    w.width = std::stod(rest, &used);
    if (used != rest.size()) throw fail();
  } catch (const std::logic_error&) {  // stod's invalid_argument / out_of_range
    throw fail();
  }
  if (!std::isfinite(w.center) || !std::isfinite(w.width) || !(w.width >= 1)) throw fail();
  return w;
}

}  // namespace radius
