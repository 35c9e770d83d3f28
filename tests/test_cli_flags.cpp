// The command line's contract with its users: exit codes (0 success, 1 runtime error, 2 usage error), usage errors on
// stderr with a suggestion, numbers refused in plain words, one vocabulary of shared flags
// across commands, warnings on stderr, clean numbers in config.json.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "data/csv.h"
#include "data/encode.h"
#include "eval/predictions_csv.h"
#include "io/atomic_file.h"
#include "io/json_number.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "temp_dir.h"

using radius::test::read_text;
using radius::test::q;
using radius::test::radius_cli;
using radius::test::radius_cli_streams;
using radius::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A run folder of the tiny model's untrained weights (--epochs 0) on `data`.
std::string untrained_run(const std::string& data, const TempDir& dir) {
  const std::string run = dir.file("run");
  REQUIRE(radius_cli_streams("train " + q(data) + " --model " + q(radius::test::kTinySpec) +
                                 " --epochs 0 --threads 1 --quiet --out " + q(run),
                             dir)
              .rc == 0);
  return run;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("cli flags: --help and --version exit 0, a usage error exits 2 on stderr, a runtime error 1") {
  TempDir dir("cli_exit");
  for (const char* ok : {"--help", "--version", "train --help", "predict --help"}) {
    const auto r = radius_cli_streams(ok, dir);
    CHECK_MESSAGE(r.rc == 0, ok);
    CHECK_MESSAGE(!r.out.empty(), ok);
  }
  for (const char* usage : {"", "trian", "train --epoch 3 x", "evaluate", "metrics --counts 1 2", "train x --lr abc",
                            "audit d --no-such-flag", "--verison"}) {
    const auto r = radius_cli_streams(usage, dir);
    CAPTURE(usage);
    CAPTURE(r.err);
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("radius: usage error: ", 0) == 0);
    CHECK(has(r.err, "--help"));
  }
  const auto runtime = radius_cli_streams("train " + q(dir.file("nowhere")) + " --out " + q(dir.file("r")), dir);
  CHECK(runtime.rc == 1);
  CHECK(has(runtime.err, "nowhere"));
}

TEST_CASE("cli flags: an unknown command or option says what was probably meant") {
  TempDir dir("cli_suggest");
  CHECK(has(radius_cli_streams("trian", dir).err, "unknown command 'trian': did you mean 'train'?"));
  CHECK(has(radius_cli_streams("evalute run data", dir).err, "did you mean 'evaluate'?"));
  CHECK(has(radius_cli_streams("train --epoch 3 data", dir).err, "unknown option '--epoch' for 'radius train': did you mean --epochs?"));
  CHECK(has(radius_cli_streams("predict m i --treshold 0.3", dir).err, "did you mean --threshold?"));
  CHECK(has(radius_cli_streams("audit d --group-pattern x", dir).err, "it is now --group-regex"));
  CHECK(has(radius_cli_streams("augment i --width-shift 0.1", dir).err, "it is now --shift"));
  // Nothing close: no guess.
  const auto far = radius_cli_streams("frobnicate", dir);
  CHECK(has(far.err, "unknown command 'frobnicate'"));
  CHECK(!has(far.err, "did you mean"));
}

