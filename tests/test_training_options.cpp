// The training options table (apps/training_options.h) and what is derived from it:
// README.md's option table, the flags of train and kfold, config.json, and what a
// resumed run does with a flag given again.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/training_options.h"
#include "data/synth_dataset.h"
#include "eval/history.h"
#include "cli_util.h"
#include "temp_dir.h"

using radius::test::read_text;
using radius::test::TempDir;
using radius::test::q;
using radius::test::radius_cli;
using radius::test::tiny_dataset;
namespace fs = std::filesystem;

namespace {

const std::string kBegin = "<!-- training options: `radius options` writes this table -->\n";
const std::string kEnd = "<!-- end of training options -->";

// README.md's table: the lines between the two markers.
std::string readme_table() {
  const std::string readme = read_text(std::string(RADIUS_SOURCE_DIR) + "/README.md");
  const size_t begin = readme.find(kBegin), end = readme.find(kEnd);
  REQUIRE_MESSAGE(begin != std::string::npos, "README.md lacks the line " << kBegin);
  REQUIRE_MESSAGE(end != std::string::npos, "README.md lacks the line " << kEnd);
  REQUIRE(begin < end);
  return readme.substr(begin + kBegin.size(), end - begin - kBegin.size());
}

// The `--flags` of a table's first column.
std::set<std::string> table_flags(const std::string& table) {
  std::set<std::string> flags;
  const std::regex row(R"(^\| `(--[a-z-]+)` \|)", std::regex::multiline);
  for (auto it = std::sregex_iterator(table.begin(), table.end(), row); it != std::sregex_iterator(); ++it)
    flags.insert((*it)[1]);
  return flags;
}

}  // namespace

TEST_CASE("training options: README.md lists every option, and only those, as `radius options` writes them") {
  const radius::test::CliRun table = radius_cli("options");
  REQUIRE(table.rc == 0);
  const std::set<std::string> options = table_flags(table.out);
  CHECK(options.size() >= 30);
  const std::string readme = readme_table();
  const std::set<std::string> listed = table_flags(readme);
  for (const std::string& flag : options) CHECK_MESSAGE(listed.count(flag), "README.md misses " << flag);
  for (const std::string& flag : listed) CHECK_MESSAGE(options.count(flag), "README.md lists " << flag << ", no longer an option");
  CHECK_MESSAGE(readme == table.out, "README.md's training options differ from the table: paste `radius options` between its markers");
}

TEST_CASE("training options: train and kfold take every option of the table") {
  const std::set<std::string> options = table_flags(radius_cli("options").out);
  for (const char* command : {"train", "kfold"}) {
    const radius::test::CliRun help = radius_cli(std::string(command) + " --help");
    REQUIRE(help.rc == 0);
    for (const std::string& flag : options)
      CHECK_MESSAGE(std::regex_search(help.out, std::regex(flag + "\\b")), command << " --help misses " << flag);
  }
}

TEST_CASE("training options: config.json records the recipe, an older run's config.json still resumes") {
  TempDir dir("training_options");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  const radius::test::CliRun t =
      radius_cli("train " + q(data) + " --model " + q(radius::test::kTinySpec) +
                 " --epochs 1 --batch 8 --lr 0.002 --no-flip --health-every 0 --threads 1 --quiet --out " + q(run));
  CAPTURE(t.out);
  REQUIRE(t.rc == 0);
  nlohmann::json config = nlohmann::json::parse(read_text(run + "/config.json"));
  CHECK(config.at("batch") == 8);
  CHECK(config.at("lr").get<float>() == 0.002f);
  CHECK(config.at("flip") == false);  // --no-flip
  CHECK(config.at("augment") == true);
  CHECK(config.at("health_every") == 0);
  CHECK(config.at("epochs") == 1);
  CHECK(config.at("threads") == 1);
  CHECK_FALSE(config.contains("quiet"));  // not part of the recipe

  // The keys of options added after the first runs go: such a run resumes with their
  // defaults (health checks every 10 batches), the recorded ones kept.
  for (const char* later : {"recipe", "group_regex", "threshold", "init", "warmup_epochs", "warmup_steps", "lr_schedule",
                            "lr_step_epochs", "lr_step_factor", "clip_norm", "health_every", "augment_warmup"})
    config.erase(later);
  std::ofstream(run + "/config.json") << config.dump(2);
  const radius::test::CliRun r =
      radius_cli("train --resume " + q(run) + " --epochs 2 --batch 16 --lr 0.5 --threads 1 --quiet");
  CAPTURE(r.out);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("ignored on --resume: --batch, --lr (a resumed run keeps the recipe in config.json") !=
        std::string::npos);
  CHECK(r.out.find("batch 8") != std::string::npos);
  CHECK(r.out.find("health checks every 10 batches") != std::string::npos);
  CHECK(radius::read_history_csv(run + "/history.csv").size() == 2);
}

