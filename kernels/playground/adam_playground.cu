// Adam playground: numbered versions of one Adam step over the flat parameter
// buffer (Keras or PyTorch form, optim/config.h), each checked against the CPU
// (optim/adam.h's adam_update, in double) and timed by harness.cuh.
//
// Adam is pure bandwidth: per parameter it must read w, g, m, v (16 bytes) and
// write w, m, v (12 bytes), 28 bytes for ~10 FLOPs. The rate is GB/s of those 28
// bytes per parameter, whatever a version really moves, and % of the peak estimate.
//
//   v1 three passes   m, then v, then w, each its own kernel, as a framework built from
//                     elementwise tensor ops runs it: g is read twice, m and v written and
//                     read back: 40 bytes moved per parameter for the 28 needed, 3 launches
//   v2 fused          one kernel, one thread per parameter: every value read and written
//                     once (28 bytes), the update formulas.h's (the CPU's own function)
//   v3 float4         v2 with 16-byte loads and stores (a quarter of the memory
//                     instructions) and a grid-stride loop over a grid sized to the GPU,
//                     a scalar loop for the tail and for unaligned buffers
//   v4 backend        kernels/optim.h's adam_update (kernels/vec.cuh's map_kernel)
//
// Run: build/adam_playground [n=3453121 (the paper model)] [repeats=20]. Without a GPU:
// a message, exit 0.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/formulas.h"
#include "kernels/optim.h"
#include "kernels/playground/harness.cuh"
#include "kernels/playground/playground.h"
#include "optim/adam.h"

namespace radius::playground {
namespace {

constexpr int kThreads = 256;
using Scalars = formula::AdamScalars<float>;

// ---- v1: three passes ----------------------------------------------------------------
// formulas.h's update split into its three statements, one kernel each (the
// per-element arithmetic is the same; only the memory traffic differs).
template <AdamForm F> __global__ void v1_m(int64_t n, const float* __restrict__ g, float* __restrict__ m, Scalars s) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (F == AdamForm::keras) m[i] += (g[i] - m[i]) * (1.f - s.b1);
  else m[i] = s.b1 * m[i] + (1.f - s.b1) * g[i];
}
template <AdamForm F> __global__ void v1_v(int64_t n, const float* __restrict__ g, float* __restrict__ v, Scalars s) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (F == AdamForm::keras) v[i] += (g[i] * g[i] - v[i]) * (1.f - s.b2);
  else v[i] = s.b2 * v[i] + (1.f - s.b2) * g[i] * g[i];
}
template <AdamForm F>
__global__ void v1_w(int64_t n, float* __restrict__ w, const float* __restrict__ m, const float* __restrict__ v, Scalars s) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (F == AdamForm::keras) w[i] -= s.step * m[i] / (sqrtf(v[i]) + s.eps);
  else w[i] -= s.step * m[i] / (sqrtf(v[i]) * s.inv_sqrt_bc2 + s.eps);
}

template <AdamForm F> __device__ __forceinline__ void update(float& w, float& m, float& v, float g, const Scalars& s) {
  if (F == AdamForm::keras) formula::adam_keras_update(w, m, v, g, s);
  else formula::adam_pytorch_update(w, m, v, g, s);
}

// ---- v2: fused --------------------------------------------------------------------------
template <AdamForm F>
__global__ void v2_fused(int64_t n, float* __restrict__ w, const float* __restrict__ g, float* __restrict__ m,
                         float* __restrict__ v, Scalars s) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) update<F>(w[i], m[i], v[i], g[i], s);
}

// ---- v3: float4 + grid-stride -------------------------------------------------------------
// quads = n / 4 when the four buffers are 16-byte aligned (else 0: all scalar).
template <AdamForm F>
__global__ void v3_vec4(int64_t n, int64_t quads, float* __restrict__ w, const float* __restrict__ g,
                        float* __restrict__ m, float* __restrict__ v, Scalars s) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x, first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t q = first; q < quads; q += stride) {
    float4 wq = reinterpret_cast<float4*>(w)[q], mq = reinterpret_cast<float4*>(m)[q], vq = reinterpret_cast<float4*>(v)[q];
    const float4 gq = reinterpret_cast<const float4*>(g)[q];
    update<F>(wq.x, mq.x, vq.x, gq.x, s);
    update<F>(wq.y, mq.y, vq.y, gq.y, s);
    update<F>(wq.z, mq.z, vq.z, gq.z, s);
    update<F>(wq.w, mq.w, vq.w, gq.w, s);
    reinterpret_cast<float4*>(w)[q] = wq;
    reinterpret_cast<float4*>(m)[q] = mq;
    reinterpret_cast<float4*>(v)[q] = vq;
  }
  for (int64_t i = quads * 4 + first; i < n; i += stride) update<F>(w[i], m[i], v[i], g[i], s);  // the tail
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <AdamForm F> void run(int version, int64_t n, float* w, const float* g, float* m, float* v, const Scalars& s) {
  const unsigned blocks = unsigned((n + kThreads - 1) / kThreads);
  cudaStream_t st = cuda::stream();
  switch (version) {
    case 1:
      v1_m<F><<<blocks, kThreads, 0, st>>>(n, g, m, s);
      PG_CHECK_LAUNCH();
      v1_v<F><<<blocks, kThreads, 0, st>>>(n, g, v, s);
      PG_CHECK_LAUNCH();
      v1_w<F><<<blocks, kThreads, 0, st>>>(n, w, m, v, s);
      break;
    case 2: v2_fused<F><<<blocks, kThreads, 0, st>>>(n, w, g, m, v, s); break;
    case 3: {
      const int64_t quads = aligned16(w) && aligned16(g) && aligned16(m) && aligned16(v) ? n / 4 : 0;
      v3_vec4<F><<<cuda::grid_for(quads > 0 ? quads : n, kThreads), kThreads, 0, st>>>(n, quads, w, g, m, v, s);
      break;
    }
  }
  PG_CHECK_LAUNCH();
}

}  // namespace

