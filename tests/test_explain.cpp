// net/explain and eval/tile_grid: per-layer costs, activation statistics and
// tile grids against values worked out by hand on tiny networks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "eval/tile_grid.h"
#include "net/explain.h"
#include "net/spec.h"
#include "tensor/rng.h"

using namespace radius;

namespace {

// input [1,4,4] -> conv 2x3x3 [2,2,2] -> relu -> maxpool 2 [2,1,1] -> flatten [2] -> dense 1 -> sigmoid
const char* const kSmall =
    "input height=4 width=4 channels=1\n"
    "conv2d filters=2 kernel=3 activation=relu\n"
    "maxpool2d pool=2\n"
    "flatten\n"
    "dense units=1 activation=sigmoid\n";

void set(Sequential& m, const std::string& name, const std::vector<float>& values) {
  for (const NamedParam& p : m.named_params())
    if (p.name == name) {
      REQUIRE(p.value.numel() == int64_t(values.size()));
      Tensor v = p.value;
      for (size_t i = 0; i < values.size(); ++i) v.cpu()[i] = values[i];
      return;
    }
  FAIL("no parameter " << name);
}

Tensor random_input(const Sequential& m, int64_t n, uint64_t seed) {
  Tensor x = Tensor::empty(m.input_shape().with_batch(n));
  Rng rng(seed, 0);
  for (int64_t i = 0; i < x.numel(); ++i) x.cpu()[i] = rng.uniform(-1.0f, 1.0f);
  return x;
}

}  // namespace

TEST_CASE("explain: parameters, FLOPs and bytes of a tiny network match hand counts") {
  const auto m = parse_model_spec(kSmall, "<small>");
  const std::vector<LayerCost> c = layer_costs(*m);
  REQUIRE(c.size() == 6);
  // conv: K=2, patch=1*3*3=9, pixels=2*2=4. Forward 2*K*patch*pixels + K*pixels (bias) = 144 + 8.
  // Layer 0 computes no input gradient: backward = dw 144 + db 8.
  CHECK(c[0].kind == "conv2d");
  CHECK(c[0].input == Shape{1, 4, 4});
  CHECK(c[0].output == Shape{2, 2, 2});
  CHECK(c[0].params == 2 * 9 + 2);
  CHECK(c[0].forward_flops == 152);
  CHECK(c[0].backward_flops == 152);
  CHECK(c[0].activation_bytes == 8 * 4);
  CHECK(c[0].param_bytes == 20 * 4);
  // relu on 8 values: one op each way.
  CHECK(c[1].forward_flops == 8);
  CHECK(c[1].backward_flops == 8);
  // maxpool 2x2 over [2,2,2]: 4 compares per output, 2 outputs; backward one add per output.
  CHECK(c[2].output == Shape{2, 1, 1});
  CHECK(c[2].forward_flops == 8);
  CHECK(c[2].backward_flops == 2);
  CHECK(c[2].activation_bytes == 2 * 4);
  CHECK(c[3].forward_flops == 0);
  CHECK(c[3].backward_flops == 0);
  // dense 2 -> 1: forward 2*2*1; backward dw 4 + db 1 + dx 4.
  CHECK(c[4].params == 3);
  CHECK(c[4].forward_flops == 4);
  CHECK(c[4].backward_flops == 9);
  CHECK(c[4].param_bytes == 12);
  // sigmoid on 1 value: 4 forward (its flops()), 3 backward (dy*y*(1-y)).
  CHECK(c[5].forward_flops == 4);
  CHECK(c[5].backward_flops == 3);

  const std::string table = cost_table(*m);
  CHECK(table.find("total parameters: 23 ") != std::string::npos);
  CHECK(table.find("output head: sigmoid") != std::string::npos);
  CHECK(m->summary() == table);
}

TEST_CASE("explain: a conv layer after the first also pays for its input gradient") {
  // relu [2,3,3] -> conv 1x2x2: patch 2*2*2 = 8, pixels 2*2 = 4, one GEMM = 2*1*8*4 = 64.
  const auto m = parse_model_spec("input height=3 width=3 channels=2\nrelu\nconv2d filters=1 kernel=2\n", "<s>");
  const std::vector<LayerCost> c = layer_costs(*m);
  REQUIRE(c.size() == 2);
  CHECK(c[1].forward_flops == 64 + 4);
  CHECK(c[1].backward_flops == 64 + 4 + 64);
}

