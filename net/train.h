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
// backward -> (clip) -> optimizer step. Scratch for dlogits is kept between calls.
// x and labels must be on the model's device (model.device()); on a GPU the
// whole step runs there and only the loss and the correct count come back.
class Trainer {
 public:
  Trainer(Sequential& model, Optimizer& optimizer) : model_(model), optimizer_(optimizer) {}
  StepResult step(const Tensor& x, const Tensor& labels);
  StepResult evaluate(const Tensor& x, const Tensor& labels);  // eval mode, no update
  // Gradient-norm clipping before every update (optim/clip.h); 0 = off (the default).
  void set_clip_norm(double max_norm) { clip_norm_ = max_norm; }

 private:
  Sequential& model_;
  Optimizer& optimizer_;
  Tensor dlogits_;
  double clip_norm_ = 0;
};

int64_t count_correct(const Tensor& logits, const Tensor& labels);

}  // namespace radius
