// Safetensors weights (net/safetensors.h): round trips, the on-disk layout, every
// kind of damaged or mismatched file, and the atomic write.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "net/safetensors.h"
#include "net/spec.h"
#include "tensor/rng.h"

using namespace radius;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    static int count = 0;
    path = fs::temp_directory_path() / ("radius_st_" + std::to_string(::getpid()) + "_" + std::to_string(count++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file in the safetensors layout with a hand-written header (no padding).
std::string raw_file(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + header + data;
}

// input [2, 8, 8] -> conv 4 3x3 (0) -> relu (1) -> flatten [144] (2) -> dense `units` (3) -> dense 1 (4) -> sigmoid (5)
std::unique_ptr<Sequential> small_model(int units, uint64_t seed) {
  auto m = parse_model_spec("input height=8 width=8 channels=2\n"
                            "conv2d filters=4 kernel=3 activation=relu\n"
                            "flatten\n"
                            "dense units=" + std::to_string(units) + "\n"
                            "dense units=1 activation=sigmoid\n",
                            "small");
  m->init(seed);
  return m;
}

std::string param_bytes(Sequential& m) {
  return std::string(reinterpret_cast<const char*>(m.params().cpu()), size_t(m.num_params()) * sizeof(float));
}

Tensor random_tensor(const Shape& shape, uint64_t stream) {
  Tensor t = Tensor::empty(shape);
  Rng rng(42, stream);
  for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = rng.uniform(-3.f, 3.f);
  return t;
}

// Expects `fn` to throw an error naming `path` and containing `phrase`.
template <class Fn> void check_fails(Fn fn, const std::string& path, const std::string& phrase) {
  CAPTURE(phrase);
  try {
    fn();
    FAIL("no error");
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    CAPTURE(msg);
    CHECK(msg.find("'" + path + "'") != std::string::npos);
    CHECK(msg.find(phrase) != std::string::npos);
  }
}

void check_read_fails(const std::string& path, const std::string& phrase) {
  check_fails([&] { read_safetensors(path); }, path, phrase);
}

}  // namespace

TEST_CASE("safetensors: save -> load is bit-exact and keeps metadata") {
  TempDir dir;
  const std::string path = dir / "w.safetensors";
  auto a = small_model(16, 1);
  const std::map<std::string, std::string> meta{{"format", "pt"}, {"spec", "small"}, {"note", "ünïcode ✓"}};
  save_weights(*a, path, meta);
  save_weights(*a, path, meta);  // overwriting an existing file works too

  auto b = small_model(16, 2);
  REQUIRE(param_bytes(*a) != param_bytes(*b));
  load_weights(*b, path);
  CHECK(param_bytes(*a) == param_bytes(*b));

  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.metadata == meta);
  CHECK(f.tensors.size() == a->named_params().size());
  CHECK(f.tensors.at("3.weight").shape() == Shape{16, 144});
  CHECK(read_safetensors_metadata(path) == meta);  // the header alone

  // Nothing but the file itself is left in the directory (no temp files).
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) entries += e.path().filename() == "w.safetensors" ? 1 : 100;
  CHECK(entries == 1);
}

TEST_CASE("safetensors: on-disk layout") {
  TempDir dir;
  const std::string path = dir / "w.safetensors";
  auto m = small_model(8, 3);
  save_weights(*m, path, {{"k", "v"}});
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);  // padded so the data section starts 8-aligned
  const std::string header = bytes.substr(8, n);
  CHECK(header.find_last_not_of(' ') + 1 > n - 8);  // at most 7 padding spaces
  const auto h = nlohmann::json::parse(header);
  CHECK(h["__metadata__"]["k"] == "v");
  const auto& w = h["0.weight"];
  CHECK(w["dtype"] == "F32");
  CHECK(w["shape"] == nlohmann::json::array({4, 2, 3, 3}));
  // The raw bytes of 0.weight are the model's floats, little-endian, at the given offsets.
  const uint64_t begin = w["data_offsets"][0], end = w["data_offsets"][1];
  CHECK(end - begin == 4 * 2 * 3 * 3 * 4);
  CHECK(std::memcmp(bytes.data() + 8 + n + begin, m->named_params()[0].value.cpu(), end - begin) == 0);
  CHECK(bytes.size() == 8 + n + uint64_t(m->num_params()) * 4);
}

