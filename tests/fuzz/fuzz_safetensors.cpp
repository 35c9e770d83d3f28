// libFuzzer target: the safetensors reader (weights files).
// Seeds: tests/fuzz/corpus/safetensors/. Run: scripts/fuzz.sh (see tests/fuzz/README.md).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::safetensors_input(data, size);
}
