// The layer registry (layers/registry.h): every kind in it builds from its spec
// keyword, and no code outside it asks which concrete class a layer is. The
// second test reads the source tree, so a new `kind() == "relu"` or
// `dynamic_cast<Conv2D*>` anywhere but layers/registry.cpp fails the suite.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "layers/registry.h"
#include "net/spec.h"

using namespace radius;
namespace fs = std::filesystem;

TEST_CASE("registry: every kind builds from a spec line whose keyword it answers to") {
  const std::string in = "input height=8 width=8 channels=2\n";
  const std::map<std::string, std::string> args{{"conv2d", " filters=3 kernel=3"}, {"maxpool2d", " pool=2"},
                                                {"avgpool2d", " pool=2"},          {"dense", " units=4"},
                                                {"dropout", " rate=0.5"}};
  for (const LayerKind& k : layer_kinds()) {
    if (k.registered) continue;  // a kind another test registered
    CAPTURE(k.keyword);
    const std::string line = k.keyword + (args.count(k.keyword) ? args.at(k.keyword) : "");
    const std::string prefix = k.keyword == "dense" ? "flatten\n" : "";
    const auto m = parse_model_spec(in + prefix + line + "\n", "registry test");
    const Layer& layer = m->layer(m->size() - 1);
    CHECK(layer.kind() == k.keyword);
    CHECK(&kind_of(layer) == &k);
    CHECK(find_layer_kind(k.keyword) == &k);
    CHECK(k.backward_flops(layer, m->layer_output(m->size() - 1), m->output_shape(), true) >= 0);
  }
  CHECK(find_layer_kind("input") == nullptr);
  CHECK(find_layer_kind("conv3d") == nullptr);
}

TEST_CASE("registry: no code outside layers/registry.cpp compares kind strings or casts to a concrete layer") {
  // Concrete layer classes are named by their kind keywords' classes here.
  const std::regex kind_compare(R"(kind\(\)\s*[!=]=)");
  const std::regex concrete_cast(R"((dynamic|static)_cast<\s*(const\s+)?(Conv2D|Dense|Pool2D|ReLU|Sigmoid|Dropout|Flatten|BatchNorm2D)\b)");
  std::string offenders;
  for (const char* dir : {"apps", "bench", "data", "eval", "io", "kernels", "layers", "net", "optim", "radius", "tensor"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(RADIUS_SOURCE_DIR) / dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".h" && ext != ".cu" && ext != ".cuh")) continue;
      if (entry.path().filename() == "registry.cpp") continue;
      std::ifstream f(entry.path());
      std::string line;
      for (int number = 1; std::getline(f, line); ++number)
        if (std::regex_search(line, kind_compare) || std::regex_search(line, concrete_cast))
          offenders += fs::relative(entry.path(), RADIUS_SOURCE_DIR).string() + ":" + std::to_string(number) + ": " +
                       line + "\n";
    }
  }
  CHECK_MESSAGE(offenders.empty(), "ask the registry (kind_of(layer).<role>) instead:\n" << offenders);
}

TEST_CASE("registry: models/README.md's layer table lists every kind") {
  std::ifstream f(fs::path(RADIUS_SOURCE_DIR) / "models" / "README.md");
  std::stringstream text;
  text << f.rdbuf();
  for (const LayerKind& k : layer_kinds()) {
    if (k.registered) continue;
    CAPTURE(k.keyword);
    CHECK(text.str().find("| `" + k.keyword + "`") != std::string::npos);
  }
}

namespace {

// A layer defined outside Radius, as a library user writes one: y = factor * x.
class TestScale final : public Layer {
 public:
  explicit TestScale(float factor) : factor_(factor) {}
  std::string kind() const override { return "test_scale"; }
  std::string describe() const override { return "test_scale factor=" + std::to_string(factor_); }
  Shape build(const Shape& in) override { return in; }
  void forward(const Tensor& x, Tensor& y, Mode) override {
    for (int64_t i = 0; i < x.numel(); ++i) y.cpu()[i] = factor_ * x.cpu()[i];
  }
  void backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor& dx) override {
    if (!dx.defined()) return;
    for (int64_t i = 0; i < dy.numel(); ++i) dx.cpu()[i] = factor_ * dy.cpu()[i];
  }

 private:
  float factor_;
};

}  // namespace

TEST_CASE("registry: a kind registered from outside builds from spec lines, and bad registrations are refused") {
  if (!find_layer_kind("test_scale"))
    register_layer_kind({.keyword = "test_scale",
                         .keys = {"factor"},
                         .required = 1,
                         .make = [](const SpecLine& line, const Shape&, int64_t) {
                           return std::make_unique<TestScale>(float(line.number("factor", -10.0, 10.0, 1.0)));
                         }});
  const LayerKind* k = find_layer_kind("test_scale");
  REQUIRE(k != nullptr);
  CHECK(k->registered);
  CHECK(k->backward_flops != nullptr);  // filled in: counted as 0

  const auto m = parse_model_spec("input height=2 width=3 channels=1\ntest_scale factor=2.5\n", "registered kind");
  REQUIRE(m->size() == 1);
  CHECK(&kind_of(m->layer(0)) == k);
  m->init(1);
  Tensor x = Tensor::empty({1, 1, 2, 3});
  for (int64_t i = 0; i < x.numel(); ++i) x.cpu()[i] = 0.25f * float(i) - 0.6f;
  const Tensor& y = m->forward(x, Mode::eval);
  for (int64_t i = 0; i < x.numel(); ++i) CHECK(y.cpu()[i] == 2.5f * x.cpu()[i]);
  CHECK_THROWS_WITH(parse_model_spec("input height=2 width=3 channels=1\ntest_scale\n", "missing key"),
                    doctest::Contains("factor"));

  CHECK_THROWS_WITH(register_layer_kind({.keyword = "test_scale", .make = k->make}),
                    doctest::Contains("already a layer kind"));
  CHECK_THROWS_WITH(register_layer_kind({.keyword = "conv2d", .make = k->make}), doctest::Contains("already"));
  CHECK_THROWS_WITH(register_layer_kind({.keyword = "", .make = k->make}), doctest::Contains("no keyword"));
  CHECK_THROWS_WITH(register_layer_kind({.keyword = "test_nomaker"}), doctest::Contains("no make function"));
}
