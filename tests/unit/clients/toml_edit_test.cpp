// [mcp_servers.c2c] in Codex's config.toml: parsed with toml++, only its own lines change.
#include "c2c/clients/toml_edit.hpp"

#include <gtest/gtest.h>

namespace c2c::clients {
namespace {

const std::vector<std::string> kPath = {"mcp_servers", "c2c"};

TomlEntry entry(std::string alias = "bob") {
  TomlEntry e;
  e.strings = {{"command", "/usr/bin/c2c"}};
  e.arrays = {{"args", {"mcp"}}, {"env_vars", {"CODEX_THREAD_ID"}}};
  e.inline_table_key = "env";
  e.inline_table = {{"C2C_MCP_AUTO_REGISTER_ALIAS", std::move(alias)}};
  return e;
}

const std::string kUserFile =
    "# my Codex settings\n"
    "model = \"o3\" # the model\n"
    "\n"
    "[mcp_servers.other]\n"
    "command = \"x\"\n"
    "args = [\n"
    "  \"a\", # first\n"
    "]\n";

TEST(TomlEdit, AppendsTheTableAndKeepsEverythingElse) {
  auto after = toml_set(kUserFile, kPath, entry());
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(*after, kUserFile +
                        "\n[mcp_servers.c2c]\n"
                        "command = \"/usr/bin/c2c\"\n"
                        "args = [\"mcp\"]\n"
                        "env_vars = [\"CODEX_THREAD_ID\"]\n"
                        "env = { C2C_MCP_AUTO_REGISTER_ALIAS = \"bob\" }\n");
  EXPECT_EQ(*toml_set(*after, kPath, entry()), *after);  // idempotent
  auto removed = toml_remove(*after, kPath);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, kUserFile);  // comments included
}

TEST(TomlEdit, ReplacesAnExistingTableWhereItIs) {
  const std::string before =
      "[mcp_servers.c2c]\n"
      "command = \"old\"\n"
      "# a note\n"
      "\n"
      "[profiles.fast]\n"
      "model = \"o4-mini\"\n";
  auto after = toml_set(before, kPath, entry("carol"));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(*after,
            "[mcp_servers.c2c]\n"
            "command = \"/usr/bin/c2c\"\n"
            "args = [\"mcp\"]\n"
            "env_vars = [\"CODEX_THREAD_ID\"]\n"
            "env = { C2C_MCP_AUTO_REGISTER_ALIAS = \"carol\" }\n"
            "# a note\n"
            "\n"
            "[profiles.fast]\n"
            "model = \"o4-mini\"\n");
}

TEST(TomlEdit, RemovesDottedAndSubTableForms) {
  EXPECT_EQ(*toml_remove("[mcp_servers]\nc2c.command = \"c2c\"\nother.command = \"x\"\n", kPath),
            "[mcp_servers]\nother.command = \"x\"\n");
  EXPECT_EQ(*toml_remove("[mcp_servers.c2c]\ncommand = \"c2c\"\n\n[mcp_servers.c2c.env]\nA = "
                         "\"1\"\n\n[x]\ny = 1\n",
                         kPath),
            "\n[x]\ny = 1\n");
  EXPECT_EQ(*toml_remove("a = 1\n", kPath), "a = 1\n");  // absent: unchanged
}

TEST(TomlEdit, RefusesUnparsableFilesAndSharedLines) {
  auto bad = toml_set("model = \n", kPath, entry());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 1"), std::string::npos) << bad.error().message;
  // An inline mcp_servers table cannot take a [mcp_servers.c2c] header: refused, not written.
  EXPECT_FALSE(toml_set("mcp_servers = { other = { command = \"x\" } }\n", kPath, entry()));
  // c2c shares a line with another server: removing it would remove the other one too.
  EXPECT_FALSE(
      toml_remove("mcp_servers = { c2c = { command = \"c\" }, o = { command = \"x\" } }\n", kPath));
}

TEST(TomlEdit, ReadsTheEntryBack) {
  auto text = toml_set("", kPath, entry());
  ASSERT_TRUE(text);
  auto got = toml_get(*text, kPath, "env");
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->strings.at(0).second, "/usr/bin/c2c");
  EXPECT_EQ((*got)->inline_table.at(0).second, "bob");
  EXPECT_FALSE(toml_get("a = 1", kPath, "env")->has_value());
}

}  // namespace
}  // namespace c2c::clients
