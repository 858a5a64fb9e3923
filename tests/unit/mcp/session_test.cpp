// Session identity from the environment, registration pid, auto-register and auto-join.
#include <unistd.h>

#include <map>

#include "c2c/core/text.hpp"
#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

TEST(SessionConfig, SessionIdPrecedence) {
  EXPECT_EQ(SessionConfig::from_env(env_of({{"C2C_MCP_SESSION_ID", "s1"},
                                            {"CLAUDE_SESSION_ID", "s2"},
                                            {"CODEX_THREAD_ID", "s3"}}))
                .env_session_id,
            "s1");
  EXPECT_EQ(
      SessionConfig::from_env(env_of({{"CLAUDE_SESSION_ID", "s2"}, {"CODEX_THREAD_ID", "s3"}}))
          .env_session_id,
      "s2");
  EXPECT_EQ(SessionConfig::from_env(env_of({{"CODEX_THREAD_ID", "s3"}})).env_session_id, "s3");
  EXPECT_FALSE(SessionConfig::from_env(env_of({})).env_session_id.has_value());
}

// Claude Code 2.1 gives its MCP servers CLAUDE_CODE_SESSION_ID.
TEST(SessionConfig, ClaudeCodesSessionVariableIsRead) {
  EXPECT_EQ(SessionConfig::from_env(env_of({{"CLAUDE_CODE_SESSION_ID", "c-1"}})).env_session_id,
            "c-1");
  EXPECT_EQ(SessionConfig::from_env(
                env_of({{"C2C_MCP_CLIENT_TYPE", "claude"}, {"CLAUDE_CODE_SESSION_ID", "c-1"}}))
                .env_session_id,
            "c-1");
}

// With a known client type only that client's variable counts: a Codex started from Claude
// Code's shell inherits CLAUDE_CODE_SESSION_ID and must not share Claude's inbox.
TEST(SessionConfig, AKnownClientIgnoresOtherClientsInheritedVariables) {
  const auto codex = SessionConfig::from_env(env_of({{"C2C_MCP_CLIENT_TYPE", "codex"},
                                                     {"CLAUDE_CODE_SESSION_ID", "c-1"},
                                                     {"CODEX_THREAD_ID", "t-9"}}));
  EXPECT_EQ(codex.env_session_id, "t-9");
  const auto gemini = SessionConfig::from_env(
      env_of({{"C2C_MCP_CLIENT_TYPE", "gemini"}, {"CLAUDE_CODE_SESSION_ID", "c-1"}}));
  EXPECT_EQ(gemini.env_session_id, "gemini-" + std::to_string(::getppid()));
}

// A client without a session variable (Gemini CLI, OpenCode): one session per client process.
TEST(SessionConfig, InstalledClientWithoutSessionVariableGetsOneSessionPerProcess) {
  EXPECT_EQ(SessionConfig::from_env(env_of({{"C2C_MCP_CLIENT_TYPE", "opencode"}})).env_session_id,
            "opencode-" + std::to_string(::getppid()));
  EXPECT_EQ(SessionConfig::from_env(
                env_of({{"C2C_MCP_CLIENT_TYPE", "opencode"}, {"C2C_MCP_CLIENT_PID", "0"}}))
                .env_session_id,
            "opencode-" + std::to_string(::getpid()));
  EXPECT_EQ(SessionConfig::from_env(
                env_of({{"C2C_MCP_CLIENT_TYPE", "opencode"}, {"C2C_MCP_SESSION_ID", "explicit"}}))
                .env_session_id,
            "explicit");
}

TEST(SessionConfig, BlankValuesAreUnsetAndValuesAreTrimmed) {
  const auto c = SessionConfig::from_env(env_of({{"C2C_MCP_SESSION_ID", "   "},
                                                 {"CLAUDE_SESSION_ID", "  claude-1 \n"},
                                                 {"C2C_MCP_AUTO_REGISTER_ALIAS", " alice "}}));
  EXPECT_EQ(c.env_session_id, "claude-1");
  EXPECT_EQ(c.auto_register_alias, "alice");
}

TEST(SessionConfig, AutoJoinRoomsAreTrimmedAndInvalidOnesDropped) {
  const auto c = SessionConfig::from_env(
      env_of({{"C2C_MCP_AUTO_JOIN_ROOMS", " lounge, ops ,,bad room,dots.no,x_y-z"}}));
  EXPECT_EQ(c.auto_join_rooms, (std::vector<std::string>{"lounge", "ops", "x_y-z"}));
}

TEST(SessionConfig, ChannelDeliveryCanBeSwitchedOff) {
  EXPECT_TRUE(SessionConfig::from_env(env_of({})).channel_delivery);
  EXPECT_TRUE(
      SessionConfig::from_env(env_of({{"C2C_MCP_CHANNEL_DELIVERY", "1"}})).channel_delivery);
  for (const char* off : {"0", "false", "NO", " off "}) {
    EXPECT_FALSE(
        SessionConfig::from_env(env_of({{"C2C_MCP_CHANNEL_DELIVERY", off}})).channel_delivery)
        << off;
  }
}

TEST(RegistrationPid, ClientPidWhenAliveElseParent) {
  EXPECT_EQ(registration_pid(std::to_string(::getpid())), ::getpid());
  EXPECT_EQ(registration_pid("0"), ::getpid());
  EXPECT_EQ(registration_pid(""), ::getppid());
  EXPECT_EQ(registration_pid("not-a-pid"), ::getppid());
  EXPECT_EQ(registration_pid(std::to_string(kDeadPid)), ::getppid());
  EXPECT_TRUE(pid_exists(::getpid()));
  EXPECT_FALSE(pid_exists(kDeadPid));
}

