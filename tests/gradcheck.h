// Finite-difference gradient checking in double precision, shared by the tests.
//
// Every layer's math is a template; the checker runs it with T = double, takes
// loss = sum_i r_i * y_i for a fixed random r (so dloss/dy = r), and compares
// the analytic gradients from backward with central differences
//   (loss(x + eps e_j) - loss(x - eps e_j)) / (2 eps),  eps = 1e-6.
// In double the truncation error is ~eps^2 and rounding ~1e-16/eps, so agreement
// to ~1e-7 is expected of a correct backward and impossible for a wrong one.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "tensor/rng.h"

namespace radius::test {

inline std::vector<double> random_vector(size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Rng rng(seed, 99);
  std::vector<double> v(n);
  for (double& x : v) x = lo + (hi - lo) * double(rng.uniform());
  return v;
}

inline std::vector<float> random_floats(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng rng(seed, 98);
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(lo, hi);
  return v;
}

// Values bounded away from zero (|x| >= margin): ReLU's kink at 0 cannot be
// crossed by a finite-difference step, so the check stays honest.
inline std::vector<double> random_away_from_zero(size_t n, uint64_t seed, double margin = 1e-3) {
  std::vector<double> v = random_vector(n, seed);
  for (double& x : v)
    if (std::abs(x) < margin) x = x < 0 ? x - margin : x + margin;
  return v;
}

// Distinct values spaced >= 1e-3 apart (a shuffled ramp): no two max-pool
// candidates are within a finite-difference step, so the argmax never flips.
inline std::vector<double> random_distinct(size_t n, uint64_t seed) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = -1.0 + 2.0 * double(i) / double(n) + 1e-3 * double(i % 7);
  Rng rng(seed, 97);
  for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[rng.below(uint32_t(i))]);
  return v;
}

// d loss / d v[j] by central differences, loss() reading v.
inline std::vector<double> numeric_gradient(std::vector<double>& v, const std::function<double()>& loss,
                                            double eps = 1e-6) {
  std::vector<double> g(v.size());
  for (size_t j = 0; j < v.size(); ++j) {
    const double keep = v[j];
    v[j] = keep + eps;
    const double up = loss();
    v[j] = keep - eps;
    const double down = loss();
    v[j] = keep;
    g[j] = (up - down) / (2 * eps);
  }
  return g;
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// max_j |a_j - b_j| / max(1, |a_j|, |b_j|): relative for large values, absolute near 0.
inline double max_error(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max({1.0, std::abs(a[i]), std::abs(b[i])}));
  return worst;
}

constexpr double kGradTolerance = 1e-7;

}  // namespace radius::test
