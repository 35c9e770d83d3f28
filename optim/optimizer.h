// Optimizers update the model's flat parameter buffer from its flat gradient
// buffer in one pass: every parameter of every layer, one loop. Their state
// (moments, velocity) is flat too, the same length as the parameters.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace radius {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string describe() const = 0;
  // params [P], grads [P]: params -= update(grads). Allocates state on first use.
  virtual void step(Tensor& params, const Tensor& grads) = 0;
  // Named flat state tensors (for checkpoints); undefined before the first step.
  virtual std::vector<std::pair<std::string, Tensor>> state() = 0;
  // Restores state() from a checkpoint (copies; names must match state()'s).
  virtual void set_state(const std::string& name, const Tensor& value) = 0;

  float learning_rate() const { return lr_; }
  void set_learning_rate(float lr) { lr_ = lr; }
  int64_t steps() const { return t_; }    // updates done so far
  void set_steps(int64_t t) { t_ = t; }  // when restoring a checkpoint

 protected:
  explicit Optimizer(float lr) : lr_(lr) {}
  // Allocates zeroed state the size of params on first use; checks it after.
  void ensure_state(Tensor& state, const Tensor& params, const Tensor& grads, const char* who);

  float lr_;
  int64_t t_ = 0;
};

}  // namespace radius
