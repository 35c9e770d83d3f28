#include "layers/init.h"

#include <cmath>
#include <stdexcept>

namespace radius {

WeightInit parse_weight_init(const std::string& name) {
  if (name == "glorot" || name == "glorot-uniform") return WeightInit::glorot_uniform;
  if (name == "he-uniform") return WeightInit::he_uniform;
  if (name == "he-normal") return WeightInit::he_normal;
  throw std::invalid_argument("unknown init '" + name + "' (glorot, he-uniform, he-normal)");
}

std::string to_string(WeightInit scheme) {
  switch (scheme) {
    case WeightInit::glorot_uniform: return "glorot";
    case WeightInit::he_uniform: return "he-uniform";
    case WeightInit::he_normal: return "he-normal";
  }
  return "?";
}

namespace {

void fill_uniform(Tensor& v, float bound, Rng& rng) {
  float* p = v.cpu();
  for (int64_t j = 0; j < v.numel(); ++j) p[j] = rng.uniform(-bound, bound);
}

// Box-Muller on pairs of uniforms: two normals per pair, drawn in order.
void fill_normal(Tensor& v, double stddev, Rng& rng) {
  float* p = v.cpu();
  const double two_pi = 6.283185307179586;
  for (int64_t j = 0; j < v.numel(); j += 2) {
    const double u1 = 1.0 - double(rng.uniform());  // (0, 1]: log is finite
    const double u2 = double(rng.uniform());
    const double r = stddev * std::sqrt(-2.0 * std::log(u1));
    p[j] = float(r * std::cos(two_pi * u2));
    if (j + 1 < v.numel()) p[j + 1] = float(r * std::sin(two_pi * u2));
  }
}

}  // namespace

void fill_param(Tensor& v, const ParamSpec& spec, WeightInit scheme, Rng& rng) {
  if (spec.init == Init::zeros || spec.init == Init::ones) {
    v.fill(spec.init == Init::ones ? 1.0f : 0.0f);
    return;
  }
  if (spec.fan_in <= 0) throw std::invalid_argument("init: parameter '" + spec.name + "' has no fan-in");
  const double fan_in = double(spec.fan_in), fan_out = double(spec.fan_out);
  switch (scheme) {
    case WeightInit::glorot_uniform: fill_uniform(v, float(std::sqrt(6.0 / (fan_in + fan_out))), rng); break;
    case WeightInit::he_uniform: fill_uniform(v, float(std::sqrt(6.0 / fan_in)), rng); break;
    case WeightInit::he_normal: fill_normal(v, std::sqrt(2.0 / fan_in), rng); break;
  }
}

}  // namespace radius
