// Running the built `radius` executable from a test: its exit code and its output
// (stdout and stderr together, or apart).
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
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

// `radius ARGS` with stdout and stderr kept apart (through files in `dir`), to check
// which stream a message goes to.
struct CliStreams {
  int rc = -1;
  std::string out, err;
};
inline CliStreams radius_cli_streams(const std::string& args, const TempDir& dir) {
  const std::string out = dir.file("cli_stdout.txt"), err = dir.file("cli_stderr.txt");
  const std::string cmd = std::string(RADIUS_CLI) + " " + args + " >" + q(out) + " 2>" + q(err);
  const int status = std::system(cmd.c_str());
  CliStreams r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::string& path) {
    std::string text;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
      std::fclose(f);
    }
    return text;
  };
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The small model spec the CLI tests train.
inline const std::string kTinySpec = std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec";

// ~40 small images in the Kaggle layout (train/val/test) under DIR/data.
inline std::string tiny_dataset(const TempDir& dir) { return small_synthetic_dataset(dir, {24, 8, 8}, 3, 40, 56); }

}  // namespace radius::test
