// libFuzzer target: the checkpoint state JSON.
// Seeds: tests/fuzz/corpus/state/. Run: scripts/fuzz.sh (see tests/fuzz/README.md).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::state_json_input(data, size);
}
