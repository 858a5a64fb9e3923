// Push delivery: capability gating, exactly-once drain, the inotify watcher, and the whole
// stdio server on pipes (responses and notifications on one serialised stdout).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>

#include "c2c/core/text.hpp"
#include "c2c/mcp/push_watcher.hpp"
#include "c2c/mcp/stdio_server.hpp"
#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

using namespace std::chrono_literals;

class PushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.register_as("alice");
    b_.register_as("bob");
  }
  std::vector<json> drain(Agent& agent) {
    auto lines = agent.server().drain_push();
    EXPECT_TRUE(lines) << lines.error().message;
    std::vector<json> out;
    if (lines) {
      for (const auto& l : *lines) out.push_back(json::parse(l));
    }
    return out;
  }
  c2c::test::TempDir dir_{"c2c-mcp-push"};
  Agent a_{dir_.path(), std::optional<std::string>("ses-a")};
  Agent b_{dir_.path(), std::optional<std::string>("ses-b")};
};

TEST(ChannelNotification, Shape) {
  broker::Message m;
  m.from_alias = "alice";
  m.to_alias = "bob#lounge";
  m.content = "hi";
  m.ts = 1'776'730'000.0 + 3600 * 5 + 60 * 7;  // some day, 05:07 UTC shifted by the base
  const json n = channel_notification(m);
  EXPECT_EQ(n["jsonrpc"], "2.0");
  EXPECT_FALSE(n.contains("id"));
  EXPECT_EQ(n["method"], "notifications/claude/channel");
  EXPECT_EQ(n["params"]["content"], "hi");
  EXPECT_EQ(n["params"]["meta"]["from"], "alice");
  EXPECT_EQ(n["params"]["meta"]["to"], "bob#lounge");
  EXPECT_EQ(n["params"]["meta"]["ts"], format_hhmm_utc(m.ts));
  EXPECT_EQ(n["params"]["meta"]["ts"].get<std::string>().size(), 5u);
}

TEST_F(PushTest, NothingIsPushedToAClientWithoutTheChannelCapability) {
  b_.initialize(false);
  a_.ok("send", {{"to_alias", "bob"}, {"content", "hi"}});
  EXPECT_FALSE(b_.server().push_enabled());
  EXPECT_TRUE(drain(b_).empty());
  EXPECT_EQ(b_.ok("poll_inbox").size(), 1u);
}

TEST_F(PushTest, PushStartsOnlyAfterNotificationsInitialized) {
  // A fresh server for bob's session that has not handled any request yet.
  Agent fresh(dir_.path(), std::optional<std::string>("ses-b"));
  fresh.request("initialize",
                {{"protocolVersion", "2025-06-18"},
                 {"capabilities", {{"experimental", {{"claude/channel", json::object()}}}}}});
  EXPECT_FALSE(fresh.server().push_enabled());
  bool ready_called = false;
  fresh.server().on_push_ready([&] { ready_called = true; });
  EXPECT_TRUE(fresh.server()
                  .handle_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})")
                  .empty());
  EXPECT_TRUE(fresh.server().push_enabled());
  EXPECT_TRUE(ready_called);
}

TEST_F(PushTest, AClientThatSkipsInitializedIsReadyAtItsFirstToolCall) {
  Agent fresh(dir_.path(), std::optional<std::string>("ses-b"));
  fresh.request("initialize", {{"capabilities", {{"experimental", {{"claude/channel", true}}}}}});
  EXPECT_FALSE(fresh.server().push_enabled());
  EXPECT_EQ(fresh.call("whoami").text, "bob");
  EXPECT_TRUE(fresh.server().push_enabled());
}

TEST_F(PushTest, FalseOrNullCapabilityDoesNotEnablePush) {
  for (const json& v : {json(false), json(nullptr)}) {
    Agent c(dir_.path(), std::optional<std::string>("ses-c"));
    c.request("initialize", {{"capabilities", {{"experimental", {{"claude/channel", v}}}}}});
    c.server().handle_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    EXPECT_FALSE(c.server().push_enabled()) << v.dump();
  }
}

TEST_F(PushTest, ChannelDeliveryOffDisablesPush) {
  SessionConfig cfg = config_with("ses-b");
  cfg.channel_delivery = false;
  Agent c(dir_.path(), cfg);
  c.initialize(true);
  EXPECT_FALSE(c.server().push_enabled());
}

TEST_F(PushTest, PushedMessagesAreDeliveredExactlyOnceAndDeferrableOnesWait) {
  b_.initialize(true);
  ASSERT_TRUE(b_.server().push_enabled());
  a_.ok("send", {{"to_alias", "bob"}, {"content", "now"}});
  a_.ok("send", {{"to_alias", "bob"}, {"content", "whenever"}, {"deferrable", true}});
  a_.ok("send", {{"to_alias", "bob"}, {"content", "now too"}});
  const auto pushed = drain(b_);
  ASSERT_EQ(pushed.size(), 2u);
  EXPECT_EQ(pushed[0]["params"]["content"], "now");
  EXPECT_EQ(pushed[0]["params"]["meta"]["from"], "alice");
  EXPECT_EQ(pushed[0]["params"]["meta"]["to"], "bob");
  EXPECT_EQ(pushed[1]["params"]["content"], "now too");
  EXPECT_TRUE(drain(b_).empty());
  // poll_inbox returns only what was not pushed; the pushed ones are in history.
  const json rest = b_.ok("poll_inbox");
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0]["content"], "whenever");
  EXPECT_EQ(b_.ok("history").size(), 3u);
}

