// `radius explain` end to end (the built CLI, as in test_cli.cpp): models/tiny.spec
// and a small generated X-ray, the text table, the JSON and the grid PNGs; trained
// weights; and bad inputs that must fail with a clear message.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "data/decode.h"
#include "data/encode.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "synth_util.h"
#include "cli_util.h"
#include "temp_dir.h"

using radius::test::TempDir;

namespace {

using Run = radius::test::CliRun;
using radius::test::q;
using radius::test::radius_cli;
const std::string& kTiny = radius::test::kTinySpec;

}  // namespace

TEST_CASE("cli: explain prints costs, image statistics and times, and writes JSON and grid PNGs") {
  TempDir dir("explain_cli");
  const std::string image = dir.file("xray.png"), json_path = dir.file("explain.json"), grids = dir.file("grids");
  radius::encode_png(radius::test::radiograph(3, 48, 40), image);
  const Run r = radius_cli("explain " + q(kTiny) + " " + q(image) + " --threads 1 --repeats 2 --seed 7 --json " +
                           q(json_path) + " --grids " + q(grids));
  CAPTURE(r.out);
  REQUIRE(r.rc == 0);
  for (const char* s : {"total parameters: 19889 ", "backward:", "bwd FLOPs", "conv2d 8 3x3", "dead", "fwd ms",
                        "median of 2", "output head: sigmoid"})
    CHECK(r.out.find(s) != std::string::npos);

  std::ifstream in(json_path);
  const nlohmann::json j = nlohmann::json::parse(in);
  REQUIRE(j["layers"].size() == 12);
  const nlohmann::json& conv = j["layers"][0];
  CHECK(conv["kind"] == "conv2d");
  CHECK(conv["params"] == 8 * 3 * 3 * 3 + 8);
  CHECK(conv["forward_flops"] == 2 * 8 * 27 * 900 + 8 * 900);
  CHECK(conv["activation_bytes"] == 8 * 30 * 30 * 4);
  CHECK(conv["output"] == nlohmann::json::array({8, 30, 30}));
  CHECK(j["totals"]["params"] == 19889);
  // The ReLU after the first conv: no negatives, and its zeros are the conv's negatives.
  const nlohmann::json& relu = j["layers"][1]["stats"];
  CHECK(relu["min"] == 0.0);
  CHECK(relu["zero_fraction"].get<double>() > 0.0);
  CHECK(relu["channels"] == 8);
  CHECK(j["layers"][11]["stats"]["max"].get<double>() <= 1.0);  // the sigmoid head: a probability
  CHECK(j["layers"][3]["time_ms"]["backward"].get<double>() >= 0.0);
  CHECK(j["image"]["repeats"] == 2);
  CHECK(j["totals"]["forward_ms"].get<double>() > 0.0);

  REQUIRE(j["grids"].size() == 5);  // the filters, then the maps of layers 0, 2, 3, 5
  for (const char* f : {"filters_layer00_conv2d.png", "maps_layer00_conv2d.png", "maps_layer02_maxpool2d.png",
                        "maps_layer03_conv2d.png", "maps_layer05_maxpool2d.png"}) {
    CAPTURE(f);
    const radius::Image img = radius::decode_image(grids + "/" + f, radius::ColorMode::rgb);
    CHECK(img.width > 40);
    CHECK(img.height > 40);
  }
}

TEST_CASE("cli: explain reads trained weights like predict, and fails clearly on bad input") {
  TempDir dir("explain_cli_bad");
  const std::string weights = dir.file("weights.safetensors");
  auto model = radius::load_model_spec(kTiny);
  model->init(11);
  radius::save_weights(*model, weights);
  const Run w = radius_cli("explain " + q(weights) + " --model " + q(kTiny));
  CAPTURE(w.out);
  CHECK(w.rc == 0);
  CHECK(w.out.find("(weights; spec") != std::string::npos);

  const Run missing = radius_cli("explain " + q(dir.file("nope.spec")));
  CHECK(missing.rc != 0);
  CHECK(missing.out.find("nope.spec") != std::string::npos);
  std::ofstream(dir.file("junk.png")) << "not a PNG";
  const Run junk = radius_cli("explain " + q(kTiny) + " " + q(dir.file("junk.png")));
  CHECK(junk.rc != 0);
  CHECK(junk.out.find("junk.png") != std::string::npos);
  CHECK(junk.out.find("total parameters") == std::string::npos);  // fails before printing anything
  CHECK(radius_cli("explain " + q(kTiny) + " --repeats 0").rc != 0);
}

TEST_CASE("cli: train records in health.json whether the model left the class prior, and explain RUN says so") {
  TempDir dir("explain_cli_takeoff");
  const std::string data = radius::test::tiny_dataset(dir), run = dir.file("run");
  const Run t = radius_cli("train " + q(data) + " --model " + q(kTiny) + " --epochs 1 --batch 8 --threads 1 --quiet" +
                           " --out " + q(run));
  REQUIRE(t.rc == 0);
  std::ifstream f(run + "/health.json");
  const nlohmann::json health = nlohmann::json::parse(f);
  REQUIRE(health.contains("takeoff"));
  CHECK(health["takeoff"].is_null());  // 3 steps: not even one loss window (50 batches)
  const Run e = radius_cli("explain " + q(run));
  CAPTURE(e.out);
  CHECK(e.rc == 0);
  CHECK(e.out.find("training: never left the class prior") != std::string::npos);

  // A run whose health.json names a takeoff.
  std::ofstream(run + "/health.json") << R"({"warnings": [], "takeoff": {"step": 120, "epoch": 2, "batch": 45}})";
  const Run e2 = radius_cli("explain " + q(run) + " --json " + q(dir.file("e.json")));
  CAPTURE(e2.out);
  CHECK(e2.out.find("training: left the class prior at step 120 (epoch 2, batch 45)") != std::string::npos);
  std::ifstream j(dir.file("e.json"));
  CHECK(nlohmann::json::parse(j)["training"]["takeoff"]["step"] == 120);
}
