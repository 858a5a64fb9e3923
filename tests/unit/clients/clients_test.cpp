// Install / uninstall plans per client, applied in a temporary HOME: each client's own file and
// shape, idempotence, backups, refusal of unparsable files, the Claude Code mail hook.
#include "c2c/clients/clients.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "c2c/clients/jsonc_edit.hpp"
#include "support/temp_dir.hpp"

namespace c2c::clients {
namespace {

using c2c::test::read_file;
using c2c::test::write_file;
using nlohmann::json;

class ClientsTest : public ::testing::Test {
 protected:
  c2c::test::TempDir dir_{"c2c-clients"};
  Locations loc_{dir_ / "home", dir_ / "proj", std::nullopt, std::nullopt};

  InstallOptions opts(Client c, Scope s = Scope::kUser) {
    InstallOptions o;
    o.client = c;
    o.scope = s;
    o.command = "/opt/c2c/bin/c2c";
    o.alias = "alice";
    o.rooms = {"lounge", "ops"};
    o.broker_root = "/srv/broker";
    return o;
  }
  void install(const InstallOptions& o) {
    auto p = plan_install(o, loc_);
    ASSERT_TRUE(p) << p.error().message;
    ASSERT_TRUE(apply(*p));
  }
  void uninstall(const InstallOptions& o) {
    auto p = plan_uninstall(o, loc_);
    ASSERT_TRUE(p) << p.error().message;
    ASSERT_TRUE(apply(*p));
  }
  json read_json(const fs::path& p) { return json(*parse_jsonc(read_file(p))); }
};

TEST_F(ClientsTest, ClaudeUserScopeWritesTopLevelMcpServersAndKeepsTheRest) {
  const fs::path file = dir_ / "home" / ".claude.json";
  write_file(file,
             R"({"numStartups": 3, "mcpServers": {"other": {"command": "x"}}, "projects": {}})");
  ::chmod(file.c_str(), 0640);
  install(opts(Client::kClaude));
  const json j = read_json(file);
  EXPECT_EQ(j["numStartups"], 3);
  EXPECT_EQ(j["mcpServers"]["other"]["command"], "x");
  const json& e = j["mcpServers"]["c2c"];
  EXPECT_EQ(e["type"], "stdio");
  EXPECT_EQ(e["command"], "/opt/c2c/bin/c2c");
  EXPECT_EQ(e["args"], json::array({"mcp"}));
  EXPECT_EQ(e["env"]["C2C_MCP_CLIENT_TYPE"], "claude");
  EXPECT_EQ(e["env"]["C2C_MCP_AUTO_REGISTER_ALIAS"], "alice");
  EXPECT_EQ(e["env"]["C2C_MCP_AUTO_JOIN_ROOMS"], "lounge,ops");
  EXPECT_EQ(e["env"]["C2C_MCP_BROKER_ROOT"], "/srv/broker");
  // The previous text is the backup; the mode is kept.
  EXPECT_EQ(read_file(file.string() + ".c2c-backup"),
            R"({"numStartups": 3, "mcpServers": {"other": {"command": "x"}}, "projects": {}})");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // Idempotent: a second install plans nothing.
  EXPECT_TRUE(plan_install(opts(Client::kClaude), loc_)->changes.empty());
  uninstall(opts(Client::kClaude));
  EXPECT_EQ(read_file(file),
            R"({"numStartups": 3, "mcpServers": {"other": {"command": "x"}}, "projects": {}})");
}

TEST_F(ClientsTest, ClaudeProjectScopeWritesDotMcpJson) {
  install(opts(Client::kClaude, Scope::kProject));
  const json j = read_json(dir_ / "proj" / ".mcp.json");
  EXPECT_EQ(j["mcpServers"]["c2c"]["type"], "stdio");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "proj" / ".mcp.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // new files are private
}

TEST_F(ClientsTest, GeminiUserAndProjectSettings) {
  install(opts(Client::kGemini));
  install(opts(Client::kGemini, Scope::kProject));
  for (const fs::path& f :
       {dir_ / "home" / ".gemini" / "settings.json", dir_ / "proj" / ".gemini" / "settings.json"}) {
    const json e = read_json(f)["mcpServers"]["c2c"];
    EXPECT_EQ(e["command"], "/opt/c2c/bin/c2c");
    EXPECT_FALSE(e.contains("type"));
    EXPECT_EQ(e["env"]["C2C_MCP_CLIENT_TYPE"], "gemini");
  }
}

TEST_F(ClientsTest, OpenCodeUsesItsShapeAndAnExistingJsoncFile) {
  const fs::path jsonc = dir_ / "home" / ".config" / "opencode" / "opencode.jsonc";
  write_file(jsonc, "{\n  // theme first\n  \"theme\": \"dark\",\n}\n");
  install(opts(Client::kOpenCode));
  const std::string text = read_file(jsonc);
  EXPECT_NE(text.find("// theme first"), std::string::npos);
  const json e = read_json(jsonc)["mcp"]["c2c"];
  EXPECT_EQ(e["type"], "local");
  EXPECT_EQ(e["command"], json::array({"/opt/c2c/bin/c2c", "mcp"}));
  EXPECT_EQ(e["environment"]["C2C_MCP_CLIENT_TYPE"], "opencode");
  EXPECT_EQ(e["enabled"], true);
  EXPECT_FALSE(fs::exists(dir_ / "home" / ".config" / "opencode" / "opencode.json"));
  // A new project file starts with the schema reference.
  install(opts(Client::kOpenCode, Scope::kProject));
  EXPECT_EQ(read_json(dir_ / "proj" / "opencode.json")["$schema"],
            "https://opencode.ai/config.json");
}

TEST_F(ClientsTest, CodexWritesItsTomlWithTheSessionVariablePassedThrough) {
  loc_.codex_home = dir_ / "codex-home";
  const fs::path file = dir_ / "codex-home" / "config.toml";
  write_file(file, "# keep this comment\nmodel = \"o3\"\n");
  install(opts(Client::kCodex));
  const std::string text = read_file(file);
  EXPECT_EQ(text.rfind("# keep this comment\nmodel = \"o3\"\n", 0), 0u) << text;
  EXPECT_NE(text.find("env_vars = [\"CODEX_THREAD_ID\"]"), std::string::npos) << text;
  auto got = read_installed(Client::kCodex, Scope::kUser, loc_);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->command, "/opt/c2c/bin/c2c");
  EXPECT_EQ((*got)->args, std::vector<std::string>{"mcp"});
  EXPECT_TRUE(plan_install(opts(Client::kCodex), loc_)->changes.empty());
  uninstall(opts(Client::kCodex));
  EXPECT_EQ(read_file(file), "# keep this comment\nmodel = \"o3\"\n");
  EXPECT_FALSE(plan_install(opts(Client::kCodex, Scope::kProject), loc_));
}

TEST_F(ClientsTest, AnUnparsableFileIsRefusedAndLeftAlone) {
  const fs::path file = dir_ / "home" / ".gemini" / "settings.json";
  write_file(file, "{\"mcpServers\": {\n");
  auto p = plan_install(opts(Client::kGemini), loc_);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("cannot parse " + file.string() + ": line 2"), std::string::npos)
      << p.error().message;
  EXPECT_EQ(read_file(file), "{\"mcpServers\": {\n");
  loc_.codex_home = dir_ / "codex-home";
  write_file(dir_ / "codex-home" / "config.toml", "[mcp_servers\n");
  EXPECT_FALSE(plan_install(opts(Client::kCodex), loc_));
}

