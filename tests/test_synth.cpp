// The synthetic radiograph generator and the data-set writer.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "data/decode.h"
#include "data/resize.h"
#include "data/synth.h"
#include "data/synth_dataset.h"
#include "tests/temp_dir.h"

using namespace radius;
using radius::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<char> file_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Relative path -> bytes, for every file under root.
std::map<std::string, std::vector<char>> tree(const fs::path& root) {
  std::map<std::string, std::vector<char>> t;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) t[fs::relative(e.path(), root).string()] = file_bytes(e.path());
  return t;
}

int max_abs_diff(const Image& a, const Image& b) {
  int m = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) m = std::max(m, std::abs(int(a.pixels[i]) - int(b.pixels[i])));
  return m;
}

long sum_abs_diff(const Image& a, const Image& b) {
  long s = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) s += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
  return s;
}

}  // namespace

TEST_CASE("synth: render is deterministic, seeded, sized and not blank") {
  const SynthParams p;
  const Image a = render_radiograph(p, 1, 7, true), b = render_radiograph(p, 1, 7, true);
  CHECK(a.pixels == b.pixels);
  CHECK(a.channels == 1);
  CHECK(a.width >= p.min_side);
  CHECK(a.width <= p.max_side);
  CHECK(a.height >= p.min_side);
  CHECK(a.height <= p.max_side);
  const Image c = render_radiograph(p, 2, 7, true);
  CHECK((c.width != a.width || c.height != a.height || c.pixels != a.pixels));
  CHECK(render_radiograph(p, 1, 8, true).pixels != a.pixels);
  // Looks like a radiograph: dark background, bright bone, a wide range in between.
  const auto [lo, hi] = std::minmax_element(a.pixels.begin(), a.pixels.end());
  CHECK(*lo < 60);
  CHECK(*hi > 160);
  CHECK_THROWS_AS(render_radiograph(SynthParams{300, 200}, 1, 0, false), std::invalid_argument);
}

TEST_CASE("synth: a fracture is the only difference and survives resizing to the model's input") {
  const SynthParams p;
  int subtle = 0, displaced = 0, kinds[4] = {0, 0, 0, 0};
  const int n = 60;
  for (int i = 0; i < n; ++i) {
    CAPTURE(i);
    SynthInfo intact_info, info;
    const Image intact = render_radiograph(p, 3, uint64_t(i), false, &intact_info);
    const Image broken = render_radiograph(p, 3, uint64_t(i), true, &info);
    CHECK(intact_info.fracture == FractureKind::none);
    REQUIRE(info.fracture != FractureKind::none);
    // Same anatomy, exposure and noise: same size, and identical far from the fracture.
    REQUIRE(intact.width == broken.width);
    REQUIRE(intact.height == broken.height);
    CHECK(intact_info.joint == info.joint);
    CHECK(intact_info.growth_plate == info.growth_plate);
    CHECK(intact.pixels != broken.pixels);
    CHECK(info.fracture_x >= 0);
    CHECK(info.fracture_x < broken.width);
    CHECK(info.fracture_y >= 0);
    CHECK(info.fracture_y < broken.height);
    // An undisplaced fracture changes only pixels near its line (a cast in either image, or a
    // swelling reaching far along a large limb, changes more).
    if (!info.displaced && !info.cast && !intact_info.cast) {
      int far_changes = 0;
      const float near = 0.6f * float(std::max(broken.width, broken.height));
      for (int y = 0; y < broken.height; ++y)
        for (int x = 0; x < broken.width; ++x)
          far_changes += std::hypot(x - info.fracture_x, y - info.fracture_y) > near && intact.at(x, y) != broken.at(x, y);
      CHECK(far_changes == 0);
    }
    // Calibration: still visible after Keras' nearest resize to 150x150. At the defaults
    // (hairlines at 0.6 contrast, the other fractures displaced), over 400 images the smallest
    // change was 13 grey levels for hairlines (25 at full contrast) and 63 for the others.
    const int diff = max_abs_diff(resize(intact, 150, 150, Interpolation::nearest),
                                  resize(broken, 150, 150, Interpolation::nearest));
    CHECK(diff >= (info.subtle ? 12 : 40));
    subtle += info.subtle;
    displaced += info.displaced;
    kinds[int(info.fracture)]++;
  }
  CHECK(subtle >= n / 10);  // ~25 %
  CHECK(subtle <= n / 2);
  CHECK(displaced >= n / 10);
  CHECK(kinds[int(FractureKind::transverse)] > 0);
  CHECK(kinds[int(FractureKind::oblique)] > 0);
  CHECK(kinds[int(FractureKind::comminuted)] > 0);
}

