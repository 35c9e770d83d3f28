// Integers read from JSON we did not write are range-checked (io/json_checked.h): the
// fuzzer found state_from_json converting 1e300 to int, undefined behaviour that GCC's
// UBSan (without -fsanitize=float-cast-overflow) would not flag, so it is tested here.
#include <doctest/doctest.h>

#include "io/json_checked.h"
#include "net/checkpoint.h"

using namespace radius;
using nlohmann::json;

TEST_CASE("json_integer: integers that fit pass, floats, out-of-range values and other types are refused") {
  CHECK(json_integer<int>(json(42), "n") == 42);
  CHECK(json_integer<int>(json(-7), "n") == -7);
  CHECK(json_integer<int64_t>(json(int64_t(1) << 40), "n") == int64_t(1) << 40);
  CHECK(json_integer<uint64_t>(json(UINT64_MAX), "n") == UINT64_MAX);
  for (const json& bad : {json(1e300), json(2.5), json(-1e20), json(int64_t(1) << 33), json("12"), json(nullptr),
                          json::array({1})}) {
    CAPTURE(bad.dump());
    CHECK_THROWS_WITH_AS(json_integer<int>(bad, "epoch"), doctest::Contains("'epoch' must be an integer"),
                         std::runtime_error);
  }
  CHECK_THROWS_AS(json_integer<uint64_t>(json(-1), "seed"), std::runtime_error);
  CHECK_THROWS_AS(json_integer<uint8_t>(json(300), "x"), std::runtime_error);
}

TEST_CASE("state_from_json: a float or out-of-range counter is an error, not undefined behaviour") {
  CheckpointState s;
  s.epoch = 3;
  s.seed = 99;
  s.history.resize(1);
  s.history[0].epoch = 1;
  const json good = state_to_json(s);
  CHECK(state_from_json(good).epoch == 3);
  for (const char* key : {"epoch", "global_step", "best_epoch", "wait", "seed"}) {
    CAPTURE(key);
    json j = good;
    j[key] = 1e300;
    CHECK_THROWS_WITH_AS(state_from_json(j), doctest::Contains(key), std::runtime_error);
  }
  json h = good;
  h["history"][0]["epoch"] = -1e20;
  CHECK_THROWS_AS(state_from_json(h), std::runtime_error);
  json d = good;
  d["layer_counters"] = {{"7.calls", -3}};
  CHECK_THROWS_AS(state_from_json(d), std::runtime_error);
  json legacy = good;  // a checkpoint written before layer_counters: dropout's counters only
  legacy.erase("layer_counters");
  legacy["dropout_calls"] = json::array({{{"layer", 7}, {"calls", 5}}});
  CHECK(state_from_json(legacy).layer_counters == std::map<std::string, uint64_t>{{"7.calls", 5}});
  legacy["dropout_calls"] = json::array({{{"layer", 7}, {"calls", -3}}});
  CHECK_THROWS_AS(state_from_json(legacy), std::runtime_error);
}
