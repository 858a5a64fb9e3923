// The receive stream with real processes: a relay (SQLite, prod mode), two machines (own HOME
// and broker root), their connectors in loop mode with the default 30 s interval, so anything
// that arrives within seconds came through the stream. Every fault test counts the messages in
// the recipient's local inbox: none lost, none twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <regex>

#include "connector_util.hpp"
#include "support/tcp_proxy.hpp"

namespace c2c::test::connector {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kToken = "stream-token";

ProcessOptions relay_env() {
  ProcessOptions o;
  o.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_PERSIST_DIR", "C2C_REQUIRE_SIGNED_ROOM_OPS"};
  return o;
}

uint16_t port_number(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(port_of(url)));
}

bool has_line(Child& c, const std::string& needle, std::chrono::milliseconds timeout) {
  return c.wait_for_line([&](const std::string& l) { return contains(l, needle); }, timeout)
      .has_value();
}

class Stream : public ::testing::Test {
 protected:
  TempDir relay_dir{"c2c-stream-relay"};
  // Each machine reaches the relay through its own TCP proxy, which the fault tests cut or hold;
  // the relay names both as its public URLs, as a relay behind a proxy does (signed
  // registrations must name one). A restarted relay keeps them.
  TcpProxy front_a{0};
  TcpProxy front_b{0};
  RelayProcess relay;
  Machine a{"machine-a"};
  Machine b{"machine-b"};
  std::vector<std::string> sent_ids;

  std::vector<std::string> relay_args(bool stream = true) const {
    std::vector<std::string> v = {"--token",      kToken,         "--storage",
                                  "sqlite",       "--db-path",    (relay_dir / "relay.db").string(),
                                  "--rate-limit", "off",          "--public-url",
                                  front_a.url(),  "--public-url", front_b.url()};
    if (!stream) v.push_back("--no-stream");
    return v;
  }
  std::string url_a() const { return front_a.url(); }
  std::string url_b() const { return front_b.url(); }

  void start_relay_process(bool stream = true) {
    relay = start_relay(relay_args(stream), relay_env());
    ASSERT_FALSE(relay.url.empty());
    front_a.set_target(port_number(relay.url));
    front_b.set_target(port_number(relay.url));
  }

  void start(bool stream = true) {
    start_relay_process(stream);
    a.add_session("alice", "ses-a");
    b.add_session("bob", "ses-b");
    ASSERT_EQ(a.connect_once(url_a(), kToken).exit_code, 0);
    ASSERT_EQ(b.connect_once(url_b(), kToken).exit_code, 0);
  }

  // A connector in loop mode with the default interval (30 s) and --verbose.
  std::unique_ptr<Child> loop(const Machine& m, const std::string& url,
                              const std::string& interval = "30") {
    auto args = m.connect_args(url, kToken);
    args.insert(args.end(), {"--interval", interval, "--verbose"});
    return std::make_unique<Child>(m.argv(args), m.options());
  }

  void queue(int n, size_t size = 0) {
    auto sender = a.broker();
    for (int i = 0; i < n; ++i) {
      std::string content = "msg-" + std::to_string(sent_ids.size());
      if (content.size() < size) content.resize(size, '.');
      auto r = sender.send("alice", "bob@machine-b", content);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      sent_ids.push_back(r->message_id);
    }
  }

  struct Count {
    size_t lost = 0, duplicated = 0, present = 0;
  };
  Count count() const {
    std::map<std::string, int> seen;
    for (const auto& m : b.inbox("ses-b")) {
      if (m.message_id) ++seen[*m.message_id];
    }
    Count c;
    for (const auto& id : sent_ids) {
      auto it = seen.find(id);
      if (it == seen.end()) {
        ++c.lost;
      } else {
        ++c.present;
        if (it->second > 1) c.duplicated += static_cast<size_t>(it->second - 1);
      }
    }
    return c;
  }
  // Waits until A's connector forwarded everything queued (the relay holds it).
  bool forwarded(std::chrono::milliseconds timeout) {
    auto sender = a.broker();
    return eventually(
        [&] {
          auto out = sender.read_outbox();
          return out.has_value() && out->empty();
        },
        timeout);
  }
  bool all_arrived(std::chrono::milliseconds timeout) {
    return eventually([&] { return count().present == sent_ids.size(); }, timeout);
  }
  void expect_exactly_once() {
    const Count c = count();
    EXPECT_EQ(c.lost, 0u);
    EXPECT_EQ(c.duplicated, 0u);
    EXPECT_EQ(b.inbox("ses-b").size(), sent_ids.size()) << "nothing else arrived either";
  }
};

