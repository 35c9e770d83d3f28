// Reductions playground: three reductions of the training step, each in numbered
// versions, checked against the CPU (layers/bce.h, optim/clip.h, tensor/moments.h)
// and timed by harness.cuh (GB/s of the input read once, % of the peak estimate).
// Every version returns its result on the host, so every timing includes the
// final download and synchronisation, as the backend's do.
//
//   BCE loss   mean over n logits of max(z, 0) - z y + log(1 + e^-|z|)  (formulas.h), in double
//   norm       sqrt(sum g^2), in double: gradient clipping's global norm
//   moments    count, mean, M2, sum of squares, min/max, counts (kernels/moments.h): a
//              Welford state, merged with Chan's formula, not added
//
//   v1 atomics            every thread adds its grid-stride partial to one double with
//                         atomicAdd: one pass, but the threads queue on one address and the
//                         order of the additions (so the last bits) changes run to run.
//                         No moments version: a Welford state cannot be merged by an atomic add.
//   v2 block tree         each block sums in shared memory (a halving tree, a barrier per
//                         level) into one partial; a second one-block pass sums the partials
//                         in a fixed order: deterministic, no contention
//   v3 warp shuffles      v2 with the first five levels of every tree done in registers
//                         by __shfl_down_sync (no shared memory, no barriers), one shared
//                         slot per warp; the same fixed two-pass order
//   v4 backend            BCE: kernels/loss.h (one block: the batch is tens of logits);
//                         norm and moments: kernels/reduce.h's row_moments over
//                         tensor/moments.h's rows, merged on the host in row order
//
// The grid of v1..v3 depends on n alone, so v2 and v3 give the same bits on any card.
// Run: build/reduce_playground [n=3453121 (the paper model's parameters)] [repeats=20].
// Without a GPU: a message, exit 0.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/formulas.h"
#include "kernels/loss.h"
#include "kernels/playground/harness.cuh"
#include "kernels/playground/playground.h"
#include "kernels/reduce.h"
#include "layers/bce.h"
#include "optim/clip.h"
#include "tensor/device_memory.h"
#include "tensor/moments.h"

