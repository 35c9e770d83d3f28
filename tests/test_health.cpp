// Training health: statistics against hand-computed values, detectors on
// constructed failures (dead ReLUs, a learning rate of 10, a constant output)
// and quiet on a healthy run; the recipe options (init, schedules, clipping).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include "eval/health_plot.h"
#include "eval/report.h"
#include "layers/activations.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/flatten.h"
#include "net/fit.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/sgd.h"
#include "temp_dir.h"
#include "tensor/rng.h"

using namespace radius;

namespace {

void set_values(Tensor t, const std::vector<float>& v) {
  REQUIRE(t.numel() == int64_t(v.size()));
  std::copy(v.begin(), v.end(), t.cpu());
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

std::unique_ptr<Sequential> tiny_conv(uint64_t seed, WeightInit init = WeightInit::glorot_uniform) {
  auto m = parse_model_spec(
      "input height=8 width=8 channels=3\nconv2d filters=8 kernel=3 activation=relu\nmaxpool2d pool=2\nflatten\n"
      "dense units=32 activation=relu\ndense units=1 activation=sigmoid\n",
      "<health-test>");
  m->init(seed, init);
  return m;
}
// Layers: 0 conv2d, 1 relu, 2 maxpool, 3 flatten, 4 dense, 5 relu, 6 dense (logit), 7 sigmoid head.

// `batches` batches of `n` random 8x8x3 images in [0, 1); class 1 is brighter on the left half.
MemoryBatches toy_batches(int batches, int n, uint64_t seed) {
  Rng rng(seed, 0);
  std::vector<MemoryBatches::Item> items;
  for (int b = 0; b < batches; ++b) {
    Tensor x = Tensor::zeros(Shape{n, 3, 8, 8}), y = Tensor::zeros(Shape{n});
    for (int i = 0; i < n; ++i) {
      const int label = (i + b) % 2;
      y.at(i) = float(label);
      for (int k = 0; k < 3 * 64; ++k) {
        const bool left = k % 8 < 4;
        x.at(int64_t(i) * 192 + k) = 0.6f * rng.uniform() + (label == 1 && left ? 0.4f : 0.0f);
      }
    }
    items.push_back({x, y});
  }
  return MemoryBatches(std::move(items));
}

struct Collect final : FitObserver {
  std::vector<HealthWarning> warnings;
  std::vector<int64_t> takeoffs;  // on_takeoff's steps
  void on_health_warning(const HealthWarning& w) override { warnings.push_back(w); }
  void on_takeoff(int64_t step, int, int64_t) override { takeoffs.push_back(step); }
  bool has(const std::string& code, int layer = -2) const {
    for (const HealthWarning& w : warnings)
      if (w.code == code && (layer == -2 || w.layer == layer)) return true;
    return false;
  }
  std::string list() const {
    std::string s;
    for (const HealthWarning& w : warnings) s += w.code + "@" + std::to_string(w.layer) + ": " + w.message + "\n";
    return s;
  }
};

FitOptions sampled_every_batch(int epochs) {
  FitOptions o;
  o.max_epochs = epochs;
  o.restore_best = false;
  o.health.every = 1;
  return o;
}

void expect_no_repeats(const std::vector<HealthWarning>& ws) {
  std::set<std::pair<std::string, int>> seen;
  for (const HealthWarning& w : ws) CHECK(seen.insert({w.code, w.layer}).second);
}

}  // namespace

TEST_CASE("health: statistics match hand-computed values on a tiny network") {
  // x [2, 2] -> Dense(2) -> ReLU -> Dense(1) logit; SGD lr 0.1 so the update is -0.1 g.
  Sequential m(Shape{2});
  m.add(std::make_unique<Dense>(2));
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Dense>(1));
  m.init(1);
  const auto& p = m.named_params();  // 0.weight [2,2], 0.bias [2], 2.weight [1,2], 2.bias [1]
  set_values(p[0].value, {1, 0, -1, -1});
  set_values(p[1].value, {0, 0});
  set_values(p[2].value, {0.5f, -0.25f});
  set_values(p[3].value, {0.1f});
  const Tensor x = Tensor::from_vector(Shape{2, 2}, {1, 2, 3, -1});
  const Tensor y = Tensor::from_vector(Shape{2}, {1, 0});
  Sgd sgd(SgdConfig{0.1f, 0.0f, false});
  Trainer trainer(m, sgd);
  HealthOptions ho;
  ho.every = 1;
  HealthMonitor health(m, ho);
  REQUIRE(health.wants(0, false));
  health.before_step(m);
  const StepResult r = trainer.step(x, y);
  health.after_step(m, y, r.loss, 1, 1, true);
  const auto& s = health.last_sample();
  REQUIRE(s.size() == 3);

