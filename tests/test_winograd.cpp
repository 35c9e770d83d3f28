// F(2x2, 3x3) (layers/winograd.h) against the direct convolution (im2col,
// layers/conv2d.h): in double, the same numbers up to rounding; in float, an
// error measured against the double reference and bounded relative to the
// magnitude of each output's sum (sum over the window of |w| |x|, + |b|).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/conv2d.h"
#include "layers/winograd.h"
#include "tests/gradcheck.h"

using namespace radius;
using radius::test::random_floats;

namespace {

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// For every output element: |winograd - reference| / magnitude, the largest.
struct Errors {
  double winograd = 0, direct = 0;
};

Errors float_errors(const Conv2dGeom& g, int64_t n, uint64_t seed, bool relu) {
  const std::vector<float> x = random_floats(size_t(n * g.c * g.h * g.w), seed);
  const std::vector<float> w = random_floats(size_t(g.k * g.patch()), seed + 1);
  const std::vector<float> b = random_floats(size_t(g.k), seed + 2);
  const size_t out = size_t(n * g.k * g.pixels());
  std::vector<double> ref(out), magnitude(out);
  conv2d_forward(g, n, widen(x).data(), widen(w).data(), widen(b).data(), ref.data(), relu);
  std::vector<double> ax = widen(x), aw = widen(w), ab = widen(b);
  for (double& v : ax) v = std::abs(v);
  for (double& v : aw) v = std::abs(v);
  for (double& v : ab) v = std::abs(v);
  conv2d_forward(g, n, ax.data(), aw.data(), ab.data(), magnitude.data());
  std::vector<float> wino(out, NAN), direct(out, NAN);  // every element must be written
  conv2d_forward_winograd(g, n, x.data(), w.data(), b.data(), wino.data(), relu);
  conv2d_forward(g, n, x.data(), w.data(), b.data(), direct.data(), relu);
  Errors e;
  for (size_t i = 0; i < out; ++i) {
    e.winograd = std::max(e.winograd, std::abs(double(wino[i]) - ref[i]) / magnitude[i]);
    e.direct = std::max(e.direct, std::abs(double(direct[i]) - ref[i]) / magnitude[i]);
    if (std::isnan(wino[i])) e.winograd = INFINITY;
  }
  return e;
}

struct Case {
  int64_t c, h, w, k;
  Padding padding;
};
// Odd and even outputs (half-outside last tiles), one channel to many, valid and same,
// and rows wide enough for the 16-tile vector paths.
const Case kCases[] = {{1, 3, 3, 1, Padding::valid},  {3, 7, 9, 4, Padding::valid},   {5, 8, 6, 7, Padding::same},
                       {16, 11, 10, 5, Padding::same}, {32, 9, 12, 16, Padding::valid}, {2, 4, 13, 3, Padding::same},
                       {64, 17, 17, 32, Padding::valid},
                       // tile rows of 16 and more: the 16-tile vector paths, with the scalar rest beside them
                       {3, 40, 38, 4, Padding::valid}, {4, 36, 41, 5, Padding::same}};

}  // namespace

TEST_CASE("winograd: F(2x2, 3x3) equals the direct convolution in double") {
  uint64_t seed = 1;
  for (const Case& s : kCases) {
    const Conv2dGeom g = Conv2dGeom::make(s.c, s.h, s.w, s.k, 3, 3, 1, s.padding);
    CAPTURE(s.c);
    CAPTURE(s.h);
    CAPTURE(s.w);
    const int64_t n = 2;
    const std::vector<float> xf = random_floats(size_t(n * g.c * g.h * g.w), seed += 3);
    const std::vector<float> wf = random_floats(size_t(g.k * g.patch()), seed + 1);
    const std::vector<float> bf = random_floats(size_t(g.k), seed + 2);
    const std::vector<double> x = widen(xf), w = widen(wf), b = widen(bf);
    for (bool relu : {false, true}) {
      std::vector<double> want(size_t(n * g.k * g.pixels())), got(want.size(), NAN);
      conv2d_forward(g, n, x.data(), w.data(), b.data(), want.data(), relu);
      conv2d_forward_winograd(g, n, x.data(), w.data(), b.data(), got.data(), relu);
      double worst = 0;
      for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
      CHECK(worst < 1e-12 * double(g.patch()));  // NaN fails too
    }
  }
}

TEST_CASE("winograd: the float error stays within a few times the direct convolution's") {
  uint64_t seed = 100;
  Errors worst;
  for (const Case& s : kCases) {
    const Conv2dGeom g = Conv2dGeom::make(s.c, s.h, s.w, s.k, 3, 3, 1, s.padding);
    const Errors e = float_errors(g, 2, seed += 5, false);
    worst.winograd = std::max(worst.winograd, e.winograd);
    worst.direct = std::max(worst.direct, e.direct);
  }
  MESSAGE("largest error / magnitude: winograd " << worst.winograd << ", direct " << worst.direct);
  // Measured (random weights and inputs in [-1, 1], C up to 64, these shapes):
  // winograd 1.1e-7, direct 1.4e-7, i.e. about one float epsilon (1.2e-7) of the
  // magnitude: F(2x2, 3x3)'s transforms (sums of 2-4 terms, halves) lose no more
  // than the direct sum's order does. The bound leaves room for other shapes.
  CHECK(worst.winograd < 1e-6);
  CHECK(worst.direct < 1e-6);
}

TEST_CASE("winograd: applies to 3x3 stride-1 kernels only, and says so otherwise") {
  CHECK(winograd_applies(Conv2dGeom::make(3, 9, 9, 4, 3, 3, 1, Padding::valid)));
  CHECK(winograd_applies(Conv2dGeom::make(3, 9, 9, 4, 3, 3, 1, Padding::same)));
  CHECK_FALSE(winograd_applies(Conv2dGeom::make(3, 9, 9, 4, 5, 5, 1, Padding::valid)));
  CHECK_FALSE(winograd_applies(Conv2dGeom::make(3, 9, 9, 4, 3, 3, 2, Padding::valid)));
  CHECK_FALSE(winograd_applies(Conv2dGeom::make(3, 9, 9, 4, 3, 2, 1, Padding::valid)));
  const Conv2dGeom g = Conv2dGeom::make(1, 6, 6, 1, 5, 5, 1, Padding::valid);
  std::vector<float> x(36), w(25), y(4);
  CHECK_THROWS_AS(conv2d_forward_winograd<float>(g, 1, x.data(), w.data(), nullptr, y.data()), std::invalid_argument);
}
