// A relay cluster as users deploy it (docs/deploying.md): two `c2c relay serve --storage postgres`
// processes on one PostgreSQL database behind haproxy, two machines whose connectors stream
// through the balancer. One relay is killed with SIGKILL in the middle of thousands of direct
// messages and a thousand room messages: every acknowledged message arrives exactly once.
// Without haproxy or the PostgreSQL server the test is skipped loudly (scripts/install-deps.sh
// installs both).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>

#include "connector_util.hpp"
#include "relay_caller.hpp"
#include "support/pg_server.hpp"
#include "support/ports.hpp"

namespace c2c::test::connector {
namespace {

using namespace std::chrono_literals;
constexpr const char* kToken = "cluster-token";

// The configuration docs/deploying.md shows, on loopback ports.
std::string haproxy_config(uint16_t front, const std::string& relay1, const std::string& relay2) {
  std::string c;
  c += "global\n  maxconn 512\n";
  c += "defaults\n  mode http\n  timeout connect 2s\n  timeout client 150s\n";
  c += "  timeout server 150s\n  retries 3\n  option redispatch\n";
  c += "frontend c2c\n  bind 127.0.0.1:" + std::to_string(front) + "\n  default_backend relays\n";
  c += "backend relays\n  balance roundrobin\n  option httpchk GET /health\n";
  c += "  server relay1 127.0.0.1:" + port_of(relay1) + " check inter 300ms fall 1 rise 2\n";
  c += "  server relay2 127.0.0.1:" + port_of(relay2) + " check inter 300ms fall 1 rise 2\n";
  return c;
}

TEST(RelayCluster, TwoRelaysBehindHaproxyDeliverExactlyOnceWhenOneIsKilled) {
  const std::string haproxy =
      find_executable({"/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "/usr/bin/haproxy"});
  if (haproxy.empty()) {
    GTEST_SKIP() << "SKIPPED LOUDLY: haproxy is not installed (scripts/install-deps.sh installs "
                    "it); the cluster test did not run";
  }
  std::string why;
  PgServer* pg = shared_pg_server(&why);
  if (pg == nullptr) GTEST_SKIP() << pg_skip_message(why);
  const std::string db = pg->create_database();
  ASSERT_FALSE(db.empty());

  const uint16_t port = free_port();
  const std::string front = "http://127.0.0.1:" + std::to_string(port);
  ProcessOptions relay_env;
  relay_env.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_PERSIST_DIR", "C2C_RELAY_DB_URL"};
  const std::vector<std::string> relay_args = {"--token",      kToken, "--storage",    "postgres",
                                               "--db-url",     db,     "--rate-limit", "off",
                                               "--public-url", front};
  auto relay1 = start_relay(relay_args, relay_env);
  auto relay2 = start_relay(relay_args, relay_env);
  ASSERT_FALSE(relay1.url.empty());
  ASSERT_FALSE(relay2.url.empty());

  TempDir dir("c2c-haproxy");
  { std::ofstream(dir / "haproxy.cfg") << haproxy_config(port, relay1.url, relay2.url); }
  Child balancer({haproxy, "-db", "-f", (dir / "haproxy.cfg").string()});
  ASSERT_TRUE(eventually([&] { return can_connect(port); }, 10s)) << balancer.err();

  Machine a{"machine-a"};
  Machine b{"machine-b"};
  a.add_session("alice", "ses-a");
  b.add_session("bob", "ses-b");
  ASSERT_EQ(a.connect_once(front, kToken).exit_code, 0);
  ASSERT_EQ(b.connect_once(front, kToken).exit_code, 0);
  for (auto [m, alias] : {std::pair{&a, "alice"}, std::pair{&b, "bob"}}) {
    const auto r = m->c2c({"relay", "rooms", "join", "lounge", "--alias", alias, "--relay-url",
                           front, "--token", kToken});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  auto loop = [&](const Machine& m) {
    auto args = m.connect_args(front, kToken);
    args.insert(args.end(), {"--interval", "0.5", "--verbose"});
    return std::make_unique<Child>(m.argv(args), m.options());
  };
  auto cb = loop(b);
  ASSERT_TRUE(
      cb->wait_for_line([](const std::string& l) { return contains(l, "stream: open"); }, 20s))
      << cb->out() << cb->err();

  // Thousands of DMs queued on A (its connector forwards them through the balancer)...
  constexpr int kDirect = 3000;
  std::vector<std::string> sent;
  auto sender = a.broker();
  for (int i = 0; i < kDirect; ++i) {
    auto r = sender.send("alice", "bob@machine-b", "dm-" + std::to_string(i));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    sent.push_back(r->message_id);
  }
  auto ca = loop(a);  // starts forwarding the backlog now
  // ...and a thousand room messages sent straight through the balancer while a relay dies, by a
  // client that retries each one with its own message id until a relay acknowledges it (the
  // relays deduplicate by sender and id), for at most two minutes.
  constexpr int kRoom = 1000;
  std::atomic<int> room_acked{0};
  std::atomic<bool> stop_rooms{false};
  size_t room_retries = 0;
  std::mutex refusal_mu;
  std::string room_refusal;  // the last answer that was not an acknowledgement
  auto last_refusal = [&] {
    const std::lock_guard lock(refusal_mu);
    return room_refusal;
  };
  std::thread rooms([&] {
    net::ClientOptions o;
    o.connect_timeout = 2s;
    o.request_timeout = 10s;
    itest::Caller http(front, o);
    const std::vector<net::Header> auth = {{"Authorization", std::string("Bearer ") + kToken}};
    // carol is an HTTP client of her own, without a machine key (dev mode), in bob's room.
    const bool joined =
        http.post(
                "/register",
                {{"node_id", "direct"}, {"session_id", "ses-c"}, {"alias", "carol"}, {"ttl", 3600}},
                auth)
            .ok() &&
        http.post("/join_room", {{"alias", "carol"}, {"room_id", "lounge"}}, auth).ok();
    if (!joined) return;
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    for (int i = 0; i < kRoom && std::chrono::steady_clock::now() < give_up; ++i) {
      const std::string id = "room-" + std::to_string(i);
      for (;;) {
        const auto answer = http.post(
            "/send_room",
            {{"from_alias", "carol"}, {"room_id", "lounge"}, {"content", id}, {"message_id", id}},
            auth);
        if (answer.ok()) break;
        {
          const std::lock_guard lock(refusal_mu);
          room_refusal = std::to_string(answer.status) + " " + answer.raw;
        }
        if (stop_rooms || std::chrono::steady_clock::now() >= give_up) return;
        ++room_retries;
        std::this_thread::sleep_for(20ms);  // a client's backoff while the balancer re-routes
      }
      room_acked = i + 1;
    }
  });
  auto arrived = [&] {
    std::map<std::string, int> n;
    for (const auto& m : b.inbox("ses-b")) {
      if (m.message_id) ++n[*m.message_id];
    }
    return n;
  };
  // The room thread ends on every path out of this test (an ASSERT returns early).
  struct Join {
    std::thread& t;
    std::atomic<bool>& stop;
    ~Join() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_rooms{rooms, stop_rooms};
  ASSERT_TRUE(eventually([&] { return arrived().size() >= 300 && room_acked >= 100; }, 60s))
      << arrived().size() << " DMs arrived, " << room_acked << " room messages acknowledged"
      << " (last refusal: " << last_refusal() << ")";
  relay1.child->signal(SIGKILL);
  EXPECT_EQ(relay1.child->wait(10s), 128 + SIGKILL);
  rooms.join();
  EXPECT_EQ(room_acked.load(), kRoom)
      << "room messages acknowledged within two minutes; last refusal: " << last_refusal();

  // Everything A's connector forwarded, and every acknowledged room message, reaches bob once.
  // (Room messages have ids of their own: count the direct ones only.)
  auto direct_arrived = [&] {
    const auto n = arrived();
    size_t present = 0;
    for (const auto& id : sent) present += n.count(id);
    return present;
  };
  ASSERT_TRUE(eventually([&] { return direct_arrived() == sent.size(); }, 120s))
      << direct_arrived() << " of " << sent.size() << "\n"
      << ca->out() << cb->out();
  // How many of `expected` never arrived, and how many extra copies arrived, by `counts`.
  auto tally = [](const std::vector<std::string>& expected,
                  const std::map<std::string, int>& counts) {
    std::pair<size_t, size_t> lost_duplicated{0, 0};
    for (const auto& key : expected) {
      auto it = counts.find(key);
      if (it == counts.end()) {
        ++lost_duplicated.first;
      } else if (it->second > 1) {
        lost_duplicated.second += static_cast<size_t>(it->second - 1);
      }
    }
    return lost_duplicated;
  };
  const auto [lost, duplicated] = tally(sent, arrived());
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);
  // Every acknowledged room message reaches bob once.
  auto room_copies = [&] {
    std::map<std::string, int> c;
    for (const auto& m : b.inbox("ses-b")) {
      if (m.content.rfind("room-", 0) == 0) ++c[m.content];
    }
    return c;
  };
  const int acked_rooms = room_acked.load();
  EXPECT_GT(acked_rooms, 0);
  ASSERT_TRUE(
      eventually([&] { return room_copies().size() >= static_cast<size_t>(acked_rooms); }, 60s))
      << room_copies().size() << " of " << acked_rooms << " room messages arrived";
  std::vector<std::string> acked_room_texts;
  for (int i = 0; i < acked_rooms; ++i) acked_room_texts.push_back("room-" + std::to_string(i));
  const auto [room_lost, room_duplicated] = tally(acked_room_texts, room_copies());
  EXPECT_EQ(room_lost, 0u);
  EXPECT_EQ(room_duplicated, 0u);
  std::printf(
      "cluster: %d DMs and %d room messages, relay1 killed; DMs lost %zu, duplicated %zu;"
      " room copies lost %zu, duplicated %zu; room sends retried %zu times\n",
      kDirect, acked_rooms, lost, duplicated, room_lost, room_duplicated, room_retries);

  balancer.signal(SIGTERM);
  balancer.wait(10s);
}

}  // namespace
}  // namespace c2c::test::connector
