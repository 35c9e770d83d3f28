// radius summary [SPEC]: the model's per-layer cost table (net/explain.h); `radius explain` adds an image.
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "net/spec.h"

namespace radius::app {

void add_summary_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "summary", "Print a model spec's layers, shapes, parameters, forward/backward FLOPs and bytes (explain: more)");
  auto spec = std::make_shared<std::string>(default_model_path());
  cmd->add_option("spec", *spec, "Model spec file")->capture_default_str();
  cmd->callback([spec] {
    const auto model = load_model_spec(*spec);
    std::printf("model: %s\n%s", spec->c_str(), model->summary().c_str());
  });
}

}  // namespace radius::app
