// One line of a model spec (models/*.spec), split and checked against its
// layer kind's keys, with typed getters that refuse nonsense before anything is
// allocated. net/spec.cpp reads the file; layers/registry.cpp's entries read
// their arguments from here.
//
//   conv2d filters=32 kernel=3 activation=relu   # keyword, then key=value pairs
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace radius {

// Limits that refuse nonsense before anything is allocated. They also keep
// every size product far from int64 overflow.
inline constexpr int64_t kMaxDim = int64_t(1) << 16;         // height, width, channels, kernel, pool, stride
inline constexpr int64_t kMaxUnits = int64_t(1) << 20;       // conv filters, dense units
inline constexpr int64_t kMaxActivation = int64_t(1) << 31;  // values per sample: the input or any layer's output
inline constexpr int64_t kMaxParams = int64_t(1) << 32;      // whole model (16 GiB of float32)

std::string join(const std::vector<std::string>& items, const char* sep = ", ");

class SpecLine {
 public:
  // tokens[0] is the keyword. Throws std::invalid_argument ("<source>:<line>: ...")
  // for a key not in `keys`, a duplicate, a pair without '=', or a missing key
  // among the first `required` of `keys`.
  SpecLine(const std::string& source, int number, const std::vector<std::string>& tokens,
           const std::vector<std::string>& keys, size_t required);

  [[noreturn]] void fail(const std::string& why) const;
  const std::string& keyword() const { return keyword_; }
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  // A positive integer <= cap; `fallback` when the key is absent.
  int64_t integer(const std::string& key, int64_t cap, int64_t fallback = 0) const;
  // "3" -> {3, 3}, "3x5" -> {3, 5}: a (height, width) pair of positive dimensions.
  std::pair<int64_t, int64_t> size2(const std::string& key) const;
  // A finite number in [lo, hi); `fallback` when the key is absent.
  double number(const std::string& key, double lo, double hi, double fallback) const;
  // One of `options`; `fallback` when the key is absent.
  std::string choice(const std::string& key, const std::vector<std::string>& options,
                     const std::string& fallback) const;
  bool flag(const std::string& key, bool fallback) const {  // true|false
    return choice(key, {"true", "false"}, fallback ? "true" : "false") == "true";
  }

 private:
  int64_t parse_positive(const std::string& key, const std::string& digits, int64_t cap) const;

  std::string where_;  // "<source>:<line>: "
  std::string keyword_;
  std::map<std::string, std::string> values_;
};

}  // namespace radius
