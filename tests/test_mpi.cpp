// Data-parallel training over MPI (net/comm.h, net/train.h, README "Running on a
// cluster"): `mpirun -n 2 radius train` ends with the same weights, optimizer state,
// batch-norm statistics, dropout counters and history, bit for bit, as one process
// with --micro-batches 2; a checkpoint written by 2 ranks resumes in one process and
// continues the same run; `mpirun -n 2 radius kfold -k 2` writes what a serial kfold
// writes. Skipped with a message in a build without MPI (-DRADIUS_MPI=ON) or without mpirun.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "net/checkpoint.h"
#include "net/comm.h"
#include "net/safetensors.h"
#include "tests/cli_util.h"
#include "tests/cuda_util.h"
#include "tests/temp_dir.h"

using namespace radius;
using namespace radius::test;
namespace fs = std::filesystem;

namespace {

// The sums' contract, which needs no MPI: zero plus the contributions in rank order.
TEST_CASE("comm: a rank-order sum is 0 + x_0 + x_1 + ..., the micro-batched accumulation's bits") {
  const float big = 1e8f, small = 3.0f;  // (big + small) - big != small - big + big
  const float x[6] = {big, -0.0f, small, small, -big, -0.0f};
  float out[2];
  sum_in_rank_order(x, 3, 2, out);
  float expect[2] = {0.0f, 0.0f};
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 2; ++i) expect[i] += x[2 * r + i];
  CHECK(std::memcmp(out, expect, sizeof out) == 0);
  CHECK(!std::signbit(out[1]));  // from +0: never -0
  float one[3] = {-0.0f, 2.5f, -1.0f};
  SingleProcess().allreduce_sum(one, 3);
  CHECK(!std::signbit(one[0]));
  CHECK(one[1] == 2.5f);
}

#ifdef RADIUS_WITH_CUDA
// The NCCL communicator's device sum: the CPU's bits (kernels/rank_sum.h, additions only).
TEST_CASE("comm: the CUDA rank-order sum equals the CPU's bit for bit") {
  RADIUS_SKIP_WITHOUT_CUDA();
  const int ranks = 5;
  const int64_t n = 1237;
  Tensor parts = random_cpu(Shape{ranks * n}, 41, -1e3f, 1e3f);
  parts.cpu()[3] = -0.0f, parts.cpu()[n + 3] = -0.0f, parts.cpu()[2 * n + 3] = -0.0f;  // -0 sums stay +0
  parts.cpu()[3 * n + 3] = -0.0f, parts.cpu()[4 * n + 3] = -0.0f;
  Tensor expect = Tensor::empty(Shape{n});
  sum_in_rank_order(parts.cpu(), ranks, n, expect.cpu());
  const Tensor on_gpu = parts.to(Device::cuda);
  Tensor out = poisoned_cuda(Shape{n});
  cuda::sum_in_rank_order(on_gpu.data(), ranks, n, n, out.data());
  const Tensor back = out.to(Device::cpu);
  CHECK(std::memcmp(back.cpu(), expect.cpu(), size_t(n) * sizeof(float)) == 0);
}
#endif

#ifdef RADIUS_MPIEXEC

// mpirun with 2 ranks on any machine (--oversubscribe: 2 cores may be fewer slots), as root
// too (CI containers), output to the shell's.
std::string mpirun(int ranks, const std::string& args) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 " +
         std::string(RADIUS_MPIEXEC) + " -n " + std::to_string(ranks) + " --oversubscribe " + std::string(RADIUS_CLI) +
         " " + args + " 2>&1";
}
std::string mpirun2(const std::string& args) { return mpirun(2, args); }

bool mpirun_works() {
  static const bool ok = run_shell(mpirun2("--version")).rc == 0;
  return ok;
}

// A few steps of a small model on one thread per process.
// The paper's recipe (a constant learning rate): some runs are resumed with more epochs.
std::string recipe(const std::string& spec, int epochs) {
  return " --recipe paper --model " + q(spec) + " --epochs " + std::to_string(epochs) + " --batch 7 --threads 1 --quiet --health-every 2";
}

// The tiny model with a batch norm after each convolution: running statistics to keep equal.
std::string batchnorm_spec(const TempDir& dir) {
  const std::string path = dir.file("bn.spec");
  std::ofstream(path) << "input height=32 width=32 channels=3\n"
                         "conv2d filters=6 kernel=3\nbatchnorm2d momentum=0.9\nrelu\nmaxpool2d pool=2\n"
                         "conv2d filters=8 kernel=3\nbatchnorm2d\nrelu\nmaxpool2d pool=2\n"
                         "flatten\ndropout rate=0.3\ndense units=1 activation=sigmoid\n";
  return path;
}

