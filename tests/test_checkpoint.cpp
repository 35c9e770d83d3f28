// Checkpoints: bit-exact round trip (model, optimizer state and step count, dropout
// counters, the JSON state), and clear errors for corrupt, truncated, foreign and
// mismatched files.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "net/checkpoint.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "layers/dropout.h"
#include "tensor/rng.h"
#include "temp_dir.h"

using namespace radius;
using radius::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<Sequential> small_model(int side, uint64_t seed) {
  auto m = parse_model_spec("input height=" + std::to_string(side) + " width=" + std::to_string(side) +
                                " channels=1\nconv2d filters=2 kernel=3 activation=relu\nflatten\n"
                                "dropout rate=0.5\ndense units=1 activation=sigmoid\n",
                            "<ckpt-test>");
  m->init(seed);
  return m;
}

Tensor images(int64_t n, int side, float offset) {
  std::vector<float> v(static_cast<size_t>(n * side * side));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float((i * 2654435761u) % 1000) / 1000.0f + offset;
  return Tensor::from_vector(Shape{n, 1, side, side}, v);
}

Tensor labels(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i % 2);
  return Tensor::from_vector(Shape{n}, v);
}

// A small model after one SGD step, saved to dir/c.ckpt.safetensors; returns the path.
std::string saved_small_checkpoint(const TempDir& dir, const CheckpointState& state = {}) {
  auto m = small_model(6, 1);
  Sgd sgd(SgdConfig{0.1f, 0.9f, false});
  Trainer t(*m, sgd);
  t.step(images(4, 6, 0), labels(4));
  const std::string path = dir.file("c.ckpt.safetensors");
  save_checkpoint(path, *m, sgd, state);
  return path;
}

void corrupt_byte(const std::string& path, std::streamoff from_end) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-from_end, std::ios::end);
  char c = 0;
  f.read(&c, 1);
  c = char(c ^ 0x5a);
  f.seekp(-from_end, std::ios::end);
  f.write(&c, 1);
}

}  // namespace

TEST_CASE("checkpoint: round trip is bit-exact, optimizer state and counters included") {
  TempDir dir("ckpt");
  auto m = small_model(6, 1);
  Adam adam(AdamConfig::keras(1e-2f));
  Trainer t(*m, adam);
  for (int i = 0; i < 3; ++i) t.step(images(4, 6, 0.1f * i), labels(4));
  CheckpointState s;
  s.epoch = 3;
  s.global_step = 3;
  s.best_val_loss = 0.25;
  s.best_epoch = 2;
  s.wait = 1;
  s.seed = 42;
  s.config = {{"lr", 0.01}, {"model", "x.spec"}};
  HistoryRow r;
  r.epoch = 1;
  r.train_loss = 0.123456789012345;
  r.train_accuracy = 0.5;
  r.learning_rate = 0.01;
  s.history = {r};
  const std::string path = dir.file("a.ckpt.safetensors");
  save_checkpoint(path, *m, adam, s);

  auto m2 = small_model(6, 1);  // the run's seed: it also seeds dropout (checkpoints hold the counters)
  CHECK(m2->params().to_vector() != m->params().to_vector());
  Adam adam2(AdamConfig::keras(1e-2f));
  const CheckpointState back = load_checkpoint(path, *m2, &adam2);
  CHECK(m2->params().to_vector() == m->params().to_vector());
  CHECK(adam2.steps() == 3);
  auto a = adam.state(), b = adam2.state();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].second.to_vector() == b[i].second.to_vector());
  CHECK(back.epoch == 3);
  CHECK(back.best_epoch == 2);
  CHECK(back.best_val_loss == 0.25);
  CHECK(back.wait == 1);
  CHECK(back.seed == 42);
  CHECK(back.config == s.config);
  REQUIRE(back.history.size() == 1);
  CHECK(back.history[0].train_loss == r.train_loss);  // doubles round-trip exactly
  CHECK(std::isnan(back.history[0].val_loss));
  const auto calls = m2->counters();
  REQUIRE(calls.size() == 1);
  CHECK(calls.begin()->second == 3);
  CHECK(calls == m->counters());
  // The next step is identical too.
  Trainer t2(*m2, adam2);
  const StepResult r1 = t.step(images(4, 6, 0.7f), labels(4));
  const StepResult r2 = t2.step(images(4, 6, 0.7f), labels(4));
  CHECK(r1.loss == r2.loss);
  CHECK(m2->params().to_vector() == m->params().to_vector());
}

TEST_CASE("checkpoint: a format /1 file (checksum over the tensors alone) still loads") {
  TempDir dir("ckpt_v1");
  CheckpointState s;
  s.epoch = 2;
  const std::string path = saved_small_checkpoint(dir, s);
  // Rewrite it as the previous format wrote it.
  CheckpointFile c = read_checkpoint(path);
  const std::string v2_checksum = c.file.metadata["checksum"];
  c.file.metadata["format"] = kCheckpointFormatV1;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)checkpoint_checksum(c.file.tensors));
  c.file.metadata["checksum"] = hex;
  write_safetensors(path, {c.file.tensors.begin(), c.file.tensors.end()}, c.file.metadata);
  CHECK(read_checkpoint(path).state.epoch == 2);
  CHECK(v2_checksum != hex);  // format /2's covers the state too
}

