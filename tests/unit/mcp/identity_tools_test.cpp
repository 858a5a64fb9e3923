// register, whoami, list.
#include <unistd.h>

#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

class IdentityTools : public ::testing::Test {
 protected:
  c2c::test::TempDir dir_{"c2c-mcp-identity"};
  Agent a_{dir_.path(), std::optional<std::string>("ses-a")};
  Agent b_{dir_.path(), std::optional<std::string>("ses-b")};
};

TEST_F(IdentityTools, RegisterThenWhoami) {
  EXPECT_EQ(a_.call("whoami").text, "");  // not registered: empty, not an error
  EXPECT_FALSE(a_.call("whoami").is_error);
  a_.register_as("alice");
  EXPECT_EQ(a_.call("whoami").text, "alice");
  auto reg = a_.broker().find_session("ses-a");
  ASSERT_TRUE(reg && reg->has_value());
  EXPECT_EQ((*reg)->alias, "alice");
  EXPECT_EQ((*reg)->pid, ::getppid());  // no C2C_MCP_CLIENT_PID: the server's parent
}

TEST_F(IdentityTools, RegisterStoresTheRole) {
  ASSERT_FALSE(a_.call("register", {{"alias", "alice"}, {"role", "reviewer"}}).is_error);
  auto reg = a_.broker().find_session("ses-a");
  ASSERT_TRUE(reg && reg->has_value());
  EXPECT_EQ((*reg)->role, "reviewer");
}

TEST_F(IdentityTools, WhoamiOfAnotherSessionByArgument) {
  b_.register_as("bob");
  EXPECT_EQ(a_.call("whoami", {{"session_id", "ses-b"}}).text, "bob");
}

TEST_F(IdentityTools, RegisterWithoutAliasUsesTheEnvAliasThenTheCurrentOne) {
  Agent c(dir_.path(), config_with("ses-c", "carol"));
  EXPECT_EQ(c.call("register").text, "registered carol");
  // Already registered: no alias argument keeps the current alias.
  a_.register_as("alice");
  EXPECT_EQ(a_.call("register").text, "registered alice");
}

TEST_F(IdentityTools, RegisterWithoutAnyAliasIsAnError) {
  EXPECT_EQ(
      a_.err("register"),
      "alias is required (pass {\"alias\":\"your-name\"} or set C2C_MCP_AUTO_REGISTER_ALIAS)");
}

TEST_F(IdentityTools, ReservedAndInvalidAliasesAreRejected) {
  EXPECT_NE(a_.err("register", {{"alias", "c2c-system"}}).find("reserved"), std::string::npos);
  EXPECT_NE(a_.err("register", {{"alias", "C2C"}}).find("reserved"), std::string::npos);
  for (const char* bad : {"has space", ".hidden", "x/y", "a@b"}) {
    EXPECT_EQ(a_.err("register", {{"alias", bad}}),
              std::string("register rejected: invalid alias '") + bad +
                  "'. Allowed chars: [A-Za-z0-9._-], 1..64, no leading dot.");
  }
  EXPECT_NE(a_.err("register", {{"alias", std::string(65, 'a')}}).find("invalid alias"),
            std::string::npos);
}

TEST_F(IdentityTools, AliasHeldByAnotherLiveSessionIsACollisionWithASuggestion) {
  a_.register_as("alice");
  const ToolOut out = b_.call("register", {{"alias", "ALICE"}});
  ASSERT_TRUE(out.is_error);
  const json err = out.parsed();
  EXPECT_EQ(err["collision"], true);
  EXPECT_EQ(err["contested_alias"], "ALICE");
  EXPECT_EQ(err["holder_session_id"], "ses-a");
  EXPECT_EQ(err["suggested_alias"], "alice-2");
  EXPECT_NE(err["error"].get<std::string>().find("Suggested free alias: 'alice-2'"),
            std::string::npos);
  // The suggestion is actually free.
  b_.register_as("alice-2");
}

TEST_F(IdentityTools, WithoutASessionRegisterUsesTheAliasAsSessionAndBindsIt) {
  Agent n(dir_.path(), std::optional<std::string>());
  EXPECT_NE(n.err("whoami").find("no session id"), std::string::npos);
  n.register_as("nomad");
  EXPECT_EQ(n.session().get(), "nomad");
  EXPECT_EQ(n.call("whoami").text, "nomad");
}

