// Fused optimizer steps over the flat buffers: each reads w, g and the state
// once and writes w and the state once (Adam: 16 bytes read and 12 written per
// parameter; SGD: 12 and 8), with 16-byte accesses. The per-step scalars (bias
// corrections) and the per-element updates are kernels/formulas.h's, the very
// functions optim/adam.cpp and optim/sgd.cpp call. The results agree to rounding,
// not bit for bit: nvcc contracts a*b+c into fused multiply-adds where the host
// compiler may not, or elsewhere.
#include "kernels/formulas.h"
#include "kernels/optim.h"
#include "kernels/vec.cuh"

namespace radius::cuda {
namespace {

// The per-element updates of kernels/formulas.h, applied W elements at a time.
template <AdamForm Form>
struct Adam {
  float *w, *m, *v;
  const float* g;
  formula::AdamScalars<float> s;
  bool vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> wv = load<W>(w + i), mv = load<W>(m + i), vv = load<W>(v + i);
    const Vec<W> gv = load<W>(g + i);
#pragma unroll
    for (int q = 0; q < W; ++q) {
      if constexpr (Form == AdamForm::keras) formula::adam_keras_update(wv[q], mv[q], vv[q], gv[q], s);
      else formula::adam_pytorch_update(wv[q], mv[q], vv[q], gv[q], s);
    }
    store<W>(w + i, wv);
    store<W>(m + i, mv);
    store<W>(v + i, vv);
  }
};

struct Sgd {
  float *w, *u;
  const float* g;
  float lr, mu;
  bool nesterov, vec;
  template <int W> __device__ void apply(int64_t i) const {
    Vec<W> wv = load<W>(w + i), uv = load<W>(u + i);
    const Vec<W> gv = load<W>(g + i);
#pragma unroll
    for (int q = 0; q < W; ++q) formula::sgd_update(wv[q], uv[q], gv[q], lr, mu, nesterov);
    store<W>(w + i, wv);
    store<W>(u + i, uv);
  }
};

}  // namespace

void adam_update(int64_t n, float* w, const float* g, float* m, float* v, int64_t t, const AdamConfig& c) {
  const formula::AdamScalars<float> s = formula::adam_step_scalars<float>(c, t);  // the CPU's scalars
  const bool vec = aligned16(w) && aligned16(g) && aligned16(m) && aligned16(v);
  if (c.form == AdamForm::keras)
    launch_map(n, Adam<AdamForm::keras>{w, m, v, g, s, vec}, "adam_update (keras)");
  else
    launch_map(n, Adam<AdamForm::pytorch>{w, m, v, g, s, vec}, "adam_update (pytorch)");
}

void sgd_update(int64_t n, float* w, const float* g, float* u, const SgdConfig& c) {
  const bool vec = aligned16(w) && aligned16(g) && aligned16(u);
  launch_map(n, Sgd{w, u, g, c.lr, c.momentum, c.nesterov, vec}, "sgd_update");
}

}  // namespace radius::cuda
