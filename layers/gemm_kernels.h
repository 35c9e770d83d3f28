// The register micro-kernels of the packed SGEMM (layers/gemm.cpp), one per
// instruction set, and the choice among them made once at start from what the
// CPU says it has (cpuid): one binary uses AVX-512 where it exists, AVX2 + FMA
// where that is the widest, and plain C++ elsewhere, whatever -march the rest of
// the library was compiled with. A packaged (portable) build still runs at the
// machine's speed in its GEMMs.
//
//   RADIUS_GEMM_KERNEL=avx2 radius train ...   picks another one (for A/B runs)
//
// Every kernel computes each element of C as the same chain of fused multiply-
// adds over the depth, in depth order, so the FMA kernels (AVX-512 and AVX2)
// give the same bits: a model trains to the same weights on either kind of CPU
// (tests/test_gemm.cpp holds them to it).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace radius {

// C[rows, cols] = beta * C + sum over p < kc of a[p, 0..MR) (outer) b[p, 0..NR),
// a: a packed A micro-panel (kc x MR), b: a packed B micro-panel (kc x NR);
// only the rows x cols inside C are written (rows <= MR, cols <= NR).
using MicroKernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta,
                               int64_t rows, int64_t cols);

struct MicroKernel {
  const char* name;  // "avx512 16x16": how RADIUS_GEMM_KERNEL and --version name it, and its tile
  int64_t mr;        // rows of C per tile (the A panel's height); the tile's width is kGemmNR for all
  MicroKernelFn run;
};

constexpr int64_t kGemmNR = 16;

// The kernel every product uses: set at start (the widest this CPU runs, or
// RADIUS_GEMM_KERNEL), changed only by set_sgemm_kernel.
const MicroKernel& current_micro_kernel();

// The kernels this CPU can run, widest first ("avx512", "avx2", "portable").
std::vector<std::string> sgemm_kernels_here();

// Picks a kernel by its short name; throws std::invalid_argument naming the
// ones this CPU runs when it is unknown or unsupported here. For benchmarks and
// tests (A/B in one binary); not while a product is running.
void set_sgemm_kernel(const std::string& short_name);

}  // namespace radius
