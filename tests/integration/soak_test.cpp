// Soak: a mixed workload against a SQLite relay, two local brokers and their connectors, with the
// relay and the connectors restarted (SIGTERM or SIGKILL) during the run. At the end every
// acknowledged message is accounted for exactly once, and the relay's open file descriptors are
// back to their idle level (RSS is sampled and printed).
//
// Workload, per direction and per client:
//  - broker agents (a1,a2 on machine-a; b1,b2 on machine-b) send alias@node messages through
//    their local broker: acknowledged = Broker::send returned OK (the line is in the outbox);
//    the connectors register, heartbeat, forward and pull them;
//  - direct HTTP clients (h1..h3) register, heartbeat, send (with stable message ids, retried
//    after a failure), send_room to a room they all joined, and pull their inboxes with
//    acknowledged pulls (peek, then remove what was seen).
// Duration: $C2C_SOAK_SECONDS (default 15) of load; scripts/soak.sh runs it for minutes.
// $C2C_SOAK_RELAY_RESTARTS=0 keeps one relay process for the whole run (connectors are still
// restarted): then its RSS and fd count must stay flat over the second half of the run.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "relay_caller.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace c2c::itest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double soak_seconds() {
  const char* v = std::getenv("C2C_SOAK_SECONDS");
  return v && *v ? std::max(5.0, std::atof(v)) : 15.0;
}

bool relay_restarts_enabled() {
  const char* v = std::getenv("C2C_SOAK_RELAY_RESTARTS");
  return !(v && std::string(v) == "0");
}

test::ProcessOptions child_env(const test::TempDir& dir) {
  test::ProcessOptions o;
  o.unset_env = {"C2C_RELAY_TOKEN",     "C2C_RELAY_PERSIST_DIR",       "C2C_RELAY_URL",
                 "C2C_RELAY_CONFIG",    "C2C_RELAY_NODE_ID",           "C2C_RELAY_IDENTITY_PATH",
                 "C2C_MCP_BROKER_ROOT", "C2C_REQUIRE_SIGNED_ROOM_OPS", "XDG_CONFIG_HOME",
                 "XDG_STATE_HOME"};
  o.env["HOME"] = (dir / "home").string();
  return o;
}

struct Relay {
  const test::TempDir& dir;
  std::string url;
  std::string port;
  std::unique_ptr<test::Child> child;
  int restarts = 0;

  void start() {
    std::vector<std::string> args = {"--storage", "sqlite", "--db-path",
                                     (dir / "relay.db").string()};
    if (!port.empty()) {
      // Same port on every restart: the connectors keep their URL.
      args.insert(args.begin(), {"--listen", "127.0.0.1:" + port});
      std::vector<std::string> argv = {test::c2c_bin(), "relay", "serve"};
      argv.insert(argv.end(), args.begin(), args.end());
      child = std::make_unique<test::Child>(argv, child_env(dir));
      auto line = child->wait_for_line(
          [](const std::string& l) { return l.rfind("c2c relay serving on ", 0) == 0; },
          std::chrono::seconds(30));
      if (!line) throw std::runtime_error("relay restart failed: " + child->err());
      return;
    }
    auto rp = test::start_relay(args, child_env(dir));
    child = std::move(rp.child);
    url = rp.url;
    port = url.substr(url.rfind(':') + 1);
  }
  void restart(bool kill) {
    child->signal(kill ? SIGKILL : SIGTERM);
    child->wait(std::chrono::seconds(30));
    ++restarts;
    start();
  }
};

struct Connector {
  std::string node;
  fs::path root;
  std::unique_ptr<test::Child> child;
  int restarts = 0;

