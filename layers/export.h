// How a layer leaves Radius: the small, protobuf-free vocabulary that each kind's
// registry entry (layers/registry.cpp) uses to describe itself to other frameworks.
//
//  ONNX   A kind's `onnx` callback appends its nodes (and weights, as initializers)
//         to an OnnxGraph: plain structs, no protobuf here. net/onnx_graph.h walks
//         the model and onnx_io/onnx_file.h turns the graph into an ONNX file with
//         the onnx library (only that file needs it, so Radius builds without it).
//
//  Keras  A kind's `keras` list names each of its tensors in Keras and gives the
//         axis order Keras stores it in: a conv weight is [out, in, kh, kw] here
//         and PyTorch, [kh, kw, in, out] (HWIO) in Keras; a dense weight [out, in]
//         here, [in, out] in Keras. PyTorch needs no list: Radius already uses the
//         names and layouts of torch.nn.Sequential's state_dict ("0.weight").
//
// One subtlety the Keras list flags rather than solves: Keras flattens NHWC images
// in (h, w, c) order, Radius and PyTorch in (c, h, w) order. A tensor axis that
// indexes the features of a flattened image (`flattened_features_axis`, a dense
// kernel's rows) is therefore reordered when the layer reads a flattened
// [C, H, W] (net/foreign_weights.cpp knows the shape; the kind only says which axis).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "layers/layer.h"

namespace radius {

// ---- ONNX ---------------------------------------------------------------------------
struct OnnxAttribute {
  std::string name;                                        // "kernel_shape"
  std::variant<int64_t, float, std::vector<int64_t>> value;  // ONNX INT, FLOAT, INTS
};

struct OnnxNode {
  std::string op_type;  // "Conv", "Relu", ... (the default ONNX domain)
  std::string name;     // unique in the graph: "0.conv"
  std::vector<std::string> inputs, outputs;
  std::vector<OnnxAttribute> attributes;
};

struct OnnxInitializer {  // a constant tensor of the graph: a weight
  std::string name;       // "0.weight"
  std::vector<int64_t> dims;
  std::vector<float> values;
};

struct OnnxGraph {
  std::vector<OnnxNode> nodes;
  std::vector<OnnxInitializer> initializers;

  // Appends a node with one output, named after the node; returns that output's name.
  std::string add_node(const std::string& op_type, const std::string& name, std::vector<std::string> inputs,
                       std::vector<OnnxAttribute> attributes = {});
  // Adds a copy of a CPU tensor as initializer `name`; returns the name.
  std::string add_initializer(const std::string& name, const Tensor& value);
};

// One layer of a model, as an exporter hands it to its kind's callback.
struct ExportedLayer {
  const Layer& layer;
  size_t index = 0;  // its position in the model: its tensors are "<index>.weight", ...
  Shape in, out;     // per-sample shapes
  // Its parameters and state buffers by short name ("weight", "bias", "running_mean"), on the CPU.
  std::map<std::string, Tensor> tensors;

  std::string name(const std::string& what) const { return std::to_string(index) + "." + what; }
  const Tensor& tensor(const std::string& short_name) const;  // throws naming the layer when absent
  bool has(const std::string& short_name) const { return tensors.count(short_name) > 0; }
};

// A kind's ONNX nodes for one layer: reads the value `input`, returns the name of
// its output value (a layer that is the identity at inference returns `input`).
using OnnxExport = std::function<std::string(const ExportedLayer& layer, const std::string& input, OnnxGraph& graph)>;

// ---- Keras --------------------------------------------------------------------------
struct KerasTensor {
  std::string radius = {};     // the short name here: "weight"
  std::string keras = {};      // Keras' variable name: "kernel"
  std::vector<int> axes = {};  // Keras axis i is Radius axis axes[i]; empty: the same order
  int flattened_features_axis = -1;  // the Keras axis indexing a flattened image's features, if any
};

// ---- layout helpers, shared by the exporters and their tests -----------------------------
// `t` (CPU) with its axes reordered: result axis i is t's axis axes[i].
Tensor permute_axes(const Tensor& t, const std::vector<int>& axes);
// The inverse permutation: permute_axes(permute_axes(t, a), inverse_axes(a)) == t.
std::vector<int> inverse_axes(const std::vector<int>& axes);
// For a [C, H, W] image flattened in Keras' (h, w, c) order: the (c, h, w) index of
// Keras feature k, for every k.
std::vector<int64_t> keras_feature_order(const Shape& chw);

}  // namespace radius
