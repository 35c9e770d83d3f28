// Eigen views of CPU tensors for the CPU math: row-major, like NCHW memory,
// so a [N, F] tensor is an N x F matrix with no copy. Throws if the requested
// matrix does not cover the tensor exactly, or if the tensor is on the GPU.
#pragma once
#include <Eigen/Core>
#include <stdexcept>
#include <string>

#include "tensor/tensor.h"

namespace radius {

// For the templated CPU math (T = float, or double in the gradient checks).
template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowMatMap = Eigen::Map<RowMat<T>>;
template <class T>
using ConstRowMatMap = Eigen::Map<const RowMat<T>>;
template <class T>
using ColVec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

using RowMatrix = RowMat<float>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;

inline void expect_matrix_cover(const Tensor& t, int64_t rows, int64_t cols) {
  if (rows * cols != t.numel())
    throw std::invalid_argument("as_matrix: " + t.shape().str() + " is not " + std::to_string(rows) + "x" +
                                std::to_string(cols));
}

inline MatrixMap as_matrix(Tensor& t, int64_t rows, int64_t cols) {
  expect_matrix_cover(t, rows, cols);
  return MatrixMap(t.cpu(), rows, cols);
}
inline ConstMatrixMap as_matrix(const Tensor& t, int64_t rows, int64_t cols) {
  expect_matrix_cover(t, rows, cols);
  return ConstMatrixMap(t.cpu(), rows, cols);
}
inline VectorMap as_vector(Tensor& t) { return VectorMap(t.cpu(), t.numel()); }
inline ConstVectorMap as_vector(const Tensor& t) { return ConstVectorMap(t.cpu(), t.numel()); }

}  // namespace radius
