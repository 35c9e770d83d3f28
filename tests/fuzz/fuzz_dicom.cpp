// libFuzzer target: DICOM decoding (DCMTK's parser and codecs behind our wrapper: transfer
// syntax, frames, photometric, dimension and length checks, rescale, windowing, MONOCHROME1)
// and the audit's header read. Seeds: tests/fuzz/corpus/dicom/. Run: scripts/fuzz.sh.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return radius::fuzz::dicom_input(data, size);
}
