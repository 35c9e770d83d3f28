#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kernels/augment.h"
#include "kernels/runtime.h"
#include "tensor/device_memory.h"

namespace radius::cuda {

namespace {

// One thread per output pixel of the batch (grid-stride): t = k * h*w + oi * w + oj.
// Consecutive threads write consecutive floats of one channel plane (coalesced
// stores); the uint8/uint16 gathers around the source coordinate go through L1/L2.
template <typename T>
__global__ void augment_warp_kernel(int64_t n, int h, int w, int c, const T* images, const WarpParams* params,
                                    float rescale, float* out) {
  const int64_t plane = int64_t(h) * w, per_image = plane * c, total = n * plane;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += stride) {
    const int64_t k = t / plane, pixel = t - k * plane;
    const int oi = int(pixel / w), oj = int(pixel - int64_t(oi) * w);
    warp_pixel(params[k], images + k * per_image, h, w, c, oi, oj, rescale, out + k * per_image);
  }
}

size_t round_up16(size_t bytes) { return (bytes + 15) / 16 * 16; }

template <typename T>
void launch_augment_warp(int64_t n, int h, int w, int c, const T* images, const WarpParams* params, float rescale,
                         float* out) {
  if (n <= 0) return;
  if (h <= 0 || w <= 0 || c <= 0) throw std::invalid_argument("cuda::augment_warp: empty image");
  constexpr int threads = 256;
  augment_warp_kernel<T><<<grid_for(n * h * w, threads), threads, 0, stream()>>>(n, h, w, c, images, params, rescale,
                                                                                 out);
  RADIUS_CUDA_CHECK_LAUNCH("augment_warp_kernel");
}

}  // namespace

void augment_warp(int64_t n, int h, int w, int c, const uint8_t* images, const WarpParams* params, float rescale,
                  float* out) {
  launch_augment_warp(n, h, w, c, images, params, rescale, out);
}

void augment_warp(int64_t n, int h, int w, int c, const uint16_t* images, const WarpParams* params, float rescale,
                  float* out) {
  launch_augment_warp(n, h, w, c, images, params, rescale, out);
}

// ---- BatchWarper -----------------------------------------------------------------------
// Staging block layout (host pinned and device alike), each part 16-byte aligned:
//   [ params: n x WarpParams | images: n x h*w*c samples (uint8 or uint16) ]
struct BatchWarper::Impl {
  uint8_t* pinned = nullptr;  // host, page-locked
  void* device = nullptr;     // device staging (from the caching allocator)
  size_t capacity = 0;        // bytes of both blocks
  cudaEvent_t uploaded = nullptr;  // recorded after the last upload of `pinned`
  bool pending = false;            // an upload was recorded and may still read `pinned`

  Impl() { RADIUS_CUDA_CHECK(cudaEventCreateWithFlags(&uploaded, cudaEventDisableTiming)); }
  ~Impl() {
    if (pending) cudaEventSynchronize(uploaded);
    if (pinned) cudaFreeHost(pinned);
    if (device) device_free(device);  // the caching allocator orders reuse after queued work
    cudaEventDestroy(uploaded);
  }

  // Waits until the copy engine is done with `pinned`, then makes both blocks >= bytes.
  void reserve(size_t bytes) {
    if (pending) RADIUS_CUDA_CHECK(cudaEventSynchronize(uploaded));
    pending = false;
    if (bytes <= capacity) return;
    if (pinned) RADIUS_CUDA_CHECK(cudaFreeHost(pinned));
    pinned = nullptr;
    if (device) device_free(device);
    device = nullptr;
    capacity = 0;
    RADIUS_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&pinned), bytes));
    device = device_alloc(bytes);
    capacity = bytes;
  }
};

BatchWarper::BatchWarper() : impl_(std::make_unique<Impl>()) {}
BatchWarper::~BatchWarper() = default;

void BatchWarper::run(const void* const* images, const WarpParams* params, int64_t n, int h, int w, int c,
                      float rescale, float* out, int depth) {
  if (n <= 0) return;
  if (h <= 0 || w <= 0 || c <= 0) throw std::invalid_argument("cuda::BatchWarper::run: empty image");
  if (depth != 8 && depth != 16) throw std::invalid_argument("cuda::BatchWarper::run: depth must be 8 or 16");
  const size_t image_bytes = size_t(h) * size_t(w) * size_t(c) * size_t(depth / 8);
  const size_t params_bytes = round_up16(size_t(n) * sizeof(WarpParams));
  const size_t total = params_bytes + size_t(n) * image_bytes;
  impl_->reserve(total);

  uint8_t* host = impl_->pinned;
  std::memcpy(host, params, size_t(n) * sizeof(WarpParams));
  uint8_t* host_images = host + params_bytes;
  for (int64_t k = 0; k < n; ++k) std::memcpy(host_images + size_t(k) * image_bytes, images[k], image_bytes);

  uint8_t* dev = static_cast<uint8_t*>(impl_->device);
  RADIUS_CUDA_CHECK(cudaMemcpyAsync(dev, host, total, cudaMemcpyHostToDevice, stream()));  // the one upload
  RADIUS_CUDA_CHECK(cudaEventRecord(impl_->uploaded, stream()));
  impl_->pending = true;
  const auto* dev_params = reinterpret_cast<const WarpParams*>(dev);
  if (depth == 16)  // the images start 16-byte aligned and each is an even number of bytes
    augment_warp(n, h, w, c, reinterpret_cast<const uint16_t*>(dev + params_bytes), dev_params, rescale, out);
  else
    augment_warp(n, h, w, c, dev + params_bytes, dev_params, rescale, out);
}

}  // namespace radius::cuda
