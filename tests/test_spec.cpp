// Model spec files (net/spec.h): the shipped models, the options, and every error.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "net/spec.h"
#include "tensor/rng.h"

using namespace radius;

namespace {

const std::string kModels = std::string(RADIUS_SOURCE_DIR) + "/models/";

// Parses `text` as "t.spec" and checks the error names `line` and contains `phrase`.
void check_error(const std::string& text, int line, const std::string& phrase) {
  CAPTURE(text);
  try {
    parse_model_spec(text, "t.spec");
    FAIL("no error");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CAPTURE(msg);
    CHECK(msg.rfind("t.spec:" + std::to_string(line) + ": ", 0) == 0);
    CHECK(msg.find(phrase) != std::string::npos);
  }
}

const std::string kIn = "input height=8 width=8 channels=2\n";  // line 1 of most error cases

}  // namespace

TEST_CASE("spec: paper.spec is the seed paper's model") {
  const auto m = load_model_spec(kModels + "paper.spec");
  CHECK(m->input_shape() == Shape{3, 150, 150});
  CHECK(m->num_params() == 3453121);
  CHECK(m->output_shape() == Shape{1});
  CHECK(m->has_sigmoid_head());

  const char* kinds[] = {"conv2d", "relu",    "maxpool2d", "conv2d",  "relu",  "maxpool2d",
                         "conv2d", "relu",    "maxpool2d", "conv2d",  "relu",  "maxpool2d",
                         "flatten", "dropout", "dense",    "relu",    "dense", "sigmoid"};
  REQUIRE(m->size() == std::size(kinds));
  for (size_t i = 0; i < m->size(); ++i) CHECK(m->layer(i).kind() == kinds[i]);
  CHECK(m->layer_output(11) == Shape{128, 7, 7});
  CHECK(m->layer_output(12) == Shape{6272});
  CHECK(dynamic_cast<const Dropout&>(m->layer(13)).rate() == doctest::Approx(0.5));

  // Forward cost per 150x150 image: the four convolutions dominate (~0.472 GFLOP).
  CHECK(double(m->forward_flops()) == doctest::Approx(0.472e9).epsilon(0.03));
  const std::string s = m->summary();
  CHECK(s.find("total parameters: 3453121") != std::string::npos);
  CHECK(s.find("output head: sigmoid") != std::string::npos);

  // Parameter names count the separate activation layers, as nn.Sequential does.
  m->init(1);
  std::string names;
  for (const NamedParam& p : m->named_params()) names += p.name + " ";
  CHECK(names == "0.weight 0.bias 3.weight 3.bias 6.weight 6.bias 9.weight 9.bias 14.weight 14.bias "
                 "16.weight 16.bias ");
}

TEST_CASE("spec: tiny.spec parses and runs") {
  const auto m = load_model_spec(kModels + "tiny.spec");
  CHECK(m->input_shape() == Shape{3, 32, 32});
  CHECK(m->output_shape() == Shape{1});
  CHECK(m->has_sigmoid_head());
  m->init(7);
  Tensor x = Tensor::empty(m->input_shape().with_batch(4));
  Rng rng(3, 0);
  for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = rng.uniform(-1.f, 1.f);
  const Tensor p = m->predict(x);
  CHECK(p.shape() == Shape{4, 1});
  for (int64_t i = 0; i < p.numel(); ++i) CHECK((p.at(i) > 0.f && p.at(i) < 1.f));
}

TEST_CASE("spec: every option, comments, tabs and CRLF") {
  const std::string text =
      "# a comment line\r\n"
      "\r\n"
      "input height=10 width=12 channels=2   # trailing comment\r\n"
      "conv2d\tfilters=4 kernel=3x5 stride=2 padding=same bias=false\r\n"  // same: ceil(10/2), ceil(12/2)
      "avgpool2d pool=2 stride=1\r\n"                                      // [4, 4, 5]
      "maxpool2d pool=2x3 stride=1\r\n"                                    // [4, 3, 3]
      "relu\r\n"
      "flatten\r\n"                                                        // [36]
      "dense units=3 bias=false activation=linear\r\n"
      "dense units=2 activation=sigmoid\r\n"
      "sigmoid\r\n";
  const auto m = parse_model_spec(text, "opts");
  REQUIRE(m->size() == 9);
  CHECK(m->layer(0).describe() == "conv2d 4 3x5 stride 2 same no-bias");
  CHECK(m->layer_output(0) == Shape{4, 5, 6});
  CHECK(m->layer(1).describe() == "avgpool2d 2x2 stride 1");
  CHECK(m->layer_output(1) == Shape{4, 4, 5});
  CHECK(m->layer_output(2) == Shape{4, 3, 3});
  CHECK(m->layer(3).kind() == "relu");
  CHECK(m->layer_output(4) == Shape{36});
  CHECK(m->layer(5).kind() == "dense");  // linear: no activation layer after it
  CHECK(m->layer(6).kind() == "dense");
  CHECK(m->layer(7).kind() == "sigmoid");
  CHECK(m->layer(8).kind() == "sigmoid");
  CHECK(m->num_params() == 4 * 2 * 3 * 5 + 36 * 3 + (3 * 2 + 2));
  // Default pool stride is the pool size; default conv stride is 1, padding valid.
  const auto d = parse_model_spec(kIn + "conv2d filters=3 kernel=3\nmaxpool2d pool=3\n", "d");
  CHECK(d->layer(0).describe() == "conv2d 3 3x3 stride 1 valid");
  CHECK(d->layer_output(1) == Shape{3, 2, 2});
}

