// 16-bit and DICOM input: windowing arithmetic, 16-bit PNG round trips, the 16-bit cache,
// loader and warp, and DICOM files written by DCMTK here (MONOCHROME1/2, 12/16-bit,
// rescale, VOI window and LUT, JPEG lossless) together with broken and hostile ones.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/decode.h"
#include "data/dicom.h"
#include "data/encode.h"
#include "data/image_cache.h"
#include "data/loader.h"
#include "data/resize.h"
#include "data/voi_window.h"
#include "kernels/augment_pixel.h"
#include "tensor/rng.h"
#include "tests/temp_dir.h"

#ifdef RADIUS_WITH_DICOM
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcuid.h>
#endif

using namespace radius;
using radius::test::TempDir;

namespace {

std::vector<uint16_t> random_samples(size_t n, uint32_t max, uint64_t seed) {
  Rng rng(seed, 7);
  std::vector<uint16_t> v(n);
  for (uint16_t& x : v) x = uint16_t(rng.below(max + 1));
  return v;
}

Image random_image16(int w, int h, int c, uint64_t seed) {
  Image img(w, h, c, 16);
  img.pixels16 = random_samples(img.sample_count(), 65535, seed);
  return img;
}

Image random_image8(int w, int h, int c, uint64_t seed) {
  Image img(w, h, c);
  Rng rng(seed, 9);
  for (uint8_t& x : img.pixels) x = uint8_t(rng.below(256));
  return img;
}

std::vector<uint8_t> file_bytes(const std::string& path) { return read_image_file(path); }

DecodeFailure failure_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const DecodeError& e) {
    if (message) *message = e.what();
    return e.reason();
  }
  FAIL("no DecodeError");
  return DecodeFailure::corrupt;
}

}  // namespace

TEST_CASE("voi window: PS3.3 C.11.2.1.2 by hand, and --window parsing") {
  // LINEAR, c = 100, w = 21: edges at 89.5 and 109.5; the centre sample c - 0.5 maps to the middle.
  CHECK(voi_window(89.5, 100, 21, VoiFunction::linear, 255) == 0);
  CHECK(voi_window(109.6, 100, 21, VoiFunction::linear, 255) == 255);
  CHECK(voi_window(99.5, 100, 21, VoiFunction::linear, 255) == doctest::Approx(127.5));
  CHECK(voi_window(94.5, 100, 21, VoiFunction::linear, 255) == doctest::Approx((-5.0 / 20 + 0.5) * 255));
  CHECK(voi_window(100, 100, 20, VoiFunction::linear_exact, 1000) == doctest::Approx(500));
  CHECK(voi_window(0, 100, 20, VoiFunction::linear_exact, 1000) == 0);
  CHECK(voi_window(105, 100, 20, VoiFunction::sigmoid, 1) == doctest::Approx(1 / (1 + std::exp(-1.0))));
  CHECK_THROWS_AS(voi_window(0, 0, 0.5, VoiFunction::linear, 1), std::invalid_argument);

  const VoiWindow w = parse_voi_window("2048,4096");
  CHECK(w.center == 2048);
  CHECK(w.width == 4096);
  CHECK(parse_voi_window("-600.5,1500").center == -600.5);
  for (const char* bad : {"", "2048", "2048,", ",4096", "a,b", "2048,0", "2048,4096,1", "2048;4096", "1,nan"})
    CHECK_THROWS_AS(parse_voi_window(bad), std::invalid_argument);
  // --window reaches the image cache's options; an empty text leaves them alone.
  const ImageCacheOptions with = with_window({}, "100,50");
  CHECK(with.window_center == 100);
  CHECK(with.window_width == 50);
  CHECK(with_window({}, "").window_width == 0);
  CHECK_THROWS_AS(with_window({}, "100"), std::invalid_argument);
}

