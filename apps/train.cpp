// radius train DATA: the seed paper's experiment. Lists the data, splits off a
// validation set when DATA has no val/ (written down in splits/), decodes every
// image once, trains with the paper's defaults (paper.spec, batch 32, Adam 1e-3 in
// Keras' form, augmentation on train only) with validation every epoch, early
// stopping on validation loss and restore of the best weights, checkpoints every
// epoch, and, when DATA has test/, evaluates on it and writes the report.
//
// Run directory: config.json, history.csv, last.ckpt.safetensors, best.ckpt.safetensors,
// weights.safetensors, splits/{train,val,test}.csv, bad_files.csv (when any),
// learning_curve_{loss,accuracy}.png, and (with test/) metrics.json, predictions.csv,
// confusion_matrix.png, roc.png, report.html.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <regex>

#include "apps/commands.h"
#include "apps/run_common.h"
#include "data/csv.h"
#include "data/splits.h"
#include "eval/history.h"
#include "io/atomic_file.h"
#include "io/json_checked.h"
#include "net/fit.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct TrainCommand {
  std::string data, model = default_model_path(), out, resume;
  int epochs = 50, patience = 5, batch = 32, threads = 0, limit = 0;
  float lr = 1e-3f, momentum = 0.0f;
  std::string optimizer = "adam", device = "cpu";
  bool no_augment = false, group = false, no_flip = false;
  float rotation = 40, shift = 0.2f, shear = 0.2f, zoom = 0.2f;
  double val_fraction = 0.2, min_delta = 0.0, threshold = 0.5;
  uint64_t seed = 1;
  bool quiet = false, epochs_given = false;
};

json to_config(const TrainCommand& o) {
  return json{{"data", o.data},         {"model", o.model},       {"out", o.out},
              {"epochs", o.epochs},     {"patience", o.patience}, {"min_delta", o.min_delta},
              {"batch", o.batch},       {"lr", o.lr},             {"optimizer", o.optimizer},
              {"momentum", o.momentum}, {"augment", !o.no_augment}, {"rotation", o.rotation},
              {"shift", o.shift},       {"shear", o.shear},       {"zoom", o.zoom},
              {"flip", !o.no_flip},     {"val_fraction", o.val_fraction}, {"group", o.group},
              {"limit", o.limit},       {"seed", o.seed},         {"threads", o.threads},
              {"device", o.device},     {"threshold", o.threshold}};
}

// A resumed run takes its configuration from config.json; only the epoch count,
// threads, device and quiet may change.
void from_config(const json& j, TrainCommand& o) {
  o.data = j.at("data");
  o.model = j.at("model");
  o.patience = json_integer_at<int>(j, "patience");
  o.min_delta = j.at("min_delta");
  o.batch = json_integer_at<int>(j, "batch");
  o.lr = j.at("lr");
  o.optimizer = j.at("optimizer");
  o.momentum = j.at("momentum");
  o.no_augment = !j.at("augment").get<bool>();
  o.rotation = j.at("rotation");
  o.shift = j.at("shift");
  o.shear = j.at("shear");
  o.zoom = j.at("zoom");
  o.no_flip = !j.at("flip").get<bool>();
  o.val_fraction = j.at("val_fraction");
  o.group = j.at("group");
  o.limit = json_integer_at<int>(j, "limit");
  o.seed = json_integer_at<uint64_t>(j, "seed");
  if (!o.epochs_given) o.epochs = json_integer_at<int>(j, "epochs");
  o.threshold = j.value("threshold", 0.5);
}

std::unique_ptr<Optimizer> make_optimizer(const TrainCommand& o) {
  if (o.optimizer == "adam") return std::make_unique<Adam>(AdamConfig::keras(o.lr));
  if (o.optimizer == "adam-pytorch") return std::make_unique<Adam>(AdamConfig::pytorch(o.lr));
  if (o.optimizer == "sgd") {
    SgdConfig c;
    c.lr = o.lr;
    c.momentum = o.momentum;
    return std::make_unique<Sgd>(c);
  }
  throw std::runtime_error("unknown optimizer '" + o.optimizer + "' (adam, adam-pytorch, sgd)");
}

