// The receive stream: POST /stream frames, acknowledgements, long-poll wake-ups, bounds,
// ownership in prod mode, and the StreamHub itself.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "c2c/relay/server/stream_hub.hpp"
#include "support/relay_harness.hpp"
#include "support/store_writes.hpp"

namespace c2c::relay::testing {
namespace {

using namespace std::chrono_literals;

// A harness whose router offers the stream (as `relay serve` does unless --no-stream).
struct StreamHarness : Harness {
  explicit StreamHarness(HarnessOptions o = {}) : Harness(std::move(o)) {
    router->set_stream_hub(&hub, 5);
  }
  ~StreamHarness() { hub.shutdown(); }

  // POST /stream through the asynchronous handler; the future is ready once it answered.
  std::future<Reply> stream(const Json& body, std::vector<net::Header> headers = {}) {
    net::Request req;
    req.method = "POST";
    req.target = req.path = "/stream";
    req.headers = std::move(headers);
    req.headers.push_back({"Host", kHost});
    req.body = body.dump();
    req.remote_ip = "127.0.0.1";
    auto done = std::make_shared<std::promise<Reply>>();
    auto fut = done->get_future();
    router->handle(std::move(req), [done](net::Response resp) {
      Reply r;
      r.raw = resp;
      r.status = resp.status;
      r.body = Json::parse(resp.body, nullptr, false);
      done->set_value(std::move(r));
    });
    return fut;
  }
  Reply stream_now(const Json& body, std::vector<net::Header> headers = {}) {
    auto f = stream(body, std::move(headers));
    EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
    return f.get();
  }
  std::future<Reply> signed_stream(const crypto::KeyPair& k, const std::string& alias,
                                   const Json& body) {
    return stream(body, {{"Authorization", sign(k, alias, "POST", "/stream", body.dump())}});
  }

