// SQLite relay killed with SIGKILL in the middle of concurrent load, then restarted on the same
// database: every message acknowledged (ok:true) before the kill is delivered exactly once, none
// is duplicated, and a client that retries its unacknowledged sends with the same message ids
// ends with every message delivered exactly once (the dedup window is persisted).

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "relay_caller.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::itest {
namespace {

constexpr int kRounds = 3;
constexpr int kSenders = 4;
constexpr int kRecipients = 4;
constexpr int kMaxPerSender = 3000;     // bound on count ...
constexpr double kMaxLoadSeconds = 20;  // ... and on time

test::ProcessOptions relay_env() {
  test::ProcessOptions o;
  o.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_PERSIST_DIR", "C2C_REQUIRE_SIGNED_ROOM_OPS"};
  return o;
}

std::vector<std::string> sqlite_args(const test::TempDir& dir) {
  return {"--storage", "sqlite", "--db-path", (dir / "relay.db").string(), "--rate-limit", "off"};
}

std::string recipient(int i) {
  return "r" + std::to_string(i);
}
Json session_of(int i) {
  return {{"node_id", "node-" + recipient(i)}, {"session_id", "s-" + recipient(i)}};
}

struct Ledger {
  std::mutex mu;
  std::set<std::string> acked;       // ok:true seen by the client
  std::set<std::string> unanswered;  // sent, but no answer (in flight at the kill)
  std::map<std::string, int> to;     // message id -> recipient index (-1 - r: room message from r)
  std::map<std::string, std::string> from;  // message id -> sender (dedup is per sender)
  std::condition_variable progress;         // signalled on every acknowledgement
};

// Drains every recipient inbox; returns message id -> times delivered.
std::map<std::string, int> drain_all(Caller& http, std::map<std::string, int>* by_room = nullptr) {
  std::map<std::string, int> seen;
  for (int r = 0; r < kRecipients; ++r) {
    // The relay answers one page at a time ("more": true while some remain).
    for (bool more = true; more;) {
      auto a = http.post("/poll_inbox", session_of(r));
      EXPECT_TRUE(a.ok()) << a.raw;
      more = a.ok() && a.body.value("more", false);
      for (const auto& m : a.body["messages"]) {
        const std::string id = m.value("message_id", "");
        if (m.value("from_alias", "") == "c2c-system") continue;  // join notices
        if (!m.value("room_id", "").empty() && by_room) ++(*by_room)[id + "/" + recipient(r)];
        ++seen[id];
      }
    }
  }
  return seen;
}

TEST(RelaySqliteKill, AcknowledgedMessagesAreDeliveredExactlyOnceAfterSigkillUnderLoad) {
  test::TempDir dir;
  Ledger ledger;
  size_t room_acked = 0;
  // Three rounds of load, each ended by SIGKILL; the inboxes are only drained at the end, so
  // every restart also has to bring back what earlier rounds left queued.
  for (int round = 0; round < kRounds; ++round) {
    auto relay = test::start_relay(sqlite_args(dir), relay_env());
    if (round == 0) {
      Caller setup(relay.url);
      for (int r = 0; r < kRecipients; ++r) {
        Json body = session_of(r);
        body["alias"] = recipient(r);
        body["ttl"] = 3600;
        ASSERT_TRUE(setup.post("/register", body).ok());
        ASSERT_TRUE(
            setup.post("/join_room", {{"alias", recipient(r)}, {"room_id", "lounge"}}).ok());
      }
    }

    std::atomic<bool> stop{false};
    std::atomic<size_t> round_acked{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < kSenders; ++t) {
      senders.emplace_back([&, t] {
        net::ClientOptions o;
        o.request_timeout = std::chrono::seconds(5);
        Caller http(relay.url, o);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kMaxPerSender && seconds_since(start) < kMaxLoadSeconds; ++i) {
          const int r = (t + i) % kRecipients;
          const std::string id =
              "k" + std::to_string(round) + "-t" + std::to_string(t) + "-" + std::to_string(i);
          // Every 10th message goes to the room (fan-out to the three other members).
          const bool room = i % 10 == 9;
          Answer a = room ? http.post("/send_room", {{"from_alias", recipient(r)},
                                                     {"room_id", "lounge"},
                                                     {"content", "room " + id},
                                                     {"message_id", id}})
                          : http.post("/send", {{"from_alias", "sender" + std::to_string(t)},
                                                {"to_alias", recipient(r)},
                                                {"content", "dm " + id},
                                                {"message_id", id}});
          std::lock_guard lock(ledger.mu);
          ledger.to[id] = room ? -1 - r : r;
          ledger.from[id] = room ? recipient(r) : "sender" + std::to_string(t);
          if (a.ok()) {
            ledger.acked.insert(id);
            if (room) ++room_acked;
            ++round_acked;
            ledger.progress.notify_all();
          } else {
            ledger.unanswered.insert(id);
            // A refused connection means the relay is gone: stop this sender.
            if (!a.transport_ok || stop) break;
            ADD_FAILURE() << "relay refused a send before the kill: " << a.status << " " << a.raw;
            break;
          }
        }
      });
    }
    // Kill once a good amount of load is acknowledged and still flowing.
    {
      std::unique_lock lock(ledger.mu);
      ledger.progress.wait_for(lock, std::chrono::duration<double>(kMaxLoadSeconds),
                               [&] { return round_acked >= 300; });
      stop = true;
    }
    relay.child->signal(SIGKILL);
    EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 128 + SIGKILL);
    for (auto& s : senders) s.join();
  }
  ASSERT_GE(ledger.acked.size(), 300u) << "the load never got going";

  auto relay = test::start_relay(sqlite_args(dir), relay_env());
  Caller http(relay.url);
  std::map<std::string, int> room_copies;
  auto delivered = drain_all(http, &room_copies);

  // 1. Nothing acknowledged was lost, nothing was duplicated, nothing unknown appeared.
  size_t lost = 0, duplicated = 0;
  for (const auto& id : ledger.acked) {
    const bool room = ledger.to[id] < 0;
    const int want = room ? kRecipients - 1 : 1;  // a room message reaches the other members
    if (delivered[id] < want) ++lost;
    if (delivered[id] > want) ++duplicated;
  }
  for (const auto& [copy, n] : room_copies) {
    if (n != 1) ++duplicated;
  }
  for (const auto& [id, n] : delivered) {
    EXPECT_TRUE(ledger.acked.count(id) || ledger.unanswered.count(id)) << "unknown id " << id;
  }
  // A fan-out is one store append: an unanswered room message reached all members or none.
  for (const auto& id : ledger.unanswered) {
    if (ledger.to[id] < 0) {
      EXPECT_TRUE(delivered[id] == 0 || delivered[id] == kRecipients - 1)
          << id << " reached " << delivered[id] << " members";
    }
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);

  // 2. The client retries every send it got no answer for, with the same id: each DM ends up
  //    delivered exactly once and each room message once per member (the persisted dedup
  //    window, which covers /send_room with a client id, catches the ones that had landed).
  size_t retried = 0;
  for (const auto& id : ledger.unanswered) {
    const int r = ledger.to[id];
    ++retried;
    auto a = r < 0 ? http.post("/send_room", {{"from_alias", recipient(-1 - r)},
                                              {"room_id", "lounge"},
                                              {"content", "room " + id},
                                              {"message_id", id}})
                   : http.post("/send", {{"from_alias", ledger.from[id]},
                                         {"to_alias", recipient(r)},
                                         {"content", "dm " + id},
                                         {"message_id", id}});
    EXPECT_TRUE(a.ok()) << a.raw;
  }
  auto second = drain_all(http);
  for (const auto& id : ledger.unanswered) {
    const int want = ledger.to[id] < 0 ? kRecipients - 1 : 1;
    EXPECT_EQ(delivered[id] + second[id], want) << id << " after retry";
  }
  for (const auto& [id, n] : second) {
    EXPECT_TRUE(ledger.unanswered.count(id)) << id << " delivered again after a retry";
  }
  std::printf(
      "sqlite kill: %d SIGKILLs under load, %zu acknowledged (%zu room), %zu unanswered (%zu "
      "retried), lost %zu, duplicated %zu\n",
      kRounds, ledger.acked.size(), room_acked, ledger.unanswered.size(), retried, lost,
      duplicated);
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace c2c::itest