namespace radius::playground {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32;
constexpr unsigned kFull = 0xffffffffu;

// Blocks for n elements: about 8 per thread, at most 1024 partials. A function of n
// alone (not of the SM count), so the summation order is the same on every card.
unsigned blocks_for(int64_t n) {
  return unsigned(std::max<int64_t>(1, std::min<int64_t>((n + kThreads * 8 - 1) / (kThreads * 8), 1024)));
}

// The terms summed: element i's contribution, in double.
struct BceTerm {
  const float *z, *y;
  __device__ double operator()(int64_t i) const { return formula::bce_with_logits(double(z[i]), double(y[i])); }
};
struct SquareTerm {
  const float* g;
  __device__ double operator()(int64_t i) const { return double(g[i]) * double(g[i]); }
};

// ---- v1: atomics ---------------------------------------------------------------------
template <class Term> __global__ void sum_atomic(int64_t n, Term term, double* out) {
  double s = 0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    s += term(i);
  atomicAdd(out, s);  // 262 K threads at n = 3.45 M, all on one address
}

// ---- the block reductions of v2 and v3 (the sum ends in thread 0) ----------------------
__device__ double block_sum_tree(double s) {
  __shared__ double sh[kThreads];
  sh[threadIdx.x] = s;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {  // 8 levels, a barrier each
    if (threadIdx.x < half) sh[threadIdx.x] += sh[threadIdx.x + half];
    __syncthreads();
  }
  return sh[0];
}

__device__ double warp_sum(double s) {
  for (int off = 16; off > 0; off /= 2) s += __shfl_down_sync(kFull, s, off);  // lane 0 ends with the warp's sum
  return s;
}
__device__ double block_sum_shuffle(double s) {
  __shared__ double per_warp[kWarps];
  s = warp_sum(s);
  if (threadIdx.x % 32 == 0) per_warp[threadIdx.x / 32] = s;
  __syncthreads();  // the one barrier
  s = threadIdx.x < kWarps ? per_warp[threadIdx.x] : 0.0;
  return threadIdx.x < 32 ? warp_sum(s) : 0.0;
}

// Pass 1: one partial per block. Pass 2 (one block): the partials, in the same fixed order.
template <bool SHUFFLE, class Term> __global__ void sum_pass1(int64_t n, Term term, double* partial) {
  double s = 0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    s += term(i);
  s = SHUFFLE ? block_sum_shuffle(s) : block_sum_tree(s);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}
template <bool SHUFFLE> __global__ void sum_pass2(int count, const double* partial, double* out) {
  double s = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  s = SHUFFLE ? block_sum_shuffle(s) : block_sum_tree(s);
  if (threadIdx.x == 0) *out = s;
}

// Device scratch from the caching allocator, freed (stream-ordered) at scope end.
struct Scratch {
  double* p;
  explicit Scratch(size_t count) : p(static_cast<double*>(device_alloc(count * sizeof(double)))) {}
  ~Scratch() { device_free(p); }
};

double download(const double* d) {
  double h = 0;
  PG_CHECK(cudaMemcpyAsync(&h, d, sizeof h, cudaMemcpyDeviceToHost, cuda::stream()));
  PG_CHECK(cudaStreamSynchronize(cuda::stream()));
  return h;
}

template <class Term> double sum(int v, int64_t n, Term term) {
  const unsigned blocks = blocks_for(n);
  Scratch partial(blocks + 1);  // the partials, then the result
  double* out = partial.p + blocks;
  cudaStream_t s = cuda::stream();
  switch (v) {
    case 1:
      PG_CHECK(cudaMemsetAsync(out, 0, sizeof(double), s));
      sum_atomic<<<blocks, kThreads, 0, s>>>(n, term, out);
      break;
    case 2:
      sum_pass1<false><<<blocks, kThreads, 0, s>>>(n, term, partial.p);
      PG_CHECK_LAUNCH();
      sum_pass2<false><<<1, kThreads, 0, s>>>(int(blocks), partial.p, out);
      break;
    case 3:
      sum_pass1<true><<<blocks, kThreads, 0, s>>>(n, term, partial.p);
      PG_CHECK_LAUNCH();
      sum_pass2<true><<<1, kThreads, 0, s>>>(int(blocks), partial.p, out);
      break;
    default: throw std::invalid_argument("reduce playground: no version " + std::to_string(v));
  }
  PG_CHECK_LAUNCH();
  return download(out);
}

// ---- moments: v2 (block tree) and v3 (warp shuffles) per row, rows merged on the device --
// Rows are tensor/moments.h's (kMomentsChunk elements, a shorter last row), as in v4.
__device__ Moments block_moments_tree(const Moments& m) {
  __shared__ alignas(Moments) unsigned char storage[kThreads * sizeof(Moments)];  // no constructors in __shared__
  Moments* sh = reinterpret_cast<Moments*>(storage);
  sh[threadIdx.x] = m;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) merge(sh[threadIdx.x], sh[threadIdx.x + half]);
    __syncthreads();
  }
  const Moments r = sh[0];
  __syncthreads();  // sh[0] read by all before a later row overwrites it
  return r;
}

__device__ Moments shfl_down(const Moments& m, int off) {
  Moments o;
  o.count = __shfl_down_sync(kFull, (long long)m.count, off);
  o.mean = __shfl_down_sync(kFull, m.mean, off);
  o.m2 = __shfl_down_sync(kFull, m.m2, off);
  o.sum_sq = __shfl_down_sync(kFull, m.sum_sq, off);
  o.min = __shfl_down_sync(kFull, m.min, off);
  o.max = __shfl_down_sync(kFull, m.max, off);
  o.zeros = __shfl_down_sync(kFull, (long long)m.zeros, off);
  o.positives = __shfl_down_sync(kFull, (long long)m.positives, off);
  o.nonfinite = __shfl_down_sync(kFull, (long long)m.nonfinite, off);
  return o;
}
__device__ Moments block_moments_shuffle(Moments m) {
  __shared__ alignas(Moments) unsigned char storage[kWarps * sizeof(Moments)];
  Moments* per_warp = reinterpret_cast<Moments*>(storage);
  for (int off = 16; off > 0; off /= 2) merge(m, shfl_down(m, off));  // lane 0: the warp's lanes in a fixed tree
  if (threadIdx.x % 32 == 0) per_warp[threadIdx.x / 32] = m;
  __syncthreads();
  Moments r;
  if (threadIdx.x == 0)
    for (int w = 0; w < kWarps; ++w) merge(r, per_warp[w]);  // warps in order
  __syncthreads();
  return r;  // valid in thread 0
}