TEST_CASE("16-bit png: kept whole when asked, its high byte otherwise, and widened 8-bit is exact") {
  TempDir dir("png16");
  for (int c : {1, 3}) {
    const Image img = random_image16(37, 23, c, 11 + c);
    const std::string path = dir.file(c == 1 ? "gray16.png" : "rgb16.png");
    encode_png(img, path);
    const ColorMode mode = c == 1 ? ColorMode::gray : ColorMode::rgb;
    const Image whole = decode_image(path, mode, {.keep_16_bit = true, .window = {}});
    CHECK(whole.depth == 16);
    CHECK(whole.pixels16 == img.pixels16);
    const Image narrow = decode_image(path, mode);
    CHECK(narrow.depth == 8);
    CHECK(narrow.pixels == convert_depth(img, 8).pixels);
    CHECK(is_16_bit_file(path));
  }
  const Image img8 = random_image8(9, 7, 1, 3);
  const std::string p8 = dir.file("b.png");
  encode_png(img8, p8);
  CHECK_FALSE(is_16_bit_file(p8));
  const Image kept = decode_image(p8, ColorMode::gray, {.keep_16_bit = true, .window = {}});
  CHECK(kept.depth == 8);  // an 8-bit file stays 8-bit
  const Image wide = convert_depth(img8, 16);
  for (size_t i = 0; i < img8.pixels.size(); ++i) CHECK(wide.pixels16[i] == img8.pixels[i] * 257);
  CHECK(convert_depth(wide, 8).pixels == img8.pixels);
  // Gray from RGB at 16 bits agrees with the 8-bit luma on widened samples (to one level of 257).
  const Image rgb8 = random_image8(5, 4, 3, 5);
  const Image g8 = convert_channels(rgb8, 1), g16 = convert_channels(convert_depth(rgb8, 16), 1);
  for (size_t i = 0; i < g8.pixels.size(); ++i) CHECK(std::abs(int(g16.pixels16[i]) - int(g8.pixels[i]) * 257) <= 257);
}

TEST_CASE("16-bit resize: nearest picks the 8-bit path's samples, bilinear in float follows the 8-bit result") {
  const Image img8 = random_image8(41, 29, 3, 21);
  const Image img16 = convert_depth(img8, 16);
  for (auto [w, h] : {std::pair{20, 15}, std::pair{64, 50}, std::pair{41, 13}}) {
    const Image n8 = resize(img8, w, h, Interpolation::nearest), n16 = resize(img16, w, h, Interpolation::nearest);
    CHECK(convert_depth(n8, 16).pixels16 == n16.pixels16);
    const Image b8 = resize(img8, w, h, Interpolation::bilinear), b16 = resize(img16, w, h, Interpolation::bilinear);
    REQUIRE(b16.depth == 16);
    int worst = 0;
    for (size_t i = 0; i < b8.pixels.size(); ++i)
      worst = std::max(worst, std::abs(int(b16.pixels16[i]) - int(b8.pixels[i]) * 257));
    CAPTURE(w);
    CHECK(worst <= 257);  // the 8-bit result rounds to whole grey levels, 257 apart at 16 bits
  }
  const Image r = rotate90(random_image16(6, 4, 1, 2), 1);
  CHECK(r.width == 4);
  CHECK(r.depth == 16);
}

TEST_CASE("16-bit warp: the shared pixel formula matches apply_affine bit for bit, and 8 and 16 agree after rescale") {
  const int h = 19, w = 23;
  for (int c : {1, 3}) {
    const Image img16 = random_image16(w, h, c, 40 + c);
    AugmentConfig cfg = AugmentConfig::paper();
    for (uint64_t k = 0; k < 4; ++k) {
      const AffineParams p = draw_params(cfg, h, w, 3, 1, k);
      std::vector<float> want(size_t(c) * h * w), got(want.size(), -1);
      const float rescale = sample_rescale(cfg.rescale, 16);
      apply_affine(p, img16.pixels16.data(), h, w, c, want.data(), rescale);
      cuda::WarpParams wp;
      const auto m = affine_matrix(p, h, w);
      std::copy(m.begin(), m.end(), wp.m);
      wp.flip_h = p.flip_h;
      wp.flip_v = p.flip_v;
      for (int oi = 0; oi < h; ++oi)
        for (int oj = 0; oj < w; ++oj) cuda::warp_pixel(wp, img16.pixels16.data(), h, w, c, oi, oj, rescale, got.data());
      CHECK(got == want);
    }
    // An 8-bit image widened to 16 bits warps to the same values, up to float rounding.
    const Image img8 = random_image8(w, h, c, 50 + c);
    const Image wide = convert_depth(img8, 16);
    const AffineParams p = draw_params(cfg, h, w, 9, 2, 5);
    std::vector<float> a(size_t(c) * h * w), b(a.size());
    apply_affine(p, img8.pixels.data(), h, w, c, a.data(), sample_rescale(cfg.rescale, 8));
    apply_affine(p, wide.pixels16.data(), h, w, c, b.data(), sample_rescale(cfg.rescale, 16));
    for (size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(a[i]).epsilon(1e-5));
  }
  CHECK(sample_rescale(1.0f / 255, 8) == 1.0f / 255);
  CHECK(sample_rescale(1.0f / 255, 16) == doctest::Approx(1.0 / 65535).epsilon(1e-6));
  CHECK_THROWS_AS(sample_rescale(1, 12), std::invalid_argument);
}

