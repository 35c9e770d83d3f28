// Crash safety of training runs, end to end on the built `radius` command line:
//  - SIGKILL at random (seeded) moments, many times, kills landing inside checkpoint
//    writes included: the last checkpoint always loads (its size and checksum verified),
//    the best checkpoint agrees with it, and `--resume` carries on to the end;
//  - a full disk (RLIMIT_FSIZE: writes fail with EFBIG, as with ENOSPC) and a run
//    directory that cannot be created give a clear error naming the file, a non-zero
//    exit, and leave the previous good checkpoint intact.
// Not covered: a read-only mount (none here) and EACCES when the tests run as root
// (root writes anyway); the permission case runs only for other users.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "data/synth_dataset.h"
#include "io/atomic_file.h"
#include "net/checkpoint.h"
#include "process_util.h"
#include "synth_util.h"
#include "temp_dir.h"

using namespace radius;
using radius::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kTinySpec = std::string(RADIUS_SOURCE_DIR) + "/models/tiny.spec";

// 16 train + 8 val small images: an epoch of the tiny model takes milliseconds.
std::string small_dataset(const TempDir& dir) { return test::small_synthetic_dataset(dir, {16, 8, 0}, 5, 36, 44); }

// --overwrite: a run killed before its first checkpoint is started again in its folder.
// The paper's recipe (a constant learning rate): some runs are resumed with more epochs.
std::vector<std::string> train_args(const std::string& data, const std::string& run, int epochs) {
  return {"train", data, "--recipe", "paper", "--model", kTinySpec, "--out", run, "--epochs", std::to_string(epochs),
          "--patience", "0", "--batch", "8", "--threads", "1", "--no-augment", "--quiet", "--overwrite"};
}
std::vector<std::string> resume_args(const std::string& run, int epochs) {
  return {"train", "--resume", run, "--epochs", std::to_string(epochs), "--threads", "1", "--quiet"};
}

std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().filename().string());
  return out;
}

// Polls until `path` contains `text` (the child printed it) or `seconds` pass.
bool wait_for_text(const std::string& path, const std::string& text, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (test::read_text(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// What a killed run left: every checkpoint loads, and best agrees with last.
struct RunState {
  bool has_last = false;
  int epoch = 0, best_epoch = 0;
};
RunState check_run_dir(const std::string& run) {
  RunState s;
  const std::string last = run + "/last.ckpt.safetensors", best = run + "/best.ckpt.safetensors";
  if (fs::exists(last)) {
    CheckpointFile c;
    REQUIRE_NOTHROW(c = read_checkpoint(last));  // format, size (offsets tile the file), checksum
    s.has_last = true;
    s.epoch = c.state.epoch;
    s.best_epoch = c.state.best_epoch;
    CHECK(c.state.history.size() == size_t(c.state.epoch));
  }
  if (fs::exists(best)) {
    CheckpointFile b;
    REQUIRE_NOTHROW(b = read_checkpoint(best));
    // Written after last: it may lag one epoch behind (then last names itself the best;
    // resuming repairs it), never be ahead of what last says.
    if (s.has_last) CHECK((b.state.epoch == s.best_epoch || s.best_epoch == s.epoch));
  }
  return s;
}

}  // namespace

TEST_CASE("crash safety: SIGKILL at random moments, inside checkpoint writes too, the last checkpoint loads and --resume continues") {
  TempDir dir("crash_kill");
  const std::string data = small_dataset(dir);
  const std::string run = dir.file("run"), log = dir.file("train.log");
  // The test hook (io/atomic_file.h): every write and rename pauses 2 ms, so kills land
  // inside file writes often.
  test::ChildOptions child{{{kWriteDelayEnv, "2"}}, -1, log};
  std::mt19937_64 rng(20261127);
  const int rounds = 12;
  int kills_inside_writes = 0, resumed = 0, last_epoch = 0;
  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    const bool resume = fs::exists(run + "/last.ckpt.safetensors");
    const std::vector<std::string> args = resume ? resume_args(run, 1000) : train_args(data, run, 1000);
    resumed += resume;
    fs::remove(log);  // so the polling below never reads the previous run's output
    const pid_t pid = test::spawn_radius(args, child);
    // Most kills land in training (after an epoch began); every fourth during start-up,
    // while the splits and the config are written.
    const bool training = round % 4 != 3;
    if (training) REQUIRE(wait_for_text(log, "Epoch ", 30.0));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 250)(rng)));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    CHECK(test::wait_child(pid) == 128 + SIGKILL);
    for (const std::string& t : temporaries(run)) kills_inside_writes += t.find(".ckpt.") != std::string::npos;
    const RunState s = check_run_dir(run);
    if (resume && training) CHECK(test::read_text(log).find("resuming") != std::string::npos);
    CHECK(s.epoch >= last_epoch);  // a resumed run never goes back
    last_epoch = s.epoch;
  }
  MESSAGE(rounds << " kills, " << kills_inside_writes << " inside a checkpoint write, " << resumed
                 << " resumed runs killed, last checkpoint at epoch " << last_epoch);
  CHECK(kills_inside_writes >= 1);
  CHECK(resumed >= rounds / 2);

  // The end: resume once more and let it finish one more epoch.
  REQUIRE(fs::exists(run + "/last.ckpt.safetensors"));
  const int rc = test::wait_child(test::spawn_radius(resume_args(run, last_epoch + 1), child));
  const std::string out = test::read_text(log);
  CAPTURE(out);
  REQUIRE(rc == 0);
  CHECK(out.find("resuming " + run + " after epoch " + std::to_string(last_epoch)) != std::string::npos);
  const RunState s = check_run_dir(run);
  CHECK(s.epoch == last_epoch + 1);
  CHECK(read_checkpoint(run + "/best.ckpt.safetensors").state.epoch == s.best_epoch);
  CHECK(temporaries(run).empty());  // the killed runs' half-written files were removed
  CHECK(fs::exists(run + "/weights.safetensors"));
}

