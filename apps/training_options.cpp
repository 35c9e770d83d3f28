#include "apps/training_options.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>
#include <type_traits>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "io/json_checked.h"
#include "io/json_number.h"

namespace radius::app {

using nlohmann::json;

namespace {

// How a default reads in README.md's table: a switch is off, an empty string is none,
// the paper spec's path is relative to the folder above models/ (the source tree, or
// share/radius/ when installed).
template <class T>
std::string shown_default(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "on" : "off";
  } else if constexpr (std::is_same_v<T, std::string>) {
    const std::string root = std::filesystem::path(models_dir()).parent_path().string() + "/";
    if (value.empty()) return "none";
    return "`" + (value.rfind(root, 0) == 0 ? value.substr(root.size()) : value) + "`";
  } else {
    std::ostringstream s;
    s << value;
    return "`" + s.str() + "`";
  }
}

// What an option accepts: numbers in a range (every number type), or one of some words.
struct Accepts {
  NumberRange range;
  std::vector<std::string> choices;
};
Accepts range(const NumberRange& r) { return {r, {}}; }
Accepts one_of(std::vector<std::string> words) { return {{}, std::move(words)}; }

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// config.json's value for `key`, checked as the command line checks it: of the option's
// type (a number must fit the field: io/json_checked.h) and accepted by the option (its
// range or words). A hand-edited or damaged config.json must not resume with an lr of -1.
template <class T>
T config_value(const json& j, const ConfigKey& key, const Accepts& accepts) {
  const json& v = json_field(j, key.name);
  const auto refuse = [&](const std::string& why) {
    return std::runtime_error("'" + key.name + "' " + why + ", got " + v.dump());
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) throw refuse("must be true or false");
    return v.get<bool>() != key.negated;
  } else if constexpr (std::is_arithmetic_v<T>) {
    T value;
    if constexpr (std::is_integral_v<T>) value = json_integer<T>(v, key.name);
    else value = json_real<T>(v, key.name);
    // The value as the field holds it: 1e-50 passes "> 0" as a double and is 0 as a float.
    if (const std::string problem = outside_range(double(value), accepts.range); !problem.empty())
      throw refuse(problem);
    return value;
  } else {
    if (!v.is_string()) throw refuse("must be a string");
    std::string value = v.get<std::string>();
    if (!accepts.choices.empty() && std::find(accepts.choices.begin(), accepts.choices.end(), value) ==
                                        accepts.choices.end())
      throw refuse("must be one of " + joined(accepts.choices));
    return value;
  }
}

// A row of the table: the field is what the flag sets (its type is the option's type).
// A bool field is a switch (add_flag); a number is checked against its range (every
// number is, with a plain message: apps/common_flags.h); a string against its choices.
// `names` are CLI11's (a short name too: "-q,--quiet"); `flag` is the long one.
template <class T>
TrainingOption row_of(const std::string& flag, const std::string& names, T TrainingOptions::*field,
                      std::type_identity_t<T> default_value, const std::string& help, const ConfigKey& config,
                      OnResume on_resume, const Accepts& accepts) {
  TrainingOption row;
  row.flag = flag;
  row.help = help;
  row.key = config;
  row.on_resume = on_resume;
  row.default_text = shown_default(default_value);
  row.set_default = [field, default_value](TrainingOptions& o) { o.*field = default_value; };
  row.set_text = [flag, field](TrainingOptions& o, const std::string& text) {
    if constexpr (std::is_same_v<T, bool>) {
      o.*field = text == "on";
    } else if constexpr (std::is_arithmetic_v<T>) {
      std::istringstream in(text);
      T value{};
      if (!(in >> value) || !in.eof()) throw std::logic_error("recipe value '" + text + "' for " + flag);
      o.*field = value;
    } else {
      o.*field = text;
    }
  };
  row.add_to = [names, help, field, accepts](CLI::App& cmd, TrainingOptions& o) {
    if constexpr (std::is_same_v<T, bool>) {
      cmd.add_flag(names, o.*field, help);
    } else if constexpr (std::is_arithmetic_v<T>) {
      add_number(cmd, names, o.*field, help, accepts.range);
    } else {
      CLI::Option* opt = cmd.add_option(names, o.*field, help)->capture_default_str();
      if (!accepts.choices.empty()) opt->check(CLI::IsMember(accepts.choices));
    }
  };
  row.write = [config, field](const TrainingOptions& o, json& j) {
    if (config.name.empty()) return;
    if constexpr (std::is_same_v<T, bool>)
      j[config.name] = (o.*field) != config.negated;
    else if constexpr (std::is_same_v<T, float>)
      j[config.name] = short_double(o.*field);
    else
      j[config.name] = o.*field;
  };
  row.read = [config, field, default_value, accepts, set_text = row.set_text](const json& j, TrainingOptions& o) {
    if (!config.optional || j.contains(config.name)) o.*field = config_value<T>(j, config, accepts);
    else if (!config.absent.empty()) set_text(o, config.absent);
    else o.*field = default_value;
  };
  return row;
}