  std::vector<std::string> argv(const std::string& url, bool once) const {
    std::vector<std::string> a = {test::c2c_bin(), "relay", "connect",       "--relay-url", url,
                                  "--node-id",     node,    "--broker-root", root.string()};
    if (once) {
      a.push_back("--once");
    } else {
      a.insert(a.end(), {"--interval", "0.3"});
    }
    return a;
  }
  void start(const std::string& url, const test::TempDir& dir) {
    child = std::make_unique<test::Child>(argv(url, false), child_env(dir));
  }
  void stop(bool kill) {
    if (!child) return;
    child->signal(kill ? SIGKILL : SIGTERM);
    child->wait(std::chrono::seconds(30));
    child.reset();
  }
};

struct Tally {
  std::mutex mu;
  std::map<std::string, std::string> broker_acked;  // content -> "<node>:<alias>" expected at
  std::set<std::string> dm_acked;                   // direct DMs acknowledged
  std::set<std::string> dm_pending;                 // direct DMs not acknowledged yet (retried)
  std::set<std::string> room_acked, room_unanswered;
  std::map<std::string, int> dm_seen;    // message id -> deliveries seen by polls
  std::map<std::string, int> room_seen;  // "<id>/<member>" -> deliveries
  std::set<std::string> removed;  // ids (DMs) and "<id>/<member>" the relay confirmed removed
  size_t broker_failures = 0, http_failures = 0, heartbeats = 0, registers = 0;
};

const std::vector<std::string> kDirect = {"h1", "h2", "h3"};