TEST_CASE("cli flags: numbers are refused in plain words, with their range") {
  TempDir dir("cli_numbers");
  const std::map<std::string, std::string> cases = {
      {"train d --lr abc", "--lr: 'abc' is not a number"},
      {"train d --lr -1", "--lr: must be > 0, got -1"},
      {"train d --lr 1e-50", "--lr: must be > 0, got 1e-50 (0 as a float)"},  // the field is a float
      {"train d --batch 1.5", "--batch: '1.5' is not a whole number"},
      {"train d --threshold 2", "--threshold: must be in [0, 1], got 2"},
      {"kfold d --threshold 2", "--threshold: must be in [0, 1], got 2"},
      {"evaluate r d --threshold 2", "--threshold: must be in [0, 1], got 2"},
      {"predict m i --threshold 2", "--threshold: must be in [0, 1], got 2"},
      {"metrics p.csv --threshold 2", "--threshold: must be in [0, 1], got 2"},
      {"evaluate r d --threads abc", "--threads: 'abc' is not a number"},
      {"explain m --threads -2", "--threads: must be at least 0, got -2"},
      {"synth --out o --subtle 1.5", "--subtle: must be in [0, 1], got 1.5"},
      {"audit d --near-threshold x", "--near-threshold: 'x' is not a number"},
      {"demo --steps 0", "--steps: must be > 0, got 0"},
      {"kfold d -k 1", "--folds: must be at least 2, got 1"},
      {"metrics --counts 1 2 x 4", "--counts: 'x' is not a number"},
      {"train d --val-fraction 1", "--val-fraction: must be in (0, 1), got 1"},
  };
  for (const auto& [args, message] : cases) {
    const auto r = radius_cli_streams(args, dir);
    CAPTURE(args);
    CAPTURE(r.err);
    CHECK(r.rc == 2);
    CHECK(has(r.err, message));
    CHECK(r.err.size() < 300);  // no 309-digit range
  }
}

TEST_CASE("cli flags: a flag several commands take has one name, one help and one range everywhere") {
  const auto listing = radius_cli("options --flags");
  REQUIRE(listing.rc == 0);
  const nlohmann::json commands = nlohmann::json::parse(listing.out);
  REQUIRE(commands.size() >= 10);
  // flag -> the commands that take it, with what they say about it
  std::map<std::string, std::vector<std::pair<std::string, nlohmann::json>>> uses;
  for (const auto& [command, flags] : commands.items())
    for (const nlohmann::json& f : flags) uses[f.at("flag").get<std::string>()].emplace_back(command, f);

  // The shared vocabulary: each in every command that has the notion.
  const std::map<std::string, std::set<std::string>> expected = {
      {"--threads", {"train", "kfold", "evaluate", "predict", "explain", "audit", "synth", "demo"}},
      {"--batch", {"train", "kfold", "evaluate", "predict", "demo"}},
      {"--device", {"train", "kfold", "evaluate", "predict", "explain"}},
      {"--threshold", {"train", "kfold", "evaluate", "predict", "metrics"}},
      {"--seed", {"train", "kfold", "explain", "augment", "synth", "demo"}},
      {"--quiet", {"train", "kfold", "predict", "export", "import"}},
      {"--limit", {"train", "kfold"}},
      {"--group-regex", {"train", "kfold", "audit"}},
      {"--shift", {"train", "kfold", "augment"}},
      {"--model", {"train", "kfold", "evaluate", "predict", "explain", "demo", "export", "import"}},
      {"--out", {"train", "kfold", "evaluate", "predict", "augment", "synth", "demo", "import"}},
  };
  for (const auto& [flag, want] : expected) {
    std::set<std::string> got;
    for (const auto& [command, _] : uses[flag]) got.insert(command);
    CHECK_MESSAGE(got == want, flag);
  }
  CHECK(uses.count("--group-pattern") == 0);
  CHECK(uses.count("--width-shift") == 0);
  CHECK(uses.count("--height-shift") == 0);

  // Every flag in more than one command: the same names, the same type and range, the same
  // help (--out and --model say per command what they write or where the spec comes from).
  for (const auto& [flag, list] : uses) {
    if (list.size() < 2) continue;
    const nlohmann::json& first = list.front().second;
    for (const auto& [command, f] : list) {
      CAPTURE(flag);
      CAPTURE(command);
      CHECK(f.at("names") == first.at("names"));
      CHECK(f.at("type") == first.at("type"));
      if (flag != "--out" && flag != "--model") CHECK(f.at("help") == first.at("help"));
    }
  }
  for (const auto& [command, f] : uses["--quiet"]) CHECK_MESSAGE(has(f.at("names").get<std::string>(), "-q"), command);
  for (const auto& [command, f] : uses["--threshold"]) CHECK_MESSAGE(has(f.at("type").get<std::string>(), "[0, 1]"), command);
}

