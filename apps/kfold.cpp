// radius kfold DATA -k K: k-fold cross-validation with the train recipe.
//
// The folds cover every labelled image of DATA: train/, val/ and test/ alike (the
// seed paper cross-validated its whole set; a fixed test/ would be one more fold's
// worth of data left out). Images that do not decode are left out (bad_files.csv)
// before the folds are drawn, so the file lists name exactly the images used.
// Folds are stratified by class; with --group, group-aware (every rotated copy of
// one radiograph in the same fold). Fold f is the test set of model f; the other
// k-1 folds are its training part, from which a validation share (--val-fraction,
// split the same way) is held out for early stopping and the best-epoch weights.
//
// Determinism: the fold assignment, each fold's validation split and every fold's
// init, dropout, shuffle and augmentation come from --seed (the same seed in every
// fold, so fold-to-fold differences come from the data).
//
// Run directory: config.json, bad_files.csv (when any), kfold.csv (one row per fold:
// sizes, best epoch, every metric), kfold.json (per fold + mean and sample sd, and
// the pooled out-of-fold metrics), the pooled evaluation (predictions.csv: every
// image once, scored by the model that did not train on it; metrics.json,
// confusion_matrix.png, roc.png) and report.html (pooled results + the fold table),
// and folds/fold-N/: train.csv, val.csv, test.csv (the file lists, as
// train's splits/), history.csv, weights.safetensors, learning curves, metrics.json,
// predictions.csv, confusion_matrix.png, roc.png, report.html. No checkpoints: a
// k-fold run is not resumable.
//
// In an MPI job of R ranks (mpirun -n R radius kfold ...) the folds fan out: with R <= k,
// fold f runs on rank f mod R, as one process; with R > k, each fold on a group of
// R / k ranks, data-parallel (net/train.h: as --micro-batches R / k; leftover ranks idle).
// Rank 0 gathers each fold's outcome (its sizes, epochs and exact predictions) and writes
// the same kfold.csv, kfold.json and report as a serial run (with the same --micro-batches).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <tuple>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "apps/processes.h"
#include "apps/run_common.h"
#include "apps/run_folder.h"
#include "apps/training.h"
#include "apps/warning.h"
#include "data/csv.h"
#include "data/splits.h"
#include "net/spec.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct KfoldCommand {
  std::string data, out = "runs/kfold";
  int k = 5, limit = 0;
  bool overwrite = false;
  TrainingOptions recipe;
};

struct FoldOutcome {
  size_t train = 0, val = 0, test = 0;
  int best_epoch = 0, epochs = 0;
  Metrics metrics;
  std::string collapse;
  std::vector<Prediction> predictions;  // of the fold's test images
};

// Every test fold must hold every class, so k cannot exceed the images of the
// smallest class (with --group: the groups that hold it).
void check_k(const Dataset& data, const std::vector<size_t>& idx, int k, bool group) {
  std::vector<std::set<std::string>> units(data.classes.size());
  for (size_t i : idx) units[size_t(data.samples[i].label)].insert(group ? data.samples[i].group : std::to_string(i));
  for (size_t c = 0; c < units.size(); ++c)
    if (units[c].size() < size_t(k))
      throw std::runtime_error("-k " + std::to_string(k) + ": class '" + data.classes[c] + "' of '" + data.root +
                               "' has only " + std::to_string(units[c].size()) +
                               (group ? " groups" : " readable images") +
                               ", and every test fold needs at least one of each class");
}

json fold_config(const json& base, int fold) {
  json c = base;
  c["fold"] = fold;
  return c;
}

