// Radius as a library: the public header (radius/radius.h, included alone here, so it
// must be self-contained), the version in one place, and a saved run loaded and
// predicted through net/inference.h as a program using the library would.
// scripts/check_install.sh checks the installed package itself (CI).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "radius/radius.h"
#include "tests/cli_util.h"

using namespace radius;
using namespace radius::test;
namespace fs = std::filesystem;

TEST_CASE("library: the version comes from project() in CMakeLists.txt, and radius --version prints it with the build") {
  std::ifstream f(std::string(RADIUS_SOURCE_DIR) + "/CMakeLists.txt");
  std::stringstream text;
  text << f.rdbuf();
  std::smatch m;
  const std::string cmake = text.str();
  REQUIRE(std::regex_search(cmake, m, std::regex(R"(project\(radius VERSION (\d+)\.(\d+)\.(\d+))")));
  CHECK(m[1].str() + "." + m[2].str() + "." + m[3].str() == RADIUS_VERSION);
  CHECK(std::to_string(RADIUS_VERSION_MAJOR) == m[1].str());
  CHECK(std::to_string(RADIUS_VERSION_MINOR) == m[2].str());
  CHECK(std::to_string(RADIUS_VERSION_PATCH) == m[3].str());

  const BuildInfo& b = build_info();
  CHECK(b.version == RADIUS_VERSION);
#ifdef RADIUS_WITH_CUDA
  CHECK(b.cuda);
#else
  CHECK_FALSE(b.cuda);
#endif
  const CliRun r = radius_cli("--version");
  CAPTURE(r.out);
  CHECK(r.rc == 0);
  CHECK(r.out == build_info_text() + "\n");
  CHECK(r.out.rfind(std::string("radius ") + RADIUS_VERSION + "\n", 0) == 0);
  for (const char* line : {"\nbuild: ", "\nCPU: ", "\nCUDA: ", "\nMPI: "}) CHECK(r.out.find(line) != std::string::npos);
}

TEST_CASE("library: a run folder loads by its config.json and predicts as the model that wrote it") {
  TempDir dir("library");
  const std::string data_root = tiny_dataset(dir);
  const std::string run = dir.file("run");
  fs::create_directories(run);
  fs::copy_file(kTinySpec, run + "/my.spec");
  std::ofstream(run + "/config.json") << R"({"model": "my.spec"})";
  std::unique_ptr<Sequential> trained = load_model_spec(kTinySpec);
  trained->init(5);
  save_weights(*trained, run + "/weights.safetensors");

  const Dataset data = list_dataset(data_root);
  const std::vector<size_t> test = data.indices("test");
  const std::vector<Prediction> expected = predict_samples(*trained, data, test, 4, 1);
  REQUIRE(expected.size() == test.size());

  // From another working directory: the spec is found beside the run.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path);
  std::unique_ptr<Sequential> loaded;
  CHECK_NOTHROW(loaded = load_trained_model("run"));
  fs::current_path(cwd);
  REQUIRE(loaded);
  std::vector<BadFile> bad{{}};
  const std::vector<Prediction> got = predict_samples(*loaded, data, test, 3, 2, &bad);
  CHECK(bad.empty());
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].path == expected[i].path);
    CHECK(got[i].label == expected[i].label);
    CHECK(got[i].score == expected[i].score);  // batch size and threads do not change a score
  }

  // The weights file in its run folder finds the spec through config.json; weights alone
  // (no run folder, no "model" metadata) need their spec, and the message says so.
  CHECK(load_trained_model(run + "/weights.safetensors")->num_params() == trained->num_params());
  fs::create_directories(dir.file("alone"));
  fs::copy_file(run + "/weights.safetensors", dir.file("alone/w.safetensors"));
  CHECK_THROWS_WITH(load_trained_model(dir.file("alone/w.safetensors")), doctest::Contains("no model spec"));
  CHECK_NOTHROW(load_trained_model(dir.file("alone/w.safetensors"), kTinySpec));
}