TEST_CASE("16-bit cache: chosen when the data holds a 16-bit PNG, 8-bit files widened, the loader scales to [0, 1]") {
  TempDir dir("cache16");
  const int side = 12;
  std::filesystem::create_directories(dir.path / "a");
  std::filesystem::create_directories(dir.path / "b");
  const Image deep = random_image16(side, side, 1, 61);
  const Image shallow = random_image8(side, side, 1, 62);
  encode_png(deep, dir.file("a/deep.png"));
  encode_png(shallow, dir.file("b/shallow.png"));
  const Dataset data = list_dataset(dir.path.string());
  ImageCacheOptions o;
  o.height = o.width = side;
  o.channels = 1;
  o.threads = 1;
  const ImageCache cache(data, o);
  REQUIRE(cache.depth() == 16);
  REQUIRE(cache.size() == 2);
  CHECK(cache.image_bytes() == size_t(side * side * 2));
  CHECK(std::equal(deep.pixels16.begin(), deep.pixels16.end(), cache.image16(0)));
  const Image wide = convert_depth(shallow, 16);
  CHECK(std::equal(wide.pixels16.begin(), wide.pixels16.end(), cache.image16(1)));
  CHECK(cache.summary().find("16-bit") != std::string::npos);

  ImageCacheOptions o8 = o;
  o8.depth = 8;
  const ImageCache narrow(data, o8);
  CHECK(narrow.depth() == 8);
  CHECK(std::equal(shallow.pixels.begin(), shallow.pixels.end(), narrow.image(1)));

  LoaderOptions lo;
  lo.batch_size = 2;
  lo.shuffle = false;
  lo.workers = 1;
  Loader loader(cache, {0, 1}, lo);
  loader.start_epoch(0);
  Batch batch;
  REQUIRE(loader.next(batch));
  const std::vector<float> x = batch.images.to_vector();
  const size_t plane = size_t(side) * side;
  for (size_t i = 0; i < plane; ++i) {
    CHECK(x[i] == doctest::Approx(deep.pixels16[i] / 65535.0).epsilon(1e-5));
    CHECK(x[plane + i] == doctest::Approx(shallow.pixels[i] / 255.0).epsilon(1e-5));
  }
  // The warp path (augmentation on) reads the 16-bit slots too: values stay in [0, 1].
  lo.augment = AugmentConfig::paper();
  Loader warped(cache, {0, 1}, lo);
  warped.start_epoch(1);
  REQUIRE(warped.next(batch));
  for (float v : batch.images.to_vector()) CHECK((v >= 0 && v <= 1.0f + 1e-6f));

  const ImageCache from = ImageCache::from_pixels16(deep.pixels16, {0}, side, side, 1);
  CHECK(from.depth() == 16);
  CHECK_THROWS_AS(ImageCache::from_pixels16({1, 2, 3}, {0}, side, side, 1), std::invalid_argument);
}

TEST_CASE("dicom: files without DCMTK support are refused with the reason") {
  if (dicom_supported()) return;  // the DICOM cases below run instead
  std::vector<uint8_t> bytes(200, 0);
  std::memcpy(bytes.data() + 128, "DICM", 4);
  std::string message;
  CHECK(failure_of([&] { decode_image_bytes(bytes, ColorMode::gray, "x.dcm"); }, &message) ==
        DecodeFailure::unsupported);
  CHECK(message.find("no DICOM support") != std::string::npos);
}

#ifdef RADIUS_WITH_DICOM

namespace {

// A file written by write_dicom, then changed with DCMTK (to make the odd and broken ones).
void edit_dicom(const std::string& path, const std::function<void(DcmDataset&)>& change,
                E_TransferSyntax xfer = EXS_LittleEndianExplicit) {
  DcmFileFormat file;
  REQUIRE(file.loadFile(path.c_str()).good());
  change(*file.getDataset());
  REQUIRE(file.saveFile(path.c_str(), xfer).good());
}

Image decode_file(const std::string& path, const VoiWindow& window = {}) {
  return decode_image(path, ColorMode::gray, {.keep_16_bit = true, .window = window});
}

uint16_t expect16(double y) { return uint16_t(std::lround(std::clamp(y, 0.0, 65535.0))); }

}  // namespace

