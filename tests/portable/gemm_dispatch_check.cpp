// The SGEMM's run-time ISA dispatch as a portable package builds it: this program and
// its own copies of layers/gemm.cpp and layers/gemm_kernels.cpp are compiled without
// -march (CMakeLists.txt), so the AVX-512 and AVX2 micro-kernels exist only through
// their target attributes, as in a build with -DRADIUS_NATIVE=OFF. Every kernel this
// CPU runs multiplies random matrices, both transposes, against a double reference;
// the two FMA kernels must give the same bits. Exit 0 when all agree (a ctest entry).
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "layers/gemm.h"
#include "layers/gemm_kernels.h"

using namespace radius;

namespace {

// C = op(A) op(B) + beta C for m x n x k, row-major, through the current kernel.
std::vector<float> product(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const std::vector<float>& a,
                           const std::vector<float>& b, const std::vector<float>& c0, float beta) {
  std::vector<float> c = c0;
  sgemm(ta, tb, m, n, k, a.data(), ta == Trans::no ? k : m, b.data(), tb == Trans::no ? n : k, beta, c.data(), n);
  return c;
}

double worst_error(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, const std::vector<float>& a,
                   const std::vector<float>& b, const std::vector<float>& c0, float beta, const std::vector<float>& c) {
  double worst = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double want = double(beta) * c0[size_t(i * n + j)], scale = std::fabs(want);
      for (int64_t p = 0; p < k; ++p) {
        const double x = ta == Trans::no ? a[size_t(i * k + p)] : a[size_t(p * m + i)];
        const double y = tb == Trans::no ? b[size_t(p * n + j)] : b[size_t(j * k + p)];
        want += x * y;
        scale += std::fabs(x * y);
      }
      worst = std::max(worst, std::fabs(c[size_t(i * n + j)] - want) / (scale + 1e-30));
    }
  return worst;
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const auto random = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  };
  // Sizes off every tile multiple (MR 16 or 6, NR 16), deep enough for two depth blocks.
  const int64_t m = 37, n = 45, k = 300;
  const std::vector<float> a = random(size_t(m * k)), b = random(size_t(k * n)), c0 = random(size_t(m * n));
  bool ok = true;
  std::vector<float> fma_bits;
  for (const std::string& kernel : sgemm_kernels_here()) {
    set_sgemm_kernel(kernel);
    for (const Trans ta : {Trans::no, Trans::yes})
      for (const Trans tb : {Trans::no, Trans::yes}) {
        const std::vector<float> c = product(ta, tb, m, n, k, a, b, c0, 0.5f);
        const double err = worst_error(ta, tb, m, n, k, a, b, c0, 0.5f, c);
        const bool good = err < 1e-5;
        ok &= good;
        std::printf("%-9s %s%s  max relative error %.2e %s\n", kernel.c_str(), ta == Trans::no ? "N" : "T",
                    tb == Trans::no ? "N" : "T", err, good ? "ok" : "FAIL");
        if (kernel == "portable" || ta != Trans::no || tb != Trans::no) continue;
        if (fma_bits.empty()) {
          fma_bits = c;
        } else if (c != fma_bits) {
          std::printf("%s: not the bits of the other FMA kernel: FAIL\n", kernel.c_str());
          ok = false;
        }
      }
  }
  std::printf("%s\n", ok ? "all kernels agree" : "DISAGREE");
  return ok ? 0 : 1;
}
