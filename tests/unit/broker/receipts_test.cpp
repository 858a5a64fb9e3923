// Delivery receipts: accepted -> delivered -> read recorded by the paths that enqueue and
// drain, queried by message id, crash-tolerant files, pruned by sweep.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "broker_fixture.hpp"
#include "c2c/broker/internal.hpp"

namespace c2c::broker {
namespace {

using test_support::BrokerTest;

class ReceiptsTest : public BrokerTest {
 protected:
  DeliveryStatus status(const std::string& id) {
    auto s = broker_.delivery_status(id);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
    EXPECT_TRUE(s && s->has_value()) << "no receipts for " << id;
    return s && *s ? **s : DeliveryStatus{};
  }
  // Segment n of the receipt log.
  std::filesystem::path segment(int n) {
    char name[32];
    std::snprintf(name, sizeof name, "log-%06d.jsonl", n);
    return root() / "receipts" / name;
  }
  // A per-message receipt file as older c2c wrote them.
  std::filesystem::path legacy(const std::string& id) {
    return root() / "receipts" / (id + ".jsonl");
  }
  static ReceiptEvent event(const std::string& id, ReceiptState state, const std::string& to,
                            std::string from = {}) {
    ReceiptEvent e;
    e.message_id = id;
    e.state = state;
    e.recipient = to;
    e.ts = 1'776'730'000;
    e.via = "test";
    e.from_alias = std::move(from);
    return e;
  }
  // A message from alice as the connector hands it to Broker::deliver.
  static Message from_relay(const std::string& id, const std::string& to,
                            const std::string& content) {
    Message m;
    m.from_alias = "alice";
    m.to_alias = to;
    m.content = content;
    m.message_id = id;
    return m;
  }
};

TEST_F(ReceiptsTest, LocalSendIsDeliveredThenReadWhenDrained) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  clock_.set(1000);
  auto sent = broker_.send("alice", "bob", "hi");
  ASSERT_TRUE(sent) << sent.error().message;
  ASSERT_FALSE(sent->message_id.empty());

  auto s = status(sent->message_id);
  EXPECT_EQ(s.from_alias, "alice");
  ASSERT_EQ(s.recipients.size(), 1u);
  EXPECT_EQ(s.recipients[0].recipient, "bob");
  EXPECT_EQ(s.recipients[0].state, ReceiptState::kDelivered);
  EXPECT_EQ(s.recipients[0].accepted_at, 1000);
  EXPECT_EQ(s.recipients[0].delivered_at, 1000);
  EXPECT_FALSE(s.recipients[0].read_at);

  clock_.set(1005);
  ASSERT_EQ(poll("ses-b").size(), 1u);
  s = status(sent->message_id);
  EXPECT_EQ(s.recipients[0].state, ReceiptState::kRead);
  EXPECT_EQ(s.recipients[0].read_at, 1005);
  EXPECT_EQ(s.events.back().via, "poll_inbox");
  EXPECT_EQ(delivery_status_json(s)["state"], "read");
}

TEST_F(ReceiptsTest, PushDrainRecordsReadAndPeekDoesNot) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  auto sent = broker_.send("alice", "bob", "hi");
  ASSERT_TRUE(sent);
  ASSERT_TRUE(broker_.peek("ses-b"));
  EXPECT_EQ(status(sent->message_id).recipients[0].state, ReceiptState::kDelivered);
  ASSERT_EQ(broker_.drain_push("ses-b")->size(), 1u);
  const auto s = status(sent->message_id);
  EXPECT_EQ(s.recipients[0].state, ReceiptState::kRead);
  EXPECT_EQ(s.events.back().via, "watcher");
}