TEST_CASE("dicom: MONOCHROME2 16-bit without a window maps its own min..max onto 0..65535") {
  TempDir dir("dicom_m2");
  const int w = 31, h = 17;
  const std::vector<uint16_t> stored = random_samples(size_t(w) * h, 65535, 1);
  const std::string path = dir.file("m2.dcm");
  DicomWriteOptions o;
  o.manufacturer = "Acme";
  o.body_part = "WRIST";
  o.pixel_spacing = "0.139\\0.139";
  write_dicom(stored, w, h, o, path);
  REQUIRE(is_dicom(file_bytes(path)));
  CHECK(detect_format(file_bytes(path)) == ImageFormat::dicom);
  const Image img = decode_file(path);
  REQUIRE(img.depth == 16);
  REQUIRE(img.channels == 1);
  REQUIRE(img.width == w);
  REQUIRE(img.height == h);
  const auto [lo, hi] = std::minmax_element(stored.begin(), stored.end());
  for (size_t i = 0; i < stored.size(); ++i)
    CHECK(img.pixels16[i] == expect16((stored[i] - double(*lo)) / double(*hi - *lo) * 65535));
  // RGB requests replicate the grey; 8-bit requests keep the high byte.
  const Image rgb = decode_image(path, ColorMode::rgb, {.keep_16_bit = true, .window = {}});
  CHECK(rgb.channels == 3);
  CHECK(decode_image(path, ColorMode::gray).pixels == convert_depth(img, 8).pixels);

  const DicomTags t = read_dicom_tags(file_bytes(path), path);
  CHECK(t.manufacturer == "Acme");
  CHECK(t.modality == "DX");
  CHECK(t.body_part == "WRIST");
  CHECK(t.photometric == "MONOCHROME2");
  CHECK(t.bits_stored == 16);
  CHECK(t.pixel_spacing == "0.139\\0.139");
}

TEST_CASE("dicom: MONOCHROME1 12-bit with rescale and the file's window, which --window replaces") {
  TempDir dir("dicom_m1");
  const int w = 16, h = 9;
  const std::vector<uint16_t> stored = random_samples(size_t(w) * h, 4095, 2);
  const std::string path = dir.file("m1.dcm");
  DicomWriteOptions o;
  o.monochrome1 = true;
  o.bits_stored = 12;
  o.rescale_slope = 0.5;
  o.rescale_intercept = -100;
  o.window = {800, 1200};  // in rescaled units: -100 .. 1947.5
  write_dicom(stored, w, h, o, path);
  const Image img = decode_file(path);
  for (size_t i = 0; i < stored.size(); ++i) {
    const double x = stored[i] * 0.5 - 100;
    CHECK(img.pixels16[i] == expect16(65535 - voi_window(x, 800, 1200, VoiFunction::linear, 65535)));
  }
  const Image mine = decode_file(path, {300, 400});
  for (size_t i = 0; i < stored.size(); ++i) {
    const double x = stored[i] * 0.5 - 100;
    CHECK(mine.pixels16[i] == expect16(65535 - voi_window(x, 300, 400, VoiFunction::linear, 65535)));
  }
  // The file's VOI LUT Function is honoured.
  edit_dicom(path, [](DcmDataset& ds) { ds.putAndInsertString(DCM_VOILUTFunction, "SIGMOID"); });
  const Image sig = decode_file(path);
  for (size_t i = 0; i < stored.size(); ++i) {
    const double x = stored[i] * 0.5 - 100;
    CHECK(sig.pixels16[i] == expect16(65535 - voi_window(x, 800, 1200, VoiFunction::sigmoid, 65535)));
  }
  CHECK(read_dicom_tags(file_bytes(path), path).photometric == "MONOCHROME1");
}

TEST_CASE("dicom: a VOI LUT without a window maps through the table") {
  TempDir dir("dicom_lut");
  const int w = 8, h = 8;
  const std::vector<uint16_t> stored = random_samples(size_t(w) * h, 300, 3);
  const std::string path = dir.file("lut.dcm");
  write_dicom(stored, w, h, {}, path);
  const Uint16 first = 10, entries = 256;
  std::vector<Uint16> table(entries);
  for (size_t k = 0; k < table.size(); ++k) table[k] = Uint16((k * 37) % 4096);
  edit_dicom(path, [&](DcmDataset& ds) {
    DcmItem* item = nullptr;
    REQUIRE(ds.findOrCreateSequenceItem(DCM_VOILUTSequence, item, -2).good());
    const Uint16 descriptor[3] = {entries, first, 12};  // entries, first input value, bits per entry
    REQUIRE(item->putAndInsertUint16Array(DCM_LUTDescriptor, descriptor, 3).good());
    REQUIRE(item->putAndInsertUint16Array(DCM_LUTData, table.data(), entries).good());
  });
  const Image img = decode_file(path);
  for (size_t i = 0; i < stored.size(); ++i) {
    const int k = std::clamp(int(stored[i]) - int(first), 0, entries - 1);
    CHECK(img.pixels16[i] == expect16(table[size_t(k)] * 65535.0 / 4095.0));
  }
}

