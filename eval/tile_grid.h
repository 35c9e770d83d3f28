// Tile grids: a network's filters and feature maps as one labelled picture.
//
// Each tile is min-max normalized on its own (its smallest value black, its
// largest white; a constant tile is mid-gray), so a tile shows the PATTERN of
// one filter or one map, not its scale: compare brightness within a tile only.
// Tiles are enlarged by a whole factor (nearest neighbour: every weight or
// activation stays a crisp square), laid out row-major in ceil(sqrt(n))
// columns, each with its label above it.
#pragma once
#include <string>
#include <vector>

#include "data/image.h"
#include "tensor/tensor.h"

namespace radius {

struct Tile {
  int width = 0, height = 0, channels = 1;  // channels 1 (gray) or 3 (RGB)
  std::vector<float> values;                // planar [channels, height, width]
  std::string label;
};

// An RGB image of the tiles; each tile enlarged until its longer side is at
// least min_side pixels. Throws std::invalid_argument on no tiles or a bad tile.
Image tile_grid(const std::vector<Tile>& tiles, int min_side = 48);

// The filters of a conv2d weight [K, C, KH, KW] (any device): with C = 3, one
// RGB tile per filter (input channels as R, G, B), labelled "f<k>"; otherwise
// one gray tile per filter and input channel, labelled "f<k>c<c>", filter-major.
std::vector<Tile> filter_tiles(const Tensor& weight);

// The feature maps of sample `sample` of an activation [N, C, H, W] (any
// device): one gray tile per channel, labelled with the channel index.
std::vector<Tile> feature_map_tiles(const Tensor& activation, int64_t sample = 0);

}  // namespace radius
