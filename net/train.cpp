#include "net/train.h"

#include <stdexcept>

#include "layers/bce.h"

namespace radius {

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  int64_t correct = 0;
  const float* z = logits.cpu();
  const float* y = labels.cpu();
  for (int64_t i = 0; i < logits.numel(); ++i) correct += (z[i] > 0.0f) == (y[i] > 0.5f);
  return correct;
}

StepResult Trainer::step(const Tensor& x, const Tensor& labels) {
  model_.zero_grad();
  const Tensor& logits = model_.forward(x, Mode::train);
  if (logits.numel() != labels.numel())
    throw std::invalid_argument("train step: " + std::to_string(logits.numel()) + " logits but " +
                                std::to_string(labels.numel()) + " labels (the model needs one output unit)");
  if (!dlogits_.defined() || !(dlogits_.shape() == logits.shape())) dlogits_ = Tensor::empty(logits.shape());
  StepResult r{bce_with_logits(logits, labels), count_correct(logits, labels)};
  bce_with_logits_grad(logits, labels, dlogits_);
  model_.backward(dlogits_);
  optimizer_.step(model_.params(), model_.grads());
  return r;
}

StepResult Trainer::evaluate(const Tensor& x, const Tensor& labels) {
  const Tensor& logits = model_.forward(x, Mode::eval);
  return {bce_with_logits(logits, labels), count_correct(logits, labels)};
}

}  // namespace radius
