#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "data/augment.h"

using namespace radius;

namespace {

// The same pattern as test_image() in scripts/make_augment_golden.py: HWC uint8.
std::vector<uint8_t> test_image(int h, int w, int c) {
  std::vector<uint8_t> img(size_t(h) * w * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch)
        img[(size_t(y) * w + x) * c + ch] =
            uint8_t((3 * x * x + 5 * y * y + 7 * x * y + 13 * x + 17 * y + 31 * ch) % 256);
  return img;
}

std::string golden_dir() { return std::string(RADIUS_SOURCE_DIR) + "/tests/golden/augment/"; }

std::vector<float> read_f32(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "missing golden file " << path);
  std::vector<float> v(n);
  in.read(reinterpret_cast<char*>(v.data()), std::streamsize(n * sizeof(float)));
  REQUIRE(size_t(in.gcount()) == n * sizeof(float));
  return v;
}

std::vector<float> warp(const AffineParams& p, const std::vector<uint8_t>& img, int h, int w, int c,
                        float rescale = 1.0f) {
  std::vector<float> out(img.size());
  apply_affine(p, img.data(), h, w, c, out.data(), rescale);
  return out;
}

}  // namespace

TEST_CASE("augment: matches Keras/SciPy golden outputs") {
  std::ifstream in(golden_dir() + "cases.json");
  REQUIRE_MESSAGE(in, "missing tests/golden/augment/cases.json (scripts/make_augment_golden.py)");
  const auto index = nlohmann::json::parse(in);
  REQUIRE(index["cases"].size() >= 6);
  for (const auto& cs : index["cases"]) {
    const std::string name = cs["name"];
    const int h = cs["h"], w = cs["w"], c = cs["c"];
    const auto& jp = cs["params"];
    const AffineParams p{jp["theta"].get<float>(), jp["tx"].get<float>(),  jp["ty"].get<float>(),
                         jp["shear"].get<float>(), jp["zx"].get<float>(),  jp["zy"].get<float>(),
                         jp["flip_h"].get<bool>(), jp["flip_v"].get<bool>()};
    CAPTURE(name);

    const auto m = affine_matrix(p, h, w);
    for (int k = 0; k < 6; ++k) CHECK(m[k] == doctest::Approx(cs["matrix"][k].get<double>()).epsilon(1e-12));

    const auto golden = read_f32(golden_dir() + cs["file"].get<std::string>(), size_t(h) * w * c);  // HWC
    const auto ours = warp(p, test_image(h, w, c), h, w, c);                                           // CHW
    double max_err = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int ch = 0; ch < c; ++ch)
          max_err = std::max(max_err, std::abs(double(ours[(size_t(ch) * h + y) * w + x]) -
                                               golden[(size_t(y) * w + x) * c + ch]));
    MESSAGE(name << ": max |ours - keras| = " << max_err);
    CHECK(max_err <= 1e-4);
  }
}

TEST_CASE("augment: identity parameters copy the image exactly, times rescale") {
  const int h = 19, w = 23, c = 3;
  const auto img = test_image(h, w, c);
  const auto out = warp(AffineParams{}, img, h, w, c, 1.0f / 255.0f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch)
        REQUIRE(out[(size_t(ch) * h + y) * w + x] == float(img[(size_t(y) * w + x) * c + ch]) * (1.0f / 255.0f));
}

TEST_CASE("augment: 90-degree rotation and flips move pixels as documented") {
  // Square, odd size: the centre (2, 2) is a pixel, and a 90-degree turn maps the grid onto itself.
  const int n = 5;
  std::vector<uint8_t> img(n * n);
  for (int i = 0; i < n * n; ++i) img[i] = uint8_t(i);
  AffineParams p;
  p.theta_deg = 90;
  const auto out = warp(p, img, n, n, 1);
  // Pull map: out(i, j) = in(o + R·((i, j) - o)) with R(90) = [[0, -1], [1, 0]] -> in(n-1-j, i).
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) CHECK(std::abs(out[i * n + j] - img[(n - 1 - j) * n + i]) < 1e-4f);
  // So the left column goes to the top row: on screen (row axis down) this is a clockwise turn.
  CHECK(std::abs(out[0 * n + 2] - img[2 * n + 0]) < 1e-4f);

  p = AffineParams{};
  p.flip_h = true;
  const auto fh = warp(p, img, n, n, 1);
  p.flip_h = false;
  p.flip_v = true;
  const auto fv = warp(p, img, n, n, 1);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      CHECK(fh[i * n + j] == img[i * n + (n - 1 - j)]);
      CHECK(fv[i * n + j] == img[(n - 1 - i) * n + j]);
    }
}