TEST_F(IdentityTools, ExplicitSessionIdMayNameOnlyTheServersOwnSession) {
  EXPECT_EQ(a_.call("register", {{"alias", "alice"}, {"session_id", "ses-a"}}).text,
            "registered alice");
  EXPECT_NE(a_.err("register", {{"alias", "helper"}, {"session_id", "ses-helper"}})
                .find("may register only that session"),
            std::string::npos);
  EXPECT_FALSE(a_.broker().find_session("ses-helper")->has_value());
  EXPECT_EQ(a_.session().get(), "ses-a");  // the server keeps its own session
  // A server without a session may claim a free one (and binds to it).
  Agent n(dir_.path(), std::optional<std::string>());
  EXPECT_EQ(n.call("register", {{"alias", "helper"}, {"session_id", "ses-helper"}}).text,
            "registered helper");
  EXPECT_EQ(n.session().get(), "ses-helper");
  Agent m(dir_.path(), std::optional<std::string>());
  EXPECT_NE(
      m.err("register", {{"alias", "x"}, {"session_id", "../evil"}}).find("invalid session_id"),
      std::string::npos);
}

// Issue 8.3: register {"alias":"decoy","session_id":<victim>} renamed the victim's live session,
// freeing its alias (and its inbox) for the attacker. Refused now, with or without a session.
TEST_F(IdentityTools, RegisterCannotRenameAnotherLiveSession) {
  // The victim is served by another live process (pid 1 outlives the test).
  ASSERT_TRUE(a_.broker().register_session({"ses-victim", "victim", 1, "", "", true}));
  const std::string err = a_.err("register", {{"alias", "decoy"}, {"session_id", "ses-victim"}});
  EXPECT_NE(err.find("may register only that session"), std::string::npos) << err;
  Agent n(dir_.path(), std::optional<std::string>());
  const std::string err2 = n.err("register", {{"alias", "decoy"}, {"session_id", "ses-victim"}});
  EXPECT_NE(err2.find("session 'ses-victim' is registered as 'victim' by another process"),
            std::string::npos)
      << err2;
  auto reg = a_.broker().find_session("ses-victim");
  ASSERT_TRUE(reg && reg->has_value());
  EXPECT_EQ((*reg)->alias, "victim");
  EXPECT_FALSE(n.session().get().has_value());
  // The alias stays the victim's: taking it is a collision.
  EXPECT_TRUE(a_.call("register", {{"alias", "victim"}}).is_error);
  // A dead session may be taken over (its agent is gone).
  ASSERT_TRUE(a_.broker().register_session({"ses-gone", "gone", kDeadPid, "", "", false}));
  EXPECT_EQ(n.call("register", {{"alias", "gone"}, {"session_id", "ses-gone"}}).text,
            "registered gone");
}

TEST_F(IdentityTools, RegisterRedeliversDeadLetters) {
  b_.register_as("bob");
  // alice lives, gets a message, then her process dies and a sweep dead-letters her inbox.
  ASSERT_TRUE(a_.broker().register_session({"ses-old", "alice", ::getpid(), "", "", true}));
  b_.ok("send", {{"to_alias", "alice"}, {"content", "are you there?"}});
  ASSERT_TRUE(a_.broker().register_session({"ses-old", "alice", kDeadPid, "", "", false}));
  auto swept = a_.broker().sweep();
  ASSERT_TRUE(swept) << swept.error().message;
  ASSERT_EQ(swept->preserved_messages, 1u);
  EXPECT_EQ(a_.call("register", {{"alias", "alice"}}).text,
            "registered alice (redelivered 1 dead-letter message)");
  const json inbox = a_.ok("poll_inbox");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0]["content"], "are you there?");
}

TEST_F(IdentityTools, ListShowsRegistrationsWithLiveness) {
  a_.register_as("alice");
  ASSERT_TRUE(a_.broker().register_session({"ses-dead", "ghost", kDeadPid, "", "", false}));
  ASSERT_TRUE(
      a_.broker().register_session({"ses-nopid", "human", std::nullopt, "human", "", false}));
  const json all = a_.ok("list");
  ASSERT_EQ(all.size(), 3u);
  std::map<std::string, json> by_alias;
  for (const auto& row : all) by_alias[row["alias"]] = row;
  EXPECT_EQ(by_alias["alice"]["alive"], true);
  EXPECT_EQ(by_alias["alice"]["session_id"], "ses-a");
  EXPECT_EQ(by_alias["alice"]["pid"], ::getppid());
  EXPECT_TRUE(by_alias["alice"]["registered_at"].is_number());
  EXPECT_EQ(by_alias["ghost"]["alive"], false);
  EXPECT_TRUE(by_alias["human"]["alive"].is_null());
  EXPECT_FALSE(by_alias["human"].contains("pid"));
  const json alive = a_.ok("list", {{"alive_only", true}});
  ASSERT_EQ(alive.size(), 1u);
  EXPECT_EQ(alive[0]["alias"], "alice");
}

}  // namespace
}  // namespace c2c::mcp::test
