// One training step, layer by layer, with numbers a reader can check: what `radius
// explain MODEL [IMAGE] --trace` prints and docs/tour.md walks through.
//
//   forward (train mode)   each layer's output: shape, its first values, mean and std
//   loss                   BCE from the logits (layers/bce.h), and dLoss/dlogits
//   backward               each layer's output gradient norm ||dLoss/dy||, and for a layer
//                          with parameters its weight norm and gradient norm
//   optimizer step         how far each layer's parameters moved, ||w_new - w_old||
//   time                   each layer's forward and backward (net/explain.h: time_layers)
//
// The step is real: the model's parameters and the optimizer's moments change, as in
// training. Output gradients come from Sequential::backward_to, once per layer, so a
// trace costs about L backward passes for L layers: it is for small batches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "net/sequential.h"
#include "optim/optimizer.h"

namespace radius {

struct TraceRow {
  size_t index = 0;
  std::string description;       // "conv2d 32 3x3 stride 1 valid"
  Shape output;                  // per sample
  std::vector<float> first;      // the first values of sample 0's output
  double mean = 0, std = 0;      // over the batch's outputs
  double grad_norm = 0;          // ||dLoss/d(output)|| over the batch
  double param_norm = 0;         // ||parameters|| before the step (0: none)
  double param_grad_norm = 0;    // ||dLoss/d(parameters)||
  double update_norm = 0;        // ||parameters after - before||
  double forward_ms = 0, backward_ms = 0;
};

struct StepTrace {
  Shape input;                      // per sample
  int64_t batch = 0;
  std::vector<TraceRow> rows;       // the body's layers (not the sigmoid head)
  std::vector<float> logits, probabilities, labels;
  double loss = 0;
  int64_t optimizer_step = 0;       // the optimizer's step count after this step
};

// Traces one step on x [N, input...] with labels [N] (0/1), both on the CPU. `values`:
// how many first values each row keeps; `repeats`: timing passes (the median).
StepTrace trace_training_step(Sequential& model, Optimizer& optimizer, const Tensor& x, const Tensor& labels,
                              size_t values = 4, int repeats = 3);

// The trace as text: one line per layer, then the loss and the head.
std::string trace_table(const StepTrace& trace);

}  // namespace radius
