// radius summary [SPEC|RUN_DIR|WEIGHTS]: the model's per-layer cost table (net/explain.h);
// `radius explain` adds an image.
//
// A run directory or a weights/checkpoint file shows the spec it recorded: the run's
// config.json "model" (its copy, model.spec), or the weights file's "model" (train) /
// "spec" (demo) metadata. A file that is none of these, and not a text
// spec either, is refused with what summary takes, never printed back as garbage.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

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

// The spec file to summarise for what the user named, and where it came from: a run
// directory's or a weights file's recorded spec is found as predict finds it
// (net/inference.h: locate_model).
std::pair<std::string, std::string> spec_for(const std::string& target) {
  std::error_code ec;
  if (!fs::exists(target, ec)) throw std::runtime_error(target + ": no such file or directory (" + kTakes + ")");
  if (!fs::is_directory(target, ec)) {
    if (!looks_binary(head_of(target, 4096))) return {target, ""};  // a text spec
    try {
      (void)read_safetensors(target);
    } catch (const std::exception&) {
      throw std::runtime_error(target + ": not a model spec (a binary file) nor a weights file; " + kTakes);
    }
  }
  const ModelFiles files = locate_model(target, "", false);
  if (files.spec.empty())
    throw std::runtime_error(target + (fs::is_directory(target, ec)
                                           ? ": the run directory's config.json does not name its model spec"
                                           : ": a weights file that does not record its model spec: run radius "
                                             "summary SPEC"));
  return {files.spec, "the spec recorded in " + (files.spec_source == "config.json"
                                                      ? (fs::path(files.weights).parent_path() / "config.json").string()
                                                      : target)};
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
