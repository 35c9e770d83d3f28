// Weight initialisation schemes. Every layer asks for its weights with
// Init::glorot_uniform (the Keras default, what the seed paper used); a model can
// be initialised with another scheme for all of its weight tensors instead
// (Sequential::init(seed, scheme)). Biases (Init::zeros) stay zero in every scheme.
//
//   glorot_uniform  U(-a, a),  a = sqrt(6 / (fan_in + fan_out))   Keras GlorotUniform
//   he_uniform      U(-a, a),  a = sqrt(6 / fan_in)                Keras HeUniform,
//                                                                  PyTorch kaiming_uniform_(relu)
//   he_normal       N(0, s^2), s = sqrt(2 / fan_in)                PyTorch kaiming_normal_(relu)
//                                                                  (not truncated)
// He (Kaiming) schemes keep the variance of ReLU activations constant from layer
// to layer (He et al., 2015); Glorot's halves it at every ReLU, which on deep
// ReLU stacks starts training with small, easily killed activations.
#pragma once
#include <string>

#include "layers/layer.h"
#include "tensor/rng.h"

namespace radius {

enum class WeightInit { glorot_uniform, he_uniform, he_normal };

// "glorot" | "glorot-uniform" | "he-uniform" | "he-normal"; throws naming the choices.
WeightInit parse_weight_init(const std::string& name);
std::string to_string(WeightInit scheme);

// Fills v (a CPU tensor with spec's shape) as `spec` asks: zeros stay zeros; a
// glorot_uniform weight is drawn with `scheme` from rng, in element order.
void fill_param(Tensor& v, const ParamSpec& spec, WeightInit scheme, Rng& rng);

}  // namespace radius
