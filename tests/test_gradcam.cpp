// Grad-CAM: the map points at the evidence (a bar the model learned to detect),
// its invariants (range, size, gradients untouched), the exact CAM identity on a
// global-average-pooling model, and the colour map / overlay.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "data/bars.h"
#include "net/gradcam.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"

using namespace radius;

namespace {

// Conv features at 9x9, then global average pooling (avgpool 9) and one logit:
// the architecture of the original CAM paper, for which Grad-CAM is exact CAM.
const char* const kBarSpec = R"(
input height=18 width=18 channels=1
conv2d filters=8 kernel=3 padding=same activation=relu    # 0, 1  -> [8, 18, 18]
maxpool2d pool=2                                          # 2     -> [8, 9, 9]
conv2d filters=16 kernel=3 padding=same activation=relu   # 3, 4  -> [16, 9, 9]
avgpool2d pool=9                                          # 5     -> [16, 1, 1]
flatten                                                   # 6
dense units=1 activation=sigmoid                          # 7, 8
)";

// Trained once for every test case here (128 steps, a few seconds).
Sequential& bar_model() {
  static std::unique_ptr<Sequential> m = [] {
    auto model = parse_model_spec(kBarSpec, "<bar spec>");
    model->init(7);
    Adam adam(AdamConfig::keras(1e-2f));
    Trainer trainer(*model, adam);
    const ToyBatch train = make_bar_images(512, 1, 18, 18, 3);
    for (int epoch = 0; epoch < 8; ++epoch)
      for (int64_t b = 0; b < 512; b += 32) trainer.step(train.images.batch(b, b + 32), train.labels.batch(b, b + 32));
    model->zero_grad();
    return model;
  }();
  return *m;
}

}  // namespace

TEST_CASE("gradcam: on a learned bar detector the heat map lies on the bar") {
  Sequential& m = bar_model();
  const ToyBatch test = make_bar_images(128, 1, 18, 18, 3, 50000);
  const Tensor probs = m.predict(test.images);
  int64_t correct = 0;
  for (int64_t i = 0; i < 128; ++i) correct += (probs.at(i) > 0.5f) == (test.labels.at(i) > 0.5f);
  MESSAGE("bar model test accuracy ", double(correct) / 128);
  REQUIRE(correct >= 120);

  const GradCam cam = grad_cam(m, test.images);
  CHECK(cam.layer == 4);
  int bars = 0, peak_on_bar = 0;
  double mass_share = 0, area_share = 0;
  for (int64_t i = 0; i < 128; ++i) {
    if (test.labels.at(i) < 0.5f || cam.explained_class[size_t(i)] != 1) continue;
    ++bars;
    const float* img = test.images.cpu() + i * 324;
    const float* map = cam.heatmap.cpu() + i * 324;
    // Bar pixels are >= 0.7, the background < 0.3. "Near" = within 1 px (Chebyshev).
    auto near_bar = [&](int y, int x) {
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < 18 && xx >= 0 && xx < 18 && img[yy * 18 + xx] > 0.5f) return true;
        }
      return false;
    };
    const int peak = int(std::max_element(map, map + 324) - map);
    peak_on_bar += near_bar(peak / 18, peak % 18);
    double on = 0, total = 0;
    int area = 0;
    for (int p = 0; p < 324; ++p) {
      total += map[p];
      if (near_bar(p / 18, p % 18)) on += map[p], ++area;
    }
    mass_share += total > 0 ? on / total : 0;
    area_share += area / 324.0;
  }
  mass_share /= bars;
  area_share /= bars;
  MESSAGE(bars, " bar images: peak on the bar in ", peak_on_bar, "; heat mass near the bar ", mass_share,
          " (the bar's neighbourhood is ", area_share, " of the image)");
  REQUIRE(bars >= 55);
  CHECK(peak_on_bar >= bars * 9 / 10);
  CHECK(mass_share > 2 * area_share);
  CHECK(mass_share > 0.35);
}

