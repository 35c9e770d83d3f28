// One output pixel of the augmentation warp, written once for the CPU and the GPU.
//
// The CUDA kernel (kernels/augment.cu) calls warp_pixel for each output pixel;
// tests call the same function on the host and compare it with data/augment's
// apply_affine, so the index arithmetic (flip inversion, clamping, the HWC
// gather, the NCHW store) is checked without a GPU.
//
// apply_affine computes the warp at (i, j) and stores it at the flipped position
// (flip_v ? h-1-i : i, flip_h ? w-1-j : j). Flips are their own inverse, so output
// pixel (oi, oj) holds the warp at (i, j) = (flip_v ? h-1-oi : oi, flip_h ? w-1-oj : oj).
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define RADIUS_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define RADIUS_HOST_DEVICE inline
#endif

namespace radius::cuda {

// One image's transform as the kernel reads it (56 bytes, the same layout for g++ and nvcc).
struct WarpParams {
  double m[6] = {1, 0, 0, 0, 1, 0};  // pull map: src_row = m0*i + m1*j + m2, src_col = m3*i + m4*j + m5
  int32_t flip_h = 0;                // 1: columns reversed after the warp
  int32_t flip_v = 0;                // 1: rows reversed after the warp
};

// Writes output pixel (oi, oj) of one image: src HWC [h, w, c] of T (uint8_t or uint16_t
// samples: 8-bit and 16-bit caches), dst CHW float [c, h, w].
// The arithmetic is apply_affine's, term for term: the source coordinate in double,
// clamped into the image ("nearest"), floor, float weights, lerp along columns then rows.
template <typename T>
RADIUS_HOST_DEVICE void warp_pixel(const WarpParams& p, const T* src, int h, int w, int c, int oi, int oj,
                                   float rescale, float* dst) {
  const int i = p.flip_v ? h - 1 - oi : oi;
  const int j = p.flip_h ? w - 1 - oj : oj;
  const double rmax = h - 1, cmax = w - 1;
  double r = p.m[0] * i + p.m[2] + p.m[1] * j;  // (m0*i + m2) + m1*j, apply_affine's order
  double q = p.m[3] * i + p.m[5] + p.m[4] * j;
  r = r < 0.0 ? 0.0 : (r > rmax ? rmax : r);
  q = q < 0.0 ? 0.0 : (q > cmax ? cmax : q);
  const int r0 = int(r), c0 = int(q);  // floor: both are >= 0
  const float fr = float(r - r0), fc = float(q - c0);
  const int64_t dr = r0 < h - 1 ? int64_t(w) * c : 0;  // step to the next row / column,
  const int64_t dc = c0 < w - 1 ? c : 0;              // 0 on the last one (edge replicate)
  const T* p00 = src + (int64_t(r0) * w + c0) * c;
  const int64_t plane = int64_t(h) * w;
  float* out = dst + int64_t(oi) * w + oj;
  for (int ch = 0; ch < c; ++ch) {
    const float v00 = p00[ch], v01 = p00[ch + dc], v10 = p00[ch + dr], v11 = p00[ch + dr + dc];
    const float top = v00 + fc * (v01 - v00), bottom = v10 + fc * (v11 - v10);
    out[ch * plane] = (top + fr * (bottom - top)) * rescale;
  }
}

}  // namespace radius::cuda
