// Direct kernel and runtime tests: SGEMM in every transpose case with batching
// and the epilogue, and the caching allocator. These call radius::cuda, so they
// exist only in a CUDA build (a CPU-only build gets one skipping test case).
#include "tests/cuda_util.h"

#ifdef RADIUS_WITH_CUDA
#include <vector>

#include "data/bars.h"
#include "kernels/runtime.h"
#include "kernels/sgemm.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"

using namespace radius;
using namespace radius::test;

namespace {

// Reference C = alpha op(A) op(B) + beta C (+ biases, relu), in double.
std::vector<float> gemm_reference(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                                  const std::vector<float>& a, int64_t lda, const std::vector<float>& b, int64_t ldb,
                                  float beta, std::vector<float> c, int64_t ldc, const std::vector<float>& row_bias,
                                  const std::vector<float>& col_bias, bool relu) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += double(ta ? a[p * lda + i] : a[i * lda + p]) * double(tb ? b[j * ldb + p] : b[p * ldb + j]);
      double v = double(alpha) * s + (beta != 0.f ? double(beta) * c[i * ldc + j] : 0.0);
      if (!row_bias.empty()) v += row_bias[i];
      if (!col_bias.empty()) v += col_bias[j];
      if (relu) v = std::max(v, 0.0);
      c[i * ldc + j] = float(v);
    }
  return c;
}

}  // namespace

