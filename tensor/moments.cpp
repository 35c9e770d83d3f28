#include "tensor/moments.h"

#include <stdexcept>
#include <string>

#ifdef RADIUS_WITH_CUDA
#include "kernels/reduce.h"
#endif

namespace radius {

namespace {

void check_pair(const Tensor& x, const Tensor* y) {
  if (!x.defined() || x.numel() == 0) throw std::invalid_argument("moments: need a non-empty tensor");
  if (y && (!(y->shape() == x.shape()) || y->device() != x.device()))
    throw std::invalid_argument("moments: x - y needs the same shape and device, got " + x.shape().str() + " and " +
                                y->shape().str());
}

// rows x length elements starting at x (and y) on `device`; out: host [rows].
void rows_of(Device device, const float* x, const float* y, int64_t rows, int64_t length, Moments* out) {
  if (device == Device::cpu) {
    for (int64_t r = 0; r < rows; ++r) {
      Moments m;
      const float* xr = x + r * length;
      const float* yr = y ? y + r * length : nullptr;
      for (int64_t i = 0; i < length; ++i) push(m, yr ? double(xr[i]) - double(yr[i]) : double(xr[i]));
      out[r] = m;
    }
    return;
  }
#ifdef RADIUS_WITH_CUDA
  cuda::row_moments(x, y, rows, length, out);
#else
  throw std::logic_error("moments: a CUDA tensor in a build without CUDA");
#endif
}

}  // namespace

std::vector<Moments> row_moments(const Tensor& x, int64_t rows, const Tensor* y) {
  check_pair(x, y);
  if (rows < 1 || x.numel() % rows != 0)
    throw std::invalid_argument("row_moments: " + std::to_string(rows) + " rows do not divide " + x.shape().str());
  std::vector<Moments> out(static_cast<size_t>(rows));
  rows_of(x.device(), x.data(), y ? y->data() : nullptr, rows, x.numel() / rows, out.data());
  return out;
}

Moments tensor_moments(const Tensor& x, const Tensor* y) {
  check_pair(x, y);
  const int64_t n = x.numel(), full = n / kMomentsChunk, tail = n - full * kMomentsChunk;
  std::vector<Moments> parts(size_t(full + (tail > 0)));
  const float* yp = y ? y->data() : nullptr;
  if (full > 0) rows_of(x.device(), x.data(), yp, full, kMomentsChunk, parts.data());
  if (tail > 0)
    rows_of(x.device(), x.data() + full * kMomentsChunk, yp ? yp + full * kMomentsChunk : nullptr, 1, tail,
            parts.data() + full);
  Moments total;
  for (const Moments& m : parts) merge(total, m);
  return total;
}

}  // namespace radius
