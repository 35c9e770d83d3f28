#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "data/csv.h"
#include "data/dataset.h"
#include "data/encode.h"
#include "data/image_cache.h"
#include "data/synth_dataset.h"
#include "tensor/rng.h"
#include "tests/temp_dir.h"

using namespace radius;
namespace fs = std::filesystem;

namespace {

Image noise_image(int w, int h, int c, uint64_t seed) {
  Image img(w, h, c);
  Rng rng(seed, 77);
  for (auto& p : img.pixels) p = uint8_t(rng.next_u32());
  return img;
}

void write_bytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// A small synthetic Kaggle-layout set: 10 images, sides 40..64 px.
std::vector<SynthFile> small_synth(const fs::path& dir) {
  SynthDatasetOptions o;
  o.render.min_side = 40;
  o.render.max_side = 64;
  o.render.model_side = 24;
  return write_synthetic_dataset(dir.string(), {6, 2, 2}, 5, o);
}

}  // namespace

TEST_CASE("image_cache: decode + resize once, equal to doing it by hand, any thread count") {
  test::TempDir dir("cache");
  small_synth(dir.path / "set");
  const Dataset ds = list_dataset((dir.path / "set").string());
  REQUIRE(ds.samples.size() == 10);

  for (const auto& [channels, method] : {std::pair{3, Interpolation::nearest}, std::pair{1, Interpolation::bilinear}}) {
    CAPTURE(channels);
    ImageCacheOptions o;
    o.height = 24;
    o.width = 20;  // not square: catches a swapped width/height
    o.channels = channels;
    o.interpolation = method;
    o.threads = 2;
    const ImageCache cache(ds, o);
    REQUIRE(cache.size() == 10);
    CHECK(cache.bad_files().empty());
    CHECK(cache.image_bytes() == size_t(24 * 20 * channels));
    for (int64_t k = 0; k < cache.size(); ++k) {
      const Sample& s = ds.samples[cache.sample_index(k)];
      CHECK(cache.sample_index(k) == size_t(k));
      CHECK(cache.label(k) == s.label);
      const Image want = resize(decode_image(s.path, channels == 1 ? ColorMode::gray : ColorMode::rgb), 20, 24, method);
      REQUIRE(want.pixels.size() == cache.image_bytes());
      CHECK(std::equal(want.pixels.begin(), want.pixels.end(), cache.image(k)));
    }
    o.threads = 1;
    const ImageCache serial(ds, o);
    REQUIRE(serial.size() == cache.size());
    CHECK(std::equal(serial.image(0), serial.image(0) + serial.size() * serial.image_bytes(), cache.image(0)));
    CHECK(cache.summary().find("decoded 10 of 10 images to 24x20x" + std::to_string(channels)) == 0);
    CHECK(cache.summary().find("no bad files") != std::string::npos);
  }

  // A subset, in the given order; positions_of maps dataset samples back to positions.
  const std::vector<size_t> val = ds.indices("val");
  const ImageCache part(ds, {val[1], 3, val[0]}, ImageCacheOptions{.height = 8, .width = 8});
  REQUIRE(part.size() == 3);
  CHECK(part.sample_index(0) == val[1]);
  CHECK(part.sample_index(1) == 3);
  CHECK(part.positions_of(val) == std::vector<size_t>{2, 0});
  CHECK(part.positions_of(std::vector<size_t>{0, 3}) == std::vector<size_t>{1});  // sample 0 is not cached
  CHECK_THROWS_AS(ImageCache(ds, std::vector<size_t>{10}), std::out_of_range);
}

