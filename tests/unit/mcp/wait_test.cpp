// wait_for_message (blocks until the inbox changes, bounded; drains) and delivery_status, in
// process and through the stdio server on pipes (ping answered while a wait is pending,
// notifications/cancelled, push held back for the waiting call, EOF with a pending wait).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>

#include "c2c/mcp/stdio_server.hpp"
#include "mcp_fixture.hpp"

namespace c2c::mcp::test {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

class WaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.register_as("alice");
    b_.register_as("bob");
  }
  c2c::test::TempDir dir_{"c2c-mcp-wait"};
  Agent a_{dir_.path(), std::optional<std::string>("ses-a")};
  Agent b_{dir_.path(), std::optional<std::string>("ses-b")};
};

TEST_F(WaitTest, ReturnsAMessageThatArrivesWhileWaitingAndMarksItRead) {
  auto waiting = std::async(std::launch::async, [this] {
    return b_.ok("wait_for_message", {{"timeout_s", 30}});
  });
  // Whether the send lands before or after the watch is set, the wait must return it, long
  // before its timeout.
  const auto sent = a_.ok("send", {{"to_alias", "bob"}, {"content", "ping?"}});
  ASSERT_EQ(waiting.wait_for(10s), std::future_status::ready);
  const json got = waiting.get();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["content"], "ping?");
  EXPECT_EQ(b_.ok("peek_inbox"), json::array());

  const json st = a_.ok("delivery_status", {{"message_id", sent["message_id"]}});
  EXPECT_EQ(st["state"], "read");
  EXPECT_EQ(st["recipients"][0]["recipient"], "bob");
  EXPECT_TRUE(st["recipients"][0]["read_at"].is_number());
  EXPECT_EQ(st["events"].back()["via"], "wait_for_message");
}

TEST_F(WaitTest, ReturnsQueuedMessagesAtOnceIncludingDeferrableOnes) {
  a_.ok("send", {{"to_alias", "bob"}, {"content", "later"}, {"deferrable", true}});
  const auto t0 = Steady::now();
  const json got = b_.ok("wait_for_message", {{"timeout_s", 30}});
  EXPECT_LT(Steady::now() - t0, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["deferrable"], true);
}

TEST_F(WaitTest, TimesOutWithAnEmptyArray) {
  const auto t0 = Steady::now();
  EXPECT_EQ(b_.ok("wait_for_message", {{"timeout_s", 0.3}}), json::array());
  EXPECT_GE(Steady::now() - t0, 300ms);
  // 0 looks once; negative is treated as 0.
  EXPECT_EQ(b_.ok("wait_for_message", {{"timeout_s", 0}}), json::array());
  EXPECT_EQ(b_.ok("wait_for_message", {{"timeout_s", -5}}), json::array());
  EXPECT_NE(b_.err("wait_for_message", {{"timeout_s", "soon"}}).find("timeout_s"),
            std::string::npos);
}

TEST_F(WaitTest, InsideABatchItLooksOnce) {
  const auto t0 = Steady::now();
  const auto out = b_.server().handle_line(
      R"([{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait_for_message","arguments":{"timeout_s":30}}},)"
      R"({"jsonrpc":"2.0","id":2,"method":"ping"}])");
  EXPECT_LT(Steady::now() - t0, 5s);
  ASSERT_EQ(out.size(), 1u);
  const json arr = json::parse(out[0]);
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0]["result"]["content"][0]["text"], "[]");
  EXPECT_EQ(arr[1]["result"], json::object());
}

// A wait answered later, from its own thread, echoes its id digit for digit like every other
// answer (docs/mcp.md "Protocol": ids beyond 64 bits and fractions).
TEST_F(WaitTest, AnAnswerFromTheWaitThreadEchoesTheIdExactly) {
  std::vector<Server::Job> jobs;
  b_.server().set_async_runner([&jobs](Server::Job job) { jobs.push_back(std::move(job)); });
  for (const std::string id : {"123456789012345678901234567890", "2.50"}) {
    jobs.clear();
    EXPECT_TRUE(b_.server()
                    .handle_line(R"({"jsonrpc":"2.0","id":)" + id +
                                 R"(,"method":"tools/call","params":{"name":"wait_for_message",)"
                                 R"("arguments":{"timeout_s":0}}})")
                    .empty());
    ASSERT_EQ(jobs.size(), 1u);
    const auto line = jobs[0]();
    ASSERT_TRUE(line.has_value());
    EXPECT_EQ(line->rfind(R"({"id":)" + id + ",", 0), 0u) << *line;
  }
}

