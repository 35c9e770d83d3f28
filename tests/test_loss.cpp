#include <doctest/doctest.h>

#include <cmath>

#include "layers/bce.h"

using namespace radius;

TEST_CASE("bce from logits: matches the textbook formula where that is safe") {
  const float z[4] = {-2.0f, -0.5f, 0.3f, 3.0f}, y[4] = {0, 1, 0, 1};
  double expected = 0;
  for (int i = 0; i < 4; ++i) {
    const double s = 1 / (1 + std::exp(-double(z[i])));
    expected -= y[i] * std::log(s) + (1 - y[i]) * std::log(1 - s);
  }
  CHECK(bce_with_logits_forward(4, z, y) == doctest::Approx(expected / 4).epsilon(1e-6));
}

TEST_CASE("bce from logits: finite and exact at logits of +-100") {
  const float z[4] = {100.0f, -100.0f, 100.0f, -100.0f}, y[4] = {1, 0, 0, 1};
  // Right answers cost ~e^-100 each; wrong ones cost 100 each.
  CHECK(bce_with_logits_forward(2, z, y) == doctest::Approx(0.0).epsilon(1e-30));
  CHECK(bce_with_logits_forward(2, z + 2, y + 2) == doctest::Approx(100.0));
  float dz[4];
  bce_with_logits_backward(4, z, y, dz);
  for (float d : dz) CHECK(std::isfinite(d));
  CHECK(dz[0] == doctest::Approx(0.0f));
  CHECK(dz[2] == doctest::Approx(0.25f));   // (1 - 0) / 4
  CHECK(dz[3] == doctest::Approx(-0.25f));  // (0 - 1) / 4
}

TEST_CASE("bce tensor form: size mismatch is reported with both shapes") {
  Tensor z = Tensor::zeros(Shape{4, 1}), y = Tensor::zeros(Shape{3});
  CHECK_THROWS_WITH_AS(bce_with_logits(z, y), doctest::Contains("[4, 1]"), std::invalid_argument);
}
