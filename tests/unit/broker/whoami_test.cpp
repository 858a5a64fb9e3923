// broker/whoami.hpp: the one rule for "which session / alias am I" that the local commands
// (send, poll-inbox, rooms) and the relay commands (relay rooms, relay list) share
// (docs/cli.md "Who am I", docs/decisions.md D14).
#include "c2c/broker/whoami.hpp"

#include <map>

#include "broker_fixture.hpp"

namespace c2c::broker {
namespace {

using test_support::BrokerTest;

TEST(WhoamiEnvTest, SessionVariablesAreReadInOneOrder) {
  EXPECT_EQ(env_session_id(env_of({{"C2C_MCP_SESSION_ID", "s1"}})).value, "s1");
  EXPECT_EQ(env_session_id(env_of({{"CLAUDE_SESSION_ID", "s2"}})).value, "s2");
  EXPECT_EQ(env_session_id(env_of({{"CODEX_THREAD_ID", "s3"}})).value, "s3");
  const auto all = env_of(
      {{"C2C_MCP_SESSION_ID", "s1"}, {"CLAUDE_SESSION_ID", "s2"}, {"CODEX_THREAD_ID", "s3"}});
  EXPECT_EQ(env_session_id(all).value, "s1");
  EXPECT_EQ(env_session_id(all).variable, "C2C_MCP_SESSION_ID");
  const auto later = env_of({{"CLAUDE_SESSION_ID", "s2"}, {"CODEX_THREAD_ID", "s3"}});
  EXPECT_EQ(env_session_id(later).value, "s2");
  EXPECT_EQ(env_session_id(later).variable, "CLAUDE_SESSION_ID");
  // Blank values do not count; values are trimmed.
  const auto blank = env_of({{"C2C_MCP_SESSION_ID", "  "}, {"CODEX_THREAD_ID", " s3\n"}});
  EXPECT_EQ(env_session_id(blank).value, "s3");
  EXPECT_EQ(env_session_id(blank).variable, "CODEX_THREAD_ID");
  EXPECT_EQ(env_session_id(env_of({})).value, "");
  EXPECT_EQ(env_session_id(env_of({})).variable, "");
  EXPECT_EQ(env_alias(env_of({{"C2C_MCP_AUTO_REGISTER_ALIAS", " bob "}})), "bob");
  EXPECT_EQ(env_alias(env_of({})), "");
}

class WhoamiTest : public BrokerTest {
 protected:
  Result<SenderChoice> sender(const std::map<std::string, std::string>& env,
                              SenderSources in = {}) {
    return resolve_sender(broker_, env_of(env), in);
  }
  Result<SessionChoice> session(const std::map<std::string, std::string>& env,
                                const std::string& flag = "") {
    return resolve_session(broker_, env_of(env), flag);
  }
};

TEST_F(WhoamiTest, ExplicitFlagWins) {
  reg("alice", "s-alice");
  SenderSources in;
  in.flag = "carol";
  in.saved_alias = "saved";
  auto c = sender({{"C2C_MCP_SESSION_ID", "s-alice"}, {"C2C_MCP_AUTO_REGISTER_ALIAS", "dave"}}, in);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->alias, "carol");
  auto s = session({{"C2C_MCP_SESSION_ID", "s-alice"}}, "s-flag");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->session_id, "s-flag");
  EXPECT_EQ(s->note, "");
}

TEST_F(WhoamiTest, EachSessionVariableNamesTheSender) {
  reg("alice", "s-alice");
  reg("bob", "s-bob");
  for (const char* var : {"C2C_MCP_SESSION_ID", "CLAUDE_SESSION_ID", "CODEX_THREAD_ID"}) {
    auto c = sender({{var, "s-bob"}});
    ASSERT_TRUE(c.has_value()) << var;
    EXPECT_EQ(c->alias, "bob") << var;
    EXPECT_EQ(c->source, std::string("the alias of ") + var);
  }
  // The first variable set wins, even over a later one naming another registered session.
  auto c = sender({{"C2C_MCP_SESSION_ID", "s-alice"}, {"CLAUDE_SESSION_ID", "s-bob"}});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->alias, "alice");
}