TEST_CASE("cli flags: --epochs 0 warns on stderr, and warnings stay off stdout") {
  TempDir dir("cli_epochs0");
  const std::string data = radius::test::tiny_dataset(dir);
  const auto r = radius_cli_streams("train " + q(data) + " --model " + q(radius::test::kTinySpec) +
                                        " --epochs 0 --threads 1 --quiet --out " + q(dir.file("run")),
                                    dir);
  CAPTURE(r.out);
  CAPTURE(r.err);
  REQUIRE(r.rc == 0);
  CHECK(has(r.err, "warning: --epochs 0"));
  CHECK(has(r.err, "untrained"));
  CHECK(!has(r.out, "warning"));
  CHECK(has(r.out, "test set"));  // the results stay on stdout
}

TEST_CASE("cli flags: config.json holds the float options as typed, and reads them back as the same floats") {
  TempDir dir("cli_config_numbers");
  const std::string data = radius::test::tiny_dataset(dir);
  const std::string run = dir.file("run");
  const auto r = radius_cli_streams("train " + q(data) + " --model " + q(radius::test::kTinySpec) +
                                        " --epochs 0 --lr 0.001 --shift 0.1 --zoom 0.3 --threads 1 --quiet --out " +
                                        q(run),
                                    dir);
  REQUIRE(r.rc == 0);
  const std::string config = read_text(run + "/config.json");
  CAPTURE(config);
  CHECK(has(config, "\"lr\": 0.001,"));
  CHECK(has(config, "\"shift\": 0.1,"));
  CHECK(has(config, "\"zoom\": 0.3\n"));
  CHECK(!has(config, "00000"));
  const nlohmann::json j = nlohmann::json::parse(config);
  CHECK(j.at("lr").get<float>() == 0.001f);
  CHECK(j.at("shift").get<float>() == 0.1f);
  CHECK(j.at("zoom").get<float>() == 0.3f);
}

TEST_CASE("cli flags: a float written as its shortest decimal reads back as the same float") {
  CHECK(nlohmann::json(radius::short_double(0.001f)).dump() == "0.001");
  CHECK(nlohmann::json(radius::short_double(3e-4f)).dump() == "0.0003");
  CHECK(nlohmann::json(radius::short_double(40.0f)).dump() == "40.0");
  std::mt19937 rng(7);
  int checked = 0;
  for (int i = 0; i < 300000; ++i) {
    const uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (!std::isfinite(f)) continue;
    const nlohmann::json back = nlohmann::json::parse(nlohmann::json(radius::short_double(f)).dump());
    const float g = back.get<float>();
    if (std::memcmp(&f, &g, sizeof f) != 0 && !(f == 0 && g == 0)) FAIL("float " << f << " came back as " << g);
    ++checked;
  }
  CHECK(checked > 250000);
}

TEST_CASE("cli flags: kfold --limit draws at most N images, stratified, as train's --limit") {
  TempDir dir("cli_kfold_limit");
  const std::string data = radius::test::tiny_dataset(dir);  // 40 images, 20 per class
  const std::string run = dir.file("kf");
  const auto r = radius_cli_streams("kfold " + q(data) + " -k 2 --limit 16 --model " + q(radius::test::kTinySpec) +
                                        " --epochs 1 --batch 8 --threads 1 --quiet --out " + q(run),
                                    dir);
  CAPTURE(r.err);
  REQUIRE(r.rc == 0);
  const nlohmann::json config = nlohmann::json::parse(read_text(run + "/config.json"));
  CHECK(config.at("limit") == 16);
  CHECK(config.at("images") == 16);
  const auto rows = radius::read_csv(run + "/predictions.csv");  // header + every image once
  REQUIRE(rows.size() == 17);
  int fractured = 0;
  for (size_t i = 1; i < rows.size(); ++i) fractured += rows[i][1] == "0";
  CHECK(fractured == 8);  // stratified: half of each class, as in the data
}

