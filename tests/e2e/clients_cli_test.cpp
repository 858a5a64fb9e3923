// `c2c install/uninstall <client>`, `c2c mail-hook` and `c2c doctor` as a user runs them: the
// real binary, a temporary HOME, output lines and exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::test {
namespace {

using nlohmann::json;

class ClientsCli : public ::testing::Test {
 protected:
  TempDir home_{"c2c-clients-cli"};

  ProcessOptions opts(std::string stdin_data = "") {
    ProcessOptions o;
    o.clean_env = true;
    o.env = {{"HOME", home_.str()}, {"C2C_MCP_BROKER_ROOT", (home_ / "broker").string()}};
    for (const char* k : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
      if (const char* v = std::getenv(k)) o.env[k] = v;
    }
    o.cwd = home_.str();
    o.stdin_data = std::move(stdin_data);
    o.timeout = std::chrono::seconds(60);
    return o;
  }
  RunResult c2c(const std::vector<std::string>& args, std::string in = "") {
    return run_c2c(args, opts(std::move(in)));
  }
};

TEST_F(ClientsCli, InstallIsIdempotentAndUninstallRestoresTheFile) {
  const auto file = home_ / ".gemini" / "settings.json";
  write_file(file, "{\n  // mine\n  \"theme\": \"dark\"\n}\n");
  auto r =
      c2c({"install", "gemini", "--alias", "gem", "--broker-root", (home_ / "broker").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "updated " + file.string() + " (backup: " + file.string() +
                       ".c2c-backup)\nnote: Gemini CLI starts MCP servers only in trusted folders "
                       "(/permissions).\n");
  r = c2c({"install", "gemini", "--alias", "gem", "--broker-root", (home_ / "broker").string()});
  EXPECT_EQ(
      r.out.rfind("c2c is already installed for gemini (" + file.string() + " unchanged)\n", 0), 0u)
      << r.out;
  r = c2c({"uninstall", "gemini", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["changed"][0]["path"], file.string());
  EXPECT_EQ(read_file(file), "{\n  // mine\n  \"theme\": \"dark\"\n}\n");
}

TEST_F(ClientsCli, DryRunPrintsTheChangeAndWritesNothing) {
  auto r = c2c({"install", "claude", "--dry-run", "--command", "/x/c2c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("--- (new file) " + (home_ / ".claude.json").string()), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("+      \"command\": \"/x/c2c\","), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(home_ / ".claude.json"));
}

TEST_F(ClientsCli, UnparsableFileIsAnErrorLineAndExitOne) {
  write_file(home_ / ".claude.json", "{\"mcpServers\": [}");
  auto r = c2c({"install", "claude"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: cannot parse " + (home_ / ".claude.json").string() + ": line 1", 0),
            0u)
      << r.err;
  EXPECT_EQ(read_file(home_ / ".claude.json"), "{\"mcpServers\": [}");
  r = c2c({"install", "codex", "--scope", "project"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("use --scope user"), std::string::npos) << r.err;
  r = c2c({"install", "gemini", "--alias", "bad alias"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(ClientsCli, MailHookReportsWaitingMailWithoutDrainingIt) {
  ASSERT_EQ(c2c({"register", "--alias", "alice", "--session-id", "ses-a"}).exit_code, 0);
  ASSERT_EQ(c2c({"register", "--alias", "bob", "--session-id", "ses-b"}).exit_code, 0);
  auto none = c2c({"mail-hook"}, R"({"session_id":"ses-b","tool_name":"Bash"})");
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
  ASSERT_EQ(c2c({"send", "bob", "hello", "--from", "alice"}).exit_code, 0);
  auto r = c2c({"mail-hook"}, R"({"session_id":"ses-b","tool_name":"Bash"})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["hookSpecificOutput"]["hookEventName"], "PostToolUse");
  EXPECT_EQ(j["hookSpecificOutput"]["additionalContext"],
            "c2c: 1 new message from alice. Call the c2c poll_inbox tool to read them.");
  // Still there: the hook only tells.
  EXPECT_NE(c2c({"peek-inbox", "--session-id", "ses-b"}).out.find("hello"), std::string::npos);
  EXPECT_EQ(c2c({"mail-hook"}, "not json").exit_code, 0);
}

TEST_F(ClientsCli, DoctorChecksAnInstalledClientAndFailsOnABrokenOne) {
  ASSERT_EQ(c2c({"install", "gemini", "--command", c2c_bin()}).exit_code, 0);
  auto r = c2c({"doctor", "--json"});
  json j = json::parse(r.out);
  bool found = false;
  for (const auto& c : j["checks"]) {
    if (c["check"] == "client gemini (user)") {
      found = true;
      EXPECT_EQ(c["ok"], true) << c.dump();
    }
  }
  EXPECT_TRUE(found) << r.out;
  // The binary is not on this PATH: doctor says so and exits 1 with the fix.
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(j["ok"], false);

  ASSERT_EQ(c2c({"install", "gemini", "--command", "/nonexistent/c2c"}).exit_code, 0);
  r = c2c({"doctor"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("✗ client gemini (user): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("— fix: c2c install gemini"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("✗ binary: c2c is not on PATH"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace c2c::test
