#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "broker_fixture.hpp"
#include "c2c/core/ids.hpp"
#include "c2c/core/limits.hpp"

namespace c2c::broker {
namespace {

using test_support::BrokerTest;
using test_support::kDeadPid;
namespace fs = std::filesystem;

TEST_F(BrokerTest, SendPollIsFifoWithUuidIdsAndArchives) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    clock_.advance(1);
    auto r = broker_.send("alice", "bob", "m" + std::to_string(i));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_FALSE(r->remote);
    EXPECT_TRUE(looks_like_uuid(r->message_id));
    ids.push_back(r->message_id);
  }
  auto peeked = broker_.peek("ses-b");
  ASSERT_TRUE(peeked.has_value());
  ASSERT_EQ(peeked->size(), 5u);  // peek does not drain
  auto msgs = poll("ses-b");
  ASSERT_EQ(msgs.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(msgs[i].content, "m" + std::to_string(i));  // oldest first
    EXPECT_EQ(msgs[i].message_id, ids[i]);
    EXPECT_EQ(msgs[i].from_alias, "alice");
    EXPECT_EQ(msgs[i].to_alias, "bob");
  }
  EXPECT_TRUE(poll("ses-b").empty());
  auto hist = broker_.history("ses-b", 3);
  ASSERT_TRUE(hist.has_value());
  ASSERT_EQ(hist->size(), 3u);
  EXPECT_EQ((*hist)[0].message.content, "m4");  // newest first
  EXPECT_EQ((*hist)[0].drained_by, "poll_inbox");
  EXPECT_EQ((*hist)[0].session_id, "ses-b");
  struct stat st {};
  ASSERT_EQ(::stat((root() / "ses-b.inbox.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((root() / "archive").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

// Issue 8.12: acknowledge() is the second half of a two-step drain (peek, write out, remove):
// it removes exactly the acknowledged messages, whatever arrived meanwhile.
TEST_F(BrokerTest, AcknowledgeRemovesOnlyTheAcknowledgedMessages) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(broker_.send("alice", "bob", "m" + std::to_string(i)));
  auto seen = broker_.peek("ses-b");
  ASSERT_TRUE(seen && seen->size() == 3u);
  ASSERT_TRUE(broker_.send("alice", "bob", "late"));  // arrives after the peek
  seen->erase(seen->begin() + 1);                     // m1 was not written out
  auto removed = broker_.acknowledge("ses-b", *seen, "cli_poll");
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_EQ(*removed, 2u);
  auto left = broker_.peek("ses-b");
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].content, "m1");
  EXPECT_EQ((*left)[1].content, "late");
  auto hist = broker_.history("ses-b", 10);
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_EQ((*hist)[0].drained_by, "cli_poll");
  // Acknowledging again (a concurrent poll took them already) removes nothing.
  EXPECT_EQ(*broker_.acknowledge("ses-b", *seen, "cli_poll"), 0u);
  // Messages of older writers have no id: matched by their whole record.
  c2c::test::write_file(root() / "ses-b.inbox.json",
                        R"([{"from_alias":"old","to_alias":"bob","content":"same","ts":1.0},)"
                        R"({"from_alias":"old","to_alias":"bob","content":"same","ts":1.0}])");
  auto old = broker_.peek("ses-b");
  ASSERT_EQ(old->size(), 2u);
  EXPECT_EQ(*broker_.acknowledge("ses-b", {(*old)[0]}, "cli_poll"), 1u);
  EXPECT_EQ(broker_.peek("ses-b")->size(), 1u);
}

// Issue 8.12: a drain killed after its archive append but before its inbox rewrite leaves the
// messages queued; archived means handed out, so the next drain removes them without archiving
// or handing them out twice. A torn archive tail is cut, never kept.
TEST_F(BrokerTest, ArchiveHasNoDuplicateOrTornLinesAfterAKilledDrain) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(broker_.send("alice", "bob", "m" + std::to_string(i)));
  const std::string inbox_before = c2c::test::read_file(root() / "ses-b.inbox.json");
  ASSERT_EQ(poll("ses-b").size(), 3u);
  // The state a kill between the two steps leaves: archived, still queued.
  c2c::test::write_file(root() / "ses-b.inbox.json", inbox_before);
  ASSERT_EQ(poll("ses-b").size(), 0u);
  EXPECT_TRUE(broker_.peek("ses-b")->empty());
  size_t unreadable = 0;
  auto hist = broker_.history("ses-b", 100, &unreadable);
  ASSERT_TRUE(hist.has_value());
  EXPECT_EQ(hist->size(), 3u);
  // A torn tail (a drain killed inside its append) is cut before the next append.
  const fs::path archive = root() / "archive" / "ses-b.jsonl";
  c2c::test::write_file(archive, c2c::test::read_file(archive) + "{\"drained_at\":5.0,\"dra");
  ASSERT_TRUE(broker_.send("alice", "bob", "m3"));
  ASSERT_EQ(poll("ses-b").size(), 1u);
  hist = broker_.history("ses-b", 100, &unreadable);
  EXPECT_EQ(hist->size(), 4u);
  EXPECT_EQ(unreadable, 0u);
  // An unreadable line in the middle (older writers) is counted, not silently skipped.
  c2c::test::write_file(archive, "{\"torn\n" + c2c::test::read_file(archive));
  hist = broker_.history("ses-b", 100, &unreadable);
  EXPECT_EQ(hist->size(), 4u);
  EXPECT_EQ(unreadable, 1u);
}

