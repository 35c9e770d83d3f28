// Models that travel (net/onnx_graph.h, net/foreign_weights.h): the ONNX graph each
// kind writes, the Keras layouts checked element by element, and export then import
// giving back the very same bits, in the library and through `radius export/import`.
// The ONNX file itself is parsed back in tests/test_export_onnx.cpp; scripts/
// check_onnx.py and scripts/check_twins.py run the exports in onnxruntime, PyTorch
// and Keras.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "layers/export.h"
#include "net/foreign_weights.h"
#include "net/onnx_graph.h"
#include "net/safetensors.h"
#include "tests/cli_util.h"
#include "tests/export_util.h"
#include "tests/temp_dir.h"

using namespace radius;
using namespace radius::test;

namespace {

const OnnxNode& node_named(const OnnxModel& m, const std::string& name) {
  for (const OnnxNode& n : m.graph.nodes)
    if (n.name == name) return n;
  FAIL("no node " << name);
  throw 0;
}

std::vector<int64_t> ints(const OnnxNode& n, const std::string& attr) {
  for (const OnnxAttribute& a : n.attributes)
    if (a.name == attr) return std::get<std::vector<int64_t>>(a.value);
  FAIL("node " << n.name << " has no " << attr);
  throw 0;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.cpu(), b.cpu(), size_t(a.numel()) * sizeof(float)) == 0;
}

// A model's tensors by name, as a safetensors file would hold them.
std::map<std::string, Tensor> tensors_of(const Sequential& m) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : host_named_tensors(m)) out.emplace(name, t);
  return out;
}

}  // namespace

TEST_CASE("export: the ONNX graph has each layer's nodes in order, through the sigmoid") {
  const auto model = export_test_model();
  const OnnxModel m = onnx_model(*model, {{"spec", "export test"}});
  std::vector<std::string> ops;
  for (const OnnxNode& n : m.graph.nodes) ops.push_back(n.op_type);
  // Dropout is the identity at inference: no node.
  CHECK(ops == std::vector<std::string>{"Conv", "Relu", "BatchNormalization", "AveragePool", "Conv", "MaxPool",
                                        "Flatten", "Gemm", "Relu", "Gemm", "Sigmoid"});
  // Each node reads the previous one's output; the last writes the graph's output.
  CHECK(m.graph.nodes.front().inputs.at(0) == "image");
  for (size_t i = 1; i < m.graph.nodes.size(); ++i)
    CHECK(m.graph.nodes[i].inputs.at(0) == m.graph.nodes[i - 1].outputs.at(0));
  CHECK(m.graph.nodes.back().outputs.at(0) == "probability");
  CHECK(m.output == "probability");
  CHECK(m.input_shape == std::vector<int64_t>{2, 9, 8});
  CHECK(m.output_shape == std::vector<int64_t>{1});
  CHECK(m.opset >= 17);

  // "same", stride 2 on 9x8 (TensorFlow's rule): out 5x4, rows padded 1 + 1, columns 0 + 1.
  const OnnxNode& conv = node_named(m, "0.conv");
  CHECK(ints(conv, "pads") == std::vector<int64_t>{1, 0, 1, 1});
  CHECK(ints(conv, "strides") == std::vector<int64_t>{2, 2});
  CHECK(ints(conv, "kernel_shape") == std::vector<int64_t>{3, 3});
  CHECK(ints(node_named(m, "3.avgpool"), "strides") == std::vector<int64_t>{1, 1});
  CHECK(node_named(m, "4.conv").inputs.size() == 2);  // bias=false: no bias input
  CHECK(ints(node_named(m, "4.conv"), "pads") == std::vector<int64_t>{0, 0, 0, 0});
  CHECK(std::get<int64_t>(node_named(m, "8.gemm").attributes.at(0).value) == 1);  // transB
  CHECK(std::get<float>(node_named(m, "2.batchnorm").attributes.at(0).value) == doctest::Approx(1e-3));

  // Initializers: every tensor of the model, in its own layout, with its values.
  const auto tensors = tensors_of(*model);
  CHECK(m.graph.initializers.size() == tensors.size());
  for (const OnnxInitializer& init : m.graph.initializers) {
    CAPTURE(init.name);
    REQUIRE(tensors.count(init.name) == 1);
    const Tensor& t = tensors.at(init.name);
    std::vector<int64_t> dims;
    for (int i = 0; i < t.shape().rank(); ++i) dims.push_back(t.shape()[i]);
    CHECK(init.dims == dims);
    CHECK(std::memcmp(init.values.data(), t.cpu(), size_t(t.numel()) * sizeof(float)) == 0);
  }
  CHECK(m.metadata.at("rescale") == "1/255");
  CHECK(m.metadata.at("resize").starts_with("9x8"));
  CHECK(m.metadata.at("preprocessing").find("nearest") != std::string::npos);
  CHECK(m.metadata.at("spec") == "export test");
}

TEST_CASE("export: permute_axes moves every element where its axes say") {
  Tensor t = Tensor::empty({2, 3, 4});
  for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = float(i) + 0.5f;
  const Tensor p = permute_axes(t, {2, 0, 1});  // [4, 2, 3]
  CHECK(p.shape() == Shape{4, 2, 3});
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 4; ++c) CHECK(p.at((c * 2 + a) * 3 + b) == t.at((a * 3 + b) * 4 + c));
  CHECK(same_bits(permute_axes(p, inverse_axes({2, 0, 1})), t));
  CHECK_THROWS(permute_axes(t, {0, 0, 1}));
}

