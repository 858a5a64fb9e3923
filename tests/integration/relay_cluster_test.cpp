// A relay cluster as users deploy it (docs/deploying.md): two `c2c relay serve --storage postgres`
// processes on one PostgreSQL database behind haproxy, two machines whose connectors stream
// through the balancer. One relay is killed with SIGKILL in the middle of a thousand direct
// messages and a run of room messages: every acknowledged message arrives exactly once.
// Without haproxy or the PostgreSQL server the test is skipped loudly (scripts/install-deps.sh
// installs both).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>

#include "connector_util.hpp"
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
  constexpr int kDirect = 1000;
  std::vector<std::string> sent;
  auto sender = a.broker();
  for (int i = 0; i < kDirect; ++i) {
    auto r = sender.send("alice", "bob@machine-b", "dm-" + std::to_string(i));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    sent.push_back(r->message_id);
  }
  auto ca = loop(a);  // starts forwarding the backlog now
  // ...and room messages sent straight to the relays while one of them dies.
  std::vector<std::string> acked_rooms;
  std::thread rooms([&] {
    for (int i = 0; i < 10; ++i) {
      const std::string text = "room-" + std::to_string(i);
      const auto r = a.c2c({"relay", "rooms", "send", "lounge", text, "--alias", "alice",
                            "--relay-url", front, "--token", kToken});
      if (r.exit_code == 0) acked_rooms.push_back(text);
    }
  });
  auto arrived = [&] {
    std::map<std::string, int> n;
    for (const auto& m : b.inbox("ses-b")) {
      if (m.message_id) ++n[*m.message_id];
    }
    return n;
  };
  ASSERT_TRUE(eventually([&] { return arrived().size() >= 100; }, 60s)) << cb->out();
  relay1.child->signal(SIGKILL);
  EXPECT_EQ(relay1.child->wait(10s), 128 + SIGKILL);
  rooms.join();

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
  const auto n = arrived();
  size_t lost = 0, duplicated = 0;
  for (const auto& id : sent) {
    auto it = n.find(id);
    if (it == n.end()) {
      ++lost;
    } else if (it->second > 1) {
      duplicated += static_cast<size_t>(it->second - 1);
    }
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);
  auto room_copies = [&](const std::string& text) {
    int c = 0;
    for (const auto& m : b.inbox("ses-b")) c += m.content == text ? 1 : 0;
    return c;
  };
  EXPECT_GT(acked_rooms.size(), 0u);
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& t : acked_rooms) {
          if (room_copies(t) < 1) return false;
        }
        return true;
      },
      30s));
  for (const auto& t : acked_rooms) EXPECT_EQ(room_copies(t), 1) << t;

  balancer.signal(SIGTERM);
  balancer.wait(10s);
}

}  // namespace
}  // namespace c2c::test::connector
