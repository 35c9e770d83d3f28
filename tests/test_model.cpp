// Sequential: the layer contract end to end, init, dropout, and learning.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>

#include "data/bars.h"
#include "layers/activations.h"
#include "layers/bce.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/pool2d.h"
#include "net/sequential.h"
#include "net/train.h"
#include "optim/adam.h"
#include "tests/gradcheck.h"

using namespace radius;

namespace {

// Every layer kind, odd sizes, stride 2, both paddings.
Sequential every_layer_model() {
  Sequential m(Shape{2, 11, 10});
  m.add(std::make_unique<Conv2D>(4, 3, 3, 1, Padding::valid));   // [4, 9, 8]
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Pool2D>(PoolKind::max, 2, 2, 0));       // [4, 4, 4]
  m.add(std::make_unique<Conv2D>(3, 3, 3, 2, Padding::same));     // [3, 2, 2]
  m.add(std::make_unique<Sigmoid>());
  m.add(std::make_unique<Pool2D>(PoolKind::average, 2, 1, 1));    // [3, 1, 2]
  m.add(std::make_unique<Flatten>());                             // [6]
  m.add(std::make_unique<Dropout>(0.3f));
  m.add(std::make_unique<Dense>(5));
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Dense>(1));
  m.add(std::make_unique<Sigmoid>());  // head
  return m;
}

Tensor random_tensor(const Shape& s, uint64_t seed) { return Tensor::from_vector(s, test::random_floats(size_t(s.numel()), seed)); }

// Re-running forward in train mode draws a new dropout mask; finite differences
// need the same mask each time, so rewind every dropout layer's counter.
void rewind_dropout(Sequential& m) {
  std::map<std::string, uint64_t> counters = m.counters();
  for (auto& [name, value] : counters) value = 0;
  m.set_counters(counters);
}

}  // namespace

TEST_CASE("sequential: shapes, params, head") {
  Sequential m = every_layer_model();
  CHECK(m.output_shape() == Shape{1});
  CHECK(m.layer_output(2) == Shape{4, 4, 4});
  CHECK(m.layer_output(5) == Shape{3, 1, 2});
  CHECK(m.has_sigmoid_head());
  CHECK(m.num_params() == (4 * 2 * 9 + 4) + (3 * 4 * 9 + 3) + (5 * 6 + 5) + (5 + 1));
  m.init(1);
  CHECK(m.named_params()[0].name == "0.weight");
  CHECK(m.named_params()[2].name == "3.weight");
  CHECK(m.summary().find("total parameters") != std::string::npos);
}

TEST_CASE("sequential: impossible shapes name the layer") {
  Sequential m(Shape{3, 5, 5});
  m.add(std::make_unique<Conv2D>(4, 3, 3));
  CHECK_THROWS_WITH_AS(m.add(std::make_unique<Pool2D>(PoolKind::max, 4, 4, 0)),
                       doctest::Contains("layer 1 (maxpool2d 4x4 stride 4) on input [4, 3, 3]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(m.add(std::make_unique<Dense>(3)), doctest::Contains("flatten"), std::invalid_argument);
  m.init(0);
  CHECK_THROWS_WITH_AS(m.forward(Tensor::zeros(Shape{2, 3, 5, 4}), Mode::eval), doctest::Contains("[2, 3, 5, 5]"),
                       std::invalid_argument);
}

TEST_CASE("layer contract: parameter gradients accumulate across backward calls") {
  Sequential m = every_layer_model();
  m.init(3);
  const Tensor x = random_tensor(Shape{3, 2, 11, 10}, 4);
  const Tensor dlogits = random_tensor(Shape{3, 1}, 5);
  m.forward(x, Mode::train);
  m.zero_grad();
  m.backward(dlogits);
  const std::vector<float> once = m.grads().to_vector();
  m.backward(dlogits);
  const std::vector<float> twice = m.grads().to_vector();
  double norm = 0;
  for (size_t i = 0; i < once.size(); ++i) {
    CHECK(twice[i] == doctest::Approx(2 * once[i]).epsilon(1e-5));
    norm += std::abs(once[i]);
  }
  CHECK(norm > 0);
}

TEST_CASE("sequential: float gradients of the whole model agree with a directional finite difference") {
  Sequential m = every_layer_model();
  m.init(6);
  const Tensor x = random_tensor(Shape{4, 2, 11, 10}, 7);
  const Tensor y = Tensor::from_vector(Shape{4, 1}, {1, 0, 0, 1});
  auto loss = [&] {
    rewind_dropout(m);
    return bce_with_logits(m.forward(x, Mode::train), y);
  };
  Tensor dz = Tensor::empty(Shape{4, 1});
  rewind_dropout(m);
  bce_with_logits_grad(m.forward(x, Mode::train), y, dz);
  m.zero_grad();
  m.backward(dz);
  // Along three random unit directions d: g . d vs (L(w + e d) - L(w - e d)) / 2e.
  for (uint64_t trial = 0; trial < 3; ++trial) {
    std::vector<double> d = test::random_vector(size_t(m.num_params()), 100 + trial);
    double dn = std::sqrt(test::dot(d, d)), analytic = 0;
    for (size_t i = 0; i < d.size(); ++i) {
      d[i] /= dn;
      analytic += d[i] * m.grads().at(int64_t(i));
    }
    const std::vector<float> w0 = m.params().to_vector();
    const double eps = 1e-3;
    auto shifted = [&](double s) {
      for (size_t i = 0; i < d.size(); ++i) m.params().at(int64_t(i)) = float(w0[i] + s * d[i]);
      return loss();
    };
    const double numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
    shifted(0);
    CHECK(numeric == doctest::Approx(analytic).epsilon(2e-2));
  }
}

TEST_CASE("init: glorot-uniform weights within their bound, zero biases, reproducible by seed") {
  Sequential a(Shape{3, 8, 8}), b(Shape{3, 8, 8}), c(Shape{3, 8, 8});
  for (Sequential* m : {&a, &b, &c}) {
    m->add(std::make_unique<Conv2D>(16, 3, 3));
    m->add(std::make_unique<Flatten>());
    m->add(std::make_unique<Dense>(10));
  }
  a.init(42);
  b.init(42);
  c.init(43);
  CHECK(a.params().to_vector() == b.params().to_vector());
  CHECK(a.params().to_vector() != c.params().to_vector());
  const Tensor& w = a.named_params()[0].value;  // fan_in 27, fan_out 144
  const double bound = std::sqrt(6.0 / (27 + 144));
  double sq = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    CHECK(std::abs(w.at(i)) <= bound);
    sq += double(w.at(i)) * w.at(i);
  }
  CHECK(std::sqrt(sq / double(w.numel())) == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.05));
  const Tensor& bias = a.named_params()[1].value;
  for (int64_t i = 0; i < bias.numel(); ++i) CHECK(bias.at(i) == 0.0f);
}

