// A float option written into JSON as the number a person typed: nlohmann stores a float
// as the double it converts to exactly, and prints that double in full, so --lr 0.001
// would read "lr": 0.0010000000474974513 in config.json. short_double(f) is the double
// nearest the shortest decimal that reads back as f (std::to_chars), which JSON prints
// as "0.001"; converting it back to float gives f again (tested over many floats).
#pragma once
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace radius {

inline double short_double(float f) {
  if (!std::isfinite(f)) return double(f);
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 1, f);  // shortest round trip for a float
  if (ec != std::errc()) return double(f);
  *end = '\0';
  const double d = std::strtod(buf, nullptr);
  // Decimal -> double -> float rounds twice; in the rare case that lands on another float,
  // keep the exact value (longer in the file, but the same float when read back).
  return float(d) == f ? d : double(f);
}

}  // namespace radius
