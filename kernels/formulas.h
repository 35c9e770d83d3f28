// Formulas written once: every elementwise or per-index formula that the CPU
// backend (layers/, optim/) and the CUDA backend (kernels/*.cu) both compute.
//
// Each function here is the ONE definition of its formula. The CPU loop calls it
// per element (T = float, or double for the gradient checks); the CUDA kernel
// calls the same function with T = float. So the two backends cannot drift apart:
// they compute the same expression for each element, and differ only in the order
// of a reduction and in rounding (nvcc fuses a*b+c into one multiply-add where the
// host compiler may not, and the device's exp is not the host's). Functions are inline and branch-light, so a CPU loop that calls
// them still vectorises (`#pragma omp simd`; for those with std::sqrt, thanks to
// -fno-math-errno in CMakeLists.txt).
//
// What belongs here: a per-element or per-index formula with a CPU and a CUDA
// caller (an update rule, an activation and its derivative, a loss term, the
// index math of a window). What does not: loops, launches, reductions, anything
// that allocates. One section per op, in the order of a training step:
//   activations, dropout, pooling, batch normalisation, loss, optimizers.
//
// Compiles in plain C++ (the CPU build) and under nvcc (host and device): the
// macro below is the pattern of kernels/moments.h and kernels/augment_pixel.h.
#pragma once
#include <cmath>
#include <cstdint>

#include "layers/geometry.h"
#include "optim/config.h"
#include "tensor/rng.h"

#ifdef __CUDACC__
#define RADIUS_FORMULA __host__ __device__ __forceinline__
#else
#define RADIUS_FORMULA inline
#endif

namespace radius::formula {

// ---- activations -------------------------------------------------------------

// ReLU and its derivative. The derivative at exactly 0 is taken as 0 (as in
// PyTorch and TensorFlow); NaN inputs give 0 (NaN > 0 is false).
template <class T> RADIUS_FORMULA T relu(T x) { return x > T(0) ? x : T(0); }
template <class T> RADIUS_FORMULA T relu_grad(T x, T dy) { return x > T(0) ? dy : T(0); }

// The logistic function 1 / (1 + e^-x), numerically stable: it never evaluates
// exp of a large positive number (e^-x for x < 0 overflows to inf at x < -89 in
// float; e^x / (1 + e^x) there is exact and tends to 0 instead).
template <class T> RADIUS_FORMULA T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}
// From the saved output y = sigmoid(x): d sigma / dx = sigma (1 - sigma).
template <class T> RADIUS_FORMULA T sigmoid_grad(T y, T dy) { return dy * y * (T(1) - y); }

// ---- dropout (inverted) --------------------------------------------------------

// What a kept element is multiplied by, 1 / (1 - rate), so that evaluation needs
// no rescale. Computed in T from the float rate, on the host, once per call.
template <class T> RADIUS_FORMULA T dropout_keep_scale(float rate) { return T(1) / (T(1) - T(rate)); }

// The 4 mask values of Philox block `blk` of training call `call`: element
// 4*blk + j takes word j of the block at counter (call << 32 | blk) under
// (seed, stream), and is kept (keep_scale) when its uniform draw is >= rate, else
// dropped (0). Counter-based, so the mask depends on the element index alone, not
// on threads or the device. Writes only the elements below n (the last block may
// be partial).
template <class T>
RADIUS_FORMULA void dropout_mask_block(uint64_t seed, uint64_t stream, uint64_t call, int64_t blk, int64_t n,
                                       float rate, T keep_scale, T* mask) {
  const Philox4x32 r = philox_at(seed, stream, (call << 32) | uint64_t(blk));
  for (int j = 0; j < 4; ++j)
    if (blk * 4 + j < n) mask[blk * 4 + j] = uniform01(r.v[j]) >= rate ? keep_scale : T(0);
}

// ---- pooling (Keras "valid" windows, one [H, W] plane) ----------------------------

