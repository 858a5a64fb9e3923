// Connector rounds against a real broker directory and the real relay in process (memory store,
// no sockets; tests/support/in_process_relay.hpp).
#include "c2c/connector/connector.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "c2c/connector/run_loop.hpp"
#include "support/in_process_relay.hpp"
#include "support/temp_dir.hpp"

namespace c2c::connector {
namespace {

using c2c::test::InProcessRelay;
using c2c::test::read_file;
using c2c::test::TempDir;
using c2c::test::write_file;

class ConnectorTest : public ::testing::Test {
 protected:
  TempDir dir{"c2c-connector"};
  FakeClock clock{1'776'730'000.0};
  InProcessRelay relay{{.public_url = "http://relay.test:7331"}};
  broker::Broker broker{dir.path(), clock};
  relay::RelayClient client{relay::RelayClientOptions{"http://relay.test:7331"}, relay.transport()};
  ConnectorOptions options = [] {
    ConnectorOptions o;
    o.node_id = "machine-a";
    return o;
  }();

  void SetUp() override {
    // The quickstart's registry format: a JSON array of rows.
    write_file(dir / "registry.json",
               R"([{"session_id":"ses-alice","alias":"alice","pid":1,"pid_start_time":1},
                   {"session_id":"ses-carol","alias":"carol","pid":1,"pid_start_time":1}])");
    // A peer on another machine.
    relay.register_alias("bob", "machine-b", "ses-bob");
  }

  SyncReport round(Connector& c) {
    auto r = c.sync_once();
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r.value_or(SyncReport{});
  }

  std::string queue(const std::string& to, const std::string& content,
                    const std::string& from = "alice") {
    auto receipt = broker.send(from, to, content);
    EXPECT_TRUE(receipt.has_value()) << (receipt ? "" : receipt.error().message);
    EXPECT_TRUE(receipt->remote);
    return receipt->message_id;
  }

  // The relay applies the first request to `path`, but its answer is lost on the way back.
  void lose_first_answer(const std::string& path) {
    relay.after = [path, lose = std::make_shared<bool>(true)](const net::ClientRequest& req) {
      if (req.target != path || !*lose) return true;
      *lose = false;
      return false;
    };
  }

  // The message ids in the relay inbox of `alias`, in order.
  std::vector<std::string> relay_ids(const std::string& alias) {
    std::vector<std::string> ids;
    for (const auto& m : relay.inbox(alias)) ids.push_back(m.message_id);
    return ids;
  }