TEST_CASE("gradcam: map in [0, 1] at the input size, gradients, parameters and the class rule") {
  Sequential& m = bar_model();
  const ToyBatch batch = make_bar_images(6, 1, 18, 18, 11);
  const Tensor params_before = m.params().clone();

  SUBCASE("zeroed gradients stay zero") {
    m.zero_grad();
    const GradCam cam = grad_cam(m, batch.images);
    CHECK(cam.heatmap.shape() == Shape{6, 18, 18});
    CHECK(cam.coarse.shape() == Shape{6, 9, 9});
    for (float v : cam.heatmap.to_vector()) CHECK((v >= 0.0f && v <= 1.0f));
    for (int64_t i = 0; i < 6; ++i) {
      const float* c = cam.coarse.cpu() + i * 81;
      const float peak = *std::max_element(c, c + 81);
      CHECK((peak == 1.0f || peak == 0.0f));  // normalised by the maximum (or nothing supports the class)
      const int predicted = 1.0 / (1.0 + std::exp(-cam.logits[size_t(i)])) > 0.5 ? 1 : 0;
      CHECK(cam.explained_class[size_t(i)] == predicted);
    }
    for (float g : m.grads().to_vector()) REQUIRE(g == 0.0f);
  }
  SUBCASE("a caller's accumulated gradients are restored exactly") {
    for (int64_t j = 0; j < m.grads().numel(); ++j) m.grads().at(j) = 0.001f * float(j % 17);
    const std::vector<float> before = m.grads().to_vector();
    GradCamOptions o;
    o.target = 0;
    const GradCam cam = grad_cam(m, batch.images, o);
    for (int c : cam.explained_class) CHECK(c == 0);
    CHECK(m.grads().to_vector() == before);
    m.zero_grad();
  }
  CHECK(m.params().to_vector() == params_before.to_vector());
}

TEST_CASE("gradcam: equals CAM on a global-average-pooling model (exact gradient)") {
  // z = sum_c w_c mean_p A_c[p] + b, so dz/dA_c = w_c / 81 everywhere and the map is
  // ReLU(sum_c w_c A_c) / max: computable from the activations and the dense weights.
  Sequential& m = bar_model();
  const ToyBatch batch = make_bar_images(4, 1, 18, 18, 5);
  GradCamOptions o;
  o.target = 1;
  const GradCam cam = grad_cam(m, batch.images, o);
  m.forward(batch.images, Mode::eval);
  const Tensor& a = m.activation(4);
  const float* w = m.named_params()[4].value.cpu();  // "7.weight" [1, 16]
  REQUIRE(m.named_params()[4].name == "7.weight");
  for (int64_t i = 0; i < 4; ++i) {
    std::vector<double> expect(81, 0.0);
    for (int c = 0; c < 16; ++c)
      for (int p = 0; p < 81; ++p) expect[size_t(p)] += double(w[c]) * a.cpu()[(i * 16 + c) * 81 + p];
    double peak = 0;
    for (double& v : expect) v = std::max(v, 0.0), peak = std::max(peak, v);
    for (int p = 0; p < 81; ++p)
      CHECK(cam.coarse.cpu()[i * 81 + p] == doctest::Approx(peak > 0 ? expect[size_t(p)] / peak : 0.0).epsilon(1e-4));
  }
}

