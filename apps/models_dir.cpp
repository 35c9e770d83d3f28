// Where the model specs are (apps/commands.h): beside an installed program, else in the
// source tree the program was built from.
#include <filesystem>
#include <string>

#include "apps/commands.h"

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
