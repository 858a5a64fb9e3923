// One way for a CLI command to fail (ARCHITECTURE.md "Error boundaries"): it calls
// exit_with_error (cli_common.hpp), and app.cpp prints "error: ..." and exits with the code.
// No command throws CliError itself.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "c2c/cli/cli_common.hpp"
#include "support/process.hpp"

namespace c2c::cli {
namespace {

namespace fs = std::filesystem;

TEST(CliErrorStyle, ExitWithErrorCarriesTheMessageAndTheExitCode) {
  try {
    exit_with_error("mcp server stopped", 3);
    FAIL() << "exit_with_error returned";
  } catch (const CliError& e) {
    EXPECT_STREQ(e.what(), "mcp server stopped");
    EXPECT_EQ(e.exit_code(), 3);
  }
}

TEST(CliErrorStyle, CommandsFailOnlyThroughExitWithError) {
  const fs::path cli = fs::path(c2c::test::source_dir()) / "src" / "c2c" / "cli";
  std::vector<std::string> throwers;
  for (const auto& entry : fs::directory_iterator(cli)) {
    const auto name = entry.path().filename().string();
    if (name == "cli_common.hpp") continue;  // exit_with_error itself
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find("throw CliError") != std::string::npos) throwers.push_back(name);
  }
  EXPECT_TRUE(throwers.empty()) << "throw CliError outside exit_with_error in: "
                                << ::testing::PrintToString(throwers);
}

}  // namespace
}  // namespace c2c::cli
