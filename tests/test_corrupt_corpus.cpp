// The corrupt-data corpus: broken and unusual files generated inside a normal synthetic
// dataset (zero-byte, truncated at several points, bit-flipped headers, wrong extensions,
// 16-bit and palette PNGs, CMYK and progressive JPEGs, 1x1 and 20000x20000 headers,
// non-UTF-8 and very long file names, symlink loops, unreadable permissions).
// Listing, the decoded-image cache, the audit, and `radius train` + `radius audit` on the
// command line all finish, skip exactly the bad files, list each with its reason, and
// keep every good one, unusual or not. The counts are exact.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/audit.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/encode.h"
#include "data/image_cache.h"
#include "data/synth_dataset.h"
#include "image_variants.h"
#include "process_util.h"
#include "synth_util.h"
#include "temp_dir.h"

using namespace radius;
using radius::test::TempDir;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

void write_bytes(const fs::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
Bytes head(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + long(std::min(n, b.size()))); }
Bytes flipped(Bytes b, size_t at, uint8_t mask) {
  b.at(at) ^= mask;
  return b;
}
void put_be32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.at(at + size_t(i)) = uint8_t(v >> (24 - 8 * i));
}
uint32_t png_crc(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}
// A PNG whose IHDR claims w x h, with a valid CRC: a header only a bomb guard refuses.
Bytes png_claiming(Bytes png, uint32_t w, uint32_t h) {
  put_be32(png, 16, w);
  put_be32(png, 20, h);
  put_be32(png, 29, png_crc(png.data() + 12, 17));
  return png;
}
size_t jpeg_sof(const Bytes& b) {
  for (size_t i = 2; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && (b[i + 1] == 0xC0 || b[i + 1] == 0xC2)) return i;
  FAIL("no SOF marker");
  return 0;
}
Bytes jpeg_claiming(Bytes jpg, uint16_t w, uint16_t h) {
  const size_t sof = jpeg_sof(jpg);  // FF C0, length(2), precision(1), height(2), width(2)
  jpg[sof + 5] = uint8_t(h >> 8), jpg[sof + 6] = uint8_t(h);
  jpg[sof + 7] = uint8_t(w >> 8), jpg[sof + 8] = uint8_t(w);
  return jpg;
}
size_t find_text(const Bytes& b, const char* s) {
  const auto it = std::search(b.begin(), b.end(), s, s + std::strlen(s));
  REQUIRE(it != b.end());
  return size_t(it - b.begin());
}

struct Corpus {
  std::map<std::string, DecodeFailure> bad;  // file name -> the reason it must be skipped for
  std::set<std::string> good;                // unusual but valid: must be kept
  std::string skipped_note;                  // what could not be produced here
};