// The push gets the drained messages before they are reported read and before the inbox is
// rewritten: the notification waits for neither the receipt's write nor the inbox's, and the
// inbox lock is free while it is written. A drain meanwhile (the agent's poll_inbox) does not
// hand the pushed message out again: it is archived, and archived means handed out.
TEST_F(ReceiptsTest, PushGetsTheMessagesBeforeTheyAreReportedRead) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  auto sent = broker_.send("alice", "bob", "hi");
  ASSERT_TRUE(sent);
  size_t handed_out = 0;
  auto drained = broker_.drain_push("ses-b", [&](const std::vector<Message>& msgs) {
    handed_out = msgs.size();
    EXPECT_EQ(broker_.peek("ses-b")->size(), 1u) << "pushed before the inbox is rewritten";
    EXPECT_EQ(status(sent->message_id).recipients[0].state, ReceiptState::kDelivered);
    // The inbox lock is released: another delivery can go in meanwhile.
    EXPECT_TRUE(broker_.send("alice", "bob", "while pushing"));
    auto polled = broker_.poll("ses-b");
    ASSERT_TRUE(polled);
    ASSERT_EQ(polled->size(), 1u);
    EXPECT_EQ(polled->front().content, "while pushing");
  });
  ASSERT_TRUE(drained);
  EXPECT_EQ(handed_out, 1u);
  EXPECT_EQ(status(sent->message_id).recipients[0].state, ReceiptState::kRead);
  EXPECT_TRUE(broker_.peek("ses-b")->empty());
  const auto hist = broker_.history("ses-b", 10);
  ASSERT_TRUE(hist);
  EXPECT_EQ(hist->size(), 2u);  // each message archived once
}

// After the push the inbox is rewritten without the pushed messages, and only them: a message
// delivered during the push stays queued for the next drain.
TEST_F(ReceiptsTest, APushRemovesExactlyWhatItPushed) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  ASSERT_TRUE(broker_.send("alice", "bob", "one"));
  ASSERT_TRUE(broker_.send("alice", "bob", "two"));
  std::vector<std::string> pushed;
  auto drained = broker_.drain_push("ses-b", [&](const std::vector<Message>& msgs) {
    for (const auto& m : msgs) pushed.push_back(m.content);
    EXPECT_TRUE(broker_.send("alice", "bob", "three"));
  });
  ASSERT_TRUE(drained);
  EXPECT_EQ(pushed, (std::vector<std::string>{"one", "two"}));
  auto left = broker_.peek("ses-b");
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().content, "three");
  auto next = broker_.drain_push("ses-b");
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(next->front().content, "three");
}

TEST_F(ReceiptsTest, RemoteSendIsAcceptedInTheOutboxOnly) {
  reg("alice", "ses-a");
  auto sent = broker_.send("alice", "bob@machine-b", "hi");
  ASSERT_TRUE(sent);
  const auto s = status(sent->message_id);
  ASSERT_EQ(s.recipients.size(), 1u);
  EXPECT_EQ(s.recipients[0].recipient, "bob@machine-b");
  EXPECT_EQ(s.recipients[0].state, ReceiptState::kAccepted);
  EXPECT_EQ(s.events[0].via, "outbox");
}

TEST_F(ReceiptsTest, ConnectorDeliveryRecordsDeliveredAndMarksTheMessage) {
  reg("bob", "ses-b");
  ASSERT_EQ(broker_.deliver("ses-b", {from_relay("remote-id-1", "bob", "from afar")}).value(), 1u);
  EXPECT_EQ(status("remote-id-1").recipients[0].state, ReceiptState::kDelivered);
  EXPECT_EQ(status("remote-id-1").events[0].via, "connector");
  const auto drained = poll("ses-b");
  ASSERT_EQ(drained.size(), 1u);
  EXPECT_TRUE(drained[0].via_relay);
  EXPECT_EQ(status("remote-id-1").recipients[0].state, ReceiptState::kRead);
}

