#include "net/train.h"

#include <stdexcept>

#include "layers/bce.h"
#include "layers/layer.h"
#include "optim/clip.h"

namespace radius {

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  int64_t correct = 0;
  bce_with_logits(logits, labels, &correct);
  return correct;
}

namespace {
// The batch must already be where the model is: the trainer never copies it.
void expect_on_model(const Sequential& model, const Tensor& x, const Tensor& labels) {
  expect_device(x, model.device(), "training batch");
  expect_device(labels, model.device(), "training labels");
}
}  // namespace

StepResult Trainer::step(const Tensor& x, const Tensor& labels) {
  expect_on_model(model_, x, labels);
  model_.zero_grad();
  const Tensor& logits = model_.forward(x, Mode::train);
  if (logits.numel() != labels.numel())
    throw std::invalid_argument("train step: " + std::to_string(logits.numel()) + " logits but " +
                                std::to_string(labels.numel()) + " labels (the model needs one output unit)");
  if (!dlogits_.defined() || !(dlogits_.shape() == logits.shape()) || dlogits_.device() != logits.device())
    dlogits_ = Tensor::empty(logits.shape(), logits.device());
  StepResult r;
  r.loss = bce_with_logits(logits, labels, &r.correct);  // on a GPU: the step's one device->host copy
  bce_with_logits_grad(logits, labels, dlogits_);
  model_.backward(dlogits_);
  if (clip_norm_ > 0) clip_grad_norm(model_.grads(), clip_norm_);
  optimizer_.step(model_.params(), model_.grads());
  return r;
}

StepResult Trainer::evaluate(const Tensor& x, const Tensor& labels) {
  expect_on_model(model_, x, labels);
  const Tensor& logits = model_.forward(x, Mode::eval);
  StepResult r;
  r.loss = bce_with_logits(logits, labels, &r.correct);
  return r;
}

}  // namespace radius