// Index into the input plane of element (ki, kj) of output (oi, oj)'s window.
RADIUS_FORMULA int64_t pool_input_index(const Pool2dGeom& g, int64_t oi, int64_t oj, int64_t ki, int64_t kj) {
  return (oi * g.stride + ki) * g.w + oj * g.stride + kj;
}

// The max pooling winner of output (oi, oj): the index into the plane of the
// first maximum in row-major window order (strict >, so the first of equal values
// wins ties, and a NaN never replaces the current best). Backward sends the
// gradient to this index alone.
template <class T> RADIUS_FORMULA int64_t maxpool_argmax(const Pool2dGeom& g, const T* plane, int64_t oi, int64_t oj) {
  int64_t best = pool_input_index(g, oi, oj, 0, 0);
  T best_v = plane[best];
  for (int64_t ki = 0; ki < g.ph; ++ki)
    for (int64_t kj = 0; kj < g.pw; ++kj) {
      const int64_t at = pool_input_index(g, oi, oj, ki, kj);
      if (plane[at] > best_v) {
        best = at;
        best_v = plane[at];
      }
    }
  return best;
}

// The sum over output (oi, oj)'s window, in row-major order (the average is this
// times 1 / (PH * PW), the scale the caller computes once).
template <class T> RADIUS_FORMULA T avgpool_window_sum(const Pool2dGeom& g, const T* plane, int64_t oi, int64_t oj) {
  T sum = T(0);
  for (int64_t ki = 0; ki < g.ph; ++ki)
    for (int64_t kj = 0; kj < g.pw; ++kj) sum += plane[pool_input_index(g, oi, oj, ki, kj)];
  return sum;
}

// The outputs whose windows cover input row (or column) i, along one axis of
// window `pool`, stride s and `out` outputs: exactly the o in [lo, hi] with
// o*s <= i < o*s + pool (empty, lo > hi, when no window reaches i: the rows a
// "valid" pooling drops, or the gaps of a stride larger than the window). A
// backward pass that gathers per input element (no atomics) visits these.
struct WindowRange {
  int64_t lo, hi;
};
RADIUS_FORMULA WindowRange pool_windows_covering(int64_t i, int64_t pool, int64_t s, int64_t out) {
  const int64_t lo = i < pool ? 0 : (i - pool) / s + 1;
  const int64_t last = i / s;
  return {lo, last < out - 1 ? last : out - 1};
}

// ---- batch normalisation (layers/batchnorm.h) ------------------------------------
RADIUS_FORMULA float bn_invstd(float var, float eps) { return 1.0f / sqrtf(var + eps); }
RADIUS_FORMULA double bn_invstd(double var, double eps) { return 1.0 / sqrt(var + eps); }
// y = gamma * xhat + beta, xhat = (x - mean) * invstd.
template <class T> RADIUS_FORMULA T bn_normalize(T x, T mean, T invstd, T gamma, T beta) {
  return gamma * ((x - mean) * invstd) + beta;
}
// An exponential moving average: the running statistics' update.
template <class T> RADIUS_FORMULA T bn_running(T running, T batch, T momentum) {
  return momentum * running + (T(1) - momentum) * batch;
}
// dx in training mode: scale = gamma * invstd; mean_dy, mean_dy_xhat: the channel's
// means of dy and of dy * xhat (the batch statistics' own gradient terms).
template <class T> RADIUS_FORMULA T bn_backward_dx(T dy, T xhat, T scale, T mean_dy, T mean_dy_xhat) {
  return scale * (dy - mean_dy - xhat * mean_dy_xhat);
}

// ---- binary cross-entropy on logits --------------------------------------------

