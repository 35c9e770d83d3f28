// radius explain MODEL [IMAGE]: a window into the network, for students.
//
// Without IMAGE: each layer's input and output shapes, parameters, forward and
// backward FLOPs, activation and parameter bytes, and the totals (the counting
// rules are in net/explain.h). With IMAGE, also what the network does to that
// image: each layer's activation statistics (eval mode: what predict sees) and
// each layer's forward and backward time on --device (the median of --repeats
// training-mode passes). --grids DIR writes PNG grids of the first conv layer's
// filters and, with IMAGE, of the first conv/pool layers' feature maps; --json
// FILE writes everything.
//
// MODEL: a model spec (fresh glorot init from --seed), or trained weights as
// `radius predict` takes them (a .safetensors file or a run directory; the spec
// from --model, the run's config.json, or models/paper.spec). IMAGE is read as
// predict reads it (decoded in the model's colour mode, resized, rescaled 1/255).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "apps/run_common.h"
#include "data/encode.h"
#include "eval/tile_grid.h"
#include "io/atomic_file.h"
#include "net/health.h"
#include "layers/registry.h"
#include "net/explain.h"
#include "net/spec.h"
#include "net/trace.h"
#include "optim/adam.h"
#include "tensor/rng.h"
#include "tensor/device_memory.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ExplainCommand {
  std::string model;        // spec, weights file or run directory
  std::string image;        // optional
  std::string spec;         // --model, for weights
  uint64_t seed = 1;
  std::string device = "cpu";
  int threads = 0;
  int repeats = 5;
  int grid_layers = 4;
  std::string interpolation = "nearest";
  std::string grids;        // folder for PNG grids
  std::string json_out;
  bool trace = false;       // one training step, layer by layer (net/trace.h)
};

// What one image did, layer by layer.
struct ImageRun {
  std::vector<ActivationStats> stats;
  std::vector<LayerTiming> times;
  std::vector<Tensor> outputs;  // eval-mode outputs, for the feature-map grids
};

bool is_trained_model(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) || path.ends_with(".safetensors");
}

// The model, initialised or loaded, on the CPU; `source` says where it came from.
std::unique_ptr<Sequential> load_model(const ExplainCommand& o, bool spec_given, std::string& source) {
  if (!is_trained_model(o.model)) {
    auto model = load_model_spec(o.model);
    model->init(o.seed);
    source = o.model + " (spec; fresh glorot init, seed " + std::to_string(o.seed) + ")";
    return model;
  }
  const ModelFiles mf = locate_model(o.model, o.spec, spec_given);
  source = mf.weights + " (weights; spec " + mf.spec + ", " + mf.spec_source + ")";
  return load_trained_model(mf);
}

Tensor read_image(const Sequential& model, const ExplainCommand& o) {
  const Shape& in = model.input_shape();
  expect_image_model(model, o.model, "explain IMAGE");
  const Interpolation interp = o.interpolation == "bilinear" ? Interpolation::bilinear : Interpolation::nearest;
  std::vector<float> pixels;
  append_model_input(decode_image(o.image, color_mode_for(in), full_depth()), in, interp, pixels);
  return Tensor::from_vector(in.with_batch(1), pixels);
}

ImageRun run_image(Sequential& model, const Tensor& x, const ExplainCommand& o) {
  ImageRun r;
  r.outputs = forward_each(model, x, Mode::eval);
  for (const Tensor& out : r.outputs) r.stats.push_back(activation_stats(out));
  r.times = time_layers(model, x, o.repeats, o.seed);
  return r;
}

void print_image_table(const Sequential& model, const ImageRun& r) {
  const char* const head = "%-4s %-32s %11s %11s %11s %11s %7s %9s %10s %10s\n";
  std::printf(head, "#", "layer", "mean", "std", "min", "max", "zeros", "dead", "fwd ms", "bwd ms");
  std::printf("%s\n", std::string(124, '-').c_str());
  double fwd = 0, bwd = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    const ActivationStats& s = r.stats[i];
    const std::string dead = std::to_string(s.dead_channels) + "/" + std::to_string(s.channels);
    std::printf("%-4zu %-32s %11.4g %11.4g %11.4g %11.4g %6.1f%% %9s %10.3f %10.3f\n", i,
                model.layer(i).describe().c_str(), s.mean, s.std, s.min, s.max, 100.0 * s.zero_fraction, dead.c_str(),
                r.times[i].forward_ms, r.times[i].backward_ms);
    fwd += r.times[i].forward_ms, bwd += r.times[i].backward_ms;
  }
  std::printf("%s\n", std::string(124, '-').c_str());
  std::printf("total: forward %.3f ms, backward %.3f ms per image (sum of the per-layer medians)\n", fwd, bwd);
  std::printf("dead: channels (or units) whose output is exactly 0 everywhere for this image\n");
}

// The first `count` conv/pool layers with [C, H, W] outputs: whose feature maps to draw.
std::vector<size_t> map_layers(const Sequential& model, int count) {
  std::vector<size_t> picked;
  for (size_t i = 0; i < model.size() && int(picked.size()) < count; ++i) {
    if (kind_of(model.layer(i)).feature_maps && model.layer_output(i).rank() == 3) picked.push_back(i);
  }
  return picked;
}

