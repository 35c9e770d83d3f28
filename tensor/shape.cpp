#include "tensor/shape.h"

namespace radius {

Shape Shape::with_batch(int64_t n) const {
  if (rank_ == kMaxRank) throw std::invalid_argument("Shape::with_batch: shape " + str() + " is full");
  Shape s;
  s.dims_[0] = n;
  for (int i = 0; i < rank_; ++i) s.dims_[i + 1] = dims_[i];
  s.rank_ = rank_ + 1;
  return s;
}

Shape Shape::without_batch() const {
  if (rank_ == 0) throw std::invalid_argument("Shape::without_batch: empty shape");
  Shape s;
  for (int i = 1; i < rank_; ++i) s.dims_[i - 1] = dims_[i];
  s.rank_ = rank_ - 1;
  return s;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

}  // namespace radius