TEST_CASE("training options: --recipe advised (the default) sets its options where the command line does not, paper sets none") {
  // Every option a recipe sets is an option of the table.
  const std::string tables = radius_cli("options").out;
  const std::set<std::string> options = table_flags(tables);
  const std::regex recipe_row(R"(^\| `advised` \|.*$)", std::regex::multiline);
  std::smatch advised;
  REQUIRE(std::regex_search(tables, advised, recipe_row));
  const std::string row = advised.str();
  const std::regex set_flag("`(--[a-z-]+) ");
  int sets = 0;
  for (auto it = std::sregex_iterator(row.begin(), row.end(), set_flag); it != std::sregex_iterator(); ++it, ++sets)
    CHECK_MESSAGE(options.count((*it)[1]), "the advised recipe sets " << (*it)[1] << ", not an option");
  CHECK(sets >= 5);

  TempDir dir("training_recipes");
  const std::string data = tiny_dataset(dir);
  const std::string common = " --model " + q(radius::test::kTinySpec) + " --epochs 1 --batch 8 --threads 1 --quiet";
  const auto config_of = [&](const std::string& run, const std::string& flags) {
    const radius::test::CliRun t = radius_cli("train " + q(data) + common + flags + " --out " + q(dir.file(run)));
    CAPTURE(t.out);
    REQUIRE(t.rc == 0);
    return nlohmann::json::parse(read_text(dir.file(run) + "/config.json"));
  };
  const nlohmann::json advised_run = config_of("advised", " --init he-normal");
  CHECK(advised_run.at("recipe") == "advised");
  CHECK(advised_run.at("init") == "he-normal");  // given: the command line wins
  CHECK(advised_run.at("lr_schedule") == "cosine");
  CHECK(advised_run.at("warmup_epochs") == 1);
  CHECK(advised_run.at("augment_warmup") == 10);
  CHECK(advised_run.at("patience") == 0);
  CHECK(advised_run.at("epochs") == 1);  // given
  CHECK(advised_run.at("model") == "model.spec");  // the given spec, copied into the run
  const nlohmann::json paper_run = config_of("paper", " --recipe paper");
  CHECK(paper_run.at("recipe") == "paper");
  CHECK(paper_run.at("init") == "glorot");
  CHECK(paper_run.at("lr_schedule") == "constant");
  CHECK(paper_run.at("warmup_epochs") == 0);
  CHECK(paper_run.at("augment_warmup") == 0);
  CHECK(paper_run.at("patience") == 5);
  CHECK(paper_run.at("lr").get<float>() == 1e-3f);
}

TEST_CASE("training options: a config.json key of the wrong type stops a resume with its name") {
  TempDir dir("training_options_bad");
  const std::string run = dir.file("run");
  fs::create_directories(run);
  std::ofstream(run + "/config.json") << R"({"model": "m.spec", "epochs": 1.5})";
  const radius::test::CliRun r = radius_cli("train --resume " + q(run));
  CAPTURE(r.out);
  CHECK(r.rc != 0);
  CHECK(r.out.find("config.json: 'epochs' must be an integer") != std::string::npos);
}

// config.json's reader checks each recorded value as the command line checks the flag:
// type, the type's range, the option's range or words. A refusal names the key.
TEST_CASE("training options: config.json values outside an option's range are refused with the key") {
  using radius::app::TrainingOptions;
  const nlohmann::json good = radius::app::training_config(TrainingOptions());
  const auto refusal = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json j = good;
    j[key] = value;
    TrainingOptions o;
    try {
      radius::app::read_training_config(j, o, {});
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refusal("lr", -1) == "'lr' must be > 0, got -1");
  CHECK(refusal("lr", 1e-50) == "'lr' must be > 0, got 1e-50");  // 0 as a float
  CHECK(refusal("lr", 1e300).find("'lr' must be a finite number within a float's range") == 0);
  CHECK(refusal("lr", "0.001") == "'lr' must be a finite number within a float's range, got a string");
  CHECK(refusal("batch", 0).find("'batch' must be") == 0);
  CHECK(refusal("momentum", 1.0) == "'momentum' must be in [0, 1), got 1.0");
  CHECK(refusal("optimizer", "adamw") == "'optimizer' must be one of adam, adam-pytorch, sgd, got \"adamw\"");
  CHECK(refusal("flip", 1) == "'flip' must be true or false, got 1");
  CHECK(refusal("model", 3) == "'model' must be a string, got 3");
  CHECK(refusal("lr", 0.002) == "accepted");

  nlohmann::json missing = good;
  missing.erase("seed");
  TrainingOptions o;
  CHECK_THROWS_WITH_AS(radius::app::read_training_config(missing, o, {}), "'seed' is missing", std::runtime_error);
  CHECK_THROWS_AS(radius::app::read_training_config(nlohmann::json::array(), o, {}), std::runtime_error);
  // A value given again on the command line (--epochs) is still checked where recorded:
  // the recorded one is the schedule's length.
  nlohmann::json negative = good;
  negative["epochs"] = -3;
  CHECK_THROWS_WITH_AS(radius::app::read_training_config(negative, o, {"--epochs"}), "'epochs' must be at least 0, got -3",
                       std::runtime_error);
}