TEST_CASE("cuda: SGEMM matches a double reference (all transposes, odd sizes, batches, epilogue)") {
  RADIUS_SKIP_WITHOUT_CUDA();
  struct Case { int64_t m, n, k; };
  std::vector<Case> cases = {{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {64, 64, 16}, {129, 130, 131},
                             // Split-K (a grid under two waves with K >= 256): the 32x64 tile (M <= 32)
                             // batched, and unbatched with padded rows; the 64x64 tile; a K range per split
                             // that ends inside a row (K not a multiple of the split).
                             {6, 10, 1500}, {9, 40, 3001}, {100, 70, 2000}, {32, 1, 513}};
  if (!small_tests()) {
    cases.push_back({300, 257, 1029});
    cases.push_back({32, 512, 6272});
    // Enough blocks for the 128x128 tile: 16-byte path with partial edge tiles, then the scalar path.
    cases.push_back({1540, 1604, 36});
    cases.push_back({1541, 1603, 37});
  }
  uint64_t seed = 1;
  for (const Case& cc : cases)
    for (int variant = 0; variant < 4; ++variant) {
      const bool ta = variant & 1, tb = variant & 2;
      // Row strides: padded in some cases (ld > width), which also breaks 16-byte alignment.
      const int64_t pad = (cc.m + cc.n) % 2;
      const int64_t lda = (ta ? cc.m : cc.k) + pad, ldb = (tb ? cc.k : cc.n) + pad, ldc = cc.n + pad;
      const int64_t batch = cc.m * cc.n * cc.k < 100000 ? 3 : 1;
      const int64_t sa = (ta ? cc.k : cc.m) * lda, sb = (tb ? cc.n : cc.k) * ldb, sc = cc.m * ldc;
      const std::vector<float> a = random_floats(size_t(sa * batch), ++seed), b = random_floats(size_t(sb * batch), ++seed);
      const std::vector<float> c0 = random_floats(size_t(sc * batch), ++seed);
      const std::vector<float> rb = random_floats(size_t(cc.m), ++seed), cb = random_floats(size_t(cc.n), ++seed);
      for (int epi = 0; epi < 3; ++epi) {
        const float alpha = epi == 1 ? 0.5f : 1.0f, beta = epi == 2 ? 0.75f : 0.0f;
        const bool relu = epi == 1;
        const std::vector<float> rbias = epi == 1 ? rb : std::vector<float>{};
        const std::vector<float> cbias = epi == 2 ? cb : std::vector<float>{};
        CAPTURE(cc.m); CAPTURE(cc.n); CAPTURE(cc.k); CAPTURE(ta); CAPTURE(tb); CAPTURE(epi);
        const Tensor da = Tensor::from_vector(Shape{int64_t(a.size())}, a).to(Device::cuda);
        const Tensor db = Tensor::from_vector(Shape{int64_t(b.size())}, b).to(Device::cuda);
        const Tensor drb = Tensor::from_vector(Shape{cc.m}, rb).to(Device::cuda);
        const Tensor dcb = Tensor::from_vector(Shape{cc.n}, cb).to(Device::cuda);
        // beta == 0: C starts as NaN (must not be read); beta != 0: C starts as c0.
        Tensor dc = beta == 0.f ? poisoned_cuda(Shape{int64_t(c0.size())})
                                : Tensor::from_vector(Shape{int64_t(c0.size())}, c0).to(Device::cuda);
        cuda::sgemm({.m = cc.m, .n = cc.n, .k = cc.k, .a = da.data(), .lda = lda, .trans_a = ta, .b = db.data(),
                     .ldb = ldb, .trans_b = tb, .c = dc.data(), .ldc = ldc, .alpha = alpha, .beta = beta,
                     .epilogue = {.row_bias = epi == 1 ? drb.data() : nullptr,
                                  .col_bias = epi == 2 ? dcb.data() : nullptr,
                                  .relu = relu},
                     .batch = batch, .stride_a = sa, .stride_b = sb, .stride_c = sc});
        const std::vector<float> got = dc.to(Device::cpu).to_vector();
        double diff = 0, norm = 0;
        bool nan = false;
        for (int64_t bi = 0; bi < batch; ++bi) {
          const std::vector<float> sub_a(a.begin() + bi * sa, a.begin() + (bi + 1) * sa);
          const std::vector<float> sub_b(b.begin() + bi * sb, b.begin() + (bi + 1) * sb);
          const std::vector<float> sub_c(c0.begin() + bi * sc, c0.begin() + (bi + 1) * sc);
          const std::vector<float> want = gemm_reference(ta, tb, cc.m, cc.n, cc.k, alpha, sub_a, lda, sub_b, ldb, beta,
                                                         sub_c, ldc, rbias, cbias, relu);
          for (int64_t i = 0; i < cc.m; ++i)
            for (int64_t j = 0; j < cc.n; ++j) {
              const double w = want[size_t(i * ldc + j)], g = got[size_t(bi * sc + i * ldc + j)];
              nan |= std::isnan(g);
              diff += (w - g) * (w - g);
              norm += w * w;
            }
        }
        CHECK_FALSE(nan);
        CHECK(std::sqrt(diff / std::max(norm, 1e-30)) < kCudaTolerance);
      }
    }
}

TEST_CASE("cuda: the caching allocator makes no cudaMalloc in a steady-state training step") {
  RADIUS_SKIP_WITHOUT_CUDA();
  CHECK(cuda::round_allocation(1) == 256);
  CHECK(cuda::round_allocation(1000) == 1024);
  CHECK(cuda::round_allocation(5000) == 5120);
  auto model = load_model_spec(RADIUS_SOURCE_DIR "/models/tiny.spec");
  model->init(1);
  model->to(Device::cuda);
  Adam adam;
  Trainer trainer(*model, adam);
  const Shape& in = model->input_shape();
  const ToyBatch data = make_bar_images(8, in[0], in[1], in[2], 5);
  const Tensor x = data.images.to(Device::cuda), y = data.labels.to(Device::cuda);
  trainer.step(x, y);  // warm-up: activations, scratch, optimizer state
  trainer.step(x, y);
  const cuda::AllocatorStats before = cuda::allocator_stats();
  for (int i = 0; i < 5; ++i) trainer.step(x, y);
  const cuda::AllocatorStats after = cuda::allocator_stats();
  CHECK(after.bytes_in_use == before.bytes_in_use);  // nothing leaks per step
  if (allocation_mode() == AllocationMode::exact) {
    // RADIUS_CUDA_EXACT_ALLOC=1 (the memcheck run): no cache by design; every
    // block the steps allocated went back to the driver.
    CHECK(after.device_mallocs - before.device_mallocs == after.device_frees - before.device_frees);
    CHECK(after.cache_hits == before.cache_hits);
  } else {
    CHECK(after.device_mallocs == before.device_mallocs);
    CHECK(after.cache_hits > before.cache_hits);
  }
  MESSAGE("cudaMalloc calls: " << after.device_mallocs << ", cache hits: " << after.cache_hits
                               << ", peak in use: " << after.peak_bytes_in_use / 1024 << " KiB");
}

// This case makes the CUDA runtime fail on purpose (a 4 TiB cudaMalloc, an invalid
// copy direction). compute-sanitizer reports such API errors, so the GPU check's
// sanitizer runs leave out the test suite "provokes-cuda-errors" (-tse=...).
TEST_CASE("cuda: errors name the call, out of memory says how much and what to do" *
          doctest::test_suite("provokes-cuda-errors")) {
  RADIUS_SKIP_WITHOUT_CUDA();
  try {
    Tensor::empty(Shape{int64_t(1) << 40}, Device::cuda);  // 4 TiB
    FAIL("a 4 TiB allocation succeeded");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("out of memory") != std::string::npos);
    CHECK(msg.find("free") != std::string::npos);
    CHECK(msg.find("smaller batch") != std::string::npos);
  }
  try {
    float dst = 0, src = 1;  // an invalid copy direction: a plain, non-sticky error
    RADIUS_CUDA_CHECK(cudaMemcpy(&dst, &src, 4, static_cast<cudaMemcpyKind>(42)));
    FAIL("a copy with an invalid direction succeeded");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("test_cuda_kernels.cpp") != std::string::npos);
    CHECK(msg.find("cudaMemcpy") != std::string::npos);
  }
  cudaGetLastError();  // leave no sticky error for the next test
}

#else

TEST_CASE("cuda: kernel tests") { MESSAGE("built without CUDA: skipped"); }

#endif