TEST_F(ReceiptsTest, RelayMessagesQueueRemoteReceiptsExceptRoomCopies) {
  reg("bob", "ses-b");
  const Message dm = from_relay("remote-dm", "bob", "dm");
  Message room = from_relay("remote-room", "bob#lounge", "dm");
  room.room_id = "lounge";
  ASSERT_EQ(broker_.deliver("ses-b", {dm, room}).value(), 2u);
  auto queued = broker_.read_receipt_outbox();
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].message_id, "remote-dm");
  EXPECT_EQ((*queued)[0].state, ReceiptState::kDelivered);
  EXPECT_EQ((*queued)[0].sender, "alice");
  ASSERT_EQ(poll("ses-b").size(), 2u);
  queued = broker_.read_receipt_outbox();
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[1].message_id, "remote-dm");
  EXPECT_EQ((*queued)[1].state, ReceiptState::kRead);
  // Settling what the relay took leaves nothing behind.
  ASSERT_TRUE(broker_.settle_receipt_outbox(*queued));
  EXPECT_TRUE(broker_.read_receipt_outbox()->empty());
}

TEST_F(ReceiptsTest, SendAllGivesEveryCopyItsOwnId) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  reg("carol", "ses-c");
  auto r = broker_.send_all("alice", "all", {});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->sent_to.size(), 2u);
  ASSERT_EQ(r->message_ids.size(), 2u);
  EXPECT_NE(r->message_ids[0], r->message_ids[1]);
  for (size_t i = 0; i < 2; ++i) {
    const auto s = status(r->message_ids[i]);
    ASSERT_EQ(s.recipients.size(), 1u);
    EXPECT_EQ(s.recipients[0].recipient, r->sent_to[i]);
    EXPECT_EQ(s.recipients[0].state, ReceiptState::kDelivered);
  }
}

TEST_F(ReceiptsTest, RoomSendSharesOneIdAndTracksEveryMember) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  reg("carol", "ses-c");
  ASSERT_TRUE(broker_.join_room("lounge", "bob", "ses-b"));
  ASSERT_TRUE(broker_.join_room("lounge", "carol", "ses-c"));
  poll("ses-b");  // join notices
  auto r = broker_.send_room("lounge", "alice", "hello room");
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->message_id.empty());
  poll("ses-b");
  const auto s = status(r->message_id);
  ASSERT_EQ(s.recipients.size(), 2u);
  EXPECT_EQ(s.recipients[0].recipient, "bob#lounge");
  EXPECT_EQ(s.recipients[0].state, ReceiptState::kRead);
  EXPECT_EQ(s.recipients[1].recipient, "carol#lounge");
  EXPECT_EQ(s.recipients[1].state, ReceiptState::kDelivered);
  // The overall state is the least advanced recipient's.
  EXPECT_EQ(delivery_status_json(s)["state"], "delivered");
}

TEST_F(ReceiptsTest, UnknownIdIsNothingAndAnUnsafeIdIsRefused) {
  auto none = broker_.delivery_status("00000000-0000-4000-8000-000000000000");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  for (const char* bad : {"../registry", "a/b", "", ".."}) {
    auto r = broker_.delivery_status(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  }
}

TEST_F(ReceiptsTest, FilesArePrivateAndSymlinksAreNotFollowed) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  auto sent = broker_.send("alice", "bob", "hi");
  ASSERT_TRUE(sent);
  struct stat st {};
  ASSERT_EQ(::stat(segment(1).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat((root() / "receipts").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);

  // A per-message file (older c2c) planted as a symlink is not read through.
  const auto target = dir_.path() / "victim";
  std::ofstream(target) << "untouched";
  std::filesystem::create_symlink(target, legacy("planted"));
  EXPECT_FALSE(broker_.delivery_status("planted"));
  // Nor is a log segment planted as a symlink written through, in a root where it is the
  // segment to write.
  const auto other_root = dir_.path() / "other";
  std::filesystem::create_directories(other_root / "receipts");
  std::filesystem::permissions(other_root, std::filesystem::perms::owner_all);
  std::filesystem::permissions(other_root / "receipts", std::filesystem::perms::owner_all);
  std::filesystem::create_symlink(target, other_root / "receipts" / "log-000001.jsonl");
  Broker other(other_root);
  EXPECT_FALSE(other.record_receipts({event("m1", ReceiptState::kRead, "bob")}));
  std::ifstream in(target);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "untouched");
}

TEST_F(ReceiptsTest, ATornLineIsSkipped) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  auto sent = broker_.send("alice", "bob", "hi");
  ASSERT_TRUE(sent);
  // As a power cut could leave it: half a record, no newline; later records still count.
  std::ofstream(segment(1), std::ios::app)
      << R"({"message_id":")" << sent->message_id << R"(","sta)";
  ASSERT_EQ(poll("ses-b").size(), 1u);
  const auto s = status(sent->message_id);
  EXPECT_EQ(s.recipients[0].state, ReceiptState::kRead);
  EXPECT_EQ(s.events.size(), 3u);
}