// The loss of one logit z against label y (in [0, 1]), in double:
//   -[y log s(z) + (1 - y) log(1 - s(z))] = max(z, 0) - z y + log(1 + e^-|z|)
// The right-hand form is the stable one (TensorFlow's
// sigmoid_cross_entropy_with_logits): e^-|z| <= 1, so nothing overflows and no
// log(0) is taken, and it is finite for any finite z; the naive form is not for
// |z| of a few tens. Double, because the batch mean sums these terms.
RADIUS_FORMULA double bce_with_logits(double z, double y) {
  return (z < 0.0 ? 0.0 : z) - z * y + std::log1p(std::exp(-std::fabs(z)));
}
// d loss / dz of one logit, already divided by the batch size n (inv_n = 1 / n):
// (s(z) - y) / n, with the stable sigmoid.
template <class T> RADIUS_FORMULA T bce_with_logits_grad(T z, T y, T inv_n) { return (stable_sigmoid(z) - y) * inv_n; }
// Whether a logit predicts its label: the positive class is z > 0 (p > 0.5) and a
// label counts as positive above 0.5 (soft labels included).
RADIUS_FORMULA bool bce_correct(float z, float y) { return (z > 0.0f) == (y > 0.5f); }

// ---- optimizers --------------------------------------------------------------

// Adam (Kingma & Ba) in two forms that differ only in where epsilon goes; the
// per-step scalars (bias corrections 1 - b^t) are computed once per step, on the
// host, by adam_step_scalars, and passed to the per-element update.
//
// Keras form (keras/src/optimizers/adam.py; the default: the seed paper's model
// used it):
//   alpha_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
//   m += (g - m) (1 - b1);   v += (g^2 - v) (1 - b2)
//   w -= alpha_t * m / (sqrt(v) + eps)         eps (1e-7) on the UNcorrected sqrt(v)
// Folding both bias corrections into alpha_t means that, in the PyTorch form's
// terms, Keras' eps is eps / sqrt(1 - b2^t): about 32 times larger at step 1
// (b2 = 0.999), tending to eps itself as t grows.
//
// PyTorch form (torch.optim.Adam):
//   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   w -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)   eps (1e-8) on the corrected sqrt(v)
//
// The two agree except where sqrt(v) is comparable to eps (tiny gradients). Each
// form keeps its library's order of operations, so each matches its reference
// to rounding.
template <class T> struct AdamScalars {
  T b1, b2, eps;
  T step;          // keras: alpha_t; pytorch: lr / (1 - b1^t)
  T inv_sqrt_bc2;  // pytorch: 1 / sqrt(1 - b2^t) (keras: unused)
};

// The scalars of step t (1-based) for config c, in T. Host only: called once per
// step by the CPU loop and by the CUDA launcher alike, so both use the same values.
template <class T> inline AdamScalars<T> adam_step_scalars(const AdamConfig& c, int64_t t) {
  const T b1 = T(c.beta1), b2 = T(c.beta2), eps = T(c.eps), lr = T(c.lr);
  const T bc1 = T(1) - std::pow(b1, T(t)), bc2 = T(1) - std::pow(b2, T(t));  // bias corrections
  if (c.form == AdamForm::keras) return {b1, b2, eps, lr * std::sqrt(bc2) / bc1, T(1)};
  return {b1, b2, eps, lr / bc1, T(1) / std::sqrt(bc2)};
}

template <class T> RADIUS_FORMULA void adam_keras_update(T& w, T& m, T& v, T g, const AdamScalars<T>& s) {
  m += (g - m) * (T(1) - s.b1);
  v += (g * g - v) * (T(1) - s.b2);
  w -= s.step * m / (std::sqrt(v) + s.eps);
}

template <class T> RADIUS_FORMULA void adam_pytorch_update(T& w, T& m, T& v, T g, const AdamScalars<T>& s) {
  m = s.b1 * m + (T(1) - s.b1) * g;
  v = s.b2 * v + (T(1) - s.b2) * g * g;
  w -= s.step * m / (std::sqrt(v) * s.inv_sqrt_bc2 + s.eps);
}

// SGD with momentum, PyTorch's form:  u = mu u + g;  w -= lr u
// (nesterov: w -= lr (g + mu u)). For a constant learning rate this is Keras'
// trajectory (its velocity is -lr u); mu = 0 is plain gradient descent.
template <class T> RADIUS_FORMULA void sgd_update(T& w, T& u, T g, T lr, T mu, bool nesterov) {
  u = mu * u + g;
  w -= lr * (nesterov ? g + mu * u : u);
}

}  // namespace radius::formula
