// Loop-mode connectors (--interval 1) survive a relay restart without being restarted: with
// SQLite the relay keeps leases and queued mail; with memory storage it forgets every session
// and the connectors register again (docs/decisions.md D9).
#include <gtest/gtest.h>
#include <signal.h>

#include "connector_util.hpp"

namespace c2c::test::connector {
namespace {

using namespace std::chrono_literals;

size_t count_content(const std::vector<broker::Message>& msgs, const std::string& content) {
  size_t n = 0;
  for (const auto& m : msgs) n += m.content == content ? 1 : 0;
  return n;
}

class RelayRestart : public ::testing::TestWithParam<const char*> {
 protected:
  TempDir relay_dir{"c2c-relay-restart"};
  Machine a{"machine-a"};
  Machine b{"machine-b"};
  const std::string token = "restart-token";

  std::vector<std::string> relay_args(const std::string& listen) const {
    std::vector<std::string> args = {"relay", "serve", "--listen", listen, "--token", token};
    if (std::string(GetParam()) == "sqlite") {
      args.insert(args.end(),
                  {"--storage", "sqlite", "--db-path", (relay_dir / "relay.db").string()});
    }
    return args;
  }
  std::unique_ptr<Child> serve(const std::string& listen, std::string* url) const {
    std::vector<std::string> argv = {c2c_bin()};
    const auto args = relay_args(listen);
    argv.insert(argv.end(), args.begin(), args.end());
    auto child = std::make_unique<Child>(argv);
    const auto line = child->wait_for_line(
        [](const std::string& l) { return l.rfind("c2c relay serving on ", 0) == 0; }, 20s);
    if (!line) return nullptr;
    *url = line->substr(std::string("c2c relay serving on ").size());
    return child;
  }
};

TEST_P(RelayRestart, LoopConnectorsRecoverWithoutRestarting) {
  std::string url;
  auto relay = serve("127.0.0.1:0", &url);
  ASSERT_NE(relay, nullptr);
  a.add_session("alice", "ses-a");
  b.add_session("bob", "ses-b");
  auto conn_a = a.connect_loop(url, token, "1");
  auto conn_b = b.connect_loop(url, token, "1");
  for (auto* c : {conn_a.get(), conn_b.get()}) {
    ASSERT_TRUE(
        c->wait_for_line([](const std::string& l) { return contains(l, "registered=1"); }, 20s))
        << c->out() << c->err();
  }

  ASSERT_EQ(a.c2c({"send", "bob@machine-b", "before restart", "--from", "alice"}).exit_code, 0);
  ASSERT_TRUE(
      eventually([&] { return count_content(b.inbox("ses-b"), "before restart") == 1; }, 20s));

  // Stop the relay; mail sent meanwhile waits in A's outbox.
  relay->signal(SIGTERM);
  ASSERT_GE(relay->wait(20s), 0);
  relay.reset();
  ASSERT_EQ(a.c2c({"send", "bob@machine-b", "during outage", "--from", "alice"}).exit_code, 0);
  ASSERT_TRUE(conn_a->wait_for_line(
      [](const std::string& l) { return contains(l, "sync:") && contains(l, "connection"); }, 20s))
      << conn_a->out();

  // Same port again (the connectors know only this URL).
  std::string url2;
  relay = serve("127.0.0.1:" + port_of(url), &url2);
  ASSERT_NE(relay, nullptr) << "could not rebind " << url;
  ASSERT_EQ(url2, url);

  ASSERT_TRUE(
      eventually([&] { return count_content(b.inbox("ses-b"), "during outage") == 1; }, 45s))
      << conn_a->out() << conn_b->out();
  ASSERT_EQ(b.c2c({"send", "alice@machine-a", "after restart", "--from", "bob"}).exit_code, 0);
  ASSERT_TRUE(
      eventually([&] { return count_content(a.inbox("ses-a"), "after restart") == 1; }, 45s))
      << conn_a->out() << conn_b->out();

  // Neither connector was restarted, and nothing arrived twice.
  EXPECT_TRUE(conn_a->running());
  EXPECT_TRUE(conn_b->running());
  EXPECT_EQ(count_content(b.inbox("ses-b"), "before restart"), 1u);
  EXPECT_EQ(count_content(b.inbox("ses-b"), "during outage"), 1u);
  if (std::string(GetParam()) == "memory") {
    // The memory relay forgot every session: the connectors registered them again (a second
    // "registered=1" round after the first one).
    const std::string out = conn_b->out();
    const auto first = out.find("registered=1");
    ASSERT_NE(first, std::string::npos) << out;
    EXPECT_NE(out.find("registered=1", first + 1), std::string::npos) << out;
  }

  // SIGTERM stops a loop connector promptly and cleanly.
  conn_a->signal(SIGTERM);
  EXPECT_EQ(conn_a->wait(10s), 0);
  EXPECT_TRUE(contains(conn_a->out(), "[relay-connector] shutdown complete")) << conn_a->out();
}

// What docs/reliability.md says about restarts (issue 8.14): mail the relay acknowledged but no
// connector had pulled yet survives a restart with SQLite and is lost with memory storage.
TEST_P(RelayRestart, MailQueuedOnTheRelaySurvivesOnlyWithSqlite) {
  std::string url;
  auto relay = serve("127.0.0.1:0", &url);
  ASSERT_NE(relay, nullptr);
  a.add_session("alice", "ses-a");
  b.add_session("bob", "ses-b");
  ASSERT_EQ(b.connect_once(url, token).exit_code, 0);  // bob is known to the relay
  ASSERT_EQ(a.c2c({"send", "bob@machine-b", "queued on the relay", "--from", "alice"}).exit_code,
            0);
  const auto forwarded = a.connect_once(url, token);
  ASSERT_EQ(forwarded.exit_code, 0) << forwarded.out << forwarded.err;
  ASSERT_TRUE(contains(forwarded.out, "fwd=1")) << forwarded.out;  // acknowledged by the relay

  relay->signal(SIGTERM);
  ASSERT_GE(relay->wait(20s), 0);
  relay.reset();
  std::string url2;
  relay = serve("127.0.0.1:" + port_of(url), &url2);
  ASSERT_NE(relay, nullptr) << "could not rebind " << url;

  const auto pulled = b.connect_once(url, token);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
  const size_t expected = std::string(GetParam()) == "sqlite" ? 1 : 0;
  EXPECT_EQ(count_content(b.inbox("ses-b"), "queued on the relay"), expected) << pulled.out;
}

INSTANTIATE_TEST_SUITE_P(Storage, RelayRestart, ::testing::Values("sqlite", "memory"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace c2c::test::connector