  server::StreamHub hub;
};

TEST(RelayStream, WithoutAHubTheRouteIsUnknownLikeOnAnOlderRelay) {
  Harness h;
  auto r = h.post("/stream", {{"node_id", "nb"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "not_found");
  EXPECT_EQ(r.body["error"], "unknown endpoint: /stream");
}

TEST(RelayStream, FrameCarriesSessionSeqAndSenderNodeAndAcksDropOnlyWhatWasAcknowledged) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  ASSERT_TRUE(h.register_alias("bea", "machine-b", "sb2").ok());
  ASSERT_TRUE(h.post("/send", send_body("alice", "bob", "one")).ok());
  ASSERT_TRUE(h.post("/send", send_body("alice", "bea@machine-b", "two")).ok());
  ASSERT_TRUE(h.post("/send", send_body("alice", "bob", "three")).ok());

  auto f = h.stream_now({{"node_id", "machine-b"}, {"wait", 0}});
  ASSERT_EQ(f.status, 200) << f.raw.body;
  const auto& msgs = f.body["messages"];
  ASSERT_EQ(msgs.size(), 3u) << f.raw.body;
  std::map<std::string, std::vector<uint64_t>> seqs;
  for (const auto& m : msgs) {
    EXPECT_EQ(m["from_alias"], "alice");
    EXPECT_EQ(m["from_node"], "machine-a") << "replies need the sender's node";
    seqs[m["session_id"].get<std::string>()].push_back(m["seq"].get<uint64_t>());
  }
  ASSERT_EQ(seqs["sb"].size(), 2u);
  ASSERT_EQ(seqs["sb2"].size(), 1u);
  EXPECT_LT(seqs["sb"][0], seqs["sb"][1]);
  EXPECT_FALSE(f.body["more"].get<bool>());

  // No acknowledgement: a reconnect gets everything again.
  EXPECT_EQ(h.stream_now({{"node_id", "machine-b"}}).body["messages"].size(), 3u);
  // Acknowledge bob's first message only.
  auto a = h.stream_now({{"node_id", "machine-b"},
                         {"acks", Json::array({{{"session_id", "sb"}, {"seq", seqs["sb"][0]}}})}});
  ASSERT_EQ(a.body["messages"].size(), 2u) << a.raw.body;
  EXPECT_EQ(h.store->peek({"machine-b", "sb"}).size(), 1u);
  // Acknowledging everything empties the inboxes; an ack for another node's session is ignored.
  ASSERT_TRUE(h.post("/send", send_body("bob", "alice", "for a")).ok());
  auto all = h.stream_now({{"node_id", "machine-b"},
                           {"acks", Json::array({{{"session_id", "sb"}, {"seq", seqs["sb"][1]}},
                                                 {{"session_id", "sb2"}, {"seq", seqs["sb2"][0]}},
                                                 {{"session_id", "sa"}, {"seq", 1000000}}})}});
  EXPECT_TRUE(all.body["messages"].empty()) << all.raw.body;
  EXPECT_EQ(h.store->queued_messages(), 1u) << "alice's message on machine-a stays";
}

TEST(RelayStream, LongPollIsAnsweredWhenAMessageForTheNodeIsDurable) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  auto waiting = h.stream({{"node_id", "machine-b"}, {"wait", 5}});
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout) << "nothing queued: it waits";
  // A message for another node does not answer it.
  ASSERT_TRUE(h.post("/send", send_body("bob", "alice", "to a")).ok());
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  const auto sent_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(h.post("/send", send_body("alice", "bob", "hello")).ok());
  ASSERT_EQ(waiting.wait_for(2s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - sent_at, 1s);
  auto r = waiting.get();
  ASSERT_EQ(r.body["messages"].size(), 1u) << r.raw.body;
  EXPECT_EQ(r.body["messages"][0]["content"], "hello");
}

TEST(RelayStream, ABatchWakesTheRecipientsStreamWithItsMessagesInOrder) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  ASSERT_TRUE(h.register_alias("dave", "machine-b", "sd").ok());
  auto waiting = h.stream({{"node_id", "machine-b"}, {"wait", 5}});
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout) << "nothing queued: it waits";
  Json messages = Json::array();
  for (const char* c : {"1", "2", "3"}) {
    messages.push_back({{"to_alias", "bob"}, {"content", c}});
    messages.push_back({{"to_alias", "dave"}, {"content", std::string("d") + c}});
  }
  ASSERT_TRUE(h.post("/send_batch", {{"from_alias", "alice"}, {"messages", messages}}).ok());
  ASSERT_EQ(waiting.wait_for(2s), std::future_status::ready);
  auto r = waiting.get();
  std::vector<std::string> to_bob;
  std::vector<std::string> to_dave;
  for (const auto& m : r.body["messages"]) {
    (m["to_alias"] == "bob" ? to_bob : to_dave).push_back(m["content"]);
  }
  EXPECT_EQ(to_bob, (std::vector<std::string>{"1", "2", "3"})) << r.raw.body;
  EXPECT_EQ(to_dave, (std::vector<std::string>{"d1", "d2", "d3"})) << r.raw.body;
}

