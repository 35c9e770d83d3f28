#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "data/audit.h"
#include "data/decode.h"
#include "data/encode.h"
#include "data/resize.h"
#include "data/synth.h"
#include "data/synth_dataset.h"
#include "tests/synth_util.h"
#include "tests/temp_dir.h"

using namespace radius;
namespace fs = std::filesystem;

namespace {

using test::radiograph;  // tests/synth_util.h (small sizes keep the tests fast; the hash sees 32x32)

void write(const Image& img, const fs::path& p, bool jpeg, int quality = 92) {
  fs::create_directories(p.parent_path());
  if (jpeg)
    encode_jpeg(img, p.string(), quality);
  else
    encode_png(img, p.string());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

void copy_to(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to);
}

std::string name_of(const AuditReport& r, size_t i) { return fs::path(r.dataset.samples[i].path).filename().string(); }

std::vector<std::string> names_of(const AuditReport& r, const std::vector<size_t>& idx) {
  std::vector<std::string> out;
  for (size_t i : idx) out.push_back(name_of(r, i));
  std::sort(out.begin(), out.end());
  return out;
}

const NearPair* find_pair(const AuditReport& r, const std::string& a, const std::string& b) {
  for (const NearPair& p : r.near_pairs)
    if ((name_of(r, p.a) == a && name_of(r, p.b) == b) || (name_of(r, p.a) == b && name_of(r, p.b) == a)) return &p;
  return nullptr;
}

bool has_warning(const AuditReport& r, const std::string& text) {
  return std::any_of(r.warnings.begin(), r.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

const Association& association(const AuditReport& r, const std::string& attribute) {
  for (const Association& a : r.associations)
    if (a.attribute == attribute) return a;
  throw std::runtime_error("no association " + attribute);
}

const Stump& stump(const AuditReport& r, const std::string& attribute) {
  for (const Stump& s : r.stumps)
    if (s.attribute == attribute) return s;
  throw std::runtime_error("no stump " + attribute);
}

}  // namespace

TEST_CASE("audit: FNV-1a 64 reference values, colour mode and bit depth from headers") {
  CHECK(fnv1a64(nullptr, 0) == 0xcbf29ce484222325ull);
  const uint8_t a[] = {'a'};
  CHECK(fnv1a64(a, 1) == 0xaf63dc4c8601ec8cull);
  const std::string foobar = "foobar";
  CHECK(fnv1a64(reinterpret_cast<const uint8_t*>(foobar.data()), foobar.size()) == 0x85944171f73967e8ull);

  Image gray(20, 10, 1), rgb(20, 10, 3);
  std::string color;
  int depth = 0;
  CHECK(read_color_header(encode_png_bytes(gray), &color, &depth));
  CHECK(color == "gray");
  CHECK(depth == 8);
  CHECK(read_color_header(encode_png_bytes(rgb), &color, &depth));
  CHECK(color == "rgb");
  CHECK(read_color_header(encode_jpeg_bytes(gray), &color, &depth));
  CHECK(color == "gray");
  CHECK(read_color_header(encode_jpeg_bytes(rgb, 80, true), &color, &depth));  // progressive: SOF2
  CHECK(color == "rgb");
  CHECK(depth == 8);
  CHECK_FALSE(read_color_header({'h', 'e', 'l', 'l', 'o'}, &color, &depth));
}

TEST_CASE("audit: planted exact duplicates, near-duplicates and group leakage are found, nothing else") {
  test::TempDir dir("audit");
  const fs::path root = dir.path / "ds";
  const fs::path trf = root / "train/fractured", trn = root / "train/not fractured";
  const fs::path vaf = root / "val/fractured", tef = root / "test/fractured", ten = root / "test/not fractured";
  // Ten distinct radiographs, formats mixed.
  std::vector<Image> b;
  for (int i = 0; i < 10; ++i) b.push_back(radiograph(uint64_t(100 + i), 150 + 9 * i, 190 - 5 * i, i < 4));
  write(b[0], trf / "B0.png", false);
  write(b[1], trf / "B1.png", false);
  write(b[2], trf / "B2.jpg", true, 95);
  write(b[3], trf / "B3.png", false);
  write(b[4], trn / "B4.jpg", true);
  write(b[5], trn / "B5.png", false);
  write(b[6], trn / "B6.jpg", true);
  write(b[7], trn / "B7.png", false);
  write(b[8], trn / "B8.png", false);
  write(b[9], ten / "B9.jpg", true);
  // Exact: within one split and class, across splits, across classes (a labelling error).
  copy_to(trf / "B0.png", trf / "B0 copy.png");
  copy_to(trf / "B1.png", tef / "T1.png");
  copy_to(trf / "B3.png", trn / "N3.png");
  // Near: re-encoded at another JPEG quality, resized by 10 %, quarter turns named as Kaggle does.
  write(b[2], vaf / "Q2.jpg", true, 60);
  write(resize(b[5], b[5].width * 9 / 10, b[5].height * 9 / 10, Interpolation::bilinear), ten / "R5.png", false);
  write(rotate90(b[6], 1), ten / "B6-rotated1.jpg", true);
  write(rotate90(b[8], 2), trn / "B8-rotated2.png", false);  // same split: a copy, not a leak
  // A name that leaks without the pixels agreeing: another image under B7's group key.
  write(radiograph(500, 160, 160), tef / "B7-rotated3.png", false);

  const Dataset d = list_dataset(root.string());
  REQUIRE(d.samples.size() == 18);
  const AuditReport r = audit_dataset(d);
  CHECK(r.unreadable.empty());
  CHECK(r.splits == std::vector<std::string>{"train", "val", "test"});

  // Exact duplicates: three sets of two, the labelling error first.
  REQUIRE(r.exact_duplicates.size() == 3);
  CHECK(r.exact_duplicates[0].cross_class);
  CHECK(names_of(r, r.exact_duplicates[0].members) == std::vector<std::string>{"B3.png", "N3.png"});
  CHECK(r.exact_duplicates[1].cross_split);
  CHECK_FALSE(r.exact_duplicates[1].cross_class);
  CHECK(names_of(r, r.exact_duplicates[1].members) == std::vector<std::string>{"B1.png", "T1.png"});
  CHECK_FALSE(r.exact_duplicates[2].cross_split);
  CHECK(names_of(r, r.exact_duplicates[2].members) == std::vector<std::string>{"B0 copy.png", "B0.png"});

  // Near-duplicates: exactly the four planted edits.
  CHECK(r.near_pairs.size() == 4);
  const NearPair* q = find_pair(r, "B2.jpg", "Q2.jpg");
  const NearPair* s = find_pair(r, "B5.png", "R5.png");
  const NearPair* t = find_pair(r, "B6.jpg", "B6-rotated1.jpg");
  const NearPair* u = find_pair(r, "B8.png", "B8-rotated2.png");
  REQUIRE(q);
  REQUIRE(s);
  REQUIRE(t);
  REQUIRE(u);
  CHECK(q->cross_split);
  CHECK(q->cross_group);
  CHECK(s->cross_split);
  CHECK(t->cross_split);
  CHECK_FALSE(t->cross_group);
  CHECK((t->symmetry == Symmetry::rot90 || t->symmetry == Symmetry::rot270));
  CHECK_FALSE(u->cross_split);
  CHECK(u->symmetry == Symmetry::rot180);
  for (const NearPair& p : r.near_pairs) {
    CHECK_FALSE(p.cross_class);
    CHECK(p.distance <= r.options.near_threshold);
  }
  // 18 files, 3 exact and 4 near merges: 11 distinct images.
  CHECK(r.distinct_images == 11);
  CHECK(r.near_clusters.size() == 7);

  // Group leakage: B6 (pixels agree) and B7 (names only); B8's copies share a split.
  REQUIRE(r.group_leaks.size() == 2);
  CHECK(r.group_leaks[0].group == "B6");
  CHECK(r.group_leaks[0].confirmed);
  CHECK(r.group_leaks[0].splits == std::vector<std::string>{"train", "test"});
  CHECK(r.group_leaks[1].group == "B7");
  CHECK_FALSE(r.group_leaks[1].confirmed);
  CHECK(r.mixed_groups.size() == 1);  // B7: not fractured in train, fractured in test, by name
  CHECK_FALSE(r.mixed_groups[0].confirmed);

  CHECK(has_warning(r, "LABEL ERROR: 1 set of byte-identical files carries different labels"));
  CHECK(has_warning(r, "leakage: 1 set of byte-identical files spans splits"));
  CHECK(has_warning(r, "leakage: 3 near-duplicate pairs across splits"));
  CHECK(has_warning(r, "leakage: 1 group key is in more than one split, with copies confirmed by pixels"));
  CHECK(has_warning(r, "names: 1 group key is in more than one split by name only"));
  CHECK(has_warning(r, "redundancy: 1 set"));
  CHECK(r.warnings[0].rfind("LABEL ERROR", 0) == 0);

  // Without symmetries the rotated copies are not found (the re-encoded and resized ones are).
  AuditOptions plain;
  plain.symmetries = false;
  const AuditReport r2 = audit_dataset(d, plain);
  CHECK(r2.near_pairs.size() == 2);
  CHECK(find_pair(r2, "B2.jpg", "Q2.jpg"));
  CHECK(find_pair(r2, "B5.png", "R5.png"));

  // The text report names the offenders; the JSON holds every finding.
  const std::string text = format_audit_text(r);
  CHECK(text.find("!! LABEL ERROR") != std::string::npos);
  CHECK(text.find("train/fractured/B3.png") != std::string::npos);
  CHECK(text.find("test/fractured/T1.png") != std::string::npos);
  CHECK(text.find("'B6': train 1, test 1 (pixels agree)") != std::string::npos);
  const nlohmann::json j = audit_to_json(r);
  CHECK(j["files"].size() == 18);
  CHECK(j["exact_duplicates"].size() == 3);
  CHECK(j["exact_duplicates"][0]["cross_class"] == true);
  CHECK(j["near_duplicates"]["pairs"].size() == 4);
  CHECK(j["near_duplicates"]["distinct_images"] == 11);
  CHECK(j["group_leakage"].size() == 2);
  CHECK(j["warnings"].size() == r.warnings.size());
  const nlohmann::json round = nlohmann::json::parse(j.dump());  // valid JSON, paths with spaces included
  CHECK(round == j);
}

TEST_CASE("audit: exact counts, unreadable files listed with their reasons") {
  test::TempDir dir("audit_bad");
  const fs::path root = dir.path / "ds";
  for (int i = 0; i < 5; ++i) write(radiograph(uint64_t(i), 120, 120, true), root / "train/fractured" / (std::to_string(i) + ".png"), false);
  for (int i = 0; i < 3; ++i) write(radiograph(uint64_t(10 + i), 120, 120), root / "train/not fractured" / (std::to_string(i) + ".jpg"), true);
  for (int i = 0; i < 2; ++i) write(radiograph(uint64_t(20 + i), 120, 120), root / "val/not fractured" / (std::to_string(i) + ".jpg"), true);
  write_bytes(root / "train/fractured/empty.png", "");
  const std::vector<uint8_t> png = encode_png_bytes(radiograph(30, 120, 120));
  write_bytes(root / "train/fractured/cut.png", std::string(png.begin(), png.begin() + long(png.size() / 2)));
  write_bytes(root / "val/not fractured/page.jpg", "<html>not an image</html>");
  const std::vector<uint8_t> jpg = encode_jpeg_bytes(radiograph(31, 120, 120));
  write_bytes(root / "val/fractured/cut.jpg", std::string(jpg.begin(), jpg.begin() + long(jpg.size() / 3)));
  write_bytes(root / "val/fractured/empty2.png", "");  // two empty files are not "duplicates"

  const Dataset d = list_dataset(root.string());
  AuditOptions o;
  o.threads = 2;
  const AuditReport r = audit_dataset(d, o);
  CHECK(d.samples.size() == 15);
  REQUIRE(r.unreadable.size() == 5);
  std::map<std::string, DecodeFailure> reasons;
  for (size_t i : r.unreadable) reasons[name_of(r, i)] = r.files[i].failure;
  CHECK(reasons["empty.png"] == DecodeFailure::empty_file);
  CHECK(reasons["empty2.png"] == DecodeFailure::empty_file);
  CHECK(reasons["cut.png"] == DecodeFailure::truncated);
  CHECK(reasons["cut.jpg"] == DecodeFailure::truncated);
  CHECK(reasons["page.jpg"] == DecodeFailure::unknown_format);
  CHECK(r.exact_duplicates.empty());
  CHECK(r.near_pairs.empty());
  CHECK(r.distinct_images == 10);
  CHECK(has_warning(r, "unreadable: 5 files"));

  const std::string text = format_audit_text(r);
  INFO(text);
  CHECK(text.find("Unreadable files: 5") != std::string::npos);
  CHECK(text.find("train/fractured/empty.png: zero-byte file") != std::string::npos);
  CHECK(text.find("val/not fractured/page.jpg: unknown format") != std::string::npos);
  CHECK(text.find("by reason: truncated 2, unknown format 1, zero-byte file 2") != std::string::npos);
  // train: fractured 7 listed (2 bad), not fractured 3; val: fractured 2 (both bad), not fractured 3 (1 bad).
  CHECK(text.find("7 [2]") != std::string::npos);
  const nlohmann::json j = audit_to_json(r);
  std::map<std::string, std::pair<int, int>> counts;
  for (const auto& c : j["counts"]) 
    counts[c["split"].get<std::string>() + "/" + c["class"].get<std::string>()] = {c["listed"].get<int>(),
                                                                                  c["decoded"].get<int>()};
  CHECK(counts["train/fractured"] == std::pair{7, 5});
  CHECK(counts["train/not fractured"] == std::pair{3, 3});
  CHECK(counts["val/fractured"] == std::pair{2, 0});
  CHECK(counts["val/not fractured"] == std::pair{3, 2});
  CHECK(j["unreadable"].size() == 5);
  CHECK(j["unreadable"][0]["reason"].is_string());
}

TEST_CASE("audit: a format confounder (fractured all PNG, the rest JPEG) is flagged, size is not") {
  test::TempDir dir("audit_fmt");
  const fs::path root = dir.path / "ds";
  for (int i = 0; i < 12; ++i) {
    const int w = 140 + 10 * (i % 6), h = 200 - 10 * (i % 4);  // the same sizes in both classes
    write(radiograph(uint64_t(i), w, h, true), root / "fractured" / (std::to_string(i) + ".png"), false);
    write(radiograph(uint64_t(50 + i), w, h), root / "not fractured" / (std::to_string(i) + ".jpg"), true);
  }
  const AuditReport r = audit_dataset(list_dataset(root.string()));
  const Association& f = association(r, "format");
  CHECK(f.cramers_v == doctest::Approx(1.0));
  CHECK(f.balanced_accuracy == doctest::Approx(1.0));
  CHECK(f.warn);
  CHECK(f.counts[0] == std::vector<int64_t>{0, 12});  // fractured: jpeg 0, png 12
  CHECK_FALSE(association(r, "colour mode").warn);     // all gray
  CHECK_FALSE(stump(r, "pixel count").warn);
  CHECK(has_warning(r, "confounder: format predicts the class"));
  for (const std::string& w : r.warnings) CHECK(w.find("format") != std::string::npos);  // nothing else
  CHECK(format_audit_text(r).find("<-- WARNING") != std::string::npos);
}

TEST_CASE("audit: a size confounder (fractured images larger) is flagged, format is not") {
  test::TempDir dir("audit_size");
  const fs::path root = dir.path / "ds";
  for (int i = 0; i < 12; ++i) {
    const bool jpeg = i % 2 == 0;
    const char* ext = jpeg ? ".jpg" : ".png";
    write(radiograph(uint64_t(i), 200 + 3 * i, 210 + 2 * i, true), root / "fractured" / (std::to_string(i) + ext), jpeg);
    write(radiograph(uint64_t(50 + i), 120 + 3 * i, 130 + 2 * i), root / "not fractured" / (std::to_string(i) + ext), jpeg);
  }
  const AuditReport r = audit_dataset(list_dataset(root.string()));
  const Stump& s = stump(r, "pixel count");
  CHECK(s.balanced_accuracy == doctest::Approx(1.0));
  CHECK(s.below_class == 1);  // small -> not fractured
  CHECK(s.warn);
  CHECK_FALSE(association(r, "format").warn);
  CHECK(association(r, "format").cramers_v == doctest::Approx(0.0));
  CHECK(r.size_by_class[0].median_width > r.size_by_class[1].max_width);
  CHECK(has_warning(r, "confounder: pixel count alone predicts the class"));
  CHECK(r.size_by_class[0].n == 12);
  CHECK(r.size_by_class[1].mean_width == doctest::Approx(120 + 3 * 5.5));
}

TEST_CASE("audit: a clean synthetic dataset raises no alarm, its rotated copies stay in their groups") {
  test::TempDir dir("audit_clean");
  SynthDatasetOptions opt;
  opt.render.min_side = 120;
  opt.render.max_side = 200;
  opt.rotated_fraction = 0;
  write_synthetic_dataset((dir.path / "clean").string(), {60, 20, 20}, 3, opt);
  const AuditReport r = audit_dataset(list_dataset((dir.path / "clean").string()));
  CHECK(r.files.size() == 100);
  CHECK(r.unreadable.empty());
  CHECK(r.exact_duplicates.empty());
  CHECK(r.near_pairs.empty());
  CHECK(r.group_leaks.empty());
  CHECK(r.distinct_images == 100);
  for (const Association& a : r.associations) CHECK_FALSE(a.warn);
  for (const Stump& s : r.stumps) CHECK_FALSE(s.warn);
  CHECK(r.warnings.empty());
  CHECK(format_audit_text(r).find("Summary: no problems found") != std::string::npos);

  // With Kaggle-style rotated copies: every copy found, all inside their own group and split.
  opt.rotated_fraction = 0.3;
  const std::vector<SynthFile> files = write_synthetic_dataset((dir.path / "rotated").string(), {60, 20, 0}, 4, opt);
  const AuditReport q = audit_dataset(list_dataset((dir.path / "rotated").string()));
  std::map<std::string, int> group_size;
  for (const SynthFile& f : files) group_size[f.group]++;
  size_t expected_pairs = 0;
  for (const auto& [g, n] : group_size) expected_pairs += size_t(n * (n - 1) / 2);
  CHECK(expected_pairs > 0);
  CHECK(q.near_pairs.size() == expected_pairs);
  for (const NearPair& p : q.near_pairs) {
    CHECK_FALSE(p.cross_group);
    CHECK_FALSE(p.cross_split);
  }
  CHECK(q.distinct_images == int64_t(group_size.size()));
  CHECK(q.warnings.empty());
}

// Timing on a ~2,000-image synthetic set (generator sizes, 180-320 px). Skipped by default:
//   radius_tests -tc="audit: timing*" --no-skip
TEST_CASE("audit: timing on 2,000 synthetic images" * doctest::skip()) {
  test::TempDir dir("audit_time");
  const auto t0 = std::chrono::steady_clock::now();
  write_synthetic_dataset((dir.path / "ds").string(), {1600, 200, 200}, 9, {});
  const double write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const AuditReport r = audit_dataset(list_dataset((dir.path / "ds").string()));
  MESSAGE("wrote " << r.files.size() << " files in " << write_s << " s; audit: decode+hash " << r.seconds_decode
                   << " s, near search " << r.seconds_near << " s, total " << r.seconds_total << " s");
  MESSAGE(format_audit_text(r, 3));
  // The distributions: distinct images (different groups) vs copies (same group).
  std::vector<ImageSignature> sigs(r.files.size());
  for (size_t i = 0; i < sigs.size(); ++i) sigs[i] = image_signature(decode_image(r.dataset.samples[i].path, ColorMode::gray));
  std::map<int, int> distinct, copies;
  float distinct_max = -1, copy_min = 2;
  for (size_t i = 0; i < sigs.size(); ++i)
    for (size_t j = i + 1; j < sigs.size(); ++j) {
      Symmetry s{};
      const int dd = hamming_any_symmetry(sigs[i].phash.variant[0], sigs[j].phash, &s);
      const bool copy = r.dataset.samples[i].group == r.dataset.samples[j].group;
      (copy ? copies : distinct)[dd]++;
      if (dd > kDefaultNearThreshold) continue;
      float best = -1;
      for (int k = 0; k < 8; ++k)
        if (hamming(sigs[i].phash.variant[0], sigs[j].phash.variant[size_t(k)]) <= kDefaultNearThreshold)
          best = std::max(best, detail_similarity(sigs[i], sigs[j], Symmetry(k)));
      if (copy)
        copy_min = std::min(copy_min, best);
      else
        distinct_max = std::max(distinct_max, best);
    }
  std::string a, b;
  for (const auto& [dd, n] : distinct)
    if (dd <= 16) a.append(" ").append(std::to_string(dd)).append(":").append(std::to_string(n));
  for (const auto& [dd, n] : copies) b.append(" ").append(std::to_string(dd)).append(":").append(std::to_string(n));
  MESSAGE("hash distance, distinct pairs (distance:count, <= 16):" << a << "\ncopies:" << b
                                                                   << "\ndetail correlation of hash candidates: distinct max "
                                                                   << distinct_max << ", copies min " << copy_min);
  CHECK(distinct_max < kDefaultMinSimilarity);
  CHECK(copy_min > kDefaultMinSimilarity);
  for (const NearPair& p : r.near_pairs) CHECK_FALSE(p.cross_group);
}
