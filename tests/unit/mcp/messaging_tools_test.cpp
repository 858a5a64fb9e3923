// send, send_all, poll_inbox, peek_inbox, history.
#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

class MessagingTools : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.register_as("alice");
    b_.register_as("bob");
  }
  c2c::test::TempDir dir_{"c2c-mcp-messaging"};
  Agent a_{dir_.path(), std::optional<std::string>("ses-a")};
  Agent b_{dir_.path(), std::optional<std::string>("ses-b")};
};

TEST_F(MessagingTools, SendThenPollDeliversOnceOldestFirst) {
  const json receipt = a_.ok("send", {{"to_alias", "bob"}, {"content", "first"}});
  EXPECT_EQ(receipt["queued"], true);
  EXPECT_EQ(receipt["from_alias"], "alice");
  EXPECT_EQ(receipt["to_alias"], "bob");
  EXPECT_TRUE(receipt["ts"].is_number());
  EXPECT_EQ(receipt["message_id"].get<std::string>().size(), 36u);
  EXPECT_FALSE(receipt.contains("remote"));
  a_.ok("send", {{"to_alias", "Bob"}, {"content", "second"}});  // aliases are case-insensitive

  const json inbox = b_.ok("poll_inbox");
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0]["from_alias"], "alice");
  EXPECT_EQ(inbox[0]["to_alias"], "bob");
  EXPECT_EQ(inbox[0]["content"], "first");
  EXPECT_TRUE(inbox[0]["ts"].is_number());
  EXPECT_FALSE(inbox[0].contains("deferrable"));
  EXPECT_EQ(inbox[1]["content"], "second");
  EXPECT_EQ(b_.ok("poll_inbox"), json::array());
}

// Issue 8.25: a 15 MiB send used to be queued locally although the relay takes 256 KiB; every
// sending tool now refuses content over the one shared limit, remote or local.
TEST_F(MessagingTools, ContentOverTheSharedLimitIsRefusedAtSendTime) {
  const std::string huge(15 * 1024 * 1024, 'x');
  for (const char* to : {"bob", "bob@machine-b"}) {
    const std::string err = a_.err("send", {{"to_alias", to}, {"content", huge}});
    EXPECT_NE(err.find("message content is 15728640 bytes; the limit is 262144 bytes"),
              std::string::npos)
        << err;
  }
  EXPECT_NE(a_.err("send_all", {{"content", std::string(256 * 1024 + 1, 'y')}}).find("limit"),
            std::string::npos);
  a_.ok("join_room", {{"room_id", "lounge"}});
  EXPECT_NE(a_.err("send_room", {{"room_id", "lounge"}, {"content", huge}}).find("limit"),
            std::string::npos);
  EXPECT_EQ(b_.ok("peek_inbox"), json::array());
  a_.ok("send", {{"to_alias", "bob"}, {"content", std::string(256 * 1024, 'z')}});
  EXPECT_EQ(b_.ok("poll_inbox").size(), 1u);
}

TEST_F(MessagingTools, PeekDoesNotDrain) {
  a_.ok("send", {{"to_alias", "bob"}, {"content", "hello"}});
  EXPECT_EQ(b_.ok("peek_inbox").size(), 1u);
  EXPECT_EQ(b_.ok("peek_inbox", {{"session_id", "ses-a"}}).size(), 1u);  // argument ignored
  EXPECT_EQ(b_.ok("poll_inbox").size(), 1u);
  EXPECT_EQ(b_.ok("peek_inbox"), json::array());
}

TEST_F(MessagingTools, HistoryListsDrainedMessagesNewestFirst) {
  for (const char* c : {"m1", "m2", "m3"}) a_.ok("send", {{"to_alias", "bob"}, {"content", c}});
  EXPECT_EQ(b_.ok("history"), json::array());
  b_.ok("poll_inbox");
  const json h = b_.ok("history");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0]["content"], "m3");
  EXPECT_EQ(h[2]["content"], "m1");
  EXPECT_EQ(h[0]["from_alias"], "alice");
  EXPECT_EQ(h[0]["to_alias"], "bob");
  EXPECT_TRUE(h[0]["drained_at"].is_number());
  EXPECT_EQ(b_.ok("history", {{"limit", 2}}).size(), 2u);
  EXPECT_EQ(b_.ok("history", {{"limit", 0}}), json::array());
  EXPECT_EQ(b_.ok("history", {{"limit", -5}}), json::array());
}

TEST_F(MessagingTools, FlagsAndTags) {
  const json r = a_.ok("send", {{"to_alias", "bob"}, {"content", "later"}, {"deferrable", true}});
  EXPECT_EQ(r["deferrable"], true);
  a_.ok("send", {{"to_alias", "bob"}, {"content", "now"}, {"tag", "urgent"}});
  const json inbox = b_.ok("poll_inbox");
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0]["deferrable"], true);
  EXPECT_NE(inbox[1]["content"].get<std::string>().find("URGENT: now"), std::string::npos);
}

TEST_F(MessagingTools, EphemeralMessagesAreNotArchived) {
  a_.ok("send", {{"to_alias", "bob"}, {"content", "secret"}, {"ephemeral", true}});
  EXPECT_EQ(b_.ok("poll_inbox").size(), 1u);
  EXPECT_EQ(b_.ok("history"), json::array());
}

