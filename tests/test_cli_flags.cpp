// The command line's contract with its users: exit codes (0 success, 1 runtime error, 2 usage error), usage errors on
// stderr with a suggestion, numbers refused in plain words, one vocabulary of shared flags
// across commands, warnings on stderr, clean numbers in config.json.
#include <doctest/doctest.h>

#include <string>

#include "cli_util.h"
#include "temp_dir.h"

using radius::test::q;
using radius::test::radius_cli_streams;
using radius::test::TempDir;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("cli flags: --help and --version exit 0, a usage error exits 2 on stderr, a runtime error 1") {
  TempDir dir("cli_exit");
  for (const char* ok : {"--help", "--version", "train --help", "predict --help"}) {
    const auto r = radius_cli_streams(ok, dir);
    CHECK_MESSAGE(r.rc == 0, ok);
    CHECK_MESSAGE(!r.out.empty(), ok);
  }
  for (const char* usage : {"", "trian", "train --epoch 3 x", "evaluate", "metrics --counts 1 2", "train x --lr abc",
                            "audit d --no-such-flag", "--verison"}) {
    const auto r = radius_cli_streams(usage, dir);
    CAPTURE(usage);
    CAPTURE(r.err);
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("radius: usage error: ", 0) == 0);
    CHECK(has(r.err, "--help"));
  }
  const auto runtime = radius_cli_streams("train " + q(dir.file("nowhere")) + " --out " + q(dir.file("r")), dir);
  CHECK(runtime.rc == 1);
  CHECK(has(runtime.err, "nowhere"));
}

TEST_CASE("cli flags: an unknown command or option says what was probably meant") {
  TempDir dir("cli_suggest");
  CHECK(has(radius_cli_streams("trian", dir).err, "unknown command 'trian': did you mean 'train'?"));
  CHECK(has(radius_cli_streams("evalute run data", dir).err, "did you mean 'evaluate'?"));
  CHECK(has(radius_cli_streams("train --epoch 3 data", dir).err, "unknown option '--epoch' for 'radius train': did you mean --epochs?"));
  CHECK(has(radius_cli_streams("predict m i --treshold 0.3", dir).err, "did you mean --threshold?"));
  // Nothing close: no guess.
  const auto far = radius_cli_streams("frobnicate", dir);
  CHECK(has(far.err, "unknown command 'frobnicate'"));
  CHECK(!has(far.err, "did you mean"));
}