// The receipts of a group (a delivered frame, a drain) are one append; a full segment hands
// over to the next, and a query reads them all, oldest first.
TEST_F(ReceiptsTest, TheLogMovesToANewSegmentWhenOneIsFull) {
  ASSERT_TRUE(broker_.record_receipts({event("m1", ReceiptState::kAccepted, "bob@b", "alice"),
                                       event("m2", ReceiptState::kAccepted, "bob@b", "alice")}));
  // Filler past the segment size, in one group.
  std::vector<ReceiptEvent> filler;
  for (size_t i = 0; i * 200 < detail::kReceiptSegmentBytes; ++i) {
    filler.push_back(event("f" + std::to_string(i), ReceiptState::kRead, std::string(150, 'r')));
  }
  ASSERT_TRUE(broker_.record_receipts(filler));
  ASSERT_FALSE(std::filesystem::exists(segment(2)));
  ASSERT_TRUE(broker_.record_receipts({event("m1", ReceiptState::kDelivered, "bob@b")}));
  ASSERT_TRUE(std::filesystem::exists(segment(2)));
  EXPECT_LT(std::filesystem::file_size(segment(2)), 1024u);
  // Another process (a new Broker with the same root finds the newest segment) appends there.
  {
    Broker other(root());
    ASSERT_TRUE(other.record_receipts({event("m1", ReceiptState::kRead, "bob@b")}));
  }
  const auto s = status("m1");
  ASSERT_EQ(s.events.size(), 3u);
  EXPECT_EQ(s.events[0].state, ReceiptState::kAccepted);
  EXPECT_EQ(s.events[1].state, ReceiptState::kDelivered);
  EXPECT_EQ(s.events[2].state, ReceiptState::kRead);
  EXPECT_EQ(s.recipients[0].state, ReceiptState::kRead);
  EXPECT_EQ(s.from_alias, "alice");
  // What a connector asks: who sent m1 and m2 to whom. It reads the newest segment, then the
  // older one only because neither `accepted` is in the newest.
  auto sent = broker_.sent_statuses({"m1", "m2", "never"});
  ASSERT_TRUE(sent) << sent.error().message;
  ASSERT_EQ(sent->size(), 2u);
  EXPECT_EQ(sent->at("m2").from_alias, "alice");
  EXPECT_EQ(sent->at("m1").recipients[0].recipient, "bob@b");
}

// A per-message file of older c2c still counts, before the log's records.
TEST_F(ReceiptsTest, PerMessageFilesOfOlderC2cAreStillRead) {
  std::filesystem::create_directories(root() / "receipts");
  std::filesystem::permissions(root() / "receipts", std::filesystem::perms::owner_all);
  std::ofstream(legacy("old-1"))
      << R"({"from_alias":"alice","message_id":"old-1","recipient":"bob","state":"accepted","ts":5,"via":"local"})"
      << "\n";
  ASSERT_TRUE(broker_.record_receipts({event("old-1", ReceiptState::kRead, "bob")}));
  const auto s = status("old-1");
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].state, ReceiptState::kAccepted);
  EXPECT_EQ(s.recipients[0].state, ReceiptState::kRead);
  EXPECT_EQ(s.from_alias, "alice");
}

