// One training step and a plain evaluation pass, for a binary classifier with
// one logit per sample (the fracture model) trained with BCE from logits.
#pragma once
#include "net/sequential.h"
#include "optim/optimizer.h"

namespace radius {

struct StepResult {
  double loss = 0;      // mean BCE over the batch
  int64_t correct = 0;  // predictions (logit > 0) equal to the label
};

// x [N, C, H, W], labels [N] in {0, 1}. zero_grad -> forward (train) -> loss ->
// backward (per micro-batch, when set) -> (clip) -> optimizer step. Scratch for dlogits is kept between calls.
// x and labels must be on the model's device (model.device()); on a GPU the
// whole step runs there and only the loss and the correct count come back.
class Trainer {
 public:
  Trainer(Sequential& model, Optimizer& optimizer) : model_(model), optimizer_(optimizer) {}
  StepResult step(const Tensor& x, const Tensor& labels);
  StepResult evaluate(const Tensor& x, const Tensor& labels);  // eval mode, no update
  // Gradient-norm clipping before every update (optim/clip.h); 0 = off (the default).
  void set_clip_norm(double max_norm) { clip_norm_ = max_norm; }
  // Gradient accumulation: each batch runs as `parts` micro-batches (sizes differ by at
  // most one), one forward and backward each, then one update with the batch's mean
  // gradient; activations take a micro-batch's memory. Each micro-batch's gradient is
  // computed from zero and added to the sum in order, which is what R processes, one
  // micro-batch each, adding their gradients in rank order, compute bit for bit. Batch
  // norm then normalises by micro-batch statistics (as data-parallel training does).
  void set_micro_batches(int parts) { micro_batches_ = parts < 1 ? 1 : parts; }

 private:
  // forward (train) -> loss -> dLoss/dlogits x weight -> backward (accumulates).
  StepResult forward_backward(const Tensor& x, const Tensor& labels, float weight);

  Sequential& model_;
  Optimizer& optimizer_;
  Tensor dlogits_;
  Tensor grad_sum_;  // micro-batches' gradient sum
  double clip_norm_ = 0;
  int micro_batches_ = 1;
};

int64_t count_correct(const Tensor& logits, const Tensor& labels);

}  // namespace radius
