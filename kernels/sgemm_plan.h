// How cuda::sgemm launches a product of a given shape (plain C++: the CPU tests
// check the plan without a GPU). Results never depend on the tile; they depend on
// the split of K, which depends on the shape alone.
//
// Tile: 128x128 when that grid fills the GPU (sm_count blocks), 64x64 when it
// would not, 32x64 when M <= 32 (a dense layer at batch 32, whose 64- or 128-row
// tiles would leave most rows idle).
// Split-K: when the grid is under two waves of an H100 (2 x 132 SMs) and K is
// long, K is cut into `splits` ranges of k_split values (whole steps of 16, a
// multiple of every tile's BK, so each range starts 16-byte aligned); each
// range's partial product is computed by its own blocks and a second pass adds
// the partials in range order. A fixed order and no atomics: the same bits on
// every run. And on every card: the split is decided on the grid of the tile
// that does not depend on the card (64x64, or 32x64 when M <= 32) against a
// constant wave count, never on the launched tile or this card's SM count; and
// every tile adds a range's K values in increasing order, one fused
// multiply-add each, so the tile does not change the bits either.
#pragma once
#include <algorithm>
#include <cstdint>

namespace radius::cuda {

enum class TileShape { large, medium, small_m };  // BM x BN x BK: 128x128x8, 64x64x16, 32x64x16

struct GemmPlan {
  TileShape tile = TileShape::medium;
  int64_t grid = 0;     // blocks of one split: tiles of C times the batch
  int splits = 1;       // K ranges summed separately (1: no split)
  int64_t k_split = 0;  // K values per range (the last range may be shorter); K itself without a split
};

constexpr int64_t kSplitKTwoWaves = 2 * 132;  // a grid below this is split (two waves of an H100)
constexpr int64_t kSplitKMinRange = 128;      // shorter ranges cost more (partial stores, the second pass) than they save
constexpr int kSplitKMax = 32;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline int64_t tile_rows(TileShape t) { return t == TileShape::large ? 128 : t == TileShape::medium ? 64 : 32; }
inline int64_t tile_cols(TileShape t) { return t == TileShape::large ? 128 : 64; }
inline int64_t tile_depth(TileShape t) { return t == TileShape::large ? 8 : 16; }

inline GemmPlan plan_gemm(int64_t m, int64_t n, int64_t k, int64_t batch, int sm_count) {
  const auto blocks = [&](TileShape t) { return ceil_div(m, tile_rows(t)) * ceil_div(n, tile_cols(t)) * batch; };
  GemmPlan p;
  if (m <= 32) p.tile = TileShape::small_m;
  else if (blocks(TileShape::large) >= sm_count) p.tile = TileShape::large;
  p.grid = blocks(p.tile);
  p.k_split = k;
  const int64_t card_free_grid = blocks(m <= 32 ? TileShape::small_m : TileShape::medium);
  if (card_free_grid >= kSplitKTwoWaves) return p;
  const int64_t want = std::min(
      {ceil_div(kSplitKTwoWaves, card_free_grid), k / kSplitKMinRange, int64_t(kSplitKMax), 65535 / batch});
  if (want < 2) return p;
  constexpr int64_t step = 16;  // a multiple of every tile's BK (8 or 16)
  p.k_split = ceil_div(ceil_div(k, want), step) * step;
  p.splits = int(ceil_div(k, p.k_split));  // <= want, and no range is empty
  return p;
}

}  // namespace radius::cuda