// Issue 8.25: one content limit (core/limits.hpp, the relay's default) for every send.
TEST_F(BrokerTest, ContentOverTheSharedLimitIsRefused) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  const std::string at_limit(256 * 1024, 'x');
  ASSERT_TRUE(broker_.send("alice", "bob", at_limit).has_value());
  auto over = broker_.send("alice", "bob", at_limit + "y");
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(over.error().message,
            "message content is 262145 bytes; the limit is 262144 bytes (256 KiB)");
  EXPECT_FALSE(broker_.send("alice", "bob@host", at_limit + "y").has_value());
  EXPECT_FALSE(broker_.send("alice", "bob", at_limit, {false, false, "urgent"}).has_value());
  EXPECT_FALSE(broker_.send_all("alice", at_limit + "y", {}).has_value());
  EXPECT_EQ(broker_.peek("ses-b")->size(), 1u);
  // Pulled relay messages are not re-limited (the relay's limit is configurable).
  EXPECT_TRUE(broker_.deliver("ses-b", {Message{"far", "bob", at_limit + at_limit}}).has_value());
}

// Issue 8.13: a send to a large inbox used to rewrite the whole inbox file (1.5 s per send with
// 200 x 256 KiB queued). Past kInboxJournalThreshold it appends to the journal instead: the
// inbox file is not touched, and every reader still sees one FIFO queue.
TEST_F(BrokerTest, AppendToALargeInboxDoesNotRewriteIt) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  const std::string big(256 * 1024, 'x');
  // Four are just over the threshold (1 MiB): the fourth send still rewrote the file.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(broker_.send("alice", "bob", big));
  const fs::path inbox = root() / "ses-b.inbox.json";
  const fs::path journal = root() / "ses-b.inbox.journal.jsonl";
  struct stat before {};
  ASSERT_EQ(::stat(inbox.c_str(), &before), 0);
  ASSERT_GE(before.st_size, 1024 * 1024);
  EXPECT_FALSE(fs::exists(journal));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(broker_.send("alice", "bob", "small" + std::to_string(i)));
  ASSERT_TRUE(broker_.deliver("ses-b", {Message{"far", "bob", "pulled"}}).has_value());
  struct stat after {};
  ASSERT_EQ(::stat(inbox.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // not replaced
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_TRUE(fs::exists(journal));
  struct stat jst {};
  ASSERT_EQ(::stat(journal.c_str(), &jst), 0);
  EXPECT_EQ(jst.st_mode & 0777, 0600u);
  EXPECT_LT(jst.st_size, 4096);  // O(message): only the small messages were written
  auto peeked = broker_.peek("ses-b");
  ASSERT_TRUE(peeked.has_value()) << peeked.error().message;
  ASSERT_EQ(peeked->size(), 8u);
  EXPECT_EQ((*peeked)[4].content, "small0");
  EXPECT_EQ((*peeked)[6].content, "small2");
  EXPECT_EQ((*peeked)[7].content, "pulled");
  // A drain folds the journal back in: one JSON array again, then empty.
  auto msgs = poll("ses-b");
  ASSERT_EQ(msgs.size(), 8u);
  EXPECT_EQ(msgs[7].content, "pulled");
  EXPECT_FALSE(fs::exists(journal));
  EXPECT_EQ(c2c::test::read_file(inbox), "[]");
  EXPECT_EQ(broker_.history("ses-b", 100)->size(), 8u);
}

// Issue 8.13: the journal is crash-safe: a torn tail (appender killed mid-write) is ignored by
// readers and cut by the next append; a fold cut short before the journal was removed (the
// inbox file already holds its lines) duplicates nothing; a sweep dead-letters journal lines.
TEST_F(BrokerTest, InboxJournalSurvivesKilledWritersAndFolds) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  const std::string big(256 * 1024, 'x');
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(broker_.send("alice", "bob", big));
  ASSERT_TRUE(broker_.send("alice", "bob", "j1"));
  const fs::path inbox = root() / "ses-b.inbox.json";
  const fs::path journal = root() / "ses-b.inbox.journal.jsonl";
  ASSERT_TRUE(fs::exists(journal));
  // Torn tail.
  c2c::test::write_file(journal, c2c::test::read_file(journal) + R"({"from_alias":"alice","to)");
  ASSERT_EQ(broker_.peek("ses-b")->size(), 5u);
  ASSERT_TRUE(broker_.send("alice", "bob", "j2"));
  auto peeked = broker_.peek("ses-b");
  ASSERT_EQ(peeked->size(), 6u);
  EXPECT_EQ((*peeked)[5].content, "j2");
  EXPECT_EQ(c2c::test::read_file(journal).find("\"to)"), std::string::npos);
  // A fold cut short: the inbox file already holds everything, the journal is still there.
  nlohmann::json all = nlohmann::json::array();
  for (const auto& m : *peeked) {
    all.push_back({{"from_alias", m.from_alias},
                   {"to_alias", m.to_alias},
                   {"content", m.content},
                   {"ts", m.ts},
                   {"message_id", *m.message_id}});
  }
  c2c::test::write_file(inbox, all.dump());
  ASSERT_EQ(broker_.peek("ses-b")->size(), 6u);
  // Sweep of a dead session with a journal: every message dead-lettered once, both files gone.
  reg("bob", "ses-b", test_support::kDeadPid, false);
  auto swept = broker_.sweep();
  ASSERT_TRUE(swept.has_value()) << swept.error().message;
  EXPECT_EQ(swept->preserved_messages, 6u);
  EXPECT_FALSE(fs::exists(inbox));
  EXPECT_FALSE(fs::exists(journal));
  EXPECT_EQ(broker_.dead_letters()->size(), 6u);
}

