// A trained model as an ONNX graph, described with plain structs (layers/export.h):
// what `radius export --onnx` writes (onnx_io/onnx_file.h serialises it with the onnx
// library). The graph is the inference network through the sigmoid head:
//
//   image  float32 [N, C, H, W]  ->  each layer's nodes (its registry entry's `onnx`)
//                                ->  probability  float32 [N, 1]
//
// N is symbolic, so any batch size runs. Dropout is the identity at inference and
// writes no node; batch norm uses its running statistics. The metadata states how
// an image must be prepared, exactly as `radius predict` does it: decode (RGB, or
// gray for a 1-channel model), resize to H x W with nearest-neighbour sampling
// (Keras' load_img default), rescale by 1/255; nothing else (no mean/std).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "layers/export.h"
#include "net/sequential.h"

namespace radius {

// ONNX operator set the graph is written for: every operator used exists in this
// form since opset 13 or earlier, and 17 is what onnxruntime and PyTorch read widely.
constexpr int64_t kOnnxOpset = 17;

struct OnnxModel {
  OnnxGraph graph;
  std::string input = "image";
  std::string output;                 // "probability" (sigmoid head) or "logits"
  std::vector<int64_t> input_shape;   // per sample [C, H, W]; the batch is the symbolic "N"
  std::vector<int64_t> output_shape;  // per sample
  std::map<std::string, std::string> metadata;  // preprocessing, classes, ...: ModelProto.metadata_props
  int64_t opset = kOnnxOpset;
  std::string name = "radius";        // the graph's name
};

// The graph of `model` (any device: its tensors are downloaded once) with the
// preprocessing metadata; `metadata` adds to it (a source file, the spec, ...).
// Throws std::invalid_argument naming a layer whose kind has no ONNX export.
OnnxModel onnx_model(const Sequential& model, const std::map<std::string, std::string>& metadata = {});

}  // namespace radius
