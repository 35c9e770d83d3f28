// net/trace.h: one traced training step gives numbers a reader can check by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "net/spec.h"
#include "net/trace.h"
#include "optim/adam.h"
#include "tensor/rng.h"
#include "tests/cli_util.h"

using namespace radius;

TEST_CASE("trace: one step's outputs, gradient norms and update agree with what they must be") {
  auto model = load_model_spec(test::kTinySpec);
  model->init(3);
  Tensor x = Tensor::empty(model->input_shape().with_batch(2));
  Rng rng(5, 0);
  for (int64_t k = 0; k < x.numel(); ++k) x.cpu()[k] = rng.uniform(0.0f, 1.0f);
  const Tensor labels = Tensor::from_vector(Shape{2}, {0.0f, 1.0f});
  const Tensor before = model->params().clone();
  Adam adam(AdamConfig::keras(1e-3f));
  const StepTrace t = trace_training_step(*model, adam, x, labels, 4, 1);

  REQUIRE(t.rows.size() == model->size() - 1);  // the body: every layer but the sigmoid head
  CHECK(t.optimizer_step == 1);
  // The loss and the last gradient, by hand: dL/dz = (sigmoid(z) - y) / n.
  double loss = 0, g2 = 0;
  for (size_t k = 0; k < 2; ++k) {
    const double z = t.logits[k], y = t.labels[k], p = 1 / (1 + std::exp(-z));
    CHECK(t.probabilities[k] == doctest::Approx(p).epsilon(1e-6));
    loss += -(y * std::log(p) + (1 - y) * std::log(1 - p)) / 2;
    g2 += (p - y) * (p - y) / 4;
  }
  CHECK(t.loss == doctest::Approx(loss).epsilon(1e-5));
  CHECK(t.rows.back().grad_norm == doctest::Approx(std::sqrt(g2)).epsilon(1e-5));
  // A relu's output is its input clamped at 0, and it passes gradient only where positive.
  for (size_t i = 1; i < t.rows.size(); ++i) {
    if (t.rows[i].description != "relu") continue;
    CAPTURE(i);
    for (size_t k = 0; k < t.rows[i].first.size(); ++k)
      CHECK(t.rows[i].first[k] == std::max(0.0f, t.rows[i - 1].first[k]));
    CHECK(t.rows[i - 1].grad_norm <= t.rows[i].grad_norm + 1e-9);
  }
  // Layers with parameters moved by the step, the others have none.
  double moved = 0;
  for (const TraceRow& r : t.rows) {
    const bool has_params = !model->layer(r.index).param_specs().empty();
    CHECK((r.update_norm > 0) == has_params);
    CHECK((r.param_norm > 0) == has_params);
    moved += r.update_norm * r.update_norm;
  }
  const Tensor after = model->params();
  double d2 = 0;
  for (int64_t k = 0; k < after.numel(); ++k) d2 += std::pow(double(after.cpu()[k]) - before.cpu()[k], 2);
  CHECK(std::sqrt(moved) == doctest::Approx(std::sqrt(d2)).epsilon(1e-9));
  CHECK(trace_table(t).find("loss (binary cross-entropy from the logits, batch mean)") != std::string::npos);
}

TEST_CASE("trace: radius explain --trace prints the step, on random inputs or on an image") {
  const test::CliRun r = test::radius_cli("explain " + test::q(test::kTinySpec) + " --trace --repeats 1");
  CAPTURE(r.out);
  CHECK(r.rc == 0);
  CHECK(r.out.find("one training step: batch 2 of [3, 32, 32]") != std::string::npos);
  CHECK(r.out.find("||dL/dw||") != std::string::npos);
}
