// The unrolled 2x2 stride-2 max pooling against the generic reference loops:
// same outputs and same winners, on data full of ties (few distinct values) and
// on odd sizes whose last row and column are dropped.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "layers/pool2d.h"
#include "tests/gradcheck.h"

using namespace radius;

TEST_CASE("maxpool 2x2: the unrolled path equals the reference, ties and odd sizes included") {
  for (int64_t h : {2, 7, 10})
    for (int64_t w : {3, 8, 11}) {
      CAPTURE(h);
      CAPTURE(w);
      const Pool2dGeom g = Pool2dGeom::make(3, h, w, 2, 2, 2);
      const int64_t n = 2;
      std::vector<float> x = radius::test::random_floats(size_t(n * g.c * h * w), uint64_t(70 + h * w));
      for (float& v : x) v = std::round(v * 2.0f);  // values in {-2..2}: many ties
      const size_t out = size_t(n * g.c * g.oh * g.ow);
      std::vector<float> y(out), y_ref(out);
      std::vector<int32_t> arg(out), arg_ref(out);
      maxpool2d_forward(g, n, x.data(), y.data(), arg.data());
      maxpool2d_forward_reference(g, n, x.data(), y_ref.data(), arg_ref.data());
      CHECK(y == y_ref);
      CHECK(arg == arg_ref);
    }
}
