// The run-folder contract and an explicit resume (apps/run_folder.h, README "Run
// folders"): wrong class sets refused up front, run folders never overwritten by
// accident nor mixed, self-contained (they work from any directory and after a move),
// --resume that says what it ignores, what changed and when there is nothing to do,
// and a resume hint on Ctrl-C; evaluate, predict and explain read the spec a run or a
// weights file records, and accept checkpoints.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli_util.h"

using namespace radius::test;
namespace fs = std::filesystem;
using Run = CliRun;

namespace {

// `cd DIR && radius ARGS`, stdout and stderr together.
CliRun radius_in(const std::string& dir, const std::string& args) { return radius_cli_in(dir, args); }

// Short training runs: one epoch of the tiny model on one thread.
// The paper's recipe (a constant learning rate): some runs are resumed with more epochs.
std::string quick(const std::string& extra = "") {
  return " --recipe paper --model " + q(kTinySpec) + " --epochs 1 --batch 8 --threads 1 --quiet" + extra;
}

nlohmann::json config_of(const std::string& run) {
  std::ifstream f(run + "/config.json");
  return nlohmann::json::parse(f);
}

// Copies the first `n` images of `from` into `to` (a new class folder).
void copy_images(const fs::path& from, const fs::path& to, int n) {
  fs::create_directories(to);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(from)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (int i = 0; i < n && i < int(files.size()); ++i) fs::copy_file(files[size_t(i)], to / files[size_t(i)].filename());
}

std::string first_image(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder)) files.push_back(e.path());
  return std::min_element(files.begin(), files.end())->string();
}

}  // namespace

TEST_CASE("cli runs: a class set other than two is refused up front, with the names and counts") {
  TempDir dir("runs_classes");
  const fs::path data = tiny_dataset(dir);
  const fs::path three = dir.file("three"), one = dir.file("one");
  copy_images(data / "train" / "fractured", three / "broken", 3);
  copy_images(data / "train" / "fractured", three / "fractured", 4);
  copy_images(data / "train" / "not fractured", three / "not fractured", 5);
  copy_images(data / "train" / "fractured", one / "fractured", 4);

  const Run t3 = radius_cli("train " + q(three) + quick(" --out " + q(dir.file("r3"))));
  CAPTURE(t3.out);
  CHECK(t3.rc == 1);
  CHECK(t3.out.find("3 classes (broken: 3, fractured: 4, not fractured: 5 images)") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("r3")));  // refused before anything was written
  const Run t1 = radius_cli("train " + q(one) + quick(" --out " + q(dir.file("r1"))));
  CHECK(t1.rc == 1);
  CHECK(t1.out.find("1 class (fractured: 4 images)") != std::string::npos);
  const Run k = radius_cli("kfold " + q(three) + " -k 2" + quick(" --out " + q(dir.file("k3"))));
  CHECK(k.rc == 1);
  CHECK(k.out.find("3 classes") != std::string::npos);

  // A manifest label mistyped as a third name.
  std::ofstream(dir.file("manifest.csv")) << "path,label\n"
                                          << first_image(data / "train" / "fractured") << ",fractured\n"
                                          << first_image(data / "train" / "not fractured") << ",not fractured\n"
                                          << first_image(data / "val" / "fractured") << ",fracturd\n";
  const Run m = radius_cli("train " + q(dir.file("manifest.csv")) + quick(" --out " + q(dir.file("rm"))));
  CAPTURE(m.out);
  CHECK(m.rc == 1);
  CHECK(m.out.find("fracturd: 1") != std::string::npos);

  // evaluate refuses the same before predicting anything.
  const std::string run = dir.file("run");
  REQUIRE(radius_cli("train " + q(data) + quick(" --out " + q(run))).rc == 0);
  const Run e = radius_cli("evaluate " + q(run) + " " + q(three) + " --threads 1");
  CHECK(e.rc == 1);
  CHECK(e.out.find("3 classes") != std::string::npos);
}