// Trains and evaluates fold f (0-based): test = the samples assigned to f.
FoldOutcome run_fold(const KfoldCommand& o, const Dataset& data, const ImageCache& cache,
                     const std::vector<size_t>& kept, const std::vector<int>& fold_of, int f, const json& config) {
  const TrainingOptions& t = o.recipe;
  std::vector<size_t> rest, test_idx;
  for (size_t i = 0; i < kept.size(); ++i) (fold_of[i] == f ? test_idx : rest).push_back(kept[i]);
  const auto [train_idx, val_idx] = split_off_validation(data, rest, t);

  const std::string dir = o.out + "/folds/fold-" + std::to_string(f + 1);
  if (writes_outputs()) {  // the fold's first rank (world() is the fold's group in a job)
    fs::create_directories(dir);
    write_split_csv(dir + "/train.csv", data, train_idx);
    write_split_csv(dir + "/val.csv", data, val_idx);
    write_split_csv(dir + "/test.csv", data, test_idx);
  }
  std::printf("\n==== fold %d/%d: test = fold %d, train + val = the other %d folds ====\n", f + 1, o.k, f + 1,
              o.k - 1);

  ModelRun run;
  run.out = dir;
  run.title = "Radius k-fold run " + o.out + ": fold " + std::to_string(f + 1) + " of " + std::to_string(o.k);
  run.config = fold_config(config, f + 1);
  run.train_pos = cache.positions_of(train_idx);
  run.val_pos = cache.positions_of(val_idx);
  run.test_pos = cache.positions_of(test_idx);
  run.val_source = std::string(t.group ? "group-aware" : "stratified") + " split of the training folds";
  run.checkpoints = false;
  run.print_evaluation = false;
  run.files = {{"file lists", "train.csv, val.csv, test.csv"}};
  auto model = build_model(t);
  auto optimizer = make_optimizer(t);
  const ModelRunResult r = train_and_evaluate(t, *model, *optimizer, data, cache, run);

  if (!r.test) return {};  // a rank of the fold's group other than its first: rank 0 of the group reports
  FoldOutcome out{train_idx.size(), val_idx.size(), test_idx.size(), r.fit.best_epoch, r.fit.state.epoch,
                  *r.test, r.collapse, r.predictions};
  std::printf("fold %d: accuracy %.4f, balanced accuracy %.4f, MCC %.4f, ROC AUC %.4f (%s/)\n", f + 1,
              out.metrics.accuracy, out.metrics.balanced_accuracy, out.metrics.mcc, out.metrics.auc, dir.c_str());
  return out;
}

// Which ranks run which folds (see the top of the file).
struct FoldPlan {
  int ranks_per_fold = 1;
  int group = -1;  // this rank's group (it runs folds group, group + groups, ...); -1: idle
  int groups = 1;
};
FoldPlan plan_folds(int k) {
  const int ranks = world().size(), rank = world().rank();
  FoldPlan p;
  if (ranks <= k) {
    p.groups = ranks;
    p.group = rank;
  } else {
    p.ranks_per_fold = ranks / k;
    p.groups = k;
    p.group = rank < k * p.ranks_per_fold ? rank / p.ranks_per_fold : -1;
  }
  return p;
}

// A fold's outcome as exact text (JSON numbers round-trip doubles), for rank 0.
json outcome_json(const FoldOutcome& f) {
  json preds = json::array();
  for (const Prediction& p : f.predictions) preds.push_back({p.path, p.label, p.score});
  return json{{"train", f.train}, {"val", f.val}, {"test", f.test}, {"best_epoch", f.best_epoch},
              {"epochs", f.epochs}, {"collapse", f.collapse}, {"predictions", preds}};
}
// Its metrics are the predictions' (as write_evaluation computes them in the fold).
FoldOutcome outcome_from_json(const json& j, double threshold) {
  FoldOutcome f;
  f.train = j.at("train"), f.val = j.at("val"), f.test = j.at("test");
  f.best_epoch = j.at("best_epoch"), f.epochs = j.at("epochs");
  f.collapse = j.at("collapse");
  for (const json& p : j.at("predictions")) f.predictions.push_back({p.at(0), p.at(1), p.at(2).get<double>()});
  f.metrics = compute_metrics(labels_of(f.predictions), scores_of(f.predictions), threshold, 0);
  return f;
}