  // Dense 0 output: [[1, -3], [3, -2]]; ReLU: [[1, 0], [3, 0]] (unit 1 never positive).
  CHECK(s[0].act_mean == doctest::Approx(-0.25));
  CHECK(s[0].act_std == doctest::Approx(std::sqrt(23.0 / 4 - 0.0625)));
  CHECK(std::isnan(s[0].dead_fraction));  // not a ReLU layer
  CHECK(s[1].act_mean == doctest::Approx(1.0));
  CHECK(s[1].act_std == doctest::Approx(std::sqrt(1.5)));
  CHECK(s[1].dead_fraction == doctest::Approx(0.5));
  CHECK(s[1].units == 2);

  // Logits 0.6 and 1.6; dL/dz = (sigmoid(z) - y) / 2.
  const double d1 = (sigmoid(0.6) - 1) / 2, d2 = sigmoid(1.6) / 2;
  // Dense 2: dW = [d1 * 1 + d2 * 3, 0], db = d1 + d2.
  const double g2 = std::fabs(d1 + 3 * d2), gb2 = std::fabs(d1 + d2);
  CHECK(s[2].weight_grad_norm == doctest::Approx(g2));
  CHECK(s[2].bias_grad_norm == doctest::Approx(gb2));
  CHECK(s[2].weight_update_ratio == doctest::Approx(0.1 * g2 / std::sqrt(0.25 + 0.0625)));
  CHECK(s[2].bias_update_ratio == doctest::Approx(0.1 * gb2 / 0.1));
  CHECK(s[2].weight_norm == doctest::Approx(std::hypot(0.5 - 0.1 * (d1 + 3 * d2), 0.25)));
  // Dense 0: only unit 0 passes gradient: dW row 0 = 0.5 (d1 [1, 2] + d2 [3, -1]), row 1 = 0.
  const double r0 = 0.5 * (d1 + 3 * d2), r1 = 0.5 * (2 * d1 - d2);
  CHECK(s[0].weight_grad_norm == doctest::Approx(std::hypot(r0, r1)));
  CHECK(s[0].bias_grad_norm == doctest::Approx(std::fabs(0.5 * (d1 + d2))));
  CHECK(s[0].weight_update_ratio == doctest::Approx(0.1 * std::hypot(r0, r1) / std::sqrt(3.0)));
  CHECK(std::isnan(s[0].bias_update_ratio));  // zero bias before the step: no ratio

  const std::vector<LayerHealthRow> rows = health.end_epoch(1);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].kind == "relu");
  CHECK(rows[1].samples == 1);
  CHECK(rows[1].dead_fraction == doctest::Approx(0.5));
  CHECK(rows[2].weight_grad_norm == doctest::Approx(g2));
  CHECK(health.end_epoch(2).empty());  // nothing sampled since
}