  size_t outbox_size() {
    auto entries = broker.read_outbox();
    EXPECT_TRUE(entries.has_value());
    return entries ? entries->size() : 0;
  }
};

TEST_F(ConnectorTest, RegistersLocalSessionsThenHeartbeatsThem) {
  Connector c(broker, client, options);
  auto r = round(c);
  EXPECT_EQ(r.registered, 2);
  EXPECT_EQ(r.heartbeated, 0);
  EXPECT_TRUE(r.healthy());
  ASSERT_TRUE(relay.lease("alice").has_value());
  EXPECT_EQ(relay.lease("alice")->node_id, "machine-a");
  EXPECT_EQ(relay.lease("alice")->session_id, "ses-alice");
  r = round(c);
  EXPECT_EQ(r.registered, 0);
  EXPECT_EQ(r.heartbeated, 2);
  EXPECT_EQ(r.summary_line(),
            "[relay-connector] sync: registered=0 heartbeated=2 fwd=0 failed=0 dlqed=0 inbound=0");
}

// Loop mode spaces heartbeats: a round run as soon as mail is queued forwards it without first
// heartbeating every session (one durable relay write each); a new session is still registered at
// once, and heartbeats resume once they are due.
TEST_F(ConnectorTest, HeartbeatsWaitUntilDueWhileMailGoesOutAtOnce) {
  options.heartbeat_every = 15;
  Connector c(broker, client, options);
  EXPECT_EQ(round(c).registered, 2);
  queue("bob@machine-b", "right away");
  clock.advance(1);
  auto r = round(c);
  EXPECT_EQ(r.heartbeated, 0);
  EXPECT_EQ(r.forwarded, 1);
  EXPECT_EQ(relay.inbox_size("bob"), 1u);
  write_file(dir / "registry.json",
             R"([{"session_id":"ses-alice","alias":"alice","pid":1,"pid_start_time":1},
                 {"session_id":"ses-carol","alias":"carol","pid":1,"pid_start_time":1},
                 {"session_id":"ses-dave","alias":"dave","pid":1,"pid_start_time":1}])");
  r = round(c);
  EXPECT_EQ(r.registered, 1) << "a new session does not wait for the heartbeats";
  EXPECT_EQ(r.heartbeated, 0);
  clock.advance(15);
  EXPECT_EQ(round(c).heartbeated, 3);
  EXPECT_EQ(round(c).heartbeated, 0);
}

// A round that skipped the heartbeats cannot know the relay restarted (and lost its leases): an
// unknown recipient then makes it heartbeat before deciding, instead of dead-lettering the mail.
TEST_F(ConnectorTest, UnknownRecipientInARoundWithoutHeartbeatsWaitsForThem) {
  options.heartbeat_every = 15;
  Connector c(broker, client, options);
  EXPECT_EQ(round(c).registered, 2);
  relay.restart();  // forgets every lease, bob's too
  queue("bob@machine-b", "after the restart");
  clock.advance(1);
  auto r = round(c);
  EXPECT_EQ(r.heartbeated, 0);
  EXPECT_EQ(r.dlqed, 0);
  EXPECT_EQ(outbox_size(), 1u);
  EXPECT_TRUE(c.has_untried_outbox()) << "the loop runs the next round at once";
  r = round(c);  // heartbeats refused -> re-registered: the restart grace applies
  EXPECT_EQ(r.registered, 2);
  EXPECT_EQ(r.dlqed, 0);
  EXPECT_EQ(outbox_size(), 1u);
  relay.register_alias("bob", "machine-b", "ses-bob");  // bob's machine comes back
  clock.advance(1);
  r = round(c);
  EXPECT_EQ(r.forwarded, 1);
  EXPECT_EQ(relay.inbox_size("bob"), 1u);
}

TEST_F(ConnectorTest, ReRegistersWhenTheRelayForgotTheSession) {
  Connector c(broker, client, options);
  round(c);
  relay.restart();
  relay.register_alias("bob", "machine-b", "ses-bob");
  const auto r = round(c);
  EXPECT_EQ(r.registered, 2);
  EXPECT_EQ(r.heartbeated, 0);
  EXPECT_TRUE(relay.lease("alice").has_value());
  EXPECT_TRUE(relay.lease("carol").has_value());
  // And it stays healthy afterwards.
  EXPECT_EQ(round(c).heartbeated, 2);
}

TEST_F(ConnectorTest, AfterARelayRestartUnknownPeersGetTimeToComeBack) {
  Connector c(broker, client, options);
  round(c);
  relay.restart();  // bob's machine has not registered again yet
  queue("bob@machine-b", "sent while bob's connector is still backing off");
  auto r = round(c);
  EXPECT_EQ(r.registered, 2);  // ours came back
  EXPECT_EQ(r.dlqed, 0);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(outbox_size(), 1u);
  EXPECT_EQ(broker.read_outbox()->front().last_error.value_or(""), "unknown_host");
  relay.register_alias("bob", "machine-b", "ses-bob");  // bob's connector registers again
  r = round(c);
  EXPECT_EQ(r.forwarded, 1);
  EXPECT_EQ(relay.inbox_size("bob"), 1u);
  // Once the grace window is over, unknown recipients are dead-lettered at once again.
  clock.advance(options.outbox.restart_grace_seconds + 1);
  queue("ghost@machine-b", "nobody");
  EXPECT_EQ(round(c).dlqed, 1);
}

TEST_F(ConnectorTest, ForwardsTheOutboxWithStableMessageIds) {
  const std::string id = queue("bob@machine-b", "hello from A");
  Connector c(broker, client, options);
  const auto r = round(c);
  EXPECT_EQ(r.forwarded, 1);
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(outbox_size(), 0u);
  ASSERT_EQ(relay.inbox_size("bob"), 1u);
  const auto m = relay.inbox("bob").front();
  EXPECT_EQ(m.message_id, id);
  EXPECT_EQ(m.from_alias, "alice");
  EXPECT_EQ(m.content, "hello from A");
}

// The relay's rules, not a copy of them: aliases match in any case (docs/security.md, finding
// 8.6), so mail to "BOB@machine-b" reaches bob instead of being dead-lettered.
TEST_F(ConnectorTest, ARecipientAliasInAnotherCaseReachesThePeer) {
  queue("BOB@machine-b", "shouted");
  Connector c(broker, client, options);
  const auto r = round(c);
  EXPECT_EQ(r.forwarded, 1);
  EXPECT_EQ(r.dlqed, 0);
  ASSERT_EQ(relay.inbox_size("bob"), 1u);
  EXPECT_EQ(relay.inbox("bob").front().content, "shouted");
}

TEST_F(ConnectorTest, ALostAnswerIsRetriedWithoutDeliveringTwice) {
  queue("bob@machine-b", "once");
  lose_first_answer("/send");  // the relay stores it, but we never hear back
  Connector c(broker, client, options);
  auto r = round(c);
  EXPECT_EQ(r.forwarded, 0);
  EXPECT_EQ(r.failed, 1);
  EXPECT_TRUE(r.unreachable);
  ASSERT_EQ(outbox_size(), 1u);
  EXPECT_EQ(broker.read_outbox()->front().attempts, 2);
  r = round(c);
  EXPECT_EQ(r.forwarded, 1);  // the relay says "duplicate": that is delivered
  EXPECT_EQ(outbox_size(), 0u);
  EXPECT_EQ(relay.inbox_size("bob"), 1u);
}

// Consecutive entries of one sender go as one /send_batch, in outbox order.
TEST_F(ConnectorTest, ConsecutiveEntriesOfOneSenderGoAsOneBatchInOrder) {
  Connector c(broker, client, options);
  round(c);
  std::vector<std::string> want;
  for (int i = 0; i < 5; ++i) want.push_back(queue("bob@machine-b", "a" + std::to_string(i)));
  for (int i = 0; i < 2; ++i) {
    want.push_back(queue("bob@machine-b", "c" + std::to_string(i), "carol"));
  }
  for (int i = 5; i < 8; ++i) want.push_back(queue("bob@machine-b", "a" + std::to_string(i)));
  relay.calls.clear();
  const auto r = round(c);
  EXPECT_EQ(r.forwarded, 10);
  EXPECT_EQ(outbox_size(), 0u);
  EXPECT_EQ(relay.calls["/send_batch"], 3) << "alice's 5, carol's 2, alice's 3";
  EXPECT_EQ(relay.calls["/send"], 0);
  EXPECT_EQ(relay_ids("bob"), want);
  // Each is `accepted` by the relay, as after a /send.
  auto status = broker.delivery_status(want.back());
  ASSERT_TRUE(status && status->has_value());
  ASSERT_EQ((*status)->events.size(), 2u) << "queued locally, then accepted by the relay";
  EXPECT_EQ((*status)->events.back().via, "relay");
}

// A batch stays far below the relay's body limit: large messages go in several batches.
TEST_F(ConnectorTest, BatchesAreBoundedByTheirContentBytes) {
  Connector c(broker, client, options);
  round(c);
  for (int i = 0; i < 5; ++i) queue("bob@machine-b", std::string(100 * 1024, 'a' + i));
  relay.calls.clear();
  EXPECT_EQ(round(c).forwarded, 5);
  EXPECT_EQ(relay.calls["/send_batch"], 2) << "two of 100 KiB per batch";
  EXPECT_EQ(relay.calls["/send"], 1) << "the fifth alone";
  EXPECT_EQ(relay.inbox_size("bob"), 5u);
}

// The answer to a batch is lost after the relay made it durable: the next round sends the batch
// again and the relay's dedup makes each message arrive once.
TEST_F(ConnectorTest, ABatchWhoseAnswerIsLostIsSentAgainAndDeliveredOnce) {
  Connector c(broker, client, options);
  round(c);
  std::vector<std::string> want;
  for (int i = 0; i < 4; ++i) want.push_back(queue("bob@machine-b", "m" + std::to_string(i)));
  lose_first_answer("/send_batch");  // the relay stores them, but we never hear back
  auto r = round(c);
  EXPECT_EQ(r.forwarded, 0);
  EXPECT_TRUE(r.unreachable);
  ASSERT_EQ(outbox_size(), 4u);
  EXPECT_EQ(relay.inbox_size("bob"), 4u) << "durable on the relay already";
  EXPECT_EQ(broker.read_outbox()->front().attempts, 2) << "one attempt for the outage";
  r = round(c);
  EXPECT_EQ(r.forwarded, 4) << "the relay says duplicate: that is delivered";
  EXPECT_EQ(outbox_size(), 0u);
  EXPECT_EQ(relay_ids("bob"), want) << "each once, in order";
}

// A relay from before /send_batch answers 404: one /send per message, and the batch route is not
// asked again for a while.
TEST_F(ConnectorTest, AnOlderRelayWithoutSendBatchGetsOneSendPerMessage) {
  relay.no_send_batch = true;
  Connector c(broker, client, options);
  round(c);
  for (int i = 0; i < 3; ++i) queue("bob@machine-b", "old " + std::to_string(i));
  relay.calls.clear();
  auto r = round(c);
  EXPECT_EQ(r.forwarded, 3);
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(relay.calls["/send_batch"], 1);
  EXPECT_EQ(relay.calls["/send"], 3);
  for (int i = 3; i < 6; ++i) queue("bob@machine-b", "old " + std::to_string(i));
  clock.advance(60);
  EXPECT_EQ(round(c).forwarded, 3);
  EXPECT_EQ(relay.calls["/send_batch"], 1) << "remembered";
  EXPECT_EQ(relay.calls["/send"], 6);
  std::vector<std::string> got;
  for (const auto& m : relay.inbox("bob")) got.push_back(m.content);
  EXPECT_EQ(got, (std::vector<std::string>{"old 0", "old 1", "old 2", "old 3", "old 4", "old 5"}));
  // Upgraded meanwhile: asked again after a while.
  relay.no_send_batch = false;
  clock.advance(300);
  for (int i = 0; i < 2; ++i) queue("bob@machine-b", "new " + std::to_string(i));
  EXPECT_EQ(round(c).forwarded, 2);
  EXPECT_EQ(relay.calls["/send_batch"], 2);
  EXPECT_EQ(relay.calls["/send"], 6);
}

TEST_F(ConnectorTest, HopelessMessagesAreDeadLetteredWithTheReason) {
  queue("nobody@machine-b", "to a ghost");
  queue("bob@atlantis", "to an unknown host");
  queue("bob@machine-b", "fine");
  Connector c(broker, client, options);
  const auto r = round(c);
  EXPECT_EQ(r.forwarded, 1);
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(r.dlqed, 2);
  EXPECT_EQ(outbox_size(), 0u);
  const std::string dlq = read_file(dir / "remote-outbox-dlq.jsonl");
  EXPECT_NE(dlq.find("unknown_alias"), std::string::npos);
  EXPECT_NE(dlq.find("unknown_host"), std::string::npos);
  EXPECT_NE(dlq.find("to a ghost"), std::string::npos);
  EXPECT_EQ(dlq.find("\"fine\""), std::string::npos);
  EXPECT_NE(r.summary_line().find("dlqed=2"), std::string::npos);
  EXPECT_EQ(relay.calls["/send_batch"], 1) << "each message decided on its own result";
}

TEST_F(ConnectorTest, AnUnreachableRelayLeavesTheOutboxAlone) {
  Connector c(broker, client, options);
  round(c);
  queue("bob@machine-b", "three");
  queue("bob@machine-b", "four");
  relay.down = true;
  const auto r = c.sync_once();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->unreachable);
  EXPECT_FALSE(r->healthy());
  EXPECT_NE(r->summary_line().find(" ["), std::string::npos);
  // The heartbeat found the relay down: the round ended before touching the outbox.
  auto entries = broker.read_outbox();
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].attempts, 1);
  EXPECT_EQ((*entries)[1].attempts, 1);
}