TEST_CASE("image_cache: bad files inside a normal dataset are skipped with the right reason, exact counts") {
  test::TempDir dir("cache_bad");
  const fs::path root = dir.path / "set";
  const std::vector<uint8_t> png = encode_png_bytes(noise_image(30, 20, 3, 1));
  const std::vector<uint8_t> jpg = encode_jpeg_bytes(noise_image(30, 20, 1, 2), 90);
  // Good files: 3 fractured, 3 not fractured, PNG and JPEG.
  fs::create_directories(root / "fractured");
  fs::create_directories(root / "not fractured");
  for (int i = 0; i < 3; ++i) {
    encode_png(noise_image(16 + i, 12, 1, 10 + i), (root / "fractured" / ("good" + std::to_string(i) + ".png")).string());
    encode_jpeg(noise_image(16, 12 + i, 3, 20 + i), (root / "not fractured" / ("good" + std::to_string(i) + ".jpg")).string());
  }
  write_bytes(root / "fractured/a_empty.jpg", {});
  write_bytes(root / "fractured/b_cut.png", {png.begin(), png.begin() + long(png.size() / 2)});
  write_bytes(root / "not fractured/c_cut.jpg", {jpg.begin(), jpg.begin() + long(jpg.size() / 2)});
  {
    std::ofstream(root / "not fractured/d_text.jpg") << "this is not a JPEG, it is a note someone saved as one\n";
  }
  // A JPEG whose SOF header claims 30000x30000: refused before any pixel buffer exists.
  std::vector<uint8_t> bomb = jpg;
  size_t sof = 0;
  while (!(bomb[sof] == 0xFF && bomb[sof + 1] == 0xC0)) ++sof;
  bomb[sof + 5] = bomb[sof + 7] = uint8_t(30000 >> 8);
  bomb[sof + 6] = bomb[sof + 8] = uint8_t(30000 & 0xFF);
  write_bytes(root / "not fractured/e_bomb.jpg", bomb);

  const Dataset ds = list_dataset(root.string());
  REQUIRE(ds.samples.size() == 11);
  const ImageCache cache(ds, ImageCacheOptions{.height = 10, .width = 10, .channels = 3, .threads = 2});
  CHECK(cache.requested() == 11);
  CHECK(cache.size() == 6);
  REQUIRE(cache.bad_files().size() == 5);
  CHECK(cache.bad_count(DecodeFailure::empty_file) == 1);
  CHECK(cache.bad_count(DecodeFailure::truncated) == 2);
  CHECK(cache.bad_count(DecodeFailure::unknown_format) == 1);
  CHECK(cache.bad_count(DecodeFailure::too_large) == 1);
  CHECK(cache.bad_count(DecodeFailure::corrupt) == 0);

  // Sorted by sample index, which is (class, file name) order here.
  const auto& bad = cache.bad_files();
  const std::vector<std::pair<std::string, DecodeFailure>> want = {
      {"a_empty.jpg", DecodeFailure::empty_file},   {"b_cut.png", DecodeFailure::truncated},
      {"c_cut.jpg", DecodeFailure::truncated},      {"d_text.jpg", DecodeFailure::unknown_format},
      {"e_bomb.jpg", DecodeFailure::too_large}};
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(fs::path(bad[i].path).filename() == want[i].first);
    CHECK(bad[i].reason == want[i].second);
    CHECK(ds.samples[bad[i].sample].path == bad[i].path);
    CHECK(bad[i].message.find(bad[i].path) == 0);  // names the file
  }
  CHECK(bad[4].message.find("30000x30000") != std::string::npos);

  // The rest loads, with the right labels and the right pixels.
  for (int64_t k = 0; k < cache.size(); ++k) {
    const Sample& s = ds.samples[cache.sample_index(k)];
    CHECK(fs::path(s.path).filename().string().starts_with("good"));
    CHECK(cache.label(k) == s.label);
    const Image img = resize(decode_image(s.path, ColorMode::rgb), 10, 10, Interpolation::nearest);
    CHECK(std::equal(img.pixels.begin(), img.pixels.end(), cache.image(k)));
  }
  CHECK(cache.label(0) == 0);
  CHECK(cache.label(5) == 1);

  const std::string summary = cache.summary();
  CHECK(summary.find("decoded 6 of 11 images") == 0);
  CHECK(summary.find("skipped 5 bad files: 2 truncated, 1 empty_file, 1 unknown_format, 1 too_large") !=
        std::string::npos);

  write_bad_files_csv(cache, dir.file("bad.csv"));
  const auto rows = read_csv(dir.file("bad.csv"));
  REQUIRE(rows.size() == 6);
  CHECK(rows[0] == CsvRow{"sample", "path", "reason", "message"});
  CHECK(rows[2][1] == bad[1].path);
  CHECK(rows[2][2] == "truncated");
  CHECK(rows[5][2] == "too_large");
  CHECK(rows[5][3] == bad[4].message);
}

TEST_CASE("image_cache: from_pixels checks its sizes") {
  const ImageCache c = ImageCache::from_pixels(std::vector<uint8_t>(2 * 4 * 3 * 3, 7), {0, 1}, 4, 3, 3);
  CHECK(c.size() == 2);
  CHECK(c.image(1)[0] == 7);
  CHECK(c.sample_index(1) == 1);
  CHECK_THROWS_AS(ImageCache::from_pixels(std::vector<uint8_t>(5), {0}, 4, 3, 3), std::invalid_argument);
  CHECK_THROWS_AS(ImageCache::from_pixels({}, {}, 4, 3, 2), std::invalid_argument);
}
