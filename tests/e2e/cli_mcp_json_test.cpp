// The CLI's --json and the MCP tools show broker data through one presenter
// (broker/json_view.hpp): for the same message, peer, room member and room history entry, every
// field both show has the same value, and the fields each shows are the documented ones. The CLI
// runs as the real binary, the MCP side as an in-process server on the same broker directory.
#include <set>

#include "broker_cli_fixture.hpp"
#include "unit/mcp/mcp_fixture.hpp"

namespace c2c::test {
namespace {

using nlohmann::json;

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

// `cli` and `mcp` agree on every key both have; `common` are in both.
void expect_same_shape(const json& cli, const json& mcp, const std::set<std::string>& common) {
  ASSERT_TRUE(cli.is_object()) << cli.dump();
  ASSERT_TRUE(mcp.is_object()) << mcp.dump();
  for (const auto& k : common) {
    EXPECT_TRUE(cli.contains(k)) << k << " missing from the CLI's " << cli.dump();
    EXPECT_TRUE(mcp.contains(k)) << k << " missing from the MCP tool's " << mcp.dump();
  }
  for (const auto& [k, v] : cli.items()) {
    if (!mcp.contains(k)) continue;
    EXPECT_EQ(v, mcp[k]) << k << ": CLI " << cli.dump() << " MCP " << mcp.dump();
  }
}

class CliMcpJson : public BrokerCli {
 protected:
  void SetUp() override {
    BrokerCli::SetUp();
    reg("alice", "ses-a");
    reg("bob", "ses-b");
  }
  mcp::test::Agent agent(const std::string& sid) {
    return mcp::test::Agent(root(), std::optional<std::string>(sid));
  }
  // A tool's structuredContent: whoami and register answer with a text line, not the JSON.
  static json structured(mcp::test::Agent& a, const std::string& tool, json args = json::object()) {
    const json r = a.request("tools/call", {{"name", tool}, {"arguments", std::move(args)}});
    EXPECT_EQ(r["result"]["isError"], false) << r.dump();
    return r["result"]["structuredContent"];
  }
};

TEST_F(CliMcpJson, AMessageIsTheSameObjectInPeekInboxAndThePeekInboxTool) {
  ASSERT_EQ(c2c({"send", "bob", "hello", "there", "--from", "alice"}).exit_code, 0);
  const json cli = json_of(c2c({"peek-inbox", "--json", "-s", "ses-b"}));
  auto bob = agent("ses-b");
  const json mcp = bob.ok("peek_inbox");
  ASSERT_EQ(cli.size(), 1u);
  ASSERT_EQ(mcp.size(), 1u);
  expect_same_shape(cli[0], mcp[0], {"from_alias", "to_alias", "content", "ts"});
  EXPECT_EQ(mcp[0]["content"], "hello there");
  // The CLI shows the stored record's id; the agent's view leaves it out.
  EXPECT_TRUE(cli[0].contains("message_id"));
  EXPECT_EQ(keys_of(mcp[0]), (std::set<std::string>{"from_alias", "to_alias", "content", "ts"}));
}

TEST_F(CliMcpJson, APeerIsTheSameObjectInListAndTheListTool) {
  const json cli = json_of(c2c({"list", "--json"}));
  auto alice = agent("ses-a");
  const json mcp = alice.ok("list");
  ASSERT_EQ(cli.size(), 2u);
  ASSERT_EQ(mcp.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    expect_same_shape(cli[i], mcp[i], {"session_id", "alias", "alive", "pid", "registered_at"});
    EXPECT_EQ(cli[i]["alive"], true);
  }
}

TEST_F(CliMcpJson, WhoamiAndRegisterAgreeOnTheFieldsBothShow) {
  auto alice = agent("ses-a");
  expect_same_shape(json_of(c2c({"whoami", "--json", "-s", "ses-a"})), structured(alice, "whoami"),
                    {"session_id", "alias"});
  const json cli = json_of(c2c({"register", "--alias", "alice", "--session-id", "ses-a", "--pid",
                                std::to_string(::getpid()), "--json"}));
  expect_same_shape(cli, structured(alice, "register", {{"alias", "alice"}}),
                    {"alias", "session_id", "redelivered_dead_letters"});
}

TEST_F(CliMcpJson, RoomMembersAndHistoryAreTheSameObjects) {
  auto bob = agent("ses-b");
  const json joined = bob.ok("join_room", {{"room_id", "lounge"}});
  const json cli_join = json_of(c2c({"room", "join", "lounge", "--json", "-s", "ses-a"}));
  ASSERT_EQ(cli_join["members"].size(), 2u);
  ASSERT_EQ(joined["members"].size(), 1u);
  expect_same_shape(cli_join["members"][0], joined["members"][0],
                    {"alias", "session_id", "joined_at"});
  EXPECT_EQ(keys_of(cli_join["members"][0]), keys_of(joined["members"][0]));

  ASSERT_EQ(c2c({"room", "send", "lounge", "hi", "all", "--from", "alice"}).exit_code, 0);
  const json cli = json_of(c2c({"room", "history", "lounge", "--json"}));
  const json mcp = bob.ok("room_history", {{"room_id", "lounge"}});
  ASSERT_EQ(cli.size(), mcp.size());
  ASSERT_FALSE(cli.empty());
  EXPECT_EQ(cli, mcp);
  EXPECT_EQ(cli.back()["content"], "hi all");
}

}  // namespace
}  // namespace c2c::test
