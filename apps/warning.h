// Warnings go to stderr, results to stdout: `radius train ... > log.txt` keeps the
// results in the file and still shows the warnings, and a script reading stdout is not
// confused by them. stdout is flushed first so the two streams stay in order on a terminal.
#pragma once
#include <cstdio>
#include <string>

namespace radius::app {

inline void print_warning(const std::string& text) {
  std::fflush(stdout);
  std::fprintf(stderr, "warning: %s\n", text.c_str());
}

}  // namespace radius::app
