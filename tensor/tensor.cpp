#include "tensor/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "tensor/device_memory.h"

namespace radius {

std::string to_string(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

// ---- Storage -------------------------------------------------------------------

Storage::Storage(int64_t numel, Device device) : numel_(numel), device_(device) {
  if (numel < 0) throw std::invalid_argument("Storage: negative size");
  const size_t bytes = size_t(std::max<int64_t>(numel, 1)) * sizeof(float);
  if (device == Device::cpu) {
    // 64-byte alignment: one cache line, and what AVX-512 loads like.
    const size_t rounded = (bytes + 63) / 64 * 64;
    data_ = static_cast<float*>(std::aligned_alloc(64, rounded));
    if (!data_) throw std::bad_alloc();
  } else {
    data_ = static_cast<float*>(device_alloc(bytes));
  }
}

Storage::~Storage() {
  if (device_ == Device::cpu)
    std::free(data_);
  else
    device_free(data_);
}

// ---- construction ----------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, Device device) {
  Tensor t;
  t.storage_ = std::make_shared<Storage>(shape.numel(), device);
  t.shape_ = shape;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, Device device) {
  Tensor t = empty(shape, device);
  t.zero();
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  t.fill(value);
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values) {
  if (int64_t(values.size()) != shape.numel())
    throw std::invalid_argument("Tensor::from_vector: shape " + shape.str() + " holds " +
                                std::to_string(shape.numel()) + " values, got " +
                                std::to_string(values.size()));
  Tensor t = empty(shape);
  std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

Device Tensor::device() const { return storage_ ? storage_->device() : Device::cpu; }

float* Tensor::checked_cpu() const {
  if (!storage_) throw std::logic_error("Tensor: use of an undefined tensor");
  if (storage_->device() != Device::cpu)
    throw std::logic_error("Tensor: host access to a " + to_string(device()) +
                           " tensor; copy it with .to(Device::cpu) first");
  return base();
}

float& Tensor::at(int64_t i) {
  if (i < 0 || i >= numel()) throw std::out_of_range("Tensor::at: index " + std::to_string(i) + " outside " + shape_.str());
  return checked_cpu()[i];
}
float Tensor::at(int64_t i) const { return const_cast<Tensor*>(this)->at(i); }

// ---- views ---------------------------------------------------------------------

Tensor Tensor::view(const Shape& shape) const {
  if (shape.numel() != numel())
    throw std::invalid_argument("Tensor::view: cannot view " + shape_.str() + " as " + shape.str());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::batch(int64_t begin, int64_t end) const {
  if (rank() == 0 || begin < 0 || end > dim(0) || begin > end)
    throw std::out_of_range("Tensor::batch: rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                            ") outside " + shape_.str());
  const int64_t row = dim(0) ? numel() / dim(0) : 0;
  Tensor t = *this;
  t.offset_ += begin * row;
  t.shape_[0] = end - begin;
  return t;
}

Tensor Tensor::slice(int64_t offset, const Shape& shape) const {
  if (offset < 0 || offset + shape.numel() > numel())
    throw std::out_of_range("Tensor::slice: " + shape.str() + " at offset " + std::to_string(offset) +
                            " does not fit in " + shape_.str());
  Tensor t = *this;
  t.offset_ += offset;
  t.shape_ = shape;
  return t;
}

// ---- copies --------------------------------------------------------------------

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, device());
  t.copy_from(*this);
  return t;
}

Tensor Tensor::to(Device target) const {
  Tensor t = empty(shape_, target);
  const size_t bytes = size_t(numel()) * sizeof(float);
  if (bytes == 0) return t;  // an empty tensor (a model without state buffers) may have no storage
  if (device() == Device::cpu && target == Device::cpu)
    std::memcpy(t.data(), data(), bytes);
  else
    device_copy(t.data(), target, data(), device(), bytes);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  expect_same_shape(*this, src, "Tensor::copy_from");
  if (src.device() != device())
    throw std::invalid_argument("Tensor::copy_from: source on " + to_string(src.device()) + ", destination on " +
                                to_string(device()) + "; use to() to move data between devices");
  const size_t bytes = size_t(numel()) * sizeof(float);
  if (bytes == 0) return;
  if (device() == Device::cpu)
    std::memcpy(data(), src.data(), bytes);
  else
    device_copy(data(), device(), src.data(), src.device(), bytes);
}

void Tensor::fill(float value) {
  float* p = checked_cpu();
  std::fill(p, p + numel(), value);
}

void Tensor::zero() {
  if (device() == Device::cpu)
    std::memset(checked_cpu(), 0, size_t(numel()) * sizeof(float));
  else
    device_memset_zero(data(), size_t(numel()) * sizeof(float));
}

std::vector<float> Tensor::to_vector() const {
  const float* p = checked_cpu();
  return std::vector<float>(p, p + numel());
}

// ---- checks --------------------------------------------------------------------

void expect_shape(const Tensor& t, const Shape& expected, const std::string& what) {
  if (!(t.shape() == expected))
    throw std::invalid_argument(what + ": expected shape " + expected.str() + ", got " + t.shape().str());
}

void expect_same_shape(const Tensor& a, const Tensor& b, const std::string& what) {
  if (!(a.shape() == b.shape()))
    throw std::invalid_argument(what + ": shapes differ: " + a.shape().str() + " vs " + b.shape().str());
}

}  // namespace radius
