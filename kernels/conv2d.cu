// Convolution on the GPU: im2col + our SGEMM (kernels/sgemm.cu).
//
// Why im2col and not implicit GEMM (yet): it reuses the one tuned GEMM for all
// three passes, and the lowering is a simple bandwidth-bound kernel that is easy
// to check against the CPU (the same col layout as layers/conv2d.cpp). Its cost
// is the extra col traffic: for the paper model's conv2 at batch 32, col is
// 32 x 288 x 5184 floats = 191 MB written and read once per pass, about 0.13 ms
// each way at 3 TB/s, next to a 6.1 GFLOP GEMM (~0.1 ms at 60 TFLOP/s). Implicit
// GEMM (gathering the col tile straight into shared memory) removes that traffic
// and is the next step once the GPU check has measured how much it matters.
//
// Shapes, per chunk of nb images (P = OH*OW, R = C*KH*KW):
//   forward        y_i [K, P]  = w [K, R] x col_i [R, P] + b      (batched GEMM, w shared)
//   backward-data  dcol_i [R, P] = w^T x dy_i [K, P];  dx_i = col2im(dcol_i)
//   backward-filter part_i [K, R] = dy_i [K, P] x col_i^T;  dw += sum_i part_i
//   bias           db += sums of dy over images and pixels
// The sum over images for dw is a separate, ordered reduction (no atomics), so
// results are deterministic run to run.
#include <algorithm>

#include "kernels/conv2d.h"
#include "kernels/reduce.h"
#include "kernels/runtime.h"
#include "kernels/sgemm.h"
#include "tensor/device_memory.h"

namespace radius::cuda {
namespace {

// Scratch from the caching allocator, returned at scope end. Stream ordering
// makes that safe even though kernels using it may still be queued.
class Scratch {
 public:
  explicit Scratch(size_t floats) : p_(static_cast<float*>(device_alloc(std::max<size_t>(floats, 1) * sizeof(float)))) {}
  ~Scratch() { device_free(p_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* get() const { return p_; }

 private:
  float* p_;
};

// Images per chunk: keep one col buffer under ~256 MB.
int64_t chunk_images(const Conv2dGeom& g, int64_t n) {
  const int64_t per_image = g.patch() * g.pixels();
  const int64_t budget = (int64_t(256) << 20) / int64_t(sizeof(float));
  return std::max<int64_t>(1, std::min<int64_t>(n, budget / std::max<int64_t>(per_image, 1)));
}

// One thread per col element: (image, row r = (ci, ki, kj), pixel p = (oi, oj)).
// Consecutive threads write consecutive pixels (coalesced); for stride 1 they
// also read consecutive input columns.
__global__ void im2col_kernel(Conv2dGeom g, int64_t n, const float* __restrict__ x, float* __restrict__ col) {
  const int64_t pixels = g.oh * g.ow, rows = g.c * g.kh * g.kw, total = n * rows * pixels;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t p = idx % pixels, r = (idx / pixels) % rows, img = idx / (pixels * rows);
    const int64_t kj = r % g.kw, ki = (r / g.kw) % g.kh, ci = r / (g.kw * g.kh);
    const int64_t oi = p / g.ow, oj = p % g.ow;
    const int64_t ii = oi * g.stride + ki - g.pad_top, jj = oj * g.stride + kj - g.pad_left;
    float v = 0.f;
    if (ii >= 0 && ii < g.h && jj >= 0 && jj < g.w) v = x[((img * g.c + ci) * g.h + ii) * g.w + jj];
    col[idx] = v;
  }
}

// One thread per input element: sums the col entries that read it, in the
// CPU's order (ki, kj ascending), so the result matches col2im_add exactly.
__global__ void col2im_kernel(Conv2dGeom g, int64_t n, const float* __restrict__ col, float* __restrict__ dx) {
  const int64_t pixels = g.oh * g.ow, rows = g.c * g.kh * g.kw, total = n * g.c * g.h * g.w;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += stride) {
    const int64_t jj = idx % g.w, ii = (idx / g.w) % g.h, ci = (idx / (g.w * g.h)) % g.c, img = idx / (g.w * g.h * g.c);
    const float* c_img = col + img * rows * pixels;
    float sum = 0.f;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      const int64_t ti = ii + g.pad_top - ki;  // = oi * stride
      if (ti < 0 || ti % g.stride) continue;
      const int64_t oi = ti / g.stride;
      if (oi >= g.oh) continue;
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const int64_t tj = jj + g.pad_left - kj;
        if (tj < 0 || tj % g.stride) continue;
        const int64_t oj = tj / g.stride;
        if (oj >= g.ow) continue;
        sum += c_img[((ci * g.kh + ki) * g.kw + kj) * pixels + oi * g.ow + oj];
      }
    }
    dx[idx] = sum;
  }
}

