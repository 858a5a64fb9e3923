#pragma once
// A temporary HOME (cwd outside any git repository) and a runner for the real c2c binary
// with a clean environment, so the agent's own session variables never leak in.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::test {

inline bool has(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

// The stderr of a failed command: exactly one "error: " line (hint lines may follow).
inline void expect_one_error_line(const RunResult& r, const std::string& needle) {
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  size_t errors = 0;
  for (size_t pos = 0; (pos = r.err.find("error: ", pos)) != std::string::npos; ++pos) ++errors;
  EXPECT_EQ(errors, 1u) << r.err;
  EXPECT_TRUE(has(r.err, needle)) << "stderr: " << r.err << "\nexpected: " << needle;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

class BrokerCli : public ::testing::Test {
 protected:
  TempDir dir{"c2c-broker-cli"};
  std::map<std::string, std::string> env;

  void SetUp() override {
    std::filesystem::create_directories(dir / "home");
    env["HOME"] = (dir / "home").string();
  }

  // The root c2c resolves from this HOME outside a repository (docs/protocol.md §6).
  std::filesystem::path root() const {
    return dir.path() / "home" / ".c2c" / "repos" / "default" / "broker";
  }

  RunResult c2c(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& extra = {}) {
    ProcessOptions o;
    o.clean_env = true;
    o.env = env;
    for (const auto& [k, v] : extra) o.env[k] = v;
    o.cwd = dir.str();
    o.timeout = std::chrono::seconds(30);
    return run_c2c(args, o);
  }

  nlohmann::json json_of(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  // Registers alias/session with this test process as the liveness pid.
  void reg(const std::string& alias, const std::string& sid) {
    auto r = c2c(
        {"register", "--alias", alias, "--session-id", sid, "--pid", std::to_string(::getpid())});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

}  // namespace c2c::test
