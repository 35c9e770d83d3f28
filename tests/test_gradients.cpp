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
