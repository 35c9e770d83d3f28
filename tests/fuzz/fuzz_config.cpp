// libFuzzer target: a run's config.json as `radius train --resume` reads its recipe.
// Seeds: tests/fuzz/corpus/config/. Run: scripts/fuzz.sh (see tests/fuzz/README.md).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::config_input(data, size);
}