TEST_F(WaitTest, AnotherSessionsMessageDoesNotEndTheWait) {
  Agent c{dir_.path(), std::optional<std::string>("ses-c")};
  c.register_as("carol");
  const auto t0 = Steady::now();
  auto waiting = std::async(std::launch::async, [this] {
    return b_.ok("wait_for_message", {{"timeout_s", 0.5}});
  });
  a_.ok("send", {{"to_alias", "carol"}, {"content", "not for bob"}});
  EXPECT_EQ(waiting.get(), json::array());
  EXPECT_GE(Steady::now() - t0, 500ms);
}

TEST_F(WaitTest, NeedsASession) {
  Agent anon{dir_.path(), std::optional<std::string>()};
  EXPECT_NE(anon.err("wait_for_message").find("wait_for_message"), std::string::npos);
}

TEST_F(WaitTest, DeliveryStatusErrors) {
  EXPECT_NE(a_.err("delivery_status", {{"message_id", "00000000-0000-4000-8000-00000000000f"}})
                .find("no receipts"),
            std::string::npos);
  EXPECT_NE(a_.err("delivery_status", {{"message_id", "../registry"}}).find("invalid message_id"),
            std::string::npos);
  EXPECT_NE(a_.err("delivery_status").find("message_id"), std::string::npos);
}

TEST_F(WaitTest, SendResultsCarryMessageIds) {
  Agent c{dir_.path(), std::optional<std::string>("ses-c")};
  c.register_as("carol");
  const json all = a_.ok("send_all", {{"content", "hi all"}});
  ASSERT_EQ(all["message_ids"].size(), 2u);
  const json st = a_.ok("delivery_status", {{"message_id", all["message_ids"]["carol"]}});
  EXPECT_EQ(st["recipients"][0]["recipient"], "carol");
  EXPECT_EQ(st["state"], "delivered");
  c.ok("join_room", {{"room_id", "lounge"}});
  const json room = a_.ok("send_room", {{"room_id", "lounge"}, {"content", "hey"}});
  ASSERT_TRUE(room["message_id"].is_string());
  EXPECT_EQ(
      a_.ok("delivery_status", {{"message_id", room["message_id"]}})["recipients"][0]["recipient"],
      "carol#lounge");
}