TEST_F(ConnectorTest, AnOutageMidOutboxCostsOneAttemptNotOnePerEntry) {
  Connector c(broker, client, options);
  round(c);
  queue("bob@machine-b", "one");
  queue("bob@machine-b", "two");
  relay.before = [](const net::ClientRequest& req) {
    return req.target != "/send" && req.target != "/send_batch";
  };
  const auto r = round(c);
  EXPECT_EQ(r.failed, 1);
  auto entries = broker.read_outbox();
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].attempts, 2);
  EXPECT_EQ((*entries)[0].last_error.value_or(""), "connection_error");
  EXPECT_EQ((*entries)[1].attempts, 1);
}

TEST_F(ConnectorTest, RetriesRunOutAtTheAttemptLimit) {
  options.outbox.max_attempts = 3;
  Connector c(broker, client, options);
  round(c);
  relay.before = [](const net::ClientRequest& req) { return req.target != "/send"; };
  queue("bob@machine-b", "doomed");
  int dlqed = 0;
  int rounds = 0;
  for (; rounds < 6 && outbox_size() > 0; ++rounds) dlqed += round(c).dlqed;
  EXPECT_EQ(outbox_size(), 0u);
  EXPECT_EQ(dlqed, 1);
  EXPECT_EQ(rounds, 3);
  EXPECT_NE(read_file(dir / "remote-outbox-dlq.jsonl").find("max_attempts"), std::string::npos);
}

