// radius audit DIR|MANIFEST: counts, unreadable files, exact and near-duplicates, leakage
// across splits and class confounders of a dataset, before anyone trusts an accuracy on it.
// A report: the exit code is 0 whatever it finds (the last line counts the errors), 1 when
// the dataset cannot be listed or the JSON cannot be written, and with --strict (for CI)
// also when it found an error: a label error or leakage across splits.
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "apps/training_options.h"
#include "data/audit.h"
#include "io/atomic_file.h"

namespace radius::app {

namespace {

struct AuditCommandOptions {
  std::string dataset, json;
  TrainingOptions recipe;  // --group-regex, shared with train and kfold
  AuditOptions audit;
  bool no_symmetries = false, strict = false;
  size_t max_list = 10;
};

// The findings that make a data set wrong to train or test on, not merely worth a look:
// labels that contradict each other and copies across splits (format_audit_text's
// "LABEL ERROR" and "leakage" lines). Confounders, redundancy and unreadable files are
// warnings: a loader copes with them.
size_t count_errors(const AuditReport& report) {
  size_t n = 0;
  for (const std::string& w : report.warnings) n += w.starts_with("LABEL ERROR") || w.starts_with("leakage:");
  return n;
}

void run_audit(const AuditCommandOptions& o) {
  ListOptions list;
  list.group_pattern = o.recipe.group_regex;
  const Dataset d = list_dataset(o.dataset, list);  // throws: nothing to audit
  AuditOptions a = o.audit;
  a.symmetries = !o.no_symmetries;
  const AuditReport report = audit_dataset(d, a);
  std::fputs(format_audit_text(report, o.max_list).c_str(), stdout);
  if (!o.json.empty()) {
    // File names need not be UTF-8 (JSON strings must be): bad bytes become U+FFFD.
    write_file_atomic(o.json, audit_to_json(report).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    std::printf("\nJSON report: %s\n", o.json.c_str());
  }
  const size_t errors = count_errors(report);
  std::printf("\naudit: %zu error%s (label errors, leakage across splits), %zu other warning%s\n", errors,
              errors == 1 ? "" : "s", report.warnings.size() - errors, report.warnings.size() - errors == 1 ? "" : "s");
  if (o.strict && errors > 0)
    throw std::runtime_error("audit --strict: " + std::to_string(errors) + " error" + (errors == 1 ? "" : "s") +
                             " in " + o.dataset);
}

}  // namespace

void add_audit_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "audit", "Audit a dataset: counts, unreadable files, duplicates, near-duplicates, leakage, confounders");
  auto o = std::make_shared<AuditCommandOptions>();
  cmd->add_option("dataset", o->dataset, "Class folders (optionally under train/ val/ test/) or a CSV manifest")
      ->required();
  cmd->add_option("--json", o->json, "Also write the full result as JSON to this file");
  add_training_option(*cmd, o->recipe, "--group-regex");
  add_number(*cmd, "--near-threshold", o->audit.near_threshold,
             "Near-duplicate candidates: Hamming distance of the 63-bit perceptual hashes at most this", closed(0, 63));
  add_number(*cmd, "--min-similarity", o->audit.min_similarity,
             "Near-duplicates: candidates whose fine-detail correlation is at least this (-1: hash alone)",
             closed(-1, 1));
  cmd->add_flag("--no-rotations", o->no_symmetries,
                "Compare hashes as they are, not up to quarter turns and mirroring (8x fewer comparisons)");
  add_shared_flag(*cmd, "--threads", o->audit.threads);
  add_number(*cmd, "--max-list", o->max_list, "Entries shown per list in the text report", non_negative());
  cmd->add_flag("--strict", o->strict,
                "Exit with code 1 when the audit finds an error (a label error or leakage across splits), for CI");
  cmd->callback([o] { run_audit(*o); });
}

}  // namespace radius::app
