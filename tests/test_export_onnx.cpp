// The ONNX file `radius export --onnx` writes, parsed back with the onnx library's
// protobuf classes (no Python): opset, input and output names and shapes, the nodes
// in order, the initializers' shapes and values, the preprocessing metadata. Whether
// a runtime computes what `radius predict` does is scripts/check_onnx.py's job.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "net/onnx_graph.h"
#include "net/safetensors.h"
#include "tests/cli_util.h"
#include "tests/export_util.h"
#include "tests/temp_dir.h"

#ifdef RADIUS_WITH_ONNX
#include <onnx/onnx_pb.h>

#include "onnx_io/onnx_file.h"
#endif

using namespace radius;
using namespace radius::test;

#ifdef RADIUS_WITH_ONNX

namespace {

onnx::ModelProto read_model(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream bytes;
  bytes << f.rdbuf();
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(bytes.str()));
  return m;
}

// A value's shape: dim_value, or -1 for a symbolic dimension (its dim_param must be "N").
std::vector<int64_t> shape_of(const onnx::ValueInfoProto& v) {
  std::vector<int64_t> dims;
  for (const auto& d : v.type().tensor_type().shape().dim()) {
    if (d.has_dim_param()) CHECK(d.dim_param() == "N");
    dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  }
  return dims;
}

}  // namespace

TEST_CASE("export onnx: the file parses back with opset 17, named input and output, the nodes and the weights") {
  TempDir dir("export_onnx");
  const auto model = export_test_model(17);
  write_onnx_file(onnx_model(*model, {{"spec", "export test"}}), dir.file("m.onnx"));
  const onnx::ModelProto m = read_model(dir.file("m.onnx"));

  REQUIRE(m.opset_import_size() == 1);
  CHECK(m.opset_import(0).domain().empty());
  CHECK(m.opset_import(0).version() >= 17);
  CHECK(m.ir_version() >= 8);
  CHECK(m.producer_name() == "radius");

  const onnx::GraphProto& g = m.graph();
  REQUIRE(g.input_size() == 1);
  REQUIRE(g.output_size() == 1);
  CHECK(g.input(0).name() == "image");
  CHECK(g.input(0).type().tensor_type().elem_type() == onnx::TensorProto::FLOAT);
  CHECK(shape_of(g.input(0)) == std::vector<int64_t>{-1, 2, 9, 8});
  CHECK(g.output(0).name() == "probability");
  CHECK(shape_of(g.output(0)) == std::vector<int64_t>{-1, 1});

  std::vector<std::string> ops;
  for (const auto& n : g.node()) ops.push_back(n.op_type());
  CHECK(ops == std::vector<std::string>{"Conv", "Relu", "BatchNormalization", "AveragePool", "Conv", "MaxPool",
                                        "Flatten", "Gemm", "Relu", "Gemm", "Sigmoid"});
  CHECK(g.node(0).input(0) == "image");
  CHECK(g.node(g.node_size() - 1).output(0) == "probability");

  std::map<std::string, Tensor> tensors;
  for (const auto& [name, t] : host_named_tensors(*model)) tensors.emplace(name, t);
  CHECK(size_t(g.initializer_size()) == tensors.size());
  for (const auto& init : g.initializer()) {
    CAPTURE(init.name());
    REQUIRE(tensors.count(init.name()) == 1);
    const Tensor& t = tensors.at(init.name());
    CHECK(init.data_type() == onnx::TensorProto::FLOAT);
    REQUIRE(init.dims_size() == t.shape().rank());
    for (int i = 0; i < init.dims_size(); ++i) CHECK(init.dims(i) == t.shape()[i]);
    REQUIRE(init.float_data_size() == t.numel());
    CHECK(std::memcmp(init.float_data().data(), t.cpu(), size_t(t.numel()) * sizeof(float)) == 0);
  }
  CHECK(tensors.at("0.weight").shape() == Shape{3, 2, 3, 3});  // OIHW, as ONNX's Conv takes it
  CHECK(tensors.at("8.weight").shape() == Shape{5, 8});        // [out, in]: Gemm with transB

  std::map<std::string, std::string> meta;
  for (const auto& e : m.metadata_props()) meta[e.key()] = e.value();
  CHECK(meta["rescale"] == "1/255");
  CHECK(meta["resize"].starts_with("9x8"));
  CHECK(meta["preprocessing"].find("rescale by 1/255") != std::string::npos);
  CHECK(meta["classes"].find("not fractured") != std::string::npos);
  CHECK(meta["spec"] == "export test");
}

TEST_CASE("export onnx: radius export --onnx writes the paper model's graph from a weights file") {
  TempDir dir("export_onnx_cli");
  const std::string spec = std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec";
  auto model = load_model_spec(spec);
  model->init(3);
  randomize(*model, 3);
  save_weights(*model, dir.file("weights.safetensors"), {{"model", spec}});
  const CliRun r = radius_cli("export " + q(dir.file("weights.safetensors")) + " --onnx " + q(dir.file("m.onnx")));
  REQUIRE_MESSAGE(r.rc == 0, r.out);
  const onnx::ModelProto m = read_model(dir.file("m.onnx"));
  std::vector<std::string> ops;
  for (const auto& n : m.graph().node()) ops.push_back(n.op_type());
  CHECK(ops == std::vector<std::string>{"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm",
                                        "Relu", "Gemm", "Sigmoid"});
  CHECK(shape_of(m.graph().input(0)) == std::vector<int64_t>{-1, 3, 32, 32});
}

#else

TEST_CASE("export onnx: a build without the onnx library says so") {
  TempDir dir("export_onnx_none");
  const auto model = export_test_model(1);
  std::ofstream(dir.file("model.spec")) << kExportSpec;
  save_weights(*model, dir.file("w.safetensors"), {{"model", dir.file("model.spec")}});
  const CliRun r = radius_cli("export " + q(dir.file("w.safetensors")) + " --onnx " + q(dir.file("m.onnx")));
  CHECK(r.rc == 1);
  CHECK(r.out.find("built without ONNX") != std::string::npos);
}

#endif
