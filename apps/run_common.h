// What train, evaluate (and predict/kfold) share: predicting a list of samples,
// and writing an evaluation (metrics.json, predictions.csv, PNGs, report.html).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/decode.h"
#include "data/resize.h"
#include "data/image_cache.h"
#include "eval/predictions_csv.h"
#include "eval/report.h"
#include "net/sequential.h"

namespace radius::app {

// The image cache options for a model: its input [C, H, W].
ImageCacheOptions cache_options_for(const Sequential& model, int threads);

// P(class 1) for each cache position (eval mode, rescale only, in order), with the
// sample's path (relative to the data root when possible) and label.
std::vector<Prediction> predict_positions(Sequential& model, const Dataset& data, const ImageCache& cache,
                                          const std::vector<size_t>& positions, int64_t batch);

// Prints the confusion matrix and classification report (fractured = positive) and
// writes into out_dir: metrics.json, predictions.csv, confusion_matrix.png, roc.png,
// report.html (plus the learning curves when report.history is not empty). Returns the metrics.
Metrics write_evaluation(const std::string& out_dir, const std::vector<Prediction>& predictions, double threshold,
                         ReportData report, bool print = true);

// The built-in synthetic data: when DATA_ROOT/synth.csv exists, the breakdown of the
// predictions by what each image shows (eval/synth_breakdown.h) goes into the report (and
// write_evaluation prints it); a synth.csv that does not describe these images adds a
// warning instead. Other data: nothing.
void add_synth_breakdown(ReportData& report, const std::string& data_root, const std::vector<Prediction>& predictions,
                         double threshold);

// learning_curve_loss.png and learning_curve_accuracy.png.
void write_learning_curves(const std::string& out_dir, const std::vector<HistoryRow>& history);

// ---- a trained model and an image, as predict and explain read them --------------
// MODEL is a weights .safetensors file, or a run directory holding weights.safetensors
// (and config.json, whose "model" key names the spec the run trained). The spec is,
// in order: `spec` when spec_given (--model), config.json's "model", `spec` (the default).
struct ModelFiles {
  std::string weights, spec, spec_source;  // spec_source: "--model", "config.json" or "default"
};
ModelFiles locate_model(const std::string& model, const std::string& spec, bool spec_given);
// Builds the spec and loads the weights; a mismatch says to pass the right spec as --model.
std::unique_ptr<Sequential> load_trained_model(const ModelFiles& files);

// Throws unless the model takes [1 or 3 channels, H, W] images (`who`: the command).
void expect_image_model(const Sequential& model, const std::string& spec, const std::string& who);
// The decoder's colour mode for a model input [C, H, W]: gray for 1 channel, RGB for 3.
ColorMode color_mode_for(const Shape& input);
// Keras' load_img at evaluation: `decoded` (in color_mode_for(input)) resized to the
// model's input [C, H, W] and rescaled by 1/255, appended to `out` in CHW order.
void append_model_input(const Image& decoded, const Shape& input, Interpolation interp, std::vector<float>& out);

nlohmann::json read_json_file(const std::string& path);
void write_json_file(const std::string& path, const nlohmann::json& j);
std::string now_iso8601();
std::string relative_to(const std::string& path, const std::string& root);

}  // namespace radius::app