// An option of training alone.
template <class T>
TrainingOption option(const std::string& flag, T TrainingOptions::*field, std::type_identity_t<T> default_value,
                      const std::string& help, const ConfigKey& config, OnResume on_resume,
                      const Accepts& accepts = {}) {
  return row_of(flag, flag, field, default_value, help, config, on_resume, accepts);
}

// An option every command that has it shares (apps/common_flags.h): its names, help and
// range come from the shared table, so train's --threads is predict's --threads.
template <class T>
TrainingOption shared_option(const std::string& flag, T TrainingOptions::*field, std::type_identity_t<T> default_value,
                             const ConfigKey& config, OnResume on_resume) {
  const SharedFlag& f = shared_flag(flag);
  return row_of(flag, f.names, field, default_value, f.help, config, on_resume, Accepts{f.range, f.choices});
}

// The config.json column: a key, a --no-X switch recorded as "X", a key older runs may
// lack (read as the default), or none.
ConfigKey key(const std::string& name) { return {name, false, false, ""}; }
ConfigKey negated_key(const std::string& name) { return {name, true, false, ""}; }
ConfigKey optional_key(const std::string& name) { return {name, false, true, ""}; }
ConfigKey optional_key(const std::string& name, const std::string& absent) { return {name, false, true, absent}; }
ConfigKey not_recorded() { return {}; }

using O = TrainingOptions;
constexpr OnResume kept = OnResume::kept, may_change = OnResume::may_change, as_given = OnResume::as_given;