const char* adam_name(int v) {
  static const char* names[] = {"", "v1 three passes", "v2 fused", "v3 fused float4", "v4 backend"};
  return v >= 1 && v <= kAdamVersions ? names[v] : "?";
}

void adam(int v, int64_t n, float* w, const float* g, float* m, float* v_state, int64_t t, const AdamConfig& c) {
  if (v < 1 || v > kAdamVersions) throw std::invalid_argument("adam playground: no version " + std::to_string(v));
  if (n <= 0) return;
  if (v == 4) return cuda::adam_update(n, w, g, m, v_state, t, c);
  const Scalars s = formula::adam_step_scalars<float>(c, t);  // the CPU's and the backend's scalars
  if (c.form == AdamForm::keras) run<AdamForm::keras>(v, n, w, g, m, v_state, s);
  else run<AdamForm::pytorch>(v, n, w, g, m, v_state, s);
}

// ---- the harness ---------------------------------------------------------------------------

namespace {

struct State {
  std::vector<float> w, g, m, v;
  State(int64_t n, unsigned seed)
      : w(random_vector(size_t(n), seed)), g(random_vector(size_t(n), seed + 1, -1e-2f, 1e-2f)),
        m(random_vector(size_t(n), seed + 2, -1e-2f, 1e-2f)), v(random_vector(size_t(n), seed + 3, 1e-6f, 1e-4f)) {}
};

}  // namespace

int adam_playground_main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 3453121;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  if (!have_gpu("adam_playground")) return 0;
  const Peak peak = device_peak();

  bool ok = true;
  char name[96];
  for (const AdamConfig& c : {AdamConfig::keras(1e-3f), AdamConfig::pytorch(1e-3f)})
    for (int64_t count : {int64_t(1), int64_t(7), int64_t(1029), int64_t(100003)}) {
      const State h(count, unsigned(count));
      // The CPU, in double: optim/adam.h's adam_update<double> at step 3.
      std::vector<double> w(h.w.begin(), h.w.end()), g(h.g.begin(), h.g.end()), m(h.m.begin(), h.m.end()),
          v(h.v.begin(), h.v.end());
      radius::adam_update<double>(count, w.data(), g.data(), m.data(), v.data(), 3, c);
      for (int ver = 1; ver <= kAdamVersions; ++ver) {
        Buffer<float> dw(h.w), dg(h.g), dm(h.m), dv(h.v);
        adam(ver, count, dw.get(), dg.get(), dm.get(), dv.get(), 3, c);
        const double err = std::max({rel_error(w, dw.download()), rel_error(m, dm.download()), rel_error(v, dv.download())});
        std::snprintf(name, sizeof name, "%s %s n=%lld", adam_name(ver), c.form == AdamForm::keras ? "keras" : "pytorch",
                      (long long)count);
        ok &= print_check(name, err, 1e-6);
      }
    }

  const State h(n, 7);
  Buffer<float> w(h.w), g(h.g), m(h.m), v(h.v);
  std::printf("\nAdam (Keras form) over %lld parameters: %.1f MB moved at best (28 bytes each)\n", (long long)n,
              28.0 * n / 1e6);
  print_header("version");
  for (int ver = 1; ver <= kAdamVersions; ++ver) {
    int64_t t = 1;  // the state drifts over the repeats; the work per call does not
    const float ms = median_ms([&] { adam(ver, n, w.get(), g.get(), m.get(), v.get(), t++, AdamConfig::keras()); }, repeats);
    print_row(adam_name(ver), ms, 28.0 * n, 0, peak);
  }
  return ok ? 0 : 1;
}

}  // namespace radius::playground
