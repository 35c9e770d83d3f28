// Deterministic reductions (kernels/moments.h, tensor/moments.h) and their users:
// gradient clipping (optim/clip) and the activation statistics of the health monitor.
// The CPU tests pin the arithmetic and the merge logic; the cuda: tests compare the
// device reduction with the CPU one (skipped without a GPU).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "net/activation_stats.h"
#include "optim/clip.h"
#include "tensor/moments.h"
#include "tensor/rng.h"
#include "tests/cuda_util.h"

using namespace radius;

namespace {

// Uniform values in [lo, hi) with every 7th exactly 0 (ReLU-like zeros to count).
std::vector<float> values(size_t n, uint64_t seed, float lo, float hi) {
  std::vector<float> v = test::random_floats(n, seed, lo, hi);
  for (size_t i = 0; i < n; i += 7) v[i] = 0.0f;
  return v;
}

struct Reference {  // two passes in double, straight from the definitions
  double mean = 0, variance = 0, sum_sq = 0, min = INFINITY, max = -INFINITY;
  int64_t zeros = 0, positives = 0;
};
Reference reference(const std::vector<float>& v) {
  Reference r;
  for (float x : v) {
    r.mean += x;
    r.sum_sq += double(x) * double(x);
    r.min = std::min(r.min, double(x));
    r.max = std::max(r.max, double(x));
    r.zeros += x == 0.0f;
    r.positives += x > 0.0f;
  }
  r.mean /= double(v.size());
  for (float x : v) r.variance += (x - r.mean) * (x - r.mean);
  r.variance /= double(v.size());
  return r;
}

void check_close(const Moments& m, const Reference& r, int64_t n, double tol) {
  CHECK(m.count == n);
  CHECK(m.mean == doctest::Approx(r.mean).epsilon(tol));
  CHECK(m.variance() == doctest::Approx(r.variance).epsilon(tol));
  CHECK(m.sum_sq == doctest::Approx(r.sum_sq).epsilon(tol));
  CHECK(m.min == r.min);
  CHECK(m.max == r.max);
  CHECK(m.zeros == r.zeros);
  CHECK(m.positives == r.positives);
  CHECK(m.nonfinite == 0);
}

void check_same_stats(const ActivationStats& a, const ActivationStats& b, double tol) {
  CHECK(a.mean == doctest::Approx(b.mean).epsilon(tol));
  CHECK(a.std == doctest::Approx(b.std).epsilon(tol));
  CHECK(a.min == b.min);
  CHECK(a.max == b.max);
  CHECK(a.zero_fraction == b.zero_fraction);
  CHECK(a.channels == b.channels);
  CHECK(a.dead_channels == b.dead_channels);
  CHECK(a.alive == b.alive);
  CHECK(a.finite == b.finite);
}

// [n, c, hw] with ReLU-like zeros and channel 1 dead (all zero).
Tensor relu_like(int64_t n, int64_t c, int64_t hw, uint64_t seed) {
  std::vector<float> v = values(size_t(n * c * hw), seed, -1.0f, 3.0f);
  for (float& x : v) x = std::max(x, 0.0f);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < hw; ++k) v[size_t((b * c + 1) * hw + k)] = 0.0f;
  return Tensor::from_vector(Shape{n, c, hw}, v);
}

}  // namespace

TEST_CASE("moments: push and merge give the two-pass statistics, stable at a large mean") {
  const int64_t n = 3 * kMomentsChunk + 123;  // three full rows and a tail
  for (float offset : {0.0f, 1000.0f}) {       // at mean 1000, E[x^2] - mean^2 would lose ~6 digits
    const std::vector<float> v = values(size_t(n), 5, offset - 1.0f, offset + 1.0f);
    const Moments m = tensor_moments(Tensor::from_vector(Shape{n}, v));
    CAPTURE(offset);
    check_close(m, reference(v), n, 1e-10);
  }
}

TEST_CASE("moments: rows, x - y, non-finite values, bad shapes") {
  const std::vector<float> a = values(60, 1, -2.0f, 2.0f), b = values(60, 2, -1.0f, 1.0f);
  const Tensor x = Tensor::from_vector(Shape{4, 15}, a), y = Tensor::from_vector(Shape{4, 15}, b);
  const std::vector<Moments> rows = row_moments(x, 4, &y);
  REQUIRE(rows.size() == 4);
  for (size_t r = 0; r < 4; ++r) {
    std::vector<float> diff;
    for (size_t i = 0; i < 15; ++i) diff.push_back(float(double(a[r * 15 + i]) - double(b[r * 15 + i])));
    const Reference ref = reference(diff);
    CHECK(rows[r].count == 15);
    CHECK(rows[r].mean == doctest::Approx(ref.mean).epsilon(1e-6));  // diff rounded to float above
    CHECK(rows[r].sum_sq == doctest::Approx(ref.sum_sq).epsilon(1e-6));
  }
  std::vector<float> bad = a;
  bad[3] = std::numeric_limits<float>::quiet_NaN();
  bad[40] = std::numeric_limits<float>::infinity();
  const Moments m = tensor_moments(Tensor::from_vector(Shape{60}, bad));
  CHECK(m.nonfinite == 2);
  CHECK(std::isfinite(m.min));  // NaN skipped by min/max
  CHECK_THROWS_AS(row_moments(x, 7), std::invalid_argument);
  const Tensor other = Tensor::from_vector(Shape{60}, b);
  CHECK_THROWS_AS(tensor_moments(x, &other), std::invalid_argument);
}