TEST_CASE("safetensors: generic tensors of every rank, bit-exact") {
  TempDir dir;
  const std::string path = dir / "t.safetensors";
  Tensor odd = random_tensor(Shape{5}, 9);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  odd.at(0) = -0.0f;
  odd.at(1) = nan;
  odd.at(2) = std::numeric_limits<float>::infinity();
  odd.at(3) = std::numeric_limits<float>::denorm_min();
  const std::vector<std::pair<std::string, Tensor>> tensors{
      {"scalar", random_tensor(Shape{}, 1)},       {"empty", Tensor::empty(Shape{0, 3})},
      {"r4", random_tensor(Shape{2, 3, 4, 5}, 2)}, {"r2", random_tensor(Shape{7, 3}, 3)},
      {"odd", odd}};
  write_safetensors(path, tensors);
  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.metadata.empty());
  REQUIRE(f.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    const Tensor& got = f.tensors.at(name);
    CHECK(got.shape() == t.shape());
    CHECK(std::memcmp(got.cpu(), t.cpu(), size_t(t.numel()) * 4) == 0);
  }

  // A file written by someone else: unpadded header, JSON order differing from data order.
  const float v[3] = {1.5f, -2.25f, 3.0f};
  write_bytes(path, raw_file(R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
                             R"("a":{"shape":[],"data_offsets":[0,4],"dtype":"F32"}})",
                             std::string(reinterpret_cast<const char*>(v), sizeof v)));
  const SafetensorsFile g = read_safetensors(path);
  CHECK(g.tensors.at("a").at(0) == 1.5f);
  CHECK(g.tensors.at("b").to_vector() == std::vector<float>{-2.25f, 3.0f});
}

TEST_CASE("safetensors: bad names are refused on write") {
  TempDir dir;
  const std::string path = dir / "t.safetensors";
  const Tensor t = random_tensor(Shape{2}, 1);
  check_fails([&] { write_safetensors(path, {{"a", t}, {"a", t}}); }, path, "duplicate tensor name 'a'");
  check_fails([&] { write_safetensors(path, {{"__metadata__", t}}); }, path, "invalid tensor name");
  check_fails([&] { write_safetensors(path, {{"", t}}); }, path, "invalid tensor name");
  check_fails([&] { write_safetensors(path, {{"a", t}}, {{"k", "\xff\xfe"}}); }, path, "cannot encode the header");
  CHECK(!fs::exists(path));
}

TEST_CASE("safetensors: truncated and corrupted files") {
  TempDir dir;
  const std::string good = dir / "good.safetensors", bad = dir / "bad.safetensors";
  auto m = small_model(8, 4);
  save_weights(*m, good);
  const std::string bytes = read_bytes(good);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);

  for (size_t cut : {size_t(0), size_t(4), size_t(8), size_t(8 + n / 2), size_t(8 + n), size_t(8 + n + 100),
                     bytes.size() - 1}) {
    CAPTURE(cut);
    write_bytes(bad, bytes.substr(0, cut));
    check_read_fails(bad, cut < 8 ? "too short" : "truncated");
    check_fails([&] { (void)read_safetensors_metadata(bad); }, bad, "");  // checked as a whole file too
    auto target = small_model(8, 5);
    const std::string before = param_bytes(*target);
    check_fails([&] { load_weights(*target, bad); }, bad, "");
    CHECK(param_bytes(*target) == before);  // a failed load changes nothing
  }

  std::string corrupt = bytes;
  corrupt[8] = 'X';  // the header's opening brace
  write_bytes(bad, corrupt);
  check_read_fails(bad, "header is not valid JSON");

  corrupt = bytes;  // a shape that disagrees with its offsets (same header length)
  const size_t at = corrupt.find("[4,2,3,3]");
  REQUIRE(at != std::string::npos);
  corrupt[at + 7] = '4';
  write_bytes(bad, corrupt);
  check_read_fails(bad, "tensor '0.weight': shape [4, 2, 3, 4] as F32 needs 384 bytes but data_offsets [0, 288) span 288");

  corrupt = bytes;  // header length beyond the cap, and beyond the file
  const uint64_t huge = uint64_t(1) << 40, past = bytes.size();
  std::memcpy(corrupt.data(), &huge, 8);
  write_bytes(bad, corrupt);
  check_read_fails(bad, "exceeds the limit of 100000000 bytes");
  std::memcpy(corrupt.data(), &past, 8);
  write_bytes(bad, corrupt);
  check_read_fails(bad, "runs past the end");

  check_read_fails(dir / "missing.safetensors", "cannot open: No such file or directory");
  check_read_fails(dir.path.string(), "not a regular file");
}

