#include "apps/training.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "apps/processes.h"
#include "apps/run_common.h"
#include "apps/warning.h"
#include "data/csv.h"
#include "data/loader.h"
#include "data/splits.h"
#include "eval/health_history.h"
#include "eval/history.h"
#include "net/device_batches.h"
#include "layers/init.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "optim/adam.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "net/explain.h"
#include "tensor/memory.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace fs = std::filesystem;
using nlohmann::json;

std::string resumed_schedule_note(const TrainingOptions& o) {
  const int recorded = o.schedule_epochs > 0 ? o.schedule_epochs : o.epochs;
  if (o.epochs == recorded) return "";
  const std::string epochs = "--epochs " + std::to_string(o.epochs);
  if (o.lr_schedule == "cosine" && o.epochs > recorded)
    throw std::runtime_error(epochs + " on --resume: this run's cosine schedule reaches learning rate 0 at epoch " +
                             std::to_string(recorded) + " (\"epochs\" in config.json), so epochs " +
                             std::to_string(recorded + 1) + "-" + std::to_string(o.epochs) +
                             " would not change the weights. Resume with --epochs " + std::to_string(recorded) +
                             " or fewer, or start a new run with " + epochs + ".");
  if (o.lr_schedule == "cosine")
    return "learning rate: the cosine schedule keeps this run's length (" + std::to_string(recorded) +
           " epochs, config.json); " + epochs + " stops the run before it reaches 0";
  if (o.lr_schedule == "step")
    return "learning rate: the step schedule goes on as recorded (x" + std::to_string(o.lr_step_factor).substr(0, 6) +
           " every " + std::to_string(o.lr_step_epochs) + " epochs); " + epochs + " only moves where the run stops";
  return "";  // constant (after any warmup): nothing depends on the epoch count
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

std::unique_ptr<Optimizer> make_optimizer(const TrainingOptions& o) {
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

std::unique_ptr<Sequential> build_model(const TrainingOptions& o) {
  auto model = load_model_spec(o.model);
  model->init(o.seed, parse_weight_init(o.init));
  model->to(parse_device(o.device));
  return model;
}

AugmentConfig augment_config(const TrainingOptions& o) {
  if (o.no_augment) return AugmentConfig::none();
  AugmentConfig aug = AugmentConfig::paper();
  aug.rotation_range = o.rotation;
  aug.width_shift = aug.height_shift = o.shift;
  aug.shear_range = o.shear;
  aug.zoom_range = o.zoom;
  aug.horizontal_flip = !o.no_flip;
  return aug;
}

static std::string augment_description(const TrainingOptions& o) {
  if (o.no_augment) return "no augmentation";
  if (o.augment_warmup == 0) return "paper augmentation";
  return "paper augmentation, growing from none over " + std::to_string(o.augment_warmup) + " epochs";
}

Dataset list_training_data(const std::string& path, const TrainingOptions& o) {
  ListOptions lo;
  lo.group_pattern = o.group_regex;
  try {
    (void)GroupPattern(o.group_regex);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--group-regex: ") + e.what());
  }
  Dataset data = list_dataset(path, lo);
  expect_two_classes(data);
  return data;
}

std::vector<int> labels_at(const Dataset& d, const std::vector<size_t>& idx) {
  std::vector<int> l;
  for (size_t i : idx) l.push_back(d.samples[i].label);
  return l;
}

namespace {

// The classes of `d` with no image among `idx`.
std::vector<std::string> missing_classes(const Dataset& d, const std::vector<size_t>& idx) {
  std::vector<bool> seen(d.classes.size(), false);
  for (size_t i : idx) seen[size_t(d.samples[i].label)] = true;
  std::vector<std::string> missing;
  for (size_t c = 0; c < seen.size(); ++c)
    if (!seen[c]) missing.push_back(d.classes[c]);
  return missing;
}

}  // namespace

void check_split_classes(const Dataset& d, const std::vector<size_t>& train, const std::vector<size_t>& val,
                         const std::vector<size_t>& test) {
  if (const auto m = missing_classes(d, train); !m.empty())
    throw std::runtime_error(d.root + ": the training images hold no '" + m.front() + "' image (" +
                             std::to_string(train.size()) + " images, all of one class): a classifier needs both "
                             "classes to learn");
  for (const auto& [name, idx] : {std::pair{"validation", &val}, std::pair{"test", &test}})
    if (!idx->empty())
      for (const std::string& c : missing_classes(d, *idx))
        std::fprintf(stderr, "radius: warning: the %s images (%zu) hold no '%s' image: its recall and precision "
                     "there are undefined\n", name, idx->size(), c.c_str());
}

std::vector<std::string> groups_at(const Dataset& d, const std::vector<size_t>& idx, bool group) {
  std::vector<std::string> g;
  if (!group) return g;
  for (size_t i : idx) g.push_back(d.samples[i].group);
  return g;
}

std::pair<std::vector<size_t>, std::vector<size_t>> split_off_validation(const Dataset& d,
                                                                         const std::vector<size_t>& idx,
                                                                         const TrainingOptions& o) {
  if (!(o.val_fraction > 0 && o.val_fraction < 1)) throw std::runtime_error("--val-fraction must be in (0, 1)");
  const auto bins =
      assign_bins(labels_at(d, idx), groups_at(d, idx, o.group), {1.0 - o.val_fraction, o.val_fraction}, o.seed);
  std::vector<size_t> train, val;
  for (size_t k = 0; k < idx.size(); ++k) (bins[k] == 1 ? val : train).push_back(idx[k]);
  return {train, val};
}

std::vector<size_t> limit_images(const Dataset& d, const std::vector<size_t>& idx, int limit, const TrainingOptions& o) {
  if (limit <= 0 || size_t(limit) >= idx.size()) return idx;
  const auto bins = assign_bins(labels_at(d, idx), groups_at(d, idx, o.group),
                                {double(limit), double(idx.size() - size_t(limit))}, o.seed + 7);
  std::vector<size_t> keep;
  for (size_t k = 0; k < idx.size(); ++k)
    if (bins[k] == 0) keep.push_back(idx[k]);
  return keep;
}

void data_parallel_micro_batches(TrainingOptions& o, bool resuming) {
  const int ranks = world().size();
  if (ranks == 1 || o.micro_batches >= ranks) return;
  if (o.micro_batches == 1 && !resuming) {
    o.micro_batches = ranks;
    return;
  }
  const std::string R = std::to_string(ranks), M = std::to_string(o.micro_batches);
  if (resuming)
    throw std::runtime_error("this run was trained with --micro-batches " + M + " (config.json), and " + R +
                             " ranks need a micro-batch each: resume it on " +
                             (o.micro_batches > 1 ? "at most " + M + " ranks" : std::string("one process")));
  throw std::runtime_error("--micro-batches " + M + " on " + R + " ranks: every rank runs at least one micro-batch; "
                           "leave it out (" + R + "), or give " + R + " or more");
}

std::string no_training_warning(const TrainingOptions& o) {
  if (o.epochs != 0) return "";
  return "--epochs 0: no training; the weights saved and evaluated are the untrained initial ones (--seed " +
         std::to_string(o.seed) + ")";
}

void write_split_csv(const std::string& path, const Dataset& data, const std::vector<size_t>& idx) {
  std::vector<CsvRow> rows{{"path", "label", "class", "group"}};
  for (size_t i : idx) {
    const Sample& s = data.samples[i];
    rows.push_back({relative_to(s.path, data.root), std::to_string(s.label), data.classes[size_t(s.label)], s.group});
  }
  write_csv(path, rows);
}

namespace {

std::string fmt_time(double s) {
  char buf[32];
  const int t = int(std::lround(s));
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
  return buf;
}

// Epoch counts become update counts here, so the schedule is a function of the step.
LrSchedule make_schedule(const TrainingOptions& o, int64_t batches_per_epoch) {
  LrSchedule s;
  s.base_lr = o.lr;
  s.warmup_steps = o.warmup_steps > 0 ? o.warmup_steps : int64_t(o.warmup_epochs) * batches_per_epoch;
  s.decay = parse_lr_decay(o.lr_schedule);
  s.total_steps = int64_t(o.schedule_epochs > 0 ? o.schedule_epochs : o.epochs) * batches_per_epoch;
  s.step_every = int64_t(o.lr_step_epochs) * batches_per_epoch;
  s.step_factor = o.lr_step_factor;
  // A warmup as long as a cosine run would leave the decay no step (a one-epoch try of the
  // advised recipe, whose warmup is one epoch): it then takes the first half of the run,
  // and none when the run has no step to share (--epochs 0 only evaluates).
  if (s.decay == LrDecay::cosine && s.warmup_steps >= s.total_steps) {
    s.warmup_steps = s.total_steps > 1 ? s.total_steps / 2 : 0;
    if (s.total_steps == 0) s.decay = LrDecay::constant;
  }
  if (s.active()) s.validate();
  return s;
}

// "health warning (epoch 2, batch 10) [dead-units] layer 10 (...): ..." once per condition, as it fires.
std::string health_line(const HealthWarning& w) {
  return "health warning (epoch " + std::to_string(w.epoch) + ", batch " + std::to_string(w.batch) + ") [" + w.code +
         "] " + w.message;
}

// Keras-like output: a line per epoch; a live bar during an epoch on a terminal.
class ConsoleObserver final : public FitObserver {
 public:
  ConsoleObserver(bool live, bool saves_best, std::string run_dir, std::vector<HistoryRow> history)
      : live_(live), best_note_(saves_best ? "  (best, saved)" : "  (best)"), run_dir_(std::move(run_dir)),
        history_(std::move(history)) {}
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
                  improved ? best_note_ : "");
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
  void on_health_warning(const HealthWarning& w) override {
    if (live_) std::printf("\r\033[K");
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", health_line(w).c_str());  // a warning: stderr, as every warning
    warnings_.push_back(w);
    write_health_json();
  }
  void on_takeoff(int64_t step, int epoch, int64_t batch) override {
    if (live_) std::printf("\r\033[K");
    std::printf("left the class prior at step %lld (epoch %d, batch %lld): the training loss over the last batches "
                "fell %.1f nats under the prior entropy\n",
                (long long)step, epoch, (long long)batch, kTakeoffMargin);
    std::fflush(stdout);
    takeoff_ = json{{"step", step}, {"epoch", epoch}, {"batch", batch}};
    write_health_json();
  }
  void on_health_epoch(const std::vector<LayerHealthRow>& rows) override {
    health_.insert(health_.end(), rows.begin(), rows.end());
    write_health_csv(run_dir_ + "/health.csv", health_);
    write_health_json();
  }
  // Resume: the rows and warnings of the epochs already run, so the files list the whole run.
  void set_health(std::vector<LayerHealthRow> rows, std::vector<HealthWarning> warnings, nlohmann::json takeoff) {
    health_ = std::move(rows);
    warnings_ = std::move(warnings);
    takeoff_ = std::move(takeoff);
  }
  const std::vector<LayerHealthRow>& health() const { return health_; }
  const std::vector<HealthWarning>& health_warnings() const { return warnings_; }

 private:
  // health.json: the warnings of the whole run (a resumed run starts from the checkpoint's).
  void write_health_json() const {
    json ws = json::array();
    for (const HealthWarning& w : warnings_)
      ws.push_back({{"code", w.code}, {"epoch", w.epoch}, {"batch", w.batch}, {"layer", w.layer}, {"message", w.message}});
    // takeoff: {step, epoch, batch} once the model left the class prior, null before.
    write_json_file(run_dir_ + "/health.json", json{{"warnings", ws}, {"takeoff", takeoff_}});
  }

  bool live_;
  const char* best_note_;
  std::string run_dir_;
  std::vector<HistoryRow> history_;
  std::vector<LayerHealthRow> health_;
  std::vector<HealthWarning> warnings_;
  json takeoff_ = nullptr;  // {step, epoch, batch} once the model left the class prior
};

void print_split_counts(const ImageCache& cache, const ModelRun& run) {
  auto count = [&](const std::vector<size_t>& pos, int c) {
    long long n = 0;
    for (size_t k : pos) n += cache.label(int64_t(k)) == c;
    return n;
  };
  std::printf("  train %zu (%lld / %lld)   val %zu (%lld / %lld, %s)   test %zu\n", run.train_pos.size(),
              count(run.train_pos, 0), count(run.train_pos, 1), run.val_pos.size(), count(run.val_pos, 0),
              count(run.val_pos, 1), run.val_source.c_str(), run.test_pos.size());
}

// The paper's recipe is fragile (shared notes): a constant output sits at loss ln 2.
std::string collapse_warning(const std::vector<HistoryRow>& history) {
  if (history.empty()) return "";
  const HistoryRow& last = history.back();
  if (std::fabs(last.train_loss - std::log(2.0)) < 0.003 &&
      (!std::isfinite(last.val_loss) || std::fabs(last.val_loss - std::log(2.0)) < 0.003))
    return "the loss is still ln 2 = 0.693: the model outputs a near-constant score (it has not learned, or "
           "it collapsed: dead ReLUs). The paper's recipe is fragile on small data: try more epochs, more "
           "images, or a lower --lr.";
  return "";
}

// The test evaluation of res.predictions with the run's report (config, history, files, warnings).
Metrics evaluate_run(const TrainingOptions& o, const Dataset& data, const ModelRun& run, const ModelRunResult& res,
                     const ConsoleObserver& observer) {
  ReportData rep;
  rep.title = run.title;
  rep.created = run.config.value("created", now_iso8601());
  rep.seed = o.seed;
  for (auto& [k, v] : run.config.items()) rep.config.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  rep.history = res.fit.history;
  rep.files = {{"history", "history.csv"}, {"weights", "weights.safetensors"}};
  if (run.checkpoints)
    rep.files.insert(rep.files.end(), {{"best checkpoint", "best.ckpt.safetensors"},
                                       {"last checkpoint", "last.ckpt.safetensors"}});
  rep.files.insert(rep.files.end(), run.files.begin(), run.files.end());
  if (!res.collapse.empty()) rep.warnings.push_back(res.collapse);
  rep.warnings.insert(rep.warnings.end(), run.warnings.begin(), run.warnings.end());
  rep.health = observer.health();
  for (const HealthWarning& w : observer.health_warnings()) rep.warnings.push_back(health_line(w));
  if (!observer.health().empty()) {
    rep.files.emplace_back("training health per layer and epoch", "health.csv");
    rep.files.emplace_back("training health warnings", "health.json");
  }
  add_synth_breakdown(rep, data.root, res.predictions, o.threshold);
  return write_evaluation(run.out, res.predictions, o.threshold, rep, run.print_evaluation);
}

// The spec as the weights' "model" metadata records it: relative to the weights'
// folder ("model.spec", or "../../model.spec" in a k-fold run's fold), so that a moved
// run folder still names it (net/inference.h resolves it against the folder).
std::string spec_relative_to(const std::string& spec, const std::string& folder) {
  std::error_code ec;
  const fs::path rel = fs::relative(fs::absolute(spec), fs::absolute(folder), ec);
  return ec || rel.empty() ? spec : rel.generic_string();
}

// Where training and validation batches come from. On the CPU the Loader's worker
// threads augment them; with a CUDA model the uint8 images and the host-drawn
// transform parameters are uploaded and warped on the device (net/device_batches.h):
// same batches, up to float rounding, without the CPU warp and with a quarter of the
// upload bytes.
struct BatchSources {
  std::vector<std::unique_ptr<Loader>> loaders;  // the CPU path's loaders (the sources refer to them)
  std::unique_ptr<BatchSource> train, val;       // val is null without validation images
  std::unique_ptr<BatchSource> recalibration;    // null unless --recalibrate-bn on a model with batch norm
};

BatchSources make_batch_sources(const ImageCache& cache, const ModelRun& run, const LoaderOptions& train_options,
                                const LoaderOptions& val_options, int recalibrate_batches, Device device) {
  BatchSources s;
  const auto make = [&](const std::vector<size_t>& items, const LoaderOptions& lo) -> std::unique_ptr<BatchSource> {
    if (device == Device::cuda) return std::make_unique<DeviceAugmentBatches>(cache, items, lo);
    s.loaders.push_back(std::make_unique<Loader>(cache, items, lo));
    return std::make_unique<LoaderBatches>(*s.loaders.back());
  };
  s.train = make(run.train_pos, train_options);
  if (!run.val_pos.empty()) s.val = make(run.val_pos, val_options);
  if (recalibrate_batches > 0) {
    // A fixed sample of the training images, drawn by the seed alone (epoch 0: no training
    // epoch's order), unaugmented and in the same order every epoch: the statistics the
    // evaluation will meet, for the weights of the moment.
    std::vector<size_t> sample;
    const std::vector<size_t> order = epoch_permutation(run.train_pos.size(), val_options.seed, 0);
    const size_t n = std::min(order.size(), size_t(recalibrate_batches) * size_t(val_options.batch_size));
    for (size_t i = 0; i < n; ++i) sample.push_back(run.train_pos[order[i]]);
    s.recalibration = make(sample, val_options);
  }
  return s;
}

// Refuses, before any batch is allocated, a run whose batch would not fit in memory:
// the step's buffers on a CPU model (a GPU model's are on the card), the loaders'
// prefetched batches (train and validation: queue depth 4 + the one in use) and the
// decoded images, against 80 % of physical memory; says what a batch that fits is.
void check_training_memory(const Sequential& model, int batch, int micro_batches, const ImageCache& cache,
                           const ModelRun& run) {
  const int64_t budget = default_memory_budget();
  if (budget <= 0) return;
  const int64_t n = std::min<int64_t>(batch, int64_t(std::max(run.train_pos.size(), run.val_pos.size())));
  const TrainingMemory step = training_memory(model);
  const bool on_host = model.device() == Device::cpu;
  // The step's buffers hold one micro-batch (rounded up); the loaders, whole batches.
  const double step_share = 1.0 / double(std::max(1, micro_batches));
  const double per_sample = (on_host ? double(step.per_sample) * step_share : 0.0) +
                            2.0 * 5.0 * double(model.input_shape().numel()) * double(sizeof(float));
  const int64_t fixed = (on_host ? step.fixed : 0) + int64_t(cache.memory_bytes());
  const int64_t need = fixed + int64_t(double(n) * per_sample);
  if (need <= budget) return;
  const int64_t fits = budget > fixed ? int64_t(double(budget - fixed) / per_sample) : 0;
  throw std::runtime_error("--batch " + std::to_string(batch) + " needs about " + human_bytes(need) +
                           " of memory (" + human_bytes(need - fixed) + " for batches of " + std::to_string(n) +
                           ", " + human_bytes(fixed) + " for the weights, optimizer state and decoded images), over the " +
                           human_bytes(budget) + " Radius allows itself (80 % of this machine's memory): " +
                           (fits > 0 ? "a batch of at most " + std::to_string(fits) + " fits" : "use fewer images") +
                           " (--micro-batches N divides the step's share)");
}

// The test images' predictions on every rank. In an MPI job the batches are shared out
// (rank r predicts batches r, r + R, ...: the same batches as one process, so the same
// bits) and gathered in order.
std::vector<Prediction> predict_test_set(Sequential& model, const Dataset& data, const ImageCache& cache,
                                         const std::vector<size_t>& positions, int batch) {
  Communicator& c = world();
  if (c.size() == 1) return predict_positions(model, data, cache, positions, batch);
  const size_t per = size_t(batch), batches = (positions.size() + per - 1) / per, ranks = size_t(c.size());
  std::vector<size_t> mine;  // whole batches: the Loader cuts them again where one process did
  for (size_t b = size_t(c.rank()); b < batches; b += ranks)
    mine.insert(mine.end(), positions.begin() + long(b * per), positions.begin() + long(std::min((b + 1) * per, positions.size())));
  json sent = json::array();
  for (const Prediction& p : predict_positions(model, data, cache, mine, batch)) sent.push_back({p.path, p.label, p.score});
  std::vector<json> from;  // each rank's predictions, in its batches' order
  for (const std::string& text : c.allgather(sent.dump())) from.push_back(json::parse(text));
  std::vector<Prediction> all;
  std::vector<size_t> next(ranks, 0);
  for (size_t b = 0; b < batches; ++b) {
    const size_t owner = b % ranks, n = std::min((b + 1) * per, positions.size()) - b * per;
    for (size_t i = 0; i < n; ++i, ++next[owner]) {
      const json& p = from[owner].at(next[owner]);
      all.push_back({p.at(0).get<std::string>(), p.at(1).get<int>(), p.at(2).get<double>()});
    }
  }
  return all;
}

}  // namespace

ModelRunResult train_and_evaluate(const TrainingOptions& o, Sequential& model, Optimizer& optimizer,
                                  const Dataset& data, const ImageCache& cache, const ModelRun& run) {
  const auto t_start = std::chrono::steady_clock::now();
  if (run.train_pos.empty()) throw std::runtime_error("no readable training images (see bad_files.csv)");
  check_training_memory(model, o.batch, o.micro_batches, cache, run);
  const bool writer = writes_outputs();  // rank 0 of an MPI job, or the only process
  if (writer) fs::create_directories(run.out);
  print_split_counts(cache, run);

  LoaderOptions tl;
  tl.batch_size = o.batch;
  tl.augment = augment_config(o);
  tl.augment_warmup_epochs = o.no_augment ? 0 : o.augment_warmup;
  tl.seed = o.seed;
  LoaderOptions vl = tl;
  vl.augment = AugmentConfig::none();
  vl.shuffle = false;
  const int recalibrate = model.num_buffers() > 0 ? o.recalibrate_bn : 0;  // only batch norm keeps running statistics
  BatchSources sources = make_batch_sources(cache, run, tl, vl, recalibrate, model.device());
  BatchSource& train_batches = *sources.train;
  BatchSource* val_batches = sources.val.get();

  FitOptions fo;
  fo.max_epochs = o.epochs;
  fo.patience = o.patience;
  fo.min_delta = o.min_delta;
  if (run.checkpoints) {
    fo.last_checkpoint = run.out + "/last.ckpt.safetensors";
    fo.best_checkpoint = run.out + "/best.ckpt.safetensors";
  }
  fo.seed = o.seed;
  fo.config = run.config;
  fo.lr_schedule = make_schedule(o, train_batches.batches_per_epoch());
  fo.clip_norm = o.clip_norm;
  fo.micro_batches = o.micro_batches;
  fo.health.every = o.health_every;
  fo.recalibration = sources.recalibration.get();
  if (world().size() > 1) fo.comm = &world();

  CheckpointState state;
  if (run.resume) {
    state = apply_checkpoint(*run.resume, run.out + "/last.ckpt.safetensors", model, &optimizer);
    std::printf("resuming %s after epoch %d (best epoch %d)\n", run.out.c_str(), state.epoch, state.best_epoch);
  }
  const std::string ranks = fo.comm ? " per rank; " + fo.comm->describe() + " (a micro-batch each)" : std::string();
  std::printf("model: %s, %lld parameters, input %lldx%lldx%lld; %s, batch %d, %s, %d threads%s, device %s\n",
              o.model.c_str(), (long long)model.num_params(), (long long)model.input_shape()[1],
              (long long)model.input_shape()[2], (long long)model.input_shape()[0], optimizer.describe().c_str(),
              o.batch, augment_description(o).c_str(), num_threads(), ranks.c_str(), o.device.c_str());
  std::printf("recipe: %s init, learning rate %s%s%s; health checks %s\n", o.init.c_str(),
              fo.lr_schedule.active() ? fo.lr_schedule.describe().c_str() : "constant",
              o.clip_norm > 0 ? (", gradient norm clipped at " + std::to_string(o.clip_norm)).c_str() : "",
              recalibrate > 0 ? (", batch norm re-estimated on " + std::to_string(recalibrate) +
                                 " unaugmented training batches before each validation").c_str() : "",
              o.health_every > 0 ? ("every " + std::to_string(o.health_every) + " batches (health.csv)").c_str() : "off");

  ConsoleObserver observer(!o.quiet && isatty(fileno(stdout)), run.checkpoints, run.out, state.history);
  if (run.resume) {  // keep the statistics and warnings of the epochs already run, not those of a killed epoch
    std::vector<LayerHealthRow> kept;
    if (fs::exists(run.out + "/health.csv"))
      for (const LayerHealthRow& row : read_health_csv(run.out + "/health.csv"))
        if (row.epoch <= state.epoch) kept.push_back(row);
    // The takeoff health.json names, if the checkpoint had reached it (a killed epoch's is found again).
    json takeoff = nullptr;
    if (state.health && state.health->takeoff_step >= 0 && fs::exists(run.out + "/health.json")) {
      const json old = read_json_file(run.out + "/health.json");
      if (old.contains("takeoff") && old["takeoff"].is_object() &&
          old["takeoff"].value("step", int64_t(-1)) == state.health->takeoff_step)
        takeoff = old["takeoff"];
    }
    observer.set_health(std::move(kept), state.health ? state.health->warnings : std::vector<HealthWarning>{},
                        takeoff);
  }
  ModelRunResult res;
  res.fit = fit(model, optimizer, train_batches, val_batches, fo, writer ? &observer : nullptr,
                run.resume ? &state : nullptr);
  const FitResult& r = res.fit;
  if (!run.test_pos.empty()) res.predictions = predict_test_set(model, data, cache, run.test_pos, o.batch);
  if (!writer) return res;  // every output below is rank 0's
  if (fo.comm && r.step_seconds > 0)
    std::printf("data parallel (%s): the gradient all-reduce took %.1f %% of the training steps (%.3f s of %.3f s)\n",
                fo.comm->describe().c_str(), 100.0 * r.allreduce_seconds / r.step_seconds, r.allreduce_seconds,
                r.step_seconds);
  write_history_csv(run.out + "/history.csv", r.history);
  write_learning_curves(run.out, r.history);
  const int epoch = r.best_epoch > 0 ? r.best_epoch : r.state.epoch;
  save_weights(model, run.out + "/weights.safetensors",
               {{"model", spec_relative_to(o.model, run.out)}, {"seed", std::to_string(o.seed)}, {"epoch", std::to_string(epoch)}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::printf("wrote %s/weights.safetensors (%s weights), history.csv%s; %s\n", run.out.c_str(),
              r.best_epoch > 0 ? ("best: epoch " + std::to_string(r.best_epoch)).c_str() : "final",
              run.checkpoints ? ", checkpoints" : "", fmt_time(seconds).c_str());

  res.collapse = collapse_warning(r.history);
  if (!res.collapse.empty()) print_warning(res.collapse);
  if (!run.test_pos.empty()) {
    if (run.print_evaluation) std::printf("\ntest set (%zu images), fractured = positive:\n", run.test_pos.size());
    res.test = evaluate_run(o, data, run, res, observer);
  }
  return res;
}

}  // namespace radius::app