TEST_F(ReceiptsTest, ConcurrentWritersKeepWholeRecords) {
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      Broker b(root());
      for (int i = 0; i < kEach; ++i) {
        ReceiptEvent e;
        e.message_id = "shared";
        e.state = ReceiptState::kRead;
        e.recipient = "r" + std::to_string(t) + "-" + std::to_string(i) + std::string(200, 'x');
        ASSERT_TRUE(b.record_receipts({e}));
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto s = status("shared");
  EXPECT_EQ(s.events.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(s.recipients.size(), static_cast<size_t>(kThreads * kEach));
}

TEST_F(ReceiptsTest, SweepPrunesReceiptsPastRetention) {
  reg("alice", "ses-a");
  reg("bob", "ses-b");
  auto old_msg = broker_.send("alice", "bob", "old");
  ASSERT_TRUE(old_msg);
  // Segment 1 fills up, so the next message's records start segment 2.
  std::vector<ReceiptEvent> filler;
  for (size_t i = 0; i * 200 < detail::kReceiptSegmentBytes; ++i) {
    filler.push_back(event("f" + std::to_string(i), ReceiptState::kRead, std::string(150, 'r')));
  }
  ASSERT_TRUE(broker_.record_receipts(filler));
  auto new_msg = broker_.send("alice", "bob", "new");
  ASSERT_TRUE(new_msg);
  ASSERT_TRUE(std::filesystem::exists(segment(2)));
  // And a per-message file of older c2c.
  std::ofstream(legacy("old-file"))
      << R"({"message_id":"old-file","recipient":"bob","state":"read","ts":5})"
      << "\n";
  const double now = static_cast<double>(::time(nullptr));
  clock_.set(now);
  // Eight days old.
  const timeval tv[2] = {{static_cast<time_t>(now) - 8 * 86400, 0},
                         {static_cast<time_t>(now) - 8 * 86400, 0}};
  ASSERT_EQ(::utimes(segment(1).c_str(), tv), 0);
  ASSERT_EQ(::utimes(legacy("old-file").c_str(), tv), 0);
  auto swept = broker_.sweep();
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->pruned_receipts, 2u);
  EXPECT_FALSE(broker_.delivery_status(old_msg->message_id)->has_value());
  EXPECT_FALSE(broker_.delivery_status("old-file")->has_value());
  EXPECT_TRUE(broker_.delivery_status(new_msg->message_id)->has_value());
  // The newest segment stays, however old: writers append to it.
  ASSERT_EQ(::utimes(segment(2).c_str(), tv), 0);
  swept = broker_.sweep();
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->pruned_receipts, 0u);
  EXPECT_TRUE(std::filesystem::exists(segment(2)));
}

TEST_F(ReceiptsTest, SweepKeepsTheNewestSegments) {
  std::filesystem::create_directories(root() / "receipts");
  std::filesystem::permissions(root() / "receipts", std::filesystem::perms::owner_all);
  const int total = static_cast<int>(detail::kReceiptSegmentsKept) + 2;
  for (int n = 1; n <= total; ++n) std::ofstream(segment(n)) << "\n";
  clock_.set(static_cast<double>(::time(nullptr)));
  auto swept = broker_.sweep();
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->pruned_receipts, 2u);
  EXPECT_FALSE(std::filesystem::exists(segment(1)));
  EXPECT_FALSE(std::filesystem::exists(segment(2)));
  EXPECT_TRUE(std::filesystem::exists(segment(3)));
  EXPECT_TRUE(std::filesystem::exists(segment(total)));
}

}  // namespace
}  // namespace c2c::broker