// Every rank runs its group's folds (the group's rank 0 writes them), then rank 0
// gathers all the outcomes, in fold order.
std::vector<FoldOutcome> run_folds_fanned_out(const KfoldCommand& o, const Dataset& data, const ImageCache& cache,
                                              const std::vector<size_t>& kept, const std::vector<int>& fold_of,
                                              const json& config, const FoldPlan& plan) {
  json mine = json::object();  // fold number -> outcome, of the folds this rank wrote
  {
    const std::unique_ptr<Communicator> group = world().split(plan.group < 0 ? o.k : plan.group);
    const ScopedWorld in_group(group.get());  // each fold sees its group as the world
    if (plan.group >= 0)
      for (int f = plan.group; f < o.k; f += plan.groups) {
        const FoldOutcome r = run_fold(o, data, cache, kept, fold_of, f, config);
        if (group->rank() == 0) mine[std::to_string(f)] = outcome_json(r);
      }
  }
  std::vector<FoldOutcome> folds(size_t(o.k));
  std::vector<bool> seen(size_t(o.k), false);
  for (const std::string& text : world().allgather(mine.dump())) {
    const json reported = json::parse(text);
    for (auto it = reported.begin(); it != reported.end(); ++it) {
      const size_t f = size_t(std::stoi(it.key()));
      folds[f] = outcome_from_json(it.value(), o.recipe.threshold);
      seen[f] = true;
    }
  }
  for (int f = 0; f < o.k; ++f)
    if (!seen[size_t(f)]) throw std::logic_error("kfold: no rank reported fold " + std::to_string(f + 1));
  return folds;
}

