#include "net/checkpoint.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "io/json_checked.h"
#include "layers/dropout.h"

namespace radius {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error("checkpoint '" + path + "': " + why);
}

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double num_of(const json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }

json row_to_json(const HistoryRow& r) {
  return json{{"epoch", r.epoch},          {"train_loss", num(r.train_loss)}, {"train_accuracy", num(r.train_accuracy)},
              {"val_loss", num(r.val_loss)}, {"val_accuracy", num(r.val_accuracy)},
              {"learning_rate", num(r.learning_rate)}, {"seconds", num(r.seconds)}};
}

HistoryRow row_from_json(const json& j) {
  HistoryRow r;
  r.epoch = json_integer_at<int>(j, "epoch");
  r.train_loss = num_of(j.at("train_loss"));
  r.train_accuracy = num_of(j.at("train_accuracy"));
  r.val_loss = num_of(j.at("val_loss"));
  r.val_accuracy = num_of(j.at("val_accuracy"));
  r.learning_rate = num_of(j.at("learning_rate"));
  r.seconds = num_of(j.at("seconds"));
  return r;
}

json warning_to_json(const HealthWarning& w) {
  return json{{"code", w.code}, {"epoch", w.epoch}, {"batch", w.batch}, {"layer", w.layer}, {"message", w.message}};
}

HealthWarning warning_from_json(const json& j) {
  return HealthWarning{j.at("code").get<std::string>(), json_integer_at<int>(j, "epoch"),
                       json_integer_at<int64_t>(j, "batch"), json_integer_at<int>(j, "layer"),
                       j.at("message").get<std::string>()};
}

// Doubles are written with 17 significant digits, so the loss window comes back bit for bit.
json batch_loss_to_json(const HealthState::BatchLoss& b) { return json::array({b.loss_sum, b.samples, b.positives}); }

HealthState::BatchLoss batch_loss_from_json(const json& j, const std::string& field) {
  if (!j.is_array() || j.size() != 3)
    throw std::runtime_error("health." + field + ": expected [loss_sum, samples, positives], got " + j.dump());
  return {j[0].get<double>(), j[1].get<double>(), j[2].get<double>()};
}

json health_to_json(const HealthState& h) {
  json warnings = json::array(), window = json::array();
  for (const HealthWarning& w : h.warnings) warnings.push_back(warning_to_json(w));
  for (const HealthState::BatchLoss& b : h.loss_window) window.push_back(batch_loss_to_json(b));
  return json{{"warnings", warnings},
              {"streaks", h.streaks},
              {"first_grad_norm", num(h.first_grad_norm)},
              {"loss_window", window},
              {"window_total", batch_loss_to_json(h.window_total)},
              {"steps_seen", h.steps_seen},
              {"takeoff_step", h.takeoff_step}};
}

HealthState health_from_json(const json& j) {
  HealthState h;
  for (const json& w : j.at("warnings")) h.warnings.push_back(warning_from_json(w));
  for (const auto& [key, streak] : j.at("streaks").items()) h.streaks[key] = streak.get<int>();
  h.first_grad_norm = num_of(j.at("first_grad_norm"));
  for (const json& b : j.at("loss_window")) h.loss_window.push_back(batch_loss_from_json(b, "loss_window"));
  h.window_total = batch_loss_from_json(j.at("window_total"), "window_total");
  h.steps_seen = json_integer_at<int64_t>(j, "steps_seen");
  if (j.contains("takeoff_step")) h.takeoff_step = json_integer_at<int64_t>(j, "takeoff_step");  // older: none
  return h;
}

void fnv(uint64_t& h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
  return buf;
}

}  // namespace

json state_to_json(const CheckpointState& s) {
  json hist = json::array();
  for (const HistoryRow& r : s.history) hist.push_back(row_to_json(r));
  json j{{"epoch", s.epoch},
         {"global_step", s.global_step},
         {"optimizer_steps", s.optimizer_steps},
         {"layer_counters", s.layer_counters},
         {"best_val_loss", num(s.best_val_loss)},
         {"best_epoch", s.best_epoch},
         {"wait", s.wait},
         {"stopped", s.stopped},
         {"seed", s.seed},
         {"config", s.config},
         {"history", hist}};
  if (s.health) j["health"] = health_to_json(*s.health);
  return j;
}

CheckpointState state_from_json(const json& j) {
  try {
    CheckpointState s;
    s.epoch = json_integer_at<int>(j, "epoch");
    s.global_step = json_integer_at<int64_t>(j, "global_step");
    s.optimizer_steps = json_integer_at<int64_t>(j, "optimizer_steps");
    if (j.contains("layer_counters")) {
      for (const auto& [name, v] : j.at("layer_counters").items())
        s.layer_counters[name] = json_integer_at<uint64_t>(j.at("layer_counters"), name);
    } else {  // written before the state hook: dropout's counters only
      for (const json& c : j.at("dropout_calls"))
        s.layer_counters[std::to_string(json_integer_at<int>(c, "layer")) + ".calls"] =
            json_integer_at<uint64_t>(c, "calls");
    }
    s.best_val_loss = j.at("best_val_loss").is_null() ? std::numeric_limits<double>::infinity()
                                                      : j.at("best_val_loss").get<double>();
    s.best_epoch = json_integer_at<int>(j, "best_epoch");
    s.wait = json_integer_at<int>(j, "wait");
    s.stopped = j.value("stopped", false);
    s.seed = json_integer_at<uint64_t>(j, "seed");
    s.config = j.at("config");
    for (const json& r : j.at("history")) s.history.push_back(row_from_json(r));
    if (j.contains("health")) s.health = health_from_json(j.at("health"));  // older checkpoints: none
    return s;
  } catch (const std::exception& e) {  // json::exception, or a bad field named above
    throw std::runtime_error(std::string("bad checkpoint state: ") + e.what());
  }
}

