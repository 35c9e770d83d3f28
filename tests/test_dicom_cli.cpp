// DICOM and 16-bit PNG end to end through the command line: `radius synth --format`,
// `radius train` on the files, and `radius audit` listing the DICOM tags per class.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "data/dicom.h"
#include "tests/cli_util.h"
#include "tests/temp_dir.h"

using radius::test::q;
using radius::test::radius_cli;
using radius::test::TempDir;

namespace {
const std::string kTinySpecPath = std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec";
}

TEST_CASE("cli dicom: synth --format dicom writes DICOM, train trains on it, audit lists the tags per class") {
  if (!radius::dicom_supported()) return;  // built without DCMTK: the format is refused (below)
  TempDir dir("cli_dicom");
  const std::string data = dir.file("data");
  const auto s = radius_cli("synth --out " + q(data) +
                            " --format dicom --train 24 --val 8 --test 8 --min-side 40 --max-side 56 --model-side 32"
                            " --threads 1");
  CAPTURE(s.out);
  REQUIRE(s.rc == 0);
  int dcm = 0, jpeg_lossless = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(data)) {
    if (e.path().extension() != ".dcm") continue;
    ++dcm;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    jpeg_lossless += bytes.find("1.2.840.10008.1.2.4.70") != std::string::npos;  // the transfer syntax UID
  }
  CHECK(dcm == 40);
  CHECK(jpeg_lossless >= 1);  // the set mixes raw and JPEG-lossless files
  // The same arguments write the same bytes (the UIDs come from the content).
  const std::string again = dir.file("again");
  REQUIRE(radius_cli("synth --out " + q(again) +
                     " --format dicom --train 24 --val 8 --test 8 --min-side 40 --max-side 56 --model-side 32"
                     " --threads 1")
              .rc == 0);
  for (const auto& e : std::filesystem::recursive_directory_iterator(data)) {
    if (e.path().extension() != ".dcm") continue;
    const auto twin = std::filesystem::path(again) / std::filesystem::relative(e.path(), data);
    std::ifstream a(e.path(), std::ios::binary), b(twin, std::ios::binary);
    CAPTURE(e.path().string());
    CHECK(std::string{std::istreambuf_iterator<char>(a), {}} == std::string{std::istreambuf_iterator<char>(b), {}});
  }
  // One broken file among them: skipped and reported, the run goes on.
  std::ofstream(data + "/train/fractured/broken.dcm") << std::string(128, '\0') << "DICM" << "cut";

  const std::string run = dir.file("run");
  const auto t = radius_cli("train " + q(data) + " --model " + q(kTinySpecPath) +
                            " --epochs 1 --batch 8 --threads 1 --window 32768,65536 --out " + q(run));
  CAPTURE(t.out);
  REQUIRE(t.rc == 0);
  CHECK(t.out.find("16-bit") != std::string::npos);      // the cache kept 16 bits
  CHECK(t.out.find("1 bad file") != std::string::npos);  // broken.dcm, reported
  CHECK(std::filesystem::exists(run + "/metrics.json"));

  const auto a = radius_cli("audit " + q(data) + " --threads 1");
  CAPTURE(a.out);
  CHECK(a.rc == 0);
  for (const char* tag : {"manufacturer", "modality", "body part", "photometric", "bits stored", "pixel spacing",
                          "MONOCHROME1", "MONOCHROME2", "Radius Synthetic", "EXTREMITY"})
    CHECK_MESSAGE(a.out.find(tag) != std::string::npos, tag);

  const auto bad = radius_cli("train " + q(data) + " --model " + q(kTinySpecPath) + " --window 10 --out " +
                              q(dir.file("run2")));
  CHECK(bad.rc != 0);
  CHECK(bad.out.find("CENTER,WIDTH") != std::string::npos);
}

TEST_CASE("cli dicom: synth --format png16 writes 16-bit PNGs that train in a 16-bit cache") {
  TempDir dir("cli_png16");
  const std::string data = dir.file("data");
  REQUIRE(radius_cli("synth --out " + q(data) +
                     " --format png16 --train 16 --val 8 --test 0 --min-side 40 --max-side 48 --model-side 32"
                     " --threads 1")
              .rc == 0);
  const auto t = radius_cli("train " + q(data) + " --model " + q(kTinySpecPath) +
                            " --epochs 1 --batch 8 --threads 1 --out " + q(dir.file("run")));
  CAPTURE(t.out);
  REQUIRE(t.rc == 0);
  CHECK(t.out.find("16-bit") != std::string::npos);
}
