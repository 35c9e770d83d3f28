#include "net/spec.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "layers/activations.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/pool2d.h"

namespace radius {
namespace {

// Limits that refuse nonsense before anything is allocated. They also keep
// every size product far from int64 overflow.
constexpr int64_t kMaxDim = int64_t(1) << 16;         // height, width, channels, kernel, pool, stride
constexpr int64_t kMaxUnits = int64_t(1) << 20;       // conv filters, dense units
constexpr int64_t kMaxActivation = int64_t(1) << 31;  // values per sample: the input or any layer's output
constexpr int64_t kMaxParams = int64_t(1) << 32;      // whole model (16 GiB of float32)

// The grammar: each keyword and its keys; keys[0, required) must be given.
struct Keyword {
  std::string name;
  std::vector<std::string> keys;
  size_t required;
};

const std::vector<Keyword>& keywords() {
  static const std::vector<Keyword> k = {
      {"input", {"height", "width", "channels"}, 3},
      {"conv2d", {"filters", "kernel", "stride", "padding", "bias", "activation"}, 2},
      {"maxpool2d", {"pool", "stride"}, 1},
      {"avgpool2d", {"pool", "stride"}, 1},
      {"dense", {"units", "bias", "activation"}, 1},
      {"dropout", {"rate"}, 1},
      {"flatten", {}, 0},
      {"relu", {}, 0},
      {"sigmoid", {}, 0},
  };
  return k;
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string s;
  for (const std::string& item : items) s += (s.empty() ? "" : sep) + item;
  return s;
}

// One non-blank line, split into its keyword and key=value pairs and checked
// against the grammar on construction. The typed getters check the values.
class Line {
 public:
  Line(const std::string& source, int number, const std::vector<std::string>& tokens);

  [[noreturn]] void fail(const std::string& why) const { throw std::invalid_argument(where_ + why); }
  const std::string& keyword() const { return keyword_; }

  // A positive integer <= cap; `fallback` when the key is absent.
  int64_t integer(const std::string& key, int64_t cap, int64_t fallback = 0) const;
  // "3" -> {3, 3}, "3x5" -> {3, 5}: a (height, width) pair of positive dimensions.
  std::pair<int64_t, int64_t> size2(const std::string& key) const;
  // A dropout rate in [0, 1).
  double rate(const std::string& key) const;
  // One of `options`; `fallback` when the key is absent.
  std::string choice(const std::string& key, const std::vector<std::string>& options,
                     const std::string& fallback) const;
  bool has(const std::string& key) const { return values_.count(key) != 0; }

 private:
  int64_t parse_positive(const std::string& key, const std::string& digits, int64_t cap) const;

