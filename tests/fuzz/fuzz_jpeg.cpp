// libFuzzer target: JPEG decoding (libjpeg-turbo behind our wrapper: limits, CMYK, progressive) and resize.
// Seeds: tests/fuzz/corpus/jpeg/. Run: scripts/fuzz.sh (see tests/fuzz/README.md).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::decode_image_input(data, size);
}
