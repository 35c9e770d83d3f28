// Training checkpoints: everything needed to continue a run exactly, in ONE
// safetensors file (so it is written atomically by construction: a crash leaves
// the previous checkpoint, never half of one).
//
//   tensors:   the model's parameters and state buffers under their own names
//              ("0.weight", "1.running_mean", ...), the optimizer's state under
//              "optimizer.<name>" ("optimizer.adam.m")
//   metadata:  "format"   = "radius-checkpoint/2"
//              "state"    = JSON of CheckpointState (epoch done, steps, the layers'
//                           counters (dropout's RNG call count), early-stopping state, seed, config, history,
//                           the training-health monitor's memory; files written
//                           before that last field existed load without it)
//              "checksum" = FNV-1a 64 (hex) over every tensor's name, shape and bytes,
//                           in name order, then the "state" string; verified on load.
//                           Format /1 files (checksum over the tensors alone) still load.
//
// Every error is a std::runtime_error that names the file.
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/history.h"
#include "net/health.h"
#include "net/safetensors.h"
#include "net/sequential.h"
#include "optim/optimizer.h"

namespace radius {

inline constexpr const char* kCheckpointFormat = "radius-checkpoint/2";
inline constexpr const char* kCheckpointFormatV1 = "radius-checkpoint/1";  // read only

struct CheckpointState {
  int epoch = 0;                 // epochs completed (1-based count; 0 = none)
  int64_t global_step = 0;       // training batches done over the whole run
  int64_t optimizer_steps = 0;   // Optimizer::steps()
  // Every layer's counters by name ("5.calls": dropout's RNG call count), Sequential::counters().
  // JSON "layer_counters"; files written before it hold "dropout_calls" and still load.
  std::map<std::string, uint64_t> layer_counters;
  double best_val_loss = std::numeric_limits<double>::infinity();
  int best_epoch = 0;            // 0: none yet
  int wait = 0;                  // epochs without improvement (early-stopping patience counter)
  bool stopped = false;          // early stopping ended the run
  uint64_t seed = 0;
  nlohmann::json config = nlohmann::json::object();  // the run's full configuration
  std::vector<HistoryRow> history;
  std::optional<HealthState> health;  // none: health checks off, or an older checkpoint
};

nlohmann::json state_to_json(const CheckpointState& s);
CheckpointState state_from_json(const nlohmann::json& j);  // throws std::runtime_error on bad fields

// FNV-1a 64 over (name, shape, bytes) of each tensor in name order, then over the state
// JSON string when given (format /2; format /1 covered the tensors alone).
uint64_t checkpoint_checksum(const std::map<std::string, Tensor>& tensors, const std::string* state = nullptr);

// Writes the checkpoint (the state's optimizer_steps and layer_counters are taken
// from the optimizer and the model, not from `state`). Atomic.
void save_checkpoint(const std::string& path, const Sequential& model, Optimizer& optimizer, CheckpointState state);

// Reads and verifies a checkpoint file (format, checksum, state JSON) without a model.
struct CheckpointFile {
  SafetensorsFile file;
  CheckpointState state;
};
CheckpointFile read_checkpoint(const std::string& path);

// Restores the model's parameters and state buffers, the optimizer's state and
// step count and the layers' counters; returns the state. The model must be init()ed with the same
// architecture and the run's seed (init(seed) also seeds the dropout masks; the
// checkpoint holds their counters): a shape mismatch is an error naming the file and every problem,
// and nothing is changed then. `optimizer` may be null (weights only).
CheckpointState load_checkpoint(const std::string& path, Sequential& model, Optimizer* optimizer);
CheckpointState apply_checkpoint(const CheckpointFile& ckpt, const std::string& path, Sequential& model,
                                 Optimizer* optimizer);

}  // namespace radius
