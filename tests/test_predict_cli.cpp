// `radius predict` end to end: the built CLI binary on a few tiny images with a
// random-init tiny model, CSV (readable by eval/predictions_csv) and JSON outputs,
// Grad-CAM overlays, bad images skipped with their reason, and clear failures.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "data/csv.h"
#include "data/decode.h"
#include "data/encode.h"
#include "eval/predictions_csv.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "tests/temp_dir.h"

using namespace radius;
namespace fs = std::filesystem;

namespace {

std::string radius_binary() { return (fs::read_symlink("/proc/self/exe").parent_path() / "radius").string(); }

std::string sh_quote(const std::string& s) { return "'" + s + "'"; }

struct Run {
  int rc = -1;
  std::string out, err;
};

Run run_radius(const std::string& args, const test::TempDir& dir) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string cmd = sh_quote(radius_binary()) + " " + args + " >" + sh_quote(out) + " 2>" + sh_quote(err);
  const int status = std::system(cmd.c_str());
  Run r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

Image noise_image(int w, int h, int channels, unsigned seed) {
  Image img(w, h, channels);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t((i * 2654435761u + seed * 97u) >> 7);
  return img;
}

// dir/images/{fractured/a.png, not fractured/b.jpg, c.png, empty.png, junk.jpg, notes.txt}
// and dir/weights.safetensors from models/tiny.spec, random init.
struct Fixture {
  test::TempDir dir{"predict_cli"};
  std::string spec = std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec";
  std::string weights = dir.file("weights.safetensors");
  std::string images = dir.file("images");
  Fixture() {
    fs::create_directories(images + "/fractured");
    fs::create_directories(images + "/not fractured");
    encode_png(noise_image(40, 30, 3, 1), images + "/fractured/a.png");
    encode_jpeg(noise_image(32, 32, 1, 2), images + "/not fractured/b.jpg");
    encode_png(noise_image(64, 48, 1, 3), images + "/c.png");
    std::ofstream(images + "/empty.png").flush();                       // zero bytes
    std::ofstream(images + "/junk.jpg") << "this is not a JPEG at all";  // wrong magic
    std::ofstream(images + "/notes.txt") << "not an image extension: ignored";
    auto model = load_model_spec(spec);
    model->init(42);
    save_weights(*model, weights);
  }
};

}  // namespace

TEST_CASE("predict CLI: CSV, Grad-CAM overlays and bad images skipped with their reason") {
  Fixture f;
  const std::string csv = f.dir.file("pred.csv"), cams = f.dir.file("cams");
  const Run r = run_radius("predict " + sh_quote(f.weights) + " " + sh_quote(f.images) + " --model " + sh_quote(f.spec) +
                               " --out " + sh_quote(csv) + " --explain " + sh_quote(cams) + " --threads 1",
                           f.dir);
  INFO("stdout: ", r.out, "\nstderr: ", r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.err.find("empty.png") != std::string::npos);
  CHECK(r.err.find("empty_file") != std::string::npos);
  CHECK(r.err.find("junk.jpg") != std::string::npos);
  CHECK(r.err.find("unknown_format") != std::string::npos);
  CHECK(r.out.find("3 images") != std::string::npos);
  CHECK(r.out.find("2 skipped") != std::string::npos);

  const std::vector<CsvRow> rows = read_csv(csv);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] == CsvRow{"path", "label", "score", "p_fractured", "class", "gradcam"});
  int unlabelled = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const double score = std::stod(rows[i][2]), pf = std::stod(rows[i][3]);
    CHECK((score >= 0 && score <= 1));
    CHECK(pf == doctest::Approx(1 - score));
    CHECK(rows[i][4] == (score > 0.5 ? "not fractured" : "fractured"));
    if (rows[i][0].ends_with("fractured/a.png")) CHECK(rows[i][1] == "0");
    if (rows[i][0].ends_with("not fractured/b.jpg")) CHECK(rows[i][1] == "1");
    unlabelled += rows[i][1].empty();
    CHECK(fs::exists(rows[i][5]));
  }
  CHECK(unlabelled == 1);  // c.png has no class folder

  // The overlay: the original's size, RGB.
  const Image over = decode_image(cams + "/a_gradcam.png", ColorMode::rgb);
  CHECK((over.width == 40 && over.height == 30));
  CHECK(fs::exists(cams + "/b_gradcam.png"));
  CHECK(fs::exists(cams + "/c_gradcam.png"));

  // With only labelled images, `radius metrics` can read the file (eval/predictions_csv).
  const std::string csv2 = f.dir.file("labelled.csv");
  const Run r2 = run_radius("predict " + sh_quote(f.weights) + " " + sh_quote(f.images + "/fractured") + " " +
                                sh_quote(f.images + "/not fractured") + " --model " + sh_quote(f.spec) + " --out " +
                                sh_quote(csv2) + " --quiet --batch 1",
                            f.dir);
  REQUIRE(r2.rc == 0);
  CHECK(r2.out.empty());
  const std::vector<Prediction> preds = read_predictions_csv(csv2);
  REQUIRE(preds.size() == 2);
  CHECK(preds[0].label == 0);
  CHECK(preds[1].label == 1);
  // The same scores with batch 1 as with batch 32, and with or without --explain.
  for (size_t i = 1; i < rows.size(); ++i)
    for (const Prediction& p : preds)
      if (p.path == rows[i][0]) CHECK(p.score == doctest::Approx(std::stod(rows[i][2])).epsilon(1e-6));
}