TEST_CASE("gradcam: default layer, bad layers, bad models") {
  CHECK(gradcam_default_layer(*load_model_spec(std::string(RADIUS_SOURCE_DIR) + "/models/paper.spec")) == 10);
  // conv2d -> batchnorm2d -> relu: the block's output, after the relu (not the raw conv).
  const auto advised = load_model_spec(std::string(RADIUS_SOURCE_DIR) + "/models/advised.spec");
  const size_t a = gradcam_default_layer(*advised);
  CHECK(advised->layer(a).kind() == "relu");
  CHECK(advised->layer(a - 1).kind() == "batchnorm2d");
  CHECK(advised->layer(a - 2).kind() == "conv2d");
  auto tiny = load_model_spec(std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec");
  CHECK(gradcam_default_layer(*tiny) == 4);
  tiny->init(1);
  const Tensor x = Tensor::zeros(Shape{2, 3, 32, 32});
  GradCamOptions o;
  o.layer = 6;  // flatten: not a feature map
  CHECK_THROWS_WITH_AS(grad_cam(*tiny, x, o), doctest::Contains("not a [channels, height, width]"),
                       std::invalid_argument);
  o.layer = 1;  // an earlier conv layer works too
  CHECK(grad_cam(*tiny, x, o).heatmap.shape() == Shape{2, 32, 32});
  auto dense_only = parse_model_spec("input height=4 width=4 channels=1\nflatten\ndense units=1\n", "<dense>");
  CHECK_THROWS_AS(gradcam_default_layer(*dense_only), std::invalid_argument);
}

TEST_CASE("gradcam: jet colour map, bilinear map resize and the overlay") {
  uint8_t c[3];
  jet_color(0.0f, c);
  CHECK((c[0] == 0 && c[1] == 0 && c[2] == 128));
  jet_color(1.0f, c);
  CHECK((c[0] == 128 && c[1] == 0 && c[2] == 0));
  jet_color(0.5f, c);
  CHECK((c[0] == 128 && c[1] == 255 && c[2] == 128));

  const float two[2] = {0.0f, 1.0f};  // 2x1 -> 4x1: half-pixel centres, clamped edges
  const std::vector<float> up = resize_map_bilinear(two, 2, 1, 4, 1);
  CHECK(up == std::vector<float>{0.0f, 0.25f, 0.75f, 1.0f});

  Image gray(5, 3, 1);
  for (size_t p = 0; p < gray.pixels.size(); ++p) gray.pixels[p] = uint8_t(p * 10);
  const float map[4] = {0, 0, 1, 1};
  const Image same = overlay_heatmap(gray, map, 2, 2, 0.0f);
  REQUIRE((same.width == 5 && same.height == 3 && same.channels == 3));
  for (int p = 0; p < 15; ++p)
    for (int ch = 0; ch < 3; ++ch) CHECK(same.pixels[size_t(p * 3 + ch)] == gray.pixels[size_t(p)]);
  const Image heat = overlay_heatmap(gray, map, 2, 2, 1.0f);
  CHECK(heat.at(0, 0, 2) == 128);  // top: cold (dark blue)
  CHECK(heat.at(0, 2, 0) == 128);  // bottom: hot (dark red)
}

TEST_CASE("Sequential: activation() and backward_to() for explanation tools") {
  auto m = load_model_spec(std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec");
  m->init(3);
  CHECK_THROWS_AS(m->activation(0), std::out_of_range);  // no forward yet
  const ToyBatch b = make_bar_images(2, 3, 32, 32, 1);
  const Tensor logits = m->forward(b.images, Mode::eval).clone();
  CHECK(m->activation(10).to_vector() == logits.to_vector());  // the last body layer's output = the logits
  CHECK(m->activation(4).shape() == Shape{2, 16, 13, 13});
  CHECK_THROWS_AS(m->activation(11), std::out_of_range);       // the sigmoid head is not run
  const Tensor dl = Tensor::full(Shape{2, 1}, 1.0f);
  CHECK_THROWS_AS(m->backward_to(dl, 11), std::out_of_range);
  CHECK(m->backward_to(dl, 10).to_vector() == dl.to_vector());
  m->zero_grad();
  const Tensor d4 = m->backward_to(dl, 4).clone();
  CHECK(d4.shape() == Shape{2, 16, 13, 13});
  // Only layers 5..10 ran: conv 3's gradients are untouched, dense 8's are not.
  for (const NamedParam& p : m->named_params()) {
    const std::vector<float> g = p.grad.to_vector();
    const bool any = std::any_of(g.begin(), g.end(), [](float v) { return v != 0.0f; });
    if (p.name[0] == '0' || p.name[0] == '3') CHECK_MESSAGE(!any, p.name);
    if (p.name == "8.weight" || p.name == "10.weight") CHECK_MESSAGE(any, p.name);
  }
  m->zero_grad();
}