TEST_F(WhoamiTest, PrecedenceAfterTheFlag) {
  reg("alice", "s-alice");
  SenderSources saved;
  saved.saved_alias = "operator";
  saved.saved_source = "relay.json";
  // Session's alias > env alias > saved alias > the only alias.
  auto c =
      sender({{"C2C_MCP_SESSION_ID", "s-alice"}, {"C2C_MCP_AUTO_REGISTER_ALIAS", "dave"}}, saved);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->alias, "alice");
  c = sender({{"C2C_MCP_SESSION_ID", "s-unknown"}, {"C2C_MCP_AUTO_REGISTER_ALIAS", "dave"}}, saved);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->alias, "dave");
  EXPECT_EQ(c->source, "C2C_MCP_AUTO_REGISTER_ALIAS");
  c = sender({{"C2C_MCP_SESSION_ID", "s-unknown"}}, saved);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->alias, "operator");
  EXPECT_EQ(c->source, "relay.json");
  c = sender({{"C2C_MCP_SESSION_ID", "s-unknown"}});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->alias, "alice");
  EXPECT_EQ(c->source, "the only local alias");
}

TEST_F(WhoamiTest, TheOnlyAliasIgnoresCaseAndNothingSetIsAClearError) {
  auto none = sender({});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(none.error().message,
            "cannot determine your alias (no alias is registered in this broker)");
  // Two rows of one alias (a stale one, in another case) are one alias.
  c2c::test::write_file(
      root() / "registry.json",
      R"([{"session_id":"s-1","alias":"Bob"},{"session_id":"s-2","alias":"bob"}])");
  auto one = sender({});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->alias, "Bob");
  c2c::test::write_file(root() / "registry.json",
                        R"([{"session_id":"s-1","alias":"Bob"},{"session_id":"s-2","alias":"bob"},)"
                        R"({"session_id":"s-3","alias":"carol"}])");
  auto two = sender({{"CODEX_THREAD_ID", "s-x"}});
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(two.error().message,
            "cannot determine your alias (session s-x is not registered and 2 aliases are "
            "registered here)");
  auto aliases = local_aliases(broker_);
  ASSERT_TRUE(aliases.has_value());
  EXPECT_EQ(aliases->size(), 2u);
}

TEST_F(WhoamiTest, AnUnreadableRegistryFailsUnlessTheBrokerIsOptional) {
  reg("alice", "s-alice");
  c2c::test::write_file(root() / "registry.json", "not json");
  const std::map<std::string, std::string> env = {{"C2C_MCP_SESSION_ID", "s-alice"},
                                                  {"C2C_MCP_AUTO_REGISTER_ALIAS", "dave"}};
  auto strict = sender(env);
  ASSERT_FALSE(strict.has_value());
  EXPECT_NE(strict.error().code, ErrorCode::kNotFound);
  SenderSources optional;
  optional.broker_optional = true;
  auto lenient = sender(env, optional);
  ASSERT_TRUE(lenient.has_value());
  EXPECT_EQ(lenient->alias, "dave");
  auto nothing = sender({}, optional);
  ASSERT_FALSE(nothing.has_value());
  EXPECT_EQ(nothing.error().code, ErrorCode::kNotFound);
}

TEST(WhoamiNoBrokerTest, ABrokerNotCreatedYetHasNoAliases) {
  c2c::test::TempDir dir{"c2c-whoami"};
  Broker b(dir.path() / "not-yet");
  auto aliases = local_aliases(b);
  ASSERT_TRUE(aliases.has_value());
  EXPECT_TRUE(aliases->empty());
  auto c = resolve_sender(b, env_of({{"C2C_MCP_SESSION_ID", "s"}}), {});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "not-yet"));
}

TEST_F(WhoamiTest, SessionFromTheEnvironmentOrTheEnvAliasesSession) {
  reg("alice", "s-alice");
  auto none = session({});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(none.error().message, "cannot determine session ID");
  for (const char* var : {"C2C_MCP_SESSION_ID", "CLAUDE_SESSION_ID", "CODEX_THREAD_ID"}) {
    auto s = session({{var, "s-alice"}});
    ASSERT_TRUE(s.has_value()) << var;
    EXPECT_EQ(s->session_id, "s-alice");
    EXPECT_EQ(s->note, "");
  }
  // An unregistered session: the env alias's session, with a note; else the id as given.
  auto moved = session({{"CLAUDE_SESSION_ID", "s-new"}, {"C2C_MCP_AUTO_REGISTER_ALIAS", "alice"}});
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->session_id, "s-alice");
  EXPECT_EQ(moved->note, "session s-new is not registered; using session s-alice of alias alice");
  auto as_given = session({{"CLAUDE_SESSION_ID", "s-new"}, {"C2C_MCP_AUTO_REGISTER_ALIAS", "zed"}});
  ASSERT_TRUE(as_given.has_value());
  EXPECT_EQ(as_given->session_id, "s-new");
  EXPECT_EQ(as_given->note, "");
}

}  // namespace
}  // namespace c2c::broker