TEST_CASE("predict CLI: a run directory (config.json names the spec) and JSON output") {
  Fixture f;
  const std::string run = f.dir.file("run");
  fs::create_directories(run);
  fs::copy_file(f.weights, run + "/weights.safetensors");
  std::ofstream(run + "/config.json") << nlohmann::json{{"model", f.spec}, {"epochs", 3}}.dump();
  const std::string out = f.dir.file("pred.json");
  const Run r = run_radius("predict " + sh_quote(run) + " " + sh_quote(f.images) + " " +
                               sh_quote(f.images + "/fractured/a.png") + " --out " + sh_quote(out) + " --threshold 0.3",
                           f.dir);
  INFO("stdout: ", r.out, "\nstderr: ", r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("config.json") != std::string::npos);
  std::ifstream in(out);
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["threshold"] == 0.3);
  REQUIRE(j["predictions"].size() == 4);  // a.png twice: once from the folder, once by name
  for (const auto& p : j["predictions"]) {
    const double score = p["score"];
    CHECK(p["p_fractured"].get<double>() == doctest::Approx(1 - score));
    CHECK(p["class"] == (score > 0.3 ? "not fractured" : "fractured"));
  }
  REQUIRE(j["skipped"].size() == 2);
  CHECK(j["skipped"][0]["reason"] == "empty_file");
  CHECK(j["skipped"][1]["reason"] == "unknown_format");
}

TEST_CASE("predict CLI: clear errors and a non-zero exit") {
  Fixture f;
  SUBCASE("missing model file") {
    const Run r = run_radius("predict " + sh_quote(f.dir.file("nope.safetensors")) + " " + sh_quote(f.images), f.dir);
    CHECK(r.rc != 0);
    CHECK(r.err.find("nope.safetensors: no such model file") != std::string::npos);
  }
  SUBCASE("weights that do not fit the spec") {
    const Run r = run_radius("predict " + sh_quote(f.weights) + " " + sh_quote(f.images), f.dir);  // paper.spec
    CHECK(r.rc != 0);
    CHECK(r.err.find("paper.spec") != std::string::npos);
  }
  SUBCASE("an unreadable weights file") {
    std::ofstream(f.dir.file("bad.safetensors")) << "garbage";
    const Run r = run_radius("predict " + sh_quote(f.dir.file("bad.safetensors")) + " " + sh_quote(f.images) +
                                 " --model " + sh_quote(f.spec),
                             f.dir);
    CHECK(r.rc != 0);
    CHECK(r.err.find("bad.safetensors") != std::string::npos);
  }
  SUBCASE("no readable image at all") {
    const Run r = run_radius("predict " + sh_quote(f.weights) + " " + sh_quote(f.images + "/empty.png") + " --model " +
                                 sh_quote(f.spec),
                             f.dir);
    CHECK(r.rc != 0);
    CHECK(r.err.find("empty_file") != std::string::npos);
    CHECK(r.err.find("could be read") != std::string::npos);
  }
  SUBCASE("a Grad-CAM layer without a feature map") {
    const Run r = run_radius("predict " + sh_quote(f.weights) + " " + sh_quote(f.images) + " --model " +
                                 sh_quote(f.spec) + " --explain " + sh_quote(f.dir.file("cams")) + " --layer 6",
                             f.dir);
    CHECK(r.rc != 0);
    CHECK(r.err.find("--layer 6") != std::string::npos);
  }
  SUBCASE("missing input") {
    const Run r = run_radius("predict " + sh_quote(f.weights) + " " + sh_quote(f.dir.file("missing")) + " --model " +
                                 sh_quote(f.spec),
                             f.dir);
    CHECK(r.rc != 0);
    CHECK(r.err.find("no such image file or directory") != std::string::npos);
  }
}