TEST(RelayStream, ReceiptsWakeTheSendersStreamAndGoOnlyWhenItAcknowledgesThem) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  auto waiting = h.stream({{"node_id", "machine-a"}, {"wait", 5}});
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout) << "nothing queued: it waits";
  const Json receipt = {{"message_id", "m-1"},          {"state", "delivered"},
                        {"recipient", "bob@machine-b"}, {"to_alias", "alice"},
                        {"ts_ms", 1776730000000},       {"sig", ""}};
  ASSERT_TRUE(h.post("/receipts", {{"alias", "bob"}, {"receipts", Json::array({receipt})}}).ok());
  ASSERT_EQ(waiting.wait_for(2s), std::future_status::ready) << "the receipt wakes alice's node";
  auto r = waiting.get();
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_TRUE(r.body["messages"].empty());
  ASSERT_EQ(r.body["receipts"].size(), 1u) << r.raw.body;
  EXPECT_EQ(r.body["receipts"][0]["message_id"], "m-1");
  EXPECT_EQ(r.body["receipts"][0]["state"], "delivered");
  EXPECT_EQ(r.body["receipts"][0]["recipient"], "bob@machine-b");
  const std::string receipt_id = r.body["receipts"][0].value("receipt_id", "");
  ASSERT_FALSE(receipt_id.empty()) << r.raw.body;

  // Not acknowledged: the next frame carries it again; machine-b's stream never sees it, and
  // machine-b cannot acknowledge it for alice.
  EXPECT_EQ(h.stream_now({{"node_id", "machine-a"}}).body["receipts"].size(), 1u);
  const Json foreign_ack = {{"alias", "alice"}, {"receipt_id", receipt_id}};
  auto b = h.stream_now({{"node_id", "machine-b"}, {"receipt_acks", Json::array({foreign_ack})}});
  ASSERT_EQ(b.status, 200) << b.raw.body;
  EXPECT_FALSE(b.body.contains("receipts")) << b.raw.body;
  EXPECT_EQ(h.stream_now({{"node_id", "machine-a"}}).body["receipts"].size(), 1u);

  // Acknowledged in a stream request: gone from the stream and from /receipts/fetch.
  auto acked = h.stream_now(
      {{"node_id", "machine-a"},
       {"receipt_acks", Json::array({{{"alias", "Alice"}, {"receipt_id", receipt_id}}})}});
  ASSERT_EQ(acked.status, 200) << acked.raw.body;
  EXPECT_FALSE(acked.body.contains("receipts")) << acked.raw.body;
  auto fetched = h.post("/receipts/fetch", {{"alias", "alice"}});
  ASSERT_EQ(fetched.status, 200) << fetched.raw.body;
  EXPECT_TRUE(fetched.body["receipts"].empty()) << fetched.raw.body;

  // Malformed acknowledgements are a clear 400.
  auto bad = h.stream_now({{"node_id", "machine-a"}, {"receipt_acks", "all"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.code(), "bad_request");
  bad = h.stream_now({{"node_id", "machine-a"}, {"receipt_acks", Json::array({{{"alias", "a"}}})}});
  EXPECT_EQ(bad.status, 400) << bad.raw.body;
}

// A stream that does not say it reads batched receipts (an older connector) never gets one,
// and one arriving does not end its wait: it would come back at once, unread, again and again.
TEST(RelayStream, BatchedReceiptsGoOnlyToStreamsThatReadThem) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  auto older = h.stream({{"node_id", "machine-a"}, {"wait", 1}});
  const Json receipt = {{"message_ids", {"m-1", "m-2"}}, {"state", "delivered"},
                        {"recipient", "bob@machine-b"},  {"to_alias", "alice"},
                        {"ts_ms", 1776730000000},        {"sig", ""}};
  ASSERT_TRUE(h.post("/receipts", {{"alias", "bob"}, {"receipts", Json::array({receipt})}}).ok());
  EXPECT_EQ(older.wait_for(300ms), std::future_status::timeout) << "still waiting";
  auto r = older.get();
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_FALSE(r.body.contains("receipts")) << r.raw.body;

  r = h.stream_now({{"node_id", "machine-a"}, {"receipt_batches", true}});
  ASSERT_EQ(r.body["receipts"].size(), 1u) << r.raw.body;
  EXPECT_EQ(r.body["receipts"][0]["message_ids"], Json({"m-1", "m-2"}));
}

TEST(RelayStream, RoomMessagesReachEveryMemberMachineOncePerMember) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  ASSERT_TRUE(h.register_alias("bea", "machine-b", "sb2").ok());
  for (const char* a : {"alice", "bob", "bea"}) {
    ASSERT_TRUE(h.post("/join_room", {{"alias", a}, {"room_id", "lobby"}}).ok());
  }
  ASSERT_TRUE(
      test::writes(*h.store).drop_through({"machine-b", "sb"}, UINT64_MAX));  // the join notices
  ASSERT_TRUE(test::writes(*h.store).drop_through({"machine-b", "sb2"}, UINT64_MAX));
  auto waiting = h.stream({{"node_id", "machine-b"}, {"wait", 5}});
  ASSERT_TRUE(
      h.post("/send_room", {{"from_alias", "alice"}, {"room_id", "lobby"}, {"content", "hi all"}})
          .ok());
  ASSERT_EQ(waiting.wait_for(2s), std::future_status::ready);
  auto r = waiting.get();
  ASSERT_EQ(r.body["messages"].size(), 2u) << r.raw.body;
  std::set<std::string> to;
  for (const auto& m : r.body["messages"]) to.insert(m["to_alias"].get<std::string>());
  EXPECT_EQ(to, (std::set<std::string>{"bob#lobby", "bea#lobby"}));
}

TEST(RelayStream, AnExpiredWaitAnswersAnEmptyFrame) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = h.stream({{"node_id", "machine-b"}, {"wait", 0.3}});
  ASSERT_EQ(r.wait_for(3s), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  auto reply = r.get();
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.body["messages"].empty());
  // The relay caps the wait (5 s in this harness): a client asking for an hour gets an answer.
  EXPECT_EQ(h.post("/stream", {{"node_id", "machine-b"}, {"wait", 3601}}).status, 400);
}

