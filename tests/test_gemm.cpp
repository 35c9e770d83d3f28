// The packed SGEMM (layers/gemm.h) against a naive double-precision product on
// random data, with every micro-kernel this CPU runs: sizes that are not
// multiples of the tiles (6x16, 16x16) or of the cache blocks (1, 7, 17, and
// sizes that cross MC = 144, KC = 320, NC = 3072), all four
// transpose combinations, beta 0 (C full of NaN, which must not leak), 1 and 0.5,
// and row strides larger than the rows. The Eigen reference is held to the same test.
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/gemm.h"
#include "layers/gemm_kernels.h"
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

namespace {
// Restores the micro-kernel a test found (layers/gemm_kernels.h), even on failure.
struct KernelChoice {
  std::string saved = short_name(sgemm_kernel_name());
  ~KernelChoice() { set_sgemm_kernel(saved); }
  static std::string short_name(const std::string& name) {
    for (const std::string& k : sgemm_kernels_here())
      if (name.rfind(k, 0) == 0) return k;
    return sgemm_kernels_here().front();
  }
};
}  // namespace

TEST_CASE("sgemm: packed GEMM matches a double-precision product at odd sizes, with every micro-kernel here") {
  KernelChoice restore;
  for (const std::string& kernel : sgemm_kernels_here()) {
    set_sgemm_kernel(kernel);
    INFO(sgemm_kernel_name());
    check_all(Impl::ours, kSmall);
    check_all(Impl::ours, kBlocks);
    check_all(Impl::ours, kWide);
    check_all(Impl::packed, kSmall);
  }
}

// The FMA kernels (AVX-512 16x16, AVX2 6x16) compute each element as the same
// chain of FMAs over the depth, so a model trains to the same weights on either
// kind of CPU. Partial tiles (rows and columns), several depth blocks, beta 0 and 1.
TEST_CASE("sgemm: the AVX-512 and AVX2 micro-kernels give the same bits") {
  const std::vector<std::string> here = sgemm_kernels_here();
  const bool both = std::count(here.begin(), here.end(), "avx512") && std::count(here.begin(), here.end(), "avx2");
  if (!both) {
    MESSAGE("skipped: this CPU lacks AVX-512 or AVX2");
    return;
  }
  KernelChoice restore;
  uint64_t seed = 500;
  for (const Case& s : {Case{37, 45, 700}, Case{128, 112, 576}, Case{5, 17, 3}, Case{288, 64, 64}})
    for (Trans ta : {Trans::no, Trans::yes})
      for (Trans tb : {Trans::no, Trans::yes})
        for (float beta : {0.0f, 1.0f}) {
          CAPTURE(s.m);
          CAPTURE(s.n);
          const int64_t lda = ta == Trans::no ? s.k : s.m, ldb = tb == Trans::no ? s.n : s.k;
          const std::vector<float> a = random_floats(size_t(s.m * s.k), seed += 3), b = random_floats(size_t(s.k * s.n), seed + 1);
          const std::vector<float> c0 = random_floats(size_t(s.m * s.n), seed + 2);
          std::vector<float> c512 = c0, c2 = c0;
          set_sgemm_kernel("avx512");
          sgemm(ta, tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, beta, c512.data(), s.n);
          set_sgemm_kernel("avx2");
          sgemm(ta, tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, beta, c2.data(), s.n);
          CHECK(std::memcmp(c512.data(), c2.data(), c2.size() * sizeof(float)) == 0);
        }
}

TEST_CASE("sgemm: an empty PackedA multiplies to an empty product") {
  const PackedA never_packed;
  std::vector<float> b(4, 1.0f), c(1, 7.0f);
  sgemm_packed(never_packed, Trans::no, 4, b.data(), 4, 0.0f, c.data(), 4);  // 0 rows: nothing written
  CHECK(c[0] == 7.0f);
}

TEST_CASE("sgemm: a kernel this CPU cannot run, or an unknown one, is refused by name") {
  KernelChoice restore;
  std::string all;
  for (const std::string& k : sgemm_kernels_here()) all += k + " ";
  CHECK(all.find("portable") != std::string::npos);  // always here
  CHECK_THROWS_WITH_AS(set_sgemm_kernel("avx1024"), doctest::Contains("this CPU runs: "), std::invalid_argument);
}

TEST_CASE("sgemm: weights packed for one kernel still multiply right after the kernel changes") {
  KernelChoice restore;
  const std::vector<float> a = random_floats(40 * 30, 21), b = random_floats(30 * 9, 22);
  std::vector<float> c(40 * 9), ref(40 * 9);
  sgemm_eigen(Trans::no, Trans::no, 40, 9, 30, a.data(), 30, b.data(), 9, 0.0f, ref.data(), 9);
  for (const std::string& first : sgemm_kernels_here())
    for (const std::string& then : sgemm_kernels_here()) {
      set_sgemm_kernel(first);
      PackedA pa;
      pa.pack(Trans::no, 40, 30, a.data(), 30);
      set_sgemm_kernel(then);
      sgemm_packed(pa, Trans::no, 9, b.data(), 9, 0.0f, c.data(), 9);
      for (size_t i = 0; i < c.size(); ++i) CHECK(c[i] == doctest::Approx(ref[i]).epsilon(1e-5));
    }
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

TEST_CASE("conv2d: the AVX-512 and AVX2 micro-kernels give the same bits (forward, backward-data, backward-filter)") {
  const std::vector<std::string> here = sgemm_kernels_here();
  if (!std::count(here.begin(), here.end(), "avx512") || !std::count(here.begin(), here.end(), "avx2")) {
    MESSAGE("skipped: this CPU lacks AVX-512 or AVX2");
    return;
  }
  GemmChoice restore_gemm;
  KernelChoice restore_kernel;
  // patch 360 (two depth blocks) and 144: backward-filter on our GEMM too.
  for (const Conv2dGeom& g : {Conv2dGeom::make(40, 8, 9, 20, 3, 3, 1, Padding::same),
                              Conv2dGeom::make(16, 12, 11, 33, 3, 3, 1, Padding::valid)}) {
    set_sgemm_kernel("avx512");
    const ConvResult wide = run_conv(ConvGemm::packed, g, 3, 41);
    set_sgemm_kernel("avx2");
    const ConvResult narrow = run_conv(ConvGemm::packed, g, 3, 41);
    CHECK(wide.y == narrow.y);
    CHECK(wide.dx == narrow.dx);
    CHECK(wide.dw == narrow.dw);
    CHECK(wide.db == narrow.db);
  }
}