TEST_CASE("moments: activation_stats from per-unit rows equals the two-pass CPU statistics") {
  for (const Tensor& a : {relu_like(3, 5, 17, 9), Tensor::from_vector(Shape{4, 6}, values(24, 3, -1.0f, 1.0f))}) {
    CAPTURE(a.shape().str());
    check_same_stats(activation_stats_by_rows(a), activation_stats(a), 1e-12);
  }
  const ActivationStats s = activation_stats_by_rows(relu_like(3, 5, 17, 9));
  CHECK(s.dead_channels >= 1);
  CHECK(s.alive[1] == 0);
}

TEST_CASE("cuda: moments on the device match the CPU, every row written, deterministic") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const bool small = test::small_tests();
  for (int64_t n : {int64_t(1), int64_t(255), int64_t(257), small ? int64_t(5000) : 3 * kMomentsChunk + 999}) {
    const std::vector<float> a = values(size_t(n), 11, -1.0f, 2.0f), b = values(size_t(n), 12, -1.0f, 1.0f);
    const Tensor x = Tensor::from_vector(Shape{n}, a), y = Tensor::from_vector(Shape{n}, b);
    const Tensor xd = x.to(Device::cuda), yd = y.to(Device::cuda);
    CAPTURE(n);
    for (const Tensor* yy : {static_cast<const Tensor*>(nullptr), &y}) {
      const Moments want = tensor_moments(x, yy);
      const Moments got = tensor_moments(xd, yy ? &yd : nullptr);
      CHECK(got.count == want.count);  // -1 if a row was never written (the launcher poisons)
      CHECK(got.mean == doctest::Approx(want.mean).epsilon(1e-9));
      CHECK(got.m2 == doctest::Approx(want.m2).epsilon(1e-9));
      CHECK(got.sum_sq == doctest::Approx(want.sum_sq).epsilon(1e-9));
      CHECK(got.min == want.min);
      CHECK(got.max == want.max);
      CHECK(got.zeros == want.zeros);
      CHECK(got.positives == want.positives);
      const Moments again = tensor_moments(xd, yy ? &yd : nullptr);
      CHECK(again.mean == got.mean);  // bit for bit: fixed order
      CHECK(again.m2 == got.m2);
      CHECK(again.sum_sq == got.sum_sq);
    }
  }
  // Many short rows (a dense layer's [N, units]): one block loops over several rows.
  const int64_t rows = small ? 300 : 20000;
  const Tensor r = Tensor::from_vector(Shape{rows, 3}, values(size_t(rows * 3), 13, -1.0f, 1.0f));
  const std::vector<Moments> want = row_moments(r, rows), got = row_moments(r.to(Device::cuda), rows);
  bool all_written = true, all_close = true;
  for (size_t k = 0; k < want.size(); ++k) {
    all_written &= got[k].count == 3;
    all_close &= std::abs(got[k].sum_sq - want[k].sum_sq) <= 1e-12 * (1 + want[k].sum_sq);
  }
  CHECK(all_written);
  CHECK(all_close);
}

TEST_CASE("cuda: activation statistics and gradient clipping reduce on the device like the CPU") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const bool small = test::small_tests();
  const Tensor a = relu_like(small ? 2 : 8, 6, small ? 100 : 148 * 148 / 4, 21);
  check_same_stats(activation_stats(a.to(Device::cuda)), activation_stats(a), 1e-9);

  const int64_t n = small ? 10000 : 3453121;  // the paper model's parameter count
  const Tensor g = Tensor::from_vector(Shape{n}, values(size_t(n), 22, -0.01f, 0.01f));
  Tensor gd = g.to(Device::cuda);
  const double norm = global_norm(g);
  CHECK(global_norm(gd) == doctest::Approx(norm).epsilon(1e-9));
  Tensor gc = g.clone();
  clip_grad_norm(gc, 0.5 * norm);
  CHECK(clip_grad_norm(gd, 0.5 * norm) == doctest::Approx(norm).epsilon(1e-9));
  CHECK(test::rel_error(gc, gd) <= 1e-6);
  CHECK(global_norm(gd) == doctest::Approx(0.5 * norm).epsilon(1e-5));
}