TEST_CASE("cli runs: --out over a run is refused, --overwrite replaces it whole, a folder that is not a run is never emptied") {
  TempDir dir("runs_out");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  REQUIRE(radius_cli("train " + q(data) + quick(" --out " + q(run))).rc == 0);
  const std::string created = config_of(run).at("created");
  std::ofstream(run + "/old-report-note.txt") << "from the first run";

  const Run again = radius_cli("train " + q(data) + quick(" --seed 2 --out " + q(run)));
  CAPTURE(again.out);
  CHECK(again.rc == 1);
  CHECK(again.out.find("holds a run already") != std::string::npos);
  CHECK(again.out.find("--overwrite") != std::string::npos);
  CHECK(again.out.find("--resume") != std::string::npos);  // it has a checkpoint
  CHECK(config_of(run).at("seed") == 1);                   // untouched
  CHECK(fs::exists(run + "/old-report-note.txt"));

  const Run over = radius_cli("train " + q(data) + quick(" --seed 2 --overwrite --out " + q(run)));
  CAPTURE(over.out);
  REQUIRE(over.rc == 0);
  CHECK(config_of(run).at("seed") == 2);
  CHECK_FALSE(fs::exists(run + "/old-report-note.txt"));  // nothing of the old run is left beside the new one

  const std::string other = dir.file("notes");
  fs::create_directories(other);
  std::ofstream(other + "/thesis.tex") << "precious";
  const Run refuse = radius_cli("train " + q(data) + quick(" --overwrite --out " + q(other)));
  CAPTURE(refuse.out);
  CHECK(refuse.rc == 1);
  CHECK(refuse.out.find("not a Radius run folder") != std::string::npos);
  CHECK_FALSE(fs::exists(other + "/.lock"));  // refused before it was locked
  CHECK(fs::exists(other + "/thesis.tex"));
  const Run kf = radius_cli("kfold " + q(data) + " -k 2" + quick(" --out " + q(other)));
  CHECK(kf.rc == 1);
  CHECK(fs::exists(other + "/thesis.tex"));
}

TEST_CASE("cli runs: a run folder is self-contained: it works from another directory and after a move") {
  TempDir dir("runs_portable");
  const std::string data = tiny_dataset(dir);
  const fs::path work = dir.file("work");
  fs::create_directories(work);
  fs::copy_file(kTinySpec, work / "my.spec");
  const Run t =
      radius_in(work.string(), "train ../data --recipe paper --model my.spec --epochs 1 --batch 8 --threads 1 --quiet --out run");
  CAPTURE(t.out);
  REQUIRE(t.rc == 0);
  const nlohmann::json c = config_of((work / "run").string());
  CHECK(c.at("model") == "model.spec");
  CHECK(c.at("model_source") == (work / "my.spec").string());
  CHECK(fs::path(c.at("data").get<std::string>()).is_absolute());
  CHECK(c.at("threads") == 1);
  {
    std::ifstream a(kTinySpec), b(work / "run" / "model.spec");
    std::stringstream sa, sb;
    sa << a.rdbuf();
    sb << b.rdbuf();
    CHECK(sa.str() == sb.str());
  }
  // The original spec may go; the folder may move; every command still finds the spec.
  fs::remove(work / "my.spec");
  fs::rename(work / "run", dir.file("moved"));
  const std::string moved = dir.file("moved");
  const std::string image = (fs::directory_iterator(fs::path(data) / "test" / "fractured"))->path().string();
  for (const std::string& cmd : {"predict " + q(moved) + " " + q(image), "predict " + q(moved + "/last.ckpt.safetensors") + " " + q(image),
                                 "evaluate " + q(moved) + " " + q(data) + " --threads 1",
                                 "evaluate " + q(moved + "/best.ckpt.safetensors") + " " + q(data) + " --threads 1",
                                 "explain " + q(moved) + " " + q(image) + " --grids " + q(dir.file("explained")),
                                 "train --resume " + q(moved) + " --epochs 2 --quiet"}) {
    CAPTURE(cmd);
    const Run r = radius_in("/", cmd);
    CAPTURE(r.out);
    CHECK(r.rc == 0);
    CHECK(r.out.find("shape") == std::string::npos);  // no weights/spec mismatch
  }
  // A weights file alone, with the spec it records ("model" metadata) beside it.
  fs::create_directories(dir.file("alone"));
  fs::copy_file(moved + "/weights.safetensors", dir.file("alone/weights.safetensors"));
  fs::copy_file(moved + "/model.spec", dir.file("alone/model.spec"));
  const Run w = radius_cli("evaluate " + q(dir.file("alone/weights.safetensors")) + " " + q(data) + " --threads 1");
  CAPTURE(w.out);
  CHECK(w.rc == 0);
}

TEST_CASE("cli runs: --resume uses the recorded threads, names what it ignores, warns of other data, and says when a run is finished") {
  TempDir dir("runs_resume");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  REQUIRE(radius_cli("train " + q(data) + quick(" --out " + q(run))).rc == 0);

  const Run r = radius_cli("train --resume " + q(run) + " --epochs 2 --lr 0.5 --out " + q(dir.file("elsewhere")) + " --quiet");
  CAPTURE(r.out);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find(", 1 threads,") != std::string::npos);  // config.json's count, not the machine's
  CHECK(r.out.find("ignored on --resume: --out") != std::string::npos);
  CHECK(r.out.find("ignored on --resume: --lr") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("elsewhere")));

  // Finished: said, and nothing is trained or evaluated again.
  const auto metrics_time = fs::last_write_time(run + "/metrics.json");
  const Run done = radius_cli("train --resume " + q(run) + " --epochs 2 --quiet");
  CAPTURE(done.out);
  CHECK(done.rc == 0);
  CHECK(done.out.find("finished already, after epoch 2 of 2") != std::string::npos);
  CHECK(done.out.find("Epoch") == std::string::npos);
  CHECK(fs::last_write_time(run + "/metrics.json") == metrics_time);

  // Other data: a copy elsewhere (the same listing), then the recorded folder with one more image.
  const std::string copy = dir.file("copy");
  fs::copy(data, copy, fs::copy_options::recursive);
  const Run other = radius_cli("train --resume " + q(run) + " " + q(copy) + " --epochs 3 --quiet");
  CAPTURE(other.out);
  CHECK(other.rc == 0);
  CHECK(other.out.find("is not the data this run trained on") != std::string::npos);
  CHECK(other.out.find("differ from those") == std::string::npos);  // same files, same classes
  const fs::path extra = first_image(fs::path(data) / "val" / "fractured");
  fs::copy_file(extra, fs::path(data) / "train" / "fractured" / ("added" + extra.extension().string()));
  const Run changed = radius_cli("train --resume " + q(run) + " --epochs 4 --quiet");
  CAPTURE(changed.out);
  CHECK(changed.rc == 0);
  CHECK(changed.out.find("differ from those this run started on") != std::string::npos);
}

