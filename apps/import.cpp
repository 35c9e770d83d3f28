// radius import FILE.safetensors --model SPEC --out WEIGHTS: weights from PyTorch or
// Keras (the layouts `radius export --torch/--keras` writes, net/foreign_weights.h)
// as a Radius weights file, which `radius predict WEIGHTS` then uses: its "model"
// metadata records SPEC.
//
// The layout is the file's "layout" metadata, else read from its names (Keras'
// "kernel", "gamma", ... ; otherwise a torch state_dict); --layout overrides. Every
// tensor the model has must be there with its shape, and nothing else (float32 only:
// save a torch state_dict without BatchNorm's int64 num_batches_tracked).
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "net/foreign_weights.h"
#include "net/safetensors.h"
#include "net/spec.h"

namespace radius::app {

namespace {

struct ImportCommand {
  std::string file, spec, out;
  std::string layout = "auto";
  bool quiet = false;
};

void run_import(const ImportCommand& o) {
  if (!o.out.ends_with(".safetensors"))
    throw CLI::ValidationError("import", "--out " + o.out + ": the name must end in .safetensors");
  const std::unique_ptr<Sequential> model = load_model_spec(o.spec);
  model->init(0);
  const SafetensorsFile file = read_safetensors(o.file);
  const WeightLayout layout =
      o.layout == "auto" ? detect_layout(file) : (o.layout == "torch" ? WeightLayout::torch : WeightLayout::keras);
  load_weights(*model, radius_tensors(*model, file, layout, o.file), o.file);
  save_weights(*model, o.out, {{"model", o.spec}, {"imported_from", o.file}, {"layout", layout_name(layout)}});
  if (!o.quiet)
    std::printf("read %s (%s layout) into %s: wrote %s\n", o.file.c_str(), layout_name(layout).c_str(),
                o.spec.c_str(), o.out.c_str());
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("import", "Read weights in PyTorch's or Keras' layout into a Radius weights file");
  auto o = std::make_shared<ImportCommand>();
  cmd->add_option("file", o->file, "Weights (.safetensors) in the torch or keras layout of radius export")->required();
  add_shared_flag(*cmd, "--model", o->spec, "The model spec the weights belong to")->required();
  add_shared_flag(*cmd, "--out", o->out, "Write the Radius weights to FILE.safetensors")->required();
  cmd->add_option("--layout", o->layout, "The file's layout: auto (its metadata, else its names), torch or keras")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "torch", "keras"}));
  add_shared_flag(*cmd, "--quiet", o->quiet);
  cmd->callback([o] { run_import(*o); });
}

}  // namespace radius::app