TEST_F(ConnectorTest, OldEntriesRunOutAtTheAgeLimit) {
  options.outbox.max_age_seconds = 60;
  Connector c(broker, client, options);
  round(c);
  queue("bob@machine-b", "stale");
  relay.before = [](const net::ClientRequest& req) { return req.target != "/send"; };
  clock.advance(61);
  const auto r = round(c);
  EXPECT_EQ(r.dlqed, 1);
  EXPECT_NE(read_file(dir / "remote-outbox-dlq.jsonl").find("max_age"), std::string::npos);
}

TEST_F(ConnectorTest, InboundMessagesArriveExactlyOnceEvenWhenTheAckIsLost) {
  Connector c(broker, client, options);
  round(c);
  relay.send("bob", "alice", "first", "m-1");
  relay.send("bob", "alice", "second", "m-2");
  bool lose_ack = true;
  relay.before = [&](const net::ClientRequest& req) {
    if (req.target == "/poll_inbox" && lose_ack) {
      lose_ack = false;
      return false;  // killed between the local write and the acknowledgement
    }
    return true;
  };
  auto r = round(c);
  EXPECT_EQ(r.inbound, 2);
  EXPECT_EQ(relay.inbox_size("alice"), 2u);  // not acknowledged yet
  r = round(c);
  EXPECT_EQ(r.inbound, 0);                   // already in the local inbox
  EXPECT_EQ(relay.inbox_size("alice"), 0u);  // now acknowledged
  auto local = broker.peek("ses-alice");
  ASSERT_TRUE(local);
  ASSERT_EQ(local->size(), 2u);
  EXPECT_EQ((*local)[0].content, "first");  // FIFO
  EXPECT_EQ((*local)[1].content, "second");
  EXPECT_EQ((*local)[0].message_id.value_or(""), "m-1");
  // carol got nothing.
  EXPECT_TRUE(broker.peek("ses-carol")->empty());
}

