// The SGEMM launch plan (kernels/sgemm_plan.h) checked without a GPU: the tile
// chosen by shape, and split-K ranges that cover K exactly once, in whole tile
// steps, within the launch limits. The CUDA SGEMM test runs the products.
#include <doctest/doctest.h>

#include "kernels/sgemm_plan.h"

using namespace radius::cuda;

TEST_CASE("sgemm plan: split-K ranges partition K in whole tile steps, only for small grids") {
  for (const int sm_count : {16, 132, 144})
    for (const int64_t m : {1, 6, 32, 33, 100, 128, 512, 1541})
      for (const int64_t n : {1, 10, 27, 512, 6272})
        for (const int64_t k : {0, 1, 127, 255, 256, 513, 1500, 6272, 21904})
          for (const int64_t batch : {1, 3, 32}) {
            const GemmPlan p = plan_gemm(m, n, k, batch, sm_count);
            CAPTURE(sm_count); CAPTURE(m); CAPTURE(n); CAPTURE(k); CAPTURE(batch);
            CHECK((m <= 32) == (p.tile == TileShape::small_m));
            CHECK(p.grid == ceil_div(m, tile_rows(p.tile)) * ceil_div(n, tile_cols(p.tile)) * batch);
            if (p.splits == 1) {
              CHECK(p.k_split == k);
              continue;
            }
            CHECK(p.grid < kSplitKTwoWaves);  // only grids under two waves are split
            CHECK(p.splits <= kSplitKMax);
            CHECK(batch * p.splits <= 65535);  // the grid's z dimension
            CHECK(p.k_split % tile_depth(p.tile) == 0);
            CHECK(p.k_split >= kSplitKMinRange);
            // Range s is [s * k_split, min(K, (s + 1) * k_split)): all non-empty, together exactly [0, K).
            CHECK((p.splits - 1) * p.k_split < k);
            CHECK(p.splits * p.k_split >= k);
          }
}

TEST_CASE("sgemm plan: the split of K is the same on every card (the summation order, so the bits)") {
  for (const int64_t m : {1, 32, 33, 100, 128, 200, 256, 512, 1541})
    for (const int64_t n : {1, 27, 300, 1024, 6272, 7680})
      for (const int64_t k : {255, 256, 512, 1500, 4096, 6272})
        for (const int64_t batch : {1, 2, 23, 32}) {
          CAPTURE(m); CAPTURE(n); CAPTURE(k); CAPTURE(batch);
          const GemmPlan h100 = plan_gemm(m, n, k, batch, 132);
          for (const int sm_count : {16, 108, 114, 144}) {
            CAPTURE(sm_count);
            const GemmPlan other = plan_gemm(m, n, k, batch, sm_count);
            CHECK(other.splits == h100.splits);
            CHECK(other.k_split == h100.k_split);
          }
        }
}

TEST_CASE("sgemm plan: the paper model's dense layers at batch 32 get the small-M tile and a split") {
  // Forward of the 6272 -> 512 dense layer: y [32, 512] = x [32, 6272] w^T.
  const GemmPlan fwd = plan_gemm(32, 512, 6272, 1, 132);
  CHECK(fwd.tile == TileShape::small_m);
  CHECK(fwd.grid == 8);
  CHECK(fwd.splits > 16);
  // The split does not depend on the card's SM count (only the 128x128 choice does).
  CHECK(plan_gemm(32, 512, 6272, 1, 16).splits == fwd.splits);
  CHECK(plan_gemm(32, 512, 6272, 1, 16).k_split == fwd.k_split);
  // A big convolution forward keeps one pass over K.
  CHECK(plan_gemm(64, 5184, 288, 32, 132).splits == 1);
}
