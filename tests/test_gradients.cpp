// Gradient checks in double for every layer and the loss (see gradcheck.h).
#include <doctest/doctest.h>

#include "layers/activations.h"
#include "layers/bce.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/pool2d.h"
#include "tests/gradcheck.h"

using namespace radius;
using namespace radius::test;
using Vec = std::vector<double>;

namespace {

struct ConvCase {
  int64_t n, c, h, w, k, kh, kw, stride;
  Padding padding;
};

void check_conv(const ConvCase& cc, uint64_t seed) {
  const Conv2dGeom g = Conv2dGeom::make(cc.c, cc.h, cc.w, cc.k, cc.kh, cc.kw, cc.stride, cc.padding);
  Vec x = random_vector(size_t(cc.n * cc.c * cc.h * cc.w), seed);
  Vec w = random_vector(size_t(g.k * g.patch()), seed + 1);
  Vec b = random_vector(size_t(g.k), seed + 2);
  const Vec r = random_vector(size_t(cc.n * g.k * g.pixels()), seed + 3);
  Vec y(r.size());
  auto loss = [&] {
    conv2d_forward(g, cc.n, x.data(), w.data(), b.data(), y.data());
    return dot(r, y);
  };
  // Analytic: dy = r. Gradients accumulate, so start them at zero.
  Vec dx(x.size()), dw(w.size(), 0.0), db(b.size(), 0.0);
  conv2d_backward(g, cc.n, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
  CHECK(max_error(dx, numeric_gradient(x, loss)) < kGradTolerance);
  CHECK(max_error(dw, numeric_gradient(w, loss)) < kGradTolerance);
  CHECK(max_error(db, numeric_gradient(b, loss)) < kGradTolerance);
}

}  // namespace

TEST_CASE("gradient: conv2d valid, odd sizes, batch 2") { check_conv({2, 3, 7, 6, 4, 3, 3, 1, Padding::valid}, 10); }
TEST_CASE("gradient: conv2d same, stride 2, non-square kernel") {
  check_conv({3, 2, 9, 8, 3, 3, 2, 2, Padding::same}, 20);
}
TEST_CASE("gradient: conv2d valid, stride 2, odd input") { check_conv({2, 2, 7, 9, 2, 3, 3, 2, Padding::valid}, 30); }
TEST_CASE("gradient: conv2d same, stride 1, even kernel (asymmetric padding)") {
  check_conv({2, 2, 6, 5, 2, 2, 4, 1, Padding::same}, 40);
}

TEST_CASE("conv2d same padding follows TensorFlow's rule") {
  const Conv2dGeom g = Conv2dGeom::make(1, 6, 5, 1, 2, 4, 1, Padding::same);
  CHECK(g.oh == 6);
  CHECK(g.ow == 5);
  CHECK(g.pad_top == 0);   // total 1: the extra row goes to the bottom
  CHECK(g.pad_left == 1);  // total 3: 1 left, 2 right
  const Conv2dGeom s2 = Conv2dGeom::make(1, 7, 7, 1, 3, 3, 2, Padding::same);
  CHECK(s2.oh == 4);  // ceil(7 / 2)
}

TEST_CASE("gradient: dense, batch 3") {
  const int64_t n = 3, in = 7, out = 5;
  Vec x = random_vector(n * in, 1), w = random_vector(out * in, 2), b = random_vector(out, 3);
  const Vec r = random_vector(n * out, 4);
  Vec y(n * out);
  auto loss = [&] {
    dense_forward(n, in, out, x.data(), w.data(), b.data(), y.data());
    return dot(r, y);
  };
  Vec dx(x.size()), dw(w.size(), 0.0), db(b.size(), 0.0);
  dense_backward(n, in, out, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
  CHECK(max_error(dx, numeric_gradient(x, loss)) < kGradTolerance);
  CHECK(max_error(dw, numeric_gradient(w, loss)) < kGradTolerance);
  CHECK(max_error(db, numeric_gradient(b, loss)) < kGradTolerance);
}

namespace {
void check_pool(PoolKind kind, int64_t n, int64_t c, int64_t h, int64_t w, int64_t p, int64_t stride, uint64_t seed) {
  const Pool2dGeom g = Pool2dGeom::make(c, h, w, p, p, stride);
  Vec x = kind == PoolKind::max ? random_distinct(size_t(n * c * h * w), seed) : random_vector(size_t(n * c * h * w), seed);
  const Vec r = random_vector(size_t(n * c * g.oh * g.ow), seed + 1);
  Vec y(r.size());
  std::vector<int32_t> arg(r.size());
  auto loss = [&] {
    if (kind == PoolKind::max)
      maxpool2d_forward(g, n, x.data(), y.data(), arg.data());
    else
      avgpool2d_forward(g, n, x.data(), y.data());
    return dot(r, y);
  };
  loss();  // fills argmax for backward
  Vec dx(x.size());
  if (kind == PoolKind::max)
    maxpool2d_backward(g, n, r.data(), arg.data(), dx.data());
  else
    avgpool2d_backward(g, n, r.data(), dx.data());
  CHECK(max_error(dx, numeric_gradient(x, loss)) < kGradTolerance);
}
}  // namespace

TEST_CASE("gradient: maxpool 2x2 on odd sizes (floor), batch 2") { check_pool(PoolKind::max, 2, 3, 7, 9, 2, 2, 5); }
TEST_CASE("gradient: maxpool 3x3 stride 2 (overlapping windows)") { check_pool(PoolKind::max, 2, 2, 9, 8, 3, 2, 6); }
TEST_CASE("gradient: avgpool 2x2 on odd sizes, batch 2") { check_pool(PoolKind::average, 2, 3, 7, 9, 2, 2, 7); }
TEST_CASE("gradient: avgpool 3x3 stride 1") { check_pool(PoolKind::average, 1, 2, 6, 7, 3, 1, 8); }

TEST_CASE("maxpool: Keras valid pooling floors odd sizes and picks the first maximum on ties") {
  const Pool2dGeom g = Pool2dGeom::make(1, 5, 5, 2, 2, 2);
  CHECK(g.oh == 2);
  CHECK(g.ow == 2);
  const std::vector<float> x = {1, 1, 0, 0, 9,  //
                                1, 1, 0, 0, 9,  //
                                0, 0, 2, 3, 9,  //
                                0, 0, 3, 1, 9,  //
                                9, 9, 9, 9, 9};
  std::vector<float> y(4);
  std::vector<int32_t> arg(4);
  maxpool2d_forward(g, 1, x.data(), y.data(), arg.data());
  CHECK(y == std::vector<float>{1, 0, 0, 3});
  CHECK(arg[0] == 0);   // four equal ones: the first wins
  CHECK(arg[3] == 13);  // 3 at (2,3) and at (3,2): row-major first is (2,3) = 13
}

TEST_CASE("gradient: relu away from the kink") {
  const int64_t n = 40;
  Vec x = random_away_from_zero(n, 9);
  const Vec r = random_vector(n, 10);
  Vec y(n), dx(n);
  auto loss = [&] {
    relu_forward(n, x.data(), y.data());
    return dot(r, y);
  };
  relu_backward(n, x.data(), r.data(), dx.data());
  CHECK(max_error(dx, numeric_gradient(x, loss)) < kGradTolerance);
}

TEST_CASE("gradient: sigmoid") {
  const int64_t n = 40;
  Vec x = random_vector(n, 11, -6.0, 6.0);
  const Vec r = random_vector(n, 12);
  Vec y(n), dx(n);
  auto loss = [&] {
    sigmoid_forward(n, x.data(), y.data());
    return dot(r, y);
  };
  loss();
  sigmoid_backward(n, y.data(), r.data(), dx.data());
  CHECK(max_error(dx, numeric_gradient(x, loss)) < kGradTolerance);
}

TEST_CASE("gradient: dropout with its mask held fixed") {
  const int64_t n = 64;
  Vec mask(n);
  dropout_mask(n, 0.5f, 1234, 7, 0, mask.data());
  Vec x = random_vector(n, 13);
  const Vec r = random_vector(n, 14);
  Vec y(n), dx(n);
  auto loss = [&] {
    dropout_apply(n, x.data(), mask.data(), y.data());
    return dot(r, y);
  };
  dropout_apply(n, r.data(), mask.data(), dx.data());
  CHECK(max_error(dx, numeric_gradient(x, loss)) < kGradTolerance);
}

TEST_CASE("gradient: binary cross-entropy from logits") {
  const int64_t n = 16;
  Vec z = random_vector(n, 15, -8.0, 8.0);
  Vec y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = double(i % 3 == 0);
  auto loss = [&] { return bce_with_logits_forward(n, z.data(), y.data()); };
  Vec dz(n);
  bce_with_logits_backward(n, z.data(), y.data(), dz.data());
  CHECK(max_error(dz, numeric_gradient(z, loss)) < kGradTolerance);
}

namespace {
// Direct convolution, the definition itself: the reference for the blocked im2col path.
void direct_conv(const Conv2dGeom& g, int64_t n, const Vec& x, const Vec& w, const Vec& b, Vec& y) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < g.k; ++k)
      for (int64_t oi = 0; oi < g.oh; ++oi)
        for (int64_t oj = 0; oj < g.ow; ++oj) {
          double s = b[size_t(k)];
          for (int64_t c = 0; c < g.c; ++c)
            for (int64_t ki = 0; ki < g.kh; ++ki)
              for (int64_t kj = 0; kj < g.kw; ++kj) {
                const int64_t ii = oi * g.stride + ki - g.pad_top, jj = oj * g.stride + kj - g.pad_left;
                if (ii >= 0 && ii < g.h && jj >= 0 && jj < g.w)
                  s += x[size_t(((i * g.c + c) * g.h + ii) * g.w + jj)] * w[size_t(((k * g.c + c) * g.kh + ki) * g.kw + kj)];
              }
          y[size_t(((i * g.k + k) * g.oh + oi) * g.ow + oj)] = s;
        }
}
}  // namespace