TEST_CASE("explain: activation statistics of a network with known weights match hand values") {
  // conv0 (2 filters 2x2) -> relu1 -> flatten2 -> dense3 (8 -> 1).
  const auto m = parse_model_spec(
      "input height=3 width=3 channels=1\nconv2d filters=2 kernel=2 activation=relu\nflatten\ndense units=1\n", "<s>");
  m->init(3);
  set(*m, "0.weight", {1, 1, 1, 1, -1, -1, -1, -1});  // filter 0 sums its window, filter 1 negates the sum
  set(*m, "0.bias", {0, -1});
  set(*m, "3.weight", std::vector<float>(8, 0.25f));
  set(*m, "3.bias", {1});
  const Tensor x = Tensor::from_vector(Shape{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const std::vector<Tensor> outs = forward_each(*m, x, Mode::eval);
  REQUIRE(outs.size() == 4);
  // Window sums 12 16 24 28; filter 1 gives -13 -17 -25 -29.
  CHECK(outs[0].to_vector() == std::vector<float>{12, 16, 24, 28, -13, -17, -25, -29});

  const ActivationStats conv = activation_stats(outs[0]);
  CHECK(conv.mean == doctest::Approx(-0.5));                       // (80 - 84) / 8
  CHECK(conv.std == doctest::Approx(std::sqrt(3684.0 / 8 - 0.25)));  // sum of squares 1760 + 1924
  CHECK(conv.min == -29);
  CHECK(conv.max == 28);
  CHECK(conv.zero_fraction == 0);
  CHECK(conv.channels == 2);
  CHECK(conv.dead_channels == 0);  // negative is not dead: only exact zeros are

  const ActivationStats relu = activation_stats(outs[1]);  // 12 16 24 28 0 0 0 0
  CHECK(relu.mean == doctest::Approx(10));
  CHECK(relu.std == doctest::Approx(std::sqrt(1760.0 / 8 - 100)));
  CHECK(relu.min == 0);
  CHECK(relu.zero_fraction == doctest::Approx(0.5));
  CHECK(relu.dead_channels == 1);

  const ActivationStats flat = activation_stats(outs[2]);  // 8 units, 4 of them zero
  CHECK(flat.channels == 8);
  CHECK(flat.dead_channels == 4);

  const ActivationStats dense = activation_stats(outs[3]);  // 0.25 * 80 + 1
  CHECK(dense.mean == doctest::Approx(21));
  CHECK(dense.std == doctest::Approx(0));
  CHECK(dense.channels == 1);
}

TEST_CASE("explain: activation statistics over a random batch find the channel that is zero in every sample") {
  Tensor t = Tensor::empty(Shape{3, 4, 5, 5});
  Rng rng(21, 0);
  for (int64_t i = 0; i < t.numel(); ++i) t.cpu()[i] = rng.uniform(0.5f, 2.0f);
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t k = 0; k < 25; ++k) t.cpu()[(b * 4 + 2) * 25 + k] = 0.0f;  // channel 2, every sample
  t.cpu()[(1 * 4 + 0) * 25 + 7] = 0.0f;  // one zero in channel 0 of sample 1: not a dead channel
  const ActivationStats s = activation_stats(t);
  double sum = 0, sq = 0;
  for (float v : t.to_vector()) sum += v;
  const double mean = sum / double(t.numel());
  for (float v : t.to_vector()) sq += (v - mean) * (v - mean);
  CHECK(s.mean == doctest::Approx(mean));
  CHECK(s.std == doctest::Approx(std::sqrt(sq / double(t.numel()))));
  CHECK(s.min == 0);
  CHECK(s.max <= 2.0);
  CHECK(s.zero_fraction == doctest::Approx(76.0 / 300.0));
  CHECK(s.channels == 4);
  CHECK(s.dead_channels == 1);
}

TEST_CASE("explain: layer-by-layer forward matches the model, and timing leaves no gradient behind") {
  const auto m = load_model_spec(std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec");
  m->init(5);
  const Tensor x = random_input(*m, 2, 9);
  const std::vector<Tensor> outs = forward_each(*m, x, Mode::eval);
  m->forward(x, Mode::eval);
  // A conv2d fused with its relu (net/fusion.h) holds the relu's output.
  for (size_t i = 0; i + 1 < m->size(); ++i) {
    CAPTURE(i);
    const size_t same = m->fused_with_next(i) ? i + 1 : i;
    CHECK(outs[same].to_vector() == m->activation(i).to_vector());
  }
  m->set_fusion(false);
  m->forward(x, Mode::eval);
  for (size_t i = 0; i + 1 < m->size(); ++i) CHECK(outs[i].to_vector() == m->activation(i).to_vector());

  const std::vector<LayerTiming> t = time_layers(*m, x, 2, 1);
  REQUIRE(t.size() == m->size());
  for (const LayerTiming& l : t) {
    CHECK(l.forward_ms >= 0);
    CHECK(l.backward_ms >= 0);
    CHECK(std::isfinite(l.forward_ms + l.backward_ms));
  }
  const std::vector<float> grads = m->grads().to_vector();
  CHECK(std::all_of(grads.begin(), grads.end(), [](float g) { return g == 0.0f; }));
  CHECK_THROWS_AS(time_layers(*m, x, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(forward_each(*m, Tensor::zeros(Shape{1, 1, 32, 32}), Mode::eval), std::invalid_argument);
}

TEST_CASE("tile grid: layout, per-tile normalization, labels and RGB filters") {
  std::vector<Tile> tiles;
  for (int k = 0; k < 5; ++k) {
    Tile t{3, 3, 1, {}, std::to_string(k)};
    for (int i = 0; i < 9; ++i) t.values.push_back(float(k == 4 ? 7 : (i + 1) * (k + 1)));  // tile 4: constant
    tiles.push_back(t);
  }
  const Image img = tile_grid(tiles, 48);  // scale 16: 48x48 tiles; 3 columns, 2 rows; label strip 11 px
  CHECK(img.channels == 3);
  CHECK(img.width == 4 + 3 * (48 + 4));
  CHECK(img.height == 4 + 2 * (11 + 48 + 4));
  const int top = 4 + 11;
  CHECK(img.at(4, top, 0) == 0);                // tile 0's minimum: black
  CHECK(img.at(4 + 47, top + 47, 1) == 255);    // its maximum: white
  CHECK(img.at(4 + 16, top + 16, 2) == 128);    // the middle value 5 of 1..9: halfway
  CHECK(img.at(4 + 52 + 47, top + 47, 0) == 255);  // tile 1 (twice the values) normalized on its own
  CHECK(img.at(4 + 52, 4 + 63 + 11, 0) == 128);    // tile 4 (constant): mid-gray
  bool ink = false;  // the label "0" above tile 0
  for (int y = 4; y < top; ++y)
    for (int x = 4; x < 10; ++x) ink = ink || img.at(x, y, 0) < 128;
  CHECK(ink);

  const Tensor rgb = Tensor::from_vector(Shape{2, 3, 1, 2}, {0, 1, 0, 0, 0, 0, 5, 5, 5, 5, 5, 9});
  const std::vector<Tile> f = filter_tiles(rgb);
  REQUIRE(f.size() == 2);
  CHECK(f[0].channels == 3);
  CHECK(f[1].label == "f1");
  const Image fi = tile_grid(f, 2);  // scale 1: pixel (4 + 1, 15) is filter 0's right column: R 1 -> 255, G, B 0
  CHECK(fi.at(5, 15, 0) == 255);
  CHECK(fi.at(5, 15, 1) == 0);
  const std::vector<Tile> g = filter_tiles(Tensor::from_vector(Shape{2, 2, 1, 1}, {1, 2, 3, 4}));
  REQUIRE(g.size() == 4);
  CHECK(g[1].label == "f0c1");
  CHECK(g[2].label == "f1c0");
  const std::vector<Tile> maps = feature_map_tiles(Tensor::from_vector(Shape{2, 2, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), 1);
  REQUIRE(maps.size() == 2);
  CHECK(maps[1].values == std::vector<float>{7, 8});
  CHECK_THROWS_AS(tile_grid({}), std::invalid_argument);
  CHECK_THROWS_AS(feature_map_tiles(Tensor::zeros(Shape{1, 4})), std::invalid_argument);
}