TEST_CASE("dicom: JPEG lossless and RLE decode to the same image as the uncompressed file") {
  TempDir dir("dicom_jpeg");
  const int w = 40, h = 33;
  for (int bits : {12, 16}) {
    const std::vector<uint16_t> stored = random_samples(size_t(w) * h, (1u << bits) - 1, 4 + bits);
    DicomWriteOptions o;
    o.bits_stored = bits;
    write_dicom(stored, w, h, o, dir.file("raw.dcm"));
    o.jpeg_lossless = true;
    write_dicom(stored, w, h, o, dir.file("jpeg.dcm"));
    CAPTURE(bits);
    CHECK(file_bytes(dir.file("jpeg.dcm")) != file_bytes(dir.file("raw.dcm")));
    CHECK(decode_file(dir.file("jpeg.dcm")).pixels16 == decode_file(dir.file("raw.dcm")).pixels16);
    // RLE, encoded here by DCMTK's RLE codec.
    DcmRLEEncoderRegistration::registerCodecs();
    DcmFileFormat rle;
    REQUIRE(rle.loadFile(dir.file("raw.dcm").c_str()).good());
    REQUIRE(rle.getDataset()->chooseRepresentation(EXS_RLELossless, nullptr).good());
    REQUIRE(rle.saveFile(dir.file("rle.dcm").c_str(), EXS_RLELossless).good());
    CHECK(decode_file(dir.file("rle.dcm")).pixels16 == decode_file(dir.file("raw.dcm")).pixels16);
  }
}

