// A trained model and the images it predicts: what `radius predict`, `evaluate`,
// `explain` and programs using the library share.
//
//   auto model = load_trained_model("runs/train");            // spec from its config.json
//   Dataset data = list_dataset("xrays/");                    // class folders or a CSV manifest
//   std::vector<Prediction> p = predict_samples(*model, data, data.indices(""));
//   Metrics m = compute_metrics(labels_of(p), scores_of(p));  // eval/metrics.h
//
// Inputs are prepared as at evaluation in Keras: decoded, resized to the model's input
// (nearest, Keras' load_img default), rescaled by 1/255, never augmented.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/decode.h"
#include "data/image_cache.h"
#include "data/resize.h"
#include "eval/predictions_csv.h"
#include "net/sequential.h"

namespace radius {

// ---- a trained model ---------------------------------------------------------------
// MODEL is a run directory holding weights.safetensors and config.json (whose "model"
// key names the spec the run trained: its copy in the folder), or a weights or
// checkpoint .safetensors file. The spec is, in order: `spec` when spec_given
// (--model); the "model" of config.json in the run folder (or beside the file);
// the weights file's "model" metadata (what radius train records); `spec` (the
// caller's default). Recorded relative paths are tried against the run folder first.
struct ModelFiles {
  std::string weights, spec;
  std::string spec_source;  // "--model", "config.json", "the weights file's metadata" or "default"
};
ModelFiles locate_model(const std::string& model, const std::string& spec, bool spec_given);
// Builds the spec and loads the weights (a checkpoint's optimizer state is skipped); a
// mismatch says to give the spec the model was trained with.
std::unique_ptr<Sequential> load_trained_model(const ModelFiles& files);
// A run directory (its config.json names the spec), or weights with the spec given.
std::unique_ptr<Sequential> load_trained_model(const std::string& run_or_weights, const std::string& spec = "");

// ---- images in, probabilities out -----------------------------------------------------
// Throws unless the model takes [1 or 3 channels, H, W] images (`who`: the caller, for the message).
void expect_image_model(const Sequential& model, const std::string& spec, const std::string& who);
// The image cache options for a model: its input [C, H, W].
ImageCacheOptions cache_options_for(const Sequential& model, int threads);
// The decoder's colour mode for a model input [C, H, W]: gray for 1 channel, RGB for 3.
ColorMode color_mode_for(const Shape& input);
// Keras' load_img at evaluation: `decoded` (in color_mode_for(input)) resized to the
// model's input [C, H, W] and rescaled by 1/255, appended to `out` in CHW order.
void append_model_input(const Image& decoded, const Shape& input, Interpolation interp, std::vector<float>& out);
// Decoding as training caches: 16-bit PNGs and DICOM stay 16-bit (each DICOM by its own window).
DecodeOptions full_depth();

// P(class 1) for each cache position (eval mode, rescale only, in order), with the
// sample's path (relative to the data root when possible) and label.
std::vector<Prediction> predict_positions(Sequential& model, const Dataset& data, const ImageCache& cache,
                                          const std::vector<size_t>& positions, int64_t batch);
// The same for dataset samples (indices into data.samples): decodes them first
// (`threads` decoders, 0 = all cores). Unreadable images are skipped, never fatal;
// `bad` (when given) receives them.
std::vector<Prediction> predict_samples(Sequential& model, const Dataset& data, const std::vector<size_t>& samples,
                                        int64_t batch = 32, int threads = 0, std::vector<BadFile>* bad = nullptr);

// `path` relative to `root` when it lies inside it, else `path` unchanged.
std::string relative_to(const std::string& path, const std::string& root);

}  // namespace radius