TEST_CASE("health: activation_stats counts units per channel, the prior entropy") {
  // [N=2, C=2, 2 positions]: channel 0 has one positive value, channel 1 none.
  const Tensor a = Tensor::from_vector(Shape{2, 2, 2}, {0, 0.5f, -1, 0, -2, 0, 0, -3});
  const ActivationStats s = activation_stats(a);
  REQUIRE(s.alive.size() == 2);
  CHECK(s.alive[0] == 1);
  CHECK(s.alive[1] == 0);
  CHECK(s.dead_fraction() == doctest::Approx(0.5));
  CHECK(s.mean == doctest::Approx(-5.5 / 8));
  CHECK(s.finite);
  CHECK(class_prior_entropy(0.5) == doctest::Approx(std::log(2.0)));
  CHECK(class_prior_entropy(0.25) == doctest::Approx(-0.25 * std::log(0.25) - 0.75 * std::log(0.75)));
  CHECK(class_prior_entropy(0.0) == 0.0);
}

TEST_CASE("health: a huge negative bias kills the ReLUs, dead-units, collapse and vanishing fire once") {
  auto m = tiny_conv(5);
  Tensor(m->named_params()[1].value).fill(-100.0f);  // conv bias: every conv output negative
  MemoryBatches train = toy_batches(4, 8, 11);
  Adam adam(AdamConfig::keras(1e-3f));
  Collect c;
  fit(*m, adam, train, nullptr, sampled_every_batch(3), &c);
  INFO(c.list());
  CHECK(c.has("dead-units", 1));
  CHECK(c.has("dead-units", 5));
  CHECK(c.has("collapse"));
  CHECK(c.has("vanishing-gradients", 0));
  expect_no_repeats(c.warnings);
  for (const HealthWarning& w : c.warnings)
    if (w.code == "dead-units") {
      CHECK(w.message.find("layer 1 (relu") != std::string::npos + (w.layer != 1));
      CHECK(w.message.find("100 %") != std::string::npos);
      CHECK(w.message.find("--init he-uniform") != std::string::npos);
    }
}

TEST_CASE("health: a learning rate of 10 fires large-updates before anything else breaks") {
  auto m = tiny_conv(6);
  MemoryBatches train = toy_batches(4, 8, 12);
  Adam adam(AdamConfig::keras(10.0f));
  Collect c;
  try {
    fit(*m, adam, train, nullptr, sampled_every_batch(3), &c);
  } catch (const NonFiniteError&) {
    // May diverge: the warnings came first.
  }
  INFO(c.list());
  REQUIRE(!c.warnings.empty());
  CHECK((c.has("large-updates") || c.has("exploding-gradients")));
  CHECK(c.warnings.front().epoch == 1);
  expect_no_repeats(c.warnings);
}

TEST_CASE("health: a constant-output model fires collapse and prior-entropy") {
  auto m = tiny_conv(7);
  Tensor(m->named_params()[4].value).zero();  // the logit layer's weights: every image gets sigmoid(0)
  MemoryBatches train = toy_batches(4, 8, 13);
  Sgd sgd(SgdConfig{1e-6f, 0.0f, false});
  Collect c;
  FitOptions o = sampled_every_batch(3);
  o.health.entropy_window = 4;
  fit(*m, sgd, train, nullptr, o, &c);
  INFO(c.list());
  CHECK(c.has("collapse"));
  CHECK(c.has("prior-entropy"));
  CHECK(!c.has("dead-units"));
  expect_no_repeats(c.warnings);
  // The prior-entropy message says what it measured: here, the constant output.
  for (const HealthWarning& w : c.warnings)
    if (w.code == "prior-entropy") {
      CHECK(w.message.find("Measured at the last sample") != std::string::npos);
      CHECK(w.message.find("almost constant: a collapse") != std::string::npos);
    }
  CHECK(c.takeoffs.empty());  // it never leaves the prior
}

