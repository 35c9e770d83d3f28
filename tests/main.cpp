// doctest's main, plus one guard: a run asked for by test-case name (ctest runs each case
// as `radius_tests --test-case=NAME`) that matches no test case fails instead of passing
// with nothing run. CMake's doctest_discover_tests cuts a name at a ';' (a CMake list
// separator), which once left 17 cases silently unrun in CI: keep ';' out of test names.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

namespace {

struct StartedCounter : doctest::IReporter {
  static inline int started = 0;
  explicit StartedCounter(const doctest::ContextOptions&) {}
  void test_case_start(const doctest::TestCaseData&) override { ++started; }
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("started_counter", 1, StartedCounter);

bool selects_by_name(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    for (const char* flag : {"--test-case=", "-tc=", "--dt-test-case=", "--dt-tc="})
      if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (context.shouldExit()) return rc;  // --help, --list-test-cases, ...
  if (rc == 0 && StartedCounter::started == 0 && selects_by_name(argc, argv)) {
    std::fprintf(stderr, "radius_tests: no test case matches the --test-case filter (is there a ';' in its name?)\n");
    return 1;
  }
  return rc;
}