TEST(RelayStream, FramesAreBoundedByCountAndBytesButNeverEmpty) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(h.post("/send", send_body("alice", "bob", std::string(1000, 'a' + i))).ok());
  }
  auto count = h.stream_now({{"node_id", "machine-b"}, {"max_messages", 2}});
  EXPECT_EQ(count.body["messages"].size(), 2u);
  EXPECT_TRUE(count.body["more"].get<bool>());
  auto bytes = h.stream_now({{"node_id", "machine-b"}, {"max_bytes", 1}});
  EXPECT_EQ(bytes.body["messages"].size(), 1u) << "always at least one message";
  EXPECT_TRUE(bytes.body["more"].get<bool>());
  // Draining page by page with acknowledgements delivers everything once, in order.
  std::vector<std::string> got;
  Json acks = Json::array();
  for (int round = 0; round < 10; ++round) {
    auto f = h.stream_now({{"node_id", "machine-b"}, {"acks", acks}, {"max_bytes", 2500}});
    acks = Json::array();
    if (f.body["messages"].empty()) break;
    EXPECT_LE(f.body["messages"].size(), 3u);
    for (const auto& m : f.body["messages"]) got.push_back(m["content"].get<std::string>());
    acks.push_back({{"session_id", "sb"}, {"seq", f.body["messages"].back()["seq"]}});
  }
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[i], std::string(1000, 'a' + i));
}

TEST(RelayStream, BadRequestsAreClearErrors) {
  StreamHarness h;
  EXPECT_EQ(h.stream_now({{"wait", 1}}).status, 400);
  EXPECT_EQ(h.stream_now({{"node_id", "n"}, {"acks", "x"}}).status, 400);
  auto bad_ack = h.stream_now({{"node_id", "n"}, {"acks", Json::array({{{"seq", -1}}})}});
  EXPECT_EQ(bad_ack.status, 400);
  EXPECT_EQ(bad_ack.code(), "bad_request");
  EXPECT_EQ(h.stream_now({{"node_id", "n"}, {"max_messages", 0}}).status, 400);
}

HarnessOptions prod_options() {
  HarnessOptions o;
  o.token = "admin-token";
  return o;
}

TEST(RelayStream, ProdStreamNeedsASignatureAndCarriesOnlyTheSignersSessions) {
  StreamHarness h(prod_options());
  auto kb = key(2), kx = key(3), ka = key(1);
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa", &ka).ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb", &kb).ok());
  // Another identity registered a session on the same node id: not bob's machine's to read.
  ASSERT_TRUE(h.register_alias("xavier", "machine-b", "sx", &kx).ok());
  const std::string send_path = "/send";
  for (const char* to : {"bob", "xavier"}) {
    auto body = send_body("alice", to, std::string("for ") + to);
    ASSERT_TRUE(h.signed_post(ka, "alice", send_path, body).ok());
  }
  EXPECT_EQ(h.stream_now({{"node_id", "machine-b"}}).status, 401) << "unsigned in prod";
  h.clock.advance(0.001);
  auto f = h.signed_stream(kb, "bob", {{"node_id", "machine-b"}});
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  auto r = f.get();
  ASSERT_EQ(r.status, 200) << r.raw.body;
  ASSERT_EQ(r.body["messages"].size(), 1u) << r.raw.body;
  EXPECT_EQ(r.body["messages"][0]["content"], "for bob");
  // Acknowledging xavier's session with bob's key does nothing.
  h.clock.advance(0.001);
  auto nack = h.signed_stream(
      kb, "bob",
      {{"node_id", "machine-b"}, {"acks", Json::array({{{"session_id", "sx"}, {"seq", 1000}}})}});
  ASSERT_EQ(nack.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(nack.get().status, 200);
  EXPECT_EQ(h.store->peek({"machine-b", "sx"}).size(), 1u);
}