TEST_CASE("crash safety: a full disk gives a clear error naming the file and keeps the previous checkpoint") {
  TempDir dir("crash_full");
  const std::string data = small_dataset(dir);
  const std::string run = dir.file("run"), log = dir.file("train.log");
  REQUIRE(test::wait_child(test::spawn_radius(train_args(data, run, 1), {{}, -1, log})) == 0);
  const std::string last = run + "/last.ckpt.safetensors";
  const auto good_size = fs::file_size(last);
  REQUIRE(read_checkpoint(last).state.epoch == 1);

  // Resume for a second epoch with files limited to 16 kB: the small files still fit,
  // a checkpoint (~240 kB) does not. SIGXFSZ is ignored, so write() fails with EFBIG.
  const std::vector<std::string> args = resume_args(run, 2);
  const int rc = test::wait_child(test::spawn_radius(args, {{}, 16 * 1024, log}));
  const std::string out = test::read_text(log);
  CAPTURE(out);
  CHECK(rc != 0);
  CHECK(out.find("radius: error: cannot write '" + run + "/") != std::string::npos);
  CHECK(out.find(".ckpt.safetensors': write failed (File too large)") != std::string::npos);
  // The previous checkpoints are intact, and no temporary is left behind.
  CHECK(fs::file_size(last) == good_size);
  CHECK(read_checkpoint(last).state.epoch == 1);
  CHECK(read_checkpoint(run + "/best.ckpt.safetensors").state.epoch == 1);
  CHECK(temporaries(run).empty());

  // With room again, the same resume works.
  REQUIRE(test::wait_child(test::spawn_radius(args, {{}, -1, log})) == 0);
  CHECK(read_checkpoint(last).state.epoch == 2);
}

TEST_CASE("crash safety: a run directory that cannot be written gives a clear error") {
  TempDir dir("crash_ro");
  const std::string data = small_dataset(dir);
  const std::string log = dir.file("train.log");
  // A run directory under a regular file: no one, root included, can create it.
  { std::ofstream(dir.file("not_a_dir")) << "a file\n"; }
  const std::string bad_run = dir.file("not_a_dir") + "/run";
  const int rc = test::wait_child(test::spawn_radius(train_args(data, bad_run, 1), {{}, -1, log}));
  const std::string out = test::read_text(log);
  CAPTURE(out);
  CHECK(rc != 0);
  CHECK(out.find("radius: error:") != std::string::npos);
  CHECK(out.find(bad_run) != std::string::npos);
  CHECK(out.find("Not a directory") != std::string::npos);

  // A read-only run directory: EACCES exists only for users other than root.
  const std::string run = dir.file("run");
  REQUIRE(test::wait_child(test::spawn_radius(train_args(data, run, 1), {{}, -1, log})) == 0);
  const std::string last = run + "/last.ckpt.safetensors";
  if (::geteuid() == 0) {
    MESSAGE("running as root: permission-denied (read-only run directory) cannot be produced by chmod; skipped");
    return;
  }
  fs::permissions(run, fs::perms::owner_read | fs::perms::owner_exec);
  const std::vector<std::string> args = resume_args(run, 2);
  const int rc2 = test::wait_child(test::spawn_radius(args, {{}, -1, log}));
  fs::permissions(run, fs::perms::owner_all);
  const std::string out2 = test::read_text(log);
  CAPTURE(out2);
  CHECK(rc2 != 0);
  CHECK(out2.find("Permission denied") != std::string::npos);
  CHECK(out2.find(run) != std::string::npos);
  CHECK(read_checkpoint(last).state.epoch == 1);
}

