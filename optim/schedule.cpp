#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace radius {

LrDecay parse_lr_decay(const std::string& name) {
  if (name == "constant") return LrDecay::constant;
  if (name == "cosine") return LrDecay::cosine;
  if (name == "step") return LrDecay::step;
  throw std::invalid_argument("unknown learning-rate schedule '" + name + "' (constant, cosine, step)");
}

std::string to_string(LrDecay decay) {
  switch (decay) {
    case LrDecay::constant: return "constant";
    case LrDecay::cosine: return "cosine";
    case LrDecay::step: return "step";
  }
  return "?";
}

void LrSchedule::validate() const {
  if (!(base_lr > 0)) throw std::invalid_argument("lr schedule: the base learning rate must be > 0");
  if (warmup_steps < 0) throw std::invalid_argument("lr schedule: warmup steps must be >= 0");
  if (decay == LrDecay::cosine && total_steps <= warmup_steps)
    throw std::invalid_argument("lr schedule: cosine needs more total steps (" + std::to_string(total_steps) +
                                ") than warmup steps (" + std::to_string(warmup_steps) + ")");
  if (decay == LrDecay::step && step_every <= 0)
    throw std::invalid_argument("lr schedule: step decay needs a positive interval");
  if (decay == LrDecay::step && !(step_factor > 0 && step_factor <= 1))
    throw std::invalid_argument("lr schedule: the step factor must be in (0, 1]");
}

double LrSchedule::lr_at(int64_t step) const {
  if (step < warmup_steps) return base_lr * double(step + 1) / double(warmup_steps);
  const int64_t s = step - warmup_steps;  // updates since the warmup ended
  switch (decay) {
    case LrDecay::constant: return base_lr;
    case LrDecay::cosine: {
      const double t = double(total_steps - warmup_steps);
      const double progress = std::min(double(s), t) / t;  // 0 -> 1, then held at 0
      return base_lr * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
    }
    case LrDecay::step: return base_lr * std::pow(step_factor, double(s / step_every));
  }
  return base_lr;
}

std::string LrSchedule::describe() const {
  std::string d = to_string(decay);
  if (decay == LrDecay::cosine) d += " to 0 at step " + std::to_string(total_steps);
  if (decay == LrDecay::step)
    d += " x" + std::to_string(step_factor).substr(0, 6) + " every " + std::to_string(step_every) + " steps";
  if (warmup_steps > 0) d += ", linear warmup over " + std::to_string(warmup_steps) + " steps";
  return d;
}

}  // namespace radius