std::string number(double v) {
  if (!std::isfinite(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// kfold.csv: fold, sizes, best epoch, then every headline metric.
void write_kfold_csv(const std::string& path, const std::vector<FoldOutcome>& folds) {
  CsvRow header{"fold", "train", "val", "test", "best_epoch", "epochs"};
  for (const auto& [name, _] : headline_values(folds.front().metrics)) header.push_back(name);
  std::vector<CsvRow> rows{header};
  for (size_t f = 0; f < folds.size(); ++f) {
    const FoldOutcome& o = folds[f];
    CsvRow row{std::to_string(f + 1), std::to_string(o.train), std::to_string(o.val), std::to_string(o.test),
               std::to_string(o.best_epoch), std::to_string(o.epochs)};
    for (const auto& [_, v] : headline_values(o.metrics)) row.push_back(number(v));
    rows.push_back(row);
  }
  write_csv(path, rows);
}

// kfold.json: the configuration, each fold (sizes, epochs, every metric), per
// headline metric the fold values with their mean and sample sd, and the metrics
// of the pooled out-of-fold predictions.
json kfold_json(const json& config, const std::vector<FoldOutcome>& folds, const ReportData& rep,
                const Metrics& pooled) {
  json per_fold = json::array();
  for (size_t f = 0; f < folds.size(); ++f) {
    const FoldOutcome& o = folds[f];
    per_fold.push_back({{"fold", f + 1},
                        {"dir", "folds/fold-" + std::to_string(f + 1)},
                        {"train", o.train},
                        {"val", o.val},
                        {"test", o.test},
                        {"best_epoch", o.best_epoch},
                        {"epochs", o.epochs},
                        {"metrics", o.metrics}});
  }
  return json{{"config", config},
          {"k", folds.size()},
          {"folds", per_fold},
          {"summary", report_json(rep).at("folds").at("summary")},
          {"pooled", pooled},
          {"warnings", rep.warnings}};
}

// metric | fold 1 .. fold k | mean ± sd
std::string kfold_table(const std::vector<MetricSummary>& summary) {
  int width = 6;  // "metric"
  for (const MetricSummary& s : summary) width = std::max(width, int(s.name.size()));
  std::string out;
  char buf[128];
  std::snprintf(buf, sizeof buf, "%-*s", width, "metric");
  out += buf;
  for (size_t f = 0; f < summary.front().values.size(); ++f) {
    std::snprintf(buf, sizeof buf, " %8s", ("fold " + std::to_string(f + 1)).c_str());
    out += buf;
  }
  out += "   mean \u00b1 sd\n";
  for (const MetricSummary& s : summary) {
    std::snprintf(buf, sizeof buf, "%-*s", width, s.name.c_str());
    out += buf;
    for (double v : s.values) {
      std::snprintf(buf, sizeof buf, " %8.4f", v);
      out += buf;
    }
    std::snprintf(buf, sizeof buf, "   %.4f \u00b1 %.4f\n", s.mean, s.sd);
    out += buf;
  }
  return out;
}

// The top level: the pooled out-of-fold evaluation (every image scored once, by
// the model that did not train on it) with the per-fold table, kfold.csv and kfold.json.
void write_summary(const KfoldCommand& o, const json& config, const std::vector<FoldOutcome>& folds) {
  ReportData rep;
  rep.title = "Radius k-fold cross-validation: " + o.out + " (results: the pooled out-of-fold predictions)";
  rep.created = config.at("created").get<std::string>();
  rep.seed = o.recipe.seed;
  for (auto& [k, v] : config.items()) rep.config.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  std::vector<Prediction> pooled;
  for (size_t f = 0; f < folds.size(); ++f) {
    rep.folds.push_back(folds[f].metrics);
    pooled.insert(pooled.end(), folds[f].predictions.begin(), folds[f].predictions.end());
    if (!folds[f].collapse.empty()) rep.warnings.push_back("fold " + std::to_string(f + 1) + ": " + folds[f].collapse);
  }
  rep.files = {{"configuration", "config.json"},
               {"one row per fold, every metric", "kfold.csv"},
               {"per fold, mean and sd, pooled", "kfold.json"},
               {"each fold's file lists, history, weights, evaluation and report", "folds/fold-N/"}};
  write_kfold_csv(o.out + "/kfold.csv", folds);
  add_synth_breakdown(rep, o.data, pooled, o.recipe.threshold);
  const Metrics m = write_evaluation(o.out, pooled, o.recipe.threshold, rep, false);
  write_json_file(o.out + "/kfold.json", kfold_json(config, folds, rep, m));
  std::printf("\n%d-fold cross-validation of %s (fractured = positive; sd = sample standard deviation):\n%s", o.k,
              o.data.c_str(), kfold_table(summarize_folds(rep.folds)).c_str());
  std::printf("pooled out-of-fold predictions (%zu images): accuracy %.4f, MCC %.4f, ROC AUC %.4f\n", pooled.size(),
              m.accuracy, m.mcc, m.auc);
  std::printf("wrote %s/{kfold.csv,kfold.json,report.html,metrics.json,predictions.csv,roc.png,folds/}\n",
              o.out.c_str());
}

void run_kfold(KfoldCommand o) {
  TrainingOptions& t = o.recipe;
  if (o.data.empty()) throw std::runtime_error("no DATA folder given");
  if (o.k < 2) throw std::runtime_error("-k " + std::to_string(o.k) + ": k-fold needs at least 2 folds");
  set_num_threads(t.threads);
  parse_device(t.device);
  const auto spec = load_model_spec(t.model);  // the input size for the cache; each fold builds its own model

  if (const std::string w = no_training_warning(t); !w.empty()) print_warning(w);

  const Dataset data = list_training_data(o.data, t);
  std::vector<size_t> every(data.samples.size());
  for (size_t i = 0; i < every.size(); ++i) every[i] = i;
  every = limit_images(data, every, o.limit, t);  // --limit: before decoding, so a quick run is quick
  const ImageCache cache(data, every, with_window(cache_options_for(*spec, t.threads), t.window));
  std::printf("%s\n", cache.summary().c_str());
  const std::vector<size_t> kept = cache.sample_indices();
  check_k(data, kept, o.k, t.group);
  const FoldPlan plan = plan_folds(o.k);
  if (plan.ranks_per_fold > 1) {
    if (t.micro_batches != 1 && t.micro_batches < plan.ranks_per_fold)
      throw std::runtime_error(std::to_string(world().size()) + " ranks for " + std::to_string(o.k) + " folds train each "
                               "fold on " + std::to_string(plan.ranks_per_fold) + " ranks, a micro-batch or more each: "
                               "leave --micro-batches out or give " + std::to_string(plan.ranks_per_fold) + " or more");
    if (t.micro_batches == 1) t.micro_batches = plan.ranks_per_fold;  // recorded: a serial run with it is this run
  }
  const std::string source_spec = t.model;
  if (writes_outputs()) {  // rank 0 of a job alone prepares the folder
    prepare_run_folder(o.out, o.overwrite, "radius kfold");
    t.model = copy_spec_into(t.model, o.out);  // every fold's weights name this copy
    if (!cache.bad_files().empty()) write_bad_files_csv(cache, o.out + "/bad_files.csv");
  }
  on_interrupt_say("");
  const std::vector<int> fold_of = kfold_assign(labels_at(data, kept), groups_at(data, kept, t.group), o.k, t.seed);

  json config = training_config(t);
  config["model"] = kRunSpecName;  // the copy, relative to the run folder
  config["model_source"] = absolute_path(source_spec);
  config["data"] = absolute_path(o.data);
  config["data_fingerprint"] = data_fingerprint(data);
  config["k"] = o.k;
  config["limit"] = o.limit;
  config["images"] = kept.size();
  config["created"] = now_iso8601();
  config["classes"] = data.classes;
  config["folds"] = std::string(t.group ? "group-aware" : "stratified") + " over all splits of DATA";
  if (writes_outputs()) write_json_file(o.out + "/config.json", config);
  // The other ranks take rank 0's configuration (its creation time) and spec copy, once the folder is ready.
  const json shared = json::parse(world().allgather(json{{"config", config}, {"model", t.model}}.dump()).front());
  config = shared.at("config");
  t.model = shared.at("model").get<std::string>();
  std::printf("data: %s, %zu images, classes: %s=0, %s=1; %d %s folds\n", o.data.c_str(), kept.size(),
              data.classes[0].c_str(), data.classes.size() > 1 ? data.classes[1].c_str() : "?", o.k,
              t.group ? "group-aware" : "stratified");

  std::vector<FoldOutcome> folds;
  if (world().size() == 1) {
    for (int f = 0; f < o.k; ++f) folds.push_back(run_fold(o, data, cache, kept, fold_of, f, config));
  } else {
    folds = run_folds_fanned_out(o, data, cache, kept, fold_of, config, plan);
  }
  if (writes_outputs()) write_summary(o, config, folds);
}

}  // namespace

void add_kfold_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("kfold", "k-fold cross-validation: train and evaluate K models, metrics as mean ± sd");
  auto o = std::make_shared<KfoldCommand>();
  cmd->add_option("DATA", o->data, "Data folder (every split: train/ val/ test/) or class folders or a manifest")
      ->required();
  add_number(*cmd, "-k,--folds", o->k, "Number of folds", {2.0, std::nullopt});
  add_shared_flag(*cmd, "--out", o->out, "Run directory")->capture_default_str();
  add_training_options(*cmd, o->recipe);
  add_shared_flag(*cmd, "--limit", o->limit);
  add_shared_flag(*cmd, "--overwrite", o->overwrite);
  cmd->callback([o, cmd] {
    apply_recipe(o->recipe, training_flags_given(*cmd));
    run_kfold(*o);
  });
}

}  // namespace radius::app
