// Tensor: a contiguous float32 array with a shape and a device.
//
// - Storage is reference-counted (RAII); a Tensor is a cheap handle: shape +
//   offset into shared storage. Copying a Tensor copies the handle, not the data.
// - Views (`view`, `batch`, `slice`) share storage; `clone` and `to` copy.
// - Data never moves between devices behind your back: `to(Device)` is the only
//   way across, and CPU-only accessors throw on a CUDA tensor.
// - Images are NCHW: [batch, channels, height, width].
// - Eigen views for CPU math are in tensor/eigen.h (kept out of this header so
//   that code which only moves tensors around compiles without Eigen).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/device.h"
#include "tensor/shape.h"

namespace radius {

// Owns one allocation on one device.
class Storage {
 public:
  Storage(int64_t numel, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* data() const { return data_; }
  int64_t numel() const { return numel_; }
  Device device() const { return device_; }

 private:
  float* data_ = nullptr;
  int64_t numel_ = 0;
  Device device_ = Device::cpu;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage (e.g. "no gradient wanted")

  static Tensor empty(const Shape& shape, Device device = Device::cpu);  // uninitialised
  static Tensor zeros(const Shape& shape, Device device = Device::cpu);
  static Tensor full(const Shape& shape, float value);                    // CPU
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values);  // CPU

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_[i]; }
  int rank() const { return shape_.rank(); }
  int64_t numel() const { return shape_.numel(); }
  Device device() const;
  bool is_cpu() const { return device() == Device::cpu; }

  // Raw element pointer on the tensor's own device (a device pointer for CUDA).
  float* data() { return base(); }
  const float* data() const { return base(); }
  // Host pointer; throws if the tensor lives on the GPU (no hidden copies).
  float* cpu() { return checked_cpu(); }
  const float* cpu() const { return checked_cpu(); }
  float& at(int64_t flat_index);  // CPU, bounds-checked (for tests and tools)
  float at(int64_t flat_index) const;

  // ---- views: share storage -------------------------------------------------
  Tensor view(const Shape& shape) const;            // same numel, new shape
  Tensor batch(int64_t begin, int64_t end) const;   // rows [begin, end) of dim 0
  Tensor slice(int64_t offset, const Shape& shape) const;  // contiguous sub-range

  // ---- copies ----------------------------------------------------------------
  Tensor clone() const;                 // same device, new storage
  Tensor to(Device device) const;       // explicit host<->device copy
  void copy_from(const Tensor& src);    // same shape, same device
  void fill(float value);               // CPU
  void zero();

  std::vector<float> to_vector() const;  // CPU copy of the elements

  // How many handles share this tensor's storage (views included; 0 when undefined).
  // Lets a buffer pool (the data loader) reuse storage only when no one else can see it.
  long use_count() const { return storage_.use_count(); }

 private:
  float* base() const { return storage_ ? storage_->data() + offset_ : nullptr; }
  float* checked_cpu() const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;
  Shape shape_;
};

// Throws std::invalid_argument("<what>: expected shape [..], got [..]") on mismatch.
void expect_shape(const Tensor& t, const Shape& expected, const std::string& what);
void expect_same_shape(const Tensor& a, const Tensor& b, const std::string& what);

}  // namespace radius
