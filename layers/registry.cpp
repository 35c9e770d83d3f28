#include "layers/registry.h"

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "layers/activations.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/pool2d.h"

namespace radius {
namespace {

// Refuses a layer whose weights (the product of `factors`) would push the model
// past kMaxParams. Multiplies without overflow; biases are negligible here.
void check_param_budget(const SpecLine& line, int64_t params, std::initializer_list<int64_t> factors) {
  int64_t weights = 1;
  for (int64_t f : factors) weights = f > (kMaxParams + 1) / weights ? kMaxParams + 1 : weights * f;
  if (params + weights > kMaxParams)
    line.fail(line.keyword() + " would bring the model past " + std::to_string(kMaxParams) +
              " parameters (absurdly large)");
}

bool has_bias(const Layer& layer) { return layer.param_specs().size() > 1; }

// ---- one maker per kind ---------------------------------------------------------
std::unique_ptr<Layer> make_conv2d(const SpecLine& line, const Shape& in, int64_t params) {
  const int64_t filters = line.integer("filters", kMaxUnits);
  const auto [kh, kw] = line.size2("kernel");
  const int64_t stride = line.integer("stride", kMaxDim, 1);
  const bool same = line.choice("padding", {"valid", "same"}, "valid") == "same";
  if (in.rank() == 3) check_param_budget(line, params, {filters, in[0], kh, kw});  // w [K, C, KH, KW]
  return std::make_unique<Conv2D>(filters, kh, kw, stride, same ? Padding::same : Padding::valid,
                                  line.flag("bias", true));
}

std::unique_ptr<Layer> make_pool(PoolKind type, const SpecLine& line) {
  const auto [ph, pw] = line.size2("pool");
  // Pool2D has one stride for both axes: a non-square window must say which.
  if (ph != pw && !line.has("stride"))
    line.fail("pool=" + std::to_string(ph) + "x" + std::to_string(pw) + " is not square: give stride= explicitly");
  return std::make_unique<Pool2D>(type, ph, pw, line.integer("stride", kMaxDim, ph));
}

std::unique_ptr<Layer> make_dense(const SpecLine& line, const Shape& in, int64_t params) {
  const int64_t units = line.integer("units", kMaxUnits);
  if (in.rank() == 1) check_param_budget(line, params, {units, in[0]});  // w [O, I]
  return std::make_unique<Dense>(units, line.flag("bias", true));
}

// ---- backward FLOPs ---------------------------------------------------------------
int64_t conv2d_backward_flops(const Layer& layer, const Shape&, const Shape&, bool input_gradient) {
  const Conv2dGeom& g = static_cast<const Conv2D&>(layer).geom();
  const int64_t gemm = 2 * g.k * g.patch() * g.pixels();  // one [K, patch] x [patch, pixels] product
  return gemm + (has_bias(layer) ? g.k * g.pixels() : 0) + (input_gradient ? gemm : 0);
}

int64_t dense_backward_flops(const Layer& layer, const Shape& in, const Shape& out, bool input_gradient) {
  const int64_t gemm = 2 * in.numel() * out.numel();
  return gemm + (has_bias(layer) ? out.numel() : 0) + (input_gradient ? gemm : 0);
}

// dx = dy * (something per element): one operation each.
int64_t per_input(const Layer&, const Shape& in, const Shape&, bool) { return in.numel(); }
int64_t none(const Layer&, const Shape&, const Shape&, bool) { return 0; }

// ---- ONNX nodes (layers/export.h); attributes as the ONNX operator docs name them -----
using Ints = std::vector<int64_t>;

// The layer's weight and (if it has one) its bias as initializers, after `input`.
std::vector<std::string> with_weights(const ExportedLayer& l, const std::string& input, OnnxGraph& g) {
  std::vector<std::string> inputs{input, g.add_initializer(l.name("weight"), l.tensor("weight"))};
  if (l.has("bias")) inputs.push_back(g.add_initializer(l.name("bias"), l.tensor("bias")));
  return inputs;
}

std::string conv2d_onnx(const ExportedLayer& l, const std::string& input, OnnxGraph& g) {
  const Conv2dGeom& c = static_cast<const Conv2D&>(l.layer).geom();
  // ONNX takes explicit pads [top, left, bottom, right]. The bottom/right ones are
  // what the output size implies: TensorFlow's "same" puts the odd row/column
  // there; "valid" pads nothing (leftover rows are dropped, as ONNX does too).
  const int64_t bottom = std::max<int64_t>(0, (c.oh - 1) * c.stride + c.kh - c.h - c.pad_top);
  const int64_t right = std::max<int64_t>(0, (c.ow - 1) * c.stride + c.kw - c.w - c.pad_left);
  return g.add_node("Conv", l.name("conv"), with_weights(l, input, g),
                    {{"kernel_shape", Ints{c.kh, c.kw}},
                     {"strides", Ints{c.stride, c.stride}},
                     {"pads", Ints{c.pad_top, c.pad_left, bottom, right}},
                     {"dilations", Ints{1, 1}},
                     {"group", int64_t{1}}});
}

// MaxPool / AveragePool with no padding and floor rounding: Keras' "valid" pooling.
std::string pool_onnx(const std::string& op, const ExportedLayer& l, const std::string& input, OnnxGraph& g) {
  const Pool2dGeom& p = static_cast<const Pool2D&>(l.layer).geom();
  return g.add_node(op, l.name(op == "MaxPool" ? "maxpool" : "avgpool"), {input},
                    {{"kernel_shape", Ints{p.ph, p.pw}}, {"strides", Ints{p.stride, p.stride}}, {"pads", Ints{0, 0, 0, 0}}});
}

// y = x w^T + b: Gemm with transB (w is [out, in]).
std::string dense_onnx(const ExportedLayer& l, const std::string& input, OnnxGraph& g) {
  return g.add_node("Gemm", l.name("gemm"), with_weights(l, input, g), {{"transB", int64_t{1}}});
}

// Inference batch norm: the running statistics (ONNX's training_mode defaults to 0).
std::string batchnorm_onnx(const ExportedLayer& l, const std::string& input, OnnxGraph& g) {
  std::vector<std::string> inputs{input};
  for (const char* t : {"weight", "bias", "running_mean", "running_var"})
    inputs.push_back(g.add_initializer(l.name(t), l.tensor(t)));
  return g.add_node("BatchNormalization", l.name("batchnorm"), inputs,
                    {{"epsilon", static_cast<const BatchNorm2D&>(l.layer).epsilon()}});
}

// An operator with no attributes and no weights.
OnnxExport plain_onnx(const std::string& op, const std::string& suffix) {
  return [op, suffix](const ExportedLayer& l, const std::string& input, OnnxGraph& g) {
    return g.add_node(op, l.name(suffix), {input});
  };
}

// ---- Keras names and layouts (layers/export.h) -----------------------------------------
const std::vector<KerasTensor> kConvKeras = {{.radius = "weight", .keras = "kernel", .axes = {2, 3, 1, 0}},  // OIHW -> HWIO
                                             {.radius = "bias", .keras = "bias"}};
const std::vector<KerasTensor> kDenseKeras = {
    {.radius = "weight", .keras = "kernel", .axes = {1, 0}, .flattened_features_axis = 0},  // [out, in] -> [in, out]
    {.radius = "bias", .keras = "bias"}};
const std::vector<KerasTensor> kBatchNormKeras = {{.radius = "weight", .keras = "gamma"},
                                                  {.radius = "bias", .keras = "beta"},
                                                  {.radius = "running_mean", .keras = "moving_mean"},
                                                  {.radius = "running_var", .keras = "moving_variance"}};

// The table: one entry per kind (designated initialisers: a role left out is false).
std::vector<LayerKind> make_table() {
  return {
      {.keyword = "conv2d",
       .keys = {"filters", "kernel", "stride", "padding", "bias", "activation"},
       .required = 2,
       .make = make_conv2d,
       .backward_flops = conv2d_backward_flops,
       .takes_activation = true,
       .convolution = true,
       .feature_maps = true,
       .gemm = true,
       .forward_with_relu = [](Layer& l, const Tensor& x, Tensor& y) { static_cast<Conv2D&>(l).forward_relu(x, y); },
       .onnx = conv2d_onnx,
       .keras = kConvKeras},
      {.keyword = "maxpool2d",
       .keys = {"pool", "stride"},
       .required = 1,
       .make = [](const SpecLine& line, const Shape&, int64_t) { return make_pool(PoolKind::max, line); },
       .backward_flops = [](const Layer&, const Shape&, const Shape& out, bool) { return out.numel(); },
       .feature_maps = true,
       .backward_with_relu = [](Layer& l, const Tensor& x, const Tensor& dy,
                                Tensor& dx) { static_cast<Pool2D&>(l).backward_relu(x, dy, dx); },
       .onnx = [](const ExportedLayer& l, const std::string& in, OnnxGraph& g) { return pool_onnx("MaxPool", l, in, g); }},
      {.keyword = "avgpool2d",
       .keys = {"pool", "stride"},
       .required = 1,
       .make = [](const SpecLine& line, const Shape&, int64_t) { return make_pool(PoolKind::average, line); },
       .backward_flops = [](const Layer& l, const Shape& in, const Shape&, bool) { return l.flops(in); },
       .feature_maps = true,
       .onnx = [](const ExportedLayer& l, const std::string& in, OnnxGraph& g) { return pool_onnx("AveragePool", l, in, g); }},
      {.keyword = "dense",
       .keys = {"units", "bias", "activation"},
       .required = 1,
       .make = make_dense,
       .backward_flops = dense_backward_flops,
       .takes_activation = true,
       .gemm = true,
       .onnx = dense_onnx,
       .keras = kDenseKeras},
      {.keyword = "batchnorm2d",
       .keys = {"momentum", "epsilon"},
       .make =
           [](const SpecLine& line, const Shape&, int64_t) {
             return std::make_unique<BatchNorm2D>(float(line.number("momentum", 0.0, 1.0, 0.99)),
                                                  float(line.number("epsilon", 1e-12, 1.0, 1e-3)));
           },
       // dgamma/dbeta sums 4, dx 5 per element
       .backward_flops = [](const Layer&, const Shape& in, const Shape&, bool) { return 9 * in.numel(); },
       .per_channel = true,
       .onnx = batchnorm_onnx,
       .keras = kBatchNormKeras},
      {.keyword = "dropout",
       .keys = {"rate"},
       .required = 1,
       .make = [](const SpecLine& line, const Shape&,
                  int64_t) { return std::make_unique<Dropout>(float(line.number("rate", 0.0, 1.0, 0.0))); },
       .backward_flops = per_input,
       // The identity at inference: no node at all.
       .onnx = [](const ExportedLayer&, const std::string& input, OnnxGraph&) { return input; }},
      {.keyword = "flatten",
       .make = [](const SpecLine&, const Shape&, int64_t) { return std::make_unique<Flatten>(); },
       .backward_flops = none,
       // (c, h, w) order, as here: ONNX tensors are NCHW.
       .onnx = [](const ExportedLayer& l, const std::string& input, OnnxGraph& g) {
         return g.add_node("Flatten", l.name("flatten"), {input}, {{"axis", int64_t{1}}});
       }},
      {.keyword = "relu",
       .make = [](const SpecLine&, const Shape&, int64_t) { return std::make_unique<ReLU>(); },
       .backward_flops = per_input,
       .rectifier = true,
       .per_channel = true,
       .onnx = plain_onnx("Relu", "relu")},
      {.keyword = "sigmoid",
       .make = [](const SpecLine&, const Shape&, int64_t) { return std::make_unique<Sigmoid>(); },
       .backward_flops = [](const Layer&, const Shape& in, const Shape&, bool) { return 3 * in.numel(); },
       .probability_head = true,
       .onnx = plain_onnx("Sigmoid", "sigmoid")},
  };
}

// A deque: registering a kind never moves the others (kind_of hands out references).
std::deque<LayerKind>& table() {
  static std::deque<LayerKind> kinds = [] {
    std::vector<LayerKind> built_in = make_table();
    return std::deque<LayerKind>(built_in.begin(), built_in.end());
  }();
  return kinds;
}

}  // namespace

const std::deque<LayerKind>& layer_kinds() { return table(); }

void register_layer_kind(LayerKind kind) {
  if (kind.keyword.empty()) throw std::invalid_argument("register_layer_kind: the kind has no keyword");
  if (find_layer_kind(kind.keyword))
    throw std::invalid_argument("register_layer_kind: '" + kind.keyword + "' is already a layer kind");
  if (!kind.make) throw std::invalid_argument("register_layer_kind: '" + kind.keyword + "' has no make function");
  if (kind.required > kind.keys.size())
    throw std::invalid_argument("register_layer_kind: '" + kind.keyword + "' requires more keys than it has");
  if (kind.forward_with_relu || kind.backward_with_relu)
    throw std::invalid_argument("register_layer_kind: '" + kind.keyword +
                                "': fusing a relu (forward_with_relu, backward_with_relu) is for built-in kinds only");
  if (!kind.backward_flops) kind.backward_flops = none;
  kind.registered = true;
  table().push_back(std::move(kind));
}

const LayerKind* find_layer_kind(const std::string& keyword) {
  for (const LayerKind& k : layer_kinds())
    if (k.keyword == keyword) return &k;
  return nullptr;
}

const LayerKind& kind_of(const Layer& layer) {
  const LayerKind* k = find_layer_kind(layer.kind());
  if (!k) throw std::logic_error("layer kind '" + layer.kind() + "' is not in the registry (layers/registry.cpp)");
  return *k;
}

const Conv2D* as_conv2d(const Layer& layer) { return dynamic_cast<const Conv2D*>(&layer); }

}  // namespace radius