// Operators see the stream on /metrics and the dashboard (docs/relay-server.md, "Metrics"):
// streams waiting now, frames answered, messages and receipts pushed.
TEST(RelayStream, OpenStreamsFramesAndPushedMessagesAreCountedForOperators) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("alice", "machine-a", "sa").ok());
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  auto metric = [&](const std::string& line) {
    const std::string m = h.call("GET", "/metrics").raw.body;
    return m.find(line + "\n") != std::string::npos;
  };
  EXPECT_TRUE(metric("c2c_relay_streams_open 0"));
  auto waiting = h.stream({{"node_id", "machine-b"}, {"wait", 5}});
  EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout);
  EXPECT_TRUE(metric("c2c_relay_streams_open 1"));
  EXPECT_TRUE(metric("c2c_relay_stream_frames_total 0"));
  auto s = h.call("GET", "/dashboard/state");
  EXPECT_EQ(s.body["counts"]["streams_open"], 1) << s.raw.body;

  ASSERT_TRUE(h.post("/send", send_body("alice", "bob", "hello")).ok());
  ASSERT_EQ(waiting.wait_for(2s), std::future_status::ready);
  const auto pushed = waiting.get();
  ASSERT_EQ(pushed.body["messages"].size(), 1u);
  const auto& m = pushed.body["messages"][0];
  // The hub counts the waiter out right after it answered.
  for (int i = 0; i < 200 && h.hub.waiting() != 0; ++i) std::this_thread::sleep_for(5ms);
  for (const char* line : {"c2c_relay_streams_open 0", "c2c_relay_stream_frames_total 1",
                           "c2c_relay_stream_messages_total 1", "c2c_relay_stream_receipts_total 0",
                           "c2c_relay_messages_sent_total 1"}) {
    EXPECT_TRUE(metric(line)) << line << "\n" << h.call("GET", "/metrics").raw.body;
  }
  // The next request acknowledges it; its empty frame (the wait is over) counts as a frame, not
  // as a delivery.
  const auto empty =
      h.stream_now({{"node_id", "machine-b"},
                    {"wait", 0},
                    {"acks", Json::array({{{"session_id", m["session_id"]}, {"seq", m["seq"]}}})}});
  ASSERT_EQ(empty.status, 200);
  EXPECT_TRUE(empty.body["messages"].empty()) << empty.raw.body;
  EXPECT_TRUE(metric("c2c_relay_stream_frames_total 2"));
  s = h.call("GET", "/dashboard/state");
  const auto& c = s.body["counts"];
  EXPECT_EQ(c["stream_frames"], 2);
  EXPECT_EQ(c["stream_messages"], 1);
  EXPECT_EQ(c["messages_sent"], 1) << "a pushed message is not counted as accepted again";
  ASSERT_EQ(s.body["deliveries"].size(), 2u) << s.raw.body;
  const auto& d = s.body["deliveries"][0];  // newest first
  EXPECT_EQ(d["kind"], "stream");
  EXPECT_EQ(d["to"], "machine-b");
  EXPECT_EQ(d["count"], 1);
  EXPECT_EQ(d["bytes"], 5);
  EXPECT_EQ(s.raw.body.find("hello"), std::string::npos) << "metadata only";
}

TEST(RelayStream, WithoutAHubNoStreamIsOpenOrCounted) {
  Harness h;
  EXPECT_EQ(h.call("GET", "/metrics").raw.body.find("c2c_relay_streams_open"), std::string::npos);
  EXPECT_TRUE(h.call("GET", "/dashboard/state").body["counts"]["streams_open"].is_null());
}

