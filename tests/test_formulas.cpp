// Properties of the formulas both backends share (kernels/formulas.h), pinned on
// the CPU: the CUDA kernels call the same functions, so what holds here holds
// for their per-element arithmetic too.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/formulas.h"
#include "tensor/rng.h"

using namespace radius;

TEST_CASE("formulas: pool_windows_covering is exactly the windows that contain an input index") {
  // The CUDA pooling backward gathers per input element over this range instead
  // of scattering per window (as the CPU does): a wrong bound drops or doubles a
  // gradient. Checked against the definition o*s <= i < o*s + pool, every case.
  for (int64_t pool = 1; pool <= 5; ++pool)
    for (int64_t s = 1; s <= 6; ++s)
      for (int64_t size = pool; size <= 17; ++size) {
        const int64_t out = (size - pool) / s + 1;  // Keras "valid"
        for (int64_t i = 0; i < size; ++i) {
          const formula::WindowRange r = formula::pool_windows_covering(i, pool, s, out);
          CAPTURE(pool); CAPTURE(s); CAPTURE(size); CAPTURE(i);
          for (int64_t o = 0; o < out; ++o) {
            const bool covers = o * s <= i && i < o * s + pool;
            CHECK(covers == (r.lo <= o && o <= r.hi));
          }
        }
      }
}

TEST_CASE("formulas: maxpool_argmax takes the first maximum, and a NaN never wins") {
  const Pool2dGeom g = Pool2dGeom::make(1, 3, 4, 2, 3, 1);  // windows overlap (stride 1)
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> plane = {1, 5, 5, 0,   // 5 twice in the first window: index 1 wins
                                    5, nan, 2, 7,  // the NaN is skipped, 7 wins window (0, 1)
                                    3, 9, 9, 9};
  CHECK(formula::maxpool_argmax(g, plane.data(), 0, 0) == 1);
  CHECK(formula::maxpool_argmax(g, plane.data(), 0, 1) == 7);
  CHECK(formula::maxpool_argmax(g, plane.data(), 1, 0) == 9);  // 9 at columns 1, 2: the first
  CHECK(std::isnan(formula::avgpool_window_sum(g, plane.data(), 0, 0)));  // an average does not skip it
  const Pool2dGeom g2 = Pool2dGeom::make(1, 3, 4, 2, 2, 2);  // windows (0, 0) and (0, 1); row 2 is dropped
  CHECK(formula::avgpool_window_sum(g2, plane.data(), 0, 1) == 5.f + 0.f + 2.f + 7.f);
}

TEST_CASE("formulas: the stable sigmoid and BCE stay finite and exact where the naive forms overflow") {
  for (const float x : {-1000.f, -100.f, -89.f, -20.f, -1.f, 0.f, 1.f, 20.f, 100.f, 1000.f}) {
    const float s = formula::stable_sigmoid(x), s_neg = formula::stable_sigmoid(-x);
    CAPTURE(x);
    CHECK(std::isfinite(s));
    CHECK(s >= 0.f);
    CHECK(s <= 1.f);
    CHECK(double(s) + double(s_neg) == doctest::Approx(1.0).epsilon(1e-6));  // s(-x) = 1 - s(x)
    CHECK(double(s) == doctest::Approx(1.0 / (1.0 + std::exp(-double(x)))).epsilon(1e-6));
  }
  Rng rng(7, 0);
  for (int trial = 0; trial < 200; ++trial) {
    const double z = rng.uniform(-12.f, 12.f), y = rng.uniform();
    const double p = 1.0 / (1.0 + std::exp(-z));
    const double textbook = -(y * std::log(p) + (1 - y) * std::log(1 - p));
    CAPTURE(z); CAPTURE(y);
    CHECK(formula::bce_with_logits(z, y) == doctest::Approx(textbook).epsilon(1e-9));
    // Symmetry of the two classes: the loss of (z, y) is the loss of (-z, 1 - y).
    CHECK(formula::bce_with_logits(z, y) == doctest::Approx(formula::bce_with_logits(-z, 1 - y)).epsilon(1e-12));
    // The gradient is the loss's derivative (central difference in double).
    const double h = 1e-6;
    const double fd = (formula::bce_with_logits(z + h, y) - formula::bce_with_logits(z - h, y)) / (2 * h);
    CHECK(formula::bce_with_logits_grad(z, y, 1.0) == doctest::Approx(fd).epsilon(1e-6));
  }
  // Far out, the loss is the linear term |z| (for the wrong label) or 0 (for the right one).
  CHECK(formula::bce_with_logits(1e4, 0.0) == doctest::Approx(1e4));
  CHECK(formula::bce_with_logits(-1e4, 0.0) == 0.0);
  CHECK(formula::bce_correct(0.5f, 1.f));
  CHECK_FALSE(formula::bce_correct(0.f, 1.f));  // z = 0 (p = 0.5) predicts the negative class
}