TEST_CASE("cli flags: audit counts its errors, and --strict fails on them (for CI)") {
  TempDir dir("cli_audit_strict");
  const std::string data = radius::test::tiny_dataset(dir);
  SUBCASE("a clean data set passes --strict") {
    const auto r = radius_cli_streams("audit " + q(data) + " --strict --threads 1", dir);
    CAPTURE(r.out);
    CHECK(r.rc == 0);
    CHECK(has(r.out, "audit: 0 errors"));
  }
  SUBCASE("one image under both labels is a label error") {
    const fs::path fractured = fs::path(data) / "train" / "fractured";
    const fs::path first = fs::directory_iterator(fractured)->path();
    fs::copy_file(first, fs::path(data) / "train" / "not fractured" / ("copy-" + first.filename().string()));
    const auto report = radius_cli_streams("audit " + q(data) + " --threads 1", dir);
    CAPTURE(report.out);
    CHECK(report.rc == 0);  // a report: it says so and succeeds
    CHECK(has(report.out, "LABEL ERROR"));
    CHECK(has(report.out, "audit: 1 error "));
    const auto strict = radius_cli_streams("audit " + q(data) + " --strict --threads 1", dir);
    CHECK(strict.rc == 1);
    CHECK(has(strict.err, "audit --strict: 1 error"));
  }
}

TEST_CASE("cli flags: a write that fails names the user's file, never the temporary written first") {
  TempDir dir("cli_write_error");
  { std::ofstream(dir.file("a_file")) << "not a folder\n"; }
  const std::string under_file = dir.file("a_file") + "/x.json";
  try {
    radius::write_file_atomic(under_file, "{}");
    FAIL("writing under a regular file succeeded");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(has(what, "'" + under_file + "'"));
    CHECK(has(what, "Not a directory"));
    CHECK(!has(what, ".tmp."));
  }
  // Through the command line: augment's grid into a folder that is a file.
  radius::Image img(20, 16, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 37 % 251);
  radius::encode_png(img, dir.file("in.png"));
  const auto r = radius_cli_streams("augment " + q(dir.file("in.png")) + " -n 2 --size 16 --out " +
                                        q(dir.file("a_file") + "/grid.png"),
                                    dir);
  CAPTURE(r.err);
  CHECK(r.rc == 1);
  CHECK(has(r.err, "grid.png"));
  CHECK(!has(r.err, ".tmp."));
  if (::geteuid() != 0) {  // a read-only folder refuses only users other than root
    const std::string locked = dir.file("locked");
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    std::string what;
    try {
      radius::write_file_atomic(locked + "/a.png", "x");
    } catch (const std::runtime_error& e) {
      what = e.what();
    }
    fs::permissions(locked, fs::perms::owner_all);
    CHECK(has(what, locked + "/a.png"));
    CHECK(has(what, "Permission denied"));
    CHECK(!has(what, ".tmp."));
  }
}

TEST_CASE("cli flags: summary of a run directory or a weights file shows the recorded spec, of a binary file says so") {
  TempDir dir("cli_summary");
  const std::string data = radius::test::tiny_dataset(dir);
  const std::string run = untrained_run(data, dir);
  const auto spec = radius_cli_streams("summary " + q(radius::test::kTinySpec), dir);
  REQUIRE(spec.rc == 0);
  const std::string table = spec.out.substr(spec.out.find('\n'));  // after the "model: ..." line
  for (const std::string& target : {run, run + "/weights.safetensors"}) {
    const auto r = radius_cli_streams("summary " + q(target), dir);
    CAPTURE(target);
    CAPTURE(r.err);
    CHECK(r.rc == 0);
    CHECK(has(r.out, run + "/model.spec"));  // the run's copy of tiny.spec
    CHECK(has(r.out, "the spec recorded in"));
    CHECK(has(r.out, table));  // the same summary as the spec's
  }
  {  // a binary file that is no weights file
    std::ofstream(dir.file("junk.bin"), std::ios::binary) << std::string("\x7f" "ELF\0\0\x01\x02 binary", 16);
    const auto r = radius_cli_streams("summary " + q(dir.file("junk.bin")), dir);
    CHECK(r.rc == 1);
    CHECK(has(r.err, "not a model spec"));
    CHECK(!has(r.err, "ELF"));
  }
  {  // weights that do not say which spec they fit
    auto model = radius::load_model_spec(radius::test::kTinySpec);
    model->init(1);
    radius::save_weights(*model, dir.file("bare.safetensors"));
    const auto r = radius_cli_streams("summary " + q(dir.file("bare.safetensors")), dir);
    CHECK(r.rc == 1);
    CHECK(has(r.err, "does not record its model spec"));
  }
}