TEST_CASE("export: Keras layouts by hand: a conv kernel is HWIO, a dense kernel [in, out] in (h, w, c) order") {
  // A conv then, after a flatten of [C=2, H=2, W=3], a dense: the flatten orders differ.
  const auto model = export_test_model(3, R"(input height=4 width=5 channels=3
conv2d filters=2 kernel=3x3 bias=true
flatten
dense units=2
)");
  const auto keras = foreign_tensors(*model, WeightLayout::keras);
  std::map<std::string, Tensor> k(keras.begin(), keras.end());
  const auto r = tensors_of(*model);
  REQUIRE(k.count("0.kernel") == 1);
  REQUIRE(k.count("2.kernel") == 1);
  const Tensor& w = r.at("0.weight");   // [O=2, I=3, KH=3, KW=3]
  const Tensor& kw = k.at("0.kernel");  // [KH, KW, I, O]
  CHECK(kw.shape() == Shape{3, 3, 3, 2});
  for (int64_t o = 0; o < 2; ++o)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t x = 0; x < 3; ++x) CHECK(kw.at(((y * 3 + x) * 3 + i) * 2 + o) == w.at(((o * 3 + i) * 3 + y) * 3 + x));
  CHECK(same_bits(k.at("0.bias"), r.at("0.bias")));

  const Tensor& d = r.at("2.weight");   // [O=2, I=2*2*3] in (c, h, w) order
  const Tensor& kd = k.at("2.kernel");  // [I, O] in Keras' (h, w, c) order
  const int64_t C = 2, H = 2, W = 3;
  CHECK(kd.shape() == Shape{12, 2});
  for (int64_t o = 0; o < 2; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t x = 0; x < W; ++x)
          CHECK(kd.at(((h * W + x) * C + c) * 2 + o) == d.at(o * 12 + (c * H + h) * W + x));
}

TEST_CASE("export: torch and keras weights round-trip bit for bit through their files") {
  TempDir dir("export_roundtrip");
  const auto model = export_test_model(11);
  for (const WeightLayout layout : {WeightLayout::torch, WeightLayout::keras}) {
    CAPTURE(layout_name(layout));
    const std::string path = dir.file(layout_name(layout) + ".safetensors");
    export_foreign_weights(*model, layout, path, {{"model", "export test"}});
    const SafetensorsFile file = read_safetensors(path);
    CHECK(file.metadata.at("layout") == layout_name(layout));
    CHECK(detect_layout(file) == layout);
    auto back = parse_model_spec(kExportSpec, "export test");
    back->init(99);
    CHECK(import_foreign_weights(*back, path) == layout);
    const auto a = tensors_of(*model), b = tensors_of(*back);
    REQUIRE(a.size() == b.size());
    for (const auto& [name, t] : a) {
      CAPTURE(name);
      CHECK(same_bits(t, b.at(name)));
    }
  }
  // The torch layout is the state_dict's: Radius's own names and shapes.
  const SafetensorsFile torch = read_safetensors(dir.file("torch.safetensors"));
  CHECK(torch.tensors.at("0.weight").shape() == Shape{3, 2, 3, 3});
  CHECK(torch.tensors.at("2.running_var").shape() == Shape{3});
  const SafetensorsFile keras = read_safetensors(dir.file("keras.safetensors"));
  CHECK(keras.tensors.at("0.kernel").shape() == Shape{3, 3, 2, 3});
  CHECK(keras.tensors.at("2.moving_variance").shape() == Shape{3});
  CHECK(keras.tensors.at("10.kernel").shape() == Shape{5, 1});
}

TEST_CASE("export: a Keras file with a wrong name or shape is refused, naming the tensor") {
  TempDir dir("export_refuse");
  const auto model = export_test_model(5);
  auto keras = foreign_tensors(*model, WeightLayout::keras);
  for (auto& [name, t] : keras)
    if (name == "8.kernel") t = permute_axes(t, {1, 0});  // [out, in]: torch's shape, not Keras'
  write_safetensors(dir.file("bad.safetensors"), keras, {{"layout", "keras"}});
  auto back = export_test_model(6);
  const std::string message = [&] {
    try {
      import_foreign_weights(*back, dir.file("bad.safetensors"));
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  CHECK(message.find("8.kernel") != std::string::npos);
  CHECK(message.find("[8, 5]") != std::string::npos);
}

TEST_CASE("export: radius export --torch/--keras and radius import give back the weights") {
  TempDir dir("export_cli");
  const std::string spec = dir.file("model.spec");
  {
    std::ofstream(spec) << kExportSpec;
  }
  const auto model = export_test_model(13);
  save_weights(*model, dir.file("weights.safetensors"), {{"model", spec}});
  const CliRun ex = radius_cli("export " + q(dir.file("weights.safetensors")) + " --torch " +
                               q(dir.file("t.safetensors")) + " --keras " + q(dir.file("k.safetensors")));
  REQUIRE_MESSAGE(ex.rc == 0, ex.out);
  for (const char* f : {"t", "k"}) {
    CAPTURE(f);
    const std::string out = dir.file(std::string(f) + "_back.safetensors");
    const CliRun im = radius_cli("import " + q(dir.file(std::string(f) + ".safetensors")) + " --model " + q(spec) +
                                 " --out " + q(out));
    REQUIRE_MESSAGE(im.rc == 0, im.out);
    const SafetensorsFile back = read_safetensors(out);
    CHECK(back.metadata.at("model") == spec);
    for (const auto& [name, t] : tensors_of(*model)) {
      CAPTURE(name);
      CHECK(same_bits(t, back.tensors.at(name)));
    }
  }
  const CliRun none = radius_cli("export " + q(dir.file("weights.safetensors")));
  CHECK(none.rc == 2);
  CHECK(none.out.find("nothing to write") != std::string::npos);
}