// Collects on_change calls from the watcher thread.
struct Calls {
  std::mutex mu;
  std::condition_variable cv;
  int n = 0;
  void hit() {
    std::lock_guard l(mu);
    ++n;
    cv.notify_all();
  }
  bool wait_for(int want, std::chrono::milliseconds t) {
    std::unique_lock l(mu);
    return cv.wait_for(l, t, [&] { return n >= want; });
  }
  int count() {
    std::lock_guard l(mu);
    return n;
  }
};

TEST_F(PushTest, WatcherFiresOnTheSessionsInboxOnlyAndOnKick) {
  Calls calls;
  PushWatcher w(
      dir_.path(), [] { return std::optional<std::string>("ses-b"); }, [&] { calls.hit(); });
  ASSERT_TRUE(w.start());
  // Another session's inbox changing does not wake us: after bob's event arrives, the count
  // shows exactly that one batch.
  b_.ok("send", {{"to_alias", "alice"}, {"content", "to alice"}});
  a_.ok("send", {{"to_alias", "bob"}, {"content", "to bob"}});
  ASSERT_TRUE(calls.wait_for(1, 5s));
  w.kick();
  ASSERT_TRUE(calls.wait_for(2, 5s));
  w.stop();
  w.stop();  // idempotent
  EXPECT_EQ(calls.count(), 2);
}

TEST_F(PushTest, WatcherCreatesAMissingBrokerDirectory) {
  Calls calls;
  PushWatcher w(
      dir_ / "not" / "yet", [] { return std::optional<std::string>("s"); }, [&] { calls.hit(); });
  ASSERT_TRUE(w.start());
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "not" / "yet"));
  EXPECT_EQ(std::filesystem::status(dir_ / "not" / "yet").permissions(),
            std::filesystem::perms::owner_all);
  std::ofstream(dir_ / "not" / "yet" / "s.inbox.json") << "[]";
  EXPECT_TRUE(calls.wait_for(1, 5s));
}

// Issue 8.13: a large inbox grows by appends to its journal, which must wake the watcher too.
TEST_F(PushTest, WatcherFiresOnJournalAppends) {
  Calls calls;
  PushWatcher w(
      dir_.path(), [] { return std::optional<std::string>("s"); }, [&] { calls.hit(); });
  ASSERT_TRUE(w.start());
  std::ofstream(dir_ / "s.inbox.journal.jsonl", std::ios::app) << "{}\n";
  EXPECT_TRUE(calls.wait_for(1, 5s));
}

TEST(StdioServer, ServesOverPipesPushesAndExitsOnEof) {
  c2c::test::TempDir dir("c2c-mcp-stdio");
  int in[2], out[2], err[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  const EnvLookup env =
      env_of({{"C2C_MCP_SESSION_ID", "ses-b"}, {"C2C_MCP_AUTO_REGISTER_ALIAS", "bob"}});
  StdioOptions opts{in[0], out[1], err[1], dir.path()};
  auto server = std::async(std::launch::async, [&] { return run_stdio_server(opts, env); });
  LineReader reader(out[0]);
  auto send = [&](const std::string& s) {
    ASSERT_EQ(::write(in[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  };

  // Content-Length framing on input, newline-delimited output.
  const std::string init =
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{"experimental":{"claude/channel":{}}}}})";
  send("Content-Length: " + std::to_string(init.size()) + "\r\n\r\n" + init);
  auto line = reader.next(10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(json::parse(*line)["result"]["protocolVersion"], "2025-03-26");

  // A message queued before the client is ready is pushed as soon as it is.
  broker::Broker broker(dir.path());
  ASSERT_TRUE(broker.register_session({"ses-a", "alice", ::getpid(), "", "", true}));
  ASSERT_TRUE(broker.send("alice", "bob", "early"));
  send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
       "\n");
  line = reader.next(10s);
  ASSERT_TRUE(line);
  json n = json::parse(*line);
  EXPECT_EQ(n["method"], "notifications/claude/channel");
  EXPECT_EQ(n["params"]["content"], "early");

  // Later messages arrive through inotify, with no request from the client.
  ASSERT_TRUE(broker.send("alice", "bob", "live"));
  line = reader.next(10s);
  ASSERT_TRUE(line);
  n = json::parse(*line);
  EXPECT_EQ(n["params"]["content"], "live");
  EXPECT_EQ(n["params"]["meta"]["from"], "alice");

  // Pushed messages are not returned again by poll_inbox.
  send(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"poll_inbox"}})"
       "\n");
  line = reader.next(10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(json::parse(*line)["result"]["content"][0]["text"], "[]");

  ::close(in[1]);  // EOF: the server exits cleanly
  ASSERT_EQ(server.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(server.get(), 0);
  for (int fd : {in[0], out[0], out[1], err[0], err[1]}) ::close(fd);
}

}  // namespace
}  // namespace c2c::mcp::test
