// docs/tour.md stays true: every code reference it makes (`file`: `symbol`) names a file
// that exists and a symbol in it, every test it cites exists, every file it names exists,
// and every `./build/radius` command in its shell blocks runs.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/cli_util.h"
#include "temp_dir.h"

using radius::test::read_text;

namespace fs = std::filesystem;
using namespace radius::test;

namespace {

const fs::path kRoot = RADIUS_SOURCE_DIR;

std::string tour() { return read_text(kRoot / "docs" / "tour.md"); }

// Every TEST_CASE name in tests/*.cpp.
std::string all_tests() {
  std::string all;
  for (const auto& e : fs::directory_iterator(kRoot / "tests"))
    if (e.path().extension() == ".cpp") all += read_text(e.path());
  return all;
}

}  // namespace

TEST_CASE("tour: every code reference names an existing file and a symbol in it") {
  const std::string doc = tour();
  // `path/file.ext`: `symbol` (the symbol's last :: part must appear in the file as a word).
  const std::regex ref(R"re(`([\w./-]+\.(?:h|cpp|cu))`:\s+`([\w:~]+)`)re");
  int count = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), ref); it != std::sregex_iterator(); ++it, ++count) {
    const std::string file = (*it)[1], symbol = (*it)[2];
    CAPTURE(file);
    CAPTURE(symbol);
    REQUIRE(fs::is_regular_file(kRoot / file));
    const std::string name = symbol.substr(symbol.rfind(':') == std::string::npos ? 0 : symbol.rfind(':') + 1);
    CHECK(std::regex_search(read_text(kRoot / file), std::regex("\\b" + name + "\\b")));
  }
  CHECK(count >= 30);
  // Any other file it names in backquotes exists too.
  const std::regex path(R"re(`((?:apps|bench|data|docs|eval|examples|io|kernels|layers|models|net|optim|radius|scripts|tensor|tests)/[\w./{},-]+)`)re");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), path); it != std::sregex_iterator(); ++it) {
    std::string p = (*it)[1];
    if (p.find('{') != std::string::npos) p = p.substr(0, p.find('{')) + "h";  // layers/activations.{h,cpp}
    CAPTURE(p);
    CHECK(fs::exists(kRoot / p));
  }
}

TEST_CASE("tour: every test it cites exists") {
  const std::string doc = tour(), tests = all_tests();
  // test "name", possibly broken over lines in the Markdown.
  const std::regex cited(R"re(test\s+"([^"]+)")re");
  int count = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), cited); it != std::sregex_iterator(); ++it, ++count) {
    const std::string name = std::regex_replace((*it)[1].str(), std::regex(R"(\s*\n\s*)"), " ");
    CAPTURE(name);
    CHECK(tests.find("TEST_CASE(\"" + name + "\")") != std::string::npos);
  }
  CHECK(count >= 10);
}

TEST_CASE("tour: every ./build/radius command in its shell blocks runs") {
  TempDir scratch("tour");
  const std::string doc = tour();
  const std::regex block(R"re(```sh\n([\s\S]*?)```)re");
  int count = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), block); it != std::sregex_iterator(); ++it) {
    std::istringstream lines((*it)[1].str());
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("./build/radius ", 0) != 0) continue;
      // export first: in "TOUR=x cmd $TOUR/data" the shell expands $TOUR before the assignment
      // applies, so the command would write to /data.
      const std::string command = "cd " + q(kRoot.string()) + " && export TOUR=" + q(scratch.path.string()) + " && " +
                                  std::string(RADIUS_CLI) + line.substr(std::string("./build/radius").size()) +
                                  " >/dev/null 2>&1; echo rc=$?";
      CAPTURE(line);
      CHECK(run_shell(command).out == "rc=0\n");
      ++count;
    }
  }
  CHECK(count >= 4);
}
