// ONNX files, written with the onnx library's protobuf classes (Debian libonnx-dev):
// the one part of Radius that needs it, built as its own small library
// (radius_onnx, CMakeLists.txt) only when the library is found; the radius
// command line says so when it is not (radius export --onnx).
//
// The graph comes from net/onnx_graph.h (plain structs); here it becomes a
// ModelProto (IR version of the library, opset kOnnxOpset, weights as float
// initializers, the batch dimension symbolic), is checked with the library's own
// model checker and strict shape inference (the declared output shape must be
// what the nodes compute), and is written atomically.
#pragma once
#include <string>

#include "net/onnx_graph.h"

namespace radius {

// The serialised, checked ModelProto. Throws std::runtime_error with the checker's
// message when the graph is not valid ONNX.
std::string onnx_bytes(const OnnxModel& model);
// onnx_bytes written to `path` (io/atomic_file.h).
void write_onnx_file(const OnnxModel& model, const std::string& path);

}  // namespace radius
