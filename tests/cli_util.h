// Running the built `radius` executable from a test: its exit code and its output
// (stdout and stderr together).
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <doctest/doctest.h>

#include "tests/synth_util.h"
#include "tests/temp_dir.h"

namespace radius::test {

struct CliRun {
  int rc = -1;
  std::string out;
};

// A path quoted for the shell (test paths hold no single quotes).
inline std::string q(const std::string& s) { return "'" + s + "'"; }

// A shell command's exit code and output (stdout and stderr together).
inline CliRun run_shell(const std::string& cmd) {
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `radius ARGS 2>&1` through the shell.
inline CliRun radius_cli(const std::string& args) { return run_shell(std::string(RADIUS_CLI) + " " + args + " 2>&1"); }

// The same with DIR as the working directory.
inline CliRun radius_cli_in(const std::string& dir, const std::string& args) {
  return run_shell("cd " + q(dir) + " && " + std::string(RADIUS_CLI) + " " + args + " 2>&1");
}

// The small model spec the CLI tests train.
inline const std::string kTinySpec = std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec";

// ~40 small images in the Kaggle layout (train/val/test) under DIR/data.
inline std::string tiny_dataset(const TempDir& dir) { return small_synthetic_dataset(dir, {24, 8, 8}, 3, 40, 56); }

}  // namespace radius::test