// Writes the corpus into the class folder `dir` of a normal dataset.
Corpus write_corpus(const fs::path& dir) {
  Corpus c;
  const Bytes png = encode_png_bytes(test::radiograph(900, 64, 48));
  const Bytes jpg = encode_jpeg_bytes(test::radiograph(901, 64, 48), 90);
  auto bad = [&](const std::string& name, const Bytes& b, DecodeFailure why) {
    write_bytes(dir / name, b);
    c.bad[name] = why;
  };
  auto good = [&](const std::string& name, const Bytes& b) {
    write_bytes(dir / name, b);
    c.good.insert(name);
  };
  using F = DecodeFailure;
  bad("zero_byte.png", {}, F::empty_file);
  bad("zero_byte.jpg", {}, F::empty_file);
  // Truncated at several points: inside the signature, after it, after IHDR, mid-data, before IEND.
  bad("cut_png_5.png", head(png, 5), F::truncated);
  bad("cut_png_8.png", head(png, 8), F::truncated);
  bad("cut_png_33.png", head(png, 33), F::truncated);
  bad("cut_png_half.png", head(png, png.size() / 2), F::truncated);
  bad("cut_png_no_iend.png", head(png, png.size() - 12), F::truncated);
  bad("cut_jpeg_2.jpg", head(jpg, 2), F::truncated);
  bad("cut_jpeg_header.jpg", head(jpg, 100), F::truncated);
  bad("cut_jpeg_half.jpg", head(jpg, jpg.size() / 2), F::truncated);
  bad("cut_jpeg_90pct.jpg", head(jpg, jpg.size() * 9 / 10), F::truncated);
  // Bit flips in headers.
  bad("flip_png_signature.png", flipped(png, 1, 0x01), F::unknown_format);
  bad("flip_png_ihdr_width.png", flipped(png, 18, 0x10), F::corrupt);  // IHDR CRC no longer matches
  bad("flip_png_idat_data.png", flipped(png, find_text(png, "IDAT") + 8, 0x04), F::corrupt);  // CRC again
  bad("flip_jpeg_magic.jpg", flipped(jpg, 1, 0x01), F::unknown_format);
  bad("flip_jpeg_sof_components.jpg", flipped(jpg, jpeg_sof(jpg) + 9, 0x80), F::corrupt);  // 1 -> 129 components
  // Wrong extensions: a text file and a GIF named as images (refused by magic bytes) ...
  bad("notes.png", Bytes{'h', 'e', 'l', 'l', 'o', '\n'}, F::unknown_format);
  bad("animation.jpg", Bytes{'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0, ';'}, F::unknown_format);
  // ... and valid images under the other format's extension (decoded by magic bytes: kept).
  good("really_a_jpeg.png", jpg);
  good("really_a_png.JPG", png);
  // Bombs and degenerate sizes.
  bad("bomb_20000x20000.png", png_claiming(png, 20000, 20000), F::too_large);
  bad("bomb_20000x20000.jpg", jpeg_claiming(jpg, 20000, 20000), F::too_large);
  bad("zero_width.png", png_claiming(png, 0, 48), F::corrupt);
  good("one_pixel.png", encode_png_bytes(resize(test::radiograph(902, 32, 32), 1, 1, Interpolation::bilinear)));
  good("one_pixel.jpg", encode_jpeg_bytes(resize(test::radiograph(903, 32, 32), 1, 1, Interpolation::bilinear), 90));
  // Variants a radiograph folder really holds.
  good("gray16.png", test::png_variant(40, 30, PNG_COLOR_TYPE_GRAY, 16, false));
  good("rgb16.png", test::png_variant(40, 30, PNG_COLOR_TYPE_RGB, 16, false));
  good("palette_trns.png", test::png_variant(40, 30, PNG_COLOR_TYPE_PALETTE, 4, false));
  good("interlaced.png", test::png_variant(40, 30, PNG_COLOR_TYPE_RGB, 8, true));
  good("cmyk.jpg", test::cmyk_jpeg(40, 30));
  good("progressive.jpg", encode_jpeg_bytes(test::radiograph(904, 64, 48), 85, true));
  // Names: not UTF-8, and 250 bytes long (most filesystems allow 255).
  good("latin1_\xe9t\xe9_\xff.png", encode_png_bytes(test::radiograph(905, 50, 40)));
  good(std::string(246, 'n') + ".png", encode_png_bytes(test::radiograph(906, 50, 40)));
  // Symbolic links: one to itself (a loop), one to nowhere, and a folder loop that the
  // listing must not follow (it holds no images of its own).
  fs::create_symlink("self_loop.png", dir / "self_loop.png");
  c.bad["self_loop.png"] = F::cannot_open;
  fs::create_symlink("missing_target.png", dir / "dangling.png");
  c.bad["dangling.png"] = F::cannot_open;
  fs::create_directories(dir / "sub");
  fs::create_directory_symlink("..", dir / "sub" / "up_loop");
  // A folder with an image extension is not an image.
  fs::create_directories(dir / "folder.png");
  // Unreadable permissions: root reads anyway, so only other users get this case.
  if (::geteuid() != 0) {
    bad("no_permission.png", png, F::cannot_open);
    fs::permissions(dir / "no_permission.png", fs::perms::none);
  } else {
    c.skipped_note = "running as root: an unreadable file (chmod 000) cannot be produced; that case is skipped";
  }
  return c;
}

// A normal dataset (16 train + 8 val images) with the corpus in train/fractured.
struct Fixture {
  TempDir dir{"corrupt_corpus"};
  std::string root = dir.file("data");
  fs::path corpus_dir;
  Corpus corpus;
  size_t normal = 24;
  Fixture() {
    SynthDatasetOptions opt;
    opt.render.min_side = 40;
    opt.render.max_side = 56;
    opt.render.model_side = 32;
    opt.rotated_fraction = 0;
    write_synthetic_dataset(root, {16, 8, 0}, 11, opt);
    corpus_dir = fs::path(root) / "train" / "fractured";
    corpus = write_corpus(corpus_dir);
    if (!corpus.skipped_note.empty()) MESSAGE(corpus.skipped_note);
  }
  size_t listed() const { return normal + corpus.bad.size() + corpus.good.size(); }
};

std::string name_of(const std::string& path) { return fs::path(path).filename().string(); }

}  // namespace

TEST_CASE("corrupt corpus: the cache and the audit skip exactly the bad files, each with its reason") {
  Fixture f;
  const Dataset ds = list_dataset(f.root);
  REQUIRE(ds.samples.size() == f.listed());  // folder.png and sub/up_loop are not listed

  const ImageCache cache(ds, ImageCacheOptions{.height = 32, .width = 32, .channels = 3, .threads = 2});
  CHECK(cache.requested() == int64_t(f.listed()));
  CHECK(cache.size() == int64_t(f.normal + f.corpus.good.size()));
  std::map<std::string, DecodeFailure> skipped;
  for (const BadFile& b : cache.bad_files()) {
    skipped[name_of(b.path)] = b.reason;
    CHECK(b.message.find(b.path) == 0);  // the message names the file
  }
  CHECK(skipped.size() == cache.bad_files().size());
  for (const auto& [name, why] : f.corpus.bad) {
    CAPTURE(name);
    REQUIRE(skipped.count(name) == 1);
    CHECK(to_string(skipped[name]) == to_string(why));
  }
  CHECK(skipped.size() == f.corpus.bad.size());
  for (int64_t k = 0; k < cache.size(); ++k) CHECK(!skipped.count(name_of(ds.samples[cache.sample_index(k)].path)));
  std::map<DecodeFailure, int64_t> by_reason;
  for (const auto& [name, why] : f.corpus.bad) ++by_reason[why];
  for (const auto& [why, n] : by_reason) CHECK(cache.bad_count(why) == n);

  AuditOptions ao;
  ao.threads = 2;
  const AuditReport r = audit_dataset(ds, ao);
  std::map<std::string, DecodeFailure> unreadable;
  for (size_t i : r.unreadable) unreadable[name_of(ds.samples[i].path)] = r.files[i].failure;
  CHECK(unreadable == skipped);
  CHECK(r.distinct_images <= int64_t(cache.size()));
  (void)format_audit_text(r);
  CHECK_NOTHROW((void)audit_to_json(r).dump(1, ' ', false, nlohmann::json::error_handler_t::replace));
}

TEST_CASE("corrupt corpus: radius train and radius audit finish and list every bad file with its reason") {
  Fixture f;
  const std::string run = f.dir.file("run"), log = f.dir.file("cli.log");
  const int rc = test::wait_child(test::spawn_radius(
      {"train", f.root, "--model", std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec", "--out", run, "--epochs", "1",
       "--batch", "8", "--threads", "1", "--no-augment", "--quiet"},
      {{}, -1, log}));
  const std::string out = test::read_text(log);
  CAPTURE(out);
  REQUIRE(rc == 0);
  const size_t kept = f.normal + f.corpus.good.size();
  CHECK(out.find("decoded " + std::to_string(kept) + " of " + std::to_string(f.listed()) + " images") !=
        std::string::npos);
  CHECK(out.find("skipped " + std::to_string(f.corpus.bad.size()) + " bad files") != std::string::npos);
  const auto rows = read_csv(run + "/bad_files.csv");
  REQUIRE(rows.size() == f.corpus.bad.size() + 1);
  CHECK(rows[0] == CsvRow{"sample", "path", "reason", "message"});
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::string name = name_of(rows[i][1]);
    CAPTURE(name);
    REQUIRE(f.corpus.bad.count(name) == 1);
    CHECK(rows[i][2] == failure_id(f.corpus.bad.at(name)));
  }

  const std::string json = f.dir.file("audit.json");
  const int rc2 = test::wait_child(test::spawn_radius({"audit", f.root, "--json", json, "--threads", "2"}, {{}, -1, log}));
  const std::string audit = test::read_text(log);
  CAPTURE(audit);
  REQUIRE(rc2 == 0);
  CHECK(audit.find("Unreadable files: " + std::to_string(f.corpus.bad.size())) != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(test::read_text(json));
  CHECK(j["unreadable"].size() == f.corpus.bad.size());
}
