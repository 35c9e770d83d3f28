#include "net/gradcam.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/formulas.h"
#include "layers/registry.h"

namespace radius {

size_t gradcam_default_layer(const Sequential& model) {
  for (size_t i = model.size(); i-- > 0;) {
    if (!kind_of(model.layer(i)).convolution) continue;
    // Keras' Conv2D(activation=...) output = our conv2d + its activation layer; with batch
    // norm between them, the block's output is the activation after it. The sigmoid head
    // (the model's last layer) is not run by forward(), so it is never the target.
    size_t j = i;
    while (j + 1 < model.size()) {
      const LayerKind& next = kind_of(model.layer(j + 1));
      const bool head = j + 2 == model.size() && next.probability_head;
      if (head || !(next.per_channel || next.probability_head)) break;
      ++j;
    }
    return j;
  }
  throw std::invalid_argument("Grad-CAM: the model has no conv2d layer to explain");
}

GradCam grad_cam(Sequential& model, const Tensor& x, const GradCamOptions& options) {
  const Shape& in = model.input_shape();
  if (in.rank() != 3) throw std::invalid_argument("Grad-CAM needs an image model (input [C, H, W]), got " + in.str());
  const size_t layer = options.layer < 0 ? gradcam_default_layer(model) : size_t(options.layer);
  if (layer >= model.size()) throw std::invalid_argument("Grad-CAM: no layer " + std::to_string(layer));
  const Shape& ls = model.layer_output(layer);
  if (ls.rank() != 3)
    throw std::invalid_argument("Grad-CAM: layer " + std::to_string(layer) + " (" + model.layer(layer).describe() +
                                ") has output " + ls.str() + ", not a [channels, height, width] feature map");
  if (!model.params().defined()) throw std::logic_error("Grad-CAM before init()");

  // Parameter gradients are restored exactly at the end (see the header).
  const Tensor saved_grads = model.grads().clone();

  const Tensor& logits_dev = model.forward(x, Mode::eval);
  const int64_t n = x.dim(0);
  const int64_t units = logits_dev.numel() / n;
  const std::vector<float> logits = logits_dev.to(Device::cpu).to_vector();

  GradCam out;
  out.layer = layer;
  out.explained_class.resize(size_t(n));
  out.logits.resize(size_t(n));
  std::vector<float> dlogits(size_t(n * units), 0.0f);
  for (int64_t s = 0; s < n; ++s) {
    const float* z = logits.data() + s * units;
    out.logits[size_t(s)] = z[0];
    int cls = options.target;
    if (units == 1) {
      if (cls < 0) cls = formula::stable_sigmoid(double(z[0])) > options.threshold ? 1 : 0;
      if (cls > 1) throw std::invalid_argument("Grad-CAM: class " + std::to_string(cls) + " of a one-unit model");
      dlogits[size_t(s)] = cls == 1 ? 1.0f : -1.0f;  // d(z)/dz or d(-z)/dz
    } else {
      if (cls < 0) cls = int(std::max_element(z, z + units) - z);
      if (cls >= units) throw std::invalid_argument("Grad-CAM: no output unit " + std::to_string(cls));
      dlogits[size_t(s * units + cls)] = 1.0f;
    }
    out.explained_class[size_t(s)] = cls;
  }
  Tensor dl = Tensor::from_vector(logits_dev.shape(), dlogits);
  if (model.device() != Device::cpu) dl = dl.to(model.device());

  const Tensor act = model.activation(layer).to(Device::cpu);
  const Tensor grad = model.backward_to(dl, layer).to(Device::cpu);
  model.grads().copy_from(saved_grads);

  const int64_t k = ls[0], h = ls[1], w = ls[2], plane = h * w;
  const int H = int(in[1]), W = int(in[2]);
  out.coarse = Tensor::zeros(Shape{n, h, w});
  out.heatmap = Tensor::zeros(Shape{n, int64_t(H), int64_t(W)});
  for (int64_t s = 0; s < n; ++s) {
    const float* a = act.cpu() + s * k * plane;
    const float* g = grad.cpu() + s * k * plane;
    float* cam = out.coarse.cpu() + s * plane;
    std::vector<double> acc(size_t(plane), 0.0);
    for (int64_t c = 0; c < k; ++c) {
      double weight = 0;
      for (int64_t p = 0; p < plane; ++p) weight += g[c * plane + p];
      weight /= double(plane);
      if (weight == 0) continue;
      for (int64_t p = 0; p < plane; ++p) acc[size_t(p)] += weight * a[c * plane + p];
    }
    double peak = 0;
    for (double v : acc) peak = std::max(peak, v);
    for (int64_t p = 0; p < plane; ++p)
      cam[p] = peak > 0 && std::isfinite(peak) ? float(std::max(0.0, acc[size_t(p)]) / peak) : 0.0f;
    const std::vector<float> up = resize_map_bilinear(cam, int(w), int(h), W, H);
    float* dst = out.heatmap.cpu() + s * int64_t(H) * W;
    for (size_t p = 0; p < up.size(); ++p) dst[p] = std::clamp(up[p], 0.0f, 1.0f);
  }
  return out;
}

std::vector<float> resize_map_bilinear(const float* src, int src_w, int src_h, int dst_w, int dst_h) {
  if (src_w < 1 || src_h < 1 || dst_w < 1 || dst_h < 1) throw std::invalid_argument("resize_map_bilinear: empty size");
  struct Tap {
    int i0, i1;
    float f;
  };
  auto taps = [](int in, int out) {
    std::vector<Tap> t(static_cast<size_t>(out));
    const double scale = double(in) / double(out);
    for (int o = 0; o < out; ++o) {
      double pos = (o + 0.5) * scale - 0.5;
      pos = std::clamp(pos, 0.0, double(in - 1));
      const int i0 = int(std::floor(pos));
      const int i1 = std::min(i0 + 1, in - 1);
      t[size_t(o)] = {i0, i1, float(pos - i0)};
    }
    return t;
  };
  const std::vector<Tap> tx = taps(src_w, dst_w), ty = taps(src_h, dst_h);
  std::vector<float> dst(size_t(dst_w) * size_t(dst_h));
  for (int y = 0; y < dst_h; ++y) {
    const Tap& ry = ty[size_t(y)];
    const float* r0 = src + size_t(ry.i0) * src_w;
    const float* r1 = src + size_t(ry.i1) * src_w;
    for (int x = 0; x < dst_w; ++x) {
      const Tap& rx = tx[size_t(x)];
      const float top = r0[rx.i0] + (r0[rx.i1] - r0[rx.i0]) * rx.f;
      const float bottom = r1[rx.i0] + (r1[rx.i1] - r1[rx.i0]) * rx.f;
      dst[size_t(y) * dst_w + x] = top + (bottom - top) * ry.f;
    }
  }
  return dst;
}

void jet_color(float v, uint8_t rgb[3]) {
  if (!(v >= 0)) v = 0;  // NaN too
  v = std::min(v, 1.0f);
  auto ch = [v](float centre) {
    const float c = std::clamp(1.5f - std::fabs(4.0f * v - centre), 0.0f, 1.0f);
    return uint8_t(std::lround(255.0f * c));
  };
  rgb[0] = ch(3.0f);
  rgb[1] = ch(2.0f);
  rgb[2] = ch(1.0f);
}

Image colorize_jet(const float* map, int width, int height) {
  Image img(width, height, 3);
  for (size_t p = 0; p < size_t(width) * size_t(height); ++p) jet_color(map[p], &img.pixels[p * 3]);
  return img;
}

Image overlay_heatmap(const Image& base, const float* map, int map_w, int map_h, float alpha) {
  if (base.empty()) throw std::invalid_argument("overlay_heatmap: empty base image");
  if (base.channels != 1 && base.channels != 3)
    throw std::invalid_argument("overlay_heatmap: base must be gray or RGB, has " + std::to_string(base.channels) +
                                " channels");
  alpha = std::clamp(alpha, 0.0f, 1.0f);
  const std::vector<float> up = resize_map_bilinear(map, map_w, map_h, base.width, base.height);
  Image out(base.width, base.height, 3);
  for (size_t p = 0; p < up.size(); ++p) {
    uint8_t heat[3];
    jet_color(up[p], heat);
    for (int c = 0; c < 3; ++c) {
      const float b = base.pixels[p * size_t(base.channels) + size_t(base.channels == 3 ? c : 0)];
      out.pixels[p * 3 + size_t(c)] = uint8_t(std::lround(std::clamp((1 - alpha) * b + alpha * heat[c], 0.0f, 255.0f)));
    }
  }
  return out;
}

}  // namespace radius
