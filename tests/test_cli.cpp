// The radius command line end to end on a tiny generated data set: train (and
// resume), evaluate, metrics (the seed paper's Table 1), and bad inputs that must
// fail with a clear message and a non-zero exit code.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/synth_dataset.h"
#include "eval/health_history.h"
#include "eval/history.h"
#include "temp_dir.h"

using radius::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct Run {
  int rc = -1;
  std::string out;
};

std::string q(const std::string& s) { return "'" + s + "'"; }

Run radius_cli(const std::string& args) {
  const std::string cmd = std::string(RADIUS_CLI) + " " + args + " 2>&1";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const std::string kTiny = std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec";

// ~40 small images in the Kaggle layout (train/val/test).
std::string tiny_dataset(const TempDir& dir) {
  radius::SynthDatasetOptions opt;
  opt.render.min_side = 40;
  opt.render.max_side = 56;
  opt.render.model_side = 32;
  const std::string root = dir.file("data");
  radius::write_synthetic_dataset(root, {24, 8, 8}, 3, opt);
  return root;
}

}  // namespace

TEST_CASE("cli: metrics --counts reproduces the seed paper's Table 1") {
  const Run r = radius_cli("metrics --counts 694 32 54 195");
  CAPTURE(r.out);
  REQUIRE(r.rc == 0);
  for (const char* s : {"0.93", "0.86", "0.96", "0.78", "0.94", "0.82", "0.91", "MCC 0.76"}) CHECK(r.out.find(s) != std::string::npos);
  CHECK(r.out.find("accuracy 0.9118") != std::string::npos);
  const Run c = radius_cli("metrics --confusion 694,32,54,195");
  CHECK(c.rc == 0);
  CHECK(c.out == r.out);
  CHECK(radius_cli("metrics --counts 1 2 3").rc != 0);
  CHECK(radius_cli("metrics --confusion 1,2,x,4").rc != 0);
}

TEST_CASE("cli: train, resume, evaluate and metrics on a tiny data set") {
  TempDir dir("cli");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  const Run t = radius_cli("train " + q(data) + " --model " + q(kTiny) + " --epochs 1 --batch 8 --threads 1 --out " + q(run));
  CAPTURE(t.out);
  REQUIRE(t.rc == 0);
  CHECK(t.out.find("Epoch 1/1") != std::string::npos);
  CHECK(t.out.find("val_accuracy") != std::string::npos);
  for (const char* f : {"config.json", "history.csv", "last.ckpt.safetensors", "best.ckpt.safetensors",
                        "weights.safetensors", "splits/train.csv", "splits/val.csv", "splits/test.csv",
                        "learning_curve_loss.png", "learning_curve_accuracy.png", "metrics.json", "predictions.csv",
                        "confusion_matrix.png", "roc.png", "report.html"})
    CHECK_MESSAGE(fs::exists(run + "/" + f), f);
  CHECK(radius::read_history_csv(run + "/history.csv").size() == 1);
  // Training health is on by default: one row per body layer (tiny.spec: 11) for epoch 1.
  CHECK(fs::exists(run + "/health.json"));
  CHECK(radius::read_health_csv(run + "/health.csv").size() == 11);
  CHECK(t.out.find("recipe: glorot init, learning rate constant; health checks every 10 batches") != std::string::npos);

  // Resume for one more epoch.
  const Run r = radius_cli("train --resume " + q(run) + " --epochs 2 --threads 1 --quiet");
  CAPTURE(r.out);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("resuming") != std::string::npos);
  CHECK(radius::read_history_csv(run + "/history.csv").size() == 2);
  CHECK(radius::read_health_csv(run + "/health.csv").size() == 22);  // epoch 1's rows kept

  const Run e = radius_cli("evaluate " + q(run) + " " + q(data) + " --threads 1");
  CAPTURE(e.out);
  REQUIRE(e.rc == 0);
  CHECK(fs::exists(run + "/eval-test/metrics.json"));
  CHECK(fs::exists(run + "/eval-test/report.html"));
  CHECK(e.out.find("fractured") != std::string::npos);

  const Run m = radius_cli("metrics " + q(run + "/eval-test/predictions.csv"));
  CAPTURE(m.out);
  CHECK(m.rc == 0);
  CHECK(m.out.find("MCC") != std::string::npos);

  SUBCASE("a model for another input size cannot load these weights") {
    const std::string spec = dir.file("big.spec");
    std::ofstream(spec) << "input height=48 width=48 channels=3\nconv2d filters=8 kernel=3 activation=relu\n"
                           "maxpool2d pool=2\nconv2d filters=16 kernel=3 activation=relu\nmaxpool2d pool=2\n"
                           "flatten\ndropout rate=0.5\ndense units=32 activation=relu\ndense units=1 activation=sigmoid\n";
    const Run b = radius_cli("evaluate " + q(run) + " " + q(data) + " --model " + q(spec));
    CAPTURE(b.out);
    CHECK(b.rc != 0);
    CHECK(b.out.find("weights.safetensors") != std::string::npos);
    const Run c = radius_cli("evaluate " + q(run + "/last.ckpt.safetensors") + " " + q(data) + " --model " + q(spec));
    CHECK(c.rc != 0);
  }
}