  std::string where_;  // "<source>:<line>: "
  std::string keyword_;
  std::map<std::string, std::string> values_;
};

Line::Line(const std::string& source, int number, const std::vector<std::string>& tokens)
    : where_(source + ":" + std::to_string(number) + ": "), keyword_(tokens.at(0)) {
  const auto& all = keywords();
  const auto kw = std::find_if(all.begin(), all.end(), [&](const Keyword& k) { return k.name == keyword_; });
  if (kw == all.end()) {
    std::vector<std::string> names;
    for (const Keyword& k : all) names.push_back(k.name);
    fail("unknown layer '" + keyword_ + "' (valid: " + join(names) + ")");
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    const size_t eq = token.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == token.size())
      fail("expected key=value, got '" + token + "'");
    const std::string key = token.substr(0, eq);
    if (std::find(kw->keys.begin(), kw->keys.end(), key) == kw->keys.end())
      fail("unknown key '" + key + "' for " + keyword_ +
           (kw->keys.empty() ? " (it takes no keys)" : " (valid keys: " + join(kw->keys) + ")"));
    if (!values_.emplace(key, token.substr(eq + 1)).second) fail("duplicate key '" + key + "'");
  }
  for (size_t i = 0; i < kw->required; ++i)
    if (!has(kw->keys[i])) fail("missing required key '" + kw->keys[i] + "' for " + keyword_);
}

int64_t Line::parse_positive(const std::string& key, const std::string& digits, int64_t cap) const {
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

int64_t Line::integer(const std::string& key, int64_t cap, int64_t fallback) const {
  return has(key) ? parse_positive(key, values_.at(key), cap) : fallback;
}

std::pair<int64_t, int64_t> Line::size2(const std::string& key) const {
  const std::string& text = values_.at(key);
  const size_t x = text.find('x');
  if (x == std::string::npos) {
    const int64_t v = parse_positive(key, text, kMaxDim);
    return {v, v};
  }
  return {parse_positive(key, text.substr(0, x), kMaxDim), parse_positive(key, text.substr(x + 1), kMaxDim)};
}

double Line::rate(const std::string& key) const {
  const std::string& text = values_.at(key);
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || stop != end || !std::isfinite(v))
    fail(key + "=" + text + " is not a valid number (expected e.g. 0.5)");
  if (v < 0 || v >= 1) fail(key + "=" + text + " must be in [0, 1)");
  return v;
}

std::string Line::choice(const std::string& key, const std::vector<std::string>& options,
                         const std::string& fallback) const {
  if (!has(key)) return fallback;
  const std::string& v = values_.at(key);
  if (std::find(options.begin(), options.end(), v) == options.end())
    fail("bad value " + key + "=" + v + " (expected " + join(options, "|") + ")");
  return v;
}

// Refuses a layer whose weights (the product of `factors`) would push the model
// past kMaxParams. Multiplies without overflow; biases are negligible here.
void check_param_budget(const Line& line, const Sequential& model, std::initializer_list<int64_t> factors) {
  int64_t weights = 1;
  for (int64_t f : factors) weights = f > (kMaxParams + 1) / weights ? kMaxParams + 1 : weights * f;
  if (model.num_params() + weights > kMaxParams)
    line.fail(line.keyword() + " would bring the model past " + std::to_string(kMaxParams) +
              " parameters (absurdly large)");
}

// Appends the layers of one line to `model`: one, or two when activation= asks
// for a separate activation layer after a conv2d/dense.
void add_layers(Sequential& model, const Line& line) {
  const std::string& kw = line.keyword();
  const Shape in = model.output_shape();
  std::vector<std::unique_ptr<Layer>> layers;
  if (kw == "conv2d") {
    const int64_t filters = line.integer("filters", kMaxUnits);
    const auto [kh, kwidth] = line.size2("kernel");
    const int64_t stride = line.integer("stride", kMaxDim, 1);
    const bool same = line.choice("padding", {"valid", "same"}, "valid") == "same";
    const bool bias = line.choice("bias", {"true", "false"}, "true") == "true";
    if (in.rank() == 3) check_param_budget(line, model, {filters, in[0], kh, kwidth});  // w [K, C, KH, KW]
    layers.push_back(std::make_unique<Conv2D>(filters, kh, kwidth, stride, same ? Padding::same : Padding::valid, bias));
  } else if (kw == "maxpool2d" || kw == "avgpool2d") {
    const auto [ph, pw] = line.size2("pool");
    // Pool2D has one stride for both axes: a non-square window must say which.
    if (ph != pw && !line.has("stride")) line.fail("pool=" + std::to_string(ph) + "x" + std::to_string(pw) +
                                                   " is not square: give stride= explicitly");
    const int64_t stride = line.integer("stride", kMaxDim, ph);
    layers.push_back(std::make_unique<Pool2D>(kw == "maxpool2d" ? PoolKind::max : PoolKind::average, ph, pw, stride));
  } else if (kw == "dense") {
    const int64_t units = line.integer("units", kMaxUnits);
    const bool bias = line.choice("bias", {"true", "false"}, "true") == "true";
    if (in.rank() == 1) check_param_budget(line, model, {units, in[0]});  // w [O, I]
    layers.push_back(std::make_unique<Dense>(units, bias));
  } else if (kw == "dropout") {
    layers.push_back(std::make_unique<Dropout>(float(line.rate("rate"))));
  } else if (kw == "flatten") {
    layers.push_back(std::make_unique<Flatten>());
  } else if (kw == "relu") {
    layers.push_back(std::make_unique<ReLU>());
  } else if (kw == "sigmoid") {
    layers.push_back(std::make_unique<Sigmoid>());
  } else {
    line.fail("'" + kw + "' cannot appear here");  // "input" (handled by the caller)
  }
  if (kw == "conv2d" || kw == "dense") {
    const std::string act = line.choice("activation", {"relu", "sigmoid", "linear"}, "linear");
    if (act == "relu") layers.push_back(std::make_unique<ReLU>());
    if (act == "sigmoid") layers.push_back(std::make_unique<Sigmoid>());
  }
  for (auto& layer : layers) {
    try {
      model.add(std::move(layer));  // throws naming the layer and the shape problem
    } catch (const std::invalid_argument& e) {
      line.fail(e.what());
    }
    if (model.output_shape().numel() > kMaxActivation)
      line.fail("output " + model.output_shape().str() + " is absurdly large (more than " +
                std::to_string(kMaxActivation) + " values per sample)");
  }
}

}  // namespace

std::unique_ptr<Sequential> parse_model_spec(const std::string& text, const std::string& source_name) {
  std::unique_ptr<Sequential> model;
  int number = 0, input_line = 0;
  std::istringstream lines(text);
  for (std::string raw; std::getline(lines, raw);) {
    ++number;
    std::istringstream words(raw.substr(0, raw.find('#')));  // '#' starts a comment
    const std::vector<std::string> tokens{std::istream_iterator<std::string>(words), {}};
    if (tokens.empty()) continue;
    const Line line(source_name, number, tokens);
    if (line.keyword() == "input") {
      if (model) line.fail("duplicate 'input' line (the first is on line " + std::to_string(input_line) + ")");
      const Shape shape{line.integer("channels", kMaxDim), line.integer("height", kMaxDim),
                        line.integer("width", kMaxDim)};
      if (shape.numel() > kMaxActivation) line.fail("input " + shape.str() + " is absurdly large");
      model = std::make_unique<Sequential>(shape);
      input_line = number;
    } else {
      if (!model) line.fail("the spec must start with an 'input' line, got '" + line.keyword() + "' first");
      add_layers(*model, line);
    }
  }
  const std::string at_end = source_name + ":" + std::to_string(std::max(number, 1)) + ": ";
  if (!model) throw std::invalid_argument(at_end + "no 'input' line (the spec is empty)");
  if (model->size() == 0) throw std::invalid_argument(at_end + "no layers after the 'input' line");
  return model;
}

std::unique_ptr<Sequential> load_model_spec(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw std::runtime_error("cannot read model spec '" + path + "': " + std::strerror(errno));
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f.get())) > 0;) text.append(buf, n);
  if (std::ferror(f.get()))  // e.g. EISDIR: fopen succeeds on a directory, reading fails
    throw std::runtime_error("cannot read model spec '" + path + "': " + std::strerror(errno));
  return parse_model_spec(text, path);
}

}  // namespace radius