TEST_CASE("checkpoint: corrupt, truncated, foreign and mismatched files give clear errors") {
  TempDir dir("ckpt_bad");
  const std::string path = saved_small_checkpoint(dir);

  SUBCASE("flipped data byte: checksum") {
    corrupt_byte(path, 3);
    auto m2 = small_model(6, 2);
    const auto before = m2->params().to_vector();
    try {
      load_checkpoint(path, *m2, nullptr);
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      const std::string w = e.what();
      CHECK(w.find(path) != std::string::npos);
      CHECK(w.find("checksum") != std::string::npos);
    }
    CHECK(m2->params().to_vector() == before);
  }
  SUBCASE("edited state (still valid JSON): checksum") {
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const size_t at = bytes.find("global_step\\\":");  // inside the escaped state string
    REQUIRE(at != std::string::npos);
    char& digit = bytes[at + std::string("global_step\\\":").size()];
    REQUIRE(digit == '0');
    digit = '7';
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    auto m2 = small_model(6, 2);
    try {
      load_checkpoint(path, *m2, nullptr);
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("checksum") != std::string::npos);
    }
  }
  SUBCASE("truncated") {
    fs::resize_file(path, fs::file_size(path) - 10);
    auto m2 = small_model(6, 2);
    try {
      load_checkpoint(path, *m2, nullptr);
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
  }
  SUBCASE("another input size") {
    auto other = small_model(8, 2);
    try {
      load_checkpoint(path, *other, nullptr);
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      const std::string w = e.what();
      CHECK(w.find(path) != std::string::npos);
      CHECK(w.find("does not fit this model") != std::string::npos);
    }
  }
  SUBCASE("another optimizer") {
    auto m2 = small_model(6, 2);
    Adam adam;
    CHECK_THROWS_WITH_AS(load_checkpoint(path, *m2, &adam), doctest::Contains("optimizer"), std::runtime_error);
  }
  SUBCASE("a plain weights file") {
    const std::string w = dir.file("w.safetensors");
    save_weights(*small_model(6, 1), w);
    CHECK_THROWS_WITH_AS(read_checkpoint(w), doctest::Contains("not a Radius checkpoint"), std::runtime_error);
  }
  SUBCASE("missing") {
    CHECK_THROWS_WITH_AS(read_checkpoint(dir.file("nope.safetensors")), doctest::Contains("nope.safetensors"),
                         std::runtime_error);
  }
}

TEST_CASE("checkpoint: the training-health memory round-trips bit-exact, a state without it still loads") {
  Rng rng(9, 0);
  auto value = [&] { return double(rng.uniform()) * 3.0 + double(rng.uniform()) * 1e-9; };  // not float-exact
  HealthState h;
  h.warnings = {{"dead-units", 1, 4, 3, "layer 3 (relu): 75 % of its 8 units ..."},
                {"collapse", 2, 1, -1, "the model's output is constant: \"p\" = 0.5"}};
  h.streaks = {{"dead-units/3", 5}, {"collapse/-1", 0}, {"large-updates/0", 2}};
  h.first_grad_norm = value();
  for (int i = 0; i < 7; ++i) h.loss_window.push_back({value(), 8, double(i % 5)});
  h.window_total = {value(), 56, 17};
  h.steps_seen = 123;
  CheckpointState s;
  s.epoch = 2;
  s.health = h;

  const CheckpointState back = state_from_json(nlohmann::json::parse(state_to_json(s).dump()));
  REQUIRE(back.health.has_value());
  const HealthState& b = *back.health;
  REQUIRE(b.warnings.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(b.warnings[i].code == h.warnings[i].code);
    CHECK(b.warnings[i].epoch == h.warnings[i].epoch);
    CHECK(b.warnings[i].batch == h.warnings[i].batch);
    CHECK(b.warnings[i].layer == h.warnings[i].layer);
    CHECK(b.warnings[i].message == h.warnings[i].message);
  }
  CHECK(b.streaks == h.streaks);
  CHECK(b.first_grad_norm == h.first_grad_norm);  // exact, not approximate
  REQUIRE(b.loss_window.size() == h.loss_window.size());
  for (size_t i = 0; i < b.loss_window.size(); ++i) {
    CHECK(b.loss_window[i].loss_sum == h.loss_window[i].loss_sum);
    CHECK(b.loss_window[i].positives == h.loss_window[i].positives);
  }
  CHECK(b.window_total.loss_sum == h.window_total.loss_sum);
  CHECK(b.steps_seen == 123);

  // No first gradient norm yet (NaN) survives as null.
  s.health->first_grad_norm = std::nan("");
  CHECK(std::isnan(state_from_json(state_to_json(s)).health->first_grad_norm));
  // Checkpoints written before the field existed (or with health checks off) load without it.
  nlohmann::json old = state_to_json(s);
  old.erase("health");
  CHECK(!state_from_json(old).health.has_value());
  // A damaged field is an error, not a silently fresh monitor.
  nlohmann::json bad = state_to_json(s);
  bad["health"]["window_total"] = nlohmann::json::array({1.0, 2.0});
  CHECK_THROWS_WITH_AS(state_from_json(bad), doctest::Contains("window_total"), std::runtime_error);
  bad = state_to_json(s);
  bad["health"].erase("streaks");
  CHECK_THROWS_WITH_AS(state_from_json(bad), doctest::Contains("streaks"), std::runtime_error);
}
