// radius predict MODEL IMAGE|DIR...: P(fractured) and the predicted class per image,
// as a table, a CSV or a JSON file, and with --explain a Grad-CAM overlay per image.
//
// MODEL: a weights .safetensors file, or a run directory holding weights.safetensors
// (and config.json, whose "model" key names the spec file the run trained). The spec
// is, in order: --model when given, config.json's "model", models/paper.spec.
//
// Images are read like Keras' load_img at evaluation time: decoded in the model's
// colour mode (3 channels: RGB, gray replicated; 1: gray), resized to the model's
// input with nearest (Keras' default) or bilinear, rescaled by 1/255.
//
// Classes are Keras' alphabetical class folders: 0 = fractured, 1 = not fractured.
// The network's sigmoid output is P(not fractured) = the "score" of eval/metrics.h;
// predicted class = score > threshold ? 1 : 0 (predict_class), P(fractured) = 1 - score.
// An image under a folder named "fractured" or "not fractured" gets that label, and so
// does every row of a CSV manifest given as an input (path,label[,group][,split], the
// format of data/dataset.h: its rows are the images, its labels theirs, whatever the
// split column says), so `radius metrics` can read the CSV (path,label,score,... like
// eval/predictions_csv.h); otherwise its label is empty (JSON: null) and the CSV is a
// prediction list only.
//
// Unreadable images (empty, truncated, corrupt, not an image) are skipped, listed
// with their reason on stderr and in the output file, and never stop the run; the
// command fails only when no image at all could be predicted.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "apps/run_common.h"
#include "data/dataset.h"
#include "data/decode.h"
#include "data/encode.h"
#include "data/image_cache.h"
#include "data/resize.h"
#include "io/atomic_file.h"
#include "kernels/formulas.h"
#include "eval/metrics.h"
#include "eval/predictions_csv.h"
#include "net/gradcam.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "tensor/device_memory.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kClassNames[2] = {"fractured", "not fractured"};

struct PredictCommand {
  std::string model;                 // weights file or run directory
  std::vector<std::string> inputs;   // images and folders
  std::string spec;                  // --model
  std::string out;                   // .csv or .json
  double threshold = 0.5;
  std::string explain;               // Grad-CAM overlay folder
  int layer = -1;                    // Grad-CAM layer
  float alpha = 0.4f;                // overlay opacity
  int batch = 32;
  int threads = 0;
  std::string device = "cpu";
  std::string interpolation = "nearest";
  bool quiet = false;
};

struct Row {
  std::string path;
  int label = -1;           // -1: unknown
  double score = 0;         // P(not fractured)
  int predicted = 0;
  std::string gradcam;      // overlay file, when --explain
};

struct Skipped {
  std::string path, reason, message;
};

// The Kaggle layout names the true class in the parent folder.
int label_from_path(const std::string& path) {
  const std::string parent = fs::path(path).parent_path().filename().string();
  for (int c = 0; c < 2; ++c)
    if (parent == kClassNames[c]) return c;
  return -1;
}

struct Input {
  std::string path;
  int label = -1;  // -1: unknown
};

// A CSV manifest's rows, with their labels (data/dataset.h reads it: paths relative to the
// manifest, labels by class name or index, as train reads it).
std::vector<Input> manifest_inputs(const std::string& manifest) {
  const Dataset d = list_dataset(manifest);
  if (d.classes.size() > 2)
    throw std::runtime_error(manifest + ": " + std::to_string(d.classes.size()) +
                             " classes; predict's model tells 2 apart (fractured, not fractured)");
  std::vector<Input> rows;
  for (const Sample& s : d.samples) rows.push_back({s.path, s.label});
  return rows;
}

