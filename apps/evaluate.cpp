// radius evaluate RUN_DIR|WEIGHTS DATA: predicts a split of DATA with trained
// weights and writes the evaluation (fractured = positive, as the paper).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "apps/run_common.h"
#include "apps/training.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace fs = std::filesystem;

namespace {

struct EvaluateCommand {
  std::string target, data, split = "test", model, out, device = "cpu";
  double threshold = 0.5;
  int batch = 32, threads = 0;
};

// The class names the run trained on (config.json "classes"), or none for a bare weights file.
std::vector<std::string> recorded_classes(const std::string& target) {
  const fs::path config = fs::path(fs::is_directory(target) ? target : fs::path(target).parent_path().string()) /
                          "config.json";
  if (!fs::is_regular_file(config)) return {};
  const nlohmann::json j = read_json_file(config.string());
  return j.contains("classes") && j["classes"].is_array() ? j["classes"].get<std::vector<std::string>>()
                                                          : std::vector<std::string>{};
}

void run_evaluate(EvaluateCommand o) {
  set_num_threads(o.threads);
  // The spec: --model, else the run's (config.json, or the weights file's metadata), else the paper's.
  const ModelFiles files = locate_model(o.target, o.model.empty() ? default_model_path() : o.model, !o.model.empty());
  const std::string base_dir = fs::is_directory(o.target) ? o.target : fs::path(files.weights).parent_path().string();
  if (o.out.empty()) o.out = (base_dir.empty() ? std::string(".") : base_dir) + "/eval-" + o.split;
  auto model = load_trained_model(files);  // a checkpoint works too
  const std::string& weights = files.weights;
  o.model = files.spec;
  model->to(parse_device(o.device));

  const Dataset data = list_dataset(o.data);
  expect_two_classes(data);
  if (const auto trained = recorded_classes(o.target); !trained.empty() && trained != data.classes)
    std::fprintf(stderr, "radius evaluate: warning: %s names its classes %s / %s, the run trained on %s / %s "
                 "(config.json): labels are compared by index\n", o.data.c_str(), data.classes[0].c_str(),
                 data.classes[1].c_str(), trained.front().c_str(), trained.back().c_str());
  const bool split_folders = data.has_split("train") || data.has_split("val") || data.has_split("test");
  std::vector<size_t> idx;
  if (split_folders) {
    if (!data.has_split(o.split)) throw std::runtime_error("'" + o.data + "' has no " + o.split + "/ split");
    idx = data.indices(o.split);
  } else {
    idx = data.indices("");
    std::printf("'%s' has no split folders: evaluating all %zu images\n", o.data.c_str(), idx.size());
  }
  const ImageCache cache(data, idx, cache_options_for(*model, o.threads));
  std::printf("%s\n", cache.summary().c_str());
  fs::create_directories(o.out);
  if (!cache.bad_files().empty()) write_bad_files_csv(cache, o.out + "/bad_files.csv");
  const auto positions = cache.positions_of(idx);
  const auto preds = predict_positions(*model, data, cache, positions, o.batch);
  std::printf("%s split of %s: %zu images, weights %s, threshold %g, fractured = positive\n", o.split.c_str(),
              o.data.c_str(), preds.size(), weights.c_str(), o.threshold);
  ReportData rep;
  rep.title = "Radius evaluation: " + weights;
  rep.created = now_iso8601();
  rep.config = {{"weights", weights}, {"model", o.model}, {"data", o.data}, {"split", o.split},
                {"threshold", std::to_string(o.threshold)}};
  if (!cache.bad_files().empty())
    rep.warnings.push_back(std::to_string(cache.bad_files().size()) + " unreadable image(s) skipped (bad_files.csv)");
  add_synth_breakdown(rep, data.root, preds, o.threshold);
  write_evaluation(o.out, preds, o.threshold, rep);
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("evaluate", "Evaluate trained weights on a data split: confusion matrix, every metric, report");
  auto o = std::make_shared<EvaluateCommand>();
  cmd->add_option("MODEL", o->target, "A run directory (weights.safetensors + config.json) or a weights/checkpoint file")
      ->required();
  cmd->add_option("DATA", o->data, "Data folder")->required();
  cmd->add_option("--split", o->split, "Split folder to evaluate")->capture_default_str();
  add_shared_flag(*cmd, "--model", o->model, "Model spec (default: the run's, else models/paper.spec)");
  add_shared_flag(*cmd, "--out", o->out, "Output directory (default: <run or weights folder>/eval-<split>)");
  add_shared_flag(*cmd, "--threshold", o->threshold);
  add_shared_flag(*cmd, "--batch", o->batch);
  add_shared_flag(*cmd, "--threads", o->threads);
  add_shared_flag(*cmd, "--device", o->device);
  cmd->callback([o] { run_evaluate(*o); });
}

}  // namespace radius::app
