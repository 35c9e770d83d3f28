#include "net/inference.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "data/loader.h"
#include "net/safetensors.h"
#include "net/spec.h"

namespace radius {

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

namespace {

// A spec path a run recorded, resolved: against `base` (the run folder, where a run
// keeps its copy, model.spec) first, then as written (older runs recorded the path
// as it was typed, relative to where training ran).
std::string resolve_recorded(const std::string& recorded, const fs::path& base) {
  std::error_code ec;
  if (recorded.empty() || fs::path(recorded).is_absolute()) return recorded;
  if (fs::is_regular_file(base / recorded, ec)) return (base / recorded).string();
  return recorded;
}

// config.json's "model" in `folder` (resolved), or "" when there is none.
std::string spec_in_config(const fs::path& folder) {
  std::error_code ec;
  const fs::path config = folder / "config.json";
  if (!fs::is_regular_file(config, ec)) return "";
  std::ifstream in(config);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(config.string() + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("model") || !j["model"].is_string()) return "";
  return resolve_recorded(j["model"].get<std::string>(), folder);
}

// The spec a weights file records (resolved), or "": "model" (radius train), "spec"
// (radius demo).
std::string spec_in_metadata(const std::string& weights) {
  const std::map<std::string, std::string> metadata = read_safetensors_metadata(weights);
  for (const char* key : {"model", "spec"})
    if (const auto it = metadata.find(key); it != metadata.end() && !it->second.empty())
      return resolve_recorded(it->second, fs::path(weights).parent_path());
  return "";
}

}  // namespace

ModelFiles locate_model(const std::string& model_path, const std::string& spec, bool spec_given) {
  ModelFiles f;
  const fs::path model(model_path);
  std::error_code ec;
  if (!fs::exists(model, ec)) throw std::runtime_error(model_path + ": no such model file or run directory");
  fs::path folder;  // where config.json may name the spec
  if (fs::is_directory(model, ec)) {
    f.weights = (model / "weights.safetensors").string();
    if (!fs::is_regular_file(f.weights, ec))
      throw std::runtime_error(model_path + ": a directory without weights.safetensors (expected a run directory or a .safetensors file)");
    folder = model;
  } else {
    f.weights = model_path;
    folder = model.has_parent_path() ? model.parent_path() : fs::path(".");
  }
  if (spec_given) {
    f.spec = spec, f.spec_source = "--model";
  } else if (std::string recorded = spec_in_config(folder); !recorded.empty()) {
    f.spec = recorded, f.spec_source = "config.json";
  } else if (std::string recorded = spec_in_metadata(f.weights); !recorded.empty() && fs::exists(recorded, ec)) {
    f.spec = recorded, f.spec_source = "the weights file's metadata";
  } else {
    f.spec = spec, f.spec_source = "default";
  }
  return f;
}

std::unique_ptr<Sequential> load_trained_model(const ModelFiles& files) {
  std::unique_ptr<Sequential> model = load_model_spec(files.spec);
  model->init(0);
  try {
    // A checkpoint works too: its optimizer.* tensors are not the model's.
    load_weights(*model, read_safetensors(files.weights), files.weights, "optimizer.");
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + "\n(the weights do not fit the spec " + files.spec + " [" +
                             files.spec_source + "]; give the spec the model was trained with: radius --model SPEC)");
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
  const Image small = resize(decoded, W, H, interp);  // HWC, at the decoded depth
  const size_t plane = size_t(H) * size_t(W), base = out.size();
  out.resize(base + size_t(C) * plane);
  // Rescaled by the bit depth, as training's loader does (a 16-bit sample v is v / 65535).
  const bool deep = small.depth == 16;
  const float rescale = deep ? 1.0f / 65535.0f : 1.0f / 255.0f;
  for (int c = 0; c < C; ++c)
    for (size_t p = 0; p < plane; ++p) {
      const size_t i = p * size_t(C) + size_t(c);
      out[base + size_t(c) * plane + p] = float(deep ? small.pixels16[i] : small.pixels[i]) * rescale;
    }
}

DecodeOptions full_depth() {
  DecodeOptions o;
  o.keep_16_bit = true;
  return o;
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

std::unique_ptr<Sequential> load_trained_model(const std::string& run_or_weights, const std::string& spec) {
  const ModelFiles files = locate_model(run_or_weights, spec, !spec.empty());
  if (files.spec.empty())
    throw std::runtime_error(run_or_weights + ": no model spec (a run directory's config.json names it; for a weights "
                             "file, give the spec it was trained with)");
  return load_trained_model(files);
}

std::vector<Prediction> predict_samples(Sequential& model, const Dataset& data, const std::vector<size_t>& samples,
                                        int64_t batch, int threads, std::vector<BadFile>* bad) {
  const ImageCache cache(data, samples, cache_options_for(model, threads));
  if (bad) *bad = cache.bad_files();
  return predict_positions(model, data, cache, cache.positions_of(samples), batch);
}

}  // namespace radius
