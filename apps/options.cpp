// radius options: the named recipes (--recipe) and the training options of `train` and
// `kfold` as Markdown tables (flag, default, config.json key, what --resume does, help),
// straight from the options table (apps/training_options.h). README.md's "Training options" section is
// this output; tests/test_training_options.cpp fails when the two differ.
//
// radius options --flags: every command's options as JSON (names, help, type and range as
// --help shows them), walked from the command line itself; tests/test_cli_flags.cpp checks
// with it that a shared flag (apps/common_flags.h) says and accepts the same everywhere.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/training_options.h"

namespace radius::app {

namespace {

nlohmann::json every_command_flags(const CLI::App& app) {
  nlohmann::json commands = nlohmann::json::object();
  for (const CLI::App* cmd : app.get_subcommands([](const CLI::App*) { return true; })) {
    nlohmann::json flags = nlohmann::json::array();
    for (const CLI::Option* opt : cmd->get_options()) {
      if (opt->get_lnames().empty() || opt->get_lnames().front() == "help") continue;  // positionals, --help
      flags.push_back({{"flag", "--" + opt->get_lnames().front()},
                       {"names", opt->get_name(false, true)},
                       {"help", opt->get_description()},
                       {"type", opt->get_type_name()}});
    }
    commands[cmd->get_name()] = flags;
  }
  return commands;
}

}  // namespace

void add_options_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("options", "The recipes and training options of train and kfold as Markdown tables (README.md's)");
  auto flags = std::make_shared<bool>(false);
  cmd->add_flag("--flags", *flags, "Instead: every command's options as JSON (names, help, type and range)");
  cmd->callback([&app, flags] {
    if (*flags)
      std::printf("%s\n", every_command_flags(app).dump(1).c_str());
    else
      std::printf("%s\n%s", training_recipes_markdown().c_str(), training_options_markdown().c_str());
  });
}

}  // namespace radius::app