TEST(SessionState, BindNotifiesOnlyOnChange) {
  SessionState s;
  int calls = 0;
  s.on_change([&] { ++calls; });
  EXPECT_FALSE(s.get().has_value());
  s.bind("a");
  s.bind("a");
  s.bind("b");
  EXPECT_EQ(s.get(), "b");
  EXPECT_EQ(calls, 2);
}

class AutoRegisterTest : public ::testing::Test {
 protected:
  c2c::test::TempDir dir_{"c2c-mcp-session"};
  broker::Broker broker_{dir_.path()};

  std::optional<broker::Registration> reg(const std::string& sid) {
    auto r = broker_.find_session(sid);
    EXPECT_TRUE(r.has_value());
    return r ? *r : std::nullopt;
  }
};

TEST_F(AutoRegisterTest, RegistersTheAliasWithTheClientPidAndJoinsRooms) {
  SessionConfig c = config_with("ses-1", "alice");
  c.client_pid = std::to_string(::getpid());
  c.auto_join_rooms = {"lounge", "ops"};
  SessionState s(c.env_session_id);
  const auto log = auto_register_and_join(broker_, c, s);
  const auto r = reg("ses-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->alias, "alice");
  EXPECT_EQ(r->pid, ::getpid());
  for (const char* room : {"lounge", "ops"}) {
    auto info = broker_.room(room);
    ASSERT_TRUE(info && info->has_value()) << room;
    ASSERT_EQ((*info)->members.size(), 1u);
    EXPECT_EQ((*info)->members[0].alias, "alice");
    EXPECT_EQ((*info)->members[0].session_id, "ses-1");
  }
  EXPECT_EQ(log.size(), 3u);
}

TEST_F(AutoRegisterTest, WithoutASessionIdTheAliasIsTheSession) {
  SessionState s;
  auto_register_and_join(broker_, config_with(std::nullopt, "bob"), s);
  EXPECT_EQ(s.get(), "bob");
  const auto r = reg("bob");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->alias, "bob");
  EXPECT_EQ(r->pid, ::getppid());
}

TEST_F(AutoRegisterTest, DoesNotRenameALiveSession) {
  ASSERT_TRUE(broker_.register_session({"ses-1", "alice", ::getpid(), "", "", true}));
  SessionConfig c = config_with("ses-1", "mallory");
  c.client_pid = std::to_string(::getpid());
  SessionState s(c.env_session_id);
  const auto log = auto_register_and_join(broker_, c, s);
  EXPECT_EQ(reg("ses-1")->alias, "alice");
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log[0].find("skipped"), std::string::npos) << log[0];
}

TEST_F(AutoRegisterTest, DoesNotTakeAnAliasHeldByAnotherLiveProcess) {
  // The holder is alive with a pid that is not ours (our parent, the test runner).
  ASSERT_TRUE(broker_.register_session({"ses-other", "alice", ::getppid(), "", "", true}));
  SessionConfig c = config_with("ses-2", "alice");
  c.client_pid = std::to_string(::getpid());
  SessionState s(c.env_session_id);
  const auto log = auto_register_and_join(broker_, c, s);
  EXPECT_FALSE(reg("ses-2").has_value());
  EXPECT_EQ(reg("ses-other")->alias, "alice");
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log[0].find("failed"), std::string::npos) << log[0];
}

TEST_F(AutoRegisterTest, TakesOverTheAliasFromTheSameClientProcessUnderANewSession) {
  // The client restarted its conversation: same pid, new session id. Queued mail follows.
  ASSERT_TRUE(broker_.register_session({"ses-old", "alice", ::getpid(), "", "", true}));
  ASSERT_TRUE(broker_.register_session({"ses-bob", "bob", ::getppid(), "", "", true}));
  ASSERT_TRUE(broker_.send("bob", "alice", "queued before restart"));
  SessionConfig c = config_with("ses-new", "alice");
  c.client_pid = std::to_string(::getpid());
  SessionState s(c.env_session_id);
  auto_register_and_join(broker_, c, s);
  ASSERT_TRUE(reg("ses-new").has_value());
  EXPECT_FALSE(reg("ses-old").has_value());
  auto msgs = broker_.poll("ses-new");
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ((*msgs)[0].content, "queued before restart");
}

TEST_F(AutoRegisterTest, OneClientProcessMayHostSeveralAgents) {
  for (const char* who : {"alice", "bob"}) {
    SessionConfig c = config_with(std::string("ses-") + who, who);
    c.client_pid = std::to_string(::getpid());
    SessionState s(c.env_session_id);
    auto_register_and_join(broker_, c, s);
  }
  ASSERT_TRUE(reg("ses-alice").has_value());
  ASSERT_TRUE(reg("ses-bob").has_value());
  EXPECT_EQ(reg("ses-bob")->alias, "bob");
}

TEST_F(AutoRegisterTest, DeadHolderIsReplaced) {
  ASSERT_TRUE(broker_.register_session({"ses-gone", "alice", kDeadPid, "", "", false}));
  SessionState s(std::string("ses-3"));
  auto_register_and_join(broker_, config_with("ses-3", "alice"), s);
  ASSERT_TRUE(reg("ses-3").has_value());
  EXPECT_EQ(reg("ses-3")->alias, "alice");
}

TEST_F(AutoRegisterTest, NoAliasNoRegistration) {
  SessionState s(std::string("ses-4"));
  EXPECT_TRUE(auto_register_and_join(broker_, config_with("ses-4"), s).empty());
  auto all = broker_.registrations();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
}

}  // namespace
}  // namespace c2c::mcp::test