TEST_CASE("cli flags: train's and predict's predictions.csv have one layout, and metrics reads both") {
  TempDir dir("cli_predictions_layout");
  const std::string data = radius::test::tiny_dataset(dir);
  const std::string run = untrained_run(data, dir);
  const std::string predicted = dir.file("predict.csv");
  const auto p = radius_cli_streams("predict " + q(run) + " " + q(data + "/test") + " --quiet --out " + q(predicted), dir);
  CAPTURE(p.err);
  REQUIRE(p.rc == 0);
  const auto trained = radius::read_csv(run + "/predictions.csv");
  const auto by_predict = radius::read_csv(predicted);
  REQUIRE(!trained.empty());
  REQUIRE(!by_predict.empty());
  CHECK(trained[0] == radius::CsvRow{"path", "label", "score", "p_fractured", "class", "gradcam"});
  CHECK(by_predict[0] == trained[0]);
  CHECK(trained.size() == by_predict.size());  // the same test images
  for (const std::string& file : {run + "/predictions.csv", predicted})
    CHECK_MESSAGE(radius_cli_streams("metrics " + q(file), dir).rc == 0, file);
}

TEST_CASE("cli flags: the predictions writer fills the class at its threshold and leaves unknown labels empty") {
  TempDir dir("predictions_writer");
  const std::string path = dir.file("p.csv");
  radius::write_predictions_csv(path, {{"a, b.png", 0, 0.25}, {"c.png", -1, 0.75, "cams/c_gradcam.png"}}, 0.5);
  const auto rows = radius::read_csv(path);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1] == radius::CsvRow{"a, b.png", "0", "0.25", "0.75", "fractured", ""});
  CHECK(rows[2] == radius::CsvRow{"c.png", "", "0.75", "0.25", "not fractured", "cams/c_gradcam.png"});
  try {
    radius::read_predictions_csv(path);
    FAIL("a row without its label was read");
  } catch (const std::runtime_error& e) {
    CHECK(has(e.what(), "label is empty"));
  }
  radius::write_predictions_csv(path, {{"a.png", 1, 0.5}});  // no threshold: no class
  CHECK(radius::read_csv(path)[1] == radius::CsvRow{"a.png", "1", "0.5", "0.5", "", ""});
}

TEST_CASE("cli flags: every numeric option of every command refuses a word in plain words") {
  TempDir dir("cli_every_number");
  const nlohmann::json commands = nlohmann::json::parse(radius_cli("options --flags").out);
  int checked = 0;
  for (const auto& [command, flags] : commands.items())
    for (const nlohmann::json& f : flags) {
      const std::string type = f.at("type"), flag = f.at("flag");
      if (!(type.starts_with("INT") || type.starts_with("UINT") || type.starts_with("FLOAT"))) continue;
      const std::string args = command + " " + flag + " abc" + (flag == "--counts" ? " 1 2 3" : "");
      const auto r = radius_cli_streams(args, dir);
      CAPTURE(args);
      CAPTURE(r.err);
      CHECK(r.rc == 2);
      CHECK(has(r.err, flag + ": 'abc' is not a number"));
      ++checked;
    }
  CHECK(checked >= 60);
}
