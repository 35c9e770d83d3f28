// Optimizers against steps computed by hand from their published formulas.
#include <doctest/doctest.h>

#include <cmath>

#include "optim/adam.h"
#include "optim/sgd.h"

using namespace radius;

TEST_CASE("adam, keras form: two steps by hand (eps on the uncorrected sqrt(v))") {
  const AdamConfig c = AdamConfig::keras(0.1f);
  // The config holds floats: compute by hand with exactly those values.
  const double lr = c.lr, b1 = c.beta1, b2 = c.beta2, eps = c.eps;
  double w = 0.5, m = 0, v = 0;
  const double g[2] = {0.3, -0.2};
  for (int t = 1; t <= 2; ++t) {
    const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    m += (g[t - 1] - m) * (1 - b1);
    v += (g[t - 1] * g[t - 1] - v) * (1 - b2);
    w -= alpha * m / (std::sqrt(v) + eps);
  }
  double ww = 0.5, mm = 0, vv = 0;
  for (int t = 1; t <= 2; ++t) adam_update(1, &ww, &g[t - 1], &mm, &vv, t, c);
  CHECK(ww == doctest::Approx(w).epsilon(1e-12));
  // After the first step Adam moves by ~lr: the hallmark of its normalisation.
  double w1 = 0.5, m1 = 0, v1 = 0;
  adam_update(1, &w1, &g[0], &m1, &v1, 1, c);
  CHECK(0.5 - w1 == doctest::Approx(0.1).epsilon(1e-5));
}

TEST_CASE("adam, pytorch form: eps on the bias-corrected sqrt(v)") {
  const AdamConfig c = AdamConfig::pytorch(0.01f);
  CHECK(c.eps == 1e-8f);
  const double lr = c.lr, b1 = c.beta1, b2 = c.beta2, eps = c.eps;
  double w = 1.0, m = 0, v = 0;
  const double g[3] = {1e-3, 2e-3, -5e-4};
  double ww = 1.0, mm = 0, vv = 0;
  for (int t = 1; t <= 3; ++t) {
    m = b1 * m + (1 - b1) * g[t - 1];
    v = b2 * v + (1 - b2) * g[t - 1] * g[t - 1];
    const double mhat = m / (1 - std::pow(b1, t)), vhat = v / (1 - std::pow(b2, t));
    w -= lr * mhat / (std::sqrt(vhat) + eps);
    adam_update(1, &ww, &g[t - 1], &mm, &vv, t, c);
  }
  CHECK(ww == doctest::Approx(w).epsilon(1e-12));
}

TEST_CASE("adam: the two forms differ only when sqrt(v) is near eps") {
  const double g = 1e-9;  // tiny gradient: sqrt(v) ~ eps
  double wk = 0, mk = 0, vk = 0, wp = 0, mp = 0, vp = 0;
  AdamConfig keras = AdamConfig::keras(), torch = AdamConfig::pytorch();
  torch.eps = keras.eps;
  adam_update(1, &wk, &g, &mk, &vk, 1, keras);
  adam_update(1, &wp, &g, &mp, &vp, 1, torch);
  CHECK(std::abs(wk - wp) > 1e-6);  // eps enters at different scales
  const double big = 0.5;
  wk = mk = vk = wp = mp = vp = 0;
  adam_update(1, &wk, &big, &mk, &vk, 1, keras);
  adam_update(1, &wp, &big, &mp, &vp, 1, torch);
  CHECK(wk == doctest::Approx(wp).epsilon(1e-5));
}

TEST_CASE("adam: the optimizer object steps a flat buffer and counts steps") {
  Tensor w = Tensor::from_vector(Shape{3}, {1, 2, 3});
  Tensor g = Tensor::from_vector(Shape{3}, {0.5f, -0.5f, 0.25f});
  Adam adam(AdamConfig::keras(0.01f));
  adam.step(w, g);
  adam.step(w, g);
  CHECK(adam.steps() == 2);
  CHECK(w.at(0) < 1.0f);
  CHECK(w.at(1) > 2.0f);
  CHECK(adam.state().size() == 2);
  Tensor wrong = Tensor::zeros(Shape{4});
  CHECK_THROWS_AS(adam.step(wrong, g), std::invalid_argument);
}

TEST_CASE("sgd with momentum: hand-computed velocity, and nesterov") {
  SgdConfig c{0.1f, 0.9f, false};
  double w = 1.0, u = 0.0;
  const double g1 = 0.5, g2 = 0.25;
  sgd_update(1, &w, &g1, &u, c);  // u = 0.5, w = 1 - 0.05
  CHECK(w == doctest::Approx(0.95));
  sgd_update(1, &w, &g2, &u, c);  // u = 0.45 + 0.25 = 0.7, w = 0.95 - 0.07
  CHECK(u == doctest::Approx(0.7));
  CHECK(w == doctest::Approx(0.88));
  c.nesterov = true;
  double wn = 1.0, un = 0.0;
  sgd_update(1, &wn, &g1, &un, c);  // u = 0.5; w -= 0.1 (0.5 + 0.45)
  CHECK(wn == doctest::Approx(1.0 - 0.095));
  CHECK_THROWS_AS(Sgd(SgdConfig{0.1f, 1.5f, false}), std::invalid_argument);
}