TEST_F(BrokerTest, InboxFileUsesReferenceKeyOrder) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  SendOptions opts;
  opts.deferrable = true;
  ASSERT_TRUE(broker_.send("alice", "BOB", "hi", opts).has_value());
  const auto text = c2c::test::read_file(root() / "ses-b.inbox.json");
  EXPECT_EQ(text.rfind(R"([{"from_alias":"alice","to_alias":"BOB","content":"hi","ts":)", 0), 0u)
      << text;
  EXPECT_NE(text.find(R"("deferrable":true,"message_id":")"), std::string::npos) << text;
}

TEST_F(BrokerTest, UnknownBareAliasIsAnErrorAndNothingIsQueued) {
  reg("alice", "ses-a");
  auto r = broker_.send("alice", "nobody", "hello");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnknownAlias);
  EXPECT_NE(r.error().message.find("nobody@"), std::string::npos);
  EXPECT_FALSE(fs::exists(root() / "remote-outbox.jsonl"));
}

TEST_F(BrokerTest, DeadRecipientAndBadSendsAreRejected) {
  reg("alice", "ses-a");
  reg("ghost", "ses-g", kDeadPid);
  EXPECT_EQ(broker_.send("alice", "ghost", "x").error().code, ErrorCode::kRecipientDead);
  EXPECT_EQ(broker_.send("alice", "ALICE", "x").error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(broker_.send("c2c-system", "alice", "x").error().code, ErrorCode::kReservedAlias);
  EXPECT_EQ(broker_.send("bob", "alice", std::string("\xff\xfe")).error().code,
            ErrorCode::kBadRequest);
  SendOptions bad_tag;
  bad_tag.tag = "loud";
  EXPECT_EQ(broker_.send("bob", "alice", "x", bad_tag).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(broker_.send("bob", "x@", "x").error().code, ErrorCode::kInvalidAlias);
}

TEST_F(BrokerTest, TagsPrefixTheBody) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  SendOptions urgent;
  urgent.tag = "urgent";
  ASSERT_TRUE(broker_.send("alice", "bob", "fire", urgent).has_value());
  auto msgs = poll("ses-b");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].content, "\xE2\x9A\xA0\xEF\xB8\x8F URGENT: fire");
}

