// The command line's shared vocabulary: the flags several subcommands take, each declared
// once (names, help, range) in the table of common_flags.cpp, and the numeric checks every
// number on the command line goes through.
//
// A subcommand adds a shared flag with add_shared_flag(cmd, "--threads", field), so
// `--threads` means the same, says the same in --help and accepts the same values in every
// command (`radius options --flags` lists every command's flags; a test compares them).
// The training recipe's rows (training_options.cpp) take their shared flags from here too.
//
// Numbers are checked before CLI11 converts them, with messages in plain words:
//   --lr: 'abc' is not a number        --batch: '1.5' is not a whole number
//   --lr: must be > 0, got -1          --threshold: must be in [0, 1], got 2
#pragma once
#include <CLI/CLI.hpp>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace radius::app {

// Which numbers an option accepts: an optional lower and upper bound, each closed or open.
struct NumberRange {
  std::optional<double> min, max;
  bool min_open = false, max_open = false;
};
inline NumberRange any_value() { return {}; }
inline NumberRange positive() { return {0.0, std::nullopt, true, false}; }
inline NumberRange non_negative() { return {0.0, std::nullopt, false, false}; }
inline NumberRange closed(double lo, double hi) { return {lo, hi, false, false}; }  // [lo, hi]
inline NumberRange open(double lo, double hi) { return {lo, hi, true, true}; }      // (lo, hi)
inline NumberRange from_up_to(double lo, double hi) { return {lo, hi, false, true}; }  // [lo, hi)

// The range as --help shows it: "> 0", ">= 0", "in [0, 1]", "" (any number).
std::string range_text(const NumberRange& r);

// Why `v` is outside `range` ("must be > 0", "must be at least 2"), or "" when it is inside.
// The command line's check and config.json's reader (training_options.cpp) refuse a value
// in the same words.
std::string outside_range(double v, const NumberRange& range);

// A check for an option of a number type: the text must be a number (a whole number when
// `whole`, within [type_min, type_max]) inside `range`, as the field will hold it (`single`:
// a float, where --lr 1e-50 is 0). Its description is range_text.
CLI::Validator number_check(const NumberRange& range, bool whole, double type_min, double type_max, bool single);
template <class T>
CLI::Validator number_check(const NumberRange& range = {}) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  return number_check(range, std::is_integral_v<T>, double(std::numeric_limits<T>::lowest()),
                      double(std::numeric_limits<T>::max()), std::is_same_v<T, float>);
}

// A numeric option with its default shown and its range checked.
template <class T>
CLI::Option* add_number(CLI::App& cmd, const std::string& names, T& field, const std::string& help,
                        const NumberRange& range = {}) {
  return cmd.add_option(names, field, help)->capture_default_str()->check(number_check<T>(range));
}

// One shared flag. `help` is its --help text in every command, except for a flag whose
// meaning depends on the command (--out: what is written; --model: where the spec comes
// from), which takes its help from the command.
struct SharedFlag {
  std::string names;  // CLI11 names: "-q,--quiet"
  std::string help;
  bool switch_flag = false;       // takes no value
  bool numeric = false;           // a number in `range`
  NumberRange range;
  std::vector<std::string> choices;  // the accepted words ({} = any)
  bool help_per_command = false;
};

// The table: --threads, --batch, --device, --threshold, --seed, --quiet, --limit, --out, --overwrite, --model.
const std::vector<SharedFlag>& shared_flags();
// The row of a flag by its long name ("--threads"); throws std::logic_error on an unknown name.
const SharedFlag& shared_flag(const std::string& long_name);

// Adds the shared flag `long_name` to `cmd`, bound to `field`. `help` only for a flag whose
// help is per command.
template <class T>
CLI::Option* add_shared_flag(CLI::App& cmd, const std::string& long_name, T& field, const std::string& help = "") {
  const SharedFlag& f = shared_flag(long_name);
  const std::string& text = f.help_per_command ? help : f.help;
  if constexpr (std::is_same_v<T, bool>) {
    return cmd.add_flag(f.names, field, text);
  } else {
    CLI::Option* opt = cmd.add_option(f.names, field, text);
    if constexpr (std::is_arithmetic_v<T>) {
      opt->capture_default_str()->check(number_check<T>(f.range));
    } else {
      if (!f.choices.empty()) opt->capture_default_str()->check(CLI::IsMember(f.choices));
    }
    return opt;
  }
}

}  // namespace radius::app