// What to predict: each input file as given (a .csv file: a manifest's rows), each
// folder's image files (recursive, sorted).
std::vector<Input> list_inputs(const std::vector<std::string>& inputs) {
  std::vector<Input> files;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (!it->is_directory() && has_image_extension(it->path().string())) found.push_back(it->path().string());
      if (ec) throw std::runtime_error(in + ": cannot list: " + ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty()) std::fprintf(stderr, "radius predict: warning: %s: no image files\n", in.c_str());
      for (const std::string& f : found) files.push_back({f, label_from_path(f)});
    } else if (fs::exists(in, ec) && fs::path(in).extension() == ".csv") {
      const std::vector<Input> rows = manifest_inputs(in);
      files.insert(files.end(), rows.begin(), rows.end());
    } else if (fs::exists(in, ec)) {
      files.push_back({in, label_from_path(in)});
    } else {
      throw std::runtime_error(in + ": no such image file or directory");
    }
  }
  return files;
}

std::string overlay_name(const std::string& path, std::set<std::string>& used) {
  const std::string stem = fs::path(path).stem().string();
  std::string name = stem + "_gradcam.png";
  for (int k = 2; used.count(name); ++k) name = stem + "_" + std::to_string(k) + "_gradcam.png";
  used.insert(name);
  return name;
}

// predictions.csv in the one layout train and evaluate write too (eval/predictions_csv.h).
void write_csv_out(const std::string& path, const std::vector<Row>& rows, double threshold) {
  std::vector<Prediction> out;
  for (const Row& r : rows) out.push_back({r.path, r.label, r.score, r.gradcam});
  write_predictions_csv(path, out, threshold);  // skipped files have no room here: stderr and JSON list them
}