TEST_CASE("augment: draw_params is a pure function of (seed, epoch, image index)") {
  const auto cfg = AugmentConfig::paper();
  const auto same = [](const AffineParams& a, const AffineParams& b) {
    return std::memcmp(&a.theta_deg, &b.theta_deg, 6 * sizeof(float)) == 0 && a.flip_h == b.flip_h &&
           a.flip_v == b.flip_v;
  };
  const auto a = draw_params(cfg, 150, 150, 42, 3, 17);
  CHECK(same(a, draw_params(cfg, 150, 150, 42, 3, 17)));
  CHECK(!same(a, draw_params(cfg, 150, 150, 42, 3, 18)));
  CHECK(!same(a, draw_params(cfg, 150, 150, 42, 4, 17)));
  CHECK(!same(a, draw_params(cfg, 150, 150, 43, 3, 17)));

  // Fixed Philox words per draw: switching rotation off leaves every other draw unchanged.
  auto no_rot = cfg;
  no_rot.rotation_range = 0;
  const auto b = draw_params(no_rot, 150, 150, 42, 3, 17);
  CHECK(b.theta_deg == 0);
  CHECK(b.tx == a.tx);
  CHECK(b.zy == a.zy);
  CHECK(b.flip_h == a.flip_h);
  CHECK_THROWS_AS(draw_params(cfg, 150, 150, 42, uint64_t(1) << 40, 0), std::invalid_argument);
}

TEST_CASE("augment: strength scales each drawn warp toward the identity, with the same draws and flips") {
  const AugmentConfig full = AugmentConfig::paper();
  for (uint64_t image : {0, 5, 17}) {
    CAPTURE(image);
    const AffineParams a = draw_params(full, 150, 120, 42, 3, image);
    for (float s : {0.0f, 0.25f, 0.5f}) {
      CAPTURE(s);
      AugmentConfig weak = full;
      weak.strength = s;
      const AffineParams b = draw_params(weak, 150, 120, 42, 3, image);
      CHECK(b.theta_deg == doctest::Approx(s * a.theta_deg));
      CHECK(b.tx == doctest::Approx(s * a.tx));
      CHECK(b.ty == doctest::Approx(s * a.ty));
      CHECK(b.shear_deg == doctest::Approx(s * a.shear_deg));
      CHECK(b.zx - 1 == doctest::Approx(s * (a.zx - 1)));
      CHECK(b.zy - 1 == doctest::Approx(s * (a.zy - 1)));
      CHECK(b.flip_h == a.flip_h);
    }
  }
  // Strength 0 is the identity warp: the image comes back, flipped or not.
  AugmentConfig none = full;
  none.strength = 0;
  none.horizontal_flip = false;
  const std::vector<uint8_t> img = test_image(12, 10, 3);
  Tensor got = Tensor::empty({1, 3, 12, 10}), want = Tensor::empty({1, 3, 12, 10});
  augment_into(none, img.data(), 12, 10, 3, 42, 0, 7, got, 0);
  augment_into(AugmentConfig::none(), img.data(), 12, 10, 3, 42, 0, 7, want, 0);
  CHECK(got.to_vector() == want.to_vector());
  none.strength = 1.5f;
  CHECK_THROWS_AS(draw_params(none, 12, 10, 42, 0, 7), std::invalid_argument);
}

TEST_CASE("augment: augment_strength grows linearly to 1 over the warmup epochs") {
  CHECK(augment_strength(0, 0) == 1.0f);  // no warmup: full from the start
  CHECK(augment_strength(4, 0) == 0.0f);
  CHECK(augment_strength(4, 1) == 0.25f);
  CHECK(augment_strength(4, 3) == 0.75f);
  CHECK(augment_strength(4, 4) == 1.0f);
  CHECK(augment_strength(4, 400) == 1.0f);
  CHECK_THROWS_AS(augment_strength(-1, 0), std::invalid_argument);
}

