// Helpers for the CPU-vs-CUDA tests (tests/test_cuda_*.cpp).
//
// Every CUDA test starts with RADIUS_SKIP_WITHOUT_CUDA(): without a device (CI,
// the development machines) it prints one message and passes. The tests go
// through the public Tensor/Layer API where they can, so they compile in a
// CPU-only build too; direct kernel tests are guarded by RADIUS_WITH_CUDA.
//
// Method: fresh random inputs for
// every check, GPU outputs poisoned with NaN before each run so an unwritten
// element fails, and ||gpu - cpu|| / ||cpu|| in double as the error measure.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "tensor/device_memory.h"
#include "tensor/tensor.h"
#include "tests/gradcheck.h"

#define RADIUS_SKIP_WITHOUT_CUDA()                                     \
  do {                                                                 \
    if (!::radius::cuda_available()) {                                 \
      MESSAGE("no CUDA device: skipped");                              \
      return;                                                          \
    }                                                                  \
  } while (0)

namespace radius::test {

// Relative error well under 1e-4 (FP32, different summation orders).
constexpr double kCudaTolerance = 2e-5;

// RADIUS_TEST_SMALL=1 (the compute-sanitizer runs) keeps only the small shapes.
inline bool small_tests() {
  const char* v = std::getenv("RADIUS_TEST_SMALL");
  return v && *v && *v != '0';
}

inline Tensor random_cpu(const Shape& s, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  return Tensor::from_vector(s, random_floats(size_t(s.numel()), seed, lo, hi));
}

// A CUDA tensor full of NaN: whatever a kernel fails to write stays NaN.
inline Tensor poisoned_cuda(const Shape& s) {
  return Tensor::full(s, std::numeric_limits<float>::quiet_NaN()).to(Device::cuda);
}

// ||got - want|| / ||want|| (want on the CPU, got anywhere); +inf on any NaN or
// shape mismatch, and the absolute error when want is all zeros.
inline double rel_error(const Tensor& want, const Tensor& got) {
  if (!(want.shape() == got.shape())) return std::numeric_limits<double>::infinity();
  const Tensor g = got.is_cpu() ? got : got.to(Device::cpu);
  const float* a = want.cpu();
  const float* b = g.cpu();
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    if (std::isnan(b[i]) || std::isnan(a[i])) return std::numeric_limits<double>::infinity();
    diff += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
    norm += double(a[i]) * double(a[i]);
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

// Exact equality (bitwise on the float values), for masks and argmax routing.
inline bool identical(const Tensor& want, const Tensor& got) {
  if (!(want.shape() == got.shape())) return false;
  const Tensor g = got.is_cpu() ? got : got.to(Device::cpu);
  for (int64_t i = 0; i < want.numel(); ++i)
    if (!(want.cpu()[i] == g.cpu()[i])) return false;
  return true;
}

}  // namespace radius::test