void write_json_out(const std::string& path, const PredictCommand& o, const ModelFiles& mf,
                    const std::vector<Row>& rows, const std::vector<Skipped>& skipped) {
  json j;
  j["model"] = {{"weights", mf.weights}, {"spec", mf.spec}};
  j["threshold"] = o.threshold;
  j["classes"] = {kClassNames[0], kClassNames[1]};
  j["score"] = "P(not fractured); predicted class = score > threshold ? 1 : 0";
  json preds = json::array();
  for (const Row& r : rows) {
    json p = {{"path", r.path},
              {"label", r.label < 0 ? json(nullptr) : json(r.label)},
              {"score", r.score},
              {"p_fractured", 1.0 - r.score},
              {"p_not_fractured", r.score},
              {"predicted", r.predicted},
              {"class", kClassNames[r.predicted]}};
    if (!r.gradcam.empty()) p["gradcam"] = r.gradcam;
    preds.push_back(std::move(p));
  }
  j["predictions"] = std::move(preds);
  json bad = json::array();
  for (const Skipped& s : skipped) bad.push_back({{"path", s.path}, {"reason", s.reason}, {"message", s.message}});
  j["skipped"] = std::move(bad);
  write_file_atomic(path, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void run_predict(const PredictCommand& o, bool spec_given) {
  set_num_threads(o.threads);
  if (!o.out.empty() && !o.out.ends_with(".csv") && !o.out.ends_with(".json"))
    throw std::runtime_error("--out " + o.out + ": the file name must end in .csv or .json");
  Device device = Device::cpu;
  if (o.device == "cuda") {
    if (!cuda_available()) throw std::runtime_error("--device cuda: this build or machine has no CUDA device");
    device = Device::cuda;
  }
  const Interpolation interp = o.interpolation == "bilinear" ? Interpolation::bilinear : Interpolation::nearest;

  const ModelFiles mf = locate_model(o.model, o.spec, spec_given);
  std::unique_ptr<Sequential> model = load_trained_model(mf);
  const Shape& in = model->input_shape();
  expect_image_model(*model, mf.spec, "predict");
  const int C = int(in[0]), H = int(in[1]), W = int(in[2]);
  if (model->output_shape().numel() != 1)
    throw std::runtime_error(mf.spec + ": predict needs one output unit (a sigmoid over fractured vs not), got " +
                             model->output_shape().str());
  model->to(device);
  if (!o.quiet)
    std::printf("model: %s (spec %s, %s), input %dx%dx%d, threshold %.3g on P(not fractured)\n", mf.weights.c_str(),
                mf.spec.c_str(), mf.spec_source.c_str(), H, W, C, o.threshold);
  if (!o.explain.empty()) {
    // Fail before decoding anything when there is nothing to explain.
    const size_t layer = o.layer < 0 ? gradcam_default_layer(*model) : size_t(o.layer);
    if (layer >= model->size() || model->layer_output(layer).rank() != 3 ||
        (model->has_sigmoid_head() && layer + 1 == model->size()))
      throw std::runtime_error("--layer " + std::to_string(o.layer) + ": Grad-CAM needs a layer with a [channels, "
                               "height, width] output (a conv2d, its activation or a pooling layer)");
    fs::create_directories(o.explain);
    if (!o.quiet)
      std::printf("Grad-CAM: layer %zu (%s), output %s\n", layer, model->layer(layer).describe().c_str(),
                  model->layer_output(layer).str().c_str());
  }

  const std::vector<Input> files = list_inputs(o.inputs);

  std::vector<Row> rows;
  std::vector<Skipped> skipped;
  std::set<std::string> used_names;
  const size_t plane = size_t(H) * size_t(W);
  for (size_t begin = 0; begin < files.size();) {
    // Decode until the batch is full (bad files do not count).
    std::vector<std::string> paths;
    std::vector<int> labels;
    std::vector<Image> originals;
    std::vector<float> pixels;
    for (; begin < files.size() && int(paths.size()) < o.batch; ++begin) {
      const std::string& path = files[begin].path;
      try {
        // 16-bit PNGs and DICOM stay 16-bit, as training cached them; the overlays draw on 8 bits.
        Image img = decode_image(path, color_mode_for(in), full_depth());
        append_model_input(img, in, interp, pixels);
        paths.push_back(path);
        labels.push_back(files[begin].label);
        if (!o.explain.empty()) originals.push_back(img.depth == 8 ? std::move(img) : convert_depth(img, 8));
      } catch (const DecodeError& e) {
        skipped.push_back({path, failure_id(e.reason()), e.what()});
      } catch (const std::exception& e) {
        skipped.push_back({path, "error", path + ": " + e.what()});
      }
    }
    if (paths.empty()) continue;
    const int64_t n = int64_t(paths.size());
    Tensor x = Tensor::from_vector(Shape{n, int64_t(C), int64_t(H), int64_t(W)}, pixels);
    if (device != Device::cpu) x = x.to(device);

    std::vector<double> scores(static_cast<size_t>(n));
    GradCam cam;
    if (!o.explain.empty()) {
      GradCamOptions go;
      go.layer = o.layer;
      go.threshold = o.threshold;
      cam = grad_cam(*model, x, go);
      for (int64_t i = 0; i < n; ++i) scores[size_t(i)] = formula::stable_sigmoid(double(cam.logits[size_t(i)]));
    } else {
      const std::vector<float> p = model->predict(x).to(Device::cpu).to_vector();
      for (int64_t i = 0; i < n; ++i) scores[size_t(i)] = p[size_t(i)];
    }
    for (int64_t i = 0; i < n; ++i) {
      Row r;
      r.path = paths[size_t(i)];
      r.label = labels[size_t(i)];
      r.score = scores[size_t(i)];
      r.predicted = predict_class(r.score, o.threshold);
      if (!o.explain.empty()) {
        try {
          Image base = std::move(originals[size_t(i)]);
          // Keep overlays a viewable size: the longer side at most 1024 px.
          const int longest = std::max(base.width, base.height);
          if (longest > 1024)
            base = resize(base, std::max(1, base.width * 1024 / longest), std::max(1, base.height * 1024 / longest),
                          Interpolation::bilinear);
          const Image over = overlay_heatmap(base, cam.heatmap.cpu() + i * int64_t(plane), W, H, o.alpha);
          const std::string file = (fs::path(o.explain) / overlay_name(r.path, used_names)).string();
          encode_png(over, file);
          r.gradcam = file;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "radius predict: warning: %s: no Grad-CAM overlay: %s\n", r.path.c_str(), e.what());
        }
      }
      rows.push_back(std::move(r));
    }
  }

  // The table.
  if (!o.quiet && !rows.empty()) {
    size_t width = 4;
    for (const Row& r : rows) width = std::max(width, r.path.size());
    width = std::min<size_t>(width, 70);
    std::printf("\n%-*s  %11s  %-13s  %-13s\n", int(width), "path", "P(fractured)", "predicted", "label");
    for (const Row& r : rows) {
      std::string shown = r.path.size() > width ? "..." + r.path.substr(r.path.size() - width + 3) : r.path;
      std::printf("%-*s  %11.4f  %-13s  %-13s\n", int(width), shown.c_str(), 1.0 - r.score, kClassNames[r.predicted],
                  r.label < 0 ? "" : kClassNames[r.label]);
    }
  }
  int fractured = 0, known = 0, correct = 0;
  for (const Row& r : rows) {
    fractured += r.predicted == 0;
    if (r.label >= 0) ++known, correct += r.label == r.predicted;
  }
  for (const Skipped& s : skipped)
    std::fprintf(stderr, "radius predict: skipped %s (%s)\n", s.message.c_str(), s.reason.c_str());
  if (!o.quiet) {
    std::printf("\n%zu images: %d fractured, %zu not fractured", rows.size(), fractured, rows.size() - size_t(fractured));
    if (known > 0) std::printf("; accuracy %.4f on the %d with a known label", double(correct) / known, known);
    if (!skipped.empty()) std::printf("; %zu skipped (unreadable)", skipped.size());
    std::printf("\n");
    if (!o.explain.empty()) std::printf("Grad-CAM overlays: %s\n", o.explain.c_str());
  }

  if (!o.out.empty()) {
    if (o.out.ends_with(".json")) write_json_out(o.out, o, mf, rows, skipped);
    else write_csv_out(o.out, rows, o.threshold);
    if (!o.quiet) std::printf("wrote %s\n", o.out.c_str());
  }
  if (rows.empty())
    throw std::runtime_error(files.empty() ? "no image files to predict" : "none of the " + std::to_string(files.size()) +
                                                                               " files could be read as an image");
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "predict", "P(fractured) and the predicted class per X-ray (table, CSV or JSON); --explain adds Grad-CAM overlays");
  auto o = std::make_shared<PredictCommand>();
  o->spec = default_model_path();
  cmd->add_option("model", o->model, "Weights (.safetensors) or a run directory with weights.safetensors")->required();
  cmd->add_option("inputs", o->inputs,
                  "Image files, folders (searched recursively) and/or CSV manifests (path,label[,group][,split])")
      ->required();
  auto* spec = add_shared_flag(*cmd, "--model", o->spec,
                               "Model spec file (default: the run's config.json \"model\", else models/paper.spec)");
  add_shared_flag(*cmd, "--out", o->out,
                  "Write the predictions to FILE.csv (path,label,score,p_fractured,class,gradcam; score = "
                  "P(not fractured)) or FILE.json");
  add_shared_flag(*cmd, "--threshold", o->threshold);
  cmd->add_option("--explain", o->explain, "Write a Grad-CAM overlay <stem>_gradcam.png per image to this folder");
  add_number(*cmd, "--layer", o->layer, "Grad-CAM: layer index to explain (-1: the last conv layer's output)",
             {-1.0, std::nullopt});
  add_number(*cmd, "--alpha", o->alpha, "Grad-CAM: heat-map opacity over the X-ray", closed(0, 1));
  add_shared_flag(*cmd, "--batch", o->batch);
  add_shared_flag(*cmd, "--threads", o->threads);
  add_shared_flag(*cmd, "--device", o->device);
  cmd->add_option("--interpolation", o->interpolation, "Resize to the model input: nearest (Keras' default) or bilinear")
      ->capture_default_str()->check(CLI::IsMember({"nearest", "bilinear"}));
  add_shared_flag(*cmd, "--quiet", o->quiet);
  cmd->callback([o, spec] { run_predict(*o, spec->count() > 0); });
}

}  // namespace radius::app