// Every tensor of two safetensors files equal, bit for bit.
void check_same_tensors(const std::string& a, const std::string& b) {
  const SafetensorsFile x = read_safetensors(a), y = read_safetensors(b);
  REQUIRE(x.tensors.size() == y.tensors.size());
  for (const auto& [name, t] : x.tensors) {
    INFO(name);
    REQUIRE(y.tensors.count(name) == 1);
    REQUIRE(t.numel() == y.tensors.at(name).numel());
    CHECK(std::memcmp(t.cpu(), y.tensors.at(name).cpu(), size_t(t.numel()) * sizeof(float)) == 0);
  }
}

// Every tensor of two checkpoints (weights, optimizer state, state buffers) equal bit for
// bit, and the same step count, counters and history (except each epoch's seconds).
void check_same_checkpoint(const std::string& a, const std::string& b) {
  check_same_tensors(a, b);
  const CheckpointFile x = read_checkpoint(a), y = read_checkpoint(b);
  CHECK(x.state.epoch == y.state.epoch);
  CHECK(x.state.optimizer_steps == y.state.optimizer_steps);
  CHECK(x.state.layer_counters == y.state.layer_counters);
  CHECK(x.state.best_epoch == y.state.best_epoch);
  REQUIRE(x.state.history.size() == y.state.history.size());
  for (size_t e = 0; e < x.state.history.size(); ++e) {
    CHECK(x.state.history[e].train_loss == y.state.history[e].train_loss);
    CHECK(x.state.history[e].train_accuracy == y.state.history[e].train_accuracy);
    CHECK(x.state.history[e].val_loss == y.state.history[e].val_loss);
    CHECK(x.state.history[e].val_accuracy == y.state.history[e].val_accuracy);
  }
}

// One process with --micro-batches M against `ranks` ranks (M = ranks: the flag left out there).
void train_two_ways(const std::string& spec, const std::string& name, int ranks = 2, int micro_batches = 2) {
  TempDir dir(name);
  const std::string data = small_synthetic_dataset(dir, {30, 9, 8}, 5, 36, 48);
  const std::string one = dir.file("one"), two = dir.file("two");
  const std::string m = " --micro-batches " + std::to_string(micro_batches);
  const CliRun a = radius_cli("train " + q(data) + recipe(spec, 2) + m + " --out " + q(one));
  REQUIRE_MESSAGE(a.rc == 0, a.out);
  const CliRun b = run_shell(
      mpirun(ranks, "train " + q(data) + recipe(spec, 2) + (micro_batches == ranks ? "" : m) + " --out " + q(two)));
  REQUIRE_MESSAGE(b.rc == 0, b.out);
  check_same_checkpoint(one + "/last.ckpt.safetensors", two + "/last.ckpt.safetensors");
  check_same_checkpoint(one + "/best.ckpt.safetensors", two + "/best.ckpt.safetensors");
  CHECK(read_text(one + "/health.json") == read_text(two + "/health.json"));
  CHECK(read_text(one + "/health.csv") == read_text(two + "/health.csv"));  // rank 0 saw the last micro-batch
  auto metrics = [](const std::string& run) {  // all but the title (it names the folder) and the time
    nlohmann::json j = nlohmann::json::parse(read_text(run + "/metrics.json"));
    j.erase("title");
    j.erase("created");
    j["config"].erase("created");
    return j;
  };
  const bool same_metrics = metrics(one) == metrics(two);  // (not printed whole on failure: pages of JSON)
  CHECK(same_metrics);
  CHECK(read_text(one + "/predictions.csv") == read_text(two + "/predictions.csv"));
  // Rank 1 printed nothing: every line of the log is rank 0's, once.
  CHECK(b.out.find("Epoch 1/2") == b.out.rfind("Epoch 1/2"));
}

TEST_CASE("mpi: 2-rank training equals one process with --micro-batches 2, bit for bit (paper-shaped tiny model)") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  train_two_ways(kTinySpec, "mpi_tiny");
}

TEST_CASE("mpi: 2-rank training with batch norm and dropout equals --micro-batches 2 (running statistics, counters)") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  TempDir spec_dir("mpi_bn_spec");
  train_two_ways(batchnorm_spec(spec_dir), "mpi_bn");
}