TEST_F(Stream, DeliversWithinSecondsWhileTheIntervalIs30s) {
  start();
  auto ca = loop(a, url_a());
  auto cb = loop(b, url_b());
  ASSERT_TRUE(has_line(*cb, "stream: open (node machine-b)", 20s)) << cb->out() << cb->err();
  ASSERT_TRUE(has_line(*ca, "stream: open", 20s)) << ca->out();
  queue(20);
  ASSERT_TRUE(all_arrived(10s)) << cb->out();
  expect_exactly_once();
  // The sender's address routes back: answer it as is.
  const auto inbox = b.inbox("ses-b");
  ASSERT_FALSE(inbox.empty());
  EXPECT_EQ(inbox[0].from_alias, "alice@machine-a");
  const auto sent = b.c2c({"send", inbox[0].from_alias, "answer from bob", "--from", "bob"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  ASSERT_TRUE(eventually([&] { return !a.inbox("ses-a").empty(); }, 10s)) << ca->out();
  EXPECT_EQ(a.inbox("ses-a")[0].content, "answer from bob");
  EXPECT_EQ(a.inbox("ses-a")[0].from_alias, "bob@machine-b");
}

// Issue 9's end-to-end flow through MCP with both connectors in their default loop (30 s
// interval): everything below happens within seconds, so it came through the streams.
TEST_F(Stream, McpReplyRoutesBackAndTheSenderSeesDeliveredThenRead) {
  start();
  auto ca = loop(a, url_a());
  auto cb = loop(b, url_b());
  ASSERT_TRUE(has_line(*cb, "stream: open", 20s)) << cb->out();
  ASSERT_TRUE(has_line(*ca, "stream: open", 20s)) << ca->out();
  McpSession bob(b, "ses-b", "bob", /*channel=*/true);
  McpSession alice(a, "ses-a", "alice");

  const auto sent =
      Json::parse(alice.tool("send", {{"to_alias", "bob@machine-b"}, {"content", "ping"}}));
  const std::string id = sent.value("message_id", "");
  ASSERT_FALSE(id.empty()) << sent.dump();
  // B's client is pushed the message, with a sender address it can answer as is.
  const auto pushed = bob.notification("notifications/claude/channel", 10s);
  ASSERT_TRUE(pushed.has_value()) << cb->out() << bob.err();
  EXPECT_EQ((*pushed)["content"], "ping");
  const std::string from = (*pushed)["meta"].value("from", "");
  EXPECT_EQ(from, "alice@machine-a");
  const auto answered = Json::parse(bob.tool("send", {{"to_alias", from}, {"content", "pong"}}));
  ASSERT_FALSE(answered.value("message_id", "").empty()) << answered.dump();
  const auto got = Json::parse(alice.tool("wait_for_message", {{"timeout_s", 10}}));
  ASSERT_EQ(got.size(), 1u) << got.dump() << ca->out();
  EXPECT_EQ(got[0]["content"], "pong");
  EXPECT_EQ(got[0]["from_alias"], "bob@machine-b");

  // The push drained bob's copy (read); both receipts came back through A's stream.
  Json st;
  ASSERT_TRUE(eventually(
      [&] {
        st = Json::parse(alice.tool("delivery_status", {{"message_id", id}}));
        return st.value("state", "") == "read";
      },
      10s))
      << st.dump() << "\n"
      << ca->out() << cb->out();
  std::vector<std::string> states;
  for (const auto& e : st["events"]) states.push_back(e.value("state", ""));
  const auto delivered = std::find(states.begin(), states.end(), "delivered");
  ASSERT_NE(delivered, states.end()) << st.dump();
  EXPECT_NE(std::find(delivered, states.end(), "read"), states.end()) << st.dump();
  EXPECT_EQ(st["events"].back().value("verified", ""), "ed25519") << st.dump();
  // One frame or two: delivered and read may reach the relay before A's stream takes either.
  EXPECT_TRUE(std::regex_search(ca->out(), std::regex("stream: [12] receipt\\(s\\)"))) << ca->out();
}

TEST_F(Stream, RelayKilledMidStreamLosesAndDuplicatesNothing) {
  start();
  // A's rounds must not back off for minutes while the relay is down (A is not under test).
  auto ca = loop(a, url_a(), "0.5");
  auto cb = loop(b, url_b());
  ASSERT_TRUE(has_line(*cb, "stream: open", 20s)) << cb->out();
  queue(300);
  ASSERT_TRUE(eventually([&] { return count().present >= 10; }, 20s)) << cb->out();
  relay.child->signal(SIGKILL);
  EXPECT_EQ(relay.child->wait(10s), 128 + SIGKILL);
  queue(20);              // queued while the relay is down
  start_relay_process();  // on a new port: the proxies forward there from now on
  ASSERT_TRUE(all_arrived(40s)) << count().lost << " lost\n" << cb->out();
  expect_exactly_once();
}

TEST_F(Stream, ConnectorKilledBetweenLocalWriteAndAckGetsItAgainOnceOnly) {
  start();
  auto ca = loop(a, url_a());
  queue(10);
  ASSERT_TRUE(forwarded(10s)) << ca->out();
  // B's first request gets the 10 in one frame; its next one, which acknowledges them, never
  // reaches the relay: B has written the frame locally and dies before the relay hears the ack.
  // (Only a stream frame carries "seq"; B's rounds go through the proxy too.)
  front_b.hold_upstream_after_answer_containing("\"seq\":");
  auto cb = loop(b, url_b());
  ASSERT_TRUE(all_arrived(10s)) << cb->out();
  ASSERT_TRUE(has_line(*cb, "stream: received 10, delivered 10", 5s)) << cb->out();
  cb->signal(SIGKILL);
  EXPECT_EQ(cb->wait(10s), 128 + SIGKILL);
  front_b.cut_all();
  front_b.hold_upstream(false);
  // The relay still holds the 10 unacknowledged messages: the restarted connector gets them
  // again and its broker drops them.
  cb = loop(b, url_b());
  ASSERT_TRUE(has_line(*cb, "delivered 0", 20s)) << cb->out();
  queue(5);
  ASSERT_TRUE(all_arrived(10s)) << cb->out();
  expect_exactly_once();
}

TEST_F(Stream, NetworkCutMidFrameLosesAndDuplicatesNothing) {
  start();
  auto ca = loop(a, url_a());
  queue(40, 2000);
  ASSERT_TRUE(forwarded(20s)) << ca->out();
  // B's first answer, one frame of 40 messages of 2 KB, is cut after 3 KB.
  front_b.cut_downstream_after(3000, "\"seq\":");
  auto cb = loop(b, url_b());
  ASSERT_TRUE(has_line(*cb, "reconnecting in", 20s)) << cb->out();
  EXPECT_TRUE(b.inbox("ses-b").empty()) << "a cut frame writes nothing";
  ASSERT_TRUE(all_arrived(30s)) << cb->out();
  expect_exactly_once();
}

// Two connectors started for the same machine at once: one holds the broker root's lock, the
// other refuses to start and says why (docs/relay-client.md), so nothing can arrive twice.
TEST_F(Stream, TwoConnectorsForTheSameNodeDeliverOnce) {
  start();
  auto ca = loop(a, url_a());
  auto cb1 = loop(b, url_b());
  auto cb2 = loop(b, url_b());
  ASSERT_TRUE(eventually([&] { return !cb1->running() || !cb2->running(); }, 20s))
      << cb1->out() << cb2->out();
  Child& refused = cb1->running() ? *cb2 : *cb1;
  Child& runner = cb1->running() ? *cb1 : *cb2;
  EXPECT_NE(refused.wait(10s), 0);
  EXPECT_TRUE(contains(refused.err(), "a relay connector is already running for broker root"))
      << refused.err();
  ASSERT_TRUE(has_line(runner, "stream: open", 20s)) << runner.out();
  queue(100);
  ASSERT_TRUE(all_arrived(20s)) << runner.out();
  expect_exactly_once();
}

TEST_F(Stream, RelayWithoutTheStreamFallsBackToPolling) {
  start(/*stream=*/false);
  auto ca = loop(a, url_a(), "0.5");
  auto cb = loop(b, url_b(), "0.5");
  ASSERT_TRUE(has_line(*cb, "the relay offers no receive stream", 20s)) << cb->out();
  queue(20);
  ASSERT_TRUE(all_arrived(20s)) << cb->out();
  expect_exactly_once();
  EXPECT_FALSE(contains(cb->out(), "stream: open"));
}

TEST_F(Stream, RoomMessageReachesEveryMemberMachineOncePerMember) {
  start();
  b.add_session("bea", "ses-b2");
  ASSERT_EQ(b.connect_once(url_b(), kToken).exit_code, 0);
  for (auto [m, alias] : {std::pair{&a, "alice"}, std::pair{&b, "bob"}, std::pair{&b, "bea"}}) {
    const auto r = m->c2c({"relay", "rooms", "join", "lounge", "--alias", alias, "--relay-url",
                           m == &a ? url_a() : url_b(), "--token", kToken});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  auto cb = loop(b, url_b());
  ASSERT_TRUE(has_line(*cb, "stream: open", 20s)) << cb->out();
  const auto r = a.c2c({"relay", "rooms", "send", "lounge", "hello", "room", "--alias", "alice",
                        "--relay-url", url_a(), "--token", kToken});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto room_copies = [&](const std::string& session) {
    int n = 0;
    for (const auto& m : b.inbox(session)) n += m.content == "hello room" ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(eventually([&] { return room_copies("ses-b") + room_copies("ses-b2") == 2; }, 10s))
      << cb->out();
  EXPECT_EQ(room_copies("ses-b"), 1);
  EXPECT_EQ(room_copies("ses-b2"), 1);
}

}  // namespace
}  // namespace c2c::test::connector