TEST_CASE("synth: --hairline-contrast fades only the hairlines") {
  SynthParams faint, p;
  faint.hairline_contrast = 0.5;
  p.hairline_contrast = 1.0;
  int hairlines = 0;
  for (int i = 0; i < 40; ++i) {
    CAPTURE(i);
    SynthInfo info;
    const Image intact = render_radiograph(p, 5, uint64_t(i), false);
    const Image broken = render_radiograph(p, 5, uint64_t(i), true, &info);
    const Image faded = render_radiograph(faint, 5, uint64_t(i), true);
    if (!info.subtle) {
      CHECK(faded.pixels == broken.pixels);  // other fractures are untouched
      continue;
    }
    ++hairlines;
    // Same line, half as dark: closer to the intact limb, but still there. (The total change,
    // not the largest: a swelling, which the contrast leaves alone, can hold the largest.)
    CHECK(faded.pixels != intact.pixels);
    CHECK(sum_abs_diff(faded, intact) < sum_abs_diff(broken, intact));
  }
  CHECK(hairlines > 0);
  faint.hairline_contrast = 1.5;
  CHECK_THROWS_AS(render_radiograph(faint, 5, 0, true), std::invalid_argument);
}

TEST_CASE("synth: casts, swelling and limb orientation follow their fractions") {
  SynthParams p;
  // Casts are off by default (data/synth.h says why); a shortcut study switches them on.
  CHECK(p.cast_fraction == 0);
  CHECK(p.intact_cast_fraction == 0);
  p.cast_fraction = 0.3;
  p.intact_cast_fraction = 0.05;
  p.swelling_fraction = 0.6;
  int casts[2] = {0, 0}, swelling = 0, aligned = 0;
  const int n = 80;
  for (int i = 0; i < n; ++i) {
    for (bool fractured : {false, true}) {
      SynthInfo info;
      render_radiograph(p, 6, uint64_t(i), fractured, &info);
      casts[fractured] += info.cast;
      if (!fractured) continue;
      swelling += info.swelling;
      const float off_axis = std::min(std::fmod(info.limb_angle, 90.0f), 90 - std::fmod(info.limb_angle, 90.0f));
      aligned += off_axis <= 25.5f;
    }
  }
  CHECK(casts[1] >= n / 8);  // 30 % of fractured limbs
  CHECK(casts[1] <= n / 2);
  CHECK(casts[0] <= n / 6);  // 5 % of intact ones
  CHECK(swelling >= n / 3);  // 60 %
  CHECK(swelling <= 5 * n / 6);
  CHECK(aligned >= 2 * n / 3);  // 80 % aligned, plus the random ones that happen to be

  // Switched off, none; switched on, a cast covers a large part of the image.
  p.cast_fraction = p.intact_cast_fraction = p.swelling_fraction = p.aligned_fraction = 0;
  SynthParams with_cast = p;
  with_cast.cast_fraction = 1;
  int changed_images = 0;
  for (int i = 0; i < 10; ++i) {
    SynthInfo info, cast_info;
    const Image plain = render_radiograph(p, 6, uint64_t(i), true, &info);
    const Image cast = render_radiograph(with_cast, 6, uint64_t(i), true, &cast_info);
    CHECK_FALSE(info.cast);
    CHECK_FALSE(info.swelling);
    CHECK(cast_info.cast);
    size_t changed = 0;
    for (size_t k = 0; k < plain.pixels.size(); ++k) changed += std::abs(int(plain.pixels[k]) - int(cast.pixels[k])) > 20;
    changed_images += changed > plain.pixels.size() / 20;
  }
  CHECK(changed_images == 10);
}

TEST_CASE("synth: hard negatives occur in intact images") {
  const SynthParams p;
  int crossing = 0, plate = 0, canal = 0;
  for (int i = 0; i < 60; ++i) {
    SynthInfo info;
    render_radiograph(p, 4, uint64_t(i), false, &info);
    crossing += info.crossing_bones;
    plate += info.growth_plate;
    canal += info.nutrient_canal;
  }
  CHECK(crossing > 0);
  CHECK(plate > 0);
  CHECK(canal > 0);

  // Each kind has its own knob: all at 0, none; all at 1, every image has them.
  SynthParams none = p, all = p;
  none.joint_fraction = none.crossing_fraction = none.nutrient_fraction = 0;
  all.joint_fraction = all.growth_plate_fraction = all.crossing_fraction = all.nutrient_fraction = 1;
  for (int i = 0; i < 12; ++i) {
    SynthInfo a, b;
    render_radiograph(none, 4, uint64_t(i), false, &a);
    render_radiograph(all, 4, uint64_t(i), false, &b);
    CHECK_FALSE((a.joint || a.crossing_bones || a.nutrient_canal || a.growth_plate));
    CHECK((b.joint && b.crossing_bones && b.nutrient_canal && b.growth_plate));
  }
}

TEST_CASE("synth: a centred film puts the fracture near the image centre") {
  SynthParams p;
  p.centred_fraction = 1;
  SynthParams anywhere = p;
  anywhere.centred_fraction = 0;
  int near = 0, near_anyway = 0;
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    for (bool centred : {true, false}) {
      SynthInfo info;
      const Image img = render_radiograph(centred ? p : anywhere, 9, uint64_t(i), true, &info);
      const double side = std::min(img.width, img.height);
      const double off = std::hypot(info.fracture_x - 0.5 * img.width, info.fracture_y - 0.5 * img.height) / side;
      (centred ? near : near_anyway) += off <= 0.05 * std::sqrt(2.0) + 1e-3;
    }
  }
  CHECK(near == n);
  CHECK(near_anyway < n / 2);
}