template <bool SHUFFLE> __global__ void moments_rows(const float* x, int64_t n, int64_t rows, Moments* out) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int64_t begin = row * kMomentsChunk, end = begin + kMomentsChunk < n ? begin + kMomentsChunk : n;
    Moments m;
    for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) push(m, double(x[i]));
    const Moments r = SHUFFLE ? block_moments_shuffle(m) : block_moments_tree(m);
    if (threadIdx.x == 0) out[row] = r;
  }
}
// The rows in order, by one thread (a few hundred merges): the host's merge of v4, on the device.
__global__ void merge_rows(const Moments* rows, int64_t count, Moments* out) {
  Moments total;
  for (int64_t r = 0; r < count; ++r) merge(total, rows[r]);
  *out = total;
}

// What tensor/moments.h's tensor_moments does for a CUDA tensor, on a raw pointer:
// the same rows through the same launcher (cuda::row_moments), merged in row order.
Moments backend_moments(int64_t n, const float* x) {
  const int64_t full = n / kMomentsChunk, tail = n - full * kMomentsChunk;
  std::vector<Moments> parts(size_t(full + (tail > 0)));
  if (full > 0) cuda::row_moments(x, nullptr, full, kMomentsChunk, parts.data());
  if (tail > 0) cuda::row_moments(x + full * kMomentsChunk, nullptr, 1, tail, parts.data() + full);
  Moments total;
  for (const Moments& m : parts) merge(total, m);
  return total;
}

}  // namespace

const char* reduce_name(int v) {
  static const char* names[] = {"", "v1 atomics", "v2 block tree, two pass", "v3 warp shuffles, two pass",
                                "v4 backend"};
  return v >= 1 && v <= kReduceVersions ? names[v] : "?";
}

double reduce_bce(int v, int64_t n, const float* z, const float* y) {
  if (n <= 0) throw std::invalid_argument("reduce_bce: empty batch");
  if (v == 4) return cuda::bce_with_logits_forward(n, z, y);
  return sum(v, n, BceTerm{z, y}) / double(n);
}

double reduce_norm(int v, int64_t n, const float* g) {
  if (v == 4) return std::sqrt(backend_moments(n, g).sum_sq);  // optim/clip.h's global_norm on a CUDA tensor
  return std::sqrt(sum(v, n, SquareTerm{g}));
}

Moments reduce_moments(int v, int64_t n, const float* x) {
  if (n <= 0) throw std::invalid_argument("reduce_moments: empty input");
  if (v == 4) return backend_moments(n, x);
  if (v != 2 && v != 3)
    throw std::invalid_argument("reduce_moments: no version " + std::to_string(v) +
                                (v == 1 ? " (a Welford state cannot be merged by an atomic add)" : ""));
  const int64_t rows = (n + kMomentsChunk - 1) / kMomentsChunk;
  Moments* dev = static_cast<Moments*>(device_alloc(size_t(rows + 1) * sizeof(Moments)));
  const unsigned blocks = unsigned(std::min<int64_t>(rows, 1024));
  if (v == 2) moments_rows<false><<<blocks, kThreads, 0, cuda::stream()>>>(x, n, rows, dev);
  else moments_rows<true><<<blocks, kThreads, 0, cuda::stream()>>>(x, n, rows, dev);
  PG_CHECK_LAUNCH();
  merge_rows<<<1, 1, 0, cuda::stream()>>>(dev, rows, dev + rows);
  PG_CHECK_LAUNCH();
  Moments host;
  PG_CHECK(cudaMemcpyAsync(&host, dev + rows, sizeof host, cudaMemcpyDeviceToHost, cuda::stream()));
  PG_CHECK(cudaStreamSynchronize(cuda::stream()));
  device_free(dev);
  return host;
}

