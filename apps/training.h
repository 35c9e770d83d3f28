// What `train` and `kfold` share: the training recipe (its options: training_options.h), the
// data listing and validation split, and "train one model on these images,
// validate on those, evaluate on the held-out ones" (train_and_evaluate).
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/training_options.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/image_cache.h"
#include "eval/metrics.h"
#include "eval/predictions_csv.h"
#include "net/checkpoint.h"
#include "net/fit.h"
#include "net/sequential.h"
#include "optim/optimizer.h"

namespace radius::app {

// A resumed run keeps its learning-rate schedule: --epochs only moves where it stops.
// The line that says what that means for this run ("" when --epochs is unchanged or
// the schedule does not depend on it); past a cosine's end every update would run at
// rate 0, so extending a cosine run is an error that says what to do instead.
std::string resumed_schedule_note(const TrainingOptions& o);

Device parse_device(const std::string& device);
std::unique_ptr<Optimizer> make_optimizer(const TrainingOptions& o);
// The model spec loaded, initialised from the seed and moved to the device.
std::unique_ptr<Sequential> build_model(const TrainingOptions& o);
AugmentConfig augment_config(const TrainingOptions& o);

// list_dataset with the recipe's group pattern (a bad --group-regex is a clear error).
Dataset list_training_data(const std::string& path, const TrainingOptions& o);
std::vector<int> labels_at(const Dataset& d, const std::vector<size_t>& idx);
// A binary classifier learns nothing without both classes in training: throws when the
// training images lack one (naming it); warns on stderr when validation or test does
// (their metrics of that class are then undefined).
void check_split_classes(const Dataset& d, const std::vector<size_t>& train, const std::vector<size_t>& val,
                         const std::vector<size_t>& test);
// The samples' group keys, or none when the recipe is not group-aware.
std::vector<std::string> groups_at(const Dataset& d, const std::vector<size_t>& idx, bool group);

// Splits idx into (train, val) with val_fraction of it in val: stratified, and
// group-aware with --group. Deterministic in (idx, seed).
std::pair<std::vector<size_t>, std::vector<size_t>> split_off_validation(const Dataset& d,
                                                                         const std::vector<size_t>& idx,
                                                                         const TrainingOptions& o);
// At most `limit` of idx (all when limit <= 0 or limit >= idx.size()): stratified by
// class, group-aware with --group (a radiograph's rotated copies all in or all out);
// deterministic in (idx, seed). train's and kfold's --limit.
std::vector<size_t> limit_images(const Dataset& d, const std::vector<size_t>& idx, int limit, const TrainingOptions& o);

// R ranks of an MPI job split each batch into M >= R micro-batches and share them out
// (net/train.h). A new run without --micro-batches records M = R, so that one process, or
// any number of ranks up to M, resuming it continues the same run bit for bit. Throws
// when M is below R (1 < M < R, or a resumed M = 1 run).
void data_parallel_micro_batches(TrainingOptions& o, bool resuming);

// The line to warn with when a new run trains no epoch (--epochs 0): its evaluation is of
// the untrained initial weights. "" otherwise.
std::string no_training_warning(const TrainingOptions& o);

// A split's file list: path (relative to the data root), label, class, group.
void write_split_csv(const std::string& path, const Dataset& data, const std::vector<size_t>& idx);

// One model's run: where it goes and on which cache positions it trains,
// validates (early stopping, best weights) and is tested.
struct ModelRun {
  std::string out;  // the run directory (created)
  std::string title;  // of report.html
  nlohmann::json config;  // recorded in checkpoints and the report
  std::vector<size_t> train_pos, val_pos, test_pos;
  std::string val_source;  // how val was made, for the log
  bool checkpoints = true;  // last/best.ckpt.safetensors every epoch
  const CheckpointFile* resume = nullptr;  // continue from this (last) checkpoint
  std::vector<std::string> warnings;  // for the report
  std::vector<std::pair<std::string, std::string>> files;  // more files to list in the report
  bool print_evaluation = true;  // the confusion matrix and classification report on stdout
};

struct ModelRunResult {
  FitResult fit;
  std::string collapse;          // the ln 2 warning, when it fired
  std::optional<Metrics> test;   // when test_pos is not empty
  std::vector<Prediction> predictions;  // on test_pos, in its order
};

// Trains `model` (built by build_model) with the recipe, writes history.csv, the
// learning curves, weights.safetensors (the best epoch's) and, with test images,
// the evaluation (metrics.json, predictions.csv, PNGs, report.html) into run.out.
ModelRunResult train_and_evaluate(const TrainingOptions& o, Sequential& model, Optimizer& optimizer,
                                  const Dataset& data, const ImageCache& cache, const ModelRun& run);

}  // namespace radius::app
