// The layer registry: one entry per layer kind, the ONE place that knows the
// concrete layer classes. Everything else (spec parsing, the model summary,
// fusion, Grad-CAM, the health monitor, the benchmarks) reads an entry:
//
//   const LayerKind& k = kind_of(model.layer(i));
//   if (k.rectifier) ...            // rather than comparing layer.kind() with "relu"
//
// Adding a layer: write it (layers/<name>.{h,cpp}, its CUDA kernels in
// kernels/<name>.cu, shared formulas in kernels/formulas.h), then add its entry
// to layer_kinds() in layers/registry.cpp. README.md, "Adding a layer", walks
// through it. A program using Radius as a library adds its own kinds with
// register_layer_kind().
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/export.h"
#include "layers/layer.h"
#include "layers/spec_line.h"

namespace radius {

class Conv2D;

struct LayerKind {
  std::string keyword = {};       // the spec keyword and Layer::kind(): "conv2d"
  std::vector<std::string> keys = {};  // its spec keys; the first `required` must be given
  size_t required = 0;
  // The layer of one spec line; `in` is its per-sample input shape, `params` the
  // model's parameter count so far (to refuse an absurdly large layer early).
  std::function<std::unique_ptr<Layer>(const SpecLine& line, const Shape& in, int64_t params)> make = {};
  // Backward FLOPs per sample (the forward's are Layer::flops); input_gradient:
  // whether dx is computed (not for the first layer).
  std::function<int64_t(const Layer&, const Shape& in, const Shape& out, bool input_gradient)> backward_flops = {};

  // Roles that code elsewhere asks about instead of naming kinds:
  bool takes_activation = false;  // spec key activation=relu|sigmoid|linear adds that layer after it
  bool convolution = false;       // learned filters over [C, H, W]: Grad-CAM's layer, filter grids
  bool feature_maps = false;      // its [C, H, W] output is worth drawing (radius explain)
  bool rectifier = false;         // relu: dead units are counted; a fusing layer may absorb it
  bool per_channel = false;       // keeps its input's [C, H, W] maps, each channel on its own (batch norm,
                                  // relu): Grad-CAM explains the last of these after a convolution
  bool probability_head = false;  // sigmoid: as the last layer, the model's output head
  bool gemm = false;              // its FLOPs are GEMMs (benchmarks report GFLOP/s, not GB/s)
  // Set for a layer that can run a following rectifier in its own forward
  // (conv2d's epilogue, net/fusion.h): y = relu(layer(x)).
  std::function<void(Layer&, const Tensor& x, Tensor& y)> forward_with_relu = {};
  // Set for a layer that can run the backward of a rectifier just before it in
  // its own backward (max pooling: the ReLU's mask read at the window winners
  // only, net/fusion.h): dx = relu_grad(x, backward(dy)), where x, the layer's
  // input, is the rectifier's output.
  std::function<void(Layer&, const Tensor& x, const Tensor& dy, Tensor& dx)> backward_with_relu = {};

  // How the kind leaves Radius (layers/export.h): its ONNX nodes at inference, and
  // its tensors' Keras names and layouts (every tensor the layer has must be listed).
  // A kind without `onnx` cannot be exported to ONNX (the exporter says so).
  OnnxExport onnx = {};
  std::vector<KerasTensor> keras = {};

  bool registered = false;  // set by register_layer_kind: defined outside Radius
};

// Every kind, in the order `radius` lists them: the built-in ones, then the registered.
const std::deque<LayerKind>& layer_kinds();

// Adds a kind defined outside Radius (examples/custom_layer.cpp): from then on spec
// files may use its keyword. Its layer's kind() must return the keyword. Throws
// std::invalid_argument for an empty or taken keyword, a missing maker, or a fusion
// (forward_with_relu, built-in kinds only). backward_flops may be left out (counted 0).
// Not thread-safe: register before building models.
void register_layer_kind(LayerKind kind);
// The entry for a spec keyword, or nullptr.
const LayerKind* find_layer_kind(const std::string& keyword);
// The entry of a layer (throws std::logic_error for a layer missing from the table).
const LayerKind& kind_of(const Layer& layer);
// A convolution's typed view (nullptr for any other layer): for code that needs
// its geometry, such as the per-layer benchmarks.
const Conv2D* as_conv2d(const Layer& layer);

}  // namespace radius