uint64_t checkpoint_checksum(const std::map<std::string, Tensor>& tensors, const std::string* state) {
  uint64_t h = 14695981039346656037ull;
  for (const auto& [name, t] : tensors) {
    fnv(h, name.data(), name.size());
    for (int i = 0; i < t.shape().rank(); ++i) {
      const int64_t d = t.dim(i);
      fnv(h, &d, sizeof d);
    }
    const std::vector<float> v = t.to_vector();
    fnv(h, v.data(), v.size() * sizeof(float));
  }
  if (state) fnv(h, state->data(), state->size());
  return h;
}

void save_checkpoint(const std::string& path, const Sequential& model, Optimizer& optimizer, CheckpointState state) {
  state.optimizer_steps = optimizer.steps();
  state.layer_counters = model.counters();
  // Host tensors only: a GPU model's parameters come down in one copy of the flat
  // buffer, each optimizer state buffer (Adam's m, v: flat too) in one copy each.
  std::vector<std::pair<std::string, Tensor>> tensors = host_named_tensors(model);
  for (auto& [name, t] : optimizer.state()) {
    if (!t.defined()) continue;  // before the first step
    tensors.emplace_back("optimizer." + name, t.is_cpu() ? t : t.to(Device::cpu));
  }
  std::map<std::string, Tensor> by_name(tensors.begin(), tensors.end());
  const std::string state_json = state_to_json(state).dump();
  std::map<std::string, std::string> meta{{"format", kCheckpointFormat},
                                          {"state", state_json},
                                          {"checksum", hex64(checkpoint_checksum(by_name, &state_json))}};
  write_safetensors(path, tensors, meta);
}

CheckpointFile read_checkpoint(const std::string& path) {
  CheckpointFile c;
  try {
    c.file = read_safetensors(path);
  } catch (const std::exception& e) {
    fail(path, std::string("cannot be read (missing, truncated or corrupt?): ") + e.what());
  }
  const auto& m = c.file.metadata;
  const auto fmt = m.find("format");
  if (fmt == m.end()) fail(path, "not a Radius checkpoint (no \"format\" metadata; a plain weights file?)");
  const bool v1 = fmt->second == kCheckpointFormatV1;
  if (fmt->second != kCheckpointFormat && !v1)
    fail(path, "format '" + fmt->second + "' is not '" + kCheckpointFormat + "'");
  const auto sum = m.find("checksum");
  const auto st = m.find("state");
  if (sum == m.end() || st == m.end()) fail(path, "missing \"checksum\" or \"state\" metadata");
  const std::string actual = hex64(checkpoint_checksum(c.file.tensors, v1 ? nullptr : &st->second));
  if (actual != sum->second)
    fail(path, "checksum mismatch (stored " + sum->second + ", computed " + actual + "): the file is corrupt");
  try {
    c.state = state_from_json(nlohmann::json::parse(st->second));
  } catch (const std::exception& e) {
    fail(path, e.what());
  }
  return c;
}

CheckpointState apply_checkpoint(const CheckpointFile& ckpt, const std::string& path, Sequential& model,
                                 Optimizer* optimizer) {
  try {
    load_weights(model, ckpt.file, path, "optimizer.");
  } catch (const std::exception& e) {
    fail(path, std::string("does not fit this model: ") + e.what());
  }
  if (optimizer) {
    std::vector<std::string> have;
    for (const auto& [name, t] : ckpt.file.tensors)
      if (name.rfind("optimizer.", 0) == 0) have.push_back(name.substr(10));
    const auto want = optimizer->state();
    if (!have.empty()) {
      for (const auto& [name, t] : want) {
        const auto it = ckpt.file.tensors.find("optimizer." + name);
        if (it == ckpt.file.tensors.end())
          fail(path, "has no optimizer state '" + name + "' for " + optimizer->describe() +
                         " (was it written with another optimizer?)");
        if (it->second.numel() != model.num_params())
          fail(path, "optimizer state '" + name + "' has " + std::to_string(it->second.numel()) +
                         " values, the model has " + std::to_string(model.num_params()) + " parameters");
      }
      if (have.size() != want.size()) fail(path, "optimizer state does not match " + optimizer->describe());
      for (const auto& [name, t] : want) {
        Tensor v = ckpt.file.tensors.at("optimizer." + name);
        optimizer->set_state(name, model.device() == Device::cpu ? v : v.to(model.device()));
      }
    }
    optimizer->set_steps(ckpt.state.optimizer_steps);
  }
  try {
    model.set_counters(ckpt.state.layer_counters);
  } catch (const std::exception& e) {
    fail(path, e.what());
  }
  return ckpt.state;
}

CheckpointState load_checkpoint(const std::string& path, Sequential& model, Optimizer* optimizer) {
  return apply_checkpoint(read_checkpoint(path), path, model, optimizer);
}

}  // namespace radius