TEST_CASE("predict CLI: a CSV manifest's rows are the inputs, with their labels") {
  Fixture f;
  const std::string manifest = f.images + "/list.csv";
  std::ofstream(manifest) << "path,label,group,split\n"
                             "fractured/a.png,fractured,g1,test\n"
                             "not fractured/b.jpg,not fractured,g2,test\n"
                             "c.png,not fractured,g3,train\n";
  const std::string csv = f.dir.file("manifest_preds.csv");
  const Run r = run_radius("predict " + sh_quote(f.weights) + " " + sh_quote(manifest) + " --model " +
                               sh_quote(f.spec) + " --out " + sh_quote(csv),
                           f.dir);
  CAPTURE(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("accuracy") != std::string::npos);  // every row has a label
  const std::vector<Prediction> preds = read_predictions_csv(csv);  // what `radius metrics` reads
  REQUIRE(preds.size() == 3);
  CHECK(preds[0].path.ends_with("fractured/a.png"));
  CHECK(preds[0].label == 0);
  CHECK(preds[1].label == 1);
  CHECK(preds[2].path.ends_with("c.png"));
  CHECK(preds[2].label == 1);  // the manifest's label, not the folder's (none)
  CHECK(run_radius("metrics " + sh_quote(csv), f.dir).rc == 0);
}

TEST_CASE("predict CLI: a 16-bit PNG is read at its full depth, as training's cache reads it") {
  Fixture f;
  auto model = load_model_spec(f.spec);
  model->init(42);
  const Shape& in = model->input_shape();  // [C, H, W]
  const int C = int(in[0]), H = int(in[1]), W = int(in[2]);
  // A gray image of the model's size (no resize), its information in the low bytes too.
  Image deep(W, H, 1, 16);
  for (size_t i = 0; i < deep.pixels16.size(); ++i) deep.pixels16[i] = uint16_t((i * 2654435761u) >> 9);
  const std::string path = f.dir.file("deep.png");
  encode_png(deep, path);
  // What the model computes on v / 65535, gray replicated to every channel.
  std::vector<float> x(size_t(C) * size_t(H) * size_t(W));
  for (int c = 0; c < C; ++c)
    for (size_t p = 0; p < deep.pixels16.size(); ++p) x[size_t(c) * deep.pixels16.size() + p] = float(deep.pixels16[p]) / 65535.0f;
  const double want = model->predict(Tensor::from_vector(Shape{1, C, H, W}, x)).to_vector()[0];

  const std::string csv = f.dir.file("deep.csv");
  const Run r = run_radius("predict " + sh_quote(f.weights) + " " + sh_quote(path) + " --model " + sh_quote(f.spec) +
                               " --out " + sh_quote(csv) + " --threads 1",
                           f.dir);
  INFO("stdout: ", r.out, "\nstderr: ", r.err);
  REQUIRE(r.rc == 0);
  const std::vector<CsvRow> rows = read_csv(csv);
  REQUIRE(rows.size() == 2);
  CHECK(std::stod(rows[1][2]) == doctest::Approx(want).epsilon(1e-6));
}
