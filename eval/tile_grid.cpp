#include "eval/tile_grid.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "eval/font.h"

namespace radius {

namespace {

constexpr int kGap = 4;                             // white space around tiles
constexpr int kLabelHeight = font::kRows + 2;       // one line of the 5x9 font, scale 1
constexpr uint8_t kInk = 40;                        // label colour (dark gray)

void check_tile(const Tile& t) {
  if (t.width < 1 || t.height < 1 || (t.channels != 1 && t.channels != 3) ||
      t.values.size() != size_t(t.width) * size_t(t.height) * size_t(t.channels))
    throw std::invalid_argument("tile_grid: tile '" + t.label + "' is " + std::to_string(t.width) + "x" +
                                std::to_string(t.height) + "x" + std::to_string(t.channels) + " with " +
                                std::to_string(t.values.size()) + " values");
}

// 0..255 by the tile's own min and max; a constant tile is mid-gray.
std::vector<uint8_t> normalize(const std::vector<float>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  const double range = double(*hi) - double(*lo);
  std::vector<uint8_t> out(v.size(), 128);
  if (range > 0)
    for (size_t i = 0; i < v.size(); ++i) out[i] = uint8_t(std::lround((double(v[i]) - *lo) / range * 255.0));
  return out;
}

void draw_label(Image& img, int left, int top, const std::string& text) {
  for (size_t k = 0; k < text.size(); ++k) {
    const uint8_t* rows = font::glyph(text[k]);
    for (int r = 0; r < font::kRows; ++r)
      for (int col = 0; col < font::kGlyphWidth; ++col) {
        const int x = left + int(k) * font::kAdvance + col, y = top + r;
        if (!(rows[r] & (0x10 >> col)) || x >= img.width || y >= img.height) continue;
        for (int c = 0; c < 3; ++c) img.at(x, y, c) = kInk;
      }
  }
}

// Paints tile t at (left, top), each value a scale x scale square.
void draw_tile(Image& img, int left, int top, const Tile& t, int scale) {
  const std::vector<uint8_t> v = normalize(t.values);
  const size_t plane = size_t(t.width) * size_t(t.height);
  for (int y = 0; y < t.height * scale; ++y)
    for (int x = 0; x < t.width * scale; ++x) {
      const size_t p = size_t(y / scale) * size_t(t.width) + size_t(x / scale);
      for (int c = 0; c < 3; ++c) img.at(left + x, top + y, c) = v[(t.channels == 3 ? size_t(c) * plane : 0) + p];
    }
}

}  // namespace

Image tile_grid(const std::vector<Tile>& tiles, int min_side) {
  if (tiles.empty()) throw std::invalid_argument("tile_grid: no tiles");
  int tile_w = 0, tile_h = 0;  // the largest tile, before scaling
  size_t longest_label = 0;
  for (const Tile& t : tiles) {
    check_tile(t);
    tile_w = std::max(tile_w, t.width), tile_h = std::max(tile_h, t.height);
    longest_label = std::max(longest_label, t.label.size());
  }
  const int scale = std::max(1, (std::max(1, min_side) + std::max(tile_w, tile_h) - 1) / std::max(tile_w, tile_h));
  const int cell_w = std::max(tile_w * scale, font::text_width(std::string(longest_label, 'x')));
  const int cell_h = kLabelHeight + tile_h * scale;
  const int cols = int(std::ceil(std::sqrt(double(tiles.size())))), rows = (int(tiles.size()) + cols - 1) / cols;
  Image img(kGap + cols * (cell_w + kGap), kGap + rows * (cell_h + kGap), 3);
  std::fill(img.pixels.begin(), img.pixels.end(), uint8_t(255));
  for (size_t i = 0; i < tiles.size(); ++i) {
    const int left = kGap + int(i) % cols * (cell_w + kGap), top = kGap + int(i) / cols * (cell_h + kGap);
    draw_label(img, left, top, tiles[i].label);
    draw_tile(img, left, top + kLabelHeight, tiles[i], scale);
  }
  return img;
}

namespace {
// "f<k>" or "f<k>c<c>" (c < 0: no channel).
std::string filter_label(int64_t k, int64_t c) {
  char s[48];
  if (c < 0) std::snprintf(s, sizeof s, "f%lld", (long long)k);
  else std::snprintf(s, sizeof s, "f%lldc%lld", (long long)k, (long long)c);
  return s;
}
}  // namespace

std::vector<Tile> filter_tiles(const Tensor& weight) {
  if (weight.rank() != 4) throw std::invalid_argument("filter_tiles: need a conv2d weight [K, C, KH, KW], got " + weight.shape().str());
  const Tensor w = weight.is_cpu() ? weight : weight.to(Device::cpu);
  const int64_t filters = w.dim(0), channels = w.dim(1), kh = w.dim(2), kw = w.dim(3), plane = kh * kw;
  const float* v = w.cpu();
  std::vector<Tile> tiles;
  for (int64_t k = 0; k < filters; ++k) {
    const float* f = v + k * channels * plane;
    if (channels == 3) {
      tiles.push_back({int(kw), int(kh), 3, std::vector<float>(f, f + 3 * plane), filter_label(k, -1)});
      continue;
    }
    for (int64_t c = 0; c < channels; ++c)
      tiles.push_back({int(kw), int(kh), 1, std::vector<float>(f + c * plane, f + (c + 1) * plane),
                       filter_label(k, c)});
  }
  return tiles;
}

std::vector<Tile> feature_map_tiles(const Tensor& activation, int64_t sample) {
  if (activation.rank() != 4)
    throw std::invalid_argument("feature_map_tiles: need [N, C, H, W] feature maps, got " + activation.shape().str());
  if (sample < 0 || sample >= activation.dim(0))
    throw std::out_of_range("feature_map_tiles: sample " + std::to_string(sample) + " of a batch of " +
                            std::to_string(activation.dim(0)));
  const Tensor a = activation.is_cpu() ? activation : activation.to(Device::cpu);
  const int64_t channels = a.dim(1), h = a.dim(2), w = a.dim(3), plane = h * w;
  const float* v = a.cpu() + sample * channels * plane;
  std::vector<Tile> tiles;
  for (int64_t c = 0; c < channels; ++c)
    tiles.push_back({int(w), int(h), 1, std::vector<float>(v + c * plane, v + (c + 1) * plane), std::to_string(c)});
  return tiles;
}

}  // namespace radius