TEST_CASE("dicom: broken and hostile files are DecodeErrors with the reason") {
  TempDir dir("dicom_bad");
  const int w = 24, h = 20;
  const std::vector<uint16_t> stored = random_samples(size_t(w) * h, 65535, 5);
  const auto fresh = [&](const std::string& name) {
    const std::string path = dir.file(name);
    write_dicom(stored, w, h, {}, path);
    return path;
  };
  std::string why;

  // Multi-frame: one radiograph per file.
  const std::string multi = fresh("multi.dcm");
  edit_dicom(multi, [](DcmDataset& ds) { ds.putAndInsertString(DCM_NumberOfFrames, "2"); });
  CHECK(failure_of([&] { decode_file(multi); }, &why) == DecodeFailure::unsupported);
  CHECK(why.find("multi-frame") != std::string::npos);

  // No pixel data: a report or presentation state, not an image.
  const std::string report = fresh("report.dcm");
  edit_dicom(report, [](DcmDataset& ds) {
    delete ds.remove(DCM_PixelData);
    ds.putAndInsertString(DCM_SOPClassUID, UID_BasicTextSRStorage);
  });
  CHECK(failure_of([&] { decode_file(report); }, &why) == DecodeFailure::unsupported);
  CHECK(why.find("no pixel data") != std::string::npos);

  // Colour.
  const std::string colour = fresh("rgb.dcm");
  edit_dicom(colour, [](DcmDataset& ds) { ds.putAndInsertString(DCM_PhotometricInterpretation, "RGB"); });
  CHECK(failure_of([&] { decode_file(colour); }) == DecodeFailure::unsupported);

  // Hostile dimensions: the header claims 65535 x 65535 (4 gigapixels) over 960 bytes of pixels.
  const std::string huge = fresh("huge.dcm");
  edit_dicom(huge, [](DcmDataset& ds) {
    ds.putAndInsertUint16(DCM_Rows, 65535);
    ds.putAndInsertUint16(DCM_Columns, 65535);
  });
  CHECK(failure_of([&] { decode_file(huge); }) == DecodeFailure::too_large);

  // More rows than the pixel data holds (DCMTK alone would pad with black).
  const std::string tall = fresh("tall.dcm");
  edit_dicom(tall, [](DcmDataset& ds) { ds.putAndInsertUint16(DCM_Rows, 40); });
  CHECK(failure_of([&] { decode_file(tall); }, &why) == DecodeFailure::truncated);
  CHECK(why.find("pixel data holds") != std::string::npos);

  // Cut short: inside the pixel data, inside the header, right after the marker.
  const std::vector<uint8_t> whole = file_bytes(fresh("whole.dcm"));
  for (size_t keep : {whole.size() - 100, size_t(300), size_t(140), size_t(132)}) {
    const std::vector<uint8_t> cut(whole.begin(), whole.begin() + long(keep));
    CAPTURE(keep);
    const DecodeFailure f = failure_of([&] { decode_image_bytes(cut, ColorMode::gray, "cut.dcm", {true, {}}); });
    CHECK((f == DecodeFailure::truncated || f == DecodeFailure::corrupt || f == DecodeFailure::unsupported));
  }
  // Flipped bytes all through the header: never a crash, a DecodeError or a decoded image.
  Rng rng(77, 1);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint8_t> bad = whole;
    for (int k = 0; k < 4; ++k) bad[132 + rng.below(uint32_t(std::min<size_t>(bad.size() - 132, 400)))] ^= uint8_t(1 + rng.below(255));
    try {
      const Image img = decode_image_bytes(bad, ColorMode::gray, "flipped.dcm", {true, {}});
      CHECK(img.width * img.height > 0);
    } catch (const DecodeError&) {
    }
  }

  // JPEG 2000: DCMTK has no decoder; the reason says so (the meta header names the syntax).
  const std::string j2k = fresh("j2k.dcm");
  {
    DcmFileFormat file;
    REQUIRE(file.loadFile(j2k.c_str()).good());
    REQUIRE(file.getMetaInfo()->putAndInsertString(DCM_TransferSyntaxUID, UID_JPEG2000TransferSyntax).good());
    REQUIRE(file.saveFile(j2k.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                          EWM_dontUpdateMeta)
                .good());
  }
  CHECK(failure_of([&] { decode_file(j2k); }, &why) == DecodeFailure::unsupported);
  CHECK(why.find("JPEG 2000") != std::string::npos);

  // A JPEG fragment with fill bytes and a TEM marker (FF 01) before its frame header: DCMTK's
  // JPEG decoder would walk it forever (found by fuzz_dicom, finding 8); refused before.
  const std::string tem = std::string(RADIUS_SOURCE_DIR) + "/tests/fuzz/regressions/dicom/timeout-tem-marker-in-jpeg-fragment";
  CHECK(failure_of([&] { decode_file(tem); }, &why) == DecodeFailure::corrupt);
  CHECK(why.find("TEM marker (FF 01)") != std::string::npos);
}

TEST_CASE("dicom: class folders list .dcm and extensionless DICOM files, the cache skips and reports bad ones") {
  TempDir dir("dicom_folder");
  const int w = 20, h = 18;
  std::filesystem::create_directories(dir.path / "fractured");
  std::filesystem::create_directories(dir.path / "not fractured");
  DicomWriteOptions o;
  write_dicom(random_samples(size_t(w) * h, 65535, 6), w, h, o, dir.file("fractured/a.dcm"));
  o.monochrome1 = true;
  o.bits_stored = 12;
  write_dicom(random_samples(size_t(w) * h, 4095, 7), w, h, o, dir.file("not fractured/1.2.840.99"));
  write_dicom(random_samples(size_t(w) * h, 4095, 8), w, h, o, dir.file("not fractured/UIDNAME"));
  {
    std::ofstream(dir.file("not fractured/notes")) << "not an image";
    std::ofstream(dir.file("fractured/broken.dcm")) << std::string(128, '\0') << "DICM" << "garbage";
  }
  const Dataset data = list_dataset(dir.path.string());
  REQUIRE(data.samples.size() == 4);  // a.dcm, broken.dcm, 1.2.840.99, UIDNAME; not "notes"
  ImageCacheOptions co;
  co.height = co.width = 16;
  co.channels = 1;
  co.threads = 2;
  const ImageCache cache(data, co);
  CHECK(cache.depth() == 16);
  CHECK(cache.size() == 3);
  REQUIRE(cache.bad_files().size() == 1);
  CHECK(cache.bad_files()[0].path.find("broken.dcm") != std::string::npos);
  CHECK(cache.bad_files()[0].message.find("broken.dcm") != std::string::npos);
}

#endif  // RADIUS_WITH_DICOM
