#include "apps/run_common.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "data/loader.h"
#include "data/synth_truth.h"
#include "io/atomic_file.h"
#include "eval/plot.h"
#include "net/safetensors.h"
#include "net/spec.h"

namespace radius::app {

namespace fs = std::filesystem;

ImageCacheOptions cache_options_for(const Sequential& model, int threads) {
  const Shape& in = model.input_shape();
  if (in.rank() != 3) throw std::runtime_error("the model's input is not [C, H, W]");
  ImageCacheOptions o;
  o.channels = int(in[0]);
  o.height = int(in[1]);
  o.width = int(in[2]);
  o.threads = threads;
  return o;
}

ModelFiles locate_model(const std::string& model_path, const std::string& spec, bool spec_given) {
  ModelFiles f;
  const fs::path model(model_path);
  std::error_code ec;
  if (!fs::exists(model, ec)) throw std::runtime_error(model_path + ": no such model file or run directory");
  std::string config_spec;
  if (fs::is_directory(model, ec)) {
    f.weights = (model / "weights.safetensors").string();
    if (!fs::is_regular_file(f.weights, ec))
      throw std::runtime_error(model_path + ": a directory without weights.safetensors (expected a run directory or a .safetensors file)");
    const fs::path config = model / "config.json";
    if (fs::is_regular_file(config, ec)) {
      std::ifstream in(config);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(in);
      } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(config.string() + ": not valid JSON: " + e.what());
      }
      if (j.is_object() && j.contains("model") && j["model"].is_string()) {
        config_spec = j["model"].get<std::string>();
        // A relative spec path: as written (from where training ran), else beside the run.
        if (fs::path(config_spec).is_relative() && !fs::exists(config_spec, ec) && fs::exists(model / config_spec, ec))
          config_spec = (model / config_spec).string();
      }
    }
  } else {
    f.weights = model_path;
  }
  if (spec_given) f.spec = spec, f.spec_source = "--model";
  else if (!config_spec.empty()) f.spec = config_spec, f.spec_source = "config.json";
  else f.spec = spec, f.spec_source = "default";
  return f;
}

std::unique_ptr<Sequential> load_trained_model(const ModelFiles& files) {
  std::unique_ptr<Sequential> model = load_model_spec(files.spec);
  model->init(0);
  try {
    load_weights(*model, files.weights);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + "\n(the weights do not fit the spec " + files.spec + " [" +
                             files.spec_source + "]; pass the spec the model was trained with as --model)");
  }
  return model;
}

void expect_image_model(const Sequential& model, const std::string& spec, const std::string& who) {
  const Shape& in = model.input_shape();
  if (in.rank() != 3 || (in[0] != 1 && in[0] != 3))
    throw std::runtime_error(spec + ": " + who + " needs an image model with 1 or 3 input channels, input is " + in.str());
}

ColorMode color_mode_for(const Shape& input) { return input[0] == 1 ? ColorMode::gray : ColorMode::rgb; }

void append_model_input(const Image& decoded, const Shape& input, Interpolation interp, std::vector<float>& out) {
  const int C = int(input[0]), H = int(input[1]), W = int(input[2]);
  const Image small = resize(decoded, W, H, interp);  // HWC
  const size_t plane = size_t(H) * size_t(W), base = out.size();
  out.resize(base + size_t(C) * plane);
  for (int c = 0; c < C; ++c)
    for (size_t p = 0; p < plane; ++p)
      out[base + size_t(c) * plane + p] = float(small.pixels[p * size_t(C) + size_t(c)]) * (1.0f / 255.0f);
}

std::string relative_to(const std::string& path, const std::string& root) {
  std::error_code ec;
  const fs::path rel = fs::relative(path, root, ec);
  if (ec || rel.empty() || rel.string().rfind("..", 0) == 0) return path;
  return rel.string();
}

