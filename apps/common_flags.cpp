#include "apps/common_flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace radius::app {

namespace {

std::string shown(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The whole text as a number, or nothing ("abc", "1x", "", "nan", "inf").
std::optional<double> parse_number(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool inside(double v, const NumberRange& r) {
  if (r.min && (r.min_open ? !(v > *r.min) : !(v >= *r.min))) return false;
  if (r.max && (r.max_open ? !(v < *r.max) : !(v <= *r.max))) return false;
  return true;
}

// The range in an error message: "> 0", "at least 2", "in [0, 1]".
std::string range_words(const NumberRange& r) {
  if (r.min && !r.max && !r.min_open) return "at least " + shown(*r.min);
  if (r.max && !r.min && !r.max_open) return "at most " + shown(*r.max);
  return range_text(r);
}

}  // namespace

std::string outside_range(double v, const NumberRange& range) {
  return inside(v, range) ? "" : "must be " + range_words(range);
}

std::string range_text(const NumberRange& r) {
  if (r.min && r.max)
    return "in " + std::string(r.min_open ? "(" : "[") + shown(*r.min) + ", " + shown(*r.max) + (r.max_open ? ")" : "]");
  if (r.min) return (r.min_open ? "> " : ">= ") + shown(*r.min);
  if (r.max) return (r.max_open ? "< " : "<= ") + shown(*r.max);
  return "";
}

CLI::Validator number_check(const NumberRange& range, bool whole, double type_min, double type_max, bool single) {
  const std::string description = range_text(range);
  return CLI::Validator(
      [range, whole, type_min, type_max, single, description](std::string& text) -> std::string {
        const std::optional<double> v = parse_number(text);
        if (!v) return "'" + text + "' is not a number";
        if (whole && (*v != std::floor(*v) || text.find_first_of(".eE") != std::string::npos))
          return "'" + text + "' is not a whole number";
        if (const std::string problem = outside_range(*v, range); !problem.empty()) return problem + ", got " + text;
        if (*v < type_min || *v > type_max) return "'" + text + "' is out of range (" + shown(type_min) + " to " +
                                                   shown(type_max) + ")";
        if (single) {  // as the field holds it (within a float's range, so the conversion is defined)
          const double held = double(float(*v));
          if (const std::string problem = outside_range(held, range); !problem.empty())
            return problem + ", got " + text + " (" + shown(held) + " as a float)";
        }
        return "";
      },
      description);
}

namespace {

SharedFlag number_flag(const std::string& names, const std::string& help, const NumberRange& range) {
  SharedFlag f;
  f.names = names;
  f.help = help;
  f.numeric = true;
  f.range = range;
  return f;
}

std::vector<SharedFlag> make_table() {
  SharedFlag device;
  device.names = "--device";
  device.help = "cpu | cuda";
  device.choices = {"cpu", "cuda"};
  SharedFlag quiet;
  quiet.names = "-q,--quiet";
  quiet.help = "No live progress bar or per-image table on stdout (warnings and errors still go to stderr)";
  quiet.switch_flag = true;
  SharedFlag out;
  out.names = "--out";
  out.help_per_command = true;  // a run folder, a PNG, a CSV or JSON file: said by each command
  SharedFlag overwrite;
  overwrite.names = "--overwrite";
  overwrite.help = "Replace the run in --out (emptied first; a folder that is not a run is never touched)";
  overwrite.switch_flag = true;
  SharedFlag model;
  model.names = "--model";
  model.help_per_command = true;  // the default differs: paper.spec, or the run's recorded spec
  return {
      number_flag("--threads", "CPU threads (0 = all cores)", non_negative()),
      number_flag("--batch", "Batch size (images per forward pass)", positive()),
      device,
      number_flag("--threshold",
                  "Decision threshold on the score P(not fractured): 'not fractured' when above it", closed(0, 1)),
      number_flag("--seed", "Seed of every random draw: the same seed gives the same result", non_negative()),
      quiet,
      number_flag("--limit", "Use at most N training images (stratified; group-aware with --group), for quick runs "
                             "(0 = all)", non_negative()),
      out,
      overwrite,
      model,
  };
}

}  // namespace

const std::vector<SharedFlag>& shared_flags() {
  static const std::vector<SharedFlag> table = make_table();
  return table;
}

const SharedFlag& shared_flag(const std::string& long_name) {
  for (const SharedFlag& f : shared_flags()) {
    const std::string& n = f.names;
    if (n == long_name || (n.size() > long_name.size() && n.ends_with("," + long_name))) return f;
  }
  throw std::logic_error("no shared flag " + long_name);
}

}  // namespace radius::app
