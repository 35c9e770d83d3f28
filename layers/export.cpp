#include "layers/export.h"

#include <numeric>
#include <stdexcept>

namespace radius {

std::string OnnxGraph::add_node(const std::string& op_type, const std::string& name, std::vector<std::string> inputs,
                                std::vector<OnnxAttribute> attributes) {
  nodes.push_back({op_type, name, std::move(inputs), {name}, std::move(attributes)});
  return name;
}

std::string OnnxGraph::add_initializer(const std::string& name, const Tensor& value) {
  const Shape& s = value.shape();
  std::vector<int64_t> dims;
  for (int i = 0; i < s.rank(); ++i) dims.push_back(s[i]);
  const float* p = value.cpu();
  initializers.push_back({name, std::move(dims), std::vector<float>(p, p + value.numel())});
  return name;
}

const Tensor& ExportedLayer::tensor(const std::string& short_name) const {
  auto it = tensors.find(short_name);
  if (it == tensors.end())
    throw std::logic_error("layer " + std::to_string(index) + " (" + layer.describe() + ") has no tensor '" +
                           short_name + "'");
  return it->second;
}

Tensor permute_axes(const Tensor& t, const std::vector<int>& axes) {
  const Shape& in = t.shape();
  const int rank = in.rank();
  if (int(axes.size()) != rank) throw std::invalid_argument("permute_axes: " + std::to_string(axes.size()) +
                                                            " axes for a tensor of rank " + std::to_string(rank));
  std::vector<bool> seen(size_t(rank), false);
  Shape out = in;
  for (int i = 0; i < rank; ++i) {
    if (axes[size_t(i)] < 0 || axes[size_t(i)] >= rank || seen[size_t(axes[size_t(i)])])
      throw std::invalid_argument("permute_axes: not a permutation of the tensor's axes");
    seen[size_t(axes[size_t(i)])] = true;
    out[i] = in[axes[size_t(i)]];
  }
  // Row-major strides of the input, read in the output's axis order.
  std::vector<int64_t> in_stride(size_t(rank), 1);
  std::vector<int64_t> stride(static_cast<size_t>(rank));
  for (int i = rank - 2; i >= 0; --i) in_stride[size_t(i)] = in_stride[size_t(i) + 1] * in[i + 1];
  for (int i = 0; i < rank; ++i) stride[size_t(i)] = in_stride[size_t(axes[size_t(i)])];
  Tensor result = Tensor::empty(out);
  const float* src = t.cpu();
  float* dst = result.cpu();
  std::vector<int64_t> index(size_t(rank), 0);  // the output element's multi-index
  for (int64_t flat = 0; flat < result.numel(); ++flat) {
    int64_t offset = 0;
    for (int i = 0; i < rank; ++i) offset += index[size_t(i)] * stride[size_t(i)];
    dst[flat] = src[offset];
    for (int i = rank - 1; i >= 0 && ++index[size_t(i)] == out[i]; --i) index[size_t(i)] = 0;  // odometer
  }
  return result;
}

std::vector<int> inverse_axes(const std::vector<int>& axes) {
  std::vector<int> inverse(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) inverse.at(size_t(axes[i])) = int(i);
  return inverse;
}

std::vector<int64_t> keras_feature_order(const Shape& chw) {
  if (chw.rank() != 3) throw std::invalid_argument("keras_feature_order: expected [C, H, W], got " + chw.str());
  const int64_t C = chw[0], H = chw[1], W = chw[2];
  std::vector<int64_t> order;
  order.reserve(size_t(chw.numel()));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w)
      for (int64_t c = 0; c < C; ++c) order.push_back((c * H + h) * W + w);
  return order;
}

}  // namespace radius
