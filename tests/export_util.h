// A small model with every exportable kind, and random weights and statistics, for
// the export tests (tests/test_export*.cpp).
#pragma once
#include <memory>
#include <string>

#include "net/sequential.h"
#include "net/spec.h"
#include "tensor/rng.h"

namespace radius::test {

// Odd sizes on purpose: "same" padding with stride 2 pads 1 row top and bottom but
// 0 columns left and 1 right (TensorFlow's rule), and the pools overlap.
inline const std::string kExportSpec = R"(input height=9 width=8 channels=2
conv2d filters=3 kernel=3 stride=2 padding=same activation=relu
batchnorm2d
avgpool2d pool=2 stride=1
conv2d filters=4 kernel=2 bias=false
maxpool2d pool=2 stride=1
flatten
dropout rate=0.5
dense units=5 activation=relu
dense units=1 activation=sigmoid
)";

// Every parameter and state buffer drawn at random (variances positive): no test
// here may pass on zeros or ones.
inline void randomize(Sequential& model, uint64_t seed) {
  Rng rng(seed, 0);
  for (const NamedParam& p : model.named_params()) {
    Tensor v = p.value;  // a view: writes reach the model's buffer
    for (int64_t i = 0; i < v.numel(); ++i) v.cpu()[i] = rng.uniform(-1.0f, 1.0f);
  }
  for (const NamedBuffer& b : model.named_buffers()) {
    Tensor v = b.value;
    const bool variance = b.name.ends_with("running_var");
    for (int64_t i = 0; i < v.numel(); ++i) v.cpu()[i] = variance ? rng.uniform(0.5f, 2.0f) : rng.uniform(-1.0f, 1.0f);
  }
}

inline std::unique_ptr<Sequential> export_test_model(uint64_t seed = 7, const std::string& spec = kExportSpec) {
  auto m = parse_model_spec(spec, "export test");
  m->init(seed);
  randomize(*m, seed);
  return m;
}

}  // namespace radius::test
