// libFuzzer target: PNG decoding (libpng behind our wrapper: limits, 16-bit, palette, interlace) and resize.
// Seeds: tests/fuzz/corpus/png/. Run: scripts/fuzz.sh (see tests/fuzz/README.md).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::decode_image_input(data, size);
}
