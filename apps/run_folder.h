// The run-folder contract (README.md, "Run folders"): what train and kfold promise
// about the folder they write.
//  - Safe: a folder that holds anything already is refused, unless --overwrite, which
//    empties it first (never old metrics beside new weights); a folder that is not a
//    Radius run (no config.json) is refused even then.
//  - Self-contained: the spec is copied in as model.spec and config.json names the copy
//    ("model": "model.spec", relative to the folder) and the data by absolute path, so
//    predict, evaluate, explain and --resume work from any directory, and the folder
//    can move.
//  - One writer: a folder a live radius is training into is locked (.lock).
//  - Explicit on resume: config.json's data listing fingerprint tells whether the data
//    changed since the run started.
#pragma once
#include <string>

#include "data/dataset.h"

namespace radius::app {

inline constexpr const char* kRunSpecName = "model.spec";

// Creates `out` or checks it may be written (see above), and locks it (lock_run_folder);
// `command` names the caller in messages.
void prepare_run_folder(const std::string& out, bool overwrite, const std::string& command);

// Holds OUT/.lock (an flock) until the process exits, so that a second radius writing
// into the same folder (a new run, --overwrite or --resume) refuses, naming the pid that
// holds it. A killed process holds nothing: the kernel drops its locks.
void lock_run_folder(const std::string& out, const std::string& command);

// Copies `spec` into `out` as model.spec (atomically) and returns the copy's path.
std::string copy_spec_into(const std::string& spec, const std::string& out);

// An absolute path (canonical where it exists): what config.json records.
std::string absolute_path(const std::string& path);

// A short hex digest of the listing (paths relative to the root, labels, splits, classes):
// the same files in the same classes give the same fingerprint wherever the data lives.
std::string data_fingerprint(const Dataset& data);

// Ctrl-C during training: prints that the last finished epoch is saved and the command
// that resumes (`resume_hint`; empty: no hint), then exits with 130.
void on_interrupt_say(const std::string& resume_hint);

}  // namespace radius::app
