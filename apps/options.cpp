// radius options: the training options of `train` and `kfold` as one Markdown table
// (flag, default, config.json key, what --resume does, help), straight from the
// options table (apps/training_options.h). README.md's "Training options" section is
// this output; tests/test_training_options.cpp fails when the two differ.
#include <cstdio>

#include "apps/commands.h"
#include "apps/training_options.h"

namespace radius::app {

void add_options_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("options", "The training options of train and kfold as a Markdown table (README.md's)");
  cmd->callback([] { std::fputs(training_options_markdown().c_str(), stdout); });
}

}  // namespace radius::app
