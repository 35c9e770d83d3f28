// The packed SGEMM (layers/gemm.h) against a naive double-precision product on
// random data: sizes that are not multiples of the 6x16 tile or of the cache
// blocks (1, 7, 17, and sizes that cross MC = 144, KC = 320, NC = 3072), all four
// transpose combinations, beta 0 (C full of NaN, which must not leak), 1 and 0.5,
// and row strides larger than the rows. The Eigen reference is held to the same test.
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "layers/conv2d.h"
#include "layers/gemm.h"
#include "tests/gradcheck.h"

using namespace radius;
using radius::test::random_floats;

namespace {

struct Case {
  int64_t m, n, k;
};

// op(X)(i, p) of a row-major X with row stride ld.
double at(Trans t, const std::vector<float>& x, int64_t ld, int64_t i, int64_t p) {
  return t == Trans::no ? x[size_t(i * ld + p)] : x[size_t(p * ld + i)];
}

enum class Impl { ours, packed, eigen };

void check(Impl impl, Trans ta, Trans tb, const Case& s, float beta, uint64_t seed) {
  // Stored shapes, with 3 spare columns per row so the strides matter.
  const int64_t a_rows = ta == Trans::no ? s.m : s.k, a_cols = ta == Trans::no ? s.k : s.m;
  const int64_t b_rows = tb == Trans::no ? s.k : s.n, b_cols = tb == Trans::no ? s.n : s.k;
  const int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = s.n + 3;
  const std::vector<float> a = random_floats(size_t(a_rows * lda), seed);
  const std::vector<float> b = random_floats(size_t(b_rows * ldb), seed + 1);
  std::vector<float> c = random_floats(size_t(s.m * ldc), seed + 2);
  if (beta == 0.0f)
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) c[size_t(i * ldc + j)] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> c0 = c;

  if (impl == Impl::ours) sgemm(ta, tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  if (impl == Impl::eigen) sgemm_eigen(ta, tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  if (impl == Impl::packed) {
    PackedA pa;
    pa.pack(ta, s.m, s.k, a.data(), lda);
    sgemm_packed(pa, tb, s.n, b.data(), ldb, beta, c.data(), ldc);
  }

  int64_t bad = 0;
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double sum = 0, magnitude = 0;
      for (int64_t p = 0; p < s.k; ++p) {
        const double prod = at(ta, a, lda, i, p) * at(tb, b, ldb, p, j);
        sum += prod, magnitude += std::abs(prod);
      }
      const double old = beta == 0.0f ? 0.0 : double(c0[size_t(i * ldc + j)]);
      const double want = double(beta) * old + sum;
      const double tol = 2.0 * double(s.k + 2) * FLT_EPSILON * (magnitude + std::abs(beta * old)) + 1e-6;
      const double got = c[size_t(i * ldc + j)];
      if (!(std::abs(got - want) <= tol)) ++bad;  // NaN counts as bad
    }
  CHECK(bad == 0);
  // The spare columns of C are never written.
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = s.n; j < ldc; ++j) REQUIRE(c[size_t(i * ldc + j)] == c0[size_t(i * ldc + j)]);
}

void check_all(Impl impl, const std::vector<Case>& cases) {
  uint64_t seed = 100;
  for (const Case& s : cases)
    for (Trans ta : {Trans::no, Trans::yes})
      for (Trans tb : {Trans::no, Trans::yes})
        for (float beta : {0.0f, 1.0f, 0.5f}) {
          CAPTURE(s.m);
          CAPTURE(s.n);
          CAPTURE(s.k);
          CAPTURE(int(ta));
          CAPTURE(int(tb));
          CAPTURE(beta);
          check(impl, ta, tb, s, beta, seed += 3);
        }
}

// Odd sizes around the 6x16 tile, and sizes crossing MC = 144 and KC = 320 (2 and 3 depth blocks).
const std::vector<Case> kSmall = {{1, 1, 1},   {1, 7, 17},  {7, 1, 17},  {17, 17, 1}, {7, 17, 7},
                                  {6, 16, 5},  {12, 32, 9}, {13, 33, 27}, {5, 15, 0}, {0, 4, 3}};
const std::vector<Case> kBlocks = {{150, 35, 300}, {31, 70, 513}, {9, 20, 700}};
const std::vector<Case> kWide = {{7, 3100, 5}};  // crosses NC = 3072

}  // namespace