std::vector<TrainingOption> make_table() {
  return {
      // Runs from before --recipe existed used the paper's recipe (their config.json holds every value anyway).
      option("--recipe", &O::recipe_name, "advised",
             "Named recipe for the options not given: advised (the default; README, \"The advised recipe\") | paper "
             "(the seed paper's, exactly: this table's defaults)",
             optional_key("recipe", "paper"), kept, one_of({"advised", "paper"})),
      option("--model", &O::model, default_model_path(), "Model spec file (its input line sets the image size)",
             key("model"), kept),
      option("--epochs", &O::epochs, 50, "Maximum epochs", key("epochs"), may_change, range(non_negative())),
      option("--patience", &O::patience, 5, "Early stopping: epochs without val-loss improvement (0 = off)",
             key("patience"), kept, range(non_negative())),
      option("--min-delta", &O::min_delta, 0.0, "Smallest val-loss decrease that counts as improvement",
             key("min_delta"), kept, range(non_negative())),
      shared_option("--batch", &O::batch, 32, key("batch"), kept),
      option("--lr", &O::lr, 1e-3f, "Learning rate", key("lr"), kept, range(positive())),
      option("--optimizer", &O::optimizer, "adam", "adam (Keras form) | adam-pytorch | sgd", key("optimizer"),
             kept, one_of({"adam", "adam-pytorch", "sgd"})),
      option("--momentum", &O::momentum, 0.0f, "SGD momentum", key("momentum"), kept,
             range(from_up_to(0, 1))),
      option("--no-augment", &O::no_augment, false, "Train without augmentation (rescale only)",
             negated_key("augment"), kept),
      option("--rotation", &O::rotation, 40.0f, "Augmentation: rotation range, degrees", key("rotation"), kept,
             range(closed(0, 180))),
      option("--shift", &O::shift, 0.2f, "Augmentation: width/height shift fraction", key("shift"), kept,
             range(closed(0, 1))),
      option("--shear", &O::shear, 0.2f, "Augmentation: shear range, degrees", key("shear"), kept,
             range(from_up_to(0, 90))),
      option("--zoom", &O::zoom, 0.2f, "Augmentation: zoom range", key("zoom"), kept, range(from_up_to(0, 1))),
      option("--no-flip", &O::no_flip, false, "Augmentation: no horizontal flips", negated_key("flip"), kept),
      option("--augment-warmup", &O::augment_warmup, 0,
             "Progressive augmentation: the warp grows linearly from none to full over N epochs (0 = full at once)",
             optional_key("augment_warmup"), kept, range(non_negative())),
      option("--val-fraction", &O::val_fraction, 0.2,
             "Validation share split off the training images (train: when DATA has no val/)", key("val_fraction"),
             kept, range(open(0, 1))),
      option("--group", &O::group, false, "Group-aware splits: rotated copies of one X-ray stay on one side",
             key("group"), kept),
      option("--group-regex", &O::group_regex, "",
             "Group key: regex on the file stem, first capture group (default: prefix before '-rotated'; "
             "a manifest's group column wins)",
             optional_key("group_regex"), kept),
      option("--window", &O::window, "",
             "DICOM window CENTER,WIDTH in the files' (rescaled) units, replacing each file's own "
             "(default: the file's window, else its VOI LUT, else its min..max)",
             optional_key("window"), kept),
      shared_option("--threshold", &O::threshold, 0.5, optional_key("threshold"), kept),
      shared_option("--seed", &O::seed, 1, key("seed"), kept),
      shared_option("--threads", &O::threads, 0, key("threads"), may_change),
      shared_option("--device", &O::device, "cpu", key("device"), may_change),
      shared_option("--quiet", &O::quiet, false, not_recorded(), as_given),
      option("--init", &O::init, "glorot", "Weight init: glorot (Keras default) | he-uniform | he-normal (for ReLU nets)",
             optional_key("init"), kept, one_of({"glorot", "he-uniform", "he-normal"})),
      option("--warmup-epochs", &O::warmup_epochs, 0, "Linear learning-rate warmup over N epochs (0 = none)",
             optional_key("warmup_epochs"), kept, range(non_negative())),
      option("--warmup-steps", &O::warmup_steps, 0, "Linear learning-rate warmup over N batches (overrides epochs)",
             optional_key("warmup_steps"), kept, range(non_negative())),
      option("--lr-schedule", &O::lr_schedule, "constant",
             "After warmup: constant | cosine (to 0 at --epochs; a resume keeps it) | step",
             optional_key("lr_schedule"), kept, one_of({"constant", "cosine", "step"})),
      option("--lr-step-epochs", &O::lr_step_epochs, 10, "Step schedule: epochs between decays",
             optional_key("lr_step_epochs"), kept, range(positive())),
      option("--lr-step-factor", &O::lr_step_factor, 0.1, "Step schedule: learning-rate multiplier per decay",
             optional_key("lr_step_factor"), kept, range({0.0, 1.0, true, false})),
      option("--micro-batches", &O::micro_batches, 1,
             "Gradient accumulation: each batch in N micro-batches, one update (activations take 1/N the memory); "
             "R MPI ranks share them out (N = R unless given; N >= R)",
             optional_key("micro_batches"), kept, range({1.0, std::nullopt, false, false})),
      option("--recalibrate-bn", &O::recalibrate_bn, 0,
             "Batch norm: before each validation, re-estimate the running statistics over N batches of "
             "unaugmented training images (0 = off; a model without batch norm ignores it)",
             optional_key("recalibrate_bn"), kept, range(non_negative())),
      option("--clip-norm", &O::clip_norm, 0.0, "Clip the global gradient norm to this value (0 = off)",
             optional_key("clip_norm"), kept, range(non_negative())),
      option("--health-every", &O::health_every, 10,
             "Training-health statistics and warnings every N batches (0 = off); see health.csv",
             optional_key("health_every"), kept, range(non_negative())),
  };
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A table cell: '|' would end it.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

const std::vector<TrainingOption>& training_option_table() {
  static const std::vector<TrainingOption> table = make_table();
  return table;
}

TrainingOptions::TrainingOptions() {
  for (const TrainingOption& row : training_option_table()) row.set_default(*this);
}

const std::vector<Recipe>& training_recipes() {
  static const std::vector<Recipe> recipes = {
      {"advised",
       "batch norm and global max pooling (models/advised.spec), He init, a one-epoch learning-rate warmup, "
       "cosine decay, the augmentation growing over 10 epochs, 30 epochs without early stopping",
       {{"--model", models_dir() + "/advised.spec"},
        {"--init", "he-uniform"},
        {"--lr", "0.001"},
        {"--warmup-epochs", "1"},
        {"--lr-schedule", "cosine"},
        {"--augment-warmup", "10"},
        {"--epochs", "30"},
        {"--patience", "0"}}},
      {"paper", "the seed paper's recipe: this table's defaults", {}},
  };
  return recipes;
}

void apply_recipe(TrainingOptions& o, const std::vector<std::string>& given) {
  for (const Recipe& recipe : training_recipes()) {
    if (recipe.name != o.recipe_name) continue;
    for (const auto& [flag, value] : recipe.values) {
      const auto& table = training_option_table();
      const auto row = std::find_if(table.begin(), table.end(), [&flag = flag](const TrainingOption& r) {
        return r.flag == flag;
      });
      if (row == table.end()) throw std::logic_error("recipe " + recipe.name + " sets " + flag + ", not an option");
      if (!contains(given, flag)) row->set_text(o, value);
    }
    return;
  }
  throw std::logic_error("no recipe " + o.recipe_name);
}

void add_training_options(CLI::App& cmd, TrainingOptions& o) {
  for (const TrainingOption& row : training_option_table()) row.add_to(cmd, o);
}

void add_training_option(CLI::App& cmd, TrainingOptions& o, const std::string& flag) {
  for (const TrainingOption& row : training_option_table())
    if (row.flag == flag) return row.add_to(cmd, o);
  throw std::logic_error("no training option " + flag);
}

std::vector<std::string> training_flags_given(const CLI::App& cmd) {
  std::vector<std::string> given;
  for (const TrainingOption& row : training_option_table())
    if (cmd.count(row.flag) > 0) given.push_back(row.flag);
  return given;
}

json training_config(const TrainingOptions& o) {
  json j = json::object();
  for (const TrainingOption& row : training_option_table()) row.write(o, j);
  return j;
}

void read_training_config(const json& j, TrainingOptions& o, const std::vector<std::string>& given) {
  TrainingOptions recorded = o;
  for (const TrainingOption& row : training_option_table()) {
    if (row.on_resume == OnResume::as_given) continue;
    row.read(j, recorded);  // every recorded value is checked, the ones given again too
    if (row.on_resume == OnResume::may_change && contains(given, row.flag)) continue;
    row.read(j, o);
  }
  o.schedule_epochs = recorded.epochs;  // the recipe's length, even with a new --epochs
}

std::string ignored_on_resume_note(const std::vector<std::string>& given) {
  std::string ignored, changeable;
  for (const TrainingOption& row : training_option_table()) {
    if (row.on_resume != OnResume::kept) changeable += (changeable.empty() ? "" : ", ") + row.flag;
    else if (contains(given, row.flag)) ignored += (ignored.empty() ? "" : ", ") + row.flag;
  }
  if (ignored.empty()) return "";
  return "ignored on --resume: " + ignored + " (a resumed run keeps the recipe in config.json; only " + changeable +
         " may change)";
}

std::string training_recipes_markdown() {
  std::string md = "| recipe | what it is | options it sets (where the command line does not) |\n| --- | --- | --- |\n";
  for (const Recipe& recipe : training_recipes()) {
    std::string values;
    for (const auto& [flag, value] : recipe.values)
      values += (values.empty() ? "" : ", ") + ("`" + flag + " ") + shown_default(value).substr(1);
    md += "| `" + recipe.name + "` | " + cell(recipe.summary) + " | " + (values.empty() ? "none" : values) + " |\n";
  }
  return md;
}

std::string training_options_markdown() {
  static const char* const resume_words[] = {"kept", "may change", "as given"};
  std::string md =
      "| option | default | config.json key | on `--resume` | what it sets |\n"
      "| --- | --- | --- | --- | --- |\n";
  for (const TrainingOption& row : training_option_table()) {
    std::string config = row.key.name.empty() ? "not recorded" : "`" + row.key.name + "`";
    if (row.key.negated) config += " (the opposite)";
    md += "| `" + row.flag + "` | " + row.default_text + " | " + config +
          " | " + resume_words[int(row.on_resume)] + " | " + cell(row.help) + " |\n";
  }
  return md;
}

}  // namespace radius::app