TEST_CASE("health: quiet on a healthy small run, one row per layer and epoch, and one takeoff") {
  auto m = tiny_conv(8);
  MemoryBatches train = toy_batches(8, 16, 14);
  Adam adam(AdamConfig::keras(3e-3f));
  Collect c;
  FitOptions o = sampled_every_batch(4);
  o.health.entropy_window = 8;
  const FitResult r = fit(*m, adam, train, nullptr, o, &c);
  INFO(c.list());
  CHECK(c.warnings.empty());
  CHECK(r.history.back().train_loss < 0.6);
  // The takeoff: the first step whose windowed loss is 0.1 nats under the prior entropy, reported once.
  REQUIRE(c.takeoffs.size() == 1);
  REQUIRE(r.state.health);
  CHECK(r.state.health->takeoff_step == c.takeoffs[0]);
  CHECK(c.takeoffs[0] >= o.health.entropy_window);  // a full window first
  CHECK(c.takeoffs[0] <= 32);
  CHECK(r.health.size() == 4 * 7);  // 4 epochs x 7 body layers
  for (const LayerHealthRow& row : r.health) {
    CHECK(row.samples == 8);
    CHECK(std::isfinite(row.act_std));
  }
}

TEST_CASE("health: sampling every N batches and each epoch's last, every = 0 is off") {
  auto m = tiny_conv(9);
  HealthOptions ho;
  ho.every = 10;
  HealthMonitor h(*m, ho);
  CHECK(h.wants(0, false));
  CHECK(!h.wants(3, false));
  CHECK(h.wants(3, true));
  CHECK(h.wants(20, false));
  ho.every = 0;
  HealthMonitor off(*m, ho);
  CHECK(!off.enabled());
  CHECK(!off.wants(0, true));
}

TEST_CASE("health: health.csv round-trips, NaN as empty fields") {
  radius::test::TempDir dir("health_csv");
  LayerHealthRow a;
  a.epoch = 2, a.layer = 1, a.kind = "relu", a.samples = 3, a.act_mean = 0.25, a.act_std = 1.5, a.dead_fraction = 0.75;
  LayerHealthRow b;
  b.epoch = 2, b.layer = 0, b.kind = "conv2d", b.samples = 3, b.weight_norm = 2, b.weight_grad_norm = 1e-3,
  b.weight_update_ratio = 4e-4, b.bias_norm = 0.1, b.bias_grad_norm = 1e-2, b.bias_update_ratio = 0.5;
  write_health_csv(dir.file("health.csv"), {a, b});
  const auto rows = read_health_csv(dir.file("health.csv"));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].kind == "relu");
  CHECK(rows[0].dead_fraction == 0.75);
  CHECK(std::isnan(rows[0].weight_norm));
  CHECK(rows[1].weight_update_ratio == doctest::Approx(4e-4));
  CHECK(std::isnan(rows[1].dead_fraction));
}

