#include "layers/spec_line.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace radius {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string s;
  for (const std::string& item : items) s += (s.empty() ? "" : sep) + item;
  return s;
}

SpecLine::SpecLine(const std::string& source, int number, const std::vector<std::string>& tokens,
                   const std::vector<std::string>& keys, size_t required)
    : where_(source + ":" + std::to_string(number) + ": "), keyword_(tokens.at(0)) {
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    const size_t eq = token.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == token.size())
      fail("expected key=value, got '" + token + "'");
    const std::string key = token.substr(0, eq);
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      fail("unknown key '" + key + "' for " + keyword_ +
           (keys.empty() ? " (it takes no keys)" : " (valid keys: " + join(keys) + ")"));
    if (!values_.emplace(key, token.substr(eq + 1)).second) fail("duplicate key '" + key + "'");
  }
  for (size_t i = 0; i < required; ++i)
    if (!has(keys[i])) fail("missing required key '" + keys[i] + "' for " + keyword_);
}

void SpecLine::fail(const std::string& why) const { throw std::invalid_argument(where_ + why); }

int64_t SpecLine::parse_positive(const std::string& key, const std::string& digits, int64_t cap) const {
  const std::string shown = key + "=" + values_.at(key);
  int64_t v = 0;
  const char* end = digits.data() + digits.size();
  const auto [stop, ec] = std::from_chars(digits.data(), end, v);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && stop == end && v > cap))
    fail(shown + " is absurdly large (the limit is " + std::to_string(cap) + ")");
  if (ec != std::errc() || stop != end) fail(shown + " is not a valid number (expected a positive integer)");
  if (v < 1) fail(shown + " must be positive");
  return v;
}

int64_t SpecLine::integer(const std::string& key, int64_t cap, int64_t fallback) const {
  return has(key) ? parse_positive(key, values_.at(key), cap) : fallback;
}

std::pair<int64_t, int64_t> SpecLine::size2(const std::string& key) const {
  const std::string& text = values_.at(key);
  const size_t x = text.find('x');
  if (x == std::string::npos) {
    const int64_t v = parse_positive(key, text, kMaxDim);
    return {v, v};
  }
  return {parse_positive(key, text.substr(0, x), kMaxDim), parse_positive(key, text.substr(x + 1), kMaxDim)};
}

double SpecLine::number(const std::string& key, double lo, double hi, double fallback) const {
  if (!has(key)) return fallback;
  const std::string& text = values_.at(key);
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || stop != end || !std::isfinite(v))
    fail(key + "=" + text + " is not a valid number (expected e.g. 0.5)");
  if (v < lo || v >= hi) {
    char range[64];
    std::snprintf(range, sizeof range, "[%g, %g)", lo, hi);
    fail(key + "=" + text + " must be in " + range);
  }
  return v;
}

std::string SpecLine::choice(const std::string& key, const std::vector<std::string>& options,
                             const std::string& fallback) const {
  if (!has(key)) return fallback;
  const std::string& v = values_.at(key);
  if (std::find(options.begin(), options.end(), v) == options.end())
    fail("bad value " + key + "=" + v + " (expected " + join(options, "|") + ")");
  return v;
}

}  // namespace radius
