// Shape: the dimensions of a tensor, outermost first (NCHW for images).
// A small fixed-capacity array: shapes are copied everywhere and never allocate.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace radius {

class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    if (dims.size() > kMaxRank) throw std::invalid_argument("Shape: rank > 4");
    for (int64_t d : dims) {
      if (d < 0) throw std::invalid_argument("Shape: negative dimension");
      dims_[rank_++] = d;
    }
  }

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_.at(static_cast<size_t>(i)); }
  int64_t& operator[](int i) { return dims_.at(static_cast<size_t>(i)); }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  // The same shape with the outermost (batch) dimension replaced or added.
  Shape with_batch(int64_t n) const;   // [C,H,W] -> [n,C,H,W]
  Shape without_batch() const;         // [N,C,H,W] -> [C,H,W]

  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }
  std::string str() const;  // "[32, 3, 150, 150]"

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace radius
