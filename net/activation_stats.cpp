#include "net/activation_stats.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "tensor/moments.h"

namespace radius {

double ActivationStats::dead_fraction() const {
  if (alive.empty()) return std::numeric_limits<double>::quiet_NaN();
  int64_t dead = 0;
  for (uint8_t a : alive) dead += a == 0;
  return double(dead) / double(alive.size());
}

ActivationStats activation_stats(const Tensor& activation) {
  if (activation.rank() == 0 || activation.numel() == 0)
    throw std::invalid_argument("activation_stats: need a non-empty [N, units, ...] tensor, got " +
                                activation.shape().str());
  if (!activation.is_cpu()) return activation_stats_by_rows(activation);  // on the device: no copy of the tensor
  const Tensor& host = activation;
  const int64_t n = host.rank() == 1 ? 1 : host.dim(0);
  const int64_t units = host.rank() == 1 ? host.dim(0) : host.dim(1);
  const int64_t inner = host.numel() / (n * units);  // H*W for conv outputs, 1 for dense
  const float* v = host.cpu();

  ActivationStats s;
  s.channels = units;
  s.alive.assign(size_t(units), 0);
  s.min = std::numeric_limits<double>::infinity();
  s.max = -s.min;
  double sum = 0;
  int64_t zeros = 0;
  for (int64_t u = 0; u < units; ++u) {
    bool all_zero = true, any_positive = false;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t k = 0; k < inner; ++k) {
        const float x = v[(b * units + u) * inner + k];  // [N, units, inner] layout
        sum += x;
        s.min = std::min(s.min, double(x));
        s.max = std::max(s.max, double(x));
        zeros += x == 0.0f;
        all_zero = all_zero && x == 0.0f;
        any_positive = any_positive || x > 0.0f;
        s.finite = s.finite && std::isfinite(x);
      }
    s.dead_channels += all_zero;
    s.alive[size_t(u)] = any_positive;
  }
  const double count = double(host.numel());
  s.mean = sum / count;
  // A second pass for the spread: E[x^2] - mean^2 cancels badly when the mean is large.
  double squares = 0;
  for (int64_t i = 0; i < host.numel(); ++i) squares += (v[i] - s.mean) * (v[i] - s.mean);
  s.std = std::sqrt(squares / count);
  s.zero_fraction = double(zeros) / count;
  return s;
}

// Row (b, u) of the [N * units, inner] view is unit u of sample b: its Moments say
// whether the unit fired (positives) or stayed exactly 0 (zeros == count) there.
ActivationStats activation_stats_by_rows(const Tensor& activation) {
  if (activation.rank() == 0 || activation.numel() == 0)
    throw std::invalid_argument("activation_stats: need a non-empty [N, units, ...] tensor, got " +
                                activation.shape().str());
  const int64_t n = activation.rank() == 1 ? 1 : activation.dim(0);
  const int64_t units = activation.rank() == 1 ? activation.dim(0) : activation.dim(1);
  const std::vector<Moments> rows = row_moments(activation, n * units);  // [n * units]

  ActivationStats s;
  s.channels = units;
  s.alive.assign(size_t(units), 0);
  std::vector<uint8_t> all_zero(size_t(units), 1);
  Moments total;
  for (int64_t r = 0; r < n * units; ++r) {  // row order: deterministic
    const Moments& m = rows[size_t(r)];
    const size_t u = size_t(r % units);
    merge(total, m);
    s.alive[u] |= uint8_t(m.positives > 0);
    all_zero[u] &= uint8_t(m.zeros == m.count);
  }
  for (uint8_t z : all_zero) s.dead_channels += z;
  s.mean = total.mean;
  s.std = std::sqrt(total.variance());
  s.min = total.min;
  s.max = total.max;
  s.zero_fraction = double(total.zeros) / double(total.count);
  s.finite = total.nonfinite == 0;
  return s;
}

}  // namespace radius
