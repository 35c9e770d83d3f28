// CUDA version of data/augment's warp: cached uint8 HWC images -> the float NCHW
// batch, with the pull map, bilinear sampling, fill "nearest", flips and rescale
// of apply_affine. The random parameters are drawn on the host exactly as the CPU
// path draws them (draw_params) and packed by pack_warp (net/device_batches.h), so the two paths compute
// the same batch up to float rounding (the per-pixel arithmetic is shared:
// kernels/augment_pixel.h).
//
// Like the other launcher headers it names no CUDA type, so host code includes it.
#pragma once
#include <cstdint>
#include <memory>

#include "kernels/augment_pixel.h"

namespace radius::cuda {

// images: device [n, h, w, c] uint8; params: device [n]; out: device [n, c, h, w] float.
// Asynchronous on the Radius stream.
void augment_warp(int64_t n, int h, int w, int c, const uint8_t* images, const WarpParams* params, float rescale,
                  float* out);
// The same for 16-bit caches: images device [n, h, w, c] uint16.
void augment_warp(int64_t n, int h, int w, int c, const uint16_t* images, const WarpParams* params, float rescale,
                  float* out);

// One batch from host images to the device, through one explicit upload: the
// images and parameters are packed into a pinned staging block, copied with one
// cudaMemcpyAsync into a device staging block, and warped from there. Before
// refilling the pinned block it waits for the previous upload to finish (an
// event), so the host never overwrites bytes the copy engine is still reading.
class BatchWarper {
 public:
  BatchWarper();
  ~BatchWarper();
  BatchWarper(const BatchWarper&) = delete;
  BatchWarper& operator=(const BatchWarper&) = delete;

  // images[k]: host HWC [h, w, c] samples of `depth` bits (8: uint8, 16: uint16); params[k]:
  // host. out: device [n, c, h, w]. `rescale` multiplies the raw sample values.
  // Asynchronous (the host buffers may be reused as soon as it returns).
  void run(const void* const* images, const WarpParams* params, int64_t n, int h, int w, int c, float rescale,
           float* out, int depth = 8);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace radius::cuda
