// radius summary [SPEC]: the model's layers, shapes, parameters and FLOPs.
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "net/spec.h"

namespace radius::app {

void add_summary_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("summary", "Print a model spec's layers, output shapes, parameters and FLOPs");
  auto spec = std::make_shared<std::string>(default_model_path());
  cmd->add_option("spec", *spec, "Model spec file")->capture_default_str();
  cmd->callback([spec] {
    const auto model = load_model_spec(*spec);
    std::printf("model: %s\n%s", spec->c_str(), model->summary().c_str());
  });
}

}  // namespace radius::app