TEST_CASE("sgemm: packed GEMM matches a double-precision product at odd sizes") {
  INFO(sgemm_kernel_name());
  check_all(Impl::ours, kSmall);
  check_all(Impl::ours, kBlocks);
  check_all(Impl::ours, kWide);
}

TEST_CASE("sgemm: pre-packed A matches a double-precision product, and repacking reuses the buffer") {
  check_all(Impl::packed, kSmall);
  check_all(Impl::packed, kBlocks);
  // One PackedA packed twice (smaller second): the second product sees only the second matrix.
  const std::vector<float> a1 = random_floats(40 * 300, 1), a2 = random_floats(7 * 9, 2), b = random_floats(9 * 5, 3);
  PackedA pa;
  pa.pack(Trans::no, 40, 300, a1.data(), 300);
  pa.pack(Trans::no, 7, 9, a2.data(), 9);
  std::vector<float> c(7 * 5), ref(7 * 5);
  sgemm_packed(pa, Trans::no, 5, b.data(), 5, 0.0f, c.data(), 5);
  sgemm_eigen(Trans::no, Trans::no, 7, 5, 9, a2.data(), 9, b.data(), 5, 0.0f, ref.data(), 5);
  for (size_t i = 0; i < c.size(); ++i) CHECK(c[i] == doctest::Approx(ref[i]).epsilon(1e-5));
}

TEST_CASE("sgemm: the Eigen reference passes the same test") {
  check_all(Impl::eigen, kSmall);
  check_all(Impl::eigen, kBlocks);
}

// ---- the convolutions on our GEMM against the same convolutions on Eigen's ----

namespace {
// Restores the process-wide GEMM choice when the test ends, even on failure.
struct GemmChoice {
  ConvGemm saved = conv2d_gemm();
  ~GemmChoice() { set_conv2d_gemm(saved); }
};

struct ConvResult {
  std::vector<float> y, dx, dw, db;
};

ConvResult run_conv(ConvGemm which, const Conv2dGeom& g, int64_t n, uint64_t seed) {
  set_conv2d_gemm(which);
  const std::vector<float> x = random_floats(size_t(n * g.c * g.h * g.w), seed);
  const std::vector<float> w = random_floats(size_t(g.k * g.patch()), seed + 1);
  const std::vector<float> b = random_floats(size_t(g.k), seed + 2);
  const std::vector<float> dy = random_floats(size_t(n * g.k * g.pixels()), seed + 3);
  ConvResult r{std::vector<float>(dy.size()), std::vector<float>(x.size()), random_floats(w.size(), seed + 4),
               random_floats(b.size(), seed + 5)};  // dw, db start non-zero: the gradients accumulate
  conv2d_forward(g, n, x.data(), w.data(), b.data(), r.y.data());
  conv2d_backward(g, n, x.data(), w.data(), dy.data(), r.dx.data(), r.dw.data(), r.db.data());
  return r;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::abs(got[i] - want[i])));
  CHECK(worst <= tol);
}
}  // namespace

TEST_CASE("conv2d: the packed-GEMM path matches the Eigen path (forward, backward-data, backward-filter)") {
  GemmChoice restore;
  const Conv2dGeom geoms[] = {
      Conv2dGeom::make(3, 11, 13, 5, 3, 3, 1, Padding::valid),
      Conv2dGeom::make(12, 9, 10, 7, 3, 2, 2, Padding::same),  // patch 72: backward-filter on ours too
      Conv2dGeom::make(40, 8, 9, 20, 3, 3, 1, Padding::same),  // patch 360: two depth blocks
  };
  uint64_t seed = 7;
  for (const Conv2dGeom& g : geoms) {
    CAPTURE(g.patch());
    const ConvResult ours = run_conv(ConvGemm::packed, g, 3, seed), ref = run_conv(ConvGemm::eigen, g, 3, seed);
    // Sums of up to a few hundred products of values in [-1, 1]: float rounding ~1e-5.
    check_close(ours.y, ref.y, 1e-4);
    check_close(ours.dx, ref.dx, 1e-4);
    check_close(ours.dw, ref.dw, 1e-3);  // summed over 3 images x all pixels
    check_close(ours.db, ref.db, 1e-4);
    seed += 10;
  }
}