TEST(Soak, MixedWorkloadWithRestartsAccountsForEveryMessage) {
  const double seconds = soak_seconds();
  test::TempDir dir;
  fs::create_directories(dir / "home");
  Relay relay{dir};
  relay.start();
  const long base_sockets = count_sockets(relay.child->pid());

  Connector ca{"machine-a", dir / "broker-a"}, cb{"machine-b", dir / "broker-b"};
  broker::Broker ba(ca.root), bb(cb.root);
  for (auto [b, alias] : {std::pair{&ba, "a1"}, {&ba, "a2"}, {&bb, "b1"}, {&bb, "b2"}}) {
    broker::RegisterRequest req;
    req.session_id = std::string("s-") + alias;
    req.alias = alias;
    req.pid = ::getpid();
    ASSERT_TRUE(b->register_session(req)) << alias;
  }
  ca.start(relay.url, dir);
  cb.start(relay.url, dir);
  // Load starts once both machines' sessions are on the relay (alias@machine needs the node).
  for (Connector* c : {&ca, &cb}) {
    ASSERT_TRUE(c->child->wait_for_line(
        [](const std::string& l) { return l.find("registered=2") != std::string::npos; },
        std::chrono::seconds(30)))
        << c->node << ": " << c->child->out() << c->child->err();
  }

  Tally tally;
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  // Broker agents: alternate recipients on the other machine.
  for (int side = 0; side < 2; ++side) {
    load.emplace_back([&, side] {
      broker::Broker& b = side == 0 ? ba : bb;
      const char* me[2] = {side == 0 ? "a1" : "b1", side == 0 ? "a2" : "b2"};
      const char* peer[2] = {side == 0 ? "b1" : "a1", side == 0 ? "b2" : "a2"};
      const std::string peer_node = side == 0 ? "machine-b" : "machine-a";
      for (int i = 0; !stop && i < 100'000; ++i) {
        const std::string content =
            std::string(me[i % 2]) + ">" + peer[(i / 2) % 2] + "#" + std::to_string(i);
        auto r = b.send(me[i % 2], std::string(peer[(i / 2) % 2]) + "@" + peer_node, content);
        {
          std::lock_guard lock(tally.mu);
          if (r) {
            tally.broker_acked[content] = peer_node + ":" + peer[(i / 2) % 2];
          } else {
            ++tally.broker_failures;
          }
        }
        // ~100 messages/s per side: a steady stream, not a benchmark.
        if (i % 4 == 3) std::this_thread::sleep_for(std::chrono::milliseconds(40));
      }
    });
  }
  // Direct HTTP clients.
  load.emplace_back([&] {
    net::ClientOptions o;
    o.connect_timeout = std::chrono::seconds(2);
    o.request_timeout = std::chrono::seconds(5);
    Caller http(relay.url, o);
    auto sess = [](const std::string& a) {
      return Json{{"node_id", "direct"}, {"session_id", "s-" + a}};
    };
    auto setup = [&] {
      for (const auto& a : kDirect) {
        Json r = sess(a);
        r["alias"] = a;
        r["ttl"] = 3600;
        if (!http.post("/register", r).ok()) return false;
        if (!http.post("/join_room", {{"alias", a}, {"room_id", "soak"}}).ok()) return false;
      }
      std::lock_guard lock(tally.mu);
      ++tally.registers;
      return true;
    };
    // Acknowledged pulls (docs/relay-server.md, "Extension: acknowledged pulls"): peek, count,
    // then remove exactly what was seen. A plain draining `/poll_inbox` loses its page when the
    // answer does not arrive (the relay killed after its commit, a client timeout), which would
    // be the client's loss, not the relay's. A copy counts twice only when it shows up again
    // after the relay confirmed its removal, or twice in one page.
    auto poll_all = [&] {
      for (const auto& a : kDirect) {
        auto p = http.post("/peek_inbox", sess(a));
        if (!p.ok()) return;
        Json ids = Json::array();
        {
          std::lock_guard lock(tally.mu);
          std::set<std::string> in_page;
          for (const auto& m : p.body["messages"]) {
            const std::string id = m.value("message_id", "");
            ids.push_back(id);
            if (m.value("from_alias", "") == "c2c-system") continue;
            const std::string key = m.value("room_id", "").empty() ? id : id + "/" + a;
            auto& seen = m.value("room_id", "").empty() ? tally.dm_seen : tally.room_seen;
            if (!in_page.insert(key).second || tally.removed.count(key) || seen[key] == 0) {
              ++seen[key];
            }
          }
        }
        if (ids.empty()) continue;
        Json ack = sess(a);
        ack["message_ids"] = ids;
        auto r = http.post("/poll_inbox", ack);
        if (!r.ok()) return;
        std::lock_guard lock(tally.mu);
        for (const auto& m : r.body["messages"]) {
          const std::string id = m.value("message_id", "");
          tally.removed.insert(m.value("room_id", "").empty() ? id : id + "/" + a);
        }
      }
    };
    // Resends every pending DM with its own id (a client that never gives up). With
    // `stop_at_failure`, the first failure ends the pass (the relay is restarting). Returns
    // whether anything was pending.
    auto retry_pending = [&](bool stop_at_failure) {
      std::vector<std::string> pending;
      {
        std::lock_guard lock(tally.mu);
        pending.assign(tally.dm_pending.begin(), tally.dm_pending.end());
      }
      for (const auto& pid : pending) {
        const int n = std::stoi(pid.substr(3));
        auto a = http.post("/send", {{"from_alias", kDirect[n % 3]},
                                     {"to_alias", kDirect[(n + 1) % 3]},
                                     {"content", pid},
                                     {"message_id", pid}});
        std::lock_guard lock(tally.mu);
        if (a.ok()) {
          tally.dm_pending.erase(pid);
          tally.dm_acked.insert(pid);
        } else if (stop_at_failure) {
          ++tally.http_failures;
          break;
        }
      }
      return !pending.empty();
    };
    while (!stop && !setup()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; !stop && i < 100'000; ++i) {
      const std::string& from = kDirect[i % 3];
      if (i % 5 == 4) {
        const std::string id = "room-" + std::to_string(i);
        auto a = http.post(
            "/send_room",
            {{"from_alias", from}, {"room_id", "soak"}, {"content", id}, {"message_id", id}});
        std::lock_guard lock(tally.mu);
        (a.ok() ? tally.room_acked : tally.room_unanswered).insert(id);
      } else {
        const std::string id = "dm-" + std::to_string(i);
        {
          std::lock_guard lock(tally.mu);
          tally.dm_pending.insert(id);
        }
        retry_pending(/*stop_at_failure=*/true);
      }
      if (i % 10 == 0) {
        for (const auto& a : kDirect) {
          auto h = http.post("/heartbeat", sess(a));
          std::lock_guard lock(tally.mu);
          if (h.ok()) ++tally.heartbeats;
        }
        poll_all();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Drain: keep retrying the pending DMs, then poll until nothing more arrives.
    const auto until = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < until && retry_pending(/*stop_at_failure=*/false)) {
    }
    poll_all();
    poll_all();
  });

  // Chaos: restart the relay (alternating SIGTERM / SIGKILL) and the connectors.
  std::vector<long> fds, rss;
  const bool restart_relay = relay_restarts_enabled();
  const auto start = Clock::now();
  int tick = 0;
  while (seconds_since(start) < seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // the chaos schedule's pace
    ++tick;
    fds.push_back(count_fds(relay.child->pid()));
    rss.push_back(rss_kib(relay.child->pid()));
    if (restart_relay && tick % 5 == 0) relay.restart(/*kill=*/tick % 10 == 0);
    if (tick % 4 == 0) {
      Connector& c = tick % 8 == 0 ? ca : cb;
      c.stop(/*kill=*/true);
      ++c.restarts;
      c.start(relay.url, dir);
    }
  }
  stop = true;
  for (auto& t : load) t.join();

  // Quiesce: stop the loop connectors, then run single rounds until both outboxes are empty and
  // a round pulls nothing.
  ca.stop(false);
  cb.stop(false);
  const auto quiesce = Clock::now();
  int quiet_rounds = 0;
  while (quiet_rounds < 2 && seconds_since(quiesce) < 180) {
    bool quiet = true;
    for (Connector* c : {&ca, &cb}) {
      auto r = test::run(c->argv(relay.url, true), child_env(dir));
      EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
      if (r.out.find(" fwd=0 ") == std::string::npos ||
          r.out.find("inbound=0") == std::string::npos)
        quiet = false;
    }
    auto oa = ba.read_outbox(), ob = bb.read_outbox();
    if (!oa || !ob || !oa->empty() || !ob->empty()) quiet = false;
    quiet_rounds = quiet ? quiet_rounds + 1 : 0;
  }
  EXPECT_EQ(quiet_rounds, 2) << "the connectors did not settle";

  // Accounting: broker messages.
  std::map<std::string, int> arrived;
  for (auto [b, sid] : {std::pair{&ba, "s-a1"}, {&ba, "s-a2"}, {&bb, "s-b1"}, {&bb, "s-b2"}}) {
    auto in = b->peek(sid);
    ASSERT_TRUE(in) << in.error().message;
    for (const auto& m : *in) ++arrived[m.content];
  }
  size_t lost = 0, duplicated = 0;
  for (const auto& [content, where] : tally.broker_acked) {
    const int n = arrived[content];
    lost += n == 0;
    duplicated += n > 1;
    if (n != 1) ADD_FAILURE() << content << " -> " << where << " arrived " << n << " times";
  }
  // Direct clients.
  size_t dm_lost = 0, dm_dup = 0, room_lost = 0, room_dup = 0;
  for (const auto& id : tally.dm_acked) {
    const int n = tally.dm_seen[id];
    dm_lost += n == 0;
    dm_dup += n > 1;
  }
  for (const auto& [id, n] : tally.dm_seen) {
    EXPECT_TRUE(tally.dm_acked.count(id)) << "unacknowledged DM delivered: " << id;
  }
  for (const auto& id : tally.room_acked) {
    const int n = std::stoi(id.substr(5));
    for (int m = 0; m < 3; ++m) {
      if (m == n % 3) continue;  // the sender gets no copy
      const int got = tally.room_seen[id + "/" + kDirect[m]];
      room_lost += got == 0;
      room_dup += got > 1;
    }
  }
  if (lost > 0) {
    for (const auto& root : {ca.root, cb.root}) {
      std::printf("%s dead letters:\n%s\n", root.c_str(),
                  test::read_file(root / "remote-outbox-dlq.jsonl").substr(0, 2000).c_str());
    }
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);
  EXPECT_EQ(dm_lost, 0u);
  EXPECT_EQ(dm_dup, 0u);
  EXPECT_EQ(room_lost, 0u);
  EXPECT_EQ(room_dup, 0u);
  EXPECT_TRUE(tally.dm_pending.empty()) << tally.dm_pending.size() << " DMs never acknowledged";
  EXPECT_GT(tally.broker_acked.size(), 50u);
  EXPECT_GT(tally.dm_acked.size(), 50u);

  // Every client is gone: the relay's sockets come back to the listening ones (it closes a
  // connection when it sees the peer's FIN, so allow it a moment). Files such as the SQLite WAL
  // are opened lazily and are not leaks, hence sockets rather than all fds.
  const auto idle_wait = Clock::now();
  long idle_sockets = count_sockets(relay.child->pid());
  while (idle_sockets > base_sockets && seconds_since(idle_wait) < 5) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    idle_sockets = count_sockets(relay.child->pid());
  }
  EXPECT_LE(idle_sockets, base_sockets) << "the relay holds connections nobody uses:\n"
                                        << describe_sockets(relay.child->pid());
  const long idle_fds = count_fds(relay.child->pid());
  const long rss_end = rss_kib(relay.child->pid());
  long max_fds = 0, max_rss = 0;
  for (long f : fds) max_fds = std::max(max_fds, f);
  for (long r : rss) max_rss = std::max(max_rss, r);
  if (!restart_relay && rss.size() >= 60) {
    // One relay process under a steady load for a minute or more: after warm-up (dedup window
    // full, connection pools and SQLite caches sized) memory and fds must not keep growing.
    // Room history does grow by design (~250 bytes per room message), hence the allowance.
    const size_t half = rss.size() / 2;
    long rss_half_max = 0, fds_half_max = 0, fds_second_max = 0;
    for (size_t i = 0; i < half; ++i) {
      rss_half_max = std::max(rss_half_max, rss[i]);
      fds_half_max = std::max(fds_half_max, fds[i]);
    }
    for (size_t i = half; i < fds.size(); ++i) fds_second_max = std::max(fds_second_max, fds[i]);
    const long history_allowance_kib =
        static_cast<long>(tally.room_acked.size() * 250 / 1024) + 8 * 1024;
    std::printf(
        "steady relay: RSS at 25%% %ld KiB, 50%% %ld, 75%% %ld, end %ld; fds max first "
        "half %ld, second half %ld\n",
        rss[rss.size() / 4], rss[half], rss[3 * rss.size() / 4], rss.back(), fds_half_max,
        fds_second_max);
    EXPECT_LE(rss.back() - rss_half_max, history_allowance_kib)
        << "relay RSS kept growing in the second half";
    EXPECT_LE(fds_second_max, fds_half_max + 4) << "relay fds kept growing in the second half";
  }
  std::printf(
      "soak %.0fs: relay restarts %d, connector restarts %d+%d; broker messages acked %zu "
      "(lost %zu, duplicated %zu); direct DMs acked %zu (lost %zu, dup %zu, %zu send "
      "failures retried); room messages acked %zu (copies lost %zu, dup %zu), unanswered "
      "%zu; heartbeats %zu; relay fds max %ld, idle %ld (sockets idle %ld, at start %ld); RSS max "
      "%ld KiB, end "
      "%ld KiB\n",
      seconds, relay.restarts, ca.restarts, cb.restarts, tally.broker_acked.size(), lost,
      duplicated, tally.dm_acked.size(), dm_lost, dm_dup, tally.http_failures,
      tally.room_acked.size(), room_lost, room_dup, tally.room_unanswered.size(), tally.heartbeats,
      max_fds, idle_fds, idle_sockets, base_sockets, max_rss, rss_end);
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace c2c::itest
