// radius export MODEL --onnx FILE | --torch FILE | --keras FILE: the trained model for
// other frameworks (any of the three in one call).
//
//   --onnx   the inference network through the sigmoid (net/onnx_graph.h): input
//            "image" [N, C, H, W] float, output "probability" [N, 1]; the metadata says
//            how to prepare an image (decode, resize nearest, rescale 1/255)
//   --torch  the weights as the state_dict of the equivalent torch.nn.Sequential
//   --keras  the weights in Keras' names and layouts (net/foreign_weights.h)
//
// MODEL is what `radius predict` takes: a run directory, or a weights or checkpoint
// file (net/inference.h: locate_model); --model gives the spec when the run does not.
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "net/foreign_weights.h"
#include "net/inference.h"
#include "net/onnx_graph.h"
#ifdef RADIUS_WITH_ONNX
#include "onnx_io/onnx_file.h"
#endif

namespace radius::app {

namespace {

struct ExportCommand {
  std::string model;  // run directory or weights file
  std::string spec;   // --model
  std::string onnx, torch, keras;
  bool quiet = false;
};

void write_onnx(const Sequential& model, const ModelFiles& mf, const std::string& path) {
#ifdef RADIUS_WITH_ONNX
  write_onnx_file(onnx_model(model, {{"source", mf.weights}, {"spec", mf.spec}}), path);
#else
  (void)model, (void)mf;
  throw std::runtime_error("--onnx " + path +
                           ": this radius was built without ONNX (install libonnx-dev and libprotobuf-dev, "
                           "then build again)");
#endif
}

void run_export(const ExportCommand& o, bool spec_given) {
  if (o.onnx.empty() && o.torch.empty() && o.keras.empty())
    throw CLI::ValidationError("export", "nothing to write: give --onnx FILE, --torch FILE and/or --keras FILE");
  for (const std::string* f : {&o.torch, &o.keras})
    if (!f->empty() && !f->ends_with(".safetensors"))
      throw CLI::ValidationError("export", *f + ": weights are written as safetensors: the name must end in .safetensors");
  const ModelFiles mf = locate_model(o.model, o.spec, spec_given);
  const std::unique_ptr<Sequential> model = load_trained_model(mf);
  const std::map<std::string, std::string> meta{{"source", mf.weights}, {"model", mf.spec}};
  const auto said = [&](const std::string& what, const std::string& path) {
    if (!o.quiet) std::printf("wrote %s (%s)\n", path.c_str(), what.c_str());
  };
  if (!o.onnx.empty()) {
    write_onnx(*model, mf, o.onnx);
    said("ONNX opset " + std::to_string(kOnnxOpset) + ", input image [N, " + model->input_shape().str().substr(1),
         o.onnx);
  }
  if (!o.torch.empty()) {
    export_foreign_weights(*model, WeightLayout::torch, o.torch, meta);
    said("PyTorch state_dict of the torch.nn.Sequential twin", o.torch);
  }
  if (!o.keras.empty()) {
    export_foreign_weights(*model, WeightLayout::keras, o.keras, meta);
    said("Keras layout: HWIO kernels, dense [in, out]", o.keras);
  }
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Write a trained model as ONNX, or its weights in PyTorch's or Keras' layout");
  auto o = std::make_shared<ExportCommand>();
  o->spec = default_model_path();
  cmd->add_option("model", o->model, "A run directory, or a weights or checkpoint .safetensors file")->required();
  auto* spec = add_shared_flag(*cmd, "--model", o->spec,
                               "Model spec file (default: the run's config.json \"model\", else models/paper.spec)");
  cmd->add_option("--onnx", o->onnx, "Write the network through the sigmoid as an ONNX model (opset 17) to FILE");
  cmd->add_option("--torch", o->torch,
                  "Write the weights as the state_dict of the equivalent torch.nn.Sequential to FILE.safetensors");
  cmd->add_option("--keras", o->keras,
                  "Write the weights in Keras' names and layouts (HWIO kernels, dense [in, out]) to FILE.safetensors");
  add_shared_flag(*cmd, "--quiet", o->quiet);
  cmd->callback([o, spec] { run_export(*o, spec->count() > 0); });
}

}  // namespace radius::app