TEST_F(BrokerTest, RemoteAddressGoesToOutboxWithStableId) {
  auto r = broker_.send("relay-peer-a", "relay-peer-b@machine-b", "hello from A");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->remote);
  const auto text = c2c::test::read_file(root() / "remote-outbox.jsonl");
  auto j = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(j["from_alias"], "relay-peer-a");
  EXPECT_EQ(j["to_alias"], "relay-peer-b@machine-b");
  EXPECT_EQ(j["content"], "hello from A");
  EXPECT_EQ(j["attempts"], 1);
  EXPECT_EQ(j["message_id"], r->message_id);
  auto entries = broker_.read_outbox();
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].message_id, r->message_id);
}

TEST_F(BrokerTest, AGroupOfOutboxEntriesIsAppendedInOrderOrNotAtAll) {
  ASSERT_TRUE(broker_.send("a", "b@h", "first").has_value());
  std::vector<OutboxEntry> group;
  for (int i = 0; i < 3; ++i) group.push_back({"a", "b@h", "g" + std::to_string(i), "", 1, 0, {}});
  group[1].message_id = "given-id";
  ASSERT_TRUE(broker_.append_outbox(group).has_value());
  auto entries = broker_.read_outbox();
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[1].content, "g0");
  EXPECT_EQ((*entries)[2].message_id, "given-id");
  EXPECT_EQ((*entries)[3].content, "g2");
  EXPECT_FALSE((*entries)[3].message_id.empty()) << "an id is assigned";
  EXPECT_GT((*entries)[3].enqueued_at, 0);
  // Queued means accepted, for each of the group, with its sender: a receipt from the
  // recipient's machine that comes back before the connector's round ends finds it.
  for (const auto& id : {std::string("given-id"), (*entries)[3].message_id}) {
    auto status = broker_.delivery_status(id);
    ASSERT_TRUE(status && *status) << id;
    EXPECT_EQ((*status)->from_alias, "a");
    ASSERT_EQ((*status)->recipients.size(), 1u);
    EXPECT_EQ((*status)->recipients[0].recipient, "b@h");
    EXPECT_EQ((*status)->recipients[0].state, ReceiptState::kAccepted);
    EXPECT_EQ((*status)->events[0].via, "outbox");
  }
  // One entry over the content limit: none of the group is queued.
  group[2].content = std::string(c2c::kMaxContentBytes + 1, 'x');
  EXPECT_FALSE(broker_.append_outbox(group).has_value());
  EXPECT_EQ(broker_.read_outbox()->size(), 4u);
}