TEST_F(ConnectorTest, OnlyAcknowledgesWhatItPeeked) {
  Connector c(broker, client, options);
  round(c);
  relay.send("bob", "alice", "peeked", "m-1");
  // A message that lands on the relay between our peek and our ack must survive the ack.
  relay.before = [&](const net::ClientRequest& req) {
    if (req.target == "/poll_inbox" && relay.inbox_size("alice") == 1) {
      relay.send("bob", "alice", "late", "m-2");
    }
    return true;
  };
  EXPECT_EQ(round(c).inbound, 1);
  EXPECT_EQ(relay.inbox_size("alice"), 1u);
  relay.before = nullptr;
  EXPECT_EQ(round(c).inbound, 1);
  EXPECT_EQ(broker.peek("ses-alice")->size(), 2u);
}

// Issue 8.13: a backlog arrives in pages, each acknowledged before the next is read.
TEST_F(ConnectorTest, DrainsABacklogPageByPageInOneRound) {
  Connector c(broker, client, options);
  round(c);
  relay.set_page_size(10);
  for (int i = 0; i < 35; ++i) {
    relay.send("bob", "alice", "m" + std::to_string(i), "id-" + std::to_string(i));
  }
  relay.calls.clear();
  EXPECT_EQ(round(c).inbound, 35);
  EXPECT_EQ(relay.inbox_size("alice"), 0u);
  EXPECT_EQ(relay.calls["/peek_inbox"], 1 + 4) << "carol once, alice four pages";
  EXPECT_EQ(relay.largest_page, 10u);
  auto local = broker.peek("ses-alice");
  ASSERT_TRUE(local);
  ASSERT_EQ(local->size(), 35u);
  for (int i = 0; i < 35; ++i) EXPECT_EQ((*local)[i].content, "m" + std::to_string(i));
}

