// radius: the command line. One subcommand per file in apps/.
//
// Exit codes (README.md, "Exit codes"): 0 success (and --help, --version); 1 a runtime
// error (a missing file, a bad dataset, a failed write); 2 a usage error (an unknown
// command or option, a missing argument, a value out of range), said on stderr with a
// hint; 130 interrupted (Ctrl-C).
#include <malloc.h>

#include <cctype>
#include <cstdio>
#include <exception>
#include <new>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/processes.h"
#include "apps/suggest.h"
#include "radius/build_info.h"
#include "tensor/memory.h"

namespace {

constexpr int kUsageErrorExit = 2;

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& known, const char* quote) {
  const std::string match = radius::app::closest_match(typed, known);
  return match.empty() ? "" : std::string(": did you mean ") + quote + match + quote + "?";
}

// Every long and short name of a command's options ("--epochs", "-q").
std::vector<std::string> option_names(const CLI::App& cmd) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : cmd.get_options()) {
    for (const std::string& n : opt->get_lnames()) names.push_back("--" + n);
    for (const std::string& n : opt->get_snames()) names.push_back("-" + n);
  }
  return names;
}

std::vector<const CLI::App*> all_commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

const CLI::App* command_named(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : all_commands(app))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

// Flags renamed when the commands were given one vocabulary: the old name says the new one.
std::string renamed_flag(const std::string& old_name) {
  if (old_name == "--group-pattern") return "--group-regex";
  if (old_name == "--width-shift" || old_name == "--height-shift") return "--shift";
  if (old_name == "--spec") return "--model";  // every command names its spec --model
  return "";
}

// A word that starts with '-' and names an option (not a negative number such as -1).
bool looks_like_option(const char* arg) {
  return arg[0] == '-' && arg[1] != '\0' && !(std::isdigit(static_cast<unsigned char>(arg[1])) || arg[1] == '.');
}

// What the user most likely got wrong, in the words of the command line: an unknown
// command or an unknown option, with the closest known name. "" when it is neither
// (CLI11's own message then says what is wrong).
std::string diagnose(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : all_commands(app)) commands.push_back(sub->get_name());
  if (argc < 2) {
    std::string list;
    for (const std::string& c : commands) list += (list.empty() ? "" : ", ") + c;
    return "no command given: radius COMMAND [OPTIONS] (commands: " + list + ")";
  }
  const std::string first = argv[1];
  if (looks_like_option(argv[1])) {
    const std::string name = first.substr(0, first.find('='));
    if (app.get_option_no_throw(name) == nullptr)
      return "unknown option '" + name + "'" + did_you_mean(name, option_names(app), "") +
             " (options go after the command: radius COMMAND --help)";
    return "";
  }
  const CLI::App* cmd = command_named(app, first);
  if (cmd == nullptr) return "unknown command '" + first + "'" + did_you_mean(first, commands, "'");
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;  // the rest are values
    if (!looks_like_option(argv[i])) continue;
    const std::string name = arg.substr(0, arg.find('='));
    if (name == "-h" || name == "--help") continue;
    if (!arg.starts_with("--") && arg.size() > 2 && cmd->get_option_no_throw(arg.substr(0, 2)) != nullptr)
      continue;  // a short option with its value attached: -k5
    if (cmd->get_option_no_throw(name) != nullptr) continue;
    const std::string unknown = "unknown option '" + name + "' for 'radius " + cmd->get_name() + "'";
    if (const std::string now = renamed_flag(name); !now.empty() && cmd->get_option_no_throw(now) != nullptr)
      return unknown + ": it is now " + now + " (one name in every command)";
    return unknown + did_you_mean(name, option_names(*cmd), "");
  }
  return "";
}

// A usage error on stderr, in one form: "radius: usage error: WHAT" and where the help is.
int usage_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::string what = diagnose(app, argc, argv);
  if (what.empty()) what = e.what();
  std::string help = "radius --help";
  if (argc >= 2 && command_named(app, argv[1]) != nullptr) help = std::string("radius ") + argv[1] + " --help";
  std::fprintf(stderr, "radius: usage error: %s\nRun '%s' for the usage.\n", what.c_str(), help.c_str());
  return kUsageErrorExit;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc's malloc raises its mmap threshold after the first large free and from then on
  // keeps freed large blocks in the heap, where long-lived small allocations pin them:
  // predicting 16,000 images grew the resident set to 128 MB, linearly with the image
  // count. Fixed thresholds keep large buffers in mmap and give freed heap tops back
  // (the same run: 16 MB, flat; scripts/rss_check.sh measures it).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  CLI::App app{"radius: a small CNN framework, and the bone-fracture X-ray classifier built on it"};
  app.require_subcommand(1);
  app.set_version_flag("--version", radius::build_info_text(), "Print the version and the build's options, then exit");
  radius::app::add_summary_command(app);
  radius::app::add_demo_command(app);
  radius::app::add_synth_command(app);
  radius::app::add_audit_command(app);
  radius::app::add_augment_command(app);
  radius::app::add_predict_command(app);
  radius::app::add_train_command(app);
  radius::app::add_evaluate_command(app);
  radius::app::add_metrics_command(app);
  radius::app::add_explain_command(app);
  radius::app::add_kfold_command(app);
  radius::app::add_options_command(app);
  radius::app::add_export_command(app);
  radius::app::add_import_command(app);
  // In an MPI job every rank runs this main; an error on one ends them all (the others
  // would wait for it forever), naming the rank: `radius train --resume RUN` continues.
  std::unique_ptr<radius::Communicator> job;
  const auto fail = [&](int code) {
    if (radius::world().size() > 1) radius::world().abort(code);
    return code;
  };
  try {
    job = radius::app::join_job(&argc, &argv);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: printed on stdout, exit 0
    return usage_error(app, e, argc, argv);
  } catch (const std::bad_alloc&) {
    // Requests Radius can size (a batch, the decoded images) are checked before they are
    // made; this is what is left: say it in words, never as the bare exception's name.
    std::fprintf(stderr, "radius: error%s: out of memory (this machine has %s): use a smaller --batch, fewer images "
                 "(--limit) or a smaller model input\n", radius::app::rank_note().c_str(),
                 radius::human_bytes(radius::physical_memory_bytes()).c_str());
    return fail(1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "radius: error%s: %s\n", radius::app::rank_note().c_str(), e.what());
    return fail(1);
  }
  return 0;
}
