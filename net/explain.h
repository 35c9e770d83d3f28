// A window into a network, for students: what each layer costs (shapes,
// parameters, FLOPs, bytes), what it does to one input (activation statistics),
// and how long it takes forward and backward. `radius explain` prints all of it;
// `radius summary` (and Sequential::summary) print the cost table.
//
// Counting rules (per sample, float32):
//   FLOPs   a multiply-add counts 2 (Layer::flops). Forward: the layer's flops().
//           Backward, what Sequential::backward runs for the layer:
//             conv2d   dw += dy col^T: 2*K*patch*pixels, db: K*pixels, and the input
//                      gradient col2im(w^T dy): 2*K*patch*pixels
//             dense    dw += dy^T x: 2*I*O, db: O, dx = dy w: 2*I*O
//             relu, dropout: 1 per element (dy times a mask); sigmoid: 3 (dy*y*(1-y))
//             maxpool  1 per output (an add into the winner); avgpool: the forward count
//             flatten  0 (a copy)
//           Layer 0 computes no input gradient (Sequential skips it: the image
//           needs none), so its dx term is left out. Copies (im2col) are not FLOPs.
//   bytes   activation bytes: the layer's output (kept for backward in training);
//           parameter bytes: its weights. Training also holds a gradient and two
//           Adam moments per weight: 4x the parameter bytes in all.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "net/activation_stats.h"
#include "net/sequential.h"

namespace radius {

struct LayerCost {
  size_t index = 0;
  std::string kind, description;  // "conv2d", "conv2d 8 3x3 stride 1 valid"
  Shape input, output;            // per sample
  int64_t params = 0;
  int64_t forward_flops = 0, backward_flops = 0;
  int64_t activation_bytes = 0, param_bytes = 0;
};

// Backward FLOPs of one layer on per-sample input `in` (rules above);
// input_gradient: whether the layer computes dx (false for layer 0).
int64_t backward_flops(const Layer& layer, const Shape& in, const Shape& out, bool input_gradient);

std::vector<LayerCost> layer_costs(const Sequential& model);

// The cost table with totals (what `radius summary` prints).
std::string cost_table(const Sequential& model);

// The memory a training step holds on the model's device (Sequential's buffers):
// per sample, every layer's output (kept for backward), the input and the two
// gradient buffers as large as the largest activation; fixed, the flat parameters,
// their gradients, the optimizer's two moments (Adam: the most) and the state buffers.
// The layers' own scratch (im2col blocks) is small and bounded, and left out.
struct TrainingMemory {
  int64_t per_sample = 0, fixed = 0;
  int64_t for_batch(int64_t batch) const { return fixed + batch * per_sample; }
};
TrainingMemory training_memory(const Sequential& model);


// Runs the layers one at a time (the sigmoid head too) on x [N, input...] on the
// model's device; result[i] is layer i's output.
std::vector<Tensor> forward_each(Sequential& model, const Tensor& x, Mode mode);

struct LayerTiming {
  double forward_ms = 0, backward_ms = 0;  // medians over the repetitions
};
// Median forward and backward time of each layer on x over `repeats` passes
// (after one warm-up pass), in training mode as a training step runs them; the
// backward pass starts from a random dLoss/dy (seeded). Parameter gradients are
// zeroed afterwards.
std::vector<LayerTiming> time_layers(Sequential& model, const Tensor& x, int repeats, uint64_t seed);

}  // namespace radius
