// radius train DATA: the seed paper's experiment. Lists the data, splits off a
// validation set when DATA has no val/ (written down in splits/), decodes every
// image once, trains with the paper's defaults (paper.spec, batch 32, Adam 1e-3 in
// Keras' form, augmentation on train only) with validation every epoch, early
// stopping on validation loss and restore of the best weights, checkpoints every
// epoch, and, when DATA has test/, evaluates on it and writes the report.
//
// Run directory: config.json, history.csv, health.csv + health.json (net/health.h), last.ckpt.safetensors, best.ckpt.safetensors,
// weights.safetensors, splits/{train,val,test}.csv, bad_files.csv (when any),
// learning_curve_{loss,accuracy}.png, and (with test/) metrics.json, predictions.csv,
// confusion_matrix.png, roc.png, report.html.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <tuple>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "apps/processes.h"
#include "apps/run_common.h"
#include "apps/run_folder.h"
#include "apps/training.h"
#include "apps/warning.h"
#include "data/splits.h"
#include "io/atomic_file.h"
#include "io/json_checked.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct TrainCommand {
  std::string data, out, resume;
  int limit = 0;
  bool overwrite = false;
  TrainingOptions recipe;
  std::vector<std::string> given;  // the training-option flags on the command line (--resume reads them)
};

json to_config(const TrainCommand& o) {
  json j = training_config(o.recipe);
  j["data"] = o.data;
  j["limit"] = o.limit;
  return j;
}

// A resumed run takes its configuration from config.json, except the options whose
// row in the options table says they may change (OnResume, apps/training_options.h):
// the epoch count (where the run stops: the learning-rate schedule keeps its length),
// threads and device (the recorded ones unless given again), and quiet.
void from_config(const json& j, TrainCommand& o) {
  read_training_config(j, o.recipe, o.given);
  o.data = j.at("data");
  o.limit = json_integer_at<int>(j, "limit");
  // The run's copy of its spec ("model.spec", relative to the run folder); runs
  // written before the copy existed name the spec as it was given.
  const fs::path copy = fs::path(o.resume) / o.recipe.model;
  if (fs::path(o.recipe.model).is_relative() && fs::is_regular_file(copy)) o.recipe.model = copy.string();
}

// --resume continues the run in its folder on its recorded data: says what that means
// for what the command line gave (DATA, --out, --limit) and whether the data changed.
void explain_resume(const TrainCommand& given, const TrainCommand& o, const json& config) {
  std::vector<std::string> ignored;
  if (!given.out.empty() && absolute_path(given.out) != absolute_path(o.resume)) ignored.push_back("--out");
  if (given.limit != 0 && given.limit != o.limit) ignored.push_back("--limit");
  for (const std::string& flag : ignored)
    std::fprintf(stderr, "radius train: warning: ignored on --resume: %s (the run continues in %s as recorded in "
                 "config.json)\n", flag.c_str(), o.resume.c_str());
  const std::string recorded = config.at("data").get<std::string>();
  if (!given.data.empty() && absolute_path(given.data) != absolute_path(recorded))
    std::fprintf(stderr, "radius train: warning: DATA %s is not the data this run trained on (%s, config.json): "
                 "resuming on %s\n", given.data.c_str(), recorded.c_str(), given.data.c_str());
}