TEST_F(ConnectorTest, RoomMessagesKeepTheirRoom) {
  Connector c(broker, client, options);
  round(c);
  // Both join through the relay; alice's copy of her join notice is taken first.
  relay.join_room("lounge", "bob");
  relay.join_room("lounge", "alice");
  EXPECT_EQ(round(c).inbound, 1);
  ASSERT_TRUE(broker.poll("ses-alice"));
  relay.send_room("lounge", "bob", "hello room", "r-1");
  EXPECT_EQ(round(c).inbound, 1);
  auto local = broker.peek("ses-alice");
  ASSERT_TRUE(local);
  ASSERT_EQ(local->size(), 1u);
  EXPECT_EQ((*local)[0].room_id.value_or(""), "lounge");
  EXPECT_EQ((*local)[0].to_alias, "alice#lounge");
}

TEST_F(ConnectorTest, OneRelaySessionPerAlias) {
  write_file(dir / "registry.json",
             R"([{"session_id":"old","alias":"alice","pid":1,"pid_start_time":1,"registered_at":1},
                 {"session_id":"new","alias":"alice","pid":1,"pid_start_time":1,"registered_at":2}])");
  Connector c(broker, client, options);
  const auto r = round(c);
  EXPECT_EQ(r.registered, 1);
  EXPECT_EQ(relay.lease("alice")->session_id, "new");
}

// Issue 8.11: another node holding one of our aliases is that alias's problem, not the relay's:
// reported once, the round stays healthy (no backoff), the other aliases sync as usual, and the
// squatted alias's outbox waits (without making the loop spin) until the alias is ours again.
TEST_F(ConnectorTest, ASquattedAliasIsReportedOnceAndDoesNotCountAsARelayFailure) {
  relay.register_alias("carol", "machine-z", "elsewhere");
  queue("bob@machine-b", "from carol", "carol");
  queue("bob@machine-b", "from alice");
  Connector c(broker, client, options);
  auto r = round(c);
  EXPECT_EQ(r.registered, 1);
  EXPECT_FALSE(r.refused);
  EXPECT_TRUE(r.healthy());
  EXPECT_EQ(r.refused_aliases, std::vector<std::string>{"carol"});
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_NE(r.notices[0].find("alias carol not synced: alias_conflict"), std::string::npos)
      << r.notices[0];
  EXPECT_NE(r.last_error.find("alias_conflict"), std::string::npos);
  EXPECT_EQ(r.forwarded, 1);  // alice's mail went out
  EXPECT_EQ(r.failed, 0);     // carol's was not even tried
  EXPECT_EQ(outbox_size(), 1u);
  EXPECT_FALSE(c.has_untried_outbox()) << "a waiting entry must not make the loop spin";
  EXPECT_EQ(next_delay(1.0, 0, r.healthy() ? 0 : 1, 0.0), 1.0);

  // Later rounds: quiet, still healthy.
  r = round(c);
  EXPECT_TRUE(r.healthy());
  EXPECT_TRUE(r.notices.empty());
  EXPECT_EQ(r.last_error, "");
  EXPECT_EQ(r.refused_aliases, std::vector<std::string>{"carol"});

  // The other node lets go: carol registers, says so once, and its mail goes out.
  relay.drop_lease("carol");
  r = round(c);
  EXPECT_EQ(r.registered, 1);
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_NE(r.notices[0].find("alias carol is registered on the relay again"), std::string::npos);
  EXPECT_EQ(r.forwarded, 1);
  EXPECT_EQ(outbox_size(), 0u);
  EXPECT_EQ(relay.inbox_size("bob"), 2u);
}