TEST_CASE("spec: grammar errors name the line and the reason") {
  check_error(kIn + "conv3d filters=2 kernel=3\n", 2, "unknown layer 'conv3d' (valid: input, conv2d, maxpool2d");
  check_error(kIn + "conv2d filters=2 kernel=3 size=3\n", 2,
              "unknown key 'size' for conv2d (valid keys: filters, kernel, stride, padding, bias, activation)");
  check_error(kIn + "flatten start=1\n", 2, "unknown key 'start' for flatten (it takes no keys)");
  check_error(kIn + "conv2d kernel=3\n", 2, "missing required key 'filters' for conv2d");
  check_error("input height=8 width=8\n", 1, "missing required key 'channels'");
  check_error(kIn + "conv2d filters=2 kernel=3 filters=4\n", 2, "duplicate key 'filters'");
  check_error(kIn + "conv2d filters 2 kernel=3\n", 2, "expected key=value, got 'filters'");
  check_error(kIn + "dense units=\n", 2, "expected key=value, got 'units='");
}

TEST_CASE("spec: number errors") {
  for (const char* v : {"abc", "3.5", "+3", "3x", "x3", "3x3x3"}) {
    CAPTURE(v);
    check_error(kIn + "conv2d filters=2 kernel=" + v + "\n", 2, "is not a valid number");
  }
  check_error(kIn + "conv2d filters=0 kernel=3\n", 2, "filters=0 must be positive");
  check_error(kIn + "conv2d filters=-4 kernel=3\n", 2, "filters=-4 must be positive");
  check_error(kIn + "conv2d filters=4 kernel=3x0\n", 2, "kernel=3x0 must be positive");
  check_error(kIn + "\n\n# spacer\ndense units=0\n", 5, "units=0 must be positive");
  check_error(kIn + "dropout rate=half\n", 2, "rate=half is not a valid number");
  check_error(kIn + "dropout rate=nan\n", 2, "rate=nan is not a valid number");
  check_error(kIn + "dropout rate=1\n", 2, "rate=1 must be in [0, 1)");
  check_error(kIn + "dropout rate=-0.1\n", 2, "must be in [0, 1)");
}

TEST_CASE("spec: absurd sizes are refused before anything is allocated") {
  check_error("input height=100000 width=8 channels=1\nflatten\n", 1, "height=100000 is absurdly large");
  check_error(kIn + "conv2d filters=2000000 kernel=3\n", 2, "filters=2000000 is absurdly large");
  check_error(kIn + "conv2d filters=99999999999999999999999 kernel=3\n", 2, "is absurdly large");
  check_error(kIn + "maxpool2d pool=2 stride=70000\n", 2, "stride=70000 is absurdly large");
  // Each dimension within its cap, but too much in total.
  check_error("input height=65536 width=65536 channels=1\nflatten\n", 1, "input [1, 65536, 65536] is absurdly large");
  check_error("input height=4096 width=4096 channels=1\nconv2d filters=1024 kernel=3 padding=same\n", 2,
              "output [1024, 4096, 4096] is absurdly large");
  check_error("input height=32768 width=32768 channels=1\nflatten\ndense units=1048576\n", 3,
              "dense would bring the model past 4294967296 parameters");
  check_error("input height=2048 width=2048 channels=512\nconv2d filters=1048576 kernel=65536 padding=same\n", 2,
              "conv2d would bring the model past");
}

TEST_CASE("spec: enum errors") {
  check_error(kIn + "conv2d filters=2 kernel=3 padding=full\n", 2, "bad value padding=full (expected valid|same)");
  check_error(kIn + "conv2d filters=2 kernel=3 activation=tanh\n", 2,
              "bad value activation=tanh (expected relu|sigmoid|linear)");
  check_error(kIn + "dense units=2 bias=yes\n", 2, "bad value bias=yes (expected true|false)");
  check_error(kIn + "maxpool2d pool=2x3\n", 2, "pool=2x3 is not square: give stride= explicitly");
}

TEST_CASE("spec: impossible shapes name the line and the layer") {
  check_error(kIn + "conv2d filters=2 kernel=9\n", 2, "layer 0 (conv2d 2 9x9 stride 1 valid) on input [2, 8, 8]");
  check_error(kIn + "conv2d filters=2 kernel=3 activation=relu\nmaxpool2d pool=7\n", 3, "layer 2 (maxpool2d");
  check_error(kIn + "dense units=4\n", 2, "add a flatten layer");
  check_error(kIn + "flatten\nconv2d filters=2 kernel=1\n", 3, "conv2d needs [C, H, W] input");
}

TEST_CASE("spec: structure errors") {
  check_error("", 1, "no 'input' line");
  check_error("# only a comment\n\n", 2, "no 'input' line");
  check_error("conv2d filters=2 kernel=3\n" + kIn, 1, "the spec must start with an 'input' line, got 'conv2d'");
  check_error(kIn + "flatten\n" + kIn, 3, "duplicate 'input' line (the first is on line 1)");
  check_error(kIn + "# nothing else\n", 2, "no layers after the 'input' line");
  check_error(kIn, 1, "no layers");
}

TEST_CASE("spec: an unreadable file is named") {
  for (const std::string& path : {std::string("/nonexistent/dir/model.spec"), kModels}) {  // missing; a directory
    CAPTURE(path);
    try {
      load_model_spec(path);
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("'" + path + "'") != std::string::npos);
    }
  }
  // Parse errors from a file carry its path as the source.
  CHECK_THROWS_WITH(parse_model_spec("bogus\n", kModels + "x.spec"),
                    doctest::Contains((kModels + "x.spec:1: unknown layer").c_str()));
}
