// radius summary [SPEC|RUN_DIR|WEIGHTS]: the model's per-layer cost table (net/explain.h);
// `radius explain` adds an image.
//
// A run directory or a weights/checkpoint file shows the spec it recorded: the run's
// config.json "model", or the weights file's "model" (train) / "spec" (demo) metadata, or
// a checkpoint's recorded configuration. A file that is none of these, and not a text
// spec either, is refused with what summary takes, never printed back as garbage.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "net/inference.h"
#include "net/safetensors.h"
#include "net/spec.h"

namespace radius::app {

namespace {

namespace fs = std::filesystem;

const char* const kTakes = "summary takes a model spec (.spec), a run directory or a weights file";

// The first bytes of a file, to tell a text spec from a binary file.
std::string head_of(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(n, '\0');
  in.read(bytes.data(), std::streamsize(n));
  bytes.resize(size_t(in.gcount()));
  return bytes;
}

bool looks_binary(const std::string& bytes) {
  for (unsigned char c : bytes)
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) return true;
  return false;
}

// The spec a weights file or checkpoint recorded, or "".
std::string recorded_spec(const SafetensorsFile& file) {
  for (const char* key : {"model", "spec"})
    if (auto it = file.metadata.find(key); it != file.metadata.end() && !it->second.empty()) return it->second;
  if (auto it = file.metadata.find("state"); it != file.metadata.end()) {  // a checkpoint: its run's configuration
    const nlohmann::json state = nlohmann::json::parse(it->second, nullptr, false);
    if (state.is_object() && state.contains("config") && state["config"].is_object() &&
        state["config"].contains("model") && state["config"]["model"].is_string())
      return state["config"]["model"].get<std::string>();
  }
  return "";
}

// The spec file to summarise for what the user named, and where it came from.
std::pair<std::string, std::string> spec_for(const std::string& target) {
  std::error_code ec;
  if (!fs::exists(target, ec)) throw std::runtime_error(target + ": no such file or directory (" + kTakes + ")");
  if (fs::is_directory(target, ec)) {
    const ModelFiles files = locate_model(target, "", false);
    if (files.spec_source != "config.json")
      throw std::runtime_error(target + ": the run directory's config.json does not name its model spec");
    return {files.spec, "the spec recorded in " + (fs::path(target) / "config.json").string()};
  }
  const std::string head = head_of(target, 4096);
  if (!looks_binary(head)) return {target, ""};
  SafetensorsFile file;
  try {
    file = read_safetensors(target);
  } catch (const std::exception&) {
    throw std::runtime_error(target + ": not a model spec (a binary file) nor a weights file; " + kTakes);
  }
  const std::string spec = recorded_spec(file);
  if (spec.empty())
    throw std::runtime_error(target + ": a weights file that does not record its model spec: run radius summary SPEC");
  return {spec, "the spec recorded in " + target};
}

}  // namespace

void add_summary_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "summary", "Print a model's layers, shapes, parameters, forward/backward FLOPs and bytes (explain: more)");
  auto target = std::make_shared<std::string>(default_model_path());
  cmd->add_option("spec", *target, "Model spec file, or a run directory / weights file (its recorded spec)")
      ->capture_default_str();
  cmd->callback([target] {
    const auto [spec, source] = spec_for(*target);
    const auto model = load_model_spec(spec);
    std::printf("model: %s%s\n%s", spec.c_str(), source.empty() ? "" : (" (" + source + ")").c_str(),
                model->summary().c_str());
  });
}

}  // namespace radius::app
