// Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks
// via Gradient-based Localization", ICCV 2017): where in the image the network
// found the evidence for a class.
//
//   GradCam cam = grad_cam(model, x);           // x [N, C, H, W] on the model's device
//   cam.heatmap                                   // [N, H, W] in [0, 1], CPU
//   Image over = overlay_heatmap(xray, cam.heatmap.batch(0, 1).cpu(), W, H);
//
// For each sample: forward in eval mode, then backpropagate d(score)/dA, where A
// is the target layer's output [K, h, w] and score is
//   - one output unit (the fracture model: a sigmoid over one logit z, whose
//     probability is P(class 1) = P(not fractured)): z for class 1 and -z for
//     class 0, i.e. the logit of the explained class (log p/(1-p) of that class);
//   - several output units: the explained class's logit.
// Channel weights w_k = mean over (h, w) of dscore/dA_k; map = ReLU(sum_k w_k A_k),
// divided by its maximum (all zeros when nothing supports the class), then
// upsampled bilinearly (half-pixel centres, edges clamped) to the input's H x W.
//
// A batch is explained with one forward and one backward: every layer treats
// samples independently, so sample s's map depends on sample s alone.
//
// The explained class is the PREDICTED one unless options.target says otherwise;
// with one sigmoid unit, predicted = sigmoid(z) > threshold ? 1 : 0, exactly
// eval/metrics.h's predict_class on the score P(class 1).
//
// Side effects: the model's activations are those of this forward (any pending
// backward of the caller is invalidated), and its parameter gradients (grads())
// are left EXACTLY as they were: they are copied before and restored after (so a
// caller with zeroed gradients still has zeroed gradients). Parameters, optimizer
// state and dropout's random stream are not touched (eval mode draws nothing).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/image.h"
#include "net/sequential.h"

namespace radius {

// The default target layer: the output of the last conv2d layer's block, i.e. of
// the last per-channel layers right after it (batch norm, relu; or a sigmoid that is
// not the head) when there are any: what Keras calls the last conv layer's output
// (its activation is fused). Throws std::invalid_argument when the model has no
// conv2d layer.
size_t gradcam_default_layer(const Sequential& model);

struct GradCamOptions {
  int layer = -1;           // target layer index; < 0: gradcam_default_layer()
  int target = -1;          // class to explain for every sample; < 0: the predicted class
  double threshold = 0.5;   // one sigmoid unit: predicted class = sigmoid(z) > threshold ? 1 : 0
};

struct GradCam {
  size_t layer = 0;                  // the layer whose output was used
  Tensor heatmap;                    // [N, H, W] at the input size, values in [0, 1], CPU
  Tensor coarse;                     // [N, h, w] at the layer's size, same normalisation, CPU
  std::vector<int> explained_class;  // per sample
  std::vector<float> logits;         // per sample: the model's first output unit (pre-sigmoid)
};

// x [N, input...] with a rank-3 model input [C, H, W]; the target layer's output
// must be rank 3 [K, h, w]. Works on any device (maps are computed on the host).
GradCam grad_cam(Sequential& model, const Tensor& x, const GradCamOptions& options = {});

// Bilinear resize of a float map (half-pixel centres, edges clamped, like
// OpenCV's INTER_LINEAR and PyTorch's align_corners=False).
std::vector<float> resize_map_bilinear(const float* src, int src_w, int src_h, int dst_w, int dst_h);

// The "jet" colour map (MATLAB/matplotlib): 0 = dark blue, 0.5 = green-yellow, 1 = dark red.
// v is clamped to [0, 1]. Writes r, g, b.
void jet_color(float v, uint8_t rgb[3]);
// map [height * width] in [0, 1] -> an RGB Image through jet_color.
Image colorize_jet(const float* map, int width, int height);

// The map (map_w x map_h, values in [0, 1]) resized bilinearly to the base's
// size, coloured with jet, and alpha-blended over the base (gray or RGB; gray is
// replicated): out = (1 - alpha) * base + alpha * jet(map). Returns RGB.
Image overlay_heatmap(const Image& base, const float* map, int map_w, int map_h, float alpha = 0.4f);

}  // namespace radius