TEST_F(BrokerTest, OutboxSettleAppliesOutcomesAndKeepsNewEntries) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(broker_.send("a", "b@h", "m" + std::to_string(i)).has_value());
  }
  auto entries = broker_.read_outbox();
  ASSERT_EQ(entries->size(), 3u);
  // Appended after the connector read the outbox: must survive the settle untouched.
  ASSERT_TRUE(broker_.send("a", "b@h", "late").has_value());
  std::vector<OutboxOutcome> outcomes = {
      {(*entries)[0].message_id, OutboxOutcome::Kind::kDelivered, ""},
      {(*entries)[1].message_id, OutboxOutcome::Kind::kRetry, "connection refused"},
      {(*entries)[2].message_id, OutboxOutcome::Kind::kDeadLetter, "unknown_alias"}};
  ASSERT_TRUE(broker_.settle_outbox(outcomes).has_value());
  auto after = broker_.read_outbox();
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].content, "m1");
  EXPECT_EQ((*after)[0].attempts, 2);
  EXPECT_EQ((*after)[0].last_error, "connection refused");
  EXPECT_EQ((*after)[0].message_id, (*entries)[1].message_id);
  EXPECT_EQ((*after)[1].content, "late");
  const auto dlq = c2c::test::read_file(root() / "remote-outbox-dlq.jsonl");
  auto j = nlohmann::json::parse(dlq.substr(0, dlq.find('\n')));
  EXPECT_EQ(j["content"], "m2");
  EXPECT_EQ(j["dlq_reason"], "unknown_alias");
}

TEST_F(BrokerTest, MalformedOutboxLinesMoveToDlqAndLegacyLinesGetIds) {
  fs::create_directories(root());
  c2c::test::write_file(
      root() / "remote-outbox.jsonl",
      "{\"from_alias\":\"a\",\"to_alias\":\"b@h\",\"content\":\"x\",\"attempts\":1,"
      "\"enqueued_at\":1.0}\n{not json\n");
  auto entries = broker_.read_outbox();
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_TRUE(looks_like_uuid((*entries)[0].message_id));
  auto again = broker_.read_outbox();
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].message_id, (*entries)[0].message_id);  // persisted, stable
  const auto dlq = c2c::test::read_file(root() / "remote-outbox-dlq.jsonl");
  auto j = nlohmann::json::parse(dlq.substr(0, dlq.find('\n')));
  EXPECT_EQ(j["dlq_reason"], "malformed");
  EXPECT_EQ(j["raw"], "{not json");
}

// Found by the broker_files fuzzer: a line of stray CRs (an editor's CRLF damage) is blank,
// not a malformed entry for the dead-letter file.
TEST_F(BrokerTest, OutboxLinesOfWhitespaceAndCarriageReturnsAreBlank) {
  fs::create_directories(root());
  c2c::test::write_file(root() / "remote-outbox.jsonl",
                        "\r\r\r\n{\"from_alias\":\"a\",\"to_alias\":\"b@h\",\"content\":\"x\","
                        "\"attempts\":1,\"enqueued_at\":1.0}\r\n \t\r \r\n");
  auto entries = broker_.read_outbox();
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].content, "x");
  EXPECT_FALSE(fs::exists(root() / "remote-outbox-dlq.jsonl")) << "nothing was malformed";
}

TEST_F(BrokerTest, DrainPushLeavesDeferrableAndEphemeralIsNotArchived) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  SendOptions deferrable;
  deferrable.deferrable = true;
  SendOptions ephemeral;
  ephemeral.ephemeral = true;
  ASSERT_TRUE(broker_.send("alice", "bob", "later", deferrable).has_value());
  ASSERT_TRUE(broker_.send("alice", "bob", "now", ephemeral).has_value());
  auto pushed = broker_.drain_push("ses-b");
  ASSERT_TRUE(pushed.has_value());
  ASSERT_EQ(pushed->size(), 1u);
  EXPECT_EQ((*pushed)[0].content, "now");
  auto rest = poll("ses-b");
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].content, "later");
  auto hist = broker_.history("ses-b", 10);
  ASSERT_EQ(hist->size(), 1u);  // the ephemeral one left no trace
  EXPECT_EQ((*hist)[0].message.content, "later");
}

TEST_F(BrokerTest, SendAllSkipsSenderExcludedAndDead) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  reg("carol", "ses-c");
  reg("dave", "ses-d");
  reg("ghost", "ses-g", kDeadPid);
  auto r = broker_.send_all("alice", "hi all", {"CAROL"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::sort(r->sent_to.begin(), r->sent_to.end());
  EXPECT_EQ(r->sent_to, (std::vector<std::string>{"bob", "dave"}));
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0], (std::pair<std::string, std::string>{"ghost", "not_alive"}));
  EXPECT_EQ(poll("ses-b").size(), 1u);
  EXPECT_TRUE(poll("ses-c").empty());
  EXPECT_TRUE(poll("ses-a").empty());
}

