// The entry point of every op playground executable (CMakeLists.txt builds one per
// kernels/playground/*_playground.cu): it calls <name>_main, named by the build with
// -DRADIUS_PLAYGROUND_ENTRY. The playgrounds themselves live in the radius_playground
// library, so that tests/test_playground.cpp runs the very same versions.
#include <cstdio>
#include <exception>

namespace radius::playground {
int RADIUS_PLAYGROUND_ENTRY(int argc, char** argv);
}

int main(int argc, char** argv) {
  try {
    return radius::playground::RADIUS_PLAYGROUND_ENTRY(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
