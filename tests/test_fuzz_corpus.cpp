// Replays the fuzz targets' committed inputs in the normal suite (no clang needed):
// every seed (tests/fuzz/corpus/<target>/) and every kept crash input
// (tests/fuzz/regressions/<target>/) through the same function the fuzzer calls
// (tests/fuzz/fuzz_targets.h). A fixed crash that comes back fails here, under the
// ASan + UBSan CI build too.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "fuzz/fuzz_targets.h"

namespace fs = std::filesystem;

namespace {

using Target = int (*)(const uint8_t*, size_t);

const std::map<std::string, Target>& targets() {
  static const std::map<std::string, Target> t = {
      {"png", radius::fuzz::decode_image_input},      {"jpeg", radius::fuzz::decode_image_input},
      {"spec", radius::fuzz::model_spec_input},       {"safetensors", radius::fuzz::safetensors_input},
      {"manifest", radius::fuzz::manifest_input},     {"checkpoint", radius::fuzz::checkpoint_input},
      {"state", radius::fuzz::state_json_input},      {"dicom", radius::fuzz::dicom_input},
      {"config", radius::fuzz::config_input}};
  return t;
}

std::vector<uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Runs every file under tests/fuzz/<kind>/<target>/; returns how many.
int replay(const std::string& kind) {
  int n = 0;
  const fs::path root = fs::path(RADIUS_SOURCE_DIR) / "tests" / "fuzz" / kind;
  for (const auto& [name, fn] : targets()) {
    if (!fs::is_directory(root / name)) continue;
    for (const auto& e : fs::directory_iterator(root / name)) {
      if (!e.is_regular_file()) continue;
      CAPTURE(e.path().string());
      const std::vector<uint8_t> bytes = slurp(e.path());
      CHECK_NOTHROW(fn(bytes.data(), bytes.size()));
      ++n;
    }
  }
  return n;
}

}  // namespace

TEST_CASE("fuzz corpus: every seed input runs cleanly through its fuzz target") {
  const int n = replay("corpus");
  MESSAGE(n << " seed inputs replayed");
  CHECK(n >= 20);
  for (const auto& [name, fn] : targets())  // every target has seeds
    CHECK(fs::is_directory(fs::path(RADIUS_SOURCE_DIR) / "tests/fuzz/corpus" / name));
}

TEST_CASE("fuzz corpus: every kept crash input (tests/fuzz/regressions) stays fixed") {
  MESSAGE(replay("regressions") << " regression inputs replayed");
}
