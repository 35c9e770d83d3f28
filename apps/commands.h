// The radius command line: each subcommand registers itself on the CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace radius::app {

// The model specs: installed beside the program (<prefix>/share/radius/models, seen
// from <prefix>/bin/radius), else the source tree's models/ (a build not installed).
std::string models_dir();
std::string default_model_path();  // models_dir()/paper.spec

void add_summary_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_audit_command(CLI::App& app);
void add_augment_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);
void add_metrics_command(CLI::App& app);
void add_explain_command(CLI::App& app);
void add_kfold_command(CLI::App& app);
void add_options_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_import_command(CLI::App& app);

}  // namespace radius::app