TEST_CASE("conv2d: the blocked lowering equals a direct convolution on images spanning several blocks") {
  for (Padding padding : {Padding::valid, Padding::same})
    for (int64_t stride : {1, 2}) {
      const Conv2dGeom g = Conv2dGeom::make(40, 47, 45, 4, 3, 3, stride, padding);  // blocks of 176 pixels
      REQUIRE(g.pixels() > conv2d_block_pixels(g));  // more than one block, the last one partial
      const int64_t n = 2;
      const Vec x = random_vector(size_t(n * 40 * 47 * 45), 50), w = random_vector(size_t(g.k * g.patch()), 51);
      const Vec b = random_vector(size_t(g.k), 52);
      Vec y(size_t(n * g.k * g.pixels())), expected(y.size());
      conv2d_forward(g, n, x.data(), w.data(), b.data(), y.data());
      direct_conv(g, n, x, w, b, expected);
      CHECK(max_error(y, expected) < 1e-12);
      // Backward against the adjoint identity: <dy, conv(x)> is linear in x and in w,
      // so the loss r . y has gradients that finite differences of direct_conv give exactly.
      const Vec r = random_vector(y.size(), 53);
      Vec dx(x.size()), dw(w.size(), 0.0), db(b.size(), 0.0);
      conv2d_backward(g, n, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data());
      const size_t probes[] = {0, 1000, x.size() / 2, x.size() - 1};
      for (size_t j : probes) {  // a few input elements: (L(x + e_j) - L(x)) is exact for a linear L
        Vec xp = x;
        xp[j] += 1.0;
        Vec yp(y.size());
        direct_conv(g, n, xp, w, b, yp);
        CHECK(dx[j] == doctest::Approx(dot(r, yp) - dot(r, expected)).epsilon(1e-9));
      }
      for (size_t j : {size_t(0), w.size() / 2, w.size() - 1}) {
        Vec wp = w;
        wp[j] += 1.0;
        Vec yp(y.size());
        direct_conv(g, n, x, wp, b, yp);
        CHECK(dw[j] == doctest::Approx(dot(r, yp) - dot(r, expected)).epsilon(1e-9));
      }
      double rsum = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < g.pixels(); ++p) rsum += r[size_t((i * g.k + 1) * g.pixels() + p)];
      CHECK(db[1] == doctest::Approx(rsum).epsilon(1e-12));
    }
}
