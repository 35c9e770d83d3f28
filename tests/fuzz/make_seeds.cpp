// Writes the fuzz targets' seed corpora: small valid inputs of every variant each
// surface accepts, made with the same library calls the tests use. Built by the fuzz
// build (cmake/fuzz.cmake); its output is committed under tests/fuzz/corpus/.
//   build-fuzz/make_seeds tests/fuzz/corpus
// Seeds are deterministic (fixed seeds) and small (a few hundred bytes to a few kB), so
// libFuzzer mutates quickly and the normal test suite replays them in milliseconds.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/training_options.h"
#include "data/dicom.h"
#include "data/encode.h"
#include "data/image.h"
#include "net/checkpoint.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "../image_variants.h"

namespace fs = std::filesystem;
using namespace radius;

namespace {

fs::path out_root;

void put(const std::string& target, const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(out_root / target);
  std::ofstream(out_root / target / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}
void put_text(const std::string& target, const std::string& name, const std::string& text) {
  put(target, name, std::vector<uint8_t>(text.begin(), text.end()));
}
std::vector<uint8_t> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Image pattern(int w, int h, int c, unsigned seed) {
  Image img(w, h, c);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t((i * 37 + seed * 101 + (i / 7) * 13) & 0xFF);
  return img;
}

// DICOM: written by write_dicom (as `radius synth --format dicom` does), through a scratch file.
void dicom_seed(const std::string& name, int w, int h, const DicomWriteOptions& o, unsigned seed) {
  const uint32_t top = (1u << o.bits_stored) - 1;
  std::vector<uint16_t> stored(size_t(w) * size_t(h));
  for (size_t i = 0; i < stored.size(); ++i) stored[i] = uint16_t((i * 2654435761u + seed * 40503u) % (top + 1));
  const fs::path scratch = fs::temp_directory_path() / ("radius_seed_" + std::to_string(::getpid()) + ".dcm");
  write_dicom(stored, w, h, o, scratch.string());
  put("dicom", name, slurp(scratch));
  fs::remove(scratch);
}

void dicom_seeds() {
  if (!dicom_supported()) return;
  DicomWriteOptions o;
  dicom_seed("mono2_16bit.dcm", 8, 6, o, 1);
  o.monochrome1 = true;
  o.bits_stored = 12;
  o.window = {2048, 4096};
  o.rescale_slope = 0.5;
  o.rescale_intercept = -100;
  dicom_seed("mono1_12bit_window_rescale.dcm", 7, 5, o, 2);
  o = {};
  o.jpeg_lossless = true;
  dicom_seed("jpeg_lossless.dcm", 9, 7, o, 3);
}

void image_seeds() {
  put("png", "gray8.png", encode_png_bytes(pattern(9, 7, 1, 1)));
  put("png", "rgb8.png", encode_png_bytes(pattern(9, 7, 3, 2)));
  put("png", "gray1.png", test::png_variant(13, 5, PNG_COLOR_TYPE_GRAY, 1, false));
  put("png", "gray16.png", test::png_variant(6, 5, PNG_COLOR_TYPE_GRAY, 16, false));
  put("png", "rgb16.png", test::png_variant(5, 4, PNG_COLOR_TYPE_RGB, 16, false));
  put("png", "gray_alpha.png", test::png_variant(6, 6, PNG_COLOR_TYPE_GRAY_ALPHA, 8, false));
  put("png", "rgba.png", test::png_variant(6, 4, PNG_COLOR_TYPE_RGB_ALPHA, 8, false));
  put("png", "palette4_trns.png", test::png_variant(10, 6, PNG_COLOR_TYPE_PALETTE, 4, false));
  put("png", "palette8.png", test::png_variant(7, 7, PNG_COLOR_TYPE_PALETTE, 8, false));
  put("png", "interlaced_rgb.png", test::png_variant(11, 9, PNG_COLOR_TYPE_RGB, 8, true));
  put("png", "one_pixel.png", encode_png_bytes(pattern(1, 1, 1, 3)));

  put("jpeg", "gray.jpg", encode_jpeg_bytes(pattern(16, 12, 1, 4), 90));
  put("jpeg", "rgb.jpg", encode_jpeg_bytes(pattern(17, 11, 3, 5), 85));
  put("jpeg", "rgb_progressive.jpg", encode_jpeg_bytes(pattern(16, 16, 3, 6), 80, true));
  put("jpeg", "gray_progressive.jpg", encode_jpeg_bytes(pattern(9, 20, 1, 7), 75, true));
  put("jpeg", "cmyk.jpg", test::cmyk_jpeg(8, 8));
  put("jpeg", "one_pixel.jpg", encode_jpeg_bytes(pattern(1, 1, 3, 8), 90));
}

void spec_seeds(const fs::path& source_dir) {
  for (const char* name : {"tiny.spec", "paper.spec"}) put("spec", name, slurp(source_dir / "models" / name));
  put_text("spec", "every_keyword.spec",
           "# every keyword and key\ninput height=20 width=18 channels=1\n"
           "conv2d filters=4 kernel=3x5 stride=2 padding=same bias=false activation=relu\n"
           "avgpool2d pool=2 stride=1\nrelu\nmaxpool2d pool=2\nflatten\ndropout rate=0.25\n"
           "dense units=3 bias=true\nsigmoid\ndense units=1 activation=sigmoid\n");
}

// The fuzz checkpoint target's model (tests/fuzz/fuzz_targets.h): keep the two in step.
std::unique_ptr<Sequential> small_model() {
  auto m = parse_model_spec(
      "input height=8 width=8 channels=1\nconv2d filters=2 kernel=3 activation=relu\n"
      "flatten\ndropout rate=0.5\ndense units=1 activation=sigmoid\n",
      "seed-model");
  m->init(1);
  return m;
}

CheckpointState sample_state() {
  CheckpointState s;
  s.epoch = 2;
  s.global_step = 14;
  s.best_val_loss = 0.61;
  s.best_epoch = 2;
  s.wait = 0;
  s.seed = 7;
  s.config = {{"epochs", 5}, {"lr", 0.001}, {"data", "data/train"}, {"augment", true}};
  HistoryRow r;
  r.epoch = 1, r.train_loss = 0.69, r.train_accuracy = 0.5, r.val_loss = 0.66, r.val_accuracy = 0.55,
  r.learning_rate = 1e-3, r.seconds = 0.4;
  s.history.push_back(r);
  r.epoch = 2, r.train_loss = 0.64, r.val_loss = 0.61;
  s.history.push_back(r);
  return s;
}

void checkpoint_seeds(const fs::path& scratch) {
  auto model = small_model();
  for (int64_t i = 0; i < model->num_params(); ++i) model->grads().cpu()[i] = float((i * 7) % 11) / 11.0f - 0.4f;
  const std::string weights = (scratch / "w.safetensors").string();
  save_weights(*model, weights, {{"model", "seed"}});
  put("safetensors", "weights.safetensors", slurp(weights));
  write_safetensors(weights, {}, {{"only", "metadata"}});
  put("safetensors", "metadata_only.safetensors", slurp(weights));

  Adam adam(AdamConfig::keras(1e-3f));
  adam.step(model->params(), model->grads());
  const std::string ckpt = (scratch / "c.safetensors").string();
  save_checkpoint(ckpt, *model, adam, sample_state());
  put("checkpoint", "adam_epoch2.ckpt.safetensors", slurp(ckpt));
  put("safetensors", "checkpoint.safetensors", slurp(ckpt));
  Adam fresh(AdamConfig::keras(1e-3f));  // before any step: no optimizer tensors
  save_checkpoint(ckpt, *model, fresh, CheckpointState{});
  put("checkpoint", "fresh.ckpt.safetensors", slurp(ckpt));

  put_text("state", "epoch2.json", state_to_json(sample_state()).dump(1));
  put_text("state", "empty_state.json", state_to_json(CheckpointState{}).dump());
}

void manifest_seeds() {
  put_text("manifest", "names.csv", "path,label\na/1.png,fractured\nb/2.jpg,not fractured\nc/3.png,fractured\n");
  put_text("manifest", "all_columns.csv",
           "path,label,group,split\n\"x, y/1.png\",1,g1,train\nx/1-rotated1.png,1,,val\n"
           "\"q\"\"uote\"\".png\",0,g2,test\n\n/abs/4.png,0,,\n");
  put_text("manifest", "indices.csv", "Label,Path\n0,img0.png\n2,img2.jpeg\n1,img1.JPG\r\n");
}

// A run's config.json: the recipe as training_config writes it, plus what `radius train`
// adds around it (data, limit, classes, finished), for both named recipes; and an older
// run's file, without the keys added since (they read as their defaults).
void config_seeds() {
  for (const std::string recipe : {"paper", "advised"}) {
    app::TrainingOptions o;
    o.recipe_name = recipe;
    app::apply_recipe(o, {});
    nlohmann::json j = app::training_config(o);
    j["model"] = "model.spec";  // the run folder's copy of its spec
    j["data"] = "data/synth";
    j["limit"] = 0;
    j["classes"] = {"fractured", "not fractured"};
    j["finished"] = true;
    put_text("config", recipe + ".json", j.dump(2));
  }
  nlohmann::json older = app::training_config(app::TrainingOptions());
  older["model"] = "model.spec";
  for (const char* later : {"recipe", "augment_warmup", "group_regex", "window", "threshold", "init",
                            "warmup_epochs", "warmup_steps", "lr_schedule", "lr_step_epochs", "lr_step_factor",
                            "micro_batches", "recalibrate_bn", "clip_norm", "health_every"})
    older.erase(later);
  put_text("config", "older_run.json", older.dump());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR   (writes OUT_DIR/<target>/seed files)\n", argv[0]);
    return 2;
  }
  out_root = argv[1];
  const fs::path scratch = fs::temp_directory_path() / ("radius_seeds_" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  image_seeds();
  dicom_seeds();
  spec_seeds(RADIUS_SOURCE_DIR);
  checkpoint_seeds(scratch);
  manifest_seeds();
  config_seeds();
  fs::remove_all(scratch);
  std::printf("seeds written under %s\n", out_root.c_str());
  return 0;
}
