// The SGEMM micro-kernels (see gemm_kernels.h) and the choice among them.
//
// Each kernel is compiled for its own instruction set with a target attribute,
// not with the library's -march, so that every build holds all of them and the
// CPU decides at run time. A kernel keeps its tile of C in vector registers for
// the whole depth loop: per depth step it loads one row of the B panel (NR = 16
// floats), broadcasts the MR values of the A panel one by one, and does one FMA
// per (row of C, vector of B). How many rows it can keep is what the register
// file allows:
//
//   AVX2   16 ymm registers of 8 floats: 6 rows x 2 vectors = 12 accumulators,
//          2 for B, 1 for the broadcast.
//   AVX-512 32 zmm registers of 16 floats: 16 rows x 1 vector = 16 accumulators.
//          A 16-row tile divides every M the paper model's convolutions have
//          (32, 64, 128 filters; patches of 288, 576, 1152), so no tile is partial.
//
// Both need enough independent accumulators to cover the FMA latency (4 cycles)
// on two FMA pipes: >= 8 in flight. The AVX-512 kernel does twice the work per
// instruction; on cores with two 512-bit FMA pipes (Intel server cores) that
// doubles the peak, on Zen 4 (512-bit FMAs issued as two 256-bit halves) it
// mainly halves the instruction count. bench/bench_gemm.cpp measures them side by side.
#include "layers/gemm_kernels.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RADIUS_X86_KERNELS 1
#endif

namespace radius {
namespace {

constexpr int64_t NR = kGemmNR;

// ---- portable: C++ with the compiler's vector extension (GCC and clang) ----------
// A row of the tile is one 16-float vector, which the compiler maps onto what the
// target has (4 NEON or SSE registers, 2 AVX ones). Whether a * b + t is fused
// into one FMA is the compiler's choice here, so this kernel's last bits may
// differ from the two below; it runs only where neither does.
void micro_portable(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta, int64_t rows,
                    int64_t cols) {
  constexpr int64_t MR = 6;
  typedef float Row __attribute__((vector_size(NR * sizeof(float))));
  Row t[MR] = {};
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    Row bv;
    std::memcpy(&bv, b, sizeof bv);
    for (int64_t i = 0; i < MR; ++i) t[i] += a[i] * bv;
  }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) c[i * ldc + j] = beta == 0.0f ? t[i][j] : beta * c[i * ldc + j] + t[i][j];
}

#ifdef RADIUS_X86_KERNELS
// ---- AVX2 + FMA: 6 x 16 ------------------------------------------------------------
__attribute__((target("avx2,fma"))) void micro_avx2_6x16(int64_t kc, const float* a, const float* b, float* c,
                                                          int64_t ldc, float beta, int64_t rows, int64_t cols) {
  constexpr int64_t MR = 6;
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int64_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t i = 0; i < MR; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int64_t i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  // C = acc, or beta * C + acc as one FMA; a partial tile masks the lanes past cols.
  const __m256 vbeta = _mm256_set1_ps(beta);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i mask[2] = {_mm256_cmpgt_epi32(_mm256_set1_epi32(int(cols)), lane),
                           _mm256_cmpgt_epi32(_mm256_set1_epi32(int(cols) - 8), lane)};
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      float* ci = c + i * ldc + 8 * h;
      if (cols == NR) {
        _mm256_storeu_ps(ci, beta == 0.0f ? acc[i][h] : _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(ci), acc[i][h]));
      } else {
        const __m256 v = beta == 0.0f ? acc[i][h] : _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(ci, mask[h]), acc[i][h]);
        _mm256_maskstore_ps(ci, mask[h], v);
      }
    }
}

// ---- AVX-512: 16 x 16 --------------------------------------------------------------
__attribute__((target("avx512f"))) void micro_avx512_16x16(int64_t kc, const float* a, const float* b, float* c,
                                                            int64_t ldc, float beta, int64_t rows, int64_t cols) {
  constexpr int64_t MR = 16;
  __m512 acc[MR];
#pragma GCC unroll 16
  for (int64_t i = 0; i < MR; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t i = 0; i < rows; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    const __m512 bv = _mm512_load_ps(b);
#pragma GCC unroll 16
    for (int64_t i = 0; i < MR; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), bv, acc[i]);
  }
  // One mask for the lanes inside C: the whole row for a full tile.
  const __mmask16 inside = cols >= NR ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
  const __m512 vbeta = _mm512_set1_ps(beta);
  for (int64_t i = 0; i < rows; ++i) {
    float* ci = c + i * ldc;
    const __m512 v = beta == 0.0f ? acc[i] : _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(inside, ci), acc[i]);
    _mm512_mask_storeu_ps(ci, inside, v);
  }
}

bool avx2_here() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool avx512_here() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");  // libgcc also checks that the OS saves the zmm state
}
#endif

bool always() { return true; }

struct Entry {
  const char* short_name;
  MicroKernel kernel;
  bool (*here)();
};

// Widest first: the default is the first this CPU runs.
const Entry kEntries[] = {
#ifdef RADIUS_X86_KERNELS
    {"avx512", {"avx512 16x16", 16, micro_avx512_16x16}, avx512_here},
    {"avx2", {"avx2+fma 6x16", 6, micro_avx2_6x16}, avx2_here},
#endif
    {"portable", {"portable 6x16", 6, micro_portable}, always},
};

const MicroKernel* find_here(const std::string& short_name) {
  for (const Entry& e : kEntries)
    if (short_name == e.short_name) {
      if (!e.here()) return nullptr;
      return &e.kernel;
    }
  return nullptr;
}

std::string kernels_here_text() {
  std::string s;
  for (const std::string& k : sgemm_kernels_here()) s += (s.empty() ? "" : ", ") + k;
  return s;
}

const MicroKernel* pick(const std::string& short_name, const char* where) {
  if (const MicroKernel* k = find_here(short_name)) return k;
  throw std::invalid_argument(std::string(where) + ": GEMM kernel '" + short_name +
                              "' is unknown or this CPU cannot run it; this CPU runs: " + kernels_here_text());
}

// The start-up choice: RADIUS_GEMM_KERNEL if set, else the widest kernel here.
// A bad RADIUS_GEMM_KERNEL is a warning, not an error: the first product may
// run inside an OpenMP region, which an exception must not leave.
const MicroKernel* initial_kernel() {
  const MicroKernel* widest = find_here(sgemm_kernels_here().front());
  const char* env = std::getenv("RADIUS_GEMM_KERNEL");
  if (!env || !*env) return widest;
  try {
    return pick(env, "RADIUS_GEMM_KERNEL");
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "radius: warning: %s; using %s\n", e.what(), widest->name);
    return widest;
  }
}

std::atomic<const MicroKernel*> g_kernel{nullptr};

}  // namespace

const MicroKernel& current_micro_kernel() {
  static const MicroKernel* const initial = initial_kernel();  // once, thread-safe
  const MicroKernel* k = g_kernel.load(std::memory_order_acquire);
  return k ? *k : *initial;
}

std::vector<std::string> sgemm_kernels_here() {
  std::vector<std::string> names;
  for (const Entry& e : kEntries)
    if (e.here()) names.emplace_back(e.short_name);
  return names;
}

void set_sgemm_kernel(const std::string& short_name) { g_kernel.store(pick(short_name, "set_sgemm_kernel")); }

}  // namespace radius