TEST_F(ClientsTest, UninstallWithoutAFileChangesNothing) {
  EXPECT_TRUE(plan_uninstall(opts(Client::kGemini), loc_)->changes.empty());
  EXPECT_TRUE(plan_uninstall(opts(Client::kClaude), loc_)->changes.empty());
}

TEST_F(ClientsTest, ClaudeHookIsAddedOnceAndRemovedWithUninstall) {
  const fs::path settings = dir_ / "home" / ".claude" / "settings.json";
  write_file(
      settings,
      R"({"hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "lint"}]}]}})");
  auto o = opts(Client::kClaude);
  o.hook = true;
  install(o);
  install(o);
  json list = read_json(settings)["hooks"]["PostToolUse"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]["hooks"][0]["command"],
            "C2C_MCP_BROKER_ROOT=/srv/broker /opt/c2c/bin/c2c mail-hook");
  uninstall(opts(Client::kClaude));
  list = read_json(settings)["hooks"]["PostToolUse"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["matcher"], "Bash");
}

TEST_F(ClientsTest, DryRunDescribesTheAddedLines) {
  auto p = plan_install(opts(Client::kGemini), loc_);
  ASSERT_TRUE(p);
  const std::string d = describe(*p);
  EXPECT_NE(d.find("--- (new file) " + (dir_ / "home" / ".gemini" / "settings.json").string()),
            std::string::npos);
  EXPECT_NE(d.find("+        \"C2C_MCP_AUTO_REGISTER_ALIAS\": \"alice\","), std::string::npos) << d;
  EXPECT_FALSE(fs::exists(dir_ / "home" / ".gemini"));
}

}  // namespace
}  // namespace c2c::clients