TEST_F(ConnectorTest, RefusedCredentialsStillCountAsARelayFailure) {
  relay.refuse_credentials = true;
  Connector c(broker, client, options);
  const auto r = round(c);
  EXPECT_TRUE(r.refused);
  EXPECT_FALSE(r.healthy());
  EXPECT_TRUE(r.refused_aliases.empty());
}

// Issue 8.24: the dead-letter line names the reason once, not "unknown_host: ...: unknown_host".
TEST_F(ConnectorTest, DeadLetterErrorSaysTheReasonOnce) {
  queue("bob@atlantis", "to an unknown host");
  Connector c(broker, client, options);
  const auto r = round(c);
  EXPECT_EQ(r.dlqed, 1);
  const auto first = r.last_error.find("unknown_host");
  ASSERT_NE(first, std::string::npos) << r.last_error;
  EXPECT_EQ(r.last_error.find("unknown_host", first + 1), std::string::npos) << r.last_error;
  EXPECT_NE(r.last_error.find("bob@atlantis"), std::string::npos) << r.last_error;
  EXPECT_NE(r.last_error.find("dead-lettered"), std::string::npos) << r.last_error;
}

TEST_F(ConnectorTest, WithNothingToSyncTheRoundStillChecksTheRelay) {
  write_file(dir / "registry.json", "[]");
  Connector c(broker, client, options);
  auto r = round(c);
  EXPECT_TRUE(r.healthy());
  relay.down = true;
  r = round(c);
  EXPECT_TRUE(r.unreachable);
  EXPECT_NE(r.last_error.find("health"), std::string::npos);
}

TEST_F(ConnectorTest, MissingBrokerRootIsAnError) {
  broker::Broker missing(dir / "nope", clock);
  Connector c(missing, client, options);
  const auto r = c.sync_once();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not exist"), std::string::npos);
}

TEST_F(ConnectorTest, StopRequestEndsTheRoundEarly) {
  Connector c(broker, client, options);
  std::atomic<bool> stop{true};
  const auto r = c.sync_once(&stop);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registered, 0);
  EXPECT_EQ(relay.calls["/register"], 0);
}

TEST_F(ConnectorTest, LoopForwardsNewMailWithoutWaitingForTheInterval) {
  Connector c(broker, client, options);
  StopSource stop;
  LoopOptions lo;
  lo.interval_seconds = 60;  // the test would time out if the loop waited for it
  lo.watch_root = dir.path();
  std::atomic<int> rounds{0};
  std::atomic<int> forwarded{0};
  std::thread loop([&] {
    run_loop(c, lo, stop, [&](const Result<SyncReport>& r, double) {
      if (r) forwarded += r->forwarded;
      ++rounds;
    });
  });
  const auto wait_until = [](auto pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  };
  ASSERT_TRUE(wait_until([&] { return rounds.load() >= 1; }));
  queue("bob@machine-b", "right away");
  const bool sent = wait_until([&] { return forwarded.load() >= 1; });
  stop.request_stop();
  loop.join();
  EXPECT_TRUE(sent) << "the queued message waited for the 60 s interval";
  EXPECT_EQ(relay.inbox_size("bob"), 1u);
  EXPECT_LE(rounds.load(), 4);  // woken by the append, not spinning
}

TEST(SyncReportTest, SummaryLineCutsLongErrors) {
  SyncReport r;
  r.forwarded = 3;
  r.last_error = "send: " + std::string(200, 'x');
  const auto full = r.summary_line();
  EXPECT_NE(full.find(std::string(200, 'x')), std::string::npos);
  const auto cut = r.summary_line(80);
  EXPECT_NE(cut.find("...]"), std::string::npos);
  EXPECT_LT(cut.size(), full.size());
  EXPECT_EQ(cut.rfind("[relay-connector] sync: registered=0 heartbeated=0 fwd=3", 0), 0u);
}

}  // namespace
}  // namespace c2c::connector
