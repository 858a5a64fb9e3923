// Both connectors SIGKILLed at random points of their rounds, many times over, while new mail
// keeps being queued: at the end every message is in the recipient's local inbox exactly once.
// (Outbox: stable message_ids + relay dedup; inbound: peek, local write with dedup, then ack.)
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <random>

#include "connector_util.hpp"

namespace c2c::test::connector {
namespace {

using namespace std::chrono_literals;

TEST(ConnectorSigkill, NoMessageLostNoneDuplicated) {
  auto relay = start_relay({"--token", "kill-token"});
  ASSERT_FALSE(relay.url.empty());
  Machine a{"machine-a"};
  Machine b{"machine-b"};
  a.add_session("alice", "ses-a");
  b.add_session("bob", "ses-b");
  ASSERT_EQ(a.connect_once(relay.url, "kill-token").exit_code, 0);
  ASSERT_EQ(b.connect_once(relay.url, "kill-token").exit_code, 0);

  auto sender = a.broker();
  std::vector<std::string> sent_ids;
  auto queue = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string content = "msg-" + std::to_string(sent_ids.size());
      auto r = sender.send("alice", "bob@machine-b", content);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      sent_ids.push_back(r->message_id);
    }
  };

  // Bounded: 12 kill cycles, each at most ~0.5 s of connector life.
  std::mt19937 rng(20'260'421);
  std::uniform_int_distribution<int> life_ms(30, 450);
  constexpr int kCycles = 12;
  queue(20);
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    auto ca = a.connect_loop(relay.url, "kill-token", "0.1");
    auto cb = b.connect_loop(relay.url, "kill-token", "0.1");
    queue(5);  // appended while a round may be reading/settling the outbox
    // A random lifetime is the point here: the kill must land anywhere in a round.
    std::this_thread::sleep_for(std::chrono::milliseconds(life_ms(rng)));
    ca->signal(SIGKILL);
    cb->signal(SIGKILL);
    EXPECT_EQ(ca->wait(10s), 128 + SIGKILL);
    EXPECT_EQ(cb->wait(10s), 128 + SIGKILL);
  }

  // Settle: clean rounds until A's outbox is empty and B has pulled everything (bounded).
  for (int i = 0; i < 10; ++i) {
    const auto ra = a.connect_once(relay.url, "kill-token");
    const auto rb = b.connect_once(relay.url, "kill-token");
    ASSERT_EQ(ra.exit_code, 0) << ra.out << ra.err;
    ASSERT_EQ(rb.exit_code, 0) << rb.out << rb.err;
    auto left = sender.read_outbox();
    ASSERT_TRUE(left);
    if (left->empty() && contains(rb.out, "inbound=0") &&
        b.inbox("ses-b").size() >= sent_ids.size()) {
      break;
    }
  }

  std::map<std::string, int> seen;
  for (const auto& m : b.inbox("ses-b")) ++seen[m.message_id.value_or("(none)")];
  for (const auto& id : sent_ids) {
    auto it = seen.find(id);
    ASSERT_NE(it, seen.end()) << "lost message " << id;
    EXPECT_EQ(it->second, 1) << "message " << id << " delivered " << it->second << " times";
  }
  EXPECT_EQ(seen.size(), sent_ids.size()) << "unexpected extra messages in bob's inbox";
  // Nothing was dead-lettered along the way.
  EXPECT_FALSE(std::filesystem::exists(a.broker_root() / "remote-outbox-dlq.jsonl"));
}

}  // namespace
}  // namespace c2c::test::connector
