// libFuzzer target: checkpoint files as --resume reads and applies them.
// Seeds: tests/fuzz/corpus/checkpoint/. Run: scripts/fuzz.sh (see tests/fuzz/README.md).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::checkpoint_input(data, size);
}
