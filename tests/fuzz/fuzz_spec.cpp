// libFuzzer target: the model spec parser (models/*.spec).
// Seeds: tests/fuzz/corpus/spec/. Run: scripts/fuzz.sh (see tests/fuzz/README.md).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::model_spec_input(data, size);
}
