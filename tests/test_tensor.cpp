#include <doctest/doctest.h>

#include <string>

#include "tensor/device_memory.h"
#include "tensor/eigen.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

using namespace radius;

TEST_CASE("tensor: shape, zeros, views share storage") {
  Tensor t = Tensor::zeros(Shape{4, 3, 2, 2});
  CHECK(t.numel() == 48);
  CHECK(t.shape().str() == "[4, 3, 2, 2]");
  Tensor rows = t.batch(1, 3);
  CHECK(rows.shape() == Shape{2, 3, 2, 2});
  rows.at(0) = 5.0f;              // element 0 of row 1
  CHECK(t.at(12) == 5.0f);        // visible through the parent
  Tensor flat = t.view(Shape{4, 12});
  CHECK(flat.at(12) == 5.0f);
  Tensor copy = t.clone();
  copy.at(12) = 7.0f;
  CHECK(t.at(12) == 5.0f);        // clone does not alias
}

TEST_CASE("tensor: shape mismatches throw with both shapes") {
  Tensor t = Tensor::zeros(Shape{2, 3});
  try {
    (void)t.view(Shape{4, 2, 1});
    FAIL("expected a throw");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK(msg.find("[2, 3]") != std::string::npos);
    CHECK(msg.find("[4, 2, 1]") != std::string::npos);
  }
  Tensor u = Tensor::zeros(Shape{3, 2});
  CHECK_THROWS_WITH_AS(t.copy_from(u), doctest::Contains("[2, 3] vs [3, 2]"), std::invalid_argument);
  CHECK_THROWS_AS((void)t.batch(1, 3), std::out_of_range);
  CHECK_THROWS_AS((void)t.slice(4, Shape{3}), std::out_of_range);
}

TEST_CASE("tensor: eigen maps see NCHW memory row-major") {
  Tensor t = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  auto m = as_matrix(t, 2, 3);
  CHECK(m(1, 0) == 4.0f);
  m(0, 2) = 9.0f;
  CHECK(t.at(2) == 9.0f);
  CHECK(as_vector(t).sum() == doctest::Approx(27.0));
  CHECK_THROWS_AS((void)as_matrix(t, 4, 2), std::invalid_argument);
}

TEST_CASE("tensor: asking for a GPU that is not there fails loudly") {
  if (cuda_available()) return;  // the CUDA tests cover the other case
  Tensor t = Tensor::zeros(Shape{3});
#ifdef RADIUS_WITH_CUDA
  // A CUDA build on a machine without a device (CI, the development machines).
  CHECK_THROWS_WITH_AS((void)t.to(Device::cuda), doctest::Contains("no CUDA device"), std::runtime_error);
#else
  CHECK_THROWS_WITH_AS((void)t.to(Device::cuda), doctest::Contains("without CUDA"), std::runtime_error);
#endif
  CHECK(t.to(Device::cpu).at(0) == 0.0f);
}

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors") {
  const Philox4x32 zero = philox4x32(0, 0, 0, 0, 0, 0);
  CHECK(zero.v[0] == 0x6627e8d5u);
  CHECK(zero.v[1] == 0xe169c58du);
  CHECK(zero.v[2] == 0xbc57ac4cu);
  CHECK(zero.v[3] == 0x9b00dbd8u);
  const Philox4x32 pi = philox4x32(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
  CHECK(pi.v[0] == 0xd16cfe09u);
  CHECK(pi.v[1] == 0x94fdccebu);
  CHECK(pi.v[2] == 0x5001e420u);
  CHECK(pi.v[3] == 0x24126ea1u);
}

TEST_CASE("rng: uniform and below stay in range and are reproducible") {
  Rng a(42, 1), b(42, 1), c(42, 2);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const float u = a.uniform();
    CHECK(u >= 0.0f);
    CHECK(u < 1.0f);
    CHECK(u == b.uniform());
    differs |= u != c.uniform();
    CHECK(a.below(7) < 7u);
    (void)b.below(7);
    (void)c.below(7);
  }
  CHECK(differs);
}
