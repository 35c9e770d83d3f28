#include "net/train.h"

#include <algorithm>
#include <stdexcept>

#include "kernels/reduce.h"
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
// t *= k and sum += g, on the tensors' device.
void scale_tensor(Tensor& t, float k) {
  if (t.is_cpu())
    for (int64_t i = 0; i < t.numel(); ++i) t.cpu()[i] *= k;
  else
    RADIUS_CUDA_ONLY(cuda::scale(t.numel(), k, t.data()));
}
void add_tensor(const Tensor& g, Tensor& sum) {
  if (g.is_cpu())
    for (int64_t i = 0; i < g.numel(); ++i) sum.cpu()[i] += g.cpu()[i];
  else
    RADIUS_CUDA_ONLY(cuda::add(g.numel(), g.data(), sum.data()));
}

// The batch must already be where the model is: the trainer never copies it.
void expect_on_model(const Sequential& model, const Tensor& x, const Tensor& labels) {
  expect_device(x, model.device(), "training batch");
  expect_device(labels, model.device(), "training labels");
}
}  // namespace

StepResult Trainer::forward_backward(const Tensor& x, const Tensor& labels, float weight) {
  const Tensor& logits = model_.forward(x, Mode::train);
  if (logits.numel() != labels.numel())
    throw std::invalid_argument("train step: " + std::to_string(logits.numel()) + " logits but " +
                                std::to_string(labels.numel()) + " labels (the model needs one output unit)");
  if (!dlogits_.defined() || !(dlogits_.shape() == logits.shape()) || dlogits_.device() != logits.device())
    dlogits_ = Tensor::empty(logits.shape(), logits.device());
  StepResult r;
  r.loss = bce_with_logits(logits, labels, &r.correct);  // on a GPU: the step's one device->host copy
  bce_with_logits_grad(logits, labels, dlogits_);
  if (weight != 1.0f) scale_tensor(dlogits_, weight);  // a micro-batch's share of the batch mean
  model_.backward(dlogits_);
  return r;
}

StepResult Trainer::step(const Tensor& x, const Tensor& labels) {
  expect_on_model(model_, x, labels);
  const int64_t n = x.dim(0), parts = std::min<int64_t>(micro_batches_, n);
  model_.zero_grad();
  StepResult r;
  if (parts <= 1) {
    r = forward_backward(x, labels, 1.0f);
  } else {
    if (!grad_sum_.defined() || grad_sum_.device() != model_.device() || grad_sum_.numel() != model_.grads().numel())
      grad_sum_ = Tensor::empty(model_.grads().shape(), model_.device());
    grad_sum_.zero();
    const int64_t per_sample = x.numel() / n;
    for (int64_t p = 0; p < parts; ++p) {
      const int64_t begin = n * p / parts, end = n * (p + 1) / parts, m = end - begin;
      const Tensor xs = x.slice(begin * per_sample, model_.input_shape().with_batch(m));
      const Tensor ys = labels.slice(begin, Shape{m});
      model_.zero_grad();  // this micro-batch's gradient alone ...
      const StepResult s = forward_backward(xs, ys, float(m) / float(n));
      add_tensor(model_.grads(), grad_sum_);  // ... added to the sum in order
      r.loss += s.loss * double(m) / double(n);
      r.correct += s.correct;
    }
    model_.grads().copy_from(grad_sum_);
  }
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
