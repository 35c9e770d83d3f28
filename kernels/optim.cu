// Fused optimizer steps over the flat buffers: each reads w, g and the state
// once and writes w and the state once (Adam: 16 bytes read and 12 written per
// parameter; SGD: 12 and 8), with 16-byte accesses. The per-step scalars
// (bias corrections) are computed on the host with optim/adam.cpp's float
// expression (the same bits), and the per-element formulas are the CPU's, term
// for term. The results agree to rounding, not bit for bit: nvcc contracts
// a*b+c into fused multiply-adds where the host compiler may not, or elsewhere.
#include <cmath>

#include "kernels/optim.h"
#include "kernels/vec.cuh"

namespace radius::cuda {
namespace {

struct AdamKeras {  // m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= alpha m / (sqrt(v) + eps)
  float *w, *m, *v;
  const float* g;
  float b1, b2, eps, alpha;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> wv = load<W>(w + i), mv = load<W>(m + i), vv = load<W>(v + i);
    const Vec<W> gv = load<W>(g + i);
#pragma unroll
    for (int q = 0; q < W; ++q) {
      mv[q] += (gv[q] - mv[q]) * (1.f - b1);
      vv[q] += (gv[q] * gv[q] - vv[q]) * (1.f - b2);
      wv[q] -= alpha * mv[q] / (sqrtf(vv[q]) + eps);
    }
    store<W>(w + i, wv);
    store<W>(m + i, mv);
    store<W>(v + i, vv);
  }
};

struct AdamTorch {  // m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= step m / (sqrt(v) / sqrt(bc2) + eps)
  float *w, *m, *v;
  const float* g;
  float b1, b2, eps, step, inv_sqrt_bc2;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> wv = load<W>(w + i), mv = load<W>(m + i), vv = load<W>(v + i);
    const Vec<W> gv = load<W>(g + i);
#pragma unroll
    for (int q = 0; q < W; ++q) {
      mv[q] = b1 * mv[q] + (1.f - b1) * gv[q];
      vv[q] = b2 * vv[q] + (1.f - b2) * gv[q] * gv[q];
      wv[q] -= step * mv[q] / (sqrtf(vv[q]) * inv_sqrt_bc2 + eps);
    }
    store<W>(w + i, wv);
    store<W>(m + i, mv);
    store<W>(v + i, vv);
  }
};

struct Sgd {  // u = mu u + g; w -= lr (nesterov ? g + mu u : u)
  float *w, *u;
  const float* g;
  float lr, mu;
  bool nesterov, vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> wv = load<W>(w + i), uv = load<W>(u + i);
    const Vec<W> gv = load<W>(g + i);
#pragma unroll
    for (int q = 0; q < W; ++q) {
      uv[q] = mu * uv[q] + gv[q];
      wv[q] -= lr * (nesterov ? gv[q] + mu * uv[q] : uv[q]);
    }
    store<W>(w + i, wv);
    store<W>(u + i, uv);
  }
};

}  // namespace

void adam_update(int64_t n, float* w, const float* g, float* m, float* v, int64_t t, const AdamConfig& c) {
  const float b1 = c.beta1, b2 = c.beta2, eps = c.eps, lr = c.lr;
  const float bc1 = 1.f - std::pow(b1, float(t)), bc2 = 1.f - std::pow(b2, float(t));  // as optim/adam.cpp
  const bool vec = aligned16(w) && aligned16(g) && aligned16(m) && aligned16(v);
  if (c.form == AdamForm::keras)
    launch_map(n, AdamKeras{w, m, v, g, b1, b2, eps, lr * std::sqrt(bc2) / bc1, vec}, "adam_update (keras)");
  else
    launch_map(n, AdamTorch{w, m, v, g, b1, b2, eps, lr / bc1, 1.f / std::sqrt(bc2), vec}, "adam_update (pytorch)");
}

void sgd_update(int64_t n, float* w, const float* g, float* u, const SgdConfig& c) {
  const bool vec = aligned16(w) && aligned16(g) && aligned16(u);
  launch_map(n, Sgd{w, u, g, c.lr, c.momentum, c.nesterov, vec}, "sgd_update");
}

}  // namespace radius::cuda
