// The fast im2col / col2im (bounds worked out once per row-run) against the
// per-element reference, bit for bit, on geometries that exercise every edge:
// padding on all sides, strides 1-3, kernels wider than the padding, and blocks
// that start and end in the middle of an output row.
#include <doctest/doctest.h>

#include <vector>

#include "layers/conv2d.h"
#include "tests/gradcheck.h"

using namespace radius;
using radius::test::random_floats;

namespace {
void check_lowering(const Conv2dGeom& g, uint64_t seed) {
  const std::vector<float> x = random_floats(size_t(g.c * g.h * g.w), seed);
  const int64_t pixels = g.pixels();
  // Whole image, a block starting mid-row, and a short block inside one row.
  const int64_t ranges[][2] = {{0, pixels}, {g.ow / 2 + 1, pixels - 1}, {1, std::min<int64_t>(3, pixels)}};
  for (const auto& r : ranges) {
    const int64_t p0 = r[0], p1 = r[1];
    if (p1 <= p0) continue;
    CAPTURE(p0);
    CAPTURE(p1);
    const size_t cols = size_t(g.patch() * (p1 - p0));
    std::vector<float> fast(cols, 7.0f), ref(cols, -7.0f);  // every element must be written
    im2col(g, x.data(), p0, p1, fast.data());
    im2col_reference(g, x.data(), p0, p1, ref.data());
    CHECK(fast == ref);
    const std::vector<float> col = random_floats(cols, seed + 1);
    std::vector<float> dx_fast = random_floats(x.size(), seed + 2), dx_ref = dx_fast;  // col2im adds
    col2im_add(g, col.data(), p0, p1, dx_fast.data());
    col2im_add_reference(g, col.data(), p0, p1, dx_ref.data());
    CHECK(dx_fast == dx_ref);
  }
}
}  // namespace

TEST_CASE("conv2d lowering: fast im2col/col2im equal the per-element reference") {
  uint64_t seed = 60;
  for (Padding padding : {Padding::valid, Padding::same})
    for (int64_t stride : {1, 2, 3})
      for (int64_t k : {1, 2, 3, 5}) {
        CAPTURE(stride);
        CAPTURE(k);
        check_lowering(Conv2dGeom::make(2, 9, 11, 3, k, k, stride, padding), seed++);
        check_lowering(Conv2dGeom::make(3, 7, 5, 2, k, std::max<int64_t>(1, k - 1), stride, padding), seed++);
      }
}