std::string layer_tag(const Sequential& model, size_t i) {
  char tag[64];
  std::snprintf(tag, sizeof tag, "layer%02zu_%s", i, model.layer(i).kind().c_str());
  return tag;
}

// Writes the grids; returns the files written.
std::vector<std::string> write_grids(const Sequential& model, const ImageRun* run, const ExplainCommand& o) {
  fs::create_directories(o.grids);
  std::vector<std::string> files;
  for (size_t i = 0; i < model.size(); ++i) {
    if (!kind_of(model.layer(i)).convolution) continue;
    for (const NamedParam& p : model.named_params())
      if (p.name == std::to_string(i) + ".weight") {
        files.push_back((fs::path(o.grids) / ("filters_" + layer_tag(model, i) + ".png")).string());
        encode_png(tile_grid(filter_tiles(p.value)), files.back());
      }
    break;  // the first conv layer only: deeper filters see feature maps, not pixels
  }
  if (run)
    for (size_t i : map_layers(model, o.grid_layers)) {
      files.push_back((fs::path(o.grids) / ("maps_" + layer_tag(model, i) + ".png")).string());
      encode_png(tile_grid(feature_map_tiles(run->outputs[i])), files.back());
    }
  return files;
}

json shape_json(const Shape& s) {
  json a = json::array();
  for (int d = 0; d < s.rank(); ++d) a.push_back(s[d]);
  return a;
}

json explain_json(const Sequential& model, const std::string& source, const ImageRun* run, const ExplainCommand& o,
                  const std::vector<std::string>& grids) {
  json layers = json::array();
  json totals = {{"params", 0}, {"forward_flops", 0}, {"backward_flops", 0}, {"activation_bytes", 0}, {"param_bytes", 0}};
  for (const LayerCost& c : layer_costs(model)) {
    json l = {{"index", c.index}, {"kind", c.kind}, {"description", c.description}, {"input", shape_json(c.input)},
              {"output", shape_json(c.output)}, {"params", c.params}, {"forward_flops", c.forward_flops},
              {"backward_flops", c.backward_flops}, {"activation_bytes", c.activation_bytes},
              {"param_bytes", c.param_bytes}};
    for (const char* k : {"params", "forward_flops", "backward_flops", "activation_bytes", "param_bytes"})
      totals[k] = totals[k].get<int64_t>() + l[k].get<int64_t>();
    if (run) {
      const ActivationStats& s = run->stats[c.index];
      l["stats"] = {{"mean", s.mean}, {"std", s.std}, {"min", s.min}, {"max", s.max}, {"zero_fraction", s.zero_fraction},
                    {"channels", s.channels}, {"dead_channels", s.dead_channels}};
      l["time_ms"] = {{"forward", run->times[c.index].forward_ms}, {"backward", run->times[c.index].backward_ms}};
    }
    layers.push_back(std::move(l));
  }
  json j = {{"model", {{"source", source}, {"input", shape_json(model.input_shape())}, {"output", shape_json(model.output_shape())}}},
            {"counting", "per sample, float32; a multiply-add counts 2 FLOPs; rules in net/explain.h"},
            {"layers", std::move(layers)},
            {"totals", std::move(totals)},
            {"grids", grids}};
  if (run) {
    double fwd = 0, bwd = 0;
    for (const LayerTiming& t : run->times) fwd += t.forward_ms, bwd += t.backward_ms;
    j["totals"]["forward_ms"] = fwd;
    j["totals"]["backward_ms"] = bwd;
    j["image"] = {{"path", o.image}, {"device", o.device}, {"threads", num_threads()}, {"repeats", o.repeats},
                  {"interpolation", o.interpolation}, {"stats_mode", "eval"}, {"timing_mode", "train"}};
  }
  return j;
}

// A run directory's training story, from its health.json: when the model left the
// class prior (net/health.h, "Takeoff"). Null for a spec, a weights file, or a run
// trained with health checks off.
json run_takeoff(const std::string& model) {
  const std::string health = (fs::path(model) / "health.json").string();
  if (!fs::is_directory(model) || !fs::exists(health)) return nullptr;
  const json h = read_json_file(health);
  if (!h.contains("takeoff")) return nullptr;                        // written before takeoffs were recorded
  return h["takeoff"].is_null() ? json(json::object()) : h["takeoff"];  // {}: recorded, never took off
}

void print_takeoff(const json& takeoff) {
  if (takeoff.is_null()) return;
  if (takeoff.contains("step"))
    std::printf("\ntraining: left the class prior at step %lld (epoch %d, batch %lld): its training loss fell %.1f nats "
                "under the prior entropy there (health.json)\n",
                (long long)takeoff["step"].get<int64_t>(), takeoff["epoch"].get<int>(),
                (long long)takeoff["batch"].get<int64_t>(), kTakeoffMargin);
  else
    std::printf("\ntraining: never left the class prior (health.json records no takeoff): the model predicts the "
                "class balance; see its warnings there\n");
}

