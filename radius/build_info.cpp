#include "radius/build_info.h"

#include "layers/gemm.h"
#include "layers/gemm_kernels.h"

namespace radius {
namespace {

// The library's own compile flags decide this (the macros of this translation unit).
const char* compiled_isa() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__AVX__)
  return "AVX";
#elif defined(__SSE4_2__)
  return "SSE4.2";
#elif defined(__x86_64__)
  return "SSE2 (x86-64 baseline)";
#elif defined(__aarch64__)
  return "AArch64 NEON";
#else
  return "the compiler's default";
#endif
}

BuildInfo make_build_info() {
  BuildInfo b;
  b.version = RADIUS_VERSION;
  b.build_type = RADIUS_BUILD_TYPE;
  b.compiler = RADIUS_BUILD_COMPILER;
  b.cuda = RADIUS_BUILD_CUDA != 0;
  if (b.cuda) {
    b.cuda_version = RADIUS_BUILD_CUDA_VERSION;
    b.cuda_architectures = RADIUS_BUILD_CUDA_ARCHITECTURES;
  }
  b.native = RADIUS_BUILD_NATIVE != 0;
  b.isa = compiled_isa();
  return b;
}

}  // namespace

const BuildInfo& build_info() {
  static const BuildInfo info = make_build_info();
  return info;
}

std::string build_info_text() {
  const BuildInfo& b = build_info();
  std::string s = "radius " + b.version + "\n";
  s += "build: " + (b.build_type.empty() ? std::string("(no build type)") : b.build_type) + ", " + b.compiler + "\n";
  s += "CPU: " + b.isa + (b.native ? " (-march=native: CPUs like the build machine's)" : " (portable)") + "\n";
  // Chosen at run time, not at build time: what this CPU runs (layers/gemm_kernels.h).
  std::string here;
  for (const std::string& k : sgemm_kernels_here()) here += (here.empty() ? "" : ", ") + k;
  s += std::string("GEMM kernel: ") + sgemm_kernel_name() + " (this CPU runs " + here + "; RADIUS_GEMM_KERNEL picks one)\n";
  s += "CUDA: " + (b.cuda ? "on (CUDA " + b.cuda_version + ", architectures " + b.cuda_architectures + ")"
                          : std::string("off")) + "\n";
  s += std::string("MPI: ") + (b.mpi ? "on" : "off");
  return s;
}

}  // namespace radius
