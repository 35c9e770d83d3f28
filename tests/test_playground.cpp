// The playgrounds' versions agree with their references: the CPU GEMM playground
// (bench/playground/gemm_cpu_versions.h) against a double product on odd sizes, and
// every CUDA op playground (kernels/playground/playground.h) against the backend's
// own launcher, its last version (skipped without a GPU, like every cuda: test).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "bench/playground/gemm_cpu_versions.h"
#include "tests/cuda_util.h"

using namespace radius;
using radius::playground::cpu::rel_error;

TEST_CASE("playground: every CPU GEMM version matches a double product on odd sizes") {
  namespace cpu = playground::cpu;
  struct Size { int64_t m, n, k; };
  // Edge tiles in every direction (MR 4 and 6, NR 16, the cache blocks), a depth of
  // more than one block (KC 256 and 320), and the degenerate 1x1x1.
  const Size sizes[] = {{1, 1, 1}, {5, 3, 2}, {7, 17, 13}, {67, 45, 129}, {61, 259, 333}, {130, 33, 700}};
  uint64_t seed = 10;
  for (const Size& s : sizes) {
    const std::vector<float> a = test::random_floats(size_t(s.m * s.k), ++seed);
    const std::vector<float> b = test::random_floats(size_t(s.k * s.n), ++seed);
    const std::vector<double> want = cpu::gemm_reference(s.m, s.n, s.k, a.data(), b.data());
    for (int v = 1; v <= cpu::kGemmVersions; ++v) {
      CAPTURE(s.m); CAPTURE(s.n); CAPTURE(s.k); CAPTURE(cpu::gemm_name(v));
      std::vector<float> c(size_t(s.m * s.n), NAN);  // every element must be written
      cpu::gemm(v, s.m, s.n, s.k, a.data(), b.data(), c.data());
      CHECK(rel_error(want, c) < 1e-5);
    }
  }
}

#if defined(RADIUS_WITH_CUDA) && defined(RADIUS_WITH_PLAYGROUND)
#include <cstring>

#include "kernels/playground/playground.h"
#include "layers/conv2d.h"
#include "layers/pool2d.h"

using namespace radius::test;

namespace {

Tensor device_random(int64_t n, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  return random_cpu(Shape{n}, seed, lo, hi).to(Device::cuda);
}

// The same bytes (argmax: int32 values kept in float tensors, compared as bits).
bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ha = a.to(Device::cpu), hb = b.to(Device::cpu);
  return ha.numel() == hb.numel() && std::memcmp(ha.cpu(), hb.cpu(), size_t(ha.numel()) * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("cuda: the conv2d playgrounds' versions agree with the backend (forward, backward-filter)") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const std::vector<Conv2dGeom> geoms = playground::conv_check_geometries();
  const int64_t n = 3;
  uint64_t seed = 100;
  for (const Conv2dGeom& g : geoms) {
    const Tensor x = device_random(n * g.c * g.h * g.w, ++seed), w = device_random(g.k * g.patch(), ++seed);
    const Tensor b = device_random(g.k, ++seed), dy = device_random(n * g.k * g.pixels(), ++seed);
    const Tensor dw0 = random_cpu(Shape{g.k * g.patch()}, ++seed);
    Tensor want = poisoned_cuda(Shape{n * g.k * g.pixels()});
    playground::conv_forward(playground::kConvForwardVersions, g, n, x.data(), w.data(), b.data(), want.data());
    Tensor want_dw = dw0.to(Device::cuda);
    playground::conv_filter(playground::kConvFilterVersions, g, n, x.data(), dy.data(), want_dw.data());
    const Tensor want_cpu = want.to(Device::cpu), want_dw_cpu = want_dw.to(Device::cpu);
    for (int v = 1; v < playground::kConvForwardVersions; ++v) {
      CAPTURE(g.c); CAPTURE(g.k); CAPTURE(playground::conv_forward_name(v));
      Tensor y = poisoned_cuda(Shape{n * g.k * g.pixels()});
      playground::conv_forward(v, g, n, x.data(), w.data(), b.data(), y.data());
      CHECK(rel_error(want_cpu, y) < kCudaTolerance);
    }
    for (int v = 1; v < playground::kConvFilterVersions; ++v) {
      CAPTURE(g.c); CAPTURE(g.k); CAPTURE(playground::conv_filter_name(v));
      Tensor dw = dw0.to(Device::cuda);  // accumulated into
      playground::conv_filter(v, g, n, x.data(), dy.data(), dw.data());
      CHECK(rel_error(want_dw_cpu, dw) < kCudaTolerance);
    }
  }
}

TEST_CASE("cuda: the max-pool playground's versions agree with the backend (forward bit for bit, backward)") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const Pool2dGeom geoms[] = {Pool2dGeom::make(3, 12, 10, 2, 2, 2), Pool2dGeom::make(2, 15, 15, 2, 2, 2),
                              Pool2dGeom::make(3, 13, 11, 3, 3, 2), Pool2dGeom::make(2, 14, 17, 2, 3, 4)};
  const int64_t n = 2;
  uint64_t seed = 200;
  for (const Pool2dGeom& g : geoms) {
    const int64_t in = n * g.c * g.h * g.w, out = n * g.c * g.oh * g.ow;
    std::vector<float> hx = random_floats(size_t(in), ++seed);
    for (size_t i = 0; i < hx.size(); i += 2) hx[i] = std::round(hx[i] * 4.f) / 4.f;  // ties in some windows
    const Tensor x = Tensor::from_vector(Shape{in}, hx).to(Device::cuda), dy = device_random(out, ++seed);
    // argmax lives in float tensors of the same size (read as int32), as in the Pool2D layer.
    Tensor want_y = poisoned_cuda(Shape{out}), want_arg = poisoned_cuda(Shape{out}), want_dx = poisoned_cuda(Shape{in});
    auto as_int = [](Tensor& t) { return reinterpret_cast<int32_t*>(t.data()); };
    playground::pool_forward(playground::kPoolForwardVersions, g, n, x.data(), want_y.data(), as_int(want_arg));
    playground::pool_backward(playground::kPoolBackwardVersions, g, n, dy.data(), as_int(want_arg), want_dx.data());
    const Tensor want_dx_cpu = want_dx.to(Device::cpu);
    for (int v = 1; v < playground::kPoolForwardVersions; ++v) {
      CAPTURE(g.h); CAPTURE(g.w); CAPTURE(g.ph); CAPTURE(g.stride); CAPTURE(playground::pool_forward_name(v));
      Tensor y = poisoned_cuda(Shape{out}), arg = poisoned_cuda(Shape{out});
      playground::pool_forward(v, g, n, x.data(), y.data(), as_int(arg));
      CHECK(same_bits(want_y, y));
      CHECK(same_bits(want_arg, arg));
    }
    for (int v = 1; v < playground::kPoolBackwardVersions; ++v) {
      CAPTURE(g.h); CAPTURE(g.w); CAPTURE(g.ph); CAPTURE(g.stride); CAPTURE(playground::pool_backward_name(v));
      Tensor dx = poisoned_cuda(Shape{in});
      playground::pool_backward(v, g, n, dy.data(), as_int(want_arg), dx.data());
      CHECK(rel_error(want_dx_cpu, dx) < kCudaTolerance);
    }
  }
}