TEST_CASE("health: a resumed fit continues the monitor, the same warnings and rows as the uninterrupted run") {
  radius::test::TempDir dir("health_resume");
  // A constant output (zero logit weights, a negligible rate): collapse and prior-entropy fire. With 4 batches
  // an epoch, persist 6 and a window of 3 (grace: 6 batches), both fire at epoch 2, batch 2, on streaks and a
  // loss window that began in epoch 1: a resume after epoch 1 must carry them over to fire at the same batch.
  auto run = [&](int epochs, const CheckpointState* resume, Collect& c) {
    auto m = tiny_conv(7);
    Tensor(m->named_params()[4].value).zero();
    MemoryBatches train = toy_batches(4, 8, 13);
    Sgd sgd(SgdConfig{1e-6f, 0.0f, false});
    FitOptions o = sampled_every_batch(epochs);
    o.health.persist = 6;
    o.health.entropy_window = 3;
    o.last_checkpoint = dir.file("last.ckpt.safetensors");
    CheckpointState st;
    if (resume) st = load_checkpoint(o.last_checkpoint, *m, &sgd);
    return fit(*m, sgd, train, nullptr, o, &c, resume ? &st : nullptr);
  };
  Collect whole_c, first_c, rest_c;
  const FitResult whole = run(3, nullptr, whole_c);
  const FitResult first = run(1, nullptr, first_c);
  const CheckpointState after_first = read_checkpoint(dir.file("last.ckpt.safetensors")).state;
  REQUIRE(after_first.health.has_value());
  CHECK(after_first.health->streaks.at("collapse/-1") == 4);  // one epoch in: 4 of the 6 batches
  const FitResult rest = run(3, &after_first, rest_c);

  INFO(whole_c.list());
  for (const HealthWarning& w : whole_c.warnings)
    if (w.code == "collapse" || w.code == "prior-entropy") CHECK((w.epoch == 2 && w.batch == 2));
  REQUIRE(whole_c.has("collapse"));
  REQUIRE(whole_c.has("prior-entropy"));
  REQUIRE(!first_c.warnings.empty());  // large-updates (from zero weights) fires in epoch 1: not again after it
  // The warnings of the two parts, end to end, are those of the uninterrupted run.
  std::vector<HealthWarning> joined_w = first_c.warnings;
  joined_w.insert(joined_w.end(), rest_c.warnings.begin(), rest_c.warnings.end());
  REQUIRE(joined_w.size() == whole_c.warnings.size());
  for (size_t i = 0; i < joined_w.size(); ++i) {
    CHECK(joined_w[i].code == whole_c.warnings[i].code);
    CHECK(joined_w[i].epoch == whole_c.warnings[i].epoch);
    CHECK(joined_w[i].batch == whole_c.warnings[i].batch);
    CHECK(joined_w[i].layer == whole_c.warnings[i].layer);
    CHECK(joined_w[i].message == whole_c.warnings[i].message);
  }
  REQUIRE(rest.state.health.has_value());
  CHECK(rest.state.health->warnings.size() == whole_c.warnings.size());  // the run's list, resumed or not
  CHECK(rest.state.health->streaks == whole.state.health->streaks);
  CHECK(rest.state.health->steps_seen == 12);
  // The per-epoch rows: epoch 1's from the first part, 2-3 from the resumed part, equal to the whole run's.
  std::vector<LayerHealthRow> joined = first.health;
  joined.insert(joined.end(), rest.health.begin(), rest.health.end());
  REQUIRE(joined.size() == whole.health.size());
  auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; };  // NaN: not applicable
  for (size_t i = 0; i < joined.size(); ++i) {
    const LayerHealthRow &a = joined[i], &b = whole.health[i];
    CHECK(a.epoch == b.epoch);
    CHECK(a.layer == b.layer);
    CHECK(a.samples == b.samples);
    for (auto field : {&LayerHealthRow::act_mean, &LayerHealthRow::act_std, &LayerHealthRow::dead_fraction,
                       &LayerHealthRow::weight_norm, &LayerHealthRow::weight_grad_norm,
                       &LayerHealthRow::weight_update_ratio, &LayerHealthRow::bias_update_ratio})
      CHECK(same(a.*field, b.*field));
  }
}

// ---- recipe options --------------------------------------------------------------

TEST_CASE("init: he-uniform and he-normal have the Kaiming scale, biases stay zero, glorot is the default") {
  Sequential a(Shape{16, 10, 10}), b(Shape{16, 10, 10}), g(Shape{16, 10, 10}), d(Shape{16, 10, 10});
  for (Sequential* m : {&a, &b, &g, &d}) {
    m->add(std::make_unique<Conv2D>(64, 3, 3));  // fan_in 144, 36864 weights
    m->add(std::make_unique<Flatten>());
    m->add(std::make_unique<Dense>(8));
  }
  a.init(3, WeightInit::he_uniform);
  b.init(3, WeightInit::he_normal);
  g.init(3, WeightInit::glorot_uniform);
  d.init(3);
  CHECK(g.params().to_vector() == d.params().to_vector());
  auto moments = [](const Tensor& w) {
    double s = 0, sq = 0, mx = 0;
    for (int64_t i = 0; i < w.numel(); ++i) {
      s += w.at(i), sq += double(w.at(i)) * w.at(i), mx = std::max(mx, double(std::fabs(w.at(i))));
    }
    const double n = double(w.numel());
    return std::array<double, 3>{s / n, std::sqrt(sq / n), mx};
  };
  const double he_std = std::sqrt(2.0 / 144);
  const auto u = moments(a.named_params()[0].value), n = moments(b.named_params()[0].value);
  CHECK(u[2] <= std::sqrt(6.0 / 144));
  CHECK(u[1] == doctest::Approx(he_std).epsilon(0.02));  // U(-a, a) has std a / sqrt(3) = sqrt(2 / fan_in)
  CHECK(std::fabs(n[0]) < 0.02 * he_std);
  CHECK(n[1] == doctest::Approx(he_std).epsilon(0.02));
  CHECK(n[2] > 3 * he_std);  // a normal, not a bounded uniform
  for (Sequential* m : {&a, &b})
    for (float v : m->named_params()[1].value.to_vector()) CHECK(v == 0.0f);
  CHECK(parse_weight_init("he-normal") == WeightInit::he_normal);
  CHECK_THROWS_WITH_AS(parse_weight_init("xavier"), doctest::Contains("he-uniform"), std::invalid_argument);
}