// out[j] += sum_i part[i * len + j], i ascending (deterministic).
__global__ void sum_images_add_kernel(int64_t nb, int64_t len, const float* __restrict__ part, float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < len; j += stride) {
    float s = 0.f;
    for (int64_t i = 0; i < nb; ++i) s += part[i * len + j];
    out[j] += s;
  }
}

constexpr int kThreads = 256;

}  // namespace

void im2col(const Conv2dGeom& g, int64_t n, const float* x, float* col) {
  const int64_t total = n * g.patch() * g.pixels();
  if (total <= 0) return;
  im2col_kernel<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(g, n, x, col);
  RADIUS_CUDA_CHECK_LAUNCH("im2col_kernel");
}

void col2im(const Conv2dGeom& g, int64_t n, const float* col, float* dx) {
  const int64_t total = n * g.c * g.h * g.w;
  if (total <= 0) return;
  col2im_kernel<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(g, n, col, dx);
  RADIUS_CUDA_CHECK_LAUNCH("col2im_kernel");
}

void conv2d_forward(const Conv2dGeom& g, int64_t n, const float* x, const float* w, const float* b, float* y,
                    bool relu) {
  const int64_t R = g.patch(), P = g.pixels(), in_size = g.c * g.h * g.w, out_size = g.k * P;
  const int64_t chunk = chunk_images(g, n);
  Scratch col(size_t(chunk * R * P));
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t nb = std::min(chunk, n - i0);
    im2col(g, nb, x + i0 * in_size, col.get());
    // y_i [K, P] = w [K, R] x col_i [R, P] (+ b, ReLU), for the nb images at once.
    sgemm({.m = g.k, .n = P, .k = R, .a = w, .lda = R, .b = col.get(), .ldb = P, .c = y + i0 * out_size, .ldc = P,
           .epilogue = {.row_bias = b, .relu = relu}, .batch = nb, .stride_b = R * P, .stride_c = out_size});
  }
}

void conv2d_backward(const Conv2dGeom& g, int64_t n, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db) {
  const int64_t R = g.patch(), P = g.pixels(), in_size = g.c * g.h * g.w, out_size = g.k * P;
  if (db) bias_grad(n, g.k, P, dy, db);
  if (!dw && !dx) return;
  const int64_t chunk = chunk_images(g, n);
  Scratch col(size_t(chunk * R * P));                   // col_i for dw, reused as dcol_i for dx
  Scratch part(dw ? size_t(chunk * g.k * R) : size_t(1));  // per-image dw
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t nb = std::min(chunk, n - i0);
    const float* dy_c = dy + i0 * out_size;
    if (dw) {
      im2col(g, nb, x + i0 * in_size, col.get());
      // part_i [K, R] = dy_i [K, P] x col_i^T  (col_i stored [R, P]: the "B transposed" case)
      sgemm({.m = g.k, .n = R, .k = P, .a = dy_c, .lda = P, .b = col.get(), .ldb = P, .trans_b = true, .c = part.get(),
             .ldc = R, .batch = nb, .stride_a = out_size, .stride_b = R * P, .stride_c = g.k * R});
      const int64_t len = g.k * R;
      sum_images_add_kernel<<<grid_for(len, kThreads), kThreads, 0, stream()>>>(nb, len, part.get(), dw);
      RADIUS_CUDA_CHECK_LAUNCH("sum_images_add_kernel");
    }
    if (dx) {
      // dcol_i [R, P] = w^T x dy_i  (w stored [K, R]: the "A transposed" case)
      sgemm({.m = R, .n = P, .k = g.k, .a = w, .lda = R, .trans_a = true, .b = dy_c, .ldb = P, .c = col.get(), .ldc = P,
             .batch = nb, .stride_b = out_size, .stride_c = R * P});
      col2im(g, nb, col.get(), dx + i0 * in_size);
    }
  }
}

}  // namespace radius::cuda