TEST_CASE("cuda: the reductions playground's versions agree with the backend (BCE, norm, moments)") {
  RADIUS_SKIP_WITHOUT_CUDA();
  uint64_t seed = 300;
  for (int64_t n : {int64_t(1), int64_t(33), int64_t(16384), int64_t(50001)}) {
    const Tensor z = device_random(n, ++seed, -8.f, 8.f), y = device_random(n, ++seed, 0.f, 1.f);
    const Tensor g = device_random(n, ++seed, -1e-3f, 2e-3f);
    const int last = playground::kReduceVersions;
    const double want_bce = playground::reduce_bce(last, n, z.data(), y.data());
    const double want_norm = playground::reduce_norm(last, n, g.data());
    const Moments want_m = playground::reduce_moments(last, n, g.data());
    for (int v = 1; v < last; ++v) {
      CAPTURE(n); CAPTURE(playground::reduce_name(v));
      CHECK(playground::reduce_bce(v, n, z.data(), y.data()) == doctest::Approx(want_bce).epsilon(1e-10));
      CHECK(playground::reduce_norm(v, n, g.data()) == doctest::Approx(want_norm).epsilon(1e-12));
      if (v == 1) {
        CHECK_THROWS_AS(playground::reduce_moments(v, n, g.data()), std::invalid_argument);
        continue;
      }
      const Moments m = playground::reduce_moments(v, n, g.data());
      CHECK(m.count == want_m.count);
      CHECK(m.min == want_m.min);
      CHECK(m.max == want_m.max);
      CHECK(m.positives == want_m.positives);
      CHECK(m.mean == doctest::Approx(want_m.mean).epsilon(1e-10));
      CHECK(m.m2 == doctest::Approx(want_m.m2).epsilon(1e-10));
      CHECK(m.sum_sq == doctest::Approx(want_m.sum_sq).epsilon(1e-10));
    }
  }
}

TEST_CASE("cuda: the Adam playground's versions agree with the backend (both forms, odd sizes)") {
  RADIUS_SKIP_WITHOUT_CUDA();
  uint64_t seed = 400;
  for (const AdamConfig& c : {AdamConfig::keras(1e-3f), AdamConfig::pytorch(1e-3f)})
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(1029), int64_t(100003)}) {
      const Tensor w0 = random_cpu(Shape{n}, ++seed), g = device_random(n, ++seed, -1e-2f, 1e-2f);
      const Tensor m0 = random_cpu(Shape{n}, ++seed, -1e-2f, 1e-2f), v0 = random_cpu(Shape{n}, ++seed, 1e-6f, 1e-4f);
      Tensor ww = w0.to(Device::cuda), wm = m0.to(Device::cuda), wv = v0.to(Device::cuda);
      playground::adam(playground::kAdamVersions, n, ww.data(), g.data(), wm.data(), wv.data(), 3, c);
      const Tensor want_w = ww.to(Device::cpu), want_m = wm.to(Device::cpu), want_v = wv.to(Device::cpu);
      for (int ver = 1; ver < playground::kAdamVersions; ++ver) {
        CAPTURE(n); CAPTURE(c.form == AdamForm::keras); CAPTURE(playground::adam_name(ver));
        Tensor w = w0.to(Device::cuda), m = m0.to(Device::cuda), v = v0.to(Device::cuda);
        playground::adam(ver, n, w.data(), g.data(), m.data(), v.data(), 3, c);
        CHECK(rel_error(want_w, w) < kCudaTolerance);
        CHECK(rel_error(want_m, m) < kCudaTolerance);
        CHECK(rel_error(want_v, v) < kCudaTolerance);
      }
    }
}
#endif
