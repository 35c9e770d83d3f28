#include "optim/clip.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "layers/layer.h"
#include "tensor/moments.h"
#ifdef RADIUS_WITH_CUDA
#include "kernels/reduce.h"
#endif

namespace radius {

namespace {

// Chunks of 64 K elements fixed by n alone, each summed in order, the chunk sums
// added in chunk order: the same norm on any thread count (tensor/parallel.h).
double sum_squares(const float* p, int64_t n) {
  const int64_t chunk = 1 << 16, count = (n + chunk - 1) / chunk;
  std::vector<double> partial(size_t(count), 0.0);
#pragma omp parallel for schedule(static) if (count > 1)
  for (int64_t c = 0; c < count; ++c) {
    double s = 0;
    for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) s += double(p[i]) * double(p[i]);
    partial[size_t(c)] = s;
  }
  double s = 0;
  for (double part : partial) s += part;
  return s;
}

void scale(float* p, int64_t n, float k) {
#pragma omp parallel for simd schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) p[i] *= k;
}

}  // namespace

double global_norm(const Tensor& grads) {
  if (grads.is_cpu()) return std::sqrt(sum_squares(grads.cpu(), grads.numel()));
  return std::sqrt(tensor_moments(grads).sum_sq);  // on the device: a deterministic reduction, 72-byte downloads
}

double clip_grad_norm(Tensor& grads, double max_norm) {
  if (!(max_norm > 0)) throw std::invalid_argument("clip_grad_norm: max_norm must be > 0");
  const double norm = global_norm(grads);
  if (norm > max_norm && std::isfinite(norm)) {
    const float k = float(max_norm / norm);
    if (grads.is_cpu()) {
      scale(grads.cpu(), grads.numel(), k);
    } else {
#ifdef RADIUS_WITH_CUDA
      cuda::scale(grads.numel(), k, grads.data());
#else
      unreachable_without_cuda("clip_grad_norm");
#endif
    }
  }
  return norm;
}

}  // namespace radius