TEST(RelayStream, ShutdownAnswersEveryWaiter) {
  StreamHarness h;
  ASSERT_TRUE(h.register_alias("bob", "machine-b", "sb").ok());
  auto w1 = h.stream({{"node_id", "machine-b"}, {"wait", 5}});
  auto w2 = h.stream({{"node_id", "machine-x"}, {"wait", 5}});
  EXPECT_EQ(w1.wait_for(50ms), std::future_status::timeout);
  h.hub.shutdown();
  ASSERT_EQ(w1.wait_for(2s), std::future_status::ready);
  ASSERT_EQ(w2.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(w1.get().status, 200);
  // After shutdown a new stream is answered at once.
  EXPECT_EQ(h.stream_now({{"node_id", "machine-b"}, {"wait", 5}}).status, 200);
}

TEST(StreamHub, NotifyWakesOnlyThatNodesWaitersAndDeadlinesAnswerTheRest) {
  server::StreamHub hub;
  std::atomic<int> a_tries{0}, b_final{0};
  std::atomic<bool> a_ready{false};
  std::promise<void> a_done, b_done;
  const auto far = server::StreamHub::Clock::now() + 10s;
  hub.wait("a", far, [&](bool final) {
    ++a_tries;
    if (!a_ready && !final) return false;
    a_done.set_value();
    return true;
  });
  hub.wait("b", server::StreamHub::Clock::now() + 200ms, [&](bool final) {
    if (!final) return false;
    ++b_final;
    b_done.set_value();
    return true;
  });
  ASSERT_EQ(b_done.get_future().wait_for(3s), std::future_status::ready);
  EXPECT_EQ(b_final.load(), 1);
  const int before = a_tries.load();
  EXPECT_GE(before, 1) << "a new waiter tries once at once";
  a_ready = true;
  hub.notify({"a"});
  ASSERT_EQ(a_done.get_future().wait_for(3s), std::future_status::ready);
  // The hub forgets a waiter only after its attempt has returned: wait for that (bounded).
  const auto give_up = std::chrono::steady_clock::now() + 3s;
  while (hub.waiting() != 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  EXPECT_EQ(hub.waiting(), 0u);
}

// A write that becomes durable while the node's waiter is trying (its store read may predate
// the write) makes it try again; a notify for a node nobody waits on changes nothing. The first
// try runs on the thread calling wait() (an I/O thread in the relay), here a thread of its own.
TEST(StreamHub, NotifyDuringAnAttemptMakesTheWaiterTryAgain) {
  server::StreamHub hub;
  hub.notify({"nobody"});
  std::atomic<int> tries{0};
  std::promise<void> in_first_try, notified, answered;
  auto notified_f = notified.get_future().share();
  std::thread caller([&] {
    hub.wait("a", server::StreamHub::Clock::now() + 10s, [&](bool final) {
      const int n = ++tries;
      if (final) return true;
      if (n == 1) {
        in_first_try.set_value();
        notified_f.wait();  // the write lands while this attempt is out of the lock
        return false;       // ... and this attempt's read did not see it
      }
      answered.set_value();
      return true;
    });
  });
  ASSERT_EQ(in_first_try.get_future().wait_for(3s), std::future_status::ready);
  hub.notify({"a"});
  notified.set_value();
  caller.join();  // wait() returns once the first try found nothing and the waiter is listed
  ASSERT_EQ(answered.get_future().wait_for(3s), std::future_status::ready);
  EXPECT_EQ(tries.load(), 2);
}

// The first try runs on the calling thread: a frame that is ready is answered there, without the
// hub thread; a wait of 0 answers there too, final. Long waits end on a whole second.
TEST(StreamHub, TheFirstTryRunsOnTheCallersThread) {
  server::StreamHub hub;
  const auto me = std::this_thread::get_id();
  std::thread::id ran_on;
  bool was_final = true;
  hub.wait("a", server::StreamHub::Clock::now() + 10s, [&](bool final) {
    ran_on = std::this_thread::get_id();
    was_final = final;
    return true;  // a frame was ready
  });
  EXPECT_EQ(ran_on, me);
  EXPECT_FALSE(was_final);
  EXPECT_EQ(hub.waiting(), 0u);
  hub.wait("b", server::StreamHub::Clock::now(), [&](bool final) {
    ran_on = std::this_thread::get_id();
    was_final = final;
    return final;
  });
  EXPECT_EQ(ran_on, me);
  EXPECT_TRUE(was_final) << "a wait that is already over answers at once";
  EXPECT_EQ(hub.waiting(), 0u);
  // An empty first try leaves a waiter, answered by the hub thread at its (rounded) deadline.
  std::promise<server::StreamHub::Clock::time_point> ended;
  const auto start = server::StreamHub::Clock::now();
  const auto deadline = start + server::StreamHub::kRoundedWait + 100ms;
  hub.wait("c", deadline, [&](bool final) {
    if (!final) return false;
    ended.set_value(server::StreamHub::Clock::now());
    return true;
  });
  EXPECT_EQ(hub.waiting(), 1u);
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  const auto at = f.get();
  EXPECT_GE(at, deadline);
  EXPECT_LT(at, deadline + 2s);
  const auto into_second = at.time_since_epoch() % std::chrono::seconds(1);
  EXPECT_LT(into_second, 500ms) << "a long wait ends on a whole second";
}

}  // namespace
}  // namespace c2c::relay::testing