TEST_CASE("cli: train's recipe options are applied, printed and recorded") {
  TempDir dir("cli_recipe");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  const Run t = radius_cli("train " + q(data) + " --model " + q(kTiny) + " --epochs 2 --batch 8 --threads 1 --quiet" +
                           " --init he-normal --warmup-steps 2 --lr-schedule cosine --clip-norm 5 --health-every 1" +
                           " --out " + q(run));
  CAPTURE(t.out);
  REQUIRE(t.rc == 0);
  CHECK(t.out.find("recipe: he-normal init, learning rate cosine to 0 at step 6, linear warmup over 2 steps, "
                   "gradient norm clipped at 5") != std::string::npos);
  std::ifstream in(run + "/config.json");
  const std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* k : {"\"init\": \"he-normal\"", "\"lr_schedule\": \"cosine\"", "\"clip_norm\": 5.0",
                        "\"warmup_steps\": 2", "\"health_every\": 1"})
    CHECK_MESSAGE(config.find(k) != std::string::npos, k);
  // 2 epochs of 3 batches: the last update (step 5) ran at lr 0.5 (1 + cos(pi 3/4)) (history records it).
  CHECK(radius::read_history_csv(run + "/history.csv").back().learning_rate ==
        doctest::Approx(1e-3 * 0.5 * (1 + std::cos(3.14159265358979 * 0.75))).epsilon(1e-4));
  const Run bad = radius_cli("train " + q(data) + " --model " + q(kTiny) + " --init xavier --out " + q(dir.file("r2")));
  CHECK(bad.rc != 0);
  CHECK(bad.out.find("--init") != std::string::npos);
}

TEST_CASE("cli: bad inputs fail with a clear message and a non-zero exit code") {
  TempDir dir("cli_bad");
  SUBCASE("missing data folder") {
    const Run r = radius_cli("train " + q(dir.file("nowhere")) + " --model " + q(kTiny) + " --out " + q(dir.file("r")));
    CHECK(r.rc != 0);
    CHECK(r.out.find("nowhere") != std::string::npos);
  }
  SUBCASE("a class folder with no images") {
    const std::string root = dir.file("d");
    fs::create_directories(root + "/train/fractured");
    fs::create_directories(root + "/train/not fractured");
    std::ofstream(root + "/train/fractured/a.png") << "listing reads no pixels";
    const Run r = radius_cli("train " + q(root) + " --model " + q(kTiny) + " --out " + q(dir.file("r")));
    CAPTURE(r.out);
    CHECK(r.rc != 0);
    CHECK(r.out.find("not fractured") != std::string::npos);
  }
  SUBCASE("an unreadable model file") {
    const Run r = radius_cli("train " + q(dir.path.string()) + " --model " + q(dir.file("no.spec")));
    CHECK(r.rc != 0);
    CHECK(r.out.find("no.spec") != std::string::npos);
  }
  SUBCASE("evaluate: no such run") {
    const Run r = radius_cli("evaluate " + q(dir.file("norun")) + " " + q(dir.path.string()));
    CHECK(r.rc != 0);
    CHECK(r.out.find("norun") != std::string::npos);
  }
  SUBCASE("resume: not a run directory") {
    const Run r = radius_cli("train --resume " + q(dir.path.string()));
    CHECK(r.rc != 0);
    CHECK(r.out.find("config.json") != std::string::npos);
  }
}