TEST_CASE("atomic_file: stale temporaries of dead processes are removed, live ones and other files kept") {
  TempDir dir("atomic_stale");
  // A pid that is surely gone: a child that has exited and been reaped.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(dead > 0);
  test::wait_child(dead);
  const std::string mine = std::to_string(::getpid()), gone = std::to_string(dead);
  for (const std::string& name : std::vector<std::string>{"last.ckpt.safetensors.tmp." + gone + ".3", "history.csv.tmp." + gone + ".0",
                                  "best.ckpt.safetensors.tmp." + mine + ".1", "last.ckpt.safetensors",
                                  "notes.tmp.txt", "x.tmp.12ab.1"})
    std::ofstream(dir.file(name)) << "partial";
  CHECK(remove_stale_temporaries(dir.path.string()) == 2);
  CHECK(!fs::exists(dir.file("last.ckpt.safetensors.tmp." + gone + ".3")));
  CHECK(!fs::exists(dir.file("history.csv.tmp." + gone + ".0")));
  for (const std::string& kept : std::vector<std::string>{"best.ckpt.safetensors.tmp." + mine + ".1",
                                                          "last.ckpt.safetensors", "notes.tmp.txt", "x.tmp.12ab.1"})
    CHECK(fs::exists(dir.file(kept)));
}

namespace {

// history.csv without its wall-time column (the one thing a resumed run cannot repeat).
std::string history_without_seconds(const std::string& path) {
  std::string out;
  for (const HistoryRow& r : read_history_csv(path))
    out += std::to_string(r.epoch) + " " + std::to_string(r.train_loss) + " " + std::to_string(r.train_accuracy) + " " +
           std::to_string(r.val_loss) + " " + std::to_string(r.val_accuracy) + " " +
           std::to_string(r.learning_rate) + "\n";
  return out;
}

}  // namespace

// RADIUS_KILLS (default 3; scripts/kill_anywhere.sh runs 20) SIGKILLs at random moments
// (start-up, batches, validation, checkpoint writes, the final evaluation), each followed
// by a resume (or a fresh start when no epoch had finished); the finished run must be the
// uninterrupted run of the same seed, bit for bit.
TEST_CASE("crash safety: killed anywhere and resumed, a run finishes bit-identical to an uninterrupted one") {
  const char* env = std::getenv("RADIUS_KILLS");
  const int kills = env ? std::max(1, std::atoi(env)) : 3;
  const int epochs = 2 * kills + 4;  // each round moves the run on by about one epoch at most
  TempDir dir("crash_exact");
  const std::string data = test::small_synthetic_dataset(dir, {16, 8, 8}, 5, 36, 44);
  const std::string ref = dir.file("ref"), run = dir.file("run"), log = dir.file("train.log");
  // With augmentation (the draws must resume exactly too); one thread, as resume requires.
  const auto train = [&](const std::string& out) {
    return std::vector<std::string>{"train", data, "--model", kTinySpec, "--out", out, "--epochs",
                                    std::to_string(epochs), "--patience", "0", "--batch", "8", "--threads", "1",
                                    "--quiet", "--overwrite"};
  };
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(test::wait_child(test::spawn_radius(train(ref), {{}, -1, log})) == 0);
  const double run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double per_epoch = run_seconds / epochs;

  std::mt19937_64 rng(20261207);
  test::ChildOptions child{{{kWriteDelayEnv, "1"}}, -1, log};
  int killed = 0, finished_rc = -1;
  for (int round = 0; killed < kills && round < 4 * kills; ++round) {
    CAPTURE(round);
    const bool resume = fs::exists(run + "/last.ckpt.safetensors");
    const pid_t pid = test::spawn_radius(resume ? resume_args(run, epochs) : train(run), child);
    // A quarter of the kills during start-up; the rest up to ~1.5 epochs into training.
    if (round % 4 != 1) wait_for_text(log, "Epoch ", 30.0);
    std::this_thread::sleep_for(std::chrono::duration<double>(
        std::uniform_real_distribution<double>(0.0, 1.5 * per_epoch)(rng)));
    ::kill(pid, SIGKILL);
    const int rc = test::wait_child(pid);
    if (rc == 0) {  // it finished before the kill landed
      finished_rc = 0;
      break;
    }
    CAPTURE(test::read_text(log));
    REQUIRE(rc == 128 + SIGKILL);
    ++killed;
    fs::remove(log);
  }
  MESSAGE(killed << " kills over a " << epochs << "-epoch run");
  CHECK(killed >= std::min(kills, 3));
  if (finished_rc != 0) {
    const bool resume = fs::exists(run + "/last.ckpt.safetensors");
    REQUIRE(test::wait_child(test::spawn_radius(resume ? resume_args(run, epochs) : train(run), child)) == 0);
  }
  CHECK(test::read_text(run + "/weights.safetensors") == test::read_text(ref + "/weights.safetensors"));
  CHECK(history_without_seconds(run + "/history.csv") == history_without_seconds(ref + "/history.csv"));
  CHECK(test::read_text(run + "/health.csv") == test::read_text(ref + "/health.csv"));
  CHECK(test::read_text(run + "/predictions.csv") == test::read_text(ref + "/predictions.csv"));
}