TEST_CASE("cli runs: Ctrl-C during training exits 130 with the command that resumes") {
  TempDir dir("runs_sigint");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  // SIGINT after 3 s, well inside a 100000-epoch run (the decoding takes milliseconds).
  const Run r = run_shell(std::string(RADIUS_CLI) + " train " + q(data) + " --model " + q(kTinySpec) +
                          " --epochs 100000 --patience 0 --batch 8 --threads 1 --quiet --out " + q(run) +
                          " 2>&1 & pid=$!; sleep 3; kill -INT $pid; wait $pid; echo rc=$?");
  CAPTURE(r.out);
  CHECK(r.out.find("rc=130") != std::string::npos);
  CHECK(r.out.find("interrupted; the last finished epoch is saved: resume with") != std::string::npos);
  CHECK(r.out.find("radius train --resume " + run) != std::string::npos);
}

TEST_CASE("cli runs: a folder a live radius trains into is locked, and a killed run leaves no stuck lock") {
  TempDir dir("runs_lock");
  const std::string data = tiny_dataset(dir);
  const std::string run = dir.file("run");
  // A long run in the background; while it trains, a second writer is refused.
  const Run r = run_shell(std::string(RADIUS_CLI) + " train " + q(data) + " --model " + q(kTinySpec) +
                          " --epochs 100000 --patience 0 --batch 8 --threads 1 --quiet --out " + q(run) +
                          " >/dev/null 2>&1 & pid=$!; sleep 2; " + RADIUS_CLI + " train " + q(data) + quick(" --overwrite --out " + q(run)) +
                          " 2>&1; echo second=$?; " + RADIUS_CLI + " train --resume " + q(run) +
                          " --quiet 2>&1; echo resume=$?; kill -KILL $pid; wait $pid; " + RADIUS_CLI +
                          " train --resume " + q(run) + " --epochs 1 --quiet 2>&1; echo after=$?");
  CAPTURE(r.out);
  CHECK(r.out.find("is in use by another radius (pid ") != std::string::npos);
  CHECK(r.out.find("second=1") != std::string::npos);
  CHECK(r.out.find("resume=1") != std::string::npos);
  CHECK(r.out.find("after=0") != std::string::npos);  // the killed run's lock went with it
}

TEST_CASE("cli runs: training images of one class are refused, a validation or test split missing one is warned of") {
  TempDir dir("runs_split_classes");
  const fs::path data = tiny_dataset(dir);
  std::ofstream m(dir.file("m.csv"));
  m << "path,label,split\n";
  for (const char* cls : {"fractured", "not fractured"})
    for (const auto& e : fs::directory_iterator(data / "train" / cls))
      m << e.path().string() << "," << cls << "," << (std::string(cls) == "fractured" ? "train" : "val") << "\n";
  m.close();
  const Run t = radius_cli("train " + q(dir.file("m.csv")) + quick(" --out " + q(dir.file("r1"))));
  CAPTURE(t.out);
  CHECK(t.rc == 1);
  CHECK(t.out.find("the training images hold no 'not fractured' image") != std::string::npos);

  std::ofstream m2(dir.file("m2.csv"));
  m2 << "path,label,split\n";
  for (const char* cls : {"fractured", "not fractured"})
    for (const auto& e : fs::directory_iterator(data / "train" / cls)) m2 << e.path().string() << "," << cls << ",train\n";
  for (const auto& e : fs::directory_iterator(data / "test" / "fractured")) m2 << e.path().string() << ",fractured,test\n";
  m2.close();
  const Run w = radius_cli("train " + q(dir.file("m2.csv")) + quick(" --out " + q(dir.file("r2"))));
  CAPTURE(w.out);
  CHECK(w.rc == 0);
  CHECK(w.out.find("warning: the test images (4) hold no 'not fractured' image") != std::string::npos);
}