TEST_CASE("safetensors: malformed headers") {
  TempDir dir;
  const std::string path = dir / "h.safetensors";
  const std::string d4(4, '\x11'), d8(8, '\x22'), d12(12, '\x33');
  auto check = [&](const std::string& header, const std::string& data, const std::string& phrase) {
    write_bytes(path, raw_file(header, data));
    check_read_fails(path, phrase);
  };
  auto f32 = [](const std::string& shape, const std::string& offsets) {
    return R"({"dtype":"F32","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
  };
  check(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", d4, "tensor 'a': dtype F16 is not supported (only F32)");
  check("[1,2]", "", "header is not a JSON object");
  // A number beyond double's range: nlohmann throws out_of_range, not parse_error (found by the fuzzer).
  check(R"({"__metadata__":{"k":"v"},"x":1e444})", "", "header is not valid JSON");
  check(R"({"a":5})", d4, "tensor 'a': entry is not a JSON object");
  check(R"({"a":{"dtype":"F32","shape":[1]}})", d4, "'data_offsets' must be [begin, end]");
  check(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", d4, "missing string field 'dtype'");
  check(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}})", d4, "unexpected field 'extra'");
  check(R"({"a":)" + f32("[-1]", "[0,4]") + "}", d4, "shape dimensions must be non-negative integers, got -1");
  check(R"({"a":)" + f32("[1.0]", "[0,4]") + "}", d4, "must be non-negative integers, got 1.0");
  check(R"({"a":)" + f32("[1099511627777]", "[0,4]") + "}", d4, "shape dimension 1099511627777 is absurdly large");
  check(R"({"a":)" + f32("[1099511627776,1099511627776,1099511627776]", "[0,4]") + "}", d4, "span 4");
  check(R"({"a":)" + f32("[1,1,1,1,1]", "[0,4]") + "}", d4, "rank 5 is not supported");
  check(R"({"a":)" + f32("[1]", "[0,-4]") + "}", d4, "data_offsets must be non-negative integers");
  check(R"({"a":)" + f32("[2]", "[0,8]") + "}", d4, "data_offsets [0, 8) run past the 4-byte data section");
  check(R"({"a":)" + f32("[1]", "[8,4]") + "}", d12, "end before they begin");
  check(R"({"a":)" + f32("[2]", "[0,8]") + R"(,"b":)" + f32("[2]", "[4,12]") + "}", d12,
        "tensor 'b' data_offsets begin at 4, overlapping the previous tensor, which ends at 8");
  check(R"({"a":)" + f32("[1]", "[0,4]") + R"(,"b":)" + f32("[1]", "[8,12]") + "}", d12,
        "bytes [4, 8) of the data section belong to no tensor (before 'b')");
  check(R"({"a":)" + f32("[1]", "[0,4]") + "}", d8, "the data section is 8 bytes but the tensors cover 4");
  check(R"({"__metadata__":{"k":1}})", "", "__metadata__ value for 'k' is not a string");
  check(R"({"__metadata__":[]})", "", "__metadata__ is not a JSON object");
}