TEST_F(BrokerTest, DeliverDeduplicatesAgainstInboxAndRecentlyDrained) {
  reg("bob", "ses-b");
  Message m;
  m.from_alias = "alice@machine-a";
  m.to_alias = "bob";
  m.content = "from the relay";
  m.ts = 5;
  m.message_id = new_uuid_v4();
  auto first = broker_.deliver("ses-b", {m, m});
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(*first, 1u);
  EXPECT_EQ(*broker_.deliver("ses-b", {m}), 0u);  // still queued
  auto drained = poll("ses-b");
  ASSERT_EQ(drained.size(), 1u);
  EXPECT_EQ(drained[0].message_id, m.message_id);
  EXPECT_EQ(*broker_.deliver("ses-b", {m}), 0u);  // drained already: a retry is ignored
  EXPECT_TRUE(poll("ses-b").empty());
  Message other = m;
  other.message_id = new_uuid_v4();
  EXPECT_EQ(*broker_.deliver("ses-b", {other}), 1u);
  EXPECT_EQ(broker_.deliver("nobody", {m}).error().code, ErrorCode::kNotFound);
}

// Issue 8 item 7, on the receiving machine: a stranger who used a message id first must not
// suppress the real sender's message with that id, queued or already drained.
TEST_F(BrokerTest, DeliverDeduplicatesPerSenderNotByIdAlone) {
  reg("bob", "ses-b");
  Message forged;
  forged.from_alias = "mallory@machine-m";
  forged.to_alias = "bob";
  forged.content = "first with the id";
  forged.message_id = new_uuid_v4();
  Message real = forged;
  real.from_alias = "alice@machine-a";
  real.content = "the real message";
  EXPECT_EQ(*broker_.deliver("ses-b", {forged}), 1u);
  EXPECT_EQ(*broker_.deliver("ses-b", {real}), 1u) << "queued: another sender's id";
  auto drained = poll("ses-b");
  ASSERT_EQ(drained.size(), 2u);
  EXPECT_EQ(drained[1].content, "the real message");
  // Drained: each sender's retry is still recognised, in any spelling of the sender.
  EXPECT_EQ(*broker_.deliver("ses-b", {real}), 0u);
  Message bare = real;
  bare.from_alias = "ALICE";
  EXPECT_EQ(*broker_.deliver("ses-b", {bare}), 0u) << "alice and alice@machine-a are one sender";
  Message third = real;
  third.from_alias = "carol@machine-c";
  EXPECT_EQ(*broker_.deliver("ses-b", {third}), 1u);
}

// Records written before dedup was per sender hold bare ids: they still stop a retry.
TEST_F(BrokerTest, DeliverHonoursOlderBareIdRecords) {
  reg("bob", "ses-b");
  Message m;
  m.from_alias = "alice@machine-a";
  m.to_alias = "bob";
  m.content = "drained by an older c2c";
  m.message_id = new_uuid_v4();
  std::filesystem::create_directories(root() / "delivered");
  std::filesystem::permissions(root() / "delivered", std::filesystem::perms::owner_all);
  c2c::test::write_file(root() / "delivered" / "ses-b.json", "[\"" + *m.message_id + "\"]");
  EXPECT_EQ(*broker_.deliver("ses-b", {m}), 0u);
  EXPECT_TRUE(poll("ses-b").empty());
}

TEST_F(BrokerTest, CorruptInboxIsReportedAndNeverOverwritten) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  c2c::test::write_file(root() / "ses-b.inbox.json", "[{\"from_alias\":");
  auto r = broker_.send("alice", "bob", "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_FALSE(broker_.poll("ses-b").has_value());
  EXPECT_EQ(c2c::test::read_file(root() / "ses-b.inbox.json"), "[{\"from_alias\":");
}

TEST_F(BrokerTest, LargeInboxHasNoReadCap) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  const std::string big(100 * 1024, 'x');  // past the original c2c's 64 KiB read cap
  ASSERT_TRUE(broker_.send("alice", "bob", big).has_value());
  ASSERT_TRUE(broker_.send("alice", "bob", "second").has_value());
  auto msgs = poll("ses-b");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].content, big);
}

}  // namespace
}  // namespace c2c::broker
