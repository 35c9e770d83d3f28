#include "onnx_io/onnx_file.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <stdexcept>
#include <type_traits>

#include "io/atomic_file.h"
#include "radius/build_info.h"

namespace radius {

namespace {

// A float tensor's type and shape; the first dimension is symbolic when `batch` is.
void set_float_tensor(onnx::ValueInfoProto& v, const std::string& name, const std::vector<int64_t>& per_sample) {
  v.set_name(name);
  onnx::TypeProto_Tensor* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int64_t d : per_sample) shape->add_dim()->set_dim_value(d);
}

void add_attribute(onnx::NodeProto& node, const OnnxAttribute& a) {
  onnx::AttributeProto* p = node.add_attribute();
  p->set_name(a.name);
  std::visit(
      [p](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          p->set_type(onnx::AttributeProto::INT);
          p->set_i(v);
        } else if constexpr (std::is_same_v<T, float>) {
          p->set_type(onnx::AttributeProto::FLOAT);
          p->set_f(v);
        } else {
          p->set_type(onnx::AttributeProto::INTS);
          for (int64_t x : v) p->add_ints(x);
        }
      },
      a.value);
}

onnx::ModelProto to_proto(const OnnxModel& m) {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("radius");
  model.set_producer_version(build_info().version);
  model.set_doc_string("A Radius model; its metadata says how to prepare an image.");
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(m.opset);
  for (const auto& [key, value] : m.metadata) {
    onnx::StringStringEntryProto* e = model.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
  }

  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(m.name);
  set_float_tensor(*g->add_input(), m.input, m.input_shape);
  set_float_tensor(*g->add_output(), m.output, m.output_shape);
  for (const OnnxInitializer& init : m.graph.initializers) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(init.name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : init.dims) t->add_dims(d);
    for (float x : init.values) t->add_float_data(x);
  }
  for (const OnnxNode& n : m.graph.nodes) {
    onnx::NodeProto* node = g->add_node();
    node->set_op_type(n.op_type);
    node->set_name(n.name);
    for (const std::string& in : n.inputs) node->add_input(in);
    for (const std::string& out : n.outputs) node->add_output(out);
    for (const OnnxAttribute& a : n.attributes) add_attribute(*node, a);
  }
  return model;
}

}  // namespace

std::string onnx_bytes(const OnnxModel& m) {
  onnx::ModelProto model = to_proto(m);
  try {
    onnx::checker::check_model(model);
    // Strict inference on a copy: a node whose output shape disagrees with the
    // declared one (a wrong pad, say) fails here rather than in a user's runtime.
    onnx::ModelProto inferred = model;
    onnx::ShapeInferenceOptions options;
    options.check_type = true;
    options.error_mode = 1;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the ONNX graph is not valid: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("the ONNX model could not be serialised");
  return bytes;
}

void write_onnx_file(const OnnxModel& model, const std::string& path) { write_file_atomic(path, onnx_bytes(model)); }

}  // namespace radius