Device parse_device(const std::string& d) {
  if (d == "cpu") return Device::cpu;
  if (d == "cuda") {
#ifdef RADIUS_WITH_CUDA
    return Device::cuda;
#else
    throw std::runtime_error("--device cuda: this radius was built without CUDA (-DRADIUS_CUDA=OFF)");
#endif
  }
  throw std::runtime_error("unknown device '" + d + "' (cpu, cuda)");
}

std::string fmt_time(double s) {
  char buf[32];
  const int t = int(std::lround(s));
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
  return buf;
}

// Keras-like output: a line per epoch; a live bar during an epoch on a terminal.
class ConsoleObserver final : public FitObserver {
 public:
  ConsoleObserver(bool live, std::string run_dir, std::vector<HistoryRow> history)
      : live_(live), run_dir_(std::move(run_dir)), history_(std::move(history)) {}
  void on_epoch_begin(int epoch, int max_epochs, int64_t) override {
    std::printf("Epoch %d/%d\n", epoch, max_epochs);
    std::fflush(stdout);
  }
  void on_train_batch(int, int64_t b, int64_t n, int64_t images, double loss, double acc, double s) override {
    if (!live_) return;
    const int width = 24;
    const int done = n > 0 ? int(width * b / n) : width;
    std::string bar(size_t(done), '=');
    if (done < width) bar += '>' + std::string(size_t(width - done - 1), '.');
    const double ips = s > 0 ? double(images) / s : 0;
    const double eta = b > 0 ? s / double(b) * double(n - b) : 0;
    std::printf("\r%5lld/%lld [%s] %6.1f img/s  ETA %s  loss: %.4f - accuracy: %.4f\033[K", (long long)b,
                (long long)n, bar.c_str(), ips, fmt_time(eta).c_str(), loss, acc);
    std::fflush(stdout);
  }
  void on_epoch_end(const HistoryRow& r, bool improved, int) override {
    if (live_) std::printf("\r\033[K");
    std::printf("  %s - loss: %.4f - accuracy: %.4f", fmt_time(r.seconds).c_str(), r.train_loss, r.train_accuracy);
    if (std::isfinite(r.val_loss))
      std::printf(" - val_loss: %.4f - val_accuracy: %.4f%s", r.val_loss, r.val_accuracy,
                  improved ? "  (best, saved)" : "");
    std::printf("\n");
    std::fflush(stdout);
    history_.push_back(r);
    write_history_csv(run_dir_ + "/history.csv", history_);
  }
  void on_early_stop(int epoch, int best) override {
    std::printf("early stopping at epoch %d: no validation-loss improvement since epoch %d\n", epoch, best);
  }
  void on_restore_best(int best, double loss) override {
    std::printf("restored the best weights: epoch %d (val_loss %.4f)\n", best, loss);
  }

 private:
  bool live_;
  std::string run_dir_;
  std::vector<HistoryRow> history_;
};

void write_split_csv(const std::string& path, const Dataset& data, const std::vector<size_t>& idx) {
  std::vector<CsvRow> rows{{"path", "label", "class", "group"}};
  for (size_t i : idx) {
    const Sample& s = data.samples[i];
    rows.push_back({relative_to(s.path, data.root), std::to_string(s.label), data.classes[size_t(s.label)], s.group});
  }
  write_csv(path, rows);
}

std::vector<int> labels_at(const Dataset& d, const std::vector<size_t>& idx) {
  std::vector<int> l;
  for (size_t i : idx) l.push_back(d.samples[i].label);
  return l;
}
std::vector<std::string> groups_at(const Dataset& d, const std::vector<size_t>& idx, bool group) {
  std::vector<std::string> g;
  if (!group) return g;
  for (size_t i : idx) g.push_back(d.samples[i].group);
  return g;
}

