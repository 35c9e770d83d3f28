// A trained model as the exporters see it: each layer with its shapes and its
// tensors on the CPU (layers/export.h's ExportedLayer), in order. The ONNX graph
// (net/onnx_graph.h) and the PyTorch/Keras weight files (net/foreign_weights.h)
// both start here, and each layer's kind (layers/registry.h) says the rest.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "layers/export.h"
#include "net/sequential.h"

namespace radius {

// The model's layers in order. Tensors are views of `host` (host_named_tensors of
// the model, net/safetensors.h), which must outlive the result; names "3.weight"
// become tensors["weight"] of layer 3.
std::vector<ExportedLayer> exported_layers(const Sequential& model,
                                           const std::vector<std::pair<std::string, Tensor>>& host);

// "3.running_mean" -> {3, "running_mean"}; throws std::invalid_argument for a name of
// another form (no index, or an index the model does not have: `layers` > 0 checks it).
std::pair<size_t, std::string> split_tensor_name(const std::string& name, size_t layers = 0);

}  // namespace radius