TEST_CASE("schedule: warmup, cosine and step decay follow their formulas") {
  LrSchedule s;
  s.base_lr = 0.1;
  CHECK(!s.active());
  CHECK(s.lr_at(1000) == 0.1);
  s.warmup_steps = 4;
  CHECK(s.active());
  CHECK(s.lr_at(0) == doctest::Approx(0.025));
  CHECK(s.lr_at(3) == doctest::Approx(0.1));
  CHECK(s.lr_at(4) == doctest::Approx(0.1));
  s.decay = LrDecay::cosine;
  s.total_steps = 14;
  for (int64_t k : {4, 6, 9, 13, 14, 20}) {
    const double progress = std::min(double(k - 4), 10.0) / 10.0;
    CHECK(s.lr_at(k) == doctest::Approx(0.05 * (1 + std::cos(M_PI * progress))));
  }
  CHECK(s.lr_at(9) == doctest::Approx(0.05));
  CHECK(s.lr_at(14) == doctest::Approx(0.0));
  s.decay = LrDecay::step;
  s.step_every = 3;
  s.step_factor = 0.5;
  CHECK(s.lr_at(6) == doctest::Approx(0.1));
  CHECK(s.lr_at(7) == doctest::Approx(0.05));
  CHECK(s.lr_at(10) == doctest::Approx(0.025));
  s.step_every = 0;
  CHECK_THROWS_AS(s.validate(), std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_lr_decay("linear"), doctest::Contains("cosine"), std::invalid_argument);
}

TEST_CASE("schedule: fit applies the rate before every update, exactly as a hand loop does") {
  LrSchedule s;
  s.base_lr = 0.05;
  s.warmup_steps = 3;
  s.decay = LrDecay::cosine;
  s.total_steps = 8;
  auto a = tiny_conv(21), b = tiny_conv(21);
  MemoryBatches train = toy_batches(2, 4, 15);
  Sgd sa(SgdConfig{0.05f, 0.9f, false}), sb(SgdConfig{0.05f, 0.9f, false});
  FitOptions o;
  o.max_epochs = 4;
  o.lr_schedule = s;
  o.health.every = 0;
  fit(*a, sa, train, nullptr, o);
  Trainer t(*b, sb);
  int64_t step = 0;
  for (int e = 1; e <= 4; ++e) {
    train.start_epoch(uint64_t(e));
    Tensor x, y;
    while (train.next(x, y)) {
      sb.set_learning_rate(float(s.lr_at(step++)));
      t.step(x, y);
    }
  }
  CHECK(a->params().to_vector() == b->params().to_vector());
  CHECK(sa.learning_rate() == doctest::Approx(s.lr_at(7)));
}