TEST_CASE("mpi: ranks running several micro-batches each (4 on 2 ranks, 2 + 1 + 1 on 3) equal --micro-batches 4") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  TempDir spec_dir("mpi_parts_spec");
  const std::string spec = batchnorm_spec(spec_dir);
  SUBCASE("2 ranks") { train_two_ways(spec, "mpi_parts_2", 2, 4); }
  SUBCASE("3 ranks") { train_two_ways(spec, "mpi_parts_3", 3, 4); }
}

TEST_CASE("mpi: a run of 4 micro-batches resumes on 2 ranks and continues the same run") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  TempDir dir("mpi_resume_wider");
  const std::string data = small_synthetic_dataset(dir, {30, 9, 0}, 11, 36, 48);
  TempDir spec_dir("mpi_resume_wider_spec");
  const std::string spec = batchnorm_spec(spec_dir);
  const std::string whole = dir.file("whole"), split = dir.file("split");
  REQUIRE(radius_cli("train " + q(data) + recipe(spec, 2) + " --micro-batches 4 --out " + q(whole)).rc == 0);
  REQUIRE(radius_cli("train " + q(data) + recipe(spec, 1) + " --micro-batches 4 --out " + q(split)).rc == 0);
  const CliRun rest = run_shell(mpirun2("train --resume " + q(split) + " --epochs 2"));
  REQUIRE_MESSAGE(rest.rc == 0, rest.out);
  check_same_checkpoint(whole + "/last.ckpt.safetensors", split + "/last.ckpt.safetensors");
}

TEST_CASE("mpi: a 2-rank checkpoint resumes in one process and continues the same run") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  TempDir dir("mpi_resume");
  const std::string data = small_synthetic_dataset(dir, {30, 9, 0}, 6, 36, 48);
  TempDir spec_dir("mpi_resume_spec");
  const std::string spec = batchnorm_spec(spec_dir);
  const std::string whole = dir.file("whole"), split = dir.file("split");
  REQUIRE(radius_cli("train " + q(data) + recipe(spec, 2) + " --micro-batches 2 --out " + q(whole)).rc == 0);
  const CliRun first = run_shell(mpirun2("train " + q(data) + recipe(spec, 1) + " --out " + q(split)));
  REQUIRE_MESSAGE(first.rc == 0, first.out);
  const CliRun rest = radius_cli("train --resume " + q(split) + " --epochs 2");
  REQUIRE_MESSAGE(rest.rc == 0, rest.out);
  check_same_checkpoint(whole + "/last.ckpt.safetensors", split + "/last.ckpt.safetensors");
}

TEST_CASE("mpi: a rank that dies ends the job, rank 0 says how to resume, and --resume continues the run") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  TempDir dir("mpi_rank_dies");
  const std::string data = small_synthetic_dataset(dir, {20, 6, 0}, 10, 36, 48);
  const std::string run = dir.file("run"), log = dir.file("job.log");
  // The job in the background; once an epoch is saved, rank 1 (found by its MPI rank variable) is killed.
  const std::string script =
      mpirun2("train " + q(data) + recipe(kTinySpec, 100000) + " --patience 0 --out " + q(run)) + " >" + q(log) +
      " 2>&1 & job=$!; for i in $(seq 600); do [ -f " + q(run + "/last.ckpt.safetensors") +
      " ] && break; sleep 0.05; done; for p in $(pgrep -f -- " + q("--out " + run) +
      "); do grep -qz OMPI_COMM_WORLD_RANK=1 /proc/$p/environ 2>/dev/null && kill -9 $p; done; wait $job";
  std::ofstream(dir.file("kill_rank_1.sh")) << script << "\n";
  const CliRun job = run_shell("bash " + q(dir.file("kill_rank_1.sh")) + " 2>&1");
  CHECK(job.rc != 0);
  const std::string said = read_text(log);
  CHECK_MESSAGE(said.find("radius: the MPI job was ended") != std::string::npos, said);
  CHECK(said.find("train --resume " + run) != std::string::npos);
  const CheckpointFile saved = read_checkpoint(run + "/last.ckpt.safetensors");
  REQUIRE(saved.state.epoch >= 1);
  const CliRun resumed = radius_cli("train --resume " + q(run) + " --epochs " + std::to_string(saved.state.epoch + 1));
  REQUIRE_MESSAGE(resumed.rc == 0, resumed.out);
  CHECK(read_checkpoint(run + "/last.ckpt.safetensors").state.epoch == saved.state.epoch + 1);
}

