// The training recipe's options, each declared once: one row of the table in
// training_options.cpp names its flag, the TrainingOptions field it sets, its default,
// its help text, its config.json key and what `radius train --resume` does with it.
// Everything else comes from that table:
//   - the flags of `radius train` and `radius kfold` (add_training_options),
//   - config.json, written (training_config) and read back on --resume (read_training_config),
//   - which flags a resumed run takes from the command line (OnResume, ignored_on_resume_note),
//   - the option table in README.md (training_options_markdown, printed by `radius options`;
//     tests/test_training_options.cpp fails when README.md differs from it).
// Adding an option: a field below, a row in the table, then paste `radius options` into README.md.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace radius::app {

// The training recipe. The table's defaults are the seed paper's recipe: the
// constructor sets every field to its row's default. A named recipe (--recipe, below)
// then changes some of them where the command line does not (apply_recipe).
struct TrainingOptions {
  TrainingOptions();
  std::string recipe_name;  // --recipe: advised | paper
  std::string model;  // model spec file
  int epochs{}, patience{}, batch{}, threads{};
  float lr{}, momentum{};
  std::string optimizer, device;
  bool no_augment{}, no_flip{};
  float rotation{}, shift{}, shear{}, zoom{};
  int augment_warmup{};  // epochs over which the warp grows from none to the above (0 = full at once)
  double val_fraction{}, min_delta{}, threshold{};
  bool group{};
  std::string group_regex;  // group key pattern on the file stem; empty: default_group_pattern()
  std::string window;       // DICOM window "C,W" (data/voi_window.h); empty: each file's own
  uint64_t seed{};
  bool quiet{};
  // Recipe options the training-health warnings point to; all off by default (the paper's recipe).
  std::string init, lr_schedule;
  int warmup_epochs{}, lr_step_epochs{}, health_every{}, micro_batches{};
  int recalibrate_bn{};  // batches of unaugmented training images re-estimating batch norm's statistics (net/fit.h)
  int64_t warmup_steps{};
  double lr_step_factor{}, clip_norm{};
  // Not an option: the cosine schedule's length in epochs; 0: --epochs. A resumed run
  // keeps the one config.json records, whatever --epochs now says (see resumed_schedule_note).
  int schedule_epochs = 0;
};

// What a resumed run (`radius train --resume RUN`) does with an option.
enum class OnResume {
  kept,        // part of the recipe: config.json's value, whatever the command line says
  may_change,  // config.json's value unless given again (--epochs: where the run stops; threads, device)
  as_given,    // not part of the recipe (the progress bar): the command line's
};

// Where an option goes in config.json.
struct ConfigKey {
  std::string name;       // "": not recorded
  bool negated = false;   // a --no-X switch, recorded as "X" (true when the switch is off)
  bool optional = false;  // added after the first runs: an older config.json without it reads as the default
  std::string absent;     // ... or as this value, when it is not the default (older runs used another one)
};

// One row of the table. The functions reach the row's TrainingOptions field whatever
// its type (the table builds them from a pointer to the field).
struct TrainingOption {
  std::string flag, help;
  ConfigKey key;
  OnResume on_resume = OnResume::kept;
  std::string default_text;  // the default as README.md's table shows it
  std::function<void(TrainingOptions&)> set_default;
  std::function<void(TrainingOptions&, const std::string&)> set_text;  // a recipe's value, as the flag reads it
  std::function<void(CLI::App&, TrainingOptions&)> add_to;
  std::function<void(const TrainingOptions&, nlohmann::json&)> write;  // into config.json (when recorded)
  std::function<void(const nlohmann::json&, TrainingOptions&)> read;   // from config.json; throws on a bad key
};

// The table, in the order `--help` lists the flags.
const std::vector<TrainingOption>& training_option_table();

// Registers every option of the table on a subcommand (train, kfold).
void add_training_options(CLI::App& cmd, TrainingOptions& o);
// Registers one row (by its flag, "--group-regex") on a command that shares it with
// training (audit's --group-regex, augment's warp): the same name, help and range.
void add_training_option(CLI::App& cmd, TrainingOptions& o, const std::string& flag);
// The flags of the table given on this subcommand's command line.
std::vector<std::string> training_flags_given(const CLI::App& cmd);

// The recipe as config.json keys, and back: a resumed run takes every kept option
// from config.json, an option that may change only when it is not in `given`; options
// kept as given are not read. schedule_epochs is always config.json's "epochs".
nlohmann::json training_config(const TrainingOptions& o);
void read_training_config(const nlohmann::json& j, TrainingOptions& o, const std::vector<std::string>& given);
// The line that says which of the `given` flags a resumed run ignores (they are its
// recorded recipe's), or "" when none.
std::string ignored_on_resume_note(const std::vector<std::string>& given);

// A named recipe: values for some options of the table, used where the command line
// does not give them. "paper" is the table's defaults (the seed paper's recipe, exactly);
// "advised" is what we would pick today for this problem, chosen by measurement
// (README, "The advised recipe").
struct Recipe {
  std::string name, summary;
  std::vector<std::pair<std::string, std::string>> values;  // flag, value as typed on the command line
};
const std::vector<Recipe>& training_recipes();
// Sets the options of o.recipe_name's recipe that are not among the `given` flags.
void apply_recipe(TrainingOptions& o, const std::vector<std::string>& given);

// The Markdown tables of README.md's "Training options" section: the options, and the recipes.
std::string training_options_markdown();
std::string training_recipes_markdown();

}  // namespace radius::app