// ---- the harness -------------------------------------------------------------------------

namespace {

double rel(double want, double got) { return std::fabs(got - want) / std::max(std::fabs(want), 1e-300); }

// The largest relative difference over the fields; counts and min/max must be exact.
double moments_error(const Moments& want, const Moments& got) {
  if (want.count != got.count || want.zeros != got.zeros || want.positives != got.positives ||
      want.nonfinite != got.nonfinite || want.min != got.min || want.max != got.max)
    return INFINITY;
  return std::max({rel(want.mean, got.mean), rel(want.m2, got.m2), rel(want.sum_sq, got.sum_sq)});
}

}  // namespace

int reduce_playground_main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 3453121;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  if (!have_gpu("reduce_playground")) return 0;
  const Peak peak = device_peak();

  // Logits in [-8, 8], labels 0/1 (some soft), gradients ~1e-3 with an offset (mean != 0).
  auto make = [](int64_t count, unsigned seed) {
    std::vector<float> z = random_vector(size_t(count), seed, -8.f, 8.f), y = random_vector(size_t(count), seed + 1, 0.f, 1.f);
    for (size_t i = 0; i < y.size(); ++i) y[i] = i % 7 == 0 ? y[i] : std::round(y[i]);
    std::vector<float> g = random_vector(size_t(count), seed + 2, -1e-3f, 2e-3f);
    return std::make_tuple(z, y, g);
  };

  bool ok = true;
  char name[96];
  for (int64_t count : {int64_t(1), int64_t(33), int64_t(16384), int64_t(40000), n}) {
    auto [hz, hy, hg] = make(count, unsigned(count));
    const Buffer<float> z(hz), y(hy), g(hg);
    const double want_bce = radius::bce_with_logits_forward<float>(count, hz.data(), hy.data());
    const Tensor tg = Tensor::from_vector(Shape{count}, hg);
    const double want_norm = radius::global_norm(tg);
    const Moments want_m = radius::tensor_moments(tg);
    for (int v = 1; v <= kReduceVersions; ++v) {
      std::snprintf(name, sizeof name, "bce %s n=%lld", reduce_name(v), (long long)count);
      ok &= print_check(name, rel(want_bce, reduce_bce(v, count, z.get(), y.get())), 1e-10);
      std::snprintf(name, sizeof name, "norm %s n=%lld", reduce_name(v), (long long)count);
      ok &= print_check(name, rel(want_norm, reduce_norm(v, count, g.get())), 1e-12);
      if (v == 1) continue;
      std::snprintf(name, sizeof name, "moments %s n=%lld", reduce_name(v), (long long)count);
      ok &= print_check(name, moments_error(want_m, reduce_moments(v, count, g.get())), 1e-9);
    }
  }

  auto [hz, hy, hg] = make(n, 7);
  const Buffer<float> z(hz), y(hy), g(hg);
  std::printf("\nn = %lld (BCE reads 8 bytes per element, norm and moments 4); each call includes its download\n",
              (long long)n);
  print_header("version");
  for (int v = 1; v <= kReduceVersions; ++v) {
    std::snprintf(name, sizeof name, "bce %s", reduce_name(v));
    print_row(name, median_ms([&] { reduce_bce(v, n, z.get(), y.get()); }, repeats), 8.0 * n, 0, peak);
  }
  for (int v = 1; v <= kReduceVersions; ++v) {
    std::snprintf(name, sizeof name, "norm %s", reduce_name(v));
    print_row(name, median_ms([&] { reduce_norm(v, n, g.get()); }, repeats), 4.0 * n, 0, peak);
  }
  for (int v = 2; v <= kReduceVersions; ++v) {
    std::snprintf(name, sizeof name, "moments %s", reduce_name(v));
    print_row(name, median_ms([&] { reduce_moments(v, n, g.get()); }, repeats), 4.0 * n, 0, peak);
  }
  return ok ? 0 : 1;
}

}  // namespace radius::playground