TEST_F(MessagingTools, UnknownRecipientIsAnErrorThatSaysWhatToDo) {
  const std::string e = a_.err("send", {{"to_alias", "nobody"}, {"content", "x"}});
  EXPECT_NE(e.find("nobody"), std::string::npos) << e;
  EXPECT_NE(e.find("list tool"), std::string::npos) << e;
  auto outbox = a_.broker().read_outbox();
  ASSERT_TRUE(outbox);
  EXPECT_TRUE(outbox->empty());  // never silently queued
}

TEST_F(MessagingTools, DeadRecipientIsAnError) {
  ASSERT_TRUE(a_.broker().register_session({"ses-d", "dave", kDeadPid, "", "", false}));
  EXPECT_NE(a_.err("send", {{"to_alias", "dave"}, {"content", "x"}}).find("not alive"),
            std::string::npos);
}

TEST_F(MessagingTools, RemoteAddressGoesToTheOutbox) {
  const json r = a_.ok("send", {{"to_alias", "carol@laptop"}, {"content", "over the relay"}});
  EXPECT_EQ(r["remote"], true);
  EXPECT_EQ(r["to_alias"], "carol@laptop");
  auto outbox = a_.broker().read_outbox();
  ASSERT_TRUE(outbox);
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].to_alias, "carol@laptop");
  EXPECT_EQ((*outbox)[0].from_alias, "alice");
  EXPECT_EQ((*outbox)[0].content, "over the relay");
  EXPECT_EQ((*outbox)[0].message_id, r["message_id"]);
}

TEST_F(MessagingTools, SelfSendIsRejected) {
  EXPECT_EQ(a_.err("send", {{"to_alias", "ALICE"}, {"content", "me"}}),
            "send rejected: cannot send a message to yourself (alice)");
}

TEST_F(MessagingTools, RegisteredSenderIgnoresFromAlias) {
  const json r = a_.ok("send", {{"to_alias", "bob"}, {"content", "x"}, {"from_alias", "zed"}});
  EXPECT_EQ(r["from_alias"], "alice");
}

TEST_F(MessagingTools, UnregisteredSenderNeedsAFromAliasNobodyLiveHolds) {
  Agent u(dir_.path(), std::optional<std::string>("ses-u"));
  EXPECT_EQ(u.err("send", {{"to_alias", "bob"}, {"content", "x"}}),
            "send: missing sender alias. Register this session first (register tool) or pass "
            "from_alias explicitly.");
  // Impersonating a live agent is refused...
  const std::string e =
      u.err("send", {{"to_alias", "bob"}, {"content", "x"}, {"from_alias", "alice"}});
  EXPECT_NE(e.find("send rejected: from_alias 'alice' is currently held by alive session 'ses-a'"),
            std::string::npos)
      << e;
  EXPECT_EQ(b_.ok("peek_inbox"), json::array());
  // ...a free name is accepted.
  EXPECT_EQ(u.ok("send",
                 {{"to_alias", "bob"}, {"content", "x"}, {"from_alias", "visitor"}})["from_alias"],
            "visitor");
}

TEST_F(MessagingTools, SendAllReachesEveryoneElseAndHonoursExclusions) {
  Agent c(dir_.path(), std::optional<std::string>("ses-c"));
  c.register_as("carol");
  ASSERT_TRUE(a_.broker().register_session({"ses-d", "dave", kDeadPid, "", "", false}));
  const json r = a_.ok("send_all", {{"content", "standup"}, {"exclude_aliases", {"CAROL"}}});
  EXPECT_EQ(r["sent_to"], json({"bob"}));
  ASSERT_EQ(r["skipped"].size(), 1u);
  EXPECT_EQ(r["skipped"][0]["alias"], "dave");
  EXPECT_EQ(r["skipped"][0]["reason"], "not_alive");
  EXPECT_EQ(b_.ok("poll_inbox")[0]["content"], "standup");
  EXPECT_EQ(c.ok("poll_inbox"), json::array());
  EXPECT_EQ(a_.ok("poll_inbox"), json::array());
}

TEST_F(MessagingTools, PollInboxSessionArgumentMustBeTheCallersOwn) {
  a_.ok("send", {{"to_alias", "bob"}, {"content", "x"}});
  EXPECT_NE(a_.err("poll_inbox", {{"session_id", "ses-b"}}).find("does not match"),
            std::string::npos);
  EXPECT_EQ(b_.ok("poll_inbox", {{"session_id", "ses-b"}}).size(), 1u);
}

TEST_F(MessagingTools, InboxToolsWithoutASessionSayHowToGetOne) {
  Agent n(dir_.path(), std::optional<std::string>());
  for (const char* tool : {"poll_inbox", "peek_inbox", "history"}) {
    EXPECT_NE(n.err(tool).find("C2C_MCP_SESSION_ID"), std::string::npos) << tool;
  }
  // A server without session may still name one explicitly for poll_inbox.
  a_.ok("send", {{"to_alias", "bob"}, {"content", "x"}});
  EXPECT_EQ(n.ok("poll_inbox", {{"session_id", "ses-b"}}).size(), 1u);
}

}  // namespace
}  // namespace c2c::mcp::test
