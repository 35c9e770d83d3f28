// libFuzzer target: the CSV manifest reader (read_csv + list_dataset).
// Seeds: tests/fuzz/corpus/manifest/. Run: scripts/fuzz.sh (see tests/fuzz/README.md).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::manifest_input(data, size);
}