TEST_CASE("clip: the global norm is capped, the direction kept, below the cap nothing changes") {
  Tensor g = Tensor::zeros(Shape{1000});
  Rng rng(4, 0);
  for (int64_t i = 0; i < g.numel(); ++i) g.at(i) = rng.uniform(-1, 1);
  const std::vector<float> before = g.to_vector();
  const double norm = global_norm(g);
  CHECK(clip_grad_norm(g, 2 * norm) == doctest::Approx(norm));
  CHECK(g.to_vector() == before);  // bit for bit
  CHECK(clip_grad_norm(g, 0.5) == doctest::Approx(norm));
  CHECK(global_norm(g) == doctest::Approx(0.5).epsilon(1e-5));
  for (int64_t i = 0; i < g.numel(); i += 97) CHECK(g.at(i) == doctest::Approx(before[size_t(i)] * 0.5 / norm));
  CHECK_THROWS_AS(clip_grad_norm(g, 0), std::invalid_argument);
}

TEST_CASE("clip: a trainer step with a cap above the gradient norm equals the unclipped step") {
  auto a = tiny_conv(31), b = tiny_conv(31), c = tiny_conv(31);
  MemoryBatches train = toy_batches(1, 8, 16);
  train.start_epoch(1);
  Tensor x, y;
  REQUIRE(train.next(x, y));
  Sgd sa(SgdConfig{0.1f, 0, false}), sb(SgdConfig{0.1f, 0, false}), sc(SgdConfig{0.1f, 0, false});
  Trainer ta(*a, sa), tb(*b, sb), tc(*c, sc);
  tb.set_clip_norm(1e6);
  tc.set_clip_norm(1e-3);
  ta.step(x, y);
  tb.step(x, y);
  tc.step(x, y);
  CHECK(a->params().to_vector() == b->params().to_vector());
  CHECK(global_norm(c->grads()) == doctest::Approx(1e-3).epsilon(1e-4));
  // The clipped step moved the weights by lr * 1e-3 in total.
  const Tensor w0 = tiny_conv(31)->params();
  double d = 0;
  for (int64_t i = 0; i < w0.numel(); ++i) d += std::pow(double(c->params().at(i)) - w0.at(i), 2);
  CHECK(std::sqrt(d) == doctest::Approx(0.1 * 1e-3).epsilon(1e-3));
}

TEST_CASE("health: the heat-strip has a cell per layer and epoch, darker for more dead units, the report shows it") {
  std::vector<LayerHealthRow> rows;
  for (int epoch : {1, 2}) {
    LayerHealthRow conv, relu;
    conv.epoch = relu.epoch = epoch;
    conv.layer = 0, conv.kind = "conv2d", conv.weight_update_ratio = epoch == 1 ? 1e-3 : 1e-1;
    relu.layer = 1, relu.kind = "relu", relu.dead_fraction = epoch == 1 ? 0.1 : 0.9;
    rows.push_back(conv);
    rows.push_back(relu);
  }
  auto cells = [](const Drawing& d) {
    std::vector<Rgb> c;
    for (const DrawItem& item : d.items)
      if (const auto* r = std::get_if<FilledRect>(&item)) c.push_back(r->fill);
    return c;
  };
  auto darkness = [](Rgb c) { return 765 - (c.r + c.g + c.b); };
  const std::vector<Rgb> dead = cells(plot_health_strip(rows, HealthMetric::dead_fraction));
  REQUIRE(dead.size() == 2);  // only the ReLU layer, two epochs
  CHECK(darkness(dead[1]) > darkness(dead[0]));
  const std::vector<Rgb> upd = cells(plot_health_strip(rows, HealthMetric::weight_update_ratio));
  REQUIRE(upd.size() == 2);
  CHECK(darkness(upd[1]) > darkness(upd[0]));
  ReportData rep;
  rep.health = rows;
  const std::string html = report_html(rep);
  CHECK(html.find("Training health") != std::string::npos);
  CHECK(html.find("Dead ReLU units per layer") != std::string::npos);
  CHECK(report_html(ReportData{}).find("Training health") == std::string::npos);
}