TEST_CASE("synth: write_synthetic_dataset layout, balance, formats, rotated groups") {
  TempDir dir("synth_ds");
  const fs::path root = dir.path / "ds";
  SynthDatasetOptions opt;
  opt.render.min_side = 64;  // small images keep the test fast
  opt.render.max_side = 96;
  opt.rotated_fraction = 0.3;
  const std::vector<SynthFile> files = write_synthetic_dataset(root.string(), {40, 10, 0}, 11, opt);

  CHECK(files.size() == 50);
  CHECK(fs::is_directory(root / "train" / "fractured"));
  CHECK(fs::is_directory(root / "train" / "not fractured"));
  CHECK(fs::is_directory(root / "val" / "not fractured"));
  CHECK_FALSE(fs::exists(root / "test"));  // count 0: skipped
  CHECK(tree(root).size() == 50);           // nothing else (no temporaries)

  std::map<std::string, int> per_class;  // "split/class" -> count
  std::map<std::string, std::set<std::string>> formats;
  std::map<std::string, std::set<std::string>> group_places;  // group -> split/class dirs
  int rotated = 0;
  for (const SynthFile& f : files) {
    CAPTURE(f.path);
    const fs::path p(f.path);
    REQUIRE(fs::exists(p));
    const std::string cls = p.parent_path().filename().string();
    CHECK(cls == (f.fractured ? "fractured" : "not fractured"));
    CHECK(p.parent_path().parent_path().filename().string() == f.split);
    per_class[f.split + "/" + cls]++;
    formats[cls].insert(p.extension().string());
    group_places[f.group].insert(p.parent_path().string());
    const std::string stem = p.stem().string();
    CHECK(stem.substr(0, stem.find("-rotated")) == f.group);  // Kaggle's grouping rule works
    if (f.quarter_turns) {
      ++rotated;
      CHECK(stem == f.group + "-rotated" + std::to_string(f.quarter_turns));
    }
    CHECK((f.drawn.fracture != FractureKind::none) == f.fractured);  // what was drawn matches the label
    CHECK((f.drawn.fracture_x >= 0) == f.fractured);
    const Image img = decode_image(f.path, ColorMode::gray);
    CHECK(std::min(img.width, img.height) >= 64);
    CHECK(std::max(img.width, img.height) <= 96);
  }
  CHECK(per_class["train/fractured"] == 20);
  CHECK(per_class["train/not fractured"] == 20);
  CHECK(per_class["val/fractured"] == 5);
  CHECK(per_class["val/not fractured"] == 5);
  for (const std::string cls : {"fractured", "not fractured"}) {  // format is not a class shortcut
    CHECK(formats[cls].count(".jpg") == 1);
    CHECK(formats[cls].count(".png") == 1);
  }
  CHECK(rotated > 0);
  for (const auto& [group, places] : group_places) CHECK(places.size() == 1);  // copies stay together

  // Copies of one radiograph share what was drawn in it.
  std::map<std::string, const SynthFile*> base_of;
  for (const SynthFile& f : files)
    if (!f.quarter_turns) base_of[f.group] = &f;
  for (const SynthFile& f : files) {
    const SynthInfo& b = base_of.at(f.group)->drawn;
    CHECK(f.drawn.fracture == b.fracture);
    CHECK(f.drawn.fracture_x == b.fracture_x);
    CHECK(f.drawn.limb_angle == b.limb_angle);
  }

  // A rotated PNG copy is exactly the rotated base image.
  for (const SynthFile& f : files) {
    if (!f.quarter_turns || fs::path(f.path).extension() != ".png") continue;
    const fs::path base = fs::path(f.path).parent_path() / (f.group + ".png");
    CHECK(decode_image(f.path, ColorMode::rgb).pixels ==
          rotate90(decode_image(base.string(), ColorMode::rgb), f.quarter_turns).pixels);
  }
}

TEST_CASE("synth: the data set is byte-identical for a seed, different for another") {
  TempDir dir("synth_det");
  SynthDatasetOptions opt;
  opt.render.min_side = 48;
  opt.render.max_side = 64;
  write_synthetic_dataset((dir.path / "a").string(), {12, 4, 4}, 5, opt);
  write_synthetic_dataset((dir.path / "b").string(), {12, 4, 4}, 5, opt);
  write_synthetic_dataset((dir.path / "c").string(), {12, 4, 4}, 6, opt);
  const auto a = tree(dir.path / "a"), b = tree(dir.path / "b"), c = tree(dir.path / "c");
  CHECK(a.size() == 20);
  CHECK(a == b);
  CHECK(a != c);
  // Refuses to write into a non-empty directory.
  CHECK_THROWS_AS(write_synthetic_dataset((dir.path / "a").string(), {2, 0, 0}, 5, opt), std::runtime_error);
  CHECK_THROWS_AS(write_synthetic_dataset((dir.path / "d").string(), {-1, 0, 0}, 5, opt), std::invalid_argument);
}
