// The radius command line end to end on a tiny generated data set: train (and
// resume), evaluate, metrics, kfold (the seed paper's Table 1), and bad inputs that must
// fail with a clear message and a non-zero exit code.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "data/csv.h"
#include "data/synth_dataset.h"
#include "eval/health_history.h"
#include "eval/history.h"
#include "optim/schedule.h"
#include "cli_util.h"
#include "temp_dir.h"

using radius::test::TempDir;
namespace fs = std::filesystem;

namespace {

using Run = radius::test::CliRun;
using radius::test::q;
using radius::test::radius_cli;
using radius::test::tiny_dataset;
const std::string& kTiny = radius::test::kTinySpec;

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

TEST_CASE("cli: synth writes the data set and synth.csv, what each image shows") {
  TempDir dir("cli_synth");
  const std::string out = dir.file("data");
  const Run r = radius_cli("synth --out " + q(out) +
                           " --train 8 --val 2 --test 2 --min-side 40 --max-side 56 --model-side 32 --threads 1");
  CAPTURE(r.out);
  REQUIRE(r.rc == 0);
  const std::vector<radius::CsvRow> rows = radius::read_csv(out + "/synth.csv");
  REQUIRE(rows.size() == 13);  // header + 12 images
  const radius::CsvRow& h = rows[0];
  const auto col = [&](const char* name) { return size_t(std::find(h.begin(), h.end(), name) - h.begin()); };
  REQUIRE(col("fracture") < h.size());
  std::set<std::string> paths;
  for (size_t i = 1; i < rows.size(); ++i) {
    const radius::CsvRow& row = rows[i];
    CAPTURE(row[0]);
    REQUIRE(row.size() == h.size());
    CHECK(fs::exists(out + "/" + row[col("path")]));  // relative to the data set, as predictions.csv
    CHECK(row[col("path")].starts_with(row[col("split")] + "/" + row[col("class")] + "/"));
    CHECK((row[col("fracture")] != "none") == (row[col("class")] == "fractured"));
    for (const char* flag : {"subtle", "displaced", "swelling", "cast", "joint", "crossing_bones"})
      CHECK((row[col(flag)] == "0" || row[col(flag)] == "1"));
    paths.insert(row[col("path")]);
  }
  CHECK(paths.size() == 12);
  // A second run into the same folder is refused: old files never mix in.
  CHECK(radius_cli("synth --out " + q(out) + " --train 2 --val 0 --test 0").rc != 0);
}

TEST_CASE("cli: on synthetic data, train, evaluate and metrics --synth say what the model gets right per kind") {
  TempDir dir("cli_breakdown");
  const std::string data = dir.file("data");
  REQUIRE(radius_cli("synth --out " + q(data) +
                     " --train 24 --val 8 --test 16 --min-side 40 --max-side 56 --model-side 32 --threads 1")
              .rc == 0);
  const std::string run = dir.file("run");
  const Run t = radius_cli("train " + q(data) + " --model " + q(kTiny) + " --epochs 1 --batch 8 --threads 1 --out " +
                           q(run));
  CAPTURE(t.out);
  REQUIRE(t.rc == 0);
  for (const char* s : {"by what the image shows (synth.csv)", "fractured images", "all fractured", "all intact"})
    CHECK_MESSAGE(t.out.find(s) != std::string::npos, s);
  const nlohmann::json m = nlohmann::json::parse(std::ifstream(run + "/metrics.json"));
  REQUIRE(m.contains("breakdown"));
  CHECK(m["breakdown"][0]["kind"] == "all fractured");
  CHECK(m["breakdown"][0]["images"] == 8);  // half of the 16 test images
  const Run e = radius_cli("evaluate " + q(run) + " " + q(data) + " --threads 1");
  CAPTURE(e.out);
  CHECK(e.rc == 0);
  CHECK(e.out.find("by what the image shows") != std::string::npos);
  const Run mt = radius_cli("metrics " + q(run + "/predictions.csv") + " --synth " + q(data));
  CAPTURE(mt.out);
  CHECK(mt.rc == 0);
  CHECK(mt.out.find("no cast, no swelling") != std::string::npos);
  // Predictions from another data set are refused, with the reason.
  const std::string other = dir.file("other");
  REQUIRE(radius_cli("synth --out " + q(other) + " --train 2 --val 0 --test 2 --seed 9 --min-side 40 --max-side 56")
              .rc == 0);
  const Run bad = radius_cli("metrics " + q(run + "/predictions.csv") + " --synth " + q(other + "/synth.csv"));
  CHECK(bad.rc != 0);
  CHECK(bad.out.find("is not in synth.csv") != std::string::npos);
}

TEST_CASE("cli: train, resume, evaluate and metrics on a tiny data set") {
  TempDir dir("cli");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  // The paper's recipe (a constant learning rate): the run is resumed below with more epochs.
  const Run t = radius_cli("train " + q(data) + " --recipe paper --model " + q(kTiny) + " --epochs 1 --batch 8 --threads 1 --out " +
                           q(run));
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

namespace {
// The path column (after the header) of a file list such as folds/fold-1/test.csv.
std::vector<std::string> listed_paths(const std::string& csv) {
  std::vector<std::string> paths;
  const auto rows = radius::read_csv(csv);
  for (size_t r = 1; r < rows.size(); ++r) paths.push_back(rows[r][0]);
  return paths;
}
std::set<std::string> listed_groups(const std::string& csv) {
  std::set<std::string> groups;
  const auto rows = radius::read_csv(csv);
  for (size_t r = 1; r < rows.size(); ++r) groups.insert(rows[r][3]);
  return groups;
}
}  // namespace

TEST_CASE("cli: kfold -k 3 trains every fold, writes the file lists and the mean ± sd, bad k fails") {
  TempDir dir("cli_kfold");
  const std::string data = tiny_dataset(dir);  // 40 images, 20 per class
  const std::string run = dir.file("kf");
  const std::string args = "kfold " + q(data) + " -k 3 --group --model " + q(kTiny) +
                           " --epochs 1 --batch 8 --threads 1 --quiet --out ";
  const Run r = radius_cli(args + q(run));
  CAPTURE(r.out);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("mean \u00b1 sd") != std::string::npos);
  CHECK(r.out.find("fold 3") != std::string::npos);
  for (const char* f : {"config.json", "kfold.csv", "kfold.json", "report.html", "metrics.json", "roc.png"})
    CHECK_MESSAGE(fs::exists(run + "/" + f), f);

  std::set<std::string> tested;
  size_t test_total = 0;
  for (int f = 1; f <= 3; ++f) {
    const std::string fold = run + "/folds/fold-" + std::to_string(f);
    for (const char* file : {"train.csv", "val.csv", "test.csv", "history.csv", "weights.safetensors", "metrics.json",
                             "predictions.csv", "report.html"})
      CHECK_MESSAGE(fs::exists(fold + "/" + file), (fold + "/" + file));
    const auto test = listed_paths(fold + "/test.csv");
    tested.insert(test.begin(), test.end());
    test_total += test.size();
    // --group: no radiograph on both sides of the fold.
    const auto test_groups = listed_groups(fold + "/test.csv");
    for (const char* side : {"/train.csv", "/val.csv"})
      for (const std::string& g : listed_groups(fold + side)) CHECK_MESSAGE(test_groups.count(g) == 0, g);
  }
  CHECK(test_total == 40);     // every image is tested exactly once
  CHECK(tested.size() == 40);

  const nlohmann::json j = nlohmann::json::parse(std::ifstream(run + "/kfold.json"));
  CHECK(j.at("k") == 3);
  CHECK(j.at("folds").size() == 3);
  const auto& acc = j.at("summary").at("accuracy");
  CHECK(acc.at("per_fold").size() == 3);
  CHECK(acc.at("mean").is_number());
  CHECK(acc.at("sd").is_number());
  CHECK(radius::read_csv(run + "/kfold.csv").size() == 4);  // header + 3 folds
  // The pooled out-of-fold evaluation: every image scored once.
  CHECK(radius::read_csv(run + "/predictions.csv").size() == 41);
  CHECK(j.at("pooled").at("accuracy").is_number());
  std::ifstream html(run + "/report.html");
  CHECK(std::string(std::istreambuf_iterator<char>(html), {}).find("id=\"kfold\"") != std::string::npos);

  {  // the same seed gives the same folds and the same numbers
    const std::string again = dir.file("kf2");
    REQUIRE(radius_cli(args + q(again)).rc == 0);
    for (const char* f : {"/kfold.csv", "/folds/fold-2/test.csv", "/folds/fold-2/val.csv"})
      CHECK_MESSAGE(radius::read_csv(again + f) == radius::read_csv(run + f), f);
  }
  {  // k below 2, k above the smallest class, a missing folder: clear errors
    const Run one = radius_cli("kfold " + q(data) + " -k 1 --model " + q(kTiny) + " --out " + q(dir.file("k1")));
    CHECK(one.rc != 0);
    CHECK(one.out.find("at least 2") != std::string::npos);
    const Run many = radius_cli("kfold " + q(data) + " -k 21 --model " + q(kTiny) + " --out " + q(dir.file("k21")));
    CAPTURE(many.out);
    CHECK(many.rc != 0);
    CHECK(many.out.find("has only 20") != std::string::npos);
    const Run regex = radius_cli("kfold " + q(data) + " -k 3 --group --group-regex '(' --model " + q(kTiny));
    CHECK(regex.rc != 0);
    CHECK(regex.out.find("--group-regex") != std::string::npos);
    const Run none = radius_cli("kfold " + q(dir.file("nowhere")) + " --model " + q(kTiny));
    CHECK(none.rc != 0);
    CHECK(none.out.find("nowhere") != std::string::npos);
  }
}

namespace {

std::string file_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("cli: an interrupted and resumed run writes the uninterrupted run's health.json and health.csv") {
  TempDir dir("cli_health_resume");
  const std::string data = tiny_dataset(dir);
  // --lr 0.05 on the tiny model: large-updates in epoch 1, then dead ReLUs whose streaks start in epoch 1.
  // The paper's recipe (a constant learning rate), so the split run can be resumed with more epochs.
  const std::string recipe =
      " --recipe paper --model " + q(kTiny) + " --batch 8 --lr 0.05 --health-every 1 --threads 1 --quiet";
  const std::string whole = dir.file("whole"), split = dir.file("split");
  const Run w = radius_cli("train " + q(data) + recipe + " --epochs 3 --out " + q(whole));
  CAPTURE(w.out);
  REQUIRE(w.rc == 0);
  // "Interrupted" after epoch 1 (its checkpoint is the one a kill during epoch 2 leaves), then resumed.
  REQUIRE(radius_cli("train " + q(data) + recipe + " --epochs 1 --out " + q(split)).rc == 0);
  const Run r = radius_cli("train --resume " + q(split) + " --epochs 3 --threads 1 --quiet");
  CAPTURE(r.out);
  REQUIRE(r.rc == 0);

  const nlohmann::json a = nlohmann::json::parse(file_text(whole + "/health.json"));
  const nlohmann::json b = nlohmann::json::parse(file_text(split + "/health.json"));
  std::set<int> epochs;
  for (const nlohmann::json& x : a.at("warnings")) epochs.insert(x.at("epoch").get<int>());
  CHECK(epochs.count(1) == 1);  // warnings before the interruption ...
  CHECK(epochs.size() >= 2);    // ... and after it: the test compares something
  CHECK(a == b);
  CHECK(file_text(whole + "/health.csv") == file_text(split + "/health.csv"));
  CHECK(radius::read_health_csv(split + "/health.csv").size() == 3 * 11);
  // The console says each warning once: the resumed part does not repeat epoch 1's.
  CHECK(r.out.find("(epoch 1, batch") == std::string::npos);
}

TEST_CASE("cli: --resume keeps a cosine schedule's length, extending past its end is an error") {
  TempDir dir("cli_cosine_resume");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  REQUIRE(radius_cli("train " + q(data) + " --model " + q(kTiny) +
                     " --recipe paper --batch 8 --lr 0.01 --lr-schedule cosine --epochs 1 --threads 1 --quiet --out " +
                     q(run))
              .rc == 0);
  // Make it the checkpoint of a 3-epoch cosine run stopped after epoch 1 (config.json holds the recipe).
  nlohmann::json config = nlohmann::json::parse(file_text(run + "/config.json"));
  config["epochs"] = 3;
  std::ofstream(run + "/config.json") << config.dump(2);

  const Run longer = radius_cli("train --resume " + q(run) + " --epochs 5 --threads 1 --quiet");
  CAPTURE(longer.out);
  CHECK(longer.rc != 0);
  CHECK(longer.out.find("cosine schedule reaches learning rate 0 at epoch 3") != std::string::npos);
  CHECK(longer.out.find("--epochs 3 or fewer") != std::string::npos);
  CHECK(radius::read_history_csv(run + "/history.csv").size() == 1);  // nothing ran

  const Run shorter = radius_cli("train --resume " + q(run) + " --epochs 2 --threads 1 --quiet");
  CAPTURE(shorter.out);
  REQUIRE(shorter.rc == 0);
  CHECK(shorter.out.find("the cosine schedule keeps this run's length (3 epochs") != std::string::npos);
  // Epoch 2's last update ran at the 3-epoch cosine's rate, not at the near-0 end of a 2-epoch one.
  const auto history = radius::read_history_csv(run + "/history.csv");
  REQUIRE(history.size() == 2);
  const int64_t batches = int64_t(radius::read_csv(run + "/splits/train.csv").size() - 1 + 7) / 8;
  radius::LrSchedule cosine;
  cosine.base_lr = 0.01;
  cosine.decay = radius::LrDecay::cosine;
  cosine.total_steps = 3 * batches;
  CHECK(history[1].learning_rate == doctest::Approx(cosine.lr_at(2 * batches - 1)).epsilon(1e-5));
  cosine.total_steps = 2 * batches;
  CHECK(history[1].learning_rate > 2 * cosine.lr_at(2 * batches - 1));
}