TEST_CASE("formulas: relu's derivative is 0 at 0, and sigmoid's comes from the output") {
  CHECK(formula::relu(-2.f) == 0.f);
  CHECK(formula::relu(3.f) == 3.f);
  CHECK(formula::relu_grad(0.f, 5.f) == 0.f);
  CHECK(formula::relu_grad(1e-30f, 5.f) == 5.f);
  const double x = 0.3, y = 1.0 / (1.0 + std::exp(-x));
  CHECK(formula::sigmoid_grad(y, 2.0) == doctest::Approx(2.0 * std::exp(-x) / ((1 + std::exp(-x)) * (1 + std::exp(-x)))));
}

TEST_CASE("formulas: the two Adam forms are the same update when eps is 0") {
  // Keras folds both bias corrections into the step size, PyTorch divides v's out
  // before adding eps: with eps = 0 the two are one formula (the difference is
  // where eps enters, nothing else). In double, over steps with random gradients.
  AdamConfig keras = AdamConfig::keras(0.01f), torch = AdamConfig::pytorch(0.01f);
  keras.eps = torch.eps = 0.f;
  double wk = 0.4, mk = 0, vk = 0, wt = 0.4, mt = 0, vt = 0;
  Rng rng(3, 0);
  for (int64_t t = 1; t <= 50; ++t) {
    const double g = rng.uniform(-1.f, 1.f);
    formula::adam_keras_update(wk, mk, vk, g, formula::adam_step_scalars<double>(keras, t));
    formula::adam_pytorch_update(wt, mt, vt, g, formula::adam_step_scalars<double>(torch, t));
    CHECK(wk == doctest::Approx(wt).epsilon(1e-12));
  }
  // Step 1 from zero state moves every weight by lr * sign(g) (Adam's normalisation).
  double w = 0, m = 0, v = 0;
  formula::adam_keras_update(w, m, v, -3e-3, formula::adam_step_scalars<double>(keras, 1));
  CHECK(w == doctest::Approx(double(keras.lr)).epsilon(1e-9));
}

TEST_CASE("formulas: a dropout block writes only below n, and only 0 or the keep scale") {
  const float rate = 0.3f, keep = formula::dropout_keep_scale<float>(rate);
  CHECK(keep == 1.0f / 0.7f);
  std::vector<float> mask(8, -1.f);  // n = 6: the second block is partial
  for (int64_t blk = 0; blk < 2; ++blk) formula::dropout_mask_block(11, 2, 5, blk, 6, rate, keep, mask.data());
  for (int i = 0; i < 6; ++i) CHECK((mask[size_t(i)] == 0.f || mask[size_t(i)] == keep));
  CHECK(mask[6] == -1.f);
  CHECK(mask[7] == -1.f);
  // The keep rate over many blocks is 1 - rate.
  const int64_t n = 1 << 16;
  std::vector<float> big(static_cast<size_t>(n));
  for (int64_t blk = 0; blk < n / 4; ++blk) formula::dropout_mask_block(11, 2, 5, blk, n, rate, keep, big.data());
  int64_t kept = 0;
  for (const float m : big) kept += m != 0.f;
  CHECK(double(kept) / double(n) == doctest::Approx(0.7).epsilon(0.02));
}
