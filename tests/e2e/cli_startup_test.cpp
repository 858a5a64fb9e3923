// The c2c binary registers only the command group argv[1] names (a start-up speed-up,
// docs/performance.md "Start-up"; tests/unit/cli checks every group in-process). These
// transcripts check the real binary: a lone --version (no group registered) still answers, and
// a command's own usage errors are unchanged. Typos ("c2c sned", "c2c relay staus") register
// every group; their suggestions are checked in relay_cli_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "c2c/core/version.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::test {
namespace {

class CliStartup : public ::testing::Test {
 protected:
  TempDir dir{"c2c-cli-startup"};

  RunResult c2c(const std::vector<std::string>& args) {
    ProcessOptions o;
    o.clean_env = true;
    o.env["HOME"] = dir.str();
    o.cwd = dir.str();
    o.timeout = std::chrono::seconds(30);
    return run_c2c(args, o);
  }
};

TEST_F(CliStartup, LoneVersionAndACommandsUsageErrors) {
  // "c2c <version> (<git hash>)": the hash is the binary's own (the test may be older).
  auto r = c2c({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(std::string("c2c ") + kVersion + " (", 0), 0u) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - std::min<size_t>(2, r.out.size())), ")\n") << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  // A command's own usage errors are unchanged.
  r = c2c({"send"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
}

}  // namespace
}  // namespace c2c::test