void run_train(TrainCommand o) {
  CheckpointFile resume_ckpt;
  json resume_config;
  bool resuming = false;
  if (!o.resume.empty()) {
    const std::string cfg = o.resume + "/config.json";
    if (!fs::exists(cfg)) throw std::runtime_error("--resume " + o.resume + ": no config.json there (not a run directory?)");
    const TrainCommand given = o;
    try {
      resume_config = read_json_file(cfg);
      from_config(resume_config, o);
    } catch (const std::exception& e) {
      throw std::runtime_error("--resume: " + cfg + ": " + e.what());
    }
    if (writes_outputs()) lock_run_folder(o.resume, "radius train --resume");
    explain_resume(given, o, resume_config);
    if (!given.data.empty()) o.data = given.data;
    if (const std::string note = ignored_on_resume_note(o.given); !note.empty())
      std::fprintf(stderr, "radius train: warning: %s\n", note.c_str());
    if (const std::string note = resumed_schedule_note(o.recipe); !note.empty()) std::printf("%s\n", note.c_str());
    o.out = o.resume;
    const std::string last = o.resume + "/last.ckpt.safetensors";
    if (!fs::exists(last)) throw std::runtime_error("--resume " + o.resume + ": no last.ckpt.safetensors (no epoch finished?)");
    resume_ckpt = read_checkpoint(last);
    resuming = true;
    const CheckpointState& done = resume_ckpt.state;
    const bool trained = done.stopped || done.epoch >= o.recipe.epochs;
    // "finished" is written last, after the evaluation: without it (a run killed while
    // writing its weights or report) the outputs are written again below.
    const bool complete = resume_config.contains("finished") && resume_config["finished"].is_object() &&
                          resume_config["finished"].value("epoch", -1) == done.epoch;
    if (trained && !complete)
      std::printf("%s: every epoch is trained but its weights and evaluation were not all written (interrupted): "
                  "writing them\n", o.resume.c_str());
    if (trained && complete) {
      std::printf("%s finished already, after epoch %d of %d (%s): nothing to train, and its evaluation is in "
                  "the folder. To train further, pass --epochs N > %d%s.\n",
                  o.resume.c_str(), done.epoch, o.recipe.epochs,
                  done.stopped ? "early stopping ended it" : "it ran every epoch", done.epoch,
                  done.stopped ? " (early stopping still applies)" : "");
      return;
    }
    // Half-written files of a killed run: never read, removed so they do not pile up.
    if (const int n = writes_outputs() ? remove_stale_temporaries(o.resume) : 0)
      std::printf("removed %d unfinished temporary file(s) of an interrupted run\n", n);
  }
  data_parallel_micro_batches(o.recipe, resuming);
  const TrainingOptions& t = o.recipe;
  std::string source_spec;  // the spec as given (a new run copies it into its folder)
  if (o.data.empty()) throw std::runtime_error("no DATA folder given");
  if (o.out.empty()) o.out = "runs/train";
  if (!resuming)
    if (const std::string w = no_training_warning(t); !w.empty()) print_warning(w);
  if (!(t.val_fraction > 0 && t.val_fraction < 1)) throw std::runtime_error("--val-fraction must be in (0, 1)");
  set_num_threads(t.threads);
  auto model = build_model(t);
  auto optimizer = make_optimizer(t);

  // ---- data ----------------------------------------------------------------------
  const Dataset data = list_training_data(o.data, t);
  const bool split_folders = data.has_split("train") || data.has_split("val") || data.has_split("test");
  std::vector<size_t> train_idx = split_folders ? data.indices("train") : data.indices("");
  if (train_idx.empty()) throw std::runtime_error("'" + o.data + "' has no training images (train/ or class folders)");
  std::vector<size_t> val_idx;
  std::string val_source;
  if (data.has_split("val")) {
    val_idx = data.indices("val");
    val_source = "val/";
  } else {
    std::tie(train_idx, val_idx) = split_off_validation(data, train_idx, t);
    val_source = std::string(t.group ? "group-aware" : "stratified") + " split of train (" +
                 std::to_string(int(std::lround(t.val_fraction * 100))) + " %)";
  }
  train_idx = limit_images(data, train_idx, o.limit, t);
  const std::vector<size_t> test_idx = data.has_split("test") ? data.indices("test") : std::vector<size_t>{};
  check_split_classes(data, train_idx, val_idx, test_idx);

  if (resuming) {
    if (resume_config.contains("data_fingerprint") && resume_config["data_fingerprint"] != data_fingerprint(data))
      std::fprintf(stderr, "radius train: warning: the data in %s differ from those this run started on (other "
                   "files, labels or splits than config.json's fingerprint): the resumed epochs train on the new "
                   "listing\n", o.data.c_str());
  } else {
    source_spec = o.recipe.model;
    if (writes_outputs()) {  // rank 0 of a job alone touches the folder (the others read the spec as given)
      prepare_run_folder(o.out, o.overwrite, "radius train");
      o.recipe.model = copy_spec_into(o.recipe.model, o.out);
    }
  }
  on_interrupt_say("radius train --resume " + o.out);
  on_job_end_say("radius train --resume " + o.out);
  if (writes_outputs()) {
    fs::create_directories(o.out + "/splits");
    write_split_csv(o.out + "/splits/train.csv", data, train_idx);
    write_split_csv(o.out + "/splits/val.csv", data, val_idx);
    if (!test_idx.empty()) write_split_csv(o.out + "/splits/test.csv", data, test_idx);
  }
  json config = to_config(o);
  config["model"] = kRunSpecName;  // the copy, relative to the run folder
  config["model_source"] = source_spec.empty() ? resume_config.value("model_source", "") : absolute_path(source_spec);
  config["data"] = absolute_path(o.data);
  config["data_fingerprint"] = data_fingerprint(data);
  config["threads"] = num_threads();  // the count used, so that --resume uses it too
  config["created"] = now_iso8601();
  config["val_source"] = val_source;
  config["classes"] = data.classes;
  config["input"] = {model->input_shape()[0], model->input_shape()[1], model->input_shape()[2]};
  config["optimizer_description"] = optimizer->describe();
  if (!resuming && writes_outputs()) write_json_file(o.out + "/config.json", config);

  std::vector<size_t> all = train_idx;
  all.insert(all.end(), val_idx.begin(), val_idx.end());
  all.insert(all.end(), test_idx.begin(), test_idx.end());
  const ImageCache cache(data, all, with_window(cache_options_for(*model, t.threads), t.window));
  std::printf("%s\n", cache.summary().c_str());
  std::printf("data: %s  classes: %s=0, %s=1\n", o.data.c_str(), data.classes[0].c_str(),
              data.classes.size() > 1 ? data.classes[1].c_str() : "?");

  ModelRun run;
  run.out = o.out;
  run.title = "Radius training run: " + o.out;
  run.config = config;
  run.train_pos = cache.positions_of(train_idx);
  run.val_pos = cache.positions_of(val_idx);
  run.test_pos = cache.positions_of(test_idx);
  run.val_source = val_source;
  run.resume = resuming ? &resume_ckpt : nullptr;
  run.files = {{"configuration", "config.json"}, {"split file lists", "splits/"}};
  if (!cache.bad_files().empty()) {
    if (writes_outputs()) write_bad_files_csv(cache, o.out + "/bad_files.csv");
    run.files.emplace_back("unreadable images", "bad_files.csv");
    run.warnings.push_back(std::to_string(cache.bad_files().size()) + " unreadable image(s) skipped (bad_files.csv)");
  }
  const ModelRunResult result = train_and_evaluate(t, *model, *optimizer, data, cache, run);
  // Every output is written: a later --resume says the run is finished.
  if (!writes_outputs()) return;
  json finished = read_json_file(o.out + "/config.json");
  finished["finished"] = {{"epoch", result.fit.state.epoch}, {"at", now_iso8601()}};
  write_json_file(o.out + "/config.json", finished);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model (the advised recipe by default, --recipe paper for the seed paper's) on an image folder");
  auto o = std::make_shared<TrainCommand>();
  cmd->add_option("DATA", o->data, "Data folder: train/ [val/] [test/] of class folders, or class folders");
  add_shared_flag(*cmd, "--out", o->out, "Run directory (default runs/train)");
  add_training_options(*cmd, o->recipe);
  add_shared_flag(*cmd, "--limit", o->limit);
  cmd->add_option("--resume", o->resume, "Continue the run in this directory from its last checkpoint");
  add_shared_flag(*cmd, "--overwrite", o->overwrite);
  cmd->callback([o, cmd] {
    o->given = training_flags_given(*cmd);
    apply_recipe(o->recipe, o->given);
    run_train(*o);
  });
}

}  // namespace radius::app