void run_train(TrainCommand o) {
  const auto t_start = std::chrono::steady_clock::now();
  CheckpointFile resume_ckpt;
  bool resuming = false;
  if (!o.resume.empty()) {
    const std::string cfg = o.resume + "/config.json";
    if (!fs::exists(cfg)) throw std::runtime_error("--resume " + o.resume + ": no config.json there (not a run directory?)");
    const std::string given_data = o.data;
    try {
      from_config(read_json_file(cfg), o);
    } catch (const std::exception& e) {
      throw std::runtime_error("--resume: " + cfg + ": " + e.what());
    }
    if (!given_data.empty()) o.data = given_data;
    o.out = o.resume;
    const std::string last = o.resume + "/last.ckpt.safetensors";
    if (!fs::exists(last)) throw std::runtime_error("--resume " + o.resume + ": no last.ckpt.safetensors (no epoch finished?)");
    resume_ckpt = read_checkpoint(last);
    resuming = true;
    // Half-written files of a killed run: never read, removed so they do not pile up.
    if (const int n = remove_stale_temporaries(o.resume))
      std::printf("removed %d unfinished temporary file(s) of an interrupted run\n", n);
  }
  if (o.data.empty()) throw std::runtime_error("no DATA folder given");
  if (o.out.empty()) o.out = "runs/train";
  if (!(o.val_fraction > 0 && o.val_fraction < 1)) throw std::runtime_error("--val-fraction must be in (0, 1)");
  set_num_threads(o.threads);
  const Device device = parse_device(o.device);

  // ---- model and optimizer ----------------------------------------------------
  auto model = load_model_spec(o.model);
  model->init(o.seed);
  model->to(device);
  auto optimizer = make_optimizer(o);

  // ---- data ----------------------------------------------------------------------
  const Dataset data = list_dataset(o.data);
  const bool split_folders = data.has_split("train") || data.has_split("val") || data.has_split("test");
  std::vector<size_t> train_idx = split_folders ? data.indices("train") : data.indices("");
  if (train_idx.empty()) throw std::runtime_error("'" + o.data + "' has no training images (train/ or class folders)");
  std::vector<size_t> val_idx;
  std::string val_source;
  if (data.has_split("val")) {
    val_idx = data.indices("val");
    val_source = "val/";
  } else {
    const auto bins = assign_bins(labels_at(data, train_idx), groups_at(data, train_idx, o.group),
                                  {1.0 - o.val_fraction, o.val_fraction}, o.seed);
    std::vector<size_t> keep;
    for (size_t k = 0; k < train_idx.size(); ++k) (bins[k] == 1 ? val_idx : keep).push_back(train_idx[k]);
    train_idx = keep;
    val_source = std::string(o.group ? "group-aware" : "stratified") + " split of train (" +
                 std::to_string(int(std::lround(o.val_fraction * 100))) + " %)";
  }
  if (o.limit > 0 && size_t(o.limit) < train_idx.size()) {
    const auto bins = assign_bins(labels_at(data, train_idx), groups_at(data, train_idx, o.group),
                                  {double(o.limit), double(train_idx.size() - size_t(o.limit))}, o.seed + 7);
    std::vector<size_t> keep;
    for (size_t k = 0; k < train_idx.size(); ++k)
      if (bins[k] == 0) keep.push_back(train_idx[k]);
    train_idx = keep;
  }
  const std::vector<size_t> test_idx = data.has_split("test") ? data.indices("test") : std::vector<size_t>{};

  fs::create_directories(o.out + "/splits");
  write_split_csv(o.out + "/splits/train.csv", data, train_idx);
  write_split_csv(o.out + "/splits/val.csv", data, val_idx);
  if (!test_idx.empty()) write_split_csv(o.out + "/splits/test.csv", data, test_idx);
  json config = to_config(o);
  config["created"] = now_iso8601();
  config["val_source"] = val_source;
  config["classes"] = data.classes;
  config["input"] = {model->input_shape()[0], model->input_shape()[1], model->input_shape()[2]};
  config["optimizer_description"] = optimizer->describe();
  if (!resuming) write_json_file(o.out + "/config.json", config);

  std::vector<size_t> all = train_idx;
  all.insert(all.end(), val_idx.begin(), val_idx.end());
  all.insert(all.end(), test_idx.begin(), test_idx.end());
  const ImageCache cache(data, all, cache_options_for(*model, o.threads));
  std::printf("%s\n", cache.summary().c_str());
  if (!cache.bad_files().empty()) write_bad_files_csv(cache, o.out + "/bad_files.csv");
  const std::vector<size_t> train_pos = cache.positions_of(train_idx), val_pos = cache.positions_of(val_idx),
                            test_pos = cache.positions_of(test_idx);
  if (train_pos.empty()) throw std::runtime_error("no readable training images (see bad_files.csv)");

  auto count = [&](const std::vector<size_t>& pos, int c) {
    int64_t n = 0;
    for (size_t k : pos) n += cache.label(int64_t(k)) == c;
    return n;
  };
  std::printf("data: %s  classes: %s=0, %s=1\n", o.data.c_str(), data.classes[0].c_str(),
              data.classes.size() > 1 ? data.classes[1].c_str() : "?");
  std::printf("  train %zu (%lld / %lld)   val %zu (%lld / %lld, %s)   test %zu\n", train_pos.size(),
              (long long)count(train_pos, 0), (long long)count(train_pos, 1), val_pos.size(),
              (long long)count(val_pos, 0), (long long)count(val_pos, 1), val_source.c_str(), test_pos.size());

  AugmentConfig aug = o.no_augment ? AugmentConfig::none() : AugmentConfig::paper();
  if (!o.no_augment) {
    aug.rotation_range = o.rotation;
    aug.width_shift = aug.height_shift = o.shift;
    aug.shear_range = o.shear;
    aug.zoom_range = o.zoom;
    aug.horizontal_flip = !o.no_flip;
  }
  LoaderOptions tl;
  tl.batch_size = o.batch;
  tl.augment = aug;
  tl.seed = o.seed;
  Loader train_loader(cache, train_pos, tl);
  LoaderOptions vl = tl;
  vl.augment = AugmentConfig::none();
  vl.shuffle = false;
  std::unique_ptr<Loader> val_loader;
  if (!val_pos.empty()) val_loader = std::make_unique<Loader>(cache, val_pos, vl);
  LoaderBatches train_batches(train_loader);
  std::unique_ptr<LoaderBatches> val_batches;
  if (val_loader) val_batches = std::make_unique<LoaderBatches>(*val_loader);

  FitOptions fo;
  fo.max_epochs = o.epochs;
  fo.patience = o.patience;
  fo.min_delta = o.min_delta;
  fo.last_checkpoint = o.out + "/last.ckpt.safetensors";
  fo.best_checkpoint = o.out + "/best.ckpt.safetensors";
  fo.seed = o.seed;
  fo.config = config;

  CheckpointState state;
  if (resuming) {
    state = apply_checkpoint(resume_ckpt, fo.last_checkpoint, *model, optimizer.get());
    std::printf("resuming %s after epoch %d (best epoch %d)\n", o.out.c_str(), state.epoch, state.best_epoch);
  }
  std::printf("model: %s, %lld parameters, input %lldx%lldx%lld; %s, batch %d, %s, %d threads, device %s\n",
              o.model.c_str(), (long long)model->num_params(), (long long)model->input_shape()[1],
              (long long)model->input_shape()[2], (long long)model->input_shape()[0], optimizer->describe().c_str(),
              o.batch, o.no_augment ? "no augmentation" : "paper augmentation", num_threads(), o.device.c_str());

  ConsoleObserver observer(!o.quiet && isatty(fileno(stdout)), o.out, state.history);
  const FitResult r = fit(*model, *optimizer, train_batches, val_batches.get(), fo, &observer,
                          resuming ? &state : nullptr);
  write_history_csv(o.out + "/history.csv", r.history);
  write_learning_curves(o.out, r.history);
  save_weights(*model, o.out + "/weights.safetensors",
               {{"model", o.model}, {"seed", std::to_string(o.seed)}, {"epoch", std::to_string(r.best_epoch > 0 ? r.best_epoch : r.state.epoch)}});
  const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::printf("wrote %s/weights.safetensors (%s weights), history.csv, checkpoints; %s so far\n", o.out.c_str(),
              r.best_epoch > 0 ? ("best: epoch " + std::to_string(r.best_epoch)).c_str() : "final",
              fmt_time(train_seconds).c_str());

  // The paper's recipe is fragile (shared notes): a constant output sits at loss ln 2.
  std::string collapse;
  if (!r.history.empty()) {
    const HistoryRow& last = r.history.back();
    if (std::fabs(last.train_loss - std::log(2.0)) < 0.003 &&
        (!std::isfinite(last.val_loss) || std::fabs(last.val_loss - std::log(2.0)) < 0.003)) {
      collapse = "the loss is still ln 2 = 0.693: the model outputs a near-constant score (it has not learned, or "
                 "it collapsed: dead ReLUs). The paper's recipe is fragile on small data: try more epochs, more "
                 "images, or a lower --lr.";
      std::printf("warning: %s\n", collapse.c_str());
    }
  }

  if (!test_pos.empty()) {
    std::printf("\ntest set (%zu images), fractured = positive:\n", test_pos.size());
    const auto preds = predict_positions(*model, data, cache, test_pos, o.batch);
    ReportData rep;
    rep.title = "Radius training run: " + o.out;
    rep.created = config["created"];
    rep.seed = o.seed;
    for (auto& [k, v] : config.items()) rep.config.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    rep.history = r.history;
    rep.files = {{"configuration", "config.json"}, {"history", "history.csv"}, {"weights", "weights.safetensors"},
                 {"best checkpoint", "best.ckpt.safetensors"}, {"last checkpoint", "last.ckpt.safetensors"},
                 {"split file lists", "splits/"}};
    if (!collapse.empty()) rep.warnings.push_back(collapse);
    if (!cache.bad_files().empty()) {
      rep.files.emplace_back("unreadable images", "bad_files.csv");
      rep.warnings.push_back(std::to_string(cache.bad_files().size()) + " unreadable image(s) skipped (bad_files.csv)");
    }
    write_evaluation(o.out, preds, o.threshold, rep);
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model (the seed paper's recipe by default) on an image folder");
  auto o = std::make_shared<TrainCommand>();
  cmd->add_option("DATA", o->data, "Data folder: train/ [val/] [test/] of class folders, or class folders");
  cmd->add_option("--model", o->model, "Model spec file (its input line sets the image size)")->capture_default_str();
  cmd->add_option("--out", o->out, "Run directory (default runs/train)");
  cmd->add_option("--epochs", o->epochs, "Maximum epochs")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--patience", o->patience, "Early stopping: epochs without val-loss improvement (0 = off)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-delta", o->min_delta, "Smallest val-loss decrease that counts as improvement")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Batch size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lr", o->lr, "Learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--optimizer", o->optimizer, "adam (Keras form) | adam-pytorch | sgd")->capture_default_str()
      ->check(CLI::IsMember({"adam", "adam-pytorch", "sgd"}));
  cmd->add_option("--momentum", o->momentum, "SGD momentum")->capture_default_str();
  cmd->add_flag("--no-augment", o->no_augment, "Train without augmentation (rescale only)");
  cmd->add_option("--rotation", o->rotation, "Augmentation: rotation range, degrees")->capture_default_str();
  cmd->add_option("--shift", o->shift, "Augmentation: width/height shift fraction")->capture_default_str();
  cmd->add_option("--shear", o->shear, "Augmentation: shear range, degrees")->capture_default_str();
  cmd->add_option("--zoom", o->zoom, "Augmentation: zoom range")->capture_default_str();
  cmd->add_flag("--no-flip", o->no_flip, "Augmentation: no horizontal flips");
  cmd->add_option("--val-fraction", o->val_fraction, "Validation share when DATA has no val/")->capture_default_str();
  cmd->add_flag("--group", o->group, "Group-aware validation split (rotated copies of one X-ray stay together)");
  cmd->add_option("--limit", o->limit, "Use at most N training images (stratified), for quick runs")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threshold", o->threshold, "Decision threshold for the test evaluation")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed: init, dropout, shuffle, augmentation, split")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu | cuda")->capture_default_str();
  cmd->add_option("--resume", o->resume, "Continue the run in this directory from its last checkpoint");
  cmd->add_flag("--quiet", o->quiet, "No live progress bar");
  cmd->callback([o, cmd] {
    o->epochs_given = cmd->count("--epochs") > 0;
    run_train(*o);
  });
}

}  // namespace radius::app