std::vector<Prediction> predict_positions(Sequential& model, const Dataset& data, const ImageCache& cache,
                                          const std::vector<size_t>& positions, int64_t batch) {
  std::vector<Prediction> out;
  if (positions.empty()) return out;
  LoaderOptions lo;
  lo.batch_size = batch;
  lo.shuffle = false;
  lo.augment = AugmentConfig::none();
  Loader loader(cache, positions, lo);
  loader.start_epoch(0);
  Batch b;
  while (loader.next(b)) {
    Tensor x = model.device() == Device::cpu ? b.images : b.images.to(model.device());
    const std::vector<float> p = model.predict(x).to_vector();
    for (int64_t i = 0; i < b.size(); ++i) {
      const size_t k = b.items[size_t(i)];
      Prediction pr;
      pr.path = relative_to(data.samples[cache.sample_index(int64_t(k))].path, data.root);
      pr.label = cache.label(int64_t(k));
      pr.score = double(p[size_t(i)]);
      out.push_back(std::move(pr));
    }
  }
  return out;
}

void add_synth_breakdown(ReportData& report, const std::string& data_root, const std::vector<Prediction>& predictions,
                         double threshold) {
  std::error_code ec;
  const fs::path truth = fs::path(data_root) / "synth.csv";
  if (!fs::is_directory(data_root, ec) || !fs::exists(truth, ec)) return;
  try {
    report.breakdown = synth_breakdown(read_synth_truth_csv(truth.string()), predictions, threshold);
  } catch (const std::exception& e) {
    report.warnings.push_back("no breakdown by what each image shows: " + truth.string() + ": " + e.what());
  }
}

void write_learning_curves(const std::string& out_dir, const std::vector<HistoryRow>& history) {
  if (history.empty()) return;
  const LearningCurves c = plot_learning_curves(history);
  save_png(c.loss, out_dir + "/learning_curve_loss.png");
  save_png(c.accuracy, out_dir + "/learning_curve_accuracy.png");
}

Metrics write_evaluation(const std::string& out_dir, const std::vector<Prediction>& predictions, double threshold,
                         ReportData report, bool print) {
  if (predictions.empty()) throw std::runtime_error("nothing to evaluate: no images were predicted");
  fs::create_directories(out_dir);
  const std::vector<int> labels = labels_of(predictions);
  const std::vector<double> scores = scores_of(predictions);
  const Metrics m = compute_metrics(labels, scores, threshold, 0);
  const RocCurve roc = roc_curve(labels, scores, 0);
  const OperatingPoint op = operating_point_for_sensitivity(roc, 0.95);
  report.metrics = m;
  report.roc = roc;
  report.operating_point = op;
  if (op.met) report.operating_metrics = compute_metrics(labels, scores, op.threshold, 0);
  report.sweep = threshold_sweep(labels, scores, default_sweep_thresholds(), 0);
  if (m.confusion.predicted(0) == 0 || m.confusion.predicted(1) == 0)
    report.warnings.push_back("the model predicts a single class for every image (collapse): the metrics "
                              "of the other class are zero");
  write_predictions_csv(out_dir + "/predictions.csv", predictions);
  save_png(plot_confusion_matrix(m), out_dir + "/confusion_matrix.png");
  save_png(plot_roc(roc, op), out_dir + "/roc.png");
  report.files.emplace_back("predictions (path, label, score)", "predictions.csv");
  report.files.emplace_back("metrics", "metrics.json");
  report.files.emplace_back("confusion matrix", "confusion_matrix.png");
  report.files.emplace_back("ROC curve", "roc.png");
  if (!report.history.empty()) {
    write_learning_curves(out_dir, report.history);
    report.files.emplace_back("learning curve (loss)", "learning_curve_loss.png");
    report.files.emplace_back("learning curve (accuracy)", "learning_curve_accuracy.png");
  }
  write_metrics_json(out_dir + "/metrics.json", report);
  write_report_html(out_dir + "/report.html", report);
  if (print) {
    std::printf("%s\n%s\n", confusion_table(m).c_str(), classification_report(m).c_str());
    if (op.met)
      std::printf("operating point for >= 95%% fracture sensitivity: threshold %.4f, sensitivity %.3f, "
                  "specificity %.3f\n",
                  op.threshold, op.sensitivity, op.specificity);
    if (!report.breakdown.empty())
      std::printf("what it gets right, by what the image shows (synth.csv):\n%s",
                  breakdown_table(report.breakdown).c_str());
    std::printf("wrote %s/{metrics.json,predictions.csv,confusion_matrix.png,roc.png,report.html}\n",
                out_dir.c_str());
  }
  return m;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read '" + path + "'");
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("'" + path + "' is not valid JSON: " + e.what());
  }
}

void write_json_file(const std::string& path, const nlohmann::json& j) { write_file_atomic(path, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"); }

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace radius::app
