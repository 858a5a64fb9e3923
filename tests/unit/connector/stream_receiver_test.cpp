// The connector's receive stream against the real relay, in process (memory store, no sockets;
// tests/support/in_process_relay.hpp): frames land in the local broker, are acknowledged only in
// the next request and only once written; a relay without the stream is recognised; sender
// addresses route back.
#include <gtest/gtest.h>

#include "c2c/connector/stream.hpp"
#include "support/in_process_relay.hpp"
#include "support/temp_dir.hpp"

namespace c2c::connector {
namespace {

using c2c::test::InProcessRelay;
using c2c::test::TempDir;
using c2c::test::write_file;

class StreamReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir / "registry.json",
               R"([{"session_id":"ses-b","alias":"bob","pid":1,"pid_start_time":1}])");
    relay.register_alias("alice", "machine-a", "ses-a");
    relay.register_alias("bob", "machine-b", "ses-b");
  }
  void send(const std::string& from, const std::string& to, const std::string& content) {
    relay.send(from, to, content);
  }

  TempDir dir{"c2c-stream-receiver"};
  InProcessRelay relay{{.stream = true}};
  broker::Broker broker{dir.path()};
  relay::RelayClient client{relay::RelayClientOptions{"http://relay.test:7331"}, relay.transport()};
  StreamReceiver receiver{broker, client, "machine-b"};
  const std::vector<StreamSession> sessions{{"ses-b", "bob"}};
};

TEST_F(StreamReceiverTest, AFrameIsWrittenLocallyAndAcknowledgedOnlyInTheNextRequest) {
  send("alice", "bob@machine-b", "hello");
  send("alice", "bob", "again");
  const auto r = receiver.poll(sessions, 0);
  ASSERT_EQ(r.kind, StreamPoll::Kind::kFrame) << r.error;
  EXPECT_EQ(r.received, 2);
  EXPECT_EQ(r.delivered, 2);
  auto inbox = broker.peek("ses-b");
  ASSERT_TRUE(inbox.has_value());
  ASSERT_EQ(inbox->size(), 2u);
  EXPECT_EQ((*inbox)[0].content, "hello");
  EXPECT_EQ((*inbox)[0].from_alias, "alice@machine-a") << "answering it routes back";
  EXPECT_EQ((*inbox)[0].to_alias, "bob");
  // Written, not yet acknowledged: the relay still holds both.
  EXPECT_EQ(relay.store().queued_messages(), 2u);
  ASSERT_EQ(receiver.pending_acks().size(), 1u);
  EXPECT_EQ(receiver.pending_acks()[0].session_id, "ses-b");
  // The next request carries the acknowledgement: the relay drops them, nothing comes twice.
  const auto next = receiver.poll(sessions, 0);
  ASSERT_EQ(next.kind, StreamPoll::Kind::kFrame) << next.error;
  EXPECT_EQ(next.received, 0);
  EXPECT_EQ(relay.store().queued_messages(), 0u);
  EXPECT_EQ(broker.peek("ses-b")->size(), 2u);
}

// A backlog drains in frames of up to 1024 messages (the relay's default is 256): a quarter of
// the local inbox writes and round trips (docs/performance.md, "Outbox forwarding in batches").
TEST_F(StreamReceiverTest, ABacklogComesInFramesOf1024Messages) {
  for (int b = 0; b < 5; ++b) {
    nlohmann::json messages = nlohmann::json::array();
    for (int i = 0; i < 220; ++i) {
      messages.push_back({{"to_alias", "bob"}, {"content", "m" + std::to_string(b * 220 + i)}});
    }
    ASSERT_TRUE(relay.harness()
                    .post("/send_batch", {{"from_alias", "alice"}, {"messages", messages}})
                    .ok());
  }
  auto r = receiver.poll(sessions, 0);
  ASSERT_EQ(r.kind, StreamPoll::Kind::kFrame) << r.error;
  EXPECT_EQ(r.received, 1024);
  EXPECT_EQ(r.delivered, 1024);
  EXPECT_TRUE(r.more);
  r = receiver.poll(sessions, 0);
  EXPECT_EQ(r.received, 1100 - 1024);
  EXPECT_FALSE(r.more);
  EXPECT_EQ(broker.peek("ses-b")->size(), 1100u);
}

TEST_F(StreamReceiverTest, ARedeliveredFrameIsDroppedByTheBroker) {
  send("alice", "bob", "once");
  ASSERT_EQ(receiver.poll(sessions, 0).delivered, 1);
  // A new receiver (a restarted connector) never sent the acknowledgement: it gets it again.
  StreamReceiver restarted(broker, client, "machine-b");
  const auto r = restarted.poll(sessions, 0);
  ASSERT_EQ(r.kind, StreamPoll::Kind::kFrame);
  EXPECT_EQ(r.received, 1);
  EXPECT_EQ(r.delivered, 0);
  EXPECT_EQ(broker.peek("ses-b")->size(), 1u);
  (void)restarted.poll(sessions, 0);
  EXPECT_EQ(relay.store().queued_messages(), 0u);
}

TEST_F(StreamReceiverTest, AFrameThatCannotBeWrittenIsNotAcknowledged) {
  // A session the relay knows on this node but the local broker does not.
  relay.register_alias("xavier", "machine-b", "ses-x");
  send("alice", "xavier", "nowhere to go");
  send("alice", "bob", "fine");
  const auto r = receiver.poll(sessions, 0);
  EXPECT_EQ(r.kind, StreamPoll::Kind::kLocalError);
  EXPECT_NE(r.error.find("ses-x"), std::string::npos) << r.error;
  EXPECT_EQ(r.delivered, 1);
  (void)receiver.poll(sessions, 0);
  EXPECT_EQ(relay.store().peek({"machine-b", "ses-x"}).size(), 1u) << "kept for a later try";
  EXPECT_TRUE(relay.store().peek({"machine-b", "ses-b"}).empty());
}

TEST(StreamReceiver, ARelayWithoutTheStreamIsRecognised) {
  TempDir dir{"c2c-stream-old"};
  InProcessRelay old;
  broker::Broker broker{dir.path()};
  relay::RelayClient client{relay::RelayClientOptions{"http://relay.test:7331"}, old.transport()};
  StreamReceiver receiver{broker, client, "machine-b"};
  const auto r = receiver.poll({{"ses-b", "bob"}}, 0);
  EXPECT_EQ(r.kind, StreamPoll::Kind::kUnsupported);
  EXPECT_NE(r.error.find("not_found"), std::string::npos) << r.error;
}

TEST(InboundMessage, SenderAddressRoutesBack) {
  relay::protocol::Message m;
  m.message_id = "m1";
  m.from_alias = "alice";
  m.content = "x";
  m.from_node = "machine-a";
  EXPECT_EQ(inbound_message(m, "bob", "machine-b", 1).from_alias, "alice@machine-a");
  EXPECT_EQ(inbound_message(m, "bob", "machine-a", 1).from_alias, "alice") << "same machine";
  m.from_node.clear();
  EXPECT_EQ(inbound_message(m, "bob", "machine-b", 1).from_alias, "alice") << "node unknown";
  m.from_alias = "c2c-system";
  m.room_id = "lobby";
  const auto room = inbound_message(m, "bob", "machine-b", 1);
  EXPECT_EQ(room.to_alias, "bob#lobby");
  EXPECT_EQ(room.room_id.value_or(""), "lobby");
}

}  // namespace
}  // namespace c2c::connector
