#include "net/foreign_weights.h"

#include <optional>
#include <stdexcept>

#include "layers/export.h"
#include "layers/registry.h"
#include "net/exported_layers.h"

namespace radius {

namespace {

// For each layer, the [C, H, W] image whose Keras-order flattening it reads, if any:
// set where a layer turns [C, H, W] into a vector (a flatten), kept through layers
// that leave the shape alone (relu, dropout), used up by the layer that reads the
// features through a flattened_features_axis (a dense).
std::vector<std::optional<Shape>> flattened_inputs(const std::vector<ExportedLayer>& layers) {
  std::vector<std::optional<Shape>> result;
  std::optional<Shape> from;
  for (const ExportedLayer& l : layers) {
    result.push_back(from);
    bool consumes = false;
    for (const KerasTensor& k : kind_of(l.layer).keras) consumes = consumes || k.flattened_features_axis >= 0;
    if (consumes) from.reset();
    else if (l.in.rank() == 3 && l.out.rank() == 1) from = l.in;
    else if (!(l.in == l.out)) from.reset();
  }
  return result;
}

// Along `axis`: result index k takes t's index order[k] (gather), or the reverse
// (scatter: result index order[k] takes t's index k).
Tensor reorder_axis(const Tensor& t, int axis, const std::vector<int64_t>& order, bool scatter) {
  const Shape& s = t.shape();
  if (axis < 0 || axis >= s.rank() || s[axis] != int64_t(order.size()))
    throw std::invalid_argument("a tensor of shape " + s.str() + " does not have " + std::to_string(order.size()) +
                                " features on axis " + std::to_string(axis));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  const int64_t n = s[axis];
  Tensor r = Tensor::empty(s);
  const float* src = t.cpu();
  float* dst = r.cpu();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k) {
      const int64_t to = scatter ? order[size_t(k)] : k, from = scatter ? k : order[size_t(k)];
      for (int64_t i = 0; i < inner; ++i) dst[(o * n + to) * inner + i] = src[(o * n + from) * inner + i];
    }
  return r;
}

const KerasTensor* keras_entry(const ExportedLayer& l, const std::string& short_name, bool by_keras_name) {
  for (const KerasTensor& k : kind_of(l.layer).keras)
    if ((by_keras_name ? k.keras : k.radius) == short_name) return &k;
  return nullptr;
}

// Radius layout -> Keras layout (or back, `to_keras` false).
Tensor keras_layout(const Tensor& t, const KerasTensor& k, const std::optional<Shape>& flattened, bool to_keras) {
  const bool reorder = flattened && k.flattened_features_axis >= 0;
  if (to_keras) {
    Tensor r = k.axes.empty() ? t.clone() : permute_axes(t, k.axes);
    return reorder ? reorder_axis(r, k.flattened_features_axis, keras_feature_order(*flattened), false) : r;
  }
  const Tensor r = reorder ? reorder_axis(t, k.flattened_features_axis, keras_feature_order(*flattened), true) : t;
  return k.axes.empty() ? r.clone() : permute_axes(r, inverse_axes(k.axes));
}

}  // namespace

std::string layout_name(WeightLayout layout) { return layout == WeightLayout::torch ? "torch" : "keras"; }

std::vector<std::pair<std::string, Tensor>> foreign_tensors(const Sequential& model, WeightLayout layout) {
  const auto host = host_named_tensors(model);
  std::vector<std::pair<std::string, Tensor>> out;
  if (layout == WeightLayout::torch) {
    for (const auto& [name, t] : host) out.emplace_back(name, t.clone());
    return out;
  }
  const std::vector<ExportedLayer> layers = exported_layers(model, host);
  const auto flattened = flattened_inputs(layers);
  for (const auto& [name, t] : host) {
    const auto [index, short_name] = split_tensor_name(name, model.size());
    const ExportedLayer& l = layers[index];
    const KerasTensor* k = keras_entry(l, short_name, false);
    if (!k)
      throw std::invalid_argument("layer " + std::to_string(index) + " (" + l.layer.describe() + "): the '" +
                                  kind_of(l.layer).keyword + "' kind gives no Keras layout for its '" + short_name +
                                  "'");
    out.emplace_back(l.name(k->keras), keras_layout(t, *k, flattened[index], true));
  }
  return out;
}

void export_foreign_weights(const Sequential& model, WeightLayout layout, const std::string& path,
                            const std::map<std::string, std::string>& metadata) {
  std::map<std::string, std::string> meta = metadata;
  meta["layout"] = layout_name(layout);
  meta["layout_description"] =
      layout == WeightLayout::torch
          ? "state_dict of the equivalent torch.nn.Sequential (one module per spec layer and activation): Conv2d "
            "weight [out, in, kh, kw], Linear weight [out, in]; BatchNorm2d's num_batches_tracked is left out"
          : "<layer index>.<Keras variable> of the equivalent Keras model (channels last): Conv2D kernel [kh, kw, in, "
            "out], Dense kernel [in, out] (after a Flatten: rows in (h, w, c) order), BatchNormalization gamma, beta, "
            "moving_mean, moving_variance";
  write_safetensors(path, foreign_tensors(model, layout), meta);
}

WeightLayout detect_layout(const SafetensorsFile& file) {
  const auto it = file.metadata.find("layout");
  if (it != file.metadata.end()) {
    if (it->second == "torch") return WeightLayout::torch;
    if (it->second == "keras") return WeightLayout::keras;
    throw std::runtime_error("layout '" + it->second + "' is neither torch nor keras");
  }
  for (const auto& [name, t] : file.tensors)
    for (const char* keras : {".kernel", ".gamma", ".moving_mean"})
      if (name.ends_with(keras)) return WeightLayout::keras;
  return WeightLayout::torch;
}

SafetensorsFile radius_tensors(const Sequential& model, const SafetensorsFile& file, WeightLayout layout,
                               const std::string& path) {
  if (layout == WeightLayout::torch) return file;
  const auto host = host_named_tensors(model);
  const std::vector<ExportedLayer> layers = exported_layers(model, host);
  const auto flattened = flattened_inputs(layers);
  SafetensorsFile out;
  out.metadata = file.metadata;
  for (const auto& [tensor_name, t] : file.tensors) {
    const std::string& name = tensor_name;  // clang 14 lets no lambda capture a structured binding
    const auto fail = [&](const std::string& why) { return std::runtime_error(path + ": " + name + ": " + why); };
    std::pair<size_t, std::string> split;
    try {
      split = split_tensor_name(name, model.size());
    } catch (const std::invalid_argument& e) {
      throw fail(e.what());
    }
    const ExportedLayer& l = layers[split.first];
    const KerasTensor* k = keras_entry(l, split.second, true);
    if (!k) throw fail("layer " + std::to_string(split.first) + " (" + l.layer.describe() + ") has no Keras variable '" +
                       split.second + "'");
    const Tensor& expected = l.tensor(k->radius);
    Shape keras_shape = expected.shape();  // what Keras' shape must be
    if (!k->axes.empty())
      for (int i = 0; i < keras_shape.rank(); ++i) keras_shape[i] = expected.shape()[k->axes[size_t(i)]];
    if (!(t.shape() == keras_shape))
      throw fail("shape " + t.shape().str() + ", the model's Keras layout is " + keras_shape.str());
    out.tensors.emplace(l.name(k->radius), keras_layout(t, *k, flattened[split.first], false));
  }
  return out;
}

WeightLayout import_foreign_weights(Sequential& model, const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  const WeightLayout layout = detect_layout(file);
  load_weights(model, radius_tensors(model, file, layout, path), path);
  return layout;
}

}  // namespace radius
