// The connector's receive stream against the real relay router, in process (memory store, no
// sockets): frames land in the local broker, are acknowledged only in the next request and only
// once written; a relay without the stream is recognised; sender addresses route back.
#include <gtest/gtest.h>

#include "c2c/connector/stream.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/relay/server/router.hpp"
#include "c2c/relay/server/stream_hub.hpp"
#include "c2c/relay/store/store.hpp"
#include "support/temp_dir.hpp"

namespace c2c::connector {
namespace {

using c2c::test::TempDir;
using c2c::test::write_file;

struct InProcessRelay {
  explicit InProcessRelay(bool stream)
      : clock(1'776'730'000.0),
        store(std::move(relay::open_store("memory:").value())),
        auth(*store, clock, ""),
        service(*store, auth, clock, {}, crypto::new_identity("relay", clock.now())),
        limiter(relay::server::RateLimitMode::kOff),
        router(service, auth, *store, limiter, clock) {
    if (stream) router.set_stream_hub(&hub, 5);
  }
  ~InProcessRelay() { hub.shutdown(); }

  relay::Transport transport() {
    return [this](const net::ClientRequest& c) -> Result<net::Response> {
      net::Request r;
      r.method = c.method;
      r.target = c.target;
      const auto q = c.target.find('?');
      r.path = c.target.substr(0, q);
      r.query = q == std::string::npos ? "" : c.target.substr(q + 1);
      r.headers = c.headers;
      r.body = c.body;
      r.remote_ip = "127.0.0.1";
      return router.handle_sync(r);
    };
  }
  void post(const std::string& path, const nlohmann::json& body) {
    net::Request r;
    r.method = "POST";
    r.target = r.path = path;
    r.body = body.dump();
    r.remote_ip = "127.0.0.1";
    const auto resp = router.handle_sync(r);
    ASSERT_EQ(resp.status, 200) << path << " " << resp.body;
  }

  FakeClock clock;
  std::unique_ptr<relay::Store> store;
  relay::server::Authenticator auth;
  relay::server::RelayService service;
  relay::server::RateLimiter limiter;
  relay::server::Router router;
  relay::server::StreamHub hub;
};

class StreamReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir / "registry.json",
               R"([{"session_id":"ses-b","alias":"bob","pid":1,"pid_start_time":1}])");
    relay.post("/register",
               {{"node_id", "machine-a"}, {"session_id", "ses-a"}, {"alias", "alice"}});
    relay.post("/register", {{"node_id", "machine-b"}, {"session_id", "ses-b"}, {"alias", "bob"}});
  }
  void send(const std::string& from, const std::string& to, const std::string& content) {
    relay.post("/send", {{"from_alias", from}, {"to_alias", to}, {"content", content}});
  }

  TempDir dir{"c2c-stream-receiver"};
  InProcessRelay relay{true};
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
  EXPECT_EQ(relay.store->queued_messages(), 2u);
  ASSERT_EQ(receiver.pending_acks().size(), 1u);
  EXPECT_EQ(receiver.pending_acks()[0].session_id, "ses-b");
  // The next request carries the acknowledgement: the relay drops them, nothing comes twice.
  const auto next = receiver.poll(sessions, 0);
  ASSERT_EQ(next.kind, StreamPoll::Kind::kFrame) << next.error;
  EXPECT_EQ(next.received, 0);
  EXPECT_EQ(relay.store->queued_messages(), 0u);
  EXPECT_EQ(broker.peek("ses-b")->size(), 2u);
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
  EXPECT_EQ(relay.store->queued_messages(), 0u);
}

TEST_F(StreamReceiverTest, AFrameThatCannotBeWrittenIsNotAcknowledged) {
  // A session the relay knows on this node but the local broker does not.
  relay.post("/register", {{"node_id", "machine-b"}, {"session_id", "ses-x"}, {"alias", "xavier"}});
  send("alice", "xavier", "nowhere to go");
  send("alice", "bob", "fine");
  const auto r = receiver.poll(sessions, 0);
  EXPECT_EQ(r.kind, StreamPoll::Kind::kLocalError);
  EXPECT_NE(r.error.find("ses-x"), std::string::npos) << r.error;
  EXPECT_EQ(r.delivered, 1);
  (void)receiver.poll(sessions, 0);
  EXPECT_EQ(relay.store->peek({"machine-b", "ses-x"}).size(), 1u) << "kept for a later try";
  EXPECT_TRUE(relay.store->peek({"machine-b", "ses-b"}).empty());
}

TEST(StreamReceiver, ARelayWithoutTheStreamIsRecognised) {
  TempDir dir{"c2c-stream-old"};
  InProcessRelay old(false);
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