TEST_CASE("mpi: a run resumed on more ranks than its micro-batches, or fewer micro-batches than ranks, is refused") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  TempDir dir("mpi_resume_refused");
  const std::string data = small_synthetic_dataset(dir, {20, 6, 0}, 8, 36, 48);
  const std::string run = dir.file("run");
  REQUIRE(radius_cli("train " + q(data) + recipe(kTinySpec, 1) + " --out " + q(run)).rc == 0);  // 1 micro-batch
  const CliRun two = run_shell(mpirun2("train --resume " + q(run) + " --epochs 2"));
  CHECK(two.rc != 0);
  CHECK(two.out.find("trained with --micro-batches 1 (config.json), and 2 ranks need a micro-batch each: resume it on "
                     "one process") != std::string::npos);
  const CliRun flag = run_shell(mpirun(3, "train " + q(data) + recipe(kTinySpec, 1) + " --micro-batches 2 --out " +
                                        q(dir.file("other"))));
  CHECK(flag.rc != 0);
  CHECK(flag.out.find("--micro-batches 2 on 3 ranks: every rank runs at least one micro-batch") != std::string::npos);
  CHECK(!fs::exists(dir.file("other") + "/config.json"));  // refused before the folder is made
}

TEST_CASE("mpi: kfold -k 2 on 2 ranks writes what the serial kfold writes") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  TempDir dir("mpi_kfold");
  const std::string data = small_synthetic_dataset(dir, {24, 8, 8}, 7, 36, 48);
  const std::string serial = dir.file("serial"), fanned = dir.file("fanned");
  const std::string args = " -k 2 --model " + q(kTinySpec) + " --epochs 2 --batch 8 --threads 1 --quiet";
  const CliRun a = radius_cli("kfold " + q(data) + args + " --out " + q(serial));
  REQUIRE_MESSAGE(a.rc == 0, a.out);
  const CliRun b = run_shell(mpirun2("kfold " + q(data) + args + " --out " + q(fanned)));
  REQUIRE_MESSAGE(b.rc == 0, b.out);
  // The same file but for the moment it was made.
  auto without_time = [](const std::string& path) {
    nlohmann::json j = nlohmann::json::parse(read_text(path));
    j["config"].erase("created");
    return j;
  };
  const bool same_kfold_json = without_time(serial + "/kfold.json") == without_time(fanned + "/kfold.json");
  CHECK(same_kfold_json);
  CHECK(read_text(serial + "/kfold.csv") == read_text(fanned + "/kfold.csv"));
  CHECK(read_text(serial + "/predictions.csv") == read_text(fanned + "/predictions.csv"));
  for (const char* fold : {"fold-1", "fold-2"}) {
    CHECK(read_text(serial + "/folds/" + fold + "/predictions.csv") ==
          read_text(fanned + "/folds/" + fold + "/predictions.csv"));
    check_same_tensors(serial + "/folds/" + fold + "/weights.safetensors", fanned + "/folds/" + fold + "/weights.safetensors");
  }
}

TEST_CASE("mpi: kfold -k 2 on 4 ranks trains each fold on 2 ranks, as a serial kfold with --micro-batches 2") {
  if (!mpirun_works()) {
    MESSAGE("skipped: " RADIUS_MPIEXEC " cannot start 2 ranks here");
    return;
  }
  TempDir dir("mpi_kfold_groups");
  const std::string data = small_synthetic_dataset(dir, {24, 8, 8}, 9, 36, 48);
  const std::string serial = dir.file("serial"), grouped = dir.file("grouped");
  const std::string args = " -k 2 --model " + q(kTinySpec) + " --epochs 2 --batch 8 --threads 1 --quiet";
  const CliRun a = radius_cli("kfold " + q(data) + args + " --micro-batches 2 --out " + q(serial));
  REQUIRE_MESSAGE(a.rc == 0, a.out);
  const CliRun b = run_shell(mpirun(4, "kfold " + q(data) + args + " --out " + q(grouped)));
  REQUIRE_MESSAGE(b.rc == 0, b.out);
  CHECK(read_text(serial + "/kfold.csv") == read_text(grouped + "/kfold.csv"));
  CHECK(read_text(serial + "/predictions.csv") == read_text(grouped + "/predictions.csv"));
  for (const char* fold : {"fold-1", "fold-2"})
    check_same_tensors(serial + "/folds/" + fold + "/weights.safetensors", grouped + "/folds/" + fold + "/weights.safetensors");
}

#else

TEST_CASE("mpi: data-parallel tests") {
  MESSAGE("skipped: built without MPI (cmake -DRADIUS_MPI=ON; Debian: libopenmpi-dev openmpi-bin)");
}

#endif

}  // namespace