// --trace: one real training step (Adam in Keras' form, lr 1e-3: the paper's) on the
// IMAGE (label: its class folder, "fractured" = 0, else 1) or, without one, on two
// inputs drawn uniformly from [0, 1) with --seed, labelled 0 and 1.
void print_trace(Sequential& model, const Tensor& image, const ExplainCommand& o) {
  Tensor x = image, labels;
  if (x.defined()) {
    const std::string folder = fs::path(o.image).parent_path().filename().string();
    labels = Tensor::full(Shape{1}, folder == "fractured" ? 0.0f : 1.0f);
  } else {
    x = Tensor::empty(model.input_shape().with_batch(2));
    Rng rng(o.seed, 1);
    for (int64_t k = 0; k < x.numel(); ++k) x.cpu()[k] = rng.uniform(0.0f, 1.0f);
    labels = Tensor::from_vector(Shape{2}, {0.0f, 1.0f});
  }
  Adam adam(AdamConfig::keras(1e-3f));
  std::printf("\n%s", trace_table(trace_training_step(model, adam, x, labels, 4, o.repeats)).c_str());
}

void run_explain(const ExplainCommand& o, bool spec_given) {
  set_num_threads(o.threads);
  if (o.device == "cuda" && !cuda_available())
    throw std::runtime_error("--device cuda: this build or machine has no CUDA device");
  std::string source;
  std::unique_ptr<Sequential> model = load_model(o, spec_given, source);
  Tensor x = o.image.empty() ? Tensor() : read_image(*model, o);  // before any output: a bad image fails fast
  std::printf("model: %s\n%s", source.c_str(), model->summary().c_str());
  const json takeoff = run_takeoff(o.model);
  print_takeoff(takeoff);

  std::unique_ptr<ImageRun> run;
  if (x.defined()) {
    const Device device = o.device == "cuda" ? Device::cuda : Device::cpu;
    model->to(device);
    if (device != Device::cpu) x = x.to(device);
    run = std::make_unique<ImageRun>(run_image(*model, x, o));
    std::printf("\nimage: %s -> %s (%s); statistics in eval mode; times on %s (threads: %d), median of %d "
                "training-mode passes\n",
                o.image.c_str(), model->input_shape().str().c_str(), o.interpolation.c_str(), o.device.c_str(),
                num_threads(), o.repeats);
    print_image_table(*model, *run);
  }
  if (o.trace) print_trace(*model, x.defined() ? x.to(Device::cpu) : x, o);
  std::vector<std::string> grids;
  if (!o.grids.empty()) {
    grids = write_grids(*model, run.get(), o);
    std::printf("\ngrids (each tile min-max normalized on its own):\n");
    for (const std::string& g : grids) std::printf("  %s\n", g.c_str());
    if (!run) std::printf("  (feature maps need an IMAGE)\n");
  }
  if (!o.json_out.empty()) {
    json j = explain_json(*model, source, run.get(), o, grids);
    if (!takeoff.is_null()) j["training"] = {{"takeoff", takeoff}};
    write_file_atomic(o.json_out, j.dump(2) + "\n");
    std::printf("wrote %s\n", o.json_out.c_str());
  }
}

}  // namespace

void add_explain_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "explain", "A window into the network: per-layer shapes, parameters, FLOPs and bytes; with an IMAGE, activation "
                 "statistics and per-layer forward/backward times; PNG grids of filters and feature maps");
  auto o = std::make_shared<ExplainCommand>();
  o->spec = default_model_path();
  cmd->add_option("model", o->model, "A model spec (fresh init from --seed), or weights (.safetensors) / a run directory")
      ->required();
  cmd->add_option("image", o->image, "An image to run through the network (PNG or JPEG)");
  auto* spec = add_shared_flag(*cmd, "--model", o->spec,
                               "For weights: the spec (default: the run's config.json \"model\", else models/paper.spec)");
  add_shared_flag(*cmd, "--seed", o->seed);  // a spec's initialisation, and the gradient the timing starts from
  add_shared_flag(*cmd, "--device", o->device);  // where the layers are timed
  add_shared_flag(*cmd, "--threads", o->threads);
  add_number(*cmd, "--repeats", o->repeats, "Timed passes per layer (the median is shown)", positive());
  cmd->add_option("--grids", o->grids, "Write PNG grids of the first conv layer's filters and the feature maps here");
  add_number(*cmd, "--grid-layers", o->grid_layers, "How many conv/pool layers get a feature-map grid",
             non_negative());
  cmd->add_option("--interpolation", o->interpolation, "Resize to the model input: nearest (Keras' default) or bilinear")
      ->capture_default_str()->check(CLI::IsMember({"nearest", "bilinear"}));
  cmd->add_option("--json", o->json_out, "Also write the full result as JSON to this file");
  cmd->add_flag("--trace", o->trace,
                "Trace one training step layer by layer: outputs, gradient norms, the Adam update, times "
                "(on IMAGE, else on two random inputs)");
  cmd->callback([o, spec] { run_explain(*o, spec->count() > 0); });
}

}  // namespace radius::app
