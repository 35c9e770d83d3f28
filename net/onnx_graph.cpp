#include "net/onnx_graph.h"

#include <stdexcept>

#include "layers/registry.h"
#include "net/exported_layers.h"
#include "net/safetensors.h"
#include "radius/build_info.h"

namespace radius {

namespace {

std::vector<int64_t> dims_of(const Shape& s) {
  std::vector<int64_t> d;
  for (int i = 0; i < s.rank(); ++i) d.push_back(s[i]);
  return d;
}

// How to turn an image file into the input tensor: what radius predict does
// (net/inference.h: append_model_input).
std::map<std::string, std::string> preprocessing(const Shape& in) {
  std::map<std::string, std::string> m;
  if (in.rank() != 3) return m;
  const std::string size = std::to_string(in[1]) + "x" + std::to_string(in[2]);
  const std::string color = in[0] == 1 ? "gray" : "RGB (a gray image replicated to 3 channels)";
  m["input"] = "image: float32 [N, " + std::to_string(in[0]) + ", " + std::to_string(in[1]) + ", " +
               std::to_string(in[2]) + "], NCHW";
  m["color_mode"] = color;
  m["resize"] = size + " (height x width), nearest neighbour (Keras load_img's default; radius predict's)";
  m["rescale"] = "1/255";
  m["preprocessing"] = "decode as " + color + ", resize to " + size +
                       " with nearest-neighbour sampling, rescale by 1/255 to [0, 1], channels first; "
                       "no mean or std normalisation";
  return m;
}

}  // namespace

OnnxModel onnx_model(const Sequential& model, const std::map<std::string, std::string>& metadata) {
  OnnxModel m;
  m.input_shape = dims_of(model.input_shape());
  m.output_shape = dims_of(model.output_shape());
  const bool head = model.has_sigmoid_head();
  m.output = head ? "probability" : "logits";
  m.metadata = preprocessing(model.input_shape());
  m.metadata["output"] = head ? "probability: float32 [N, " + std::to_string(model.output_shape().numel()) +
                                    "], the sigmoid of the logit: P(class 1)"
                              : "logits: float32, the network's output before any head";
  m.metadata["classes"] = "0 = fractured, 1 = not fractured (Keras' alphabetical class folders): the output "
                          "is P(not fractured), P(fractured) = 1 - it";
  m.metadata["radius_version"] = build_info().version;
  for (const auto& [k, v] : metadata) m.metadata[k] = v;

  const auto host = host_named_tensors(model);
  std::string value = m.input;
  for (const ExportedLayer& layer : exported_layers(model, host)) {
    const LayerKind& kind = kind_of(layer.layer);
    if (!kind.onnx)
      throw std::invalid_argument("layer " + std::to_string(layer.index) + " (" + layer.layer.describe() +
                                  "): the '" + kind.keyword + "' kind has no ONNX export");
    value = kind.onnx(layer, value, m.graph);
  }
  // The last value becomes the graph's output (a model of identities alone gets one node).
  if (value == m.input) m.graph.add_node("Identity", "identity", {value});
  m.graph.nodes.back().outputs.at(0) = m.output;
  return m;
}

}  // namespace radius
