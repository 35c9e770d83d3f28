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

#include "layers/registry.h"
#include "layers/spec_line.h"

namespace radius {
namespace {

// The keyword table: "input" (the model's input, handled here) and every layer
// kind in the registry (layers/registry.h).
const std::vector<std::string> kInputKeys = {"height", "width", "channels"};

SpecLine parse_line(const std::string& source, int number, const std::vector<std::string>& tokens) {
  const std::string& keyword = tokens.at(0);
  if (keyword == "input") return SpecLine(source, number, tokens, kInputKeys, kInputKeys.size());
  const LayerKind* kind = find_layer_kind(keyword);
  if (!kind) {
    std::vector<std::string> names{"input"};
    for (const LayerKind& k : layer_kinds()) names.push_back(k.keyword);
    SpecLine(source, number, {keyword}, {}, 0).fail("unknown layer '" + keyword + "' (valid: " + join(names) + ")");
  }
  return SpecLine(source, number, tokens, kind->keys, kind->required);
}

// Appends the layers of one line to `model`: one, or two when activation= asks
// for a separate activation layer after it (conv2d, dense). params: the model's
// parameter count so far, kept up to date here (counting the whole model again
// for every line made a spec of n lines cost n^2).
void add_layers(Sequential& model, const SpecLine& line, int64_t& params) {
  const LayerKind* kind = find_layer_kind(line.keyword());
  if (!kind) line.fail("'" + line.keyword() + "' cannot appear here");  // "input" (handled by the caller)
  std::vector<std::unique_ptr<Layer>> layers;
  layers.push_back(kind->make(line, model.output_shape(), params));
  if (kind->takes_activation) {
    const std::string act = line.choice("activation", {"relu", "sigmoid", "linear"}, "linear");
    if (act != "linear") layers.push_back(find_layer_kind(act)->make(line, model.output_shape(), params));
  }
  for (auto& layer : layers) {
    try {
      model.add(std::move(layer));  // throws naming the layer and the shape problem
    } catch (const std::invalid_argument& e) {
      line.fail(e.what());
    }
    for (const ParamSpec& spec : model.layer(model.size() - 1).param_specs()) params += spec.shape.numel();
    if (model.output_shape().numel() > kMaxActivation)
      line.fail("output " + model.output_shape().str() + " is absurdly large (more than " +
                std::to_string(kMaxActivation) + " values per sample)");
  }
}

}  // namespace

std::unique_ptr<Sequential> parse_model_spec(const std::string& text, const std::string& source_name) {
  std::unique_ptr<Sequential> model;
  int number = 0, input_line = 0;
  int64_t params = 0;  // the model's parameter count so far (add_layers keeps it)
  std::istringstream lines(text);
  for (std::string raw; std::getline(lines, raw);) {
    ++number;
    std::istringstream words(raw.substr(0, raw.find('#')));  // '#' starts a comment
    const std::vector<std::string> tokens{std::istream_iterator<std::string>(words), {}};
    if (tokens.empty()) continue;
    const SpecLine line = parse_line(source_name, number, tokens);
    if (line.keyword() == "input") {
      if (model) line.fail("duplicate 'input' line (the first is on line " + std::to_string(input_line) + ")");
      const Shape shape{line.integer("channels", kMaxDim), line.integer("height", kMaxDim),
                        line.integer("width", kMaxDim)};
      if (shape.numel() > kMaxActivation) line.fail("input " + shape.str() + " is absurdly large");
      model = std::make_unique<Sequential>(shape);
      input_line = number;
      params = 0;
    } else {
      if (!model) line.fail("the spec must start with an 'input' line, got '" + line.keyword() + "' first");
      add_layers(*model, line, params);
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