TEST_CASE("dropout: inverted scaling, rate, fresh masks per step, identity in eval, seeded") {
  auto build = [](uint64_t seed) {
    Sequential m(Shape{20000});
    m.add(std::make_unique<Dropout>(0.5f));
    m.init(seed);
    return m;
  };
  Sequential m = build(9);
  const Tensor x = Tensor::full(Shape{1, 20000}, 1.0f);
  const std::vector<float> first = m.forward(x, Mode::train).to_vector();
  int64_t zeros = 0;
  for (float v : first) {
    CHECK((v == 0.0f || v == 2.0f));
    zeros += v == 0.0f;
  }
  CHECK(double(zeros) / 20000.0 == doctest::Approx(0.5).epsilon(0.05));
  const std::vector<float> second = m.forward(x, Mode::train).to_vector();
  CHECK(first != second);
  CHECK(m.forward(x, Mode::eval).to_vector() == x.to_vector());
  Sequential again = build(9);
  CHECK(again.forward(x, Mode::train).to_vector() == first);
}

TEST_CASE("predict applies the sigmoid head to the logits") {
  Sequential m = every_layer_model();
  m.init(11);
  const Tensor x = random_tensor(Shape{2, 2, 11, 10}, 12);
  const std::vector<float> z = m.forward(x, Mode::eval).to_vector();
  const std::vector<float> p = m.predict(x).to_vector();
  for (size_t i = 0; i < z.size(); ++i) CHECK(p[i] == doctest::Approx(stable_sigmoid(z[i])));
}

TEST_CASE("composition: a small CNN learns bright bar vs none to ~100 % in seconds") {
  const auto start = std::chrono::steady_clock::now();
  // 18x18 so every pooling divides evenly: with 16x16 the floor of the second
  // pooling would crop the bottom rows, and bars there could never be seen.
  Sequential m(Shape{1, 18, 18});
  m.add(std::make_unique<Conv2D>(8, 3, 3));
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Pool2D>(PoolKind::max, 2, 2, 0));
  m.add(std::make_unique<Conv2D>(16, 3, 3));
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Pool2D>(PoolKind::max, 2, 2, 0));
  m.add(std::make_unique<Flatten>());
  m.add(std::make_unique<Dense>(32));
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Dense>(1));
  m.add(std::make_unique<Sigmoid>());
  m.init(2024);
  Adam adam(AdamConfig::keras(3e-3f));
  Trainer trainer(m, adam);
  const ToyBatch train = make_bar_images(512, 1, 18, 18, 1);
  const ToyBatch test = make_bar_images(256, 1, 18, 18, 1, 100000);
  const int64_t batch = 32;
  for (int epoch = 0; epoch < 15; ++epoch)
    for (int64_t b = 0; b < 512; b += batch) trainer.step(train.images.batch(b, b + batch), train.labels.batch(b, b + batch));
  const StepResult on_train = trainer.evaluate(train.images, train.labels);
  const StepResult on_test = trainer.evaluate(test.images, test.labels);
  MESSAGE("train acc ", double(on_train.correct) / 512, ", test acc ", double(on_test.correct) / 256, ", loss ",
          on_train.loss);
  CHECK(double(on_train.correct) / 512 >= 0.99);
  CHECK(double(on_test.correct) / 256 >= 0.95);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(60));
}