// The stdio server with a pending wait_for_message.
class StdioWait : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::pipe2(in_, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(out_, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(err_, O_CLOEXEC), 0);
    ASSERT_TRUE(broker_.register_session({"ses-a", "alice", ::getpid(), "", "", true}));
    const std::map<std::string, std::string> vars = {{"C2C_MCP_SESSION_ID", "ses-b"},
                                                     {"C2C_MCP_AUTO_REGISTER_ALIAS", "bob"}};
    env_ = [vars](std::string_view k) -> std::optional<std::string> {
      const auto it = vars.find(std::string(k));
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    reader_.emplace(out_[0]);
    opts_ = StdioOptions{in_[0], out_[1], err_[1], dir_.path()};
    server_ = std::async(std::launch::async, [this] { return run_stdio_server(opts_, env_); });
    // With push: a client that shows notifications may still call wait_for_message.
    send(
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"experimental":{"claude/channel":{}}}}})");
    ASSERT_TRUE(reader_->next(10s));
    send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }
  void TearDown() override {
    if (in_[1] >= 0) ::close(in_[1]);
    if (server_.valid()) {
      EXPECT_EQ(server_.wait_for(10s), std::future_status::ready);
    }
    for (int fd : {in_[0], out_[0], out_[1], err_[0], err_[1]}) ::close(fd);
  }
  void send(const std::string& line) {
    const std::string s = line + "\n";
    ASSERT_EQ(::write(in_[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  json next() {
    auto line = reader_->next(10s);
    EXPECT_TRUE(line) << "no line from the server";
    return line ? json::parse(*line) : json();
  }
  void call_wait(int id, double timeout_s) {
    send(json{{"jsonrpc", "2.0"},
              {"id", id},
              {"method", "tools/call"},
              {"params", {{"name", "wait_for_message"}, {"arguments", {{"timeout_s", timeout_s}}}}}}
             .dump());
  }

  c2c::test::TempDir dir_{"c2c-mcp-stdio-wait"};
  broker::Broker broker_{dir_.path()};
  int in_[2] = {-1, -1}, out_[2] = {-1, -1}, err_[2] = {-1, -1};
  EnvLookup env_;
  StdioOptions opts_{};
  std::future<int> server_;
  std::optional<LineReader> reader_;
};

TEST_F(StdioWait, PingIsAnsweredWhileAWaitIsPendingAndTheWaitGetsTheMessage) {
  call_wait(7, 30);
  send(R"({"jsonrpc":"2.0","id":8,"method":"ping"})");
  // The ping is answered first although the wait came first: the wait is pending.
  json r = next();
  EXPECT_EQ(r["id"], 8);
  EXPECT_EQ(r["result"], json::object());
  // Push is on for this client, but the pending wait takes the message: no notification.
  ASSERT_TRUE(broker_.send("alice", "bob", "answer"));
  r = next();
  EXPECT_EQ(r["id"], 7);
  const json got = json::parse(r["result"]["content"][0]["text"].get<std::string>());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["content"], "answer");
  // Once the wait is over, push works again.
  ASSERT_TRUE(broker_.send("alice", "bob", "pushed"));
  r = next();
  EXPECT_EQ(r["method"], "notifications/claude/channel");
  EXPECT_EQ(r["params"]["content"], "pushed");
}

TEST_F(StdioWait, CancelledWaitEndsWithoutAResponse) {
  call_wait(7, 300);
  send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}})");
  // The next line is the ping's answer, not a response to the cancelled request; and a message
  // sent now is pushed, so the cancelled call is no longer holding push back.
  send(R"({"jsonrpc":"2.0","id":8,"method":"ping"})");
  EXPECT_EQ(next().value("id", json()), 8);
  ASSERT_TRUE(broker_.send("alice", "bob", "after cancel"));
  json r = next();
  std::string pushed = "after cancel";
  if (!r.contains("method")) {
    // The cancelled call's thread had not yet seen the cancellation when the message landed:
    // it drained it and answers with it (a cancelled call never loses what it drained). Once
    // that answer is out the call is over, so the next message must be pushed.
    EXPECT_EQ(r.value("id", json()), 7) << r.dump();
    EXPECT_NE(r.dump().find("after cancel"), std::string::npos) << r.dump();
    pushed = "after the call ended";
    ASSERT_TRUE(broker_.send("alice", "bob", pushed));
    r = next();
  }
  EXPECT_EQ(r.value("method", json()), "notifications/claude/channel") << r.dump();
  EXPECT_EQ(r.value("params", json::object()).value("content", json()), pushed) << r.dump();
}

TEST_F(StdioWait, TooManyPendingWaitsAreRefusedAndEofEndsThemPromptly) {
  for (int id = 10; id < 10 + static_cast<int>(Server::kMaxBlockingCalls); ++id) call_wait(id, 300);
  call_wait(99, 300);
  const json r = next();
  EXPECT_EQ(r["id"], 99);
  EXPECT_TRUE(r["result"]["isError"].get<bool>());
  // EOF with 8 waits pending: the server exits without waiting for their 300 s.
  const auto t0 = Steady::now();
  ::close(in_[1]);
  in_[1] = -1;
  ASSERT_EQ(server_.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(server_.get(), 0);
  EXPECT_LT(Steady::now() - t0, 10s);
}

}  // namespace
}  // namespace c2c::mcp::test
