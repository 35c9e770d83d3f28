// radius: the command line. One subcommand per file in apps/.
#include <cstdio>
#include <exception>
#include <filesystem>

#include "apps/commands.h"
#include "radius/build_info.h"

namespace radius::app {

std::string models_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "radius" / "models";
    if (fs::is_regular_file(installed / "paper.spec", ec)) return installed.string();
  }
  return std::string(RADIUS_SOURCE_DIR) + "/models";
}

std::string default_model_path() { return models_dir() + "/paper.spec"; }

}  // namespace radius::app

int main(int argc, char** argv) {
  CLI::App app{"radius: a small CNN framework, and the bone-fracture X-ray classifier built on it"};
  app.require_subcommand(1);
  app.set_version_flag("--version", radius::build_info_text(), "Print the version and the build's options, then exit");
  radius::app::add_summary_command(app);
  radius::app::add_demo_command(app);
  radius::app::add_synth_command(app);
  radius::app::add_audit_command(app);
  radius::app::add_augment_command(app);
  radius::app::add_predict_command(app);
  radius::app::add_train_command(app);
  radius::app::add_evaluate_command(app);
  radius::app::add_metrics_command(app);
  radius::app::add_explain_command(app);
  radius::app::add_kfold_command(app);
  radius::app::add_options_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "radius: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
