// Learning-rate schedules: linear warmup, then constant, cosine or step decay.
// A schedule is a pure function of the update index, so a resumed run continues
// it exactly (fit sets the optimizer's rate before every update; the optimizer's
// own update math is unchanged, only its `lr` varies).
//
//   step s (0-based index of the update about to run), base rate lr, warmup W:
//   s < W            lr * (s + 1) / W                       (linear warmup, never 0)
//   constant         lr
//   cosine           lr * 0.5 * (1 + cos(pi * min(s - W, T) / T)),  T = total - W
//   step             lr * factor ^ floor((s - W) / every)
//
// Off by default (constant, no warmup): the seed paper trained at a fixed 1e-3.
#pragma once
#include <cstdint>
#include <string>

namespace radius {

enum class LrDecay { constant, cosine, step };

struct LrSchedule {
  double base_lr = 1e-3;
  int64_t warmup_steps = 0;
  LrDecay decay = LrDecay::constant;
  int64_t total_steps = 0;     // cosine: the update at which the rate reaches 0
  int64_t step_every = 0;      // step: updates between decays
  double step_factor = 0.1;    // step: multiplier per decay

  // True when the rate ever differs from base_lr (fit leaves the optimizer alone otherwise).
  bool active() const { return warmup_steps > 0 || decay != LrDecay::constant; }
  double lr_at(int64_t step) const;
  std::string describe() const;
  void validate() const;  // throws std::invalid_argument saying what is wrong
};

LrDecay parse_lr_decay(const std::string& name);  // "constant" | "cosine" | "step"
std::string to_string(LrDecay decay);

}  // namespace radius
