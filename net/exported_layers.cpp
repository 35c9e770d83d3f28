#include "net/exported_layers.h"

#include <stdexcept>

namespace radius {

std::pair<size_t, std::string> split_tensor_name(const std::string& name, size_t layers) {
  const size_t dot = name.find('.');
  const auto bad = [&](const std::string& why) { return std::invalid_argument("tensor '" + name + "': " + why); };
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size())
    throw bad("not of the form <layer index>.<name>");
  size_t index = 0;
  for (size_t i = 0; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9' || i > 6) throw bad("not of the form <layer index>.<name>");
    index = index * 10 + size_t(name[i] - '0');
  }
  if (layers > 0 && index >= layers)
    throw bad("layer " + std::to_string(index) + " does not exist (the model has " + std::to_string(layers) + ")");
  return {index, name.substr(dot + 1)};
}

std::vector<ExportedLayer> exported_layers(const Sequential& model,
                                           const std::vector<std::pair<std::string, Tensor>>& host) {
  std::vector<ExportedLayer> layers;
  layers.reserve(model.size());
  for (size_t i = 0; i < model.size(); ++i)
    layers.push_back({model.layer(i), i, i == 0 ? model.input_shape() : model.layer_output(i - 1),
                      model.layer_output(i), {}});
  for (const auto& [name, tensor] : host) {
    const auto [index, short_name] = split_tensor_name(name, model.size());
    layers[index].tensors.emplace(short_name, tensor);
  }
  return layers;
}

}  // namespace radius