TEST_CASE("safetensors: load_weights checks the file against the model") {
  TempDir dir;
  const std::string path = dir / "w.safetensors";
  auto m = small_model(8, 6);
  const std::string before = param_bytes(*m);

  save_weights(*small_model(16, 7), path);  // a different dense size
  check_fails([&] { load_weights(*m, path); }, path,
              "tensor '3.weight' has shape [16, 144] in the file but [8, 144] in the model; "
              "tensor '3.bias' has shape [16] in the file but [8] in the model; "
              "tensor '4.weight' has shape [1, 16] in the file but [1, 8] in the model");

  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const NamedParam& p : m->named_params())
    if (p.name != "3.bias") tensors.emplace_back(p.name, random_tensor(p.value.shape(), 1));
  write_safetensors(path, tensors);
  check_fails([&] { load_weights(*m, path); }, path, "missing tensor '3.bias' (the model's is [8])");

  for (const NamedParam& p : m->named_params())
    if (p.name == "3.bias") tensors.emplace_back(p.name, random_tensor(p.value.shape(), 2));
  tensors.emplace_back("extra", random_tensor(Shape{3}, 3));
  write_safetensors(path, tensors);
  check_fails([&] { load_weights(*m, path); }, path, "unexpected tensor 'extra' [3] (not in the model)");

  CHECK(param_bytes(*m) == before);  // every failed load left the model untouched

  auto fresh = parse_model_spec("input height=4 width=4 channels=1\nflatten\ndense units=2\n", "f");
  CHECK_THROWS_AS(load_weights(*fresh, path), std::logic_error);  // init() first
  CHECK_THROWS_AS(save_weights(*fresh, path), std::logic_error);
}

TEST_CASE("safetensors: failed writes throw clearly and leave the old file intact") {
  TempDir dir;
  auto m = small_model(8, 8);

  const std::string nowhere = dir / "no/such/dir/w.safetensors";
  check_fails([&] { save_weights(*m, nowhere); }, nowhere, "No such file or directory");

  // The rename fails when the target is a directory: the temp file must go.
  const std::string blocked = dir / "blocked";
  fs::create_directories(fs::path(blocked) / "inside");
  check_fails([&] { save_weights(*m, blocked); }, blocked, "cannot replace the file");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

  // A read-only directory (not enforced for root: check by trying).
  const fs::path ro = dir.path / "ro";
  fs::create_directories(ro);
  const std::string path = (ro / "w.safetensors").string();
  save_weights(*m, path);
  const std::string old = read_bytes(path);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
  if (FILE* probe = std::fopen((ro / "probe").c_str(), "wb")) {
    std::fclose(probe);
    MESSAGE("read-only directory check skipped: permissions are not enforced (running as root?)");
  } else {
    check_fails([&] { save_weights(*small_model(8, 9), path); }, path, "Permission denied");
    CHECK(read_bytes(path) == old);
    CHECK(std::distance(fs::directory_iterator(ro), fs::directory_iterator()) == 1);
  }
  fs::permissions(ro, fs::perms::owner_all, fs::perm_options::add);  // so TempDir can clean up
}

TEST_CASE("safetensors: weights holding NaN or an infinity are refused where they enter, naming the tensor") {
  TempDir dir;
  auto a = small_model(16, 1);
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<std::pair<std::string, Tensor>> tensors = host_named_tensors(*a);
    Tensor w = tensors.at(1).second.clone();
    w.cpu()[3] = bad;
    tensors.at(1).second = w;
    const std::string path = dir / "bad.safetensors";
    write_safetensors(path, tensors);
    auto b = small_model(16, 2);
    const std::string before = param_bytes(*b);
    check_fails([&] { load_weights(*b, path); }, path,
                "tensor '" + tensors.at(1).first + "' holds " + (std::isnan(bad) ? "NaN" : "an infinity") +
                    " at element 3");
    CHECK(param_bytes(*b) == before);  // nothing was changed
  }
}