TEST_CASE("augment: parameter distribution respects the configured ranges") {
  AugmentConfig cfg = AugmentConfig::paper();
  cfg.vertical_flip = true;
  const int h = 120, w = 160, draws = 20000;
  int flips_h = 0, flips_v = 0;
  double sum_theta = 0, min_zx = 9, max_zx = 0, max_tx = 0, max_ty = 0, max_theta = 0;
  for (int k = 0; k < draws; ++k) {
    const auto p = draw_params(cfg, h, w, 7, 0, uint64_t(k));
    REQUIRE(std::abs(p.theta_deg) <= 40.0f);
    REQUIRE(std::abs(p.tx) <= 0.2f * h);  // rows: height_shift * H
    REQUIRE(std::abs(p.ty) <= 0.2f * w);  // cols: width_shift * W
    REQUIRE(std::abs(p.shear_deg) <= 0.2f);
    REQUIRE((p.zx >= 0.8f && p.zx <= 1.2f && p.zy >= 0.8f && p.zy <= 1.2f));
    REQUIRE(p.zx != p.zy);  // two independent draws
    flips_h += p.flip_h;
    flips_v += p.flip_v;
    sum_theta += p.theta_deg;
    max_theta = std::max(max_theta, double(std::abs(p.theta_deg)));
    max_tx = std::max(max_tx, double(std::abs(p.tx)));
    max_ty = std::max(max_ty, double(std::abs(p.ty)));
    min_zx = std::min(min_zx, double(p.zx));
    max_zx = std::max(max_zx, double(p.zx));
  }
  // Flips ~ Bernoulli(0.5): 5 sigma is 0.0177 for 20000 draws.
  CHECK(std::abs(flips_h / double(draws) - 0.5) < 0.0177);
  CHECK(std::abs(flips_v / double(draws) - 0.5) < 0.0177);
  CHECK(std::abs(sum_theta / draws) < 1.0);  // mean 0, sd of the mean ~0.16
  // The ranges are filled, not just respected (and tx scales with H, ty with W).
  CHECK(max_theta > 39.5);
  CHECK(max_tx > 0.19 * h);
  CHECK(max_ty > 0.19 * w);
  CHECK(min_zx < 0.81);
  CHECK(max_zx > 1.19);

  // Everything off: identity parameters.
  const auto none = AugmentConfig::none();
  CHECK(none.rescale == doctest::Approx(1.0 / 255));
  for (int k = 0; k < 100; ++k) {
    const auto p = draw_params(none, h, w, 7, 0, uint64_t(k));
    REQUIRE((p.theta_deg == 0 && p.tx == 0 && p.ty == 0 && p.shear_deg == 0 && p.zx == 1 && p.zy == 1));
    REQUIRE((!p.flip_h && !p.flip_v));
  }
}

TEST_CASE("augment: a batch is bitwise independent of the OpenMP thread count") {
  const int h = 41, w = 37, c = 3, n = 9;
  std::vector<std::vector<uint8_t>> images;
  std::vector<const uint8_t*> ptrs;
  std::vector<uint64_t> indices;
  for (int k = 0; k < n; ++k) {
    auto img = test_image(h, w, c);
    for (auto& v : img) v = uint8_t(v + 29 * k);  // each image different
    images.push_back(std::move(img));
    indices.push_back(uint64_t(1000 + 3 * k));
  }
  for (const auto& img : images) ptrs.push_back(img.data());

  const auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor batch = Tensor::zeros({n, c, h, w});
    augment_batch(AugmentConfig::paper(), ptrs, indices, h, w, c, 5, 2, batch);
    omp_set_num_threads(saved);
    return batch.to_vector();
  };
  const auto one = run(1), two = run(2);
  REQUIRE(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);

  // And each slot equals augment_into on its own.
  Tensor single = Tensor::zeros({n, c, h, w});
  augment_into(AugmentConfig::paper(), ptrs[4], h, w, c, 5, 2, indices[4], single, 4);
  const auto s = single.to_vector();
  const size_t per = size_t(c) * h * w;
  CHECK(std::memcmp(s.data() + 4 * per, one.data() + 4 * per, per * sizeof(float)) == 0);
  CHECK_THROWS_AS(augment_into(AugmentConfig::paper(), ptrs[0], h, w, c, 5, 2, 0, single, n), std::out_of_range);
}

TEST_CASE("augment: write_augment_grid writes a PNG") {
  const int h = 32, w = 48, c = 3;
  const auto img = test_image(h, w, c);
  const std::string path = "augment_grid_test.png";  // the test's working directory (build dir)
  write_augment_grid(img.data(), h, w, c, AugmentConfig::paper(), 5, 1, path);
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  char magic[8] = {};
  in.read(magic, 8);
  CHECK(std::memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0);
  in.close();
  std::remove(path.c_str());
  CHECK_THROWS_AS(write_augment_grid(img.data(), h, w, 2, AugmentConfig::paper(), 5, 1, path),
                  std::invalid_argument);
}
